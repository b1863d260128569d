//! The session lifecycle: sign-up, sign-in, validation, revocation, expiry.
//!
//! [`Auth`] is the one entry point the web layer calls. It owns the stores,
//! the expiry policy and the clock, and it records auth events. Each
//! concern is a file of its own, with the stores it uses:
//!
//! | file | what | stores |
//! |---|---|---|
//! | `sign_in.rs` | sign-up, sign-in, starting a session | users, sessions, refresh tokens |
//! | `validation.rs` | a session cookie checked, its idle expiry slid | sessions |
//! | `refresh.rs` | refresh-token rotation, reuse, the DPoP binding | sessions, refresh tokens |
//! | `sign_out.rs` | logout, revoking one, others or all | sessions, refresh tokens |
//! | `account.rs` | confirmation, the password, deletion | users, sessions |
//! | `passkeys.rs` | the WebAuthn ceremonies | users (passkeys), ceremonies |
//! | `notices.rs` | security notices | users |
//! | `devices.rs` | device cookies against the account | users |
//! | `email.rs` | the account's address and its verification | users (email, outbox) |
//! | `link_sign_in.rs` | signing in with a mailed link or code | users (email), sessions |
//! | `outbox.rs` | what the mail sender takes and reports | users (outbox) |
//! | `recovery.rs` | a password reset by a mailed link | users, sessions |
//! | `identities.rs` | signing in, linking and confirming with a provider | users (identities), sessions (flows) |
//!
//! What an instance hears of other instances' revocations is
//! [`crate::revocation`]'s; [`Auth::follow_revocations`] runs it.
//!
//! - Sign-in always creates a new session with a new token; a cookie the
//!   client already had is never upgraded (no session fixation).
//! - Validation is one indexed lookup; the idle expiry slides with a write at
//!   most once per touch interval.
//! - Every failure to validate looks the same to the client ("no session").

mod account;
mod devices;
mod email;
mod identities;
mod link_sign_in;
mod notices;
mod outbox;
mod passkeys;
mod recovery;
mod refresh;
mod sign_in;
mod sign_out;
mod validation;

pub use email::{REVERT_PATH, VERIFY_PATH};
#[cfg(feature = "oidc")]
pub use identities::{Finished, IdentityOutcome};
pub use link_sign_in::SIGN_IN_PATH;
pub use notices::NOTICES_SHOWN;
pub use passkeys::{PasskeyClaim, Started};
pub use recovery::RESET_PATH;

use std::sync::Arc;

use time::OffsetDateTime;

use crate::{
    clock::Clock,
    deny_list::DenyList,
    email::templates::Site,
    feed::{InProcess, RevocationFeed},
    hashing::{Hashing, HashingLimits},
    id::UserId,
    once::UsedOnce,
    passkey::{CeremonySeal, RelyingParty},
    policy::SessionPolicy,
    record::{AuthEvent, AuthEventKind, Authenticated, ClientInfo},
    revocation::{FeedState, Revocations},
    store::{cache::CachedSessions, SessionBackend, UserBackend},
    token::SessionToken,
    Error,
};

/// The credentials version of an account just created.
const NEW_ACCOUNT_VERSION: i64 = 0;

/// A fresh session: the tokens go into cookies, never into storage.
#[derive(Debug)]
pub struct NewSession {
    /// The raw session token for the session cookie.
    pub token: SessionToken,
    /// The first refresh token of the session, for the refresh cookie.
    pub refresh: SessionToken,
    /// The stored session and its user.
    pub auth: Authenticated,
    /// The account's credentials version the session was started at, for
    /// this browser's device cookie ([`crate::device`]).
    pub credentials_version: i64,
}

/// The result of checking a session cookie.
#[derive(Debug, PartialEq, Eq)]
pub enum Validation {
    /// A usable session (its idle expiry already slid if due).
    Valid(Box<Authenticated>),
    /// Malformed, unknown, expired or revoked: the cookie should be cleared.
    Invalid,
}

/// The result of presenting a refresh token.
#[derive(Debug, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// The session is valid: mint an access token for it.
    Refreshed {
        /// The session (idle expiry slid) and its user.
        auth: Box<Authenticated>,
        /// The successor token for the refresh cookie; `None` when the
        /// presented token was already rotated within the grace window (the
        /// browser already holds the successor).
        rotated: Option<SessionToken>,
        /// The DPoP key the session is bound to (for `cnf.jkt`), if any.
        key: Option<String>,
    },
    /// Unknown, reused, or for an ended session: clear the refresh cookie.
    Invalid,
    /// The session is bound to a DPoP key this refresh did not prove (no
    /// proof, a bad one, or another key's): refused and recorded, and the
    /// session left as it was, so whoever sent it cannot end it either.
    Unbound,
}

/// The session engine's entry point. Cheap to clone.
#[derive(Clone)]
pub struct Auth {
    users: Arc<dyn UserBackend>,
    sessions: Arc<dyn SessionBackend>,
    policy: SessionPolicy,
    clock: Arc<dyn Clock>,
    /// Admission to password hashing (a bounded queue, see
    /// [`crate::hashing`]): a burst of sign-ins can neither run the server
    /// out of memory nor make anything wait without bound.
    hashing: Arc<Hashing>,
    /// Revocations made here or heard of from other instances: the
    /// deny-list [`crate::jwt::Jwt`] consults, and the feed that fills it.
    revocations: Arc<Revocations>,
    /// Whom passkeys are for ([`crate::passkey`]).
    rp: RelyingParty,
    /// Signs the sign-in ceremonies the browser carries.
    seal: CeremonySeal,
    /// The name and origin mail speaks of and links to.
    site: Site,
    /// Rung when mail is queued ([`Auth::outbox_bell`]).
    outbox_bell: Arc<tokio::sync::Notify>,
    /// Signed ceremonies already finished (shared by instances when the
    /// store can be).
    once: Arc<UsedOnce>,
    /// The OpenID Connect providers one can sign in with.
    #[cfg(feature = "oidc")]
    providers: crate::oidc::Providers,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl Auth {
    /// Assembles the engine.
    ///
    /// # Errors
    /// [`Error::Invalid`] if the policy is inconsistent.
    pub fn new(
        users: Arc<dyn UserBackend>,
        sessions: Arc<dyn SessionBackend>,
        policy: SessionPolicy,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, Error> {
        policy.validate()?;
        crate::credentials::warm_up();
        Ok(Self {
            users,
            sessions,
            policy,
            clock,
            hashing: Arc::new(Hashing::new(HashingLimits::default())),
            revocations: Arc::new(Revocations::new(
                Arc::new(InProcess::default()),
                None,
                Arc::default(),
            )),
            rp: RelyingParty::localhost("Leptos Sessions")?,
            seal: CeremonySeal::generate(),
            site: Site {
                name: "Leptos Sessions".into(),
                origin: "http://localhost:3000".into(),
            },
            outbox_bell: Arc::default(),
            once: Arc::new(UsedOnce::new(None)),
            #[cfg(feature = "oidc")]
            providers: crate::oidc::Providers::default(),
        })
    }

    /// Signs passkey sign-in ceremonies with `seal` and finishes each once
    /// in `once`: every instance needs the same seal (derived from the
    /// site's secret) and a shared `once`. By default a random seal and an
    /// in-memory set, for one instance.
    #[must_use]
    pub fn with_ceremony_signing(mut self, seal: CeremonySeal, once: Arc<UsedOnce>) -> Self {
        self.seal = seal;
        self.once = once;
        self
    }

    /// Mail that names `site` and links to its origin (by default
    /// "Leptos Sessions" at `http://localhost:3000`).
    #[must_use]
    pub fn with_site(mut self, site: Site) -> Self {
        self.site = site;
        self
    }

    /// Passkeys for `rp` (by default, the development relying party:
    /// `localhost` on any port).
    #[must_use]
    pub fn with_relying_party(mut self, rp: RelyingParty) -> Self {
        self.rp = rp;
        self
    }

    /// Follows `feed` for revocations made by other instances, evicting
    /// them from `cache` (the one in front of this engine's sessions, if
    /// any). Without it, the engine announces in process only. Call before
    /// [`Auth::revoked`] is handed out: the deny-list stays the same.
    #[must_use]
    pub fn with_revocation_feed(
        mut self,
        feed: Arc<dyn RevocationFeed>,
        cache: Option<Arc<CachedSessions>>,
    ) -> Self {
        let denied = self.revocations.denied();
        self.revocations = Arc::new(Revocations::new(feed, cache, denied));
        self
    }

    /// The sessions revoked lately (here or, through the feed, anywhere),
    /// for the access token verifier ([`crate::jwt::Jwt::refusing`]).
    #[must_use]
    pub fn revoked(&self) -> Arc<DenyList> {
        self.revocations.denied()
    }

    /// The revocation feed: its name and whether it is live.
    #[must_use]
    pub fn revocation_feed(&self) -> (&'static str, FeedState) {
        (self.revocations.feed_name(), self.revocations.state())
    }

    /// Follows the revocation feed until it ends (with the process): see
    /// [`Revocations::follow`].
    pub async fn follow_revocations(&self) {
        self.revocations.follow(&*self.sessions, &*self.clock).await;
    }

    /// The same engine hashing through `hashing` (its own limits, or a
    /// queue shared with other work) instead of the default one (one hash
    /// per core, four per core waiting).
    #[must_use]
    pub fn with_hashing(mut self, hashing: Arc<Hashing>) -> Self {
        self.hashing = hashing;
        self
    }

    /// Whether password hashing takes no more attempts now (see
    /// [`crate::hashing`]): a sign-in or sign-up would be refused as busy.
    #[must_use]
    pub fn hashing_saturated(&self) -> bool {
        self.hashing.is_saturated()
    }

    /// The expiry policy in force.
    #[must_use]
    pub fn policy(&self) -> &SessionPolicy {
        &self.policy
    }

    /// The current time, per the engine's clock.
    #[must_use]
    pub fn now(&self) -> OffsetDateTime {
        self.clock.now()
    }

    /// The user's latest auth events, newest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn list_events(&self, user: UserId, limit: u32) -> Result<Vec<AuthEvent>, Error> {
        self.users.list_events(user, limit).await
    }

    /// Deletes expired and revoked sessions, and refresh tokens rotated
    /// longer ago than [`SessionPolicy::rotated_token_retention`]. Returns
    /// how many sessions.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn purge_expired(&self) -> Result<u64, Error> {
        let now = self.clock.now();
        let sessions = self.sessions.delete_expired(now).await?;
        let cutoff = now - self.policy.rotated_token_retention();
        let tokens = self.sessions.delete_rotated_before(cutoff).await?;
        let mail = self.users.delete_expired_mail(now).await?;
        if mail > 0 {
            tracing::debug!(deleted = mail, "purged expired links and sent mail");
        }
        if tokens > 0 {
            tracing::debug!(deleted = tokens, "purged rotated refresh tokens");
        }
        Ok(sessions)
    }

    /// Deletes auth events older than `retention`. Returns how many.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn purge_events(&self, retention: time::Duration) -> Result<u64, Error> {
        let cutoff = self.clock.now() - retention;
        self.users.delete_events_before(cutoff).await
    }

    /// Whether the storage answers (for readiness probes).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn ping(&self) -> Result<(), Error> {
        self.users.ping().await?;
        self.sessions.ping().await
    }

    /// Records an event. Failing to record must not fail the user's action,
    /// so errors are logged, not returned.
    pub(super) async fn event(
        &self,
        user: Option<UserId>,
        kind: AuthEventKind,
        session_ref: Option<String>,
        client: &ClientInfo,
    ) {
        let event = AuthEvent {
            kind,
            session_ref,
            ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
            created_at: self.clock.now(),
            count: 1,
        };
        if let Err(err) = self.users.record_event(user, &event).await {
            tracing::warn!(error = %err, kind = kind.as_str(), "could not record auth event");
        }
    }
}

impl Auth {
    /// Runs password hashing off the async worker threads, once admitted
    /// (see [`crate::hashing`]).
    pub(super) async fn hash_work<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        self.hashing.run(f).await
    }
}
