//! SQLite backend for [`UserStore`](super::UserStore) and
//! [`SessionStore`](super::SessionStore): the default, one file, no set-up.
//! The queries are shared with PostgreSQL (`sql_impl.rs`).

use sqlx::{sqlite::SqliteRow, SqlitePool};

/// Users, events and sessions in one SQLite database.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
}

/// Brings a SQLite database's schema up to date (`migrations/sqlite`).
///
/// # Errors
/// A migration failed; the database is left at the last good version.
pub async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations/sqlite").run(pool).await
}

impl SqliteStore {
    /// Wraps a migrated pool.
    #[must_use]
    pub fn new(pool: SqlitePool) -> Self {
        Self { pool }
    }
}

type Store = SqliteStore;
type DbRow = SqliteRow;
include!("sql_impl.rs");
