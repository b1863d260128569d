//! Shared set-up for the engine's integration tests.
#![allow(dead_code)]

#[allow(dead_code)]
pub mod backends;
#[allow(dead_code)]
pub mod hooked;

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

/// A migrated store on a private in-memory SQLite database.
pub async fn memory_store() -> SqliteStore {
    let options = SqliteConnectOptions::from_str("sqlite::memory:").expect("url");
    // One connection: each in-memory connection would be its own database.
    store(options, 1).await
}

/// An engine on a private in-memory SQLite database.
pub async fn sqlite_auth() -> (Auth, ManualClock) {
    auth_on(memory_store().await)
}

/// A SQLite file in `dir`, in WAL mode as the server opens it.
fn file_options(dir: &std::path::Path) -> SqliteConnectOptions {
    SqliteConnectOptions::from_str(&format!("sqlite://{}", dir.join("t.db").display()))
        .expect("url")
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .busy_timeout(std::time::Duration::from_secs(5))
}

/// An engine on a SQLite *file* with a real pool, for concurrency tests.
pub async fn sqlite_file_auth(dir: &std::path::Path) -> (Auth, ManualClock) {
    auth_on(store(file_options(dir), 8).await)
}

/// Two server instances on one SQLite file, each with its own session cache
/// of `ttl` in front of the shared store, and one shared manual clock.
pub async fn two_cached_instances(
    dir: &std::path::Path,
    ttl: time::Duration,
) -> (Auth, Auth, ManualClock) {
    two_cached_instances_following(dir, ttl, None).await
}

/// As [`two_cached_instances`], the first one following `feed` (its cache
/// evicted by what it hears) when one is given.
pub async fn two_cached_instances_following(
    dir: &std::path::Path,
    ttl: time::Duration,
    feed: Option<Arc<dyn engine::feed::RevocationFeed>>,
) -> (Auth, Auth, ManualClock) {
    use engine::store::{cache::CachedSessions, SessionBackend};
    let store = Arc::new(store(file_options(dir), 4).await);
    let clock = ManualClock::new();
    let instance = || {
        let cache = Arc::new(CachedSessions::new(
            store.clone(),
            ttl,
            Arc::new(clock.clone()),
        ));
        let cached: Arc<dyn SessionBackend> = cache.clone();
        let auth = Auth::new(
            store.clone(),
            cached,
            SessionPolicy::default(),
            Arc::new(clock.clone()),
        )
        .expect("policy");
        (auth, cache)
    };
    let ((a, a_cache), (b, _)) = (instance(), instance());
    let a = match feed {
        Some(feed) => a.with_revocation_feed(feed, Some(a_cache)),
        None => a,
    };
    (a, b, clock)
}
