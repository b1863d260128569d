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
//! (shared rate-limit counters), `passkeys.rs` (passkeys and their
//! ceremonies).

mod counters;
mod dialect;
mod passkeys;
mod refresh;
mod sessions;
mod users;

use async_trait::async_trait;
use sqlx::{pool::PoolConnection, Database, Pool};
use time::OffsetDateTime;

pub use self::dialect::{Dialect, RowsAffected, Value};
use super::{ExpiredDeletion, Readiness};
use crate::{
    record::{Authenticated, SessionRecord, UserSummary},
    token::TokenHash,
    Error,
};

/// Users, events, sessions and refresh tokens in one SQL database.
#[derive(Debug)]
pub struct SqlStore<DB: Database> {
    pool: Pool<DB>,
}

impl<DB: Database> Clone for SqlStore<DB> {
    fn clone(&self) -> Self {
        Self {
            pool: self.pool.clone(),
        }
    }
}

impl<DB: Dialect> SqlStore<DB> {
    /// Wraps a migrated pool.
    #[must_use]
    pub fn new(pool: Pool<DB>) -> Self {
        Self { pool }
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

/// The session columns, as a macro so queries stay `&'static str` literals.
macro_rules! session_columns {
    () => {
        "s.id, s.user_id, s.token_hash, s.created_at, s.last_seen_at, s.idle_expires_at, \
         s.expires_at, s.persistent, s.ip_address, s.user_agent, s.revoked_at, s.authenticated_at, \
         s.last_ip_address, s.last_user_agent, s.confirmed_at"
    };
}

/// `SELECT` of a session joined to its user; see [`authenticated_from_row`].
macro_rules! session_with_user {
    () => {
        concat!(
            "SELECT ",
            $crate::store::sql::session_columns!(),
            ", u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, \
             u.created_at AS u_created_at FROM sessions s JOIN users u ON u.id = s.user_id"
        )
    };
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

fn session_from_row<DB: Dialect>(row: &DB::Row) -> Result<SessionRecord, Error> {
    let time = |column| from_ts(DB::int(row, column)?);
    let hash = DB::bytes(row, "token_hash")?;
    let created_at = time("created_at")?;
    Ok(SessionRecord {
        id: DB::text(row, "id")?.parse()?,
        user_id: DB::text(row, "user_id")?.parse()?,
        token_hash: TokenHash::from_slice(&hash).ok_or_else(|| Error::storage("bad token hash"))?,
        created_at,
        last_seen_at: time("last_seen_at")?,
        idle_expires_at: time("idle_expires_at")?,
        expires_at: time("expires_at")?,
        persistent: DB::bool(row, "persistent")?,
        ip_address: DB::opt_text(row, "ip_address")?,
        user_agent: DB::opt_text(row, "user_agent")?,
        last_ip_address: DB::opt_text(row, "last_ip_address")?,
        last_user_agent: DB::opt_text(row, "last_user_agent")?,
        revoked_at: opt_ts::<DB>(row, "revoked_at")?,
        // Rows from before the column existed proved it at sign-in.
        authenticated_at: opt_ts::<DB>(row, "authenticated_at")?.unwrap_or(created_at),
        confirmed_at: opt_ts::<DB>(row, "confirmed_at")?,
    })
}

/// A session row joined to its user (columns `u_*`).
fn authenticated_from_row<DB: Dialect>(row: &DB::Row) -> Result<Authenticated, Error> {
    Ok(Authenticated {
        session: session_from_row::<DB>(row)?,
        user: user_from_row::<DB>(row, "u_")?,
    })
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

pub(crate) use {session_columns, session_with_user};

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
