//! SQLite backend: the default, one file, no set-up. It implements every
//! store trait through the shared [`SqlStore`](super::sql::SqlStore); this
//! module only adds its migrations.

use sqlx::{Sqlite, SqlitePool};

/// Users, events and sessions in one SQLite database.
pub type SqliteStore = super::sql::SqlStore<Sqlite>;

/// Brings a SQLite database's schema up to date (`migrations/sqlite`).
///
/// # Errors
/// A migration failed; the database is left at the last good version.
pub async fn migrate(pool: &SqlitePool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations/sqlite").run(pool).await
}
