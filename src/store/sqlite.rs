//! SQLite backend: the default, one file, no set-up. It implements every
//! store trait through the shared [`SqlStore`](super::sql::SqlStore); this
//! module adds its migrations, how it is opened, and what the server asks
//! of it beyond the stores ([`SqliteDatabase`]).

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    Sqlite, SqlitePool,
};

use super::{
    database::{Database, SqlDatabase},
    opening::{OpenError, OpenedDatabase, StoreSettings},
};
use crate::Error;

/// Users, events and sessions in one SQLite database.
pub type SqliteStore = super::sql::SqlStore<Sqlite>;

/// Brings a SQLite database's schema up to date (`migrations/sqlite`).
///
/// # Errors
/// A migration failed; the database is left at the last good version.
pub async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations/sqlite").run(pool).await
}

/// Opens and migrates the SQLite file `settings.database_url` names, tuned
/// for a web server: WAL (readers never wait for the writer),
/// `synchronous=NORMAL` (safe with WAL), a busy timeout (writers queue
/// instead of failing), foreign keys on. One instance per file, so the
/// revocations are announced in process, the rate limits are kept in
/// memory (no shared counters), and the dashboard's lists are kept between
/// the writes that change them ([`SqliteStore::sole_writer`]) — unless
/// sessions live in a store of their own (`settings.session_store`), which
/// is for several instances: they may share the file, and none would hear
/// of another's writes, so then nothing is kept.
///
/// # Errors
/// A malformed URL, a file that cannot be opened, or a failed migration.
pub async fn open(settings: &StoreSettings<'_>) -> Result<OpenedDatabase, OpenError> {
    let options = SqliteConnectOptions::from_str(settings.database_url)
        .map_err(OpenError::Database)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(settings.pool.max_connections)
        .acquire_timeout(settings.pool.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(OpenError::Database)?;
    migrate(&pool).await?;
    let store = SqliteStore::new(pool.clone());
    let store = Arc::new(if settings.session_store.is_none() {
        store.sole_writer()
    } else {
        store
    });
    Ok(OpenedDatabase {
        database: Database::new(SqliteDatabase(pool)),
        users: store.clone(),
        sessions: store,
        counters: None,
        feed: Arc::new(crate::feed::InProcess::default()),
    })
}

/// An open SQLite database (its pool).
#[derive(Clone, Debug)]
pub struct SqliteDatabase(pub SqlitePool);

#[async_trait::async_trait]
impl SqlDatabase for SqliteDatabase {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn migrations_applied(&self) -> Result<i64, Error> {
        Ok(sqlx::query_scalar(super::sql::MIGRATIONS_APPLIED)
            .fetch_one(&self.0)
            .await?)
    }

    async fn close(&self) {
        self.0.close().await;
    }

    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}
