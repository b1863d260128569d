//! The site header: the brand, the main links and who is signed in.
//!
//! The whole navigation is one island ([`SiteNav`]): its links depend on
//! the session, and so does its right-hand side (the name and "Sign out",
//! or "Sign in" and "Sign up"). A server-rendered page hands it the
//! visitor the session layer validated, so it shows the right state at
//! once and asks nothing; a prerendered page, rendered for no one, hands
//! it [`Visitor::Unknown`], and the island asks in the browser
//! ([`ClientSession::start`]).
//!
//! On a phone the links (and the signed-in name) fold into a "Menu"
//! disclosure (`<details>`, which works before hydration and without
//! JavaScript), so the header stays one row.

// `#[island]` derives an undocumented type for the props it sends to the
// browser (and a loader for a lazy island); the items here are documented.
#![allow(missing_docs)]

use leptos::{either::Either, prelude::*, server_fn::ServerFn as _};
use serde::{Deserialize, Serialize};

use crate::{
    client_session::{ClientSession, ClientState},
    csrf::CsrfField,
    server_fns::auth::Logout,
    session_clock::{SessionClock, SessionTimes},
};

/// Who the server knows is visiting, as the header island gets it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Visitor {
    /// A prerendered page: the browser finds out.
    Unknown,
    /// The session layer found no valid session.
    Anonymous,
    /// Signed in, with the session's times (for the idle prompt).
    SignedIn {
        /// Name to display.
        name: String,
        /// When the session ends.
        times: SessionTimes,
    },
}

impl Visitor {
    /// This request's visitor, as the session layer resolved it.
    #[cfg(feature = "ssr")]
    #[must_use]
    pub fn of_request() -> Self {
        use crate::session::RequestSession;
        let Some(parts) = use_context::<http::request::Parts>() else {
            return Self::Unknown;
        };
        // Prerendering runs with a mock request the session layer never
        // saw: nobody to speak of.
        match parts.extensions.get::<RequestSession>() {
            None => Self::Unknown,
            Some(RequestSession(None)) => Self::Anonymous,
            Some(RequestSession(Some(auth))) => {
                match use_context::<crate::server_fns::context::ServerContext>() {
                    Some(ctx) => Self::SignedIn {
                        name: auth.user.display_name.clone(),
                        times: SessionTimes::of(auth, ctx.auth.policy(), ctx.auth.now()),
                    },
                    None => Self::Anonymous,
                }
            }
        }
    }

    /// In the browser the header is already rendered: the island gets its
    /// visitor from the server's HTML, never from here.
    #[cfg(not(feature = "ssr"))]
    #[must_use]
    pub fn of_request() -> Self {
        Self::Unknown
    }
}

/// The header around the navigation island.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let visitor = Visitor::of_request();
    view! {
        <header class="site-header">
            <SiteNav visitor />
        </header>
    }
}

/// The navigation: links, and who is signed in.
#[island]
pub fn SiteNav(
    /// What the server knows of the visitor.
    visitor: Visitor,
) -> impl IntoView {
    let client = ClientSession::get();
    let clock = SessionClock::get();
    // Effects run only in the browser, after hydration.
    let seen = visitor.clone();
    Effect::new(move |_| match &seen {
        Visitor::Unknown => client.start(),
        Visitor::Anonymous => client.observe_server(None),
        Visitor::SignedIn { name, times } => {
            clock.observe(*times);
            client.observe_server(Some((name.clone(), times.expires_at)));
        }
    });
    // Before hydration (and on the server), what the server said; then
    // what the browser knows, which follows other tabs.
    let name = Memo::new(move |_| match client.state() {
        ClientState::SignedIn { name, .. } => Some(name),
        ClientState::SignedOut => None,
        ClientState::Unknown => match &visitor {
            Visitor::SignedIn { name, .. } => Some(name.clone()),
            _ => None,
        },
    });
    let links = move || links(name.get().is_some());

    view! {
        <nav class="nav" aria-label="Main">
            <a href="/" class="brand">"Leptos Sessions"</a>
            <ul class="nav-links">{links}</ul>
            <details class="nav-menu">
                <summary class="button secondary small">"Menu"</summary>
                <ul class="nav-menu-links">
                    {move || name.get().map(|name| view! {
                        <li class="nav-menu-user">"Signed in as " <strong>{name}</strong></li>
                    })}
                    {links}
                </ul>
            </details>
            <div class="nav-session">
                // `Either`, not `into_any`: a type-erased view costs the
                // bundle every way of rendering it.
                {move || match name.get() {
                    Some(name) => Either::Left(view! {
                        <span class="nav-user" data-testid="nav-user">{name}</span>
                        <SignOut />
                    }),
                    None => Either::Right(view! {
                        <a href="/login" class="nav-plain">"Sign in"</a>
                        <a href="/signup" class="button small">"Sign up"</a>
                    }),
                }}
            </div>
        </nav>
    }
}

/// The main links; the account's too when signed in.
fn links(signed_in: bool) -> impl IntoView {
    view! {
        <li><a href="/about">"How it works"</a></li>
        <li><a href="/guides">"Guides"</a></li>
        <li><a href="/status">"Status"</a></li>
        {signed_in.then(|| view! {
            <li><a href="/dashboard">"Dashboard"</a></li>
            <li><a href="/account/sessions">"Sessions"</a></li>
        })}
    }
}

/// "Sign out": a plain POST form, which the island sends itself once
/// hydrated so that it can tell the other tabs first.
#[component]
fn SignOut() -> impl IntoView {
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let ended = crate::post::post(Logout::url(), String::new()).await;
            if ended.is_ok() {
                ClientSession::get().announce();
            }
            crate::navigation::go("/login?signed_out=1");
        });
    };
    view! {
        <form method="post" action=Logout::url() class="inline-form" on:submit=on_submit>
            <CsrfField />
            <button type="submit" class="button secondary small">"Sign out"</button>
        </form>
    }
}
