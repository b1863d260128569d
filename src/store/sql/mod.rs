//! The SQL store, shared by the SQLite and PostgreSQL backends.
//!
//! One generic [`SqlStore`] runs the same statements on either database: the
//! portable subset both engines accept (`$N` placeholders, times as Unix
//! seconds in `BIGINT`, ids as UUID text, token hashes as bytes,
//! `RETURNING`, and `CAST` rather than `::`). What differs per database is
//! only its driver's types, which [`Dialect`] names once.
//!
//! One indexed lookup (by `token_hash`, joined to its user) validates a
//! request.

mod dialect;

use async_trait::async_trait;
use sqlx::{pool::PoolConnection, Database, Pool};
use time::OffsetDateTime;

pub use self::dialect::{Dialect, RowsAffected, Value};
use super::{
    ExpiredDeletion, NewUser, Readiness, RefreshTokens, Rotation, SessionStore, UserStore,
};
use crate::{
    id::{SessionId, UserId},
    record::{AuthEvent, AuthEventKind, Authenticated, SessionRecord, UserSummary},
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
         s.expires_at, s.persistent, s.ip_address, s.user_agent, s.revoked_at"
    };
}

/// `SELECT` of a session joined to its user; see [`authenticated_from_row`].
macro_rules! session_with_user {
    () => {
        concat!(
            "SELECT ",
            session_columns!(),
            ", u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, \
             u.created_at AS u_created_at FROM sessions s JOIN users u ON u.id = s.user_id"
        )
    };
}

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
    Ok(SessionRecord {
        id: DB::text(row, "id")?.parse()?,
        user_id: DB::text(row, "user_id")?.parse()?,
        token_hash: TokenHash::from_slice(&hash).ok_or_else(|| Error::storage("bad token hash"))?,
        created_at: time("created_at")?,
        last_seen_at: time("last_seen_at")?,
        idle_expires_at: time("idle_expires_at")?,
        expires_at: time("expires_at")?,
        persistent: DB::bool(row, "persistent")?,
        ip_address: DB::opt_text(row, "ip_address")?,
        user_agent: DB::opt_text(row, "user_agent")?,
        revoked_at: opt_ts::<DB>(row, "revoked_at")?,
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

#[async_trait]
impl<DB: Dialect> UserStore for SqlStore<DB> {
    async fn create_user(&self, new: &NewUser) -> Result<(), Error> {
        let id = new.user.id.to_string();
        let res = DB::execute(
            &mut *self.conn().await?,
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                Value::Text(&id),
                Value::Text(&new.user.username),
                Value::Text(&new.user.display_name),
                Value::Text(&new.password_hash),
                Value::Int(ts(new.user.created_at)),
            ],
        )
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(err) if is_unique_violation(&err) => Err(Error::UsernameTaken),
            Err(err) => Err(err.into()),
        }
    }

    async fn find_user_by_username(
        &self,
        username: &str,
    ) -> Result<Option<(UserSummary, String)>, Error> {
        let row = self
            .fetch_optional(
                "SELECT id, username, display_name, created_at, password_hash \
                 FROM users WHERE username = $1",
                &[Value::Text(username)],
            )
            .await?;
        row.map(|row| {
            Ok((
                user_from_row::<DB>(&row, "")?,
                DB::text(&row, "password_hash")?,
            ))
        })
        .transpose()
    }

    async fn find_user_by_id(&self, id: UserId) -> Result<Option<UserSummary>, Error> {
        let row = self
            .fetch_optional(
                "SELECT id, username, display_name, created_at FROM users WHERE id = $1",
                &[Value::Text(&id.to_string())],
            )
            .await?;
        row.map(|row| user_from_row::<DB>(&row, "")).transpose()
    }

    async fn record_event(&self, user_id: Option<UserId>, event: &AuthEvent) -> Result<(), Error> {
        let user_id = user_id.map(|id| id.to_string());
        self.execute(
            "INSERT INTO auth_events \
             (user_id, kind, session_ref, ip_address, user_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Value::OptText(user_id.as_deref()),
                Value::Text(event.kind.as_str()),
                Value::OptText(event.session_ref.as_deref()),
                Value::OptText(event.ip_address.as_deref()),
                Value::OptText(event.user_agent.as_deref()),
                Value::Int(ts(event.created_at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_events(&self, user_id: UserId, limit: u32) -> Result<Vec<AuthEvent>, Error> {
        let rows = self
            .fetch_all(
                "SELECT kind, session_ref, ip_address, user_agent, created_at FROM auth_events \
                 WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
                &[
                    Value::Text(&user_id.to_string()),
                    Value::Int(i64::from(limit)),
                ],
            )
            .await?;
        rows.iter()
            // Kinds this build does not know (written by a newer one) are skipped.
            .filter_map(|row| Some((AuthEventKind::parse(&DB::text(row, "kind").ok()?)?, row)))
            .map(|(kind, row)| {
                Ok(AuthEvent {
                    kind,
                    session_ref: DB::opt_text(row, "session_ref")?,
                    ip_address: DB::opt_text(row, "ip_address")?,
                    user_agent: DB::opt_text(row, "user_agent")?,
                    created_at: from_ts(DB::int(row, "created_at")?)?,
                })
            })
            .collect()
    }
}

#[async_trait]
impl<DB: Dialect> SessionStore for SqlStore<DB> {
    async fn insert_session(&self, s: &SessionRecord) -> Result<(), Error> {
        let (id, user_id) = (s.id.to_string(), s.user_id.to_string());
        self.execute(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, \
             idle_expires_at, expires_at, persistent, ip_address, user_agent, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            &[
                Value::Text(&id),
                Value::Text(&user_id),
                Value::Bytes(s.token_hash.as_bytes()),
                Value::Int(ts(s.created_at)),
                Value::Int(ts(s.last_seen_at)),
                Value::Int(ts(s.idle_expires_at)),
                Value::Int(ts(s.expires_at)),
                Value::Bool(s.persistent),
                Value::OptText(s.ip_address.as_deref()),
                Value::OptText(s.user_agent.as_deref()),
                Value::OptInt(s.revoked_at.map(ts)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &TokenHash) -> Result<Option<Authenticated>, Error> {
        let row = self
            .fetch_optional(
                concat!(session_with_user!(), " WHERE s.token_hash = $1"),
                &[Value::Bytes(token_hash.as_bytes())],
            )
            .await?;
        row.as_ref().map(authenticated_from_row::<DB>).transpose()
    }

    async fn find_session_by_id(&self, id: SessionId) -> Result<Option<Authenticated>, Error> {
        let row = self
            .fetch_optional(
                concat!(session_with_user!(), " WHERE s.id = $1"),
                &[Value::Text(&id.to_string())],
            )
            .await?;
        row.as_ref().map(authenticated_from_row::<DB>).transpose()
    }

    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
            &[
                Value::Int(ts(last_seen_at)),
                Value::Int(ts(idle_expires_at)),
                Value::Text(&id.to_string()),
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_user_sessions(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error> {
        let rows = self
            .fetch_all(
                concat!(
                    "SELECT ",
                    session_columns!(),
                    " FROM sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL \
                     AND s.idle_expires_at > $2 AND s.expires_at > $2 \
                     ORDER BY s.created_at DESC, s.id DESC"
                ),
                &[Value::Text(&user_id.to_string()), Value::Int(ts(now))],
            )
            .await?;
        rows.iter().map(session_from_row::<DB>).collect()
    }

    async fn revoke_session(
        &self,
        user_id: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let revoked = self
            .execute(
                "UPDATE sessions SET revoked_at = $1 \
                 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                &[
                    Value::Int(ts(at)),
                    Value::Text(&id.to_string()),
                    Value::Text(&user_id.to_string()),
                ],
            )
            .await?;
        Ok(revoked > 0)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<u64, Error> {
        let keep = keep.map(|id| id.to_string());
        self.execute(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE user_id = $2 AND revoked_at IS NULL AND (CAST($3 AS TEXT) IS NULL OR id <> $3)",
            &[
                Value::Int(ts(at)),
                Value::Text(&user_id.to_string()),
                Value::OptText(keep.as_deref()),
            ],
        )
        .await
    }

    async fn revoke_session_by_id(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<Option<UserId>, Error> {
        let row = self
            .fetch_optional(
                "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
                 RETURNING user_id",
                &[Value::Int(ts(at)), Value::Text(&id.to_string())],
            )
            .await?;
        row.map(|row| DB::text(&row, "user_id")?.parse())
            .transpose()
    }
}

#[async_trait]
impl<DB: Dialect> RefreshTokens for SqlStore<DB> {
    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.execute(
            INSERT_REFRESH_TOKEN,
            &[
                Value::Text(&uuid::Uuid::now_v7().to_string()),
                Value::Text(&session_id.to_string()),
                Value::Bytes(token_hash.as_bytes()),
                Value::Int(ts(at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        now: OffsetDateTime,
        grace: time::Duration,
    ) -> Result<Rotation, Error> {
        // The conditional UPDATE is the lock. SQLite serialises writers;
        // PostgreSQL locks the row, and a concurrent UPDATE waits, then
        // re-checks `rotated_at IS NULL` and matches nothing. Either way
        // exactly one caller gets the row back. Writing first (not reading
        // first) also avoids SQLite's deadlock on upgrading a read
        // transaction to a write one. A token whose session has ended is not
        // rotated: nothing is written for it.
        let mut tx = self.pool.begin().await?;
        let rotated = DB::fetch_optional(
            &mut *tx,
            "UPDATE refresh_tokens SET rotated_at = $1 \
             WHERE token_hash = $2 AND rotated_at IS NULL AND session_id IN ( \
                 SELECT id FROM sessions \
                 WHERE revoked_at IS NULL AND idle_expires_at > $1 AND expires_at > $1) \
             RETURNING session_id",
            &[Value::Int(ts(now)), Value::Bytes(presented.as_bytes())],
        )
        .await?;
        if let Some(row) = rotated {
            let session_id = DB::text(&row, "session_id")?;
            DB::execute(
                &mut *tx,
                INSERT_REFRESH_TOKEN,
                &[
                    Value::Text(&uuid::Uuid::now_v7().to_string()),
                    Value::Text(&session_id),
                    Value::Bytes(successor.as_bytes()),
                    Value::Int(ts(now)),
                ],
            )
            .await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated(session_id.parse()?));
        }
        tx.rollback().await?;

        let row = self
            .fetch_optional(
                "SELECT session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1",
                &[Value::Bytes(presented.as_bytes())],
            )
            .await?;
        let Some(row) = row else {
            return Ok(Rotation::Unknown);
        };
        let session_id: SessionId = DB::text(&row, "session_id")?.parse()?;
        let rotated_at = opt_ts::<DB>(&row, "rotated_at")?;
        Ok(Rotation::for_presented_again(
            session_id, rotated_at, now, grace,
        ))
    }
}

#[async_trait]
impl<DB: Dialect> ExpiredDeletion for SqlStore<DB> {
    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error> {
        // Refresh tokens go with their session (`ON DELETE CASCADE`).
        self.execute(
            "DELETE FROM sessions \
             WHERE revoked_at IS NOT NULL OR idle_expires_at <= $1 OR expires_at <= $1",
            &[Value::Int(ts(now))],
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
