//! Redis backend for [`SessionStore`], [`RefreshTokens`], [`Ceremonies`],
//! [`ExpiredDeletion`], [`Readiness`] and [`RateCounters`]: sessions,
//! refresh tokens, passkey ceremonies and the shared rate-limit counters in
//! Redis, accounts and the event log still in SQL. One file per trait; the
//! session hash's fields in `record.rs`; each Lua script a file of its own
//! under `scripts/`, loaded once (`scripts.rs`); the revocation feed in
//! `feed.rs`.
//!
//! Keys, under a prefix (`ls:` by default):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `s:{id}` | hash | the session, plus a copy of its user's summary (one read validates a request) |
//! | `t:{token hash}` | string | the session id for a token |
//! | `u:{user id}` | set | the user's session ids ("sign out everywhere", the session list) |
//! | `due` | sorted set | session ids by when they stop being valid (idle or absolute expiry, revocation) |
//! | `r:{refresh hash}` | hash | a refresh token: its session, and when it was rotated |
//! | `sr:{id}` | set | a session's refresh token hashes |
//! | `rotated` | sorted set | rotated refresh token hashes by when they were rotated (for their retention) |
//! | `revoked` | sorted set | the revocation log: session ids by when they were revoked, kept for [`crate::deny_list::RETAIN`] |
//! | `revocations` | pub/sub channel | each revoked session's id, published by the revoking script ([`feed`]) |
//! | `c:{key}` | hash | a rate-limit counter: its count and when its window ends |
//! | `pk:{key hash}` | string | a passkey ceremony: its expiry (Unix seconds), a space, its state; Redis expires it too |
//!
//! Session, token and refresh keys expire an hour after the session's
//! absolute expiry, so Redis cleans up even without the purge task; the
//! purge task (`delete_expired`) removes idle-expired and revoked sessions
//! at once, using `due`. Every multi-key change is one Lua script, so it is
//! atomic: in particular a refresh token is rotated exactly once however
//! many instances race on it. (Scripts build key names from the prefix, so
//! this store expects a single Redis, not a cluster.)

mod ceremonies;
mod cleanup;
mod counters;
pub mod feed;
mod record;
mod refresh;
mod scripts;
mod sessions;

pub use feed::RedisFeed;

use std::sync::Arc;

use redis::aio::ConnectionManager;
use time::OffsetDateTime;

use super::{
    opening::{OpenError, OpenedSessionStore, StoreSettings},
    Readiness, UserBackend, UserStore,
};
use crate::{token::TokenHash, Error};

/// Opens the Redis at `url` for sessions, under `settings.key_prefix`,
/// reading users from `users`: its sessions, its counters (shared by every
/// instance), and its revocation feed.
///
/// # Errors
/// A malformed URL, or Redis unreachable at start-up.
pub async fn open(
    url: &str,
    settings: &StoreSettings<'_>,
    users: Arc<dyn UserBackend>,
) -> Result<OpenedSessionStore, OpenError> {
    let timeout = settings.session_store_timeout;
    let conn = RedisStore::connect(url, timeout)
        .await
        .map_err(OpenError::SessionStore)?;
    let feed =
        RedisFeed::new(url, settings.key_prefix, timeout).map_err(OpenError::SessionStore)?;
    let store = Arc::new(RedisStore::new(conn, users, settings.key_prefix));
    Ok(OpenedSessionStore {
        backend: "redis",
        sessions: store.clone(),
        counters: store,
        feed: Arc::new(feed),
    })
}

/// Sessions and refresh tokens in Redis.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    users: std::sync::Arc<dyn UserStore>,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Extra lifetime of keys past the session's absolute expiry.
const KEY_GRACE_SECS: i64 = 3600;

impl RedisStore {
    /// A store on `conn`, reading user summaries from `users`, with every
    /// key under `prefix`.
    #[must_use]
    pub fn new(
        conn: ConnectionManager,
        users: std::sync::Arc<dyn UserStore>,
        prefix: &str,
    ) -> Self {
        Self {
            conn,
            users,
            prefix: prefix.to_owned(),
        }
    }

    /// Connects to `url` with a connection that reconnects by itself, and
    /// fails a command after `timeout` instead of hanging while Redis is
    /// away.
    ///
    /// # Errors
    /// A malformed URL, or Redis unreachable at start-up.
    pub async fn connect(
        url: &str,
        timeout: std::time::Duration,
    ) -> Result<ConnectionManager, Error> {
        let client = redis::Client::open(url).map_err(Error::storage)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(std::time::Duration::from_secs(1));
        ConnectionManager::new_with_config(client, config)
            .await
            .map_err(Error::storage)
    }

    fn key(&self, kind: &str, id: impl std::fmt::Display) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// A key of its own under the prefix (`revoked`, `due`).
    fn key_of(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

impl From<redis::RedisError> for Error {
    fn from(err: redis::RedisError) -> Self {
        Error::storage(err)
    }
}

fn hex(hash: &TokenHash) -> String {
    hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<TokenHash> {
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect();
    TokenHash::from_slice(&bytes?)
}

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn ttl_secs(expires_at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (ts(expires_at) - ts(now)).max(0) + KEY_GRACE_SECS
}

#[async_trait::async_trait]
impl Readiness for RedisStore {
    async fn ping(&self) -> Result<(), Error> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn()).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_through_hex() {
        let hash = crate::SessionToken::generate().hash();
        assert_eq!(unhex(&hex(&hash)), Some(hash));
        assert_eq!(unhex("zz"), None);
    }
}
