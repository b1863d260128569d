//! What a backend's `open` takes and returns: the settings, the stores it
//! opened, and why it could not. Kept apart from the scheme table in
//! `open.rs`, so each backend depends on this contract and not on the table
//! that names every backend.

use std::sync::Arc;

use super::{database::Database, RateCounters, SessionBackend, UserBackend};
use crate::{feed::RevocationFeed, Error};

/// What storage to open.
#[derive(Clone, Copy, Debug)]
pub struct StoreSettings<'a> {
    /// The SQL database (`sqlite:…` or `postgres://…`): accounts, events and,
    /// unless `session_store` is set, sessions.
    pub database_url: &'a str,
    /// Its connection pool.
    pub pool: super::database::PoolSettings,
    /// A separate session store (`redis://…`), if any.
    pub session_store: Option<&'a str>,
    /// How long a session-store command may take before failing.
    pub session_store_timeout: std::time::Duration,
    /// Key prefix in a shared session store.
    pub key_prefix: &'a str,
    /// How long validated sessions are remembered in process; `None` turns
    /// the cache off.
    pub cache_ttl: Option<time::Duration>,
}

/// An opened, migrated SQL database and its stores.
pub struct OpenedDatabase {
    /// The database itself (its name, its migrations, closing it).
    pub database: Database,
    /// Accounts and events.
    pub users: Arc<dyn UserBackend>,
    /// Sessions and refresh tokens, unless a session store holds them.
    pub sessions: Arc<dyn SessionBackend>,
    /// Rate-limit counters every instance shares, if several can share
    /// this database.
    pub counters: Option<Arc<dyn RateCounters>>,
    /// Where it announces revocations.
    pub feed: Arc<dyn RevocationFeed>,
}

/// An opened session store.
pub struct OpenedSessionStore {
    /// Its name (`redis`), for logs.
    pub backend: &'static str,
    /// Sessions and refresh tokens.
    pub sessions: Arc<dyn SessionBackend>,
    /// Rate-limit counters every instance shares.
    pub counters: Arc<dyn RateCounters>,
    /// Where it announces revocations.
    pub feed: Arc<dyn RevocationFeed>,
}

/// Why storage could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database could not be opened or reached.
    #[error("cannot open the database: {0}")]
    Database(#[source] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The session store could not be reached, or is not built in.
    #[error("cannot open SESSION_STORE: {0}")]
    SessionStore(#[source] Error),
}
