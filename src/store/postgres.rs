//! PostgreSQL backend for [`UserStore`](super::UserStore) and
//! [`SessionStore`](super::SessionStore): for several server instances
//! sharing one database. The queries are shared with SQLite (`sql_impl.rs`).

use sqlx::{postgres::PgRow, PgPool};

/// Users, events and sessions in one PostgreSQL database.
#[derive(Clone, Debug)]
pub struct PgStore {
    pool: PgPool,
}

/// Brings a PostgreSQL database's schema up to date (`migrations/postgres`).
///
/// # Errors
/// A migration failed; the database is left at the last good version.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations/postgres").run(pool).await
}

impl PgStore {
    /// Wraps a migrated pool.
    #[must_use]
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

type Store = PgStore;
type DbRow = PgRow;
include!("sql_impl.rs");
