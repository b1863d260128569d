//! The database pool: opening, tuning and migrating.
//!
//! SQLite is tuned for a web server: WAL mode so readers never wait for the
//! writer, `synchronous=NORMAL` (safe with WAL), a busy timeout so concurrent
//! writers queue instead of failing with "database is locked", and foreign
//! keys on.

use std::{path::Path, str::FromStr, time::Duration};

use sqlx::{
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
    SqlitePool,
};

use crate::{config::DatabaseConfig, error::StartupError};

/// Opens (creating if needed) and migrates the database.
///
/// # Errors
/// The database cannot be created or opened, or a migration fails.
pub async fn connect(config: &DatabaseConfig) -> Result<SqlitePool, StartupError> {
    let options = SqliteConnectOptions::from_str(&config.url)
        .map_err(StartupError::Database)?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(5))
        .foreign_keys(true);

    let file = options.get_filename().to_path_buf();
    if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
        create_private_dir(dir)?;
    }

    let pool = SqlitePoolOptions::new()
        .max_connections(config.max_connections)
        .acquire_timeout(config.acquire_timeout)
        .connect_with(options)
        .await
        .map_err(StartupError::Database)?;

    engine::store::sqlite::migrate(&pool).await?;
    tracing::info!(file = %file.display(), "database ready");
    Ok(pool)
}

/// Creates the data directory, readable by this user only: it holds the
/// database and, later, keys.
fn create_private_dir(dir: &Path) -> Result<(), StartupError> {
    let err = |source| StartupError::DataDir {
        path: dir.display().to_string(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(err)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(err)?;
    }
    Ok(())
}
