//! The session as the browser sees it on static pages.
//!
//! Prerendered pages know nothing about the visitor. Once hydrated, they ask
//! `POST /api/auth/refresh` (which checks the database session behind the
//! HttpOnly refresh cookie) for a short-lived access JWT, and keep it fresh:
//!
//! - **single-flight:** however many components ask at once, one request;
//! - **proactive, but only for a person:** the next refresh is scheduled
//!   shortly before expiry, and happens only if someone used the page
//!   (pointer, keys, wheel, touch) since the last one. A refresh slides the
//!   session's idle expiry on the server, so refreshing on a timer alone
//!   would keep an abandoned tab signed in forever. Without activity the
//!   token lapses; the next activity, or the next call that needs it,
//!   refreshes;
//! - **kept for the tab when bound:** pages are ordinary page loads, so a
//!   token in memory would be gone at the next link. By default
//!   (`TOKEN_STORAGE=session`) a token bound to this browser's DPoP key is
//!   kept in `sessionStorage`, so following links costs no refresh while it
//!   is valid. A script that copies it gets nothing it can use elsewhere:
//!   every API refuses it without a proof of the key, which is
//!   non-extractable. An unbound token (no WebCrypto) stays in memory.
//!   `TOKEN_STORAGE=memory` keeps every token in memory (a refresh per page
//!   load); `local` keeps it in `localStorage` (survives closing the tab);
//! - **snapshot:** a *non-secret* summary (name, session expiry) is kept in
//!   `localStorage` so the next static page shows the right header at once,
//!   then confirms with the server;
//! - **cross-tab:** sign-in, logout and revocation are announced on a
//!   `BroadcastChannel` (with the `storage` event as fallback), and other
//!   tabs re-check within about a second. A server-rendered page tells the
//!   browser who is signed in ([`ClientSession::observe_server`]); when that
//!   differs from the snapshot (a sign-in or sign-out without JavaScript),
//!   it announces the change too.
//!
//! The state is the page's, shared by every island ([`crate::page_wide`]).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "hydrate")]
#[path = "client_session/browser.rs"]
mod imp;
#[cfg(not(feature = "hydrate"))]
#[path = "client_session/server.rs"]
mod imp;

/// What `POST /api/auth/refresh` returns (shared with the server).
/// Where the browser app keeps the access token (`TOKEN_STORAGE`); the
/// server says so in a meta tag of every page, prerendered ones included.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStorage {
    /// The default: a token bound to this browser's DPoP key in
    /// `sessionStorage` (this tab, until it closes), so following a link
    /// costs no refresh; an unbound one in memory.
    Session,
    /// In memory only: every page load asks for a new token.
    Memory,
    /// In `localStorage`: survives closing the tab, and is kept even when
    /// unbound, where any script that runs on the page (an XSS) could use
    /// it elsewhere. Opt-in.
    Local,
}

impl TokenStorage {
    /// The meta tag's value (as in `TOKEN_STORAGE`).
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Memory => "memory",
            Self::Local => "local",
        }
    }

    /// The value of a meta tag, or the default.
    #[must_use]
    pub fn parse(value: &str) -> Self {
        match value {
            "memory" => Self::Memory,
            "local" => Self::Local,
            _ => Self::Session,
        }
    }
}

/// What `POST /api/auth/refresh` answers: the access token and who it is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access JWT.
    pub access_token: String,
    /// `DPoP` when the token is bound to the browser's key (send it with a
    /// proof), else `Bearer`.
    pub token_type: String,
    /// Seconds until the token expires.
    pub expires_in: i64,
    /// Token expiry (Unix seconds).
    pub expires_at: i64,
    /// Display name.
    pub name: String,
    /// The session's absolute expiry (Unix seconds).
    pub session_expires_at: i64,
    /// The session's idle expiry (Unix seconds).
    pub session_idle_expires_at: i64,
}

impl TokenResponse {
    /// Bound to this browser's DPoP key (`token_type` `DPoP`): useless
    /// without a proof of the key, so it may be kept for the tab.
    #[must_use]
    pub fn is_bound(&self) -> bool {
        self.token_type.eq_ignore_ascii_case("dpop")
    }
}

/// What the browser knows about the session.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClientState {
    /// Not checked yet (always the case while prerendering).
    Unknown,
    /// No valid session.
    SignedOut,
    /// Signed in. `confirmed` is false while showing the stored snapshot.
    SignedIn {
        /// Display name.
        name: String,
        /// Session absolute expiry (Unix seconds).
        session_expires_at: i64,
        /// Access token expiry (Unix seconds); 0 until confirmed.
        token_expires_at: i64,
        /// Whether the server confirmed it in this page's lifetime.
        confirmed: bool,
    },
}

/// Handle to the browser session state; `Copy`, one per page.
#[derive(Clone, Copy, Debug)]
pub struct ClientSession {
    state: RwSignal<ClientState>,
    refreshes: RwSignal<u32>,
}

impl ClientSession {
    fn new() -> Self {
        Self {
            state: RwSignal::new(ClientState::Unknown),
            refreshes: RwSignal::new(0),
        }
    }

    /// The page's handle: in the browser, the one every island shares; on
    /// the server, a fresh one that stays [`ClientState::Unknown`].
    #[must_use]
    pub fn get() -> Self {
        imp::shared()
    }

    /// The current state (tracked).
    #[must_use]
    pub fn state(self) -> ClientState {
        self.state.get()
    }

    /// How many access tokens this page has obtained (tracked).
    #[must_use]
    pub fn refreshes(self) -> u32 {
        self.refreshes.get()
    }

    /// Starts the client-side check: show the snapshot, then confirm with
    /// the server (unless this tab holds a valid token), then keep the token
    /// fresh and listen to other tabs. For prerendered pages, which the
    /// server rendered for no one; a no-op on the server.
    pub fn start(self) {
        imp::start(self);
    }

    /// What a server-rendered page said: `Some((name, session end))` when
    /// signed in. The state follows it with no request; a change from what
    /// this browser last knew (a sign-in or out without JavaScript, or in
    /// an earlier page) is announced to the other tabs. Then listens to
    /// them.
    pub fn observe_server(self, signed_in: Option<(String, i64)>) {
        imp::observe_server(self, signed_in);
    }

    /// This tab signed in or out and is about to load the next page: drop
    /// the token and tell the other tabs, without asking the server here.
    pub fn announce(self) {
        imp::announce(self);
    }

    /// A valid access token, refreshing (once, shared) if needed.
    pub async fn access_token(self) -> Option<String> {
        imp::access_token(self).await
    }

    /// One refresh now, whatever the token's age: the idle prompt's "stay
    /// signed in". `None` if the session is gone (or the server is away).
    pub async fn refresh_now(self) -> Option<TokenResponse> {
        imp::refresh(self).await
    }

    /// This tab signed in or out: drop what it held, re-check, and tell the
    /// other tabs.
    pub fn changed(self) {
        imp::changed(self, true);
    }
}

/// Calls `GET /api/me` with the access token; the JSON body or an error.
pub async fn call_me(session: ClientSession) -> Result<String, String> {
    imp::call_me(session).await
}
