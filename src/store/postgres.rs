//! PostgreSQL backend: for several server instances sharing one database.
//! It implements every store trait through the shared
//! [`SqlStore`](super::sql::SqlStore); this module adds its migrations, how
//! it is opened, its announcements ([`PgFeed`]: revocations, and changes to
//! the dashboard's lists), and what the server asks of it beyond the stores
//! ([`PgDatabase`]).

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
    PgPool, Postgres,
};
use tokio::sync::mpsc;

use super::{
    database::{Database, SqlDatabase},
    opening::{OpenError, OpenedDatabase, StoreSettings},
    sql::ActivityCache,
};
use crate::{
    feed::{listen, reconnecting, RevocationFeed, Signal, Subscription},
    Error,
};

/// Opens and migrates the database `settings.database_url` names. Its
/// connections are opened on demand, so after an outage the pool simply
/// opens new ones (no restart). Several instances share it: it keeps the
/// shared rate-limit counters, announces revocations with `NOTIFY`, and
/// keeps the dashboard's lists, hearing of every instance's changes to them
/// ([`PgStore::hearing_writes`]).
///
/// # Errors
/// A malformed URL, an unreachable database, or a failed migration.
pub async fn open(settings: &StoreSettings<'_>) -> Result<OpenedDatabase, OpenError> {
    let options = PgConnectOptions::from_str(settings.database_url).map_err(OpenError::Database)?;
    let pool = PgPoolOptions::new()
        .max_connections(settings.pool.max_connections)
        .acquire_timeout(settings.pool.acquire_timeout)
        .connect_lazy_with(options);
    migrate(&pool).await?;
    let feed = PgFeed::new(pool.clone(), settings.pool.acquire_timeout);
    let store = Arc::new(PgStore::new(pool.clone()).hearing_writes(&feed));
    Ok(OpenedDatabase {
        database: Database::new(PgDatabase(pool)),
        users: store.clone(),
        sessions: store.clone(),
        counters: Some(store),
        feed: Arc::new(feed),
    })
}

/// An open PostgreSQL database (its pool).
#[derive(Clone, Debug)]
pub struct PgDatabase(pub PgPool);

#[async_trait::async_trait]
impl SqlDatabase for PgDatabase {
    fn backend(&self) -> &'static str {
        "postgres"
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

/// Users, events and sessions in one PostgreSQL database.
pub type PgStore = super::sql::SqlStore<Postgres>;

impl PgStore {
    /// The store of one instance among several on this database: it keeps
    /// the dashboard's lists between the writes that change them, hearing of
    /// every instance's through `NOTIFY activity_changed` (migration 0012)
    /// on a connection of `feed`'s own. Must be called within a Tokio
    /// runtime.
    #[must_use]
    pub fn hearing_writes(self, feed: &PgFeed) -> Self {
        self.keeping(ActivityCache::following(feed.follow(ACTIVITY_CHANGED)))
    }
}

/// Brings a PostgreSQL database's schema up to date (`migrations/postgres`).
///
/// # Errors
/// A migration failed; the database is left at the last good version.
pub async fn migrate(pool: &PgPool) -> Result<(), sqlx::migrate::MigrateError> {
    sqlx::migrate!("./migrations/postgres").run(pool).await
}

/// The PostgreSQL revocation feed: the trigger on `sessions` (migration
/// 0006) sends `NOTIFY session_revoked` with each revoked session's id, in
/// the revoking transaction, and every instance `LISTEN`s on a connection
/// of its own. The same carries `activity_changed` (an account's id) to
/// [`PgStore::hearing_writes`], on another connection.
#[derive(Clone, Debug)]
pub struct PgFeed {
    pool: PgPool,
    timeout: Duration,
}

/// The channels the triggers notify: revoked sessions (migration 0006),
/// accounts whose dashboard lists changed (0012).
const SESSION_REVOKED: &str = "session_revoked";
const ACTIVITY_CHANGED: &str = "activity_changed";

impl PgFeed {
    /// Listens with `pool`'s connect options; connecting and each check
    /// fail after `timeout`.
    #[must_use]
    pub fn new(pool: PgPool, timeout: Duration) -> Self {
        Self { pool, timeout }
    }

    /// Follows `channel`, whose payloads are `T`s, reconnecting until the
    /// receiver is dropped.
    fn follow<T>(&self, channel: &'static str) -> mpsc::Receiver<Signal<T>>
    where
        T: FromStr + Send + 'static,
        T::Err: Send,
    {
        let (tx, rx) = mpsc::channel(256);
        let feed = self.clone();
        tokio::spawn(reconnecting(tx, move |tx| {
            feed.clone().session(channel, tx)
        }));
        rx
    }

    /// One connection's life; see [`listen`].
    async fn session<T>(self, channel: &'static str, tx: mpsc::Sender<Signal<T>>) -> (String, bool)
    where
        T: FromStr + Send,
        T::Err: Send,
    {
        let connect = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen(channel).await?;
            Ok::<_, sqlx::Error>(Listening(listener))
        };
        listen(&tx, self.timeout, async {
            connect.await.map_err(|e| e.to_string())
        })
        .await
    }
}

/// A `LISTEN`ing connection.
struct Listening(PgListener);

impl Subscription for Listening {
    // `try_recv` is cancel-safe.
    async fn next(&mut self) -> Result<Option<String>, String> {
        let notice = self.0.try_recv().await.map_err(|e| e.to_string())?;
        Ok(notice.map(|n| n.payload().to_owned()))
    }

    async fn check(&mut self) -> Result<(), String> {
        let check = sqlx::query("SELECT 1").execute(&mut self.0).await;
        check.map(drop).map_err(|e| e.to_string())
    }
}

impl RevocationFeed for PgFeed {
    fn name(&self) -> &'static str {
        "postgres LISTEN/NOTIFY"
    }

    fn subscribe(&self) -> mpsc::Receiver<Signal> {
        self.follow(SESSION_REVOKED)
    }
}
