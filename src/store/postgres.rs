//! PostgreSQL backend: for several server instances sharing one database.
//! It implements every store trait through the shared
//! [`SqlStore`](super::sql::SqlStore); this module adds its migrations, how
//! it is opened, its revocation feed ([`PgFeed`]), and what the server asks
//! of it beyond the stores ([`PgDatabase`]).

use std::{str::FromStr, sync::Arc};

use sqlx::{
    postgres::{PgConnectOptions, PgListener, PgPoolOptions},
    PgPool, Postgres,
};
use tokio::sync::mpsc;

use super::{
    database::{Database, SqlDatabase},
    opening::{OpenError, OpenedDatabase, StoreSettings},
};
use crate::{
    feed::{listen, reconnecting, RevocationFeed, Signal, Subscription},
    Error,
};

/// Opens and migrates the database `settings.database_url` names. Its
/// connections are opened on demand, so after an outage the pool simply
/// opens new ones (no restart). Several instances share it: it keeps the
/// shared rate-limit counters, and announces revocations with `NOTIFY`.
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
    let store = Arc::new(PgStore::new(pool.clone()));
    Ok(OpenedDatabase {
        database: Database::new(PgDatabase(pool.clone())),
        users: store.clone(),
        sessions: store.clone(),
        counters: Some(store),
        feed: Arc::new(PgFeed::new(pool, settings.pool.acquire_timeout)),
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
/// of its own.
#[derive(Clone, Debug)]
pub struct PgFeed {
    pool: PgPool,
    timeout: std::time::Duration,
}

/// The channel the trigger notifies.
const CHANNEL: &str = "session_revoked";

impl PgFeed {
    /// Listens with `pool`'s connect options; connecting and each check
    /// fail after `timeout`.
    #[must_use]
    pub fn new(pool: PgPool, timeout: std::time::Duration) -> Self {
        Self { pool, timeout }
    }

    /// One connection's life; see [`listen`].
    async fn session(self, tx: mpsc::Sender<Signal>) -> (String, bool) {
        let connect = async {
            let mut listener = PgListener::connect_with(&self.pool).await?;
            listener.listen(CHANNEL).await?;
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
        let (tx, rx) = mpsc::channel(256);
        let feed = self.clone();
        tokio::spawn(reconnecting(tx, move |tx| feed.clone().session(tx)));
        rx
    }
}
