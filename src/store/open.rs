//! The one place that turns storage settings into stores.
//!
//! The web layer hands over what configuration says (the database URL, an
//! optional session-store URL, the cache's lifetime) and gets back the
//! engine's two stores, so it never branches on a backend. Adding a backend
//! means a module of its own, its feature, and one arm here
//! (`ARCHITECTURE.md` lists every step).

use std::sync::Arc;

use super::{cache::CachedSessions, database::Database, RateCounters, SessionBackend, UserBackend};
use crate::{clock::Clock, feed::RevocationFeed, Error};

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

/// The opened, migrated stores.
pub struct Opened {
    /// The SQL database (for readiness details and shutdown).
    pub database: Database,
    /// Accounts and events.
    pub users: Arc<dyn UserBackend>,
    /// Sessions and refresh tokens, behind the cache when it is on.
    pub sessions: Arc<dyn SessionBackend>,
    /// Where sessions live: `sqlite`, `postgres` or `redis`.
    pub session_backend: &'static str,
    /// Rate-limit counters every instance shares: in Redis when sessions
    /// are, else in PostgreSQL; `None` on SQLite alone (one instance).
    pub counters: Option<Arc<dyn RateCounters>>,
    /// Where revocations are announced: by the session store (PostgreSQL,
    /// Redis), or in process (SQLite).
    pub feed: Arc<dyn RevocationFeed>,
    /// The cache in front of `sessions`, for the feed to evict from.
    pub cache: Option<Arc<CachedSessions>>,
}

impl std::fmt::Debug for Opened {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Opened")
            .field("database", &self.database)
            .field("session_backend", &self.session_backend)
            .finish_non_exhaustive()
    }
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

/// Opens and migrates the database, then the session store it names.
///
/// # Errors
/// See [`OpenError`].
pub async fn open(settings: StoreSettings<'_>, clock: Arc<dyn Clock>) -> Result<Opened, OpenError> {
    let database = Database::connect(settings.database_url, settings.pool)
        .await
        .map_err(OpenError::Database)?;
    database.migrate().await?;
    let (users, sql_sessions) = database.stores();
    let (mut sessions, counters, session_backend, feed) = match settings.session_store {
        None => {
            let feed = database.revocation_feed(settings.pool.acquire_timeout);
            (
                sql_sessions,
                database.shared_counters(),
                database.backend(),
                feed,
            )
        }
        Some(url) => {
            let (sessions, counters, feed) = session_store(url, &settings, users.clone()).await?;
            (sessions, Some(counters), "redis", feed)
        }
    };
    let cache = settings
        .cache_ttl
        .map(|ttl| Arc::new(CachedSessions::new(sessions.clone(), ttl, clock)));
    if let Some(cache) = &cache {
        sessions = cache.clone();
    }
    Ok(Opened {
        database,
        users,
        sessions,
        session_backend,
        counters,
        feed,
        cache,
    })
}

/// A separate session store's sessions, counters and revocation feed.
type SessionStoreParts = (
    Arc<dyn SessionBackend>,
    Arc<dyn RateCounters>,
    Arc<dyn RevocationFeed>,
);

/// The session store named by `url` (only Redis so far).
#[cfg(feature = "redis")]
async fn session_store(
    url: &str,
    settings: &StoreSettings<'_>,
    users: Arc<dyn UserBackend>,
) -> Result<SessionStoreParts, OpenError> {
    use super::{redis::RedisStore, redis_pubsub::RedisFeed};
    let timeout = settings.session_store_timeout;
    let conn = RedisStore::connect(url, timeout)
        .await
        .map_err(OpenError::SessionStore)?;
    let feed =
        RedisFeed::new(url, settings.key_prefix, timeout).map_err(OpenError::SessionStore)?;
    let store = Arc::new(RedisStore::new(conn, users, settings.key_prefix));
    Ok((store.clone(), store, Arc::new(feed)))
}

#[cfg(not(feature = "redis"))]
async fn session_store(
    _url: &str,
    _settings: &StoreSettings<'_>,
    _users: Arc<dyn UserBackend>,
) -> Result<SessionStoreParts, OpenError> {
    Err(OpenError::SessionStore(Error::Invalid(
        "this build has no Redis support (feature `redis`)",
    )))
}
