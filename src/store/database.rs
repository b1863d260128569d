//! The SQL database, chosen by its URL at start-up.
//!
//! `sqlite://…` (the default, no set-up) or `postgres://…` (several server
//! instances sharing one database). Both run the same queries
//! (`sql/mod.rs`) and keep their own migrations under `migrations/`.

use std::{str::FromStr, sync::Arc, time::Duration};

use super::{RateCounters, SessionBackend, UserBackend};
use crate::{feed::RevocationFeed, Error};

/// Pool settings, the same for every backend.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    /// Most connections held at once.
    pub max_connections: u32,
    /// How long a request waits for a connection before failing (503)
    /// instead of hanging.
    pub acquire_timeout: Duration,
}

/// An open connection pool to one of the supported databases.
#[derive(Clone, Debug)]
pub enum Database {
    /// A SQLite file.
    #[cfg(feature = "sqlite")]
    Sqlite(sqlx::SqlitePool),
    /// A PostgreSQL server.
    #[cfg(feature = "postgres")]
    Postgres(sqlx::PgPool),
}

/// `url` with any password hidden, for an error message about it
/// (`postgres://***@host/db`).
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

impl Database {
    /// Whether `url` names a database this build supports.
    #[must_use]
    pub fn supports(url: &str) -> bool {
        (cfg!(feature = "sqlite") && url.starts_with("sqlite:"))
            || (cfg!(feature = "postgres")
                && (url.starts_with("postgres://") || url.starts_with("postgresql://")))
    }

    /// Opens a pool for `url`. SQLite is tuned for a web server: WAL (readers
    /// never wait for the writer), `synchronous=NORMAL` (safe with WAL), a
    /// busy timeout (writers queue instead of failing), foreign keys on.
    /// PostgreSQL connections are opened on demand, so after an outage the
    /// pool simply opens new ones: no restart needed.
    ///
    /// # Errors
    /// A malformed URL, or (SQLite) a file that cannot be opened.
    pub async fn connect(url: &str, pool: PoolSettings) -> Result<Self, sqlx::Error> {
        #[cfg(feature = "postgres")]
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
            let pool = sqlx::postgres::PgPoolOptions::new()
                .max_connections(pool.max_connections)
                .acquire_timeout(pool.acquire_timeout)
                .connect_lazy_with(options);
            return Ok(Self::Postgres(pool));
        }
        #[cfg(feature = "sqlite")]
        {
            use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true);
            let pool = sqlx::sqlite::SqlitePoolOptions::new()
                .max_connections(pool.max_connections)
                .acquire_timeout(pool.acquire_timeout)
                .connect_with(options)
                .await?;
            Ok(Self::Sqlite(pool))
        }
        #[cfg(not(feature = "sqlite"))]
        Err(sqlx::Error::Configuration(
            format!("unsupported database URL scheme in {url:?}").into(),
        ))
    }

    /// Brings the schema up to date.
    ///
    /// # Errors
    /// A migration failed, or the database is unreachable.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => super::sqlite::migrate(pool).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => super::postgres::migrate(pool).await,
        }
    }

    /// The user and session stores on this database.
    #[must_use]
    pub fn stores(&self) -> (Arc<dyn UserBackend>, Arc<dyn SessionBackend>) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => {
                let store = Arc::new(super::sqlite::SqliteStore::new(pool.clone()));
                (store.clone(), store)
            }
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => {
                let store = Arc::new(super::postgres::PgStore::new(pool.clone()));
                (store.clone(), store)
            }
        }
    }

    /// Rate-limit counters on this database, if several instances can share
    /// it: PostgreSQL. A SQLite file serves one instance, whose in-memory
    /// limiter is exact already.
    #[must_use]
    pub fn shared_counters(&self) -> Option<Arc<dyn RateCounters>> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => None,
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => Some(Arc::new(super::postgres::PgStore::new(pool.clone()))),
        }
    }

    /// Where this database announces revocations: `LISTEN/NOTIFY` on
    /// PostgreSQL, in process on SQLite (one instance per file).
    #[must_use]
    pub fn revocation_feed(&self, timeout: Duration) -> Arc<dyn RevocationFeed> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => {
                let _ = timeout;
                Arc::new(crate::feed::InProcess::default())
            }
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => Arc::new(super::postgres::PgFeed::new(pool.clone(), timeout)),
        }
    }

    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(_) => "sqlite",
            #[cfg(feature = "postgres")]
            Self::Postgres(_) => "postgres",
        }
    }

    /// A round trip, for readiness probes.
    ///
    /// # Errors
    /// [`Error::Storage`] when the database does not answer.
    pub async fn ping(&self) -> Result<(), Error> {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => sqlx::query("SELECT 1").execute(pool).await.map(drop),
        }
        .map_err(Error::from)
    }

    /// How many migrations have been applied.
    ///
    /// # Errors
    /// [`Error::Storage`] when the database does not answer.
    pub async fn migrations_applied(&self) -> Result<i64, Error> {
        const SQL: &str = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => sqlx::query_scalar(SQL).fetch_one(pool).await,
        }
        .map_err(Error::from)
    }

    /// Closes every connection (shutdown, and tests of a lost database).
    pub async fn close(&self) {
        match self {
            #[cfg(feature = "sqlite")]
            Self::Sqlite(pool) => pool.close().await,
            #[cfg(feature = "postgres")]
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_the_password_only() {
        let shown = redact("postgres://app:s3cret@db.internal:5432/app");
        assert_eq!(shown, "postgres://***@db.internal:5432/app");
        assert_eq!(redact("sqlite://data/app.db"), "sqlite://data/app.db");
        assert_eq!(redact("redis://:pw@h:6379"), "redis://***@h:6379");
    }
}
