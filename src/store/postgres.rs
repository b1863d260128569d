//! PostgreSQL backend: for several server instances sharing one database.
//! It implements every store trait through the shared
//! [`SqlStore`](super::sql::SqlStore); this module only adds its migrations
//! and its revocation feed ([`PgFeed`]).

use sqlx::{postgres::PgListener, PgPool, Postgres};
use tokio::sync::mpsc;

use crate::feed::{listen, reconnecting, RevocationFeed, Signal, Subscription};

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
