//! PostgreSQL backend: for several server instances sharing one database.
//! It implements every store trait through the shared
//! [`SqlStore`](super::sql::SqlStore); this module only adds its migrations.

use sqlx::{PgPool, Postgres};

/// Users, events and sessions in one PostgreSQL database.
pub type PgStore = super::sql::SqlStore<Postgres>;

/// Brings a PostgreSQL database's schema up to date (`migrations/postgres`).
///
/// # Errors
/// A migration failed; the database is left at the last good version.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations/postgres").run(pool).await
}
