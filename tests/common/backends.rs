//! Every storage backend, freshly set up, for the conformance suite.

use std::{str::FromStr, sync::Arc};

use engine::{
    feed::RevocationFeed,
    store::{RateCounters, SessionBackend, UserBackend},
};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};

/// One backend's stores, empty and migrated.
pub struct Backend {
    pub users: Arc<dyn UserBackend>,
    pub sessions: Arc<dyn SessionBackend>,
    pub counters: Arc<dyn RateCounters>,
    /// The feed the store announces revocations on itself; `None` where
    /// the engine announces them (SQLite, in process).
    pub feed: Option<Arc<dyn RevocationFeed>>,
    pub cleanup: Cleanup,
}

/// What to remove once a test has passed (a failed test leaves its data
/// behind for inspection).
#[derive(Clone)]
pub enum Cleanup {
    /// A temporary directory, removed when the last handle drops.
    Dir(#[allow(dead_code)] Arc<tempfile::TempDir>),
    /// A PostgreSQL schema.
    #[cfg(feature = "postgres")]
    Schema(sqlx::PgPool, String),
    /// Redis keys under a prefix, and the SQL side's directory.
    #[cfg(feature = "redis")]
    Keys(
        redis::aio::ConnectionManager,
        String,
        Arc<tempfile::TempDir>,
    ),
}

impl Cleanup {
    pub async fn run(self) {
        match self {
            Self::Dir(_) => {}
            #[cfg(feature = "postgres")]
            Self::Schema(pool, schema) => {
                let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DROP SCHEMA IF EXISTS {schema} CASCADE"
                )))
                .execute(&pool)
                .await;
                pool.close().await;
            }
            #[cfg(feature = "redis")]
            Self::Keys(mut conn, prefix, _dir) => {
                let keys: Vec<String> = redis::cmd("KEYS")
                    .arg(format!("{prefix}*"))
                    .query_async(&mut conn)
                    .await
                    .unwrap_or_default();
                if !keys.is_empty() {
                    let _: Result<(), _> = redis::cmd("DEL").arg(keys).query_async(&mut conn).await;
                }
            }
        }
    }
}

/// Skips (`None`) when the server is unreachable, unless `REQUIRE_BACKENDS`
/// names the backend.
#[allow(dead_code)]
fn unavailable(name: &str, why: &str) -> Option<Backend> {
    let required = std::env::var("REQUIRE_BACKENDS").unwrap_or_default();
    assert!(
        !required.split(',').any(|r| r.trim() == name),
        "{name} is required (REQUIRE_BACKENDS) but unavailable: {why}"
    );
    eprintln!("SKIPPED {name}: {why}");
    None
}

/// SQLite in a temporary file (a file, not memory: the concurrency tests
/// need several connections to one database).
pub async fn sqlite() -> Option<Backend> {
    sqlite_store(false).await
}

/// SQLite, its store keeping the dashboard's lists between writes or not
/// (the server keeps them: one instance writes the file).
async fn sqlite_store(sole_writer: bool) -> Option<Backend> {
    let dir = tempfile::tempdir().ok()?;
    let options = SqliteConnectOptions::from_str(&format!(
        "sqlite://{}",
        dir.path().join("conformance.db").display()
    ))
    .ok()?
    .create_if_missing(true)
    .journal_mode(SqliteJournalMode::Wal)
    .busy_timeout(std::time::Duration::from_secs(5))
    .foreign_keys(true);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .expect("sqlite");
    engine::store::sqlite::migrate(&pool)
        .await
        .expect("migrate");
    let store = engine::store::sqlite::SqliteStore::new(pool);
    let store = Arc::new(if sole_writer {
        store.sole_writer()
    } else {
        store
    });
    Some(Backend {
        users: store.clone(),
        sessions: store.clone(),
        counters: store,
        feed: None,
        cleanup: Cleanup::Dir(Arc::new(dir)),
    })
}

/// SQLite as the server opens it, behind the in-process session cache and
/// keeping the dashboard's lists between writes: the caches must keep
/// every contract of the store they front (within one instance).
pub async fn cached_sqlite() -> Option<Backend> {
    let sql = sqlite_store(true).await?;
    let sessions = Arc::new(engine::store::cache::CachedSessions::new(
        sql.sessions,
        time::Duration::seconds(30),
        Arc::new(engine::SystemClock),
    ));
    Some(Backend {
        users: sql.users,
        sessions,
        counters: sql.counters,
        feed: None,
        cleanup: sql.cleanup,
    })
}

/// PostgreSQL, in a fresh schema of `TEST_DATABASE_URL`.
#[cfg(feature = "postgres")]
pub async fn postgres() -> Option<Backend> {
    use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
    let url = std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let base = match PgConnectOptions::from_str(&url) {
        Ok(options) => options,
        Err(err) => return unavailable("postgres", &err.to_string()),
    };
    let admin = match PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(2))
        .connect_with(base.clone())
        .await
    {
        Ok(pool) => pool,
        Err(err) => return unavailable("postgres", &err.to_string()),
    };
    let schema = format!("conformance_{}", uuid::Uuid::now_v7().simple());
    // The name is ours (a UUID), not input.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create schema");
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(base.options([("search_path", schema.as_str())]))
        .await
        .expect("postgres");
    engine::store::postgres::migrate(&pool)
        .await
        .expect("migrate");
    let timeout = std::time::Duration::from_secs(2);
    let feed = engine::store::postgres::PgFeed::new(pool.clone(), timeout);
    // As the server opens it: keeping the dashboard's lists.
    let store = Arc::new(engine::store::postgres::PgStore::new(pool).hearing_writes(&feed));
    Some(Backend {
        users: store.clone(),
        sessions: store.clone(),
        counters: store,
        feed: Some(Arc::new(feed)),
        cleanup: Cleanup::Schema(admin, schema),
    })
}

/// Another instance's store on the PostgreSQL `schema` a backend made
/// (`admin` reaches its server), keeping the dashboard's lists as the
/// server does, and a pool of its own on that schema.
#[cfg(feature = "postgres")]
#[allow(dead_code)]
pub async fn postgres_instance(
    admin: &sqlx::PgPool,
    schema: &str,
) -> (Arc<dyn UserBackend>, sqlx::PgPool) {
    let options = (*admin.connect_options()).clone();
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(2)
        .connect_with(options.options([("search_path", schema)]))
        .await
        .expect("postgres");
    let feed =
        engine::store::postgres::PgFeed::new(pool.clone(), std::time::Duration::from_secs(2));
    let store = engine::store::postgres::PgStore::new(pool.clone()).hearing_writes(&feed);
    (Arc::new(store), pool)
}

/// Redis for sessions (under a fresh key prefix of `TEST_REDIS_URL`), with
/// accounts in SQLite, as the server runs it.
#[cfg(feature = "redis")]
pub async fn redis() -> Option<Backend> {
    let url =
        std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned());
    let conn =
        match engine::store::redis::RedisStore::connect(&url, std::time::Duration::from_secs(2))
            .await
        {
            Ok(conn) => conn,
            Err(err) => return unavailable("redis", &err.to_string()),
        };
    let sql = sqlite().await?;
    let dir = match &sql.cleanup {
        Cleanup::Dir(dir) => dir.clone(),
        #[allow(unreachable_patterns)]
        _ => unreachable!("sqlite() cleans up a directory"),
    };
    let prefix = format!("conformance:{}:", uuid::Uuid::now_v7().simple());
    let sessions = Arc::new(engine::store::redis::RedisStore::new(
        conn.clone(),
        sql.users.clone(),
        &prefix,
    ));
    let feed =
        engine::store::redis::RedisFeed::new(&url, &prefix, std::time::Duration::from_secs(2))
            .expect("redis url");
    Some(Backend {
        users: sql.users,
        sessions: sessions.clone(),
        counters: sessions,
        feed: Some(Arc::new(feed)),
        cleanup: Cleanup::Keys(conn, prefix, dir),
    })
}
