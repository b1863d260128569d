//! The one place that turns storage settings into stores: a table of URL
//! schemes, each the `open` of its backend's module.
//!
//! The web layer hands over what configuration says (the database URL, an
//! optional session-store URL, the cache's lifetime) and gets back the
//! engine's stores, so it never branches on a backend. Adding a backend
//! means a module of its own behind its feature, with an `open`, and one
//! row in [`DATABASES`] or [`SESSION_STORES`] (`ARCHITECTURE.md` lists every
//! step).

use std::{future::Future, pin::Pin, sync::Arc};

pub use super::opening::{OpenError, OpenedDatabase, OpenedSessionStore, StoreSettings};
use super::{cache::CachedSessions, database::Database, RateCounters, SessionBackend, UserBackend};
use crate::{clock::Clock, feed::RevocationFeed, Error};

/// A boxed `open` future (a table holds function pointers).
type Opening<'a, T> = Pin<Box<dyn Future<Output = Result<T, OpenError>> + Send + 'a>>;

/// A database backend's `open`.
pub type OpenDatabase = for<'a> fn(&'a StoreSettings<'a>) -> Opening<'a, OpenedDatabase>;

/// A session-store backend's `open`, with the accounts it reads users from.
pub type OpenSessionStore = for<'a> fn(
    &'a str,
    &'a StoreSettings<'a>,
    Arc<dyn UserBackend>,
) -> Opening<'a, OpenedSessionStore>;

/// The SQL databases this build can open, by URL scheme.
pub const DATABASES: &[(&str, OpenDatabase)] = &[
    #[cfg(feature = "sqlite")]
    ("sqlite:", |s| Box::pin(super::sqlite::open(s))),
    #[cfg(feature = "postgres")]
    ("postgres://", |s| Box::pin(super::postgres::open(s))),
    #[cfg(feature = "postgres")]
    ("postgresql://", |s| Box::pin(super::postgres::open(s))),
];

/// The session stores this build can open, by URL scheme.
pub const SESSION_STORES: &[(&str, OpenSessionStore)] = &[
    #[cfg(feature = "redis")]
    ("redis://", |url, s, users| {
        Box::pin(super::redis::open(url, s, users))
    }),
    #[cfg(feature = "redis")]
    ("rediss://", |url, s, users| {
        Box::pin(super::redis::open(url, s, users))
    }),
];

/// Whether this build can open the database `url` names.
#[must_use]
pub fn supports_database(url: &str) -> bool {
    scheme_of(DATABASES, url).is_some()
}

/// Whether this build can open the session store `url` names.
#[must_use]
pub fn supports_session_store(url: &str) -> bool {
    scheme_of(SESSION_STORES, url).is_some()
}

fn scheme_of<T: Copy>(table: &[(&str, T)], url: &str) -> Option<T> {
    table
        .iter()
        .find(|(scheme, _)| url.starts_with(scheme))
        .map(|(_, open)| *open)
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
    /// Rate-limit counters every instance shares: in the session store when
    /// there is one, else in the database if several instances can share
    /// it (PostgreSQL); `None` on SQLite alone (one instance).
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

/// Opens and migrates the database, then the session store it names.
///
/// # Errors
/// See [`OpenError`].
pub async fn open(settings: StoreSettings<'_>, clock: Arc<dyn Clock>) -> Result<Opened, OpenError> {
    let open_database = scheme_of(DATABASES, settings.database_url).ok_or_else(|| {
        OpenError::Database(sqlx::Error::Configuration(
            "this build cannot open that DATABASE_URL's scheme".into(),
        ))
    })?;
    let db = open_database(&settings).await?;
    let (mut sessions, counters, session_backend, feed) = match settings.session_store {
        None => (db.sessions, db.counters, db.database.backend(), db.feed),
        Some(url) => {
            let open_store = scheme_of(SESSION_STORES, url).ok_or(OpenError::SessionStore(
                Error::Invalid("this build cannot open that SESSION_STORE's scheme"),
            ))?;
            let store = open_store(url, &settings, db.users.clone()).await?;
            (
                store.sessions,
                Some(store.counters),
                store.backend,
                store.feed,
            )
        }
    };
    let cache = settings
        .cache_ttl
        .map(|ttl| Arc::new(CachedSessions::new(sessions.clone(), ttl, clock)));
    if let Some(cache) = &cache {
        sessions = cache.clone();
    }
    Ok(Opened {
        database: db.database,
        users: db.users,
        sessions,
        session_backend,
        counters,
        feed,
        cache,
    })
}
