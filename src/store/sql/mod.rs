//! The SQL store, shared by the SQLite and PostgreSQL backends.
//!
//! One generic [`SqlStore`] runs the same statements on either database: the
//! portable subset both engines accept (`$N` placeholders, times as Unix
//! seconds in `BIGINT`, ids as UUID text, token hashes as bytes,
//! `RETURNING`, and `CAST` rather than `::`). What differs per database is
//! only its driver's types, which [`Dialect`] names once.
//!
//! This module holds the store, its row conversions and the two small
//! traits; one file per remaining trait: `users.rs` (accounts and events),
//! `sessions.rs`, `refresh.rs` (refresh-token families), `counters.rs`
//! (shared rate-limit counters), `email.rs` (addresses, links, the
//! outbox), `passkeys.rs` (passkeys and their
//! ceremonies), `identities.rs` (identities at OpenID Connect providers);
//! and `activity_cache.rs`, the dashboard's lists kept in memory between
//! the writes that change them.

mod activity_cache;
mod counters;
mod dialect;
pub(crate) mod email;
mod identities;
mod passkeys;
mod refresh;
mod sessions;
mod users;

use std::sync::Arc;

use async_trait::async_trait;
use sqlx::{pool::PoolConnection, Database, Pool};
use time::OffsetDateTime;

pub(crate) use self::activity_cache::ActivityCache;
pub use self::dialect::{Dialect, RowsAffected, Value};
use super::{ExpiredDeletion, Readiness};
use crate::{id::UserId, record::UserSummary, Error};

/// Users, events, sessions and refresh tokens in one SQL database.
#[derive(Debug)]
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
    /// The dashboard's lists between writes, when this process is the
    /// database's only writer ([`SqlStore::sole_writer`]) or hears of every
    /// other's (PostgreSQL's `PgStore::hearing_writes`).
    activity: Option<Arc<ActivityCache>>,
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
            activity: self.activity.clone(),
        }
    }
}

impl<DB: Dialect> SqlStore<DB> {
    /// Wraps a migrated pool.
    #[must_use]
    pub fn new(pool: Pool<DB>) -> Self {
        Self {
            pool,
            activity: None,
        }
    }

    /// The store of a database no other process writes (SQLite, one
    /// instance): it keeps the dashboard's lists between the writes that
    /// change them (`activity_cache.rs`).
    #[must_use]
    pub fn sole_writer(self) -> Self {
        self.keeping(Arc::new(ActivityCache::sole_writer()))
    }

    /// The store keeping the dashboard's lists in `cache`.
    pub(crate) fn keeping(mut self, cache: Arc<ActivityCache>) -> Self {
        self.activity = Some(cache);
        self
    }

    /// Runs `write`, a change to the notices or events of `user` (of every
    /// account: `None`), then forgets the kept lists it changed. Where lists
    /// are kept, the two run in a task of their own, to the end: a request
    /// dropped mid-write (the browser gone) must not leave a committed
    /// change behind a list kept from before it.
    async fn changing_activity<T: Send + 'static>(
        &self,
        user: Option<UserId>,
        write: impl std::future::Future<Output = Result<T, Error>> + Send + 'static,
    ) -> Result<T, Error> {
        let Some(cache) = self.activity.clone() else {
            return write.await;
        };
        let task = tokio::spawn(async move {
            let written = write.await;
            match user {
                Some(user) => cache.forget(user),
                None => cache.forget_all(),
            }
            written
        });
        match task.await {
            Ok(written) => written,
            Err(err) if err.is_panic() => std::panic::resume_unwind(err.into_panic()),
            Err(err) => Err(Error::storage(err)),
        }
    }

    async fn conn(&self) -> Result<PoolConnection<DB>, Error> {
        Ok(self.pool.acquire().await?)
    }

    async fn execute(&self, sql: &'static str, args: &[Value<'_>]) -> Result<u64, Error> {
        Ok(DB::execute(&mut *self.conn().await?, sql, args).await?)
    }

    async fn fetch_optional(
        &self,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<Option<DB::Row>, Error> {
        Ok(DB::fetch_optional(&mut *self.conn().await?, sql, args).await?)
    }

    async fn fetch_all(
        &self,
        sql: &'static str,
        args: &[Value<'_>],
    ) -> Result<Vec<DB::Row>, Error> {
        Ok(DB::fetch_all(&mut *self.conn().await?, sql, args).await?)
    }
}

/// How many migrations a database has applied (`/status`).
pub(crate) const MIGRATIONS_APPLIED: &str = "SELECT COUNT(*) FROM _sqlx_migrations WHERE success";

const INSERT_REFRESH_TOKEN: &str = "INSERT INTO refresh_tokens \
     (id, session_id, token_hash, created_at) VALUES ($1, $2, $3, $4)";

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_ts(secs: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(Error::storage)
}

fn opt_ts<DB: Dialect>(row: &DB::Row, column: &str) -> Result<Option<OffsetDateTime>, Error> {
    DB::opt_int(row, column)?.map(from_ts).transpose()
}

fn user_from_row<DB: Dialect>(row: &DB::Row, prefix: &str) -> Result<UserSummary, Error> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(UserSummary {
        id: DB::text(row, &col("id"))?.parse()?,
        username: DB::text(row, &col("username"))?,
        display_name: DB::text(row, &col("display_name"))?,
        created_at: from_ts(DB::int(row, &col("created_at"))?)?,
    })
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait]
impl<DB: Dialect> ExpiredDeletion for SqlStore<DB> {
    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error> {
        self.execute(
            "DELETE FROM rate_counters WHERE window_ends_ms <= $1",
            &[Value::Int(super::unix_ms(now))],
        )
        .await?;
        self.execute(
            "DELETE FROM session_revocations WHERE revoked_at < $1",
            &[Value::Int(ts(now - crate::deny_list::RETAIN))],
        )
        .await?;
        self.execute(
            "DELETE FROM passkey_ceremonies WHERE expires_at <= $1",
            &[Value::Int(ts(now))],
        )
        .await?;

        // Refresh tokens go with their session (`ON DELETE CASCADE`).
        self.execute(
            "DELETE FROM sessions \
             WHERE revoked_at IS NOT NULL OR idle_expires_at <= $1 OR expires_at <= $1",
            &[Value::Int(ts(now))],
        )
        .await
    }

    async fn delete_rotated_before(&self, at: OffsetDateTime) -> Result<u64, Error> {
        self.execute(
            "DELETE FROM refresh_tokens WHERE rotated_at < $1",
            &[Value::Int(ts(at))],
        )
        .await
    }
}

#[async_trait]
impl<DB: Dialect> Readiness for SqlStore<DB> {
    async fn ping(&self) -> Result<(), Error> {
        self.execute("SELECT 1", &[]).await?;
        Ok(())
    }
}
