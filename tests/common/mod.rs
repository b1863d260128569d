//! Shared set-up for the engine's integration tests.

use std::{str::FromStr, sync::Arc};

use engine::{store::sqlite::SqliteStore, Auth, ManualClock, SessionPolicy};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};

/// A migrated SQLite store on a private in-memory database.
pub async fn sqlite_store() -> SqliteStore {
    let options = SqliteConnectOptions::from_str("sqlite::memory:")
        .expect("url")
        .foreign_keys(true);
    // One connection: each in-memory connection would be its own database.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("connect");
    engine::store::sqlite::migrate(&pool)
        .await
        .expect("migrate");
    SqliteStore::new(pool)
}

/// An engine on SQLite with a manual clock.
pub async fn sqlite_auth() -> (Auth, ManualClock) {
    let store = Arc::new(sqlite_store().await);
    let clock = ManualClock::new();
    let auth = Auth::new(
        store.clone(),
        store,
        SessionPolicy::default(),
        Arc::new(clock.clone()),
    )
    .expect("policy");
    (auth, clock)
}

/// An engine on a SQLite *file* with a real pool, for concurrency tests.
pub async fn sqlite_file_auth(dir: &std::path::Path) -> (Auth, ManualClock) {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.join("t.db").display()))
            .expect("url")
            .create_if_missing(true)
            .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(5))
            .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
        .expect("connect");
    engine::store::sqlite::migrate(&pool)
        .await
        .expect("migrate");
    let store = Arc::new(SqliteStore::new(pool));
    let clock = ManualClock::new();
    let auth = Auth::new(
        store.clone(),
        store,
        SessionPolicy::default(),
        Arc::new(clock.clone()),
    )
    .expect("policy");
    (auth, clock)
}
