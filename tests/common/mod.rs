//! Shared set-up for the engine's integration tests.
#![allow(dead_code)]

#[allow(dead_code)]
pub mod backends;

use std::{str::FromStr, sync::Arc};

use engine::{store::sqlite::SqliteStore, Auth, ManualClock, SessionPolicy};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// A migrated SQLite store at `url` with a pool of `connections`.
async fn store(options: SqliteConnectOptions, connections: u32) -> SqliteStore {
    let pool = SqlitePoolOptions::new()
        .max_connections(connections)
        .connect_with(options.foreign_keys(true))
        .await
        .expect("connect");
    engine::store::sqlite::migrate(&pool)
        .await
        .expect("migrate");
    SqliteStore::new(pool)
}

/// An engine on `store` with a manual clock.
fn auth_on(store: SqliteStore) -> (Auth, ManualClock) {
    let store = Arc::new(store);
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

/// An engine on a private in-memory SQLite database.
pub async fn sqlite_auth() -> (Auth, ManualClock) {
    let options = SqliteConnectOptions::from_str("sqlite::memory:").expect("url");
    // One connection: each in-memory connection would be its own database.
    auth_on(store(options, 1).await)
}

/// An engine on a SQLite *file* with a real pool, for concurrency tests.
pub async fn sqlite_file_auth(dir: &std::path::Path) -> (Auth, ManualClock) {
    let options =
        SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.join("t.db").display()))
            .expect("url")
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(std::time::Duration::from_secs(5));
    auth_on(store(options, 8).await)
}
