//! The session lifecycle: sign-up, sign-in, validation, revocation, expiry.
//!
//! [`Auth`] is the one entry point the web layer calls. It owns the stores,
//! the expiry policy and the clock, and it records auth events.
//!
//! - Sign-in always creates a new session with a new token; a cookie the
//!   client already had is never upgraded (no session fixation).
//! - Validation is one indexed lookup; the idle expiry slides with a write at
//!   most once per touch interval.
//! - Every failure to validate looks the same to the client ("no session").

mod account;
mod devices;
mod notices;
mod passkeys;

pub use notices::NOTICES_SHOWN;
pub use passkeys::{PasskeyClaim, Started};

use std::sync::Arc;

use time::OffsetDateTime;

use crate::{
    clock::Clock,
    credentials::{verify_password, Password, Username},
    dpop::KeyProof,
    hashing::{Hashing, HashingLimits},
    id::{SessionId, UserId},
    once::UsedOnce,
    passkey::CeremonySeal,
    passkey::RelyingParty,
    policy::SessionPolicy,
    record::{
        AuthEvent, AuthEventKind, Authenticated, ClientInfo, NoticeKind, SessionRecord, UserSummary,
    },
    revocation::{FeedState, InProcess, RevocationFeed, Revocations, Signal},
    revoked::RevokedSessions,
    store::{cache::CachedSessions, NewUser, Rotation, SessionBackend, UserBackend},
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
    /// Signed ceremonies already finished (shared by instances when the
    /// store can be).
    once: Arc<UsedOnce>,
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
            rp: RelyingParty::localhost("Leptos sessions")?,
            seal: CeremonySeal::generate(),
            once: Arc::new(UsedOnce::new(None)),
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
    pub fn revoked(&self) -> Arc<RevokedSessions> {
        self.revocations.denied()
    }

    /// The revocation feed: its name and whether it is live.
    #[must_use]
    pub fn revocation_feed(&self) -> (&'static str, FeedState) {
        (self.revocations.feed_name(), self.revocations.state())
    }

    /// Follows the revocation feed until it ends (with the process): see
    /// [`crate::revocation`]. Each session revoked anywhere is forgotten
    /// from the cache and denied; after a gap, the cache is emptied and the
    /// deny-list reloaded from the store's revocation log, retried every
    /// second until the store answers.
    pub async fn follow_revocations(&self) {
        let r = &self.revocations;
        let mut signals = r.feed().subscribe();
        let mut retry = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut reload_due = false;
        loop {
            tokio::select! {
                signal = signals.recv() => match signal {
                    None => return,
                    Some(Signal::Revoked(ids)) => r.heard(ids, self.clock.now()),
                    Some(Signal::Listening) => reload_due = !self.catch_up().await,
                    Some(Signal::Lost(reason)) => {
                        reload_due = false;
                        if !matches!(r.state(), FeedState::Down { .. }) {
                            tracing::warn!(
                                feed = r.feed_name(),
                                %reason,
                                "revocation feed lost: other instances' revocations now reach \
                                 this one within SESSION_CACHE_TTL, their access tokens at their exp"
                            );
                        }
                        let since = self.clock.now();
                        r.set_state(FeedState::Down { since, reason });
                    }
                },
                _ = retry.tick(), if reload_due => reload_due = !self.catch_up().await,
            }
        }
    }

    /// Listening again: empties the cache, reloads the deny-list from the
    /// revocation log, and marks the feed live. Whether it could.
    async fn catch_up(&self) -> bool {
        let r = &self.revocations;
        r.flush_cache();
        let now = self.clock.now();
        match self
            .sessions
            .revoked_since(now - crate::revoked::RETAIN)
            .await
        {
            Ok(ids) => {
                tracing::info!(
                    feed = r.feed_name(),
                    reloaded = ids.len(),
                    "revocation feed live"
                );
                r.heard(ids, now);
                r.set_state(FeedState::Live);
                true
            }
            Err(err) => {
                tracing::warn!(error = %err, "reloading the revocation log failed; will retry");
                let since = match r.state() {
                    FeedState::Down { since, .. } => since,
                    _ => now,
                };
                let reason = "reloading the revocation log failed".to_owned();
                r.set_state(FeedState::Down { since, reason });
                false
            }
        }
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

    /// Creates an account and signs it in.
    ///
    /// # Errors
    /// [`Error::InvalidUsername`] or [`Error::InvalidPassword`],
    /// [`Error::UsernameTaken`],
    /// or a storage or hashing failure.
    pub async fn sign_up(
        &self,
        username: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let username = Username::parse(username)?;
        // The length rule answers at once; the strength estimate runs with
        // the hash, inside the bounded hashing queue.
        let password = Password::parse(password)?;
        let name = username.as_str().to_owned();
        let password_hash = self
            .hash_work(move || password.hash_new(&[name.as_str()]))
            .await??;
        let user = UserSummary {
            id: UserId::new(),
            display_name: username.as_str().to_owned(),
            username: username.as_str().to_owned(),
            created_at: self.clock.now(),
        };
        self.users
            .create_user(&NewUser {
                user: user.clone(),
                password_hash: Some(password_hash),
            })
            .await?;
        self.event(Some(user.id), AuthEventKind::SignUp, None, &client)
            .await;
        tracing::info!(user = %user.id, "account created");
        self.start_session(user, NEW_ACCOUNT_VERSION, false, client)
            .await
    }

    /// Checks credentials and, if they match, starts a new session.
    ///
    /// # Errors
    /// [`Error::InvalidCredentials`] for an unknown user *or* a wrong
    /// password (same error, same work), or a storage failure.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        remember: bool,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        // A malformed name cannot exist: treat it as unknown, not as a
        // validation error, so the response is the same.
        let username = Username::parse(username).ok();
        let found = match &username {
            Some(name) => self.users.find_user_by_username(name.as_str()).await?,
            None => None,
        };
        let (user, stored) = match found {
            // An account without a password (passkeys only) is checked
            // against the dummy hash, like an unknown name.
            Some(account) => (
                Some((account.user, account.credentials_version)),
                account.password_hash,
            ),
            None => (None, None),
        };
        // Bounded so an enormous password cannot buy extra hashing time.
        let password = password
            .chars()
            .take(crate::credentials::PASSWORD_MAX_CHARS + 1)
            .collect::<String>();
        let ok = self
            .hash_work(move || verify_password(&password, stored.as_deref()))
            .await?;

        match user {
            Some((user, version)) if ok => {
                self.notice_sign_in(user.id, &client).await;
                self.event(Some(user.id), AuthEventKind::SignIn, None, &client)
                    .await;
                tracing::info!(user = %user.id, "signed in");
                self.start_session(user, version, remember, client).await
            }
            Some((user, _)) => {
                self.event(Some(user.id), AuthEventKind::SignInFailed, None, &client)
                    .await;
                tracing::info!(user = %user.id, "sign-in failed: wrong password");
                Err(Error::InvalidCredentials)
            }
            None => {
                // The same write as for a known user's wrong password (an
                // event with no account), so the time taken does not tell
                // which names exist.
                self.event(None, AuthEventKind::SignInFailed, None, &client)
                    .await;
                tracing::info!("sign-in failed: unknown user");
                Err(Error::InvalidCredentials)
            }
        }
    }

    /// Records that failed sign-ins locked `username` (see
    /// [`crate::throttle::Throttle::record_failure`]), for its owner to see.
    /// An unknown name gets the same write with no account, as in
    /// [`Auth::sign_in`].
    ///
    /// # Errors
    /// A storage failure looking the name up.
    pub async fn record_lockout(&self, username: &str, client: &ClientInfo) -> Result<(), Error> {
        let user = match Username::parse(username) {
            Ok(name) => self.users.find_user_by_username(name.as_str()).await?,
            Err(_) => None,
        };
        let id = user.map(|account| account.user.id);
        self.event(id, AuthEventKind::SignInLocked, None, client)
            .await;
        tracing::warn!(user = ?id, "sign-in locked for unrecognised browsers");
        Ok(())
    }

    /// Starts a session for `user`, whose credentials were proved at
    /// `version`. Once it is stored, the version is read again: if a
    /// password change, a credential's removal, "sign out everywhere" or
    /// the account's deletion moved it meanwhile, that change's revocation
    /// may have run before this insert, so the new session is ended here
    /// ([`Error::CredentialsChanged`]). Each of those moves the version
    /// before it revokes, so one side or the other always ends it.
    async fn start_session(
        &self,
        user: UserSummary,
        version: i64,
        remember: bool,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let now = self.clock.now();
        let expiry = self.policy.initial(now, remember);
        let token = SessionToken::generate();
        let session = SessionRecord {
            id: SessionId::new(),
            user_id: user.id,
            token_hash: token.hash(),
            created_at: now,
            last_seen_at: now,
            idle_expires_at: expiry.idle,
            expires_at: expiry.absolute,
            persistent: remember,
            last_ip_address: client.ip_address.clone(),
            last_user_agent: client.user_agent.clone(),
            ip_address: client.ip_address,
            user_agent: client.user_agent,
            revoked_at: None,
            authenticated_at: now,
            confirmed_at: None,
        };
        self.sessions.insert_session(&session).await?;
        if self.users.credentials_version(user.id).await? != Some(version) {
            if self
                .sessions
                .revoke_session(user.id, session.id, now)
                .await?
            {
                self.revocations.revoked_here(&[session.id], now);
            }
            tracing::info!(user = %user.id, "sign-in raced a credential change: its session ended");
            return Err(Error::CredentialsChanged);
        }
        let refresh = SessionToken::generate();
        self.sessions
            .insert_refresh_token(session.id, &refresh.hash(), now)
            .await?;
        Ok(NewSession {
            token,
            refresh,
            auth: Authenticated { session, user },
            credentials_version: version,
        })
    }

    /// Checks a raw cookie value: one lookup, then the idle and absolute
    /// expiry, then (at most once per touch interval) a write that slides
    /// the idle expiry.
    ///
    /// # Errors
    /// Only storage failures; every kind of bad token is
    /// [`Validation::Invalid`].
    pub async fn validate(&self, raw_token: &str) -> Result<Validation, Error> {
        match SessionToken::parse(raw_token) {
            Some(token) => self.validate_token(&token, ClientInfo::default).await,
            None => Ok(Validation::Invalid),
        }
    }

    /// As [`Auth::validate`], for a token the caller has already parsed
    /// (the web layer parses the cookie once per request). A touch records
    /// `seen_from` as where the session was last seen; it is called only
    /// then (once per touch interval), so most requests build nothing.
    ///
    /// # Errors
    /// [`Error::Storage`] if the store is unreachable.
    pub async fn validate_token(
        &self,
        token: &SessionToken,
        seen_from: impl FnOnce() -> ClientInfo + Send,
    ) -> Result<Validation, Error> {
        let hash = token.hash();
        let Some(found) = self.sessions.find_session(&hash).await? else {
            return Ok(Validation::Invalid);
        };
        Ok(
            match self
                .check_and_touch(found, self.clock.now(), seen_from)
                .await?
            {
                Some(auth) => Validation::Valid(Box::new(auth)),
                None => Validation::Invalid,
            },
        )
    }

    /// Checks revocation and both expiries; slides the idle expiry when the
    /// touch interval has passed, recording `seen_from` as last seen. `None`
    /// if the session cannot be used.
    async fn check_and_touch(
        &self,
        mut auth: Authenticated,
        now: OffsetDateTime,
        seen_from: impl FnOnce() -> ClientInfo + Send,
    ) -> Result<Option<Authenticated>, Error> {
        let session = &mut auth.session;
        if session.revoked_at.is_some() {
            return Ok(None);
        }
        if !session.is_active(now) {
            let short = session.token_hash.short();
            tracing::info!(session = %short, "session expired");
            // Revoke so the event is recorded once, not on every retry.
            if self
                .sessions
                .revoke_session(session.user_id, session.id, now)
                .await?
            {
                let client =
                    ClientInfo::new(session.ip_address.clone(), session.user_agent.as_deref());
                self.event(
                    Some(session.user_id),
                    AuthEventKind::Expired,
                    Some(short),
                    &client,
                )
                .await;
            }
            return Ok(None);
        }
        if self.policy.needs_touch(now, session.last_seen_at) {
            let idle = self
                .policy
                .slide(now, session.persistent, session.expires_at);
            let client = seen_from();
            self.sessions
                .touch_session(session.id, now, idle, &client)
                .await?;
            session.last_seen_at = now;
            session.idle_expires_at = idle;
            // As the store keeps them: an unknown one keeps the previous.
            session.last_ip_address = client.ip_address.or(session.last_ip_address.take());
            session.last_user_agent = client.user_agent.or(session.last_user_agent.take());
        }
        Ok(Some(auth))
    }

    /// Exchanges a refresh token for its successor and the session behind
    /// it (see [`RefreshOutcome`]). A token rotated longer ago than the
    /// grace window is a replay: the whole session is revoked and the event
    /// recorded.
    ///
    /// The refresh token only counts with `session_token`, the session
    /// cookie it arrived with, naming its own session: a refresh cookie
    /// copied on its own (or beside another session's cookie) mints nothing
    /// and rotates nothing, so the real browser's next refresh is not taken
    /// for a replay, and the thief cannot end the session either.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn refresh(
        &self,
        raw_token: &str,
        session_token: Option<&str>,
        proof: KeyProof<'_>,
        client: &ClientInfo,
    ) -> Result<RefreshOutcome, Error> {
        let (Some(presented), Some(cookie)) = (
            SessionToken::parse(raw_token),
            session_token.and_then(SessionToken::parse),
        ) else {
            return Ok(RefreshOutcome::Invalid);
        };
        let Some(owner) = self.sessions.find_session(&cookie.hash()).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        // The token must be this session's before a key is bound to it, or
        // a session cookie alone could bind a stranger's key.
        let family = self
            .sessions
            .refresh_token_session(&presented.hash())
            .await?;
        if family.map(|f| f.session) != Some(owner.session.id) {
            return Ok(RefreshOutcome::Invalid);
        }
        let offered = match proof {
            KeyProof::Key(jkt) => Some(jkt),
            KeyProof::Absent | KeyProof::Invalid => None,
        };
        let key = self.sessions.bind_key(owner.session.id, offered).await?;
        let proven = match (&key, proof) {
            (None, KeyProof::Absent) => true,
            (Some(bound), KeyProof::Key(jkt)) => bound == jkt,
            _ => false,
        };
        if !proven {
            static WARNED: crate::log_budget::LogBudget = crate::log_budget::LogBudget::new();
            if let Some(left_out) = WARNED.allow() {
                tracing::warn!(
                    user = %owner.user.id,
                    left_out,
                    "refresh without the session's key refused"
                );
            }
            self.event(
                Some(owner.user.id),
                AuthEventKind::RefreshUnbound,
                Some(presented.hash().short()),
                client,
            )
            .await;
            return Ok(RefreshOutcome::Unbound);
        }
        let successor = SessionToken::generate();
        let now = self.clock.now();
        let rotation = self
            .sessions
            .rotate_refresh_token(
                &presented.hash(),
                &successor.hash(),
                owner.session.id,
                now,
                self.policy.refresh_grace,
            )
            .await?;
        let (session_id, rotated) = match rotation {
            Rotation::Unknown => return Ok(RefreshOutcome::Invalid),
            Rotation::Reused(session_id) => {
                if let Some(user) = self.sessions.revoke_session_by_id(session_id, now).await? {
                    self.revocations.revoked_here(&[session_id], now);
                    tracing::warn!(user = %user, "refresh token reuse: session revoked");
                    self.event(
                        Some(user),
                        AuthEventKind::RefreshReuse,
                        Some(presented.hash().short()),
                        client,
                    )
                    .await;
                    self.notice(user, NoticeKind::RefreshReuse, 0, client).await;
                }
                return Ok(RefreshOutcome::Invalid);
            }
            Rotation::Rotated(session_id) => (session_id, Some(successor)),
            Rotation::WithinGrace(session_id) => (session_id, None),
        };
        let Some(found) = self.sessions.find_session_by_id(session_id).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        match self.check_and_touch(found, now, || client.clone()).await? {
            Some(auth) => Ok(RefreshOutcome::Refreshed {
                auth: Box::new(auth),
                rotated,
                key,
            }),
            None => Ok(RefreshOutcome::Invalid),
        }
    }

    /// Signs out the current session.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn logout(&self, auth: &Authenticated, client: &ClientInfo) -> Result<(), Error> {
        let s = &auth.session;
        let now = self.clock.now();
        self.sessions.revoke_session(s.user_id, s.id, now).await?;
        self.revocations.revoked_here(&[s.id], now);
        self.event(
            Some(s.user_id),
            AuthEventKind::Logout,
            Some(s.token_hash.short()),
            client,
        )
        .await;
        tracing::info!(user = %s.user_id, session = %s.token_hash.short(), "signed out");
        Ok(())
    }

    /// Signs out the session `raw_refresh` belongs to, for a browser that
    /// has only its refresh cookie left. Whether it named one still active.
    /// Only the session's *current* refresh token counts: a rotated one
    /// (kept for hours to recognise a replay) may be a copy in a thief's
    /// hands, and must not sign the owner out.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn logout_by_refresh(
        &self,
        raw_refresh: &str,
        client: &ClientInfo,
    ) -> Result<bool, Error> {
        let Some(token) = SessionToken::parse(raw_refresh) else {
            return Ok(false);
        };
        let id = match self.sessions.refresh_token_session(&token.hash()).await? {
            Some(family) if family.current => family.session,
            _ => return Ok(false),
        };
        let now = self.clock.now();
        let Some(user) = self.sessions.revoke_session_by_id(id, now).await? else {
            return Ok(false);
        };
        self.revocations.revoked_here(&[id], now);
        self.event(Some(user), AuthEventKind::Logout, None, client)
            .await;
        tracing::info!(user = %user, "signed out by refresh cookie");
        Ok(true)
    }

    /// Revokes one of the caller's own sessions.
    ///
    /// # Errors
    /// [`Error::NotFound`] if `id` is not an active session of this user.
    pub async fn revoke(
        &self,
        auth: &Authenticated,
        id: SessionId,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let user = auth.user.id;
        let now = self.clock.now();
        if !self.sessions.revoke_session(user, id, now).await? {
            return Err(Error::NotFound);
        }
        self.revocations.revoked_here(&[id], now);
        self.event(Some(user), AuthEventKind::Revoke, None, client)
            .await;
        tracing::info!(user = %user, "revoked one session");
        Ok(())
    }

    /// Revokes all of the caller's sessions except the current one.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_others(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<u64, Error> {
        self.revoke_many(
            auth,
            Some(auth.session.id),
            AuthEventKind::RevokeOthers,
            client,
        )
        .await
    }

    /// Revokes every session of the caller, the current one included, and
    /// moves the account's credentials version on: sign-ins in flight end
    /// too, and every device cookie issued so far stops counting. Returns
    /// how many sessions, and the new version (for this browser's new
    /// device cookie).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_all(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<(u64, i64), Error> {
        let version = self
            .users
            .bump_credentials_version(auth.user.id)
            .await?
            .ok_or(Error::NotFound)?;
        let n = self
            .revoke_many(auth, None, AuthEventKind::RevokeAll, client)
            .await?;
        Ok((n, version))
    }

    async fn revoke_many(
        &self,
        auth: &Authenticated,
        keep: Option<SessionId>,
        kind: AuthEventKind,
        client: &ClientInfo,
    ) -> Result<u64, Error> {
        let user = auth.user.id;
        let n = self.revoke_user(user, keep).await?;
        self.event(Some(user), kind, None, client).await;
        tracing::info!(user = %user, revoked = n, kind = kind.as_str(), "revoked sessions");
        Ok(n)
    }

    /// Revokes every session of `user` but `keep`, their access tokens
    /// with them. Returns how many.
    async fn revoke_user(&self, user: UserId, keep: Option<SessionId>) -> Result<u64, Error> {
        let now = self.clock.now();
        let ids = self.sessions.revoke_user_sessions(user, keep, now).await?;
        let n = ids.len() as u64;
        self.revocations.revoked_here(&ids, now);
        Ok(n)
    }

    /// The user's active sessions, newest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn list_sessions(&self, user: UserId) -> Result<Vec<SessionRecord>, Error> {
        self.sessions
            .list_user_sessions(user, self.clock.now())
            .await
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
    async fn event(
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
    async fn hash_work<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        self.hashing.run(f).await
    }
}
