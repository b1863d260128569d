//! The storage boundary.
//!
//! Two small traits, so backends can be swapped by configuration:
//! [`UserStore`] (accounts and the auth event log, always SQL) and
//! [`SessionStore`] (sessions). Each backend lives in its own module behind
//! its own cargo feature. [`cache::CachedSessions`] can sit in front of
//! any session store (a short-lived in-process copy of active sessions).
//!
//! Contracts every backend keeps (checked by the conformance suite):
//! - lookups are by token hash, never by raw token;
//! - `find_session` returns the row even when expired or revoked, so the
//!   engine can tell "expired" (record an event, clear the cookie) from
//!   "unknown";
//! - revocation is immediate: the next `find_session` sees it;
//! - `delete_expired` removes expired *and* revoked rows.

pub mod cache;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod database;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "redis")]
pub mod redis;
#[cfg(feature = "sqlite")]
pub mod sqlite;

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    id::{SessionId, UserId},
    record::{AuthEvent, Authenticated, SessionRecord, UserSummary},
    token::TokenHash,
    Error,
};

/// What happened when a refresh token was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// No such token.
    Unknown,
    /// The token was current; it is now rotated and its successor stored.
    Rotated(SessionId),
    /// The token was rotated moments ago (within the grace window), e.g. by
    /// another tab racing this one: not an attack.
    WithinGrace(SessionId),
    /// The token was rotated before the grace window: a replay.
    Reused(SessionId),
}

impl Rotation {
    /// The verdict for a token that was not rotated by this call: rotated
    /// at `rotated_at` (or, with `None`, not rotated because its session has
    /// ended, which the engine then finds out), presented again at `now`.
    /// One rule for every backend.
    #[must_use]
    pub fn for_presented_again(
        session_id: SessionId,
        rotated_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
        grace: time::Duration,
    ) -> Self {
        if now - rotated_at.unwrap_or(now) <= grace {
            Self::WithinGrace(session_id)
        } else {
            Self::Reused(session_id)
        }
    }
}

/// A new account, with its password already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The account.
    pub user: UserSummary,
    /// Argon2id PHC string.
    pub password_hash: String,
}

/// Accounts and the auth event log.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Inserts an account.
    ///
    /// # Errors
    /// [`Error::UsernameTaken`] if the normalised name exists.
    async fn create_user(&self, user: &NewUser) -> Result<(), Error>;

    /// An account and its password hash, by normalised name.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(UserSummary, String)>, Error>;

    /// An account by id (the Redis session store copies it into sessions).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_user_by_id(&self, id: UserId) -> Result<Option<UserSummary>, Error>;

    /// Appends to the event log. `user_id` is `None` for events that belong
    /// to no account.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn record_event(&self, user_id: Option<UserId>, event: &AuthEvent) -> Result<(), Error>;

    /// The latest `limit` events of a user, newest first.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn list_events(&self, user_id: UserId, limit: u32) -> Result<Vec<AuthEvent>, Error>;

    /// Cheap round trip for readiness probes.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend is unreachable.
    async fn ping(&self) -> Result<(), Error>;
}

/// Server-side sessions.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails (including a hash collision,
    /// which 256-bit tokens make practically impossible).
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), Error>;

    /// The session with this token hash and its user, in one lookup.
    /// Expired and revoked rows are returned too (see the module docs).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_session(&self, token_hash: &TokenHash) -> Result<Option<Authenticated>, Error>;

    /// Records activity: sets `last_seen_at` and the slid idle expiry.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<(), Error>;

    /// Revokes one session of `user_id`. Returns whether an active session
    /// was revoked (`false` for another user's session or an unknown id).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn revoke_session(
        &self,
        user_id: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error>;

    /// Revokes all active sessions of `user_id`, except `keep` if given.
    /// Returns how many were revoked.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<u64, Error>;

    /// The user's sessions that are active at `now`, newest first.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn list_user_sessions(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error>;

    /// The session with this id and its user (expired and revoked rows too).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_session_by_id(&self, id: SessionId) -> Result<Option<Authenticated>, Error>;

    /// Revokes a session by id alone (reuse detection). Returns its owner if
    /// it was active.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn revoke_session_by_id(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<Option<UserId>, Error>;

    /// Stores the first refresh token of a session.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error>;

    /// Atomically exchanges the token `presented` for `successor`: marks it
    /// rotated and stores the successor, only if it was not rotated yet.
    /// Concurrent calls with the same token see exactly one
    /// [`Rotation::Rotated`]; the others see [`Rotation::WithinGrace`] or
    /// [`Rotation::Reused`] depending on `grace`.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: OffsetDateTime,
        grace: time::Duration,
    ) -> Result<Rotation, Error>;

    /// Cheap round trip for readiness probes.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend is unreachable.
    async fn ping(&self) -> Result<(), Error>;

    /// Deletes every session that is expired at `now` or revoked. Returns
    /// how many rows were deleted.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error>;
}
