// The SQL store, shared by the SQLite and PostgreSQL backends.
//
// Not a module: `sqlite.rs` and `postgres.rs` each `include!` it after
// defining `Store` (the backend's struct, with a `pool` field) and `DbRow`
// (its row type). The SQL is the portable subset both engines run:
// `$N` placeholders, times as Unix seconds (BIGINT), ids as UUID strings,
// token hashes as bytes, `RETURNING`, and `CAST` rather than `::`.
//
// One indexed lookup (by `token_hash`, joined to its user) validates a
// request.

use async_trait::async_trait;
use sqlx::Row as _;
use time::OffsetDateTime;

use super::{NewUser, Rotation, SessionStore, UserStore};
use crate::{
    id::{SessionId, UserId},
    record::{AuthEvent, AuthEventKind, Authenticated, SessionRecord, UserSummary},
    token::TokenHash,
    Error,
};

/// The session columns, as a macro so queries stay `&'static str` literals
/// (sqlx refuses runtime-built SQL).
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

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn from_ts(secs: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp(secs).map_err(Error::storage)
}

fn session_from_row(row: &DbRow) -> Result<SessionRecord, Error> {
    let hash: Vec<u8> = row.try_get("token_hash")?;
    Ok(SessionRecord {
        id: row.try_get::<String, _>("id")?.parse()?,
        user_id: row.try_get::<String, _>("user_id")?.parse()?,
        token_hash: TokenHash::from_slice(&hash).ok_or_else(|| Error::storage("bad token hash"))?,
        created_at: from_ts(row.try_get("created_at")?)?,
        last_seen_at: from_ts(row.try_get("last_seen_at")?)?,
        idle_expires_at: from_ts(row.try_get("idle_expires_at")?)?,
        expires_at: from_ts(row.try_get("expires_at")?)?,
        persistent: row.try_get("persistent")?,
        ip_address: row.try_get("ip_address")?,
        user_agent: row.try_get("user_agent")?,
        revoked_at: row
            .try_get::<Option<i64>, _>("revoked_at")?
            .map(from_ts)
            .transpose()?,
    })
}

/// A session row joined to its user (columns `u_*`).
fn authenticated_from_row(row: &DbRow) -> Result<Authenticated, Error> {
    Ok(Authenticated {
        session: session_from_row(row)?,
        user: user_from_row(row, "u_")?,
    })
}

fn user_from_row(row: &DbRow, prefix: &str) -> Result<UserSummary, Error> {
    let col = |name: &str| format!("{prefix}{name}");
    Ok(UserSummary {
        id: row.try_get::<String, _>(col("id").as_str())?.parse()?,
        username: row.try_get(col("username").as_str())?,
        display_name: row.try_get(col("display_name").as_str())?,
        created_at: from_ts(row.try_get(col("created_at").as_str())?)?,
    })
}

fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.is_unique_violation())
}

#[async_trait]
impl UserStore for Store {
    async fn create_user(&self, new: &NewUser) -> Result<(), Error> {
        let res = sqlx::query(
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(new.user.id.to_string())
        .bind(&new.user.username)
        .bind(&new.user.display_name)
        .bind(&new.password_hash)
        .bind(ts(new.user.created_at))
        .execute(&self.pool)
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
        let row = sqlx::query(
            "SELECT id, username, display_name, created_at, password_hash \
             FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| Ok((user_from_row(&row, "")?, row.try_get("password_hash")?)))
            .transpose()
    }

    async fn find_user_by_id(&self, id: UserId) -> Result<Option<UserSummary>, Error> {
        let row = sqlx::query("SELECT id, username, display_name, created_at FROM users WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| user_from_row(&row, "")).transpose()
    }

    async fn record_event(&self, user_id: Option<UserId>, event: &AuthEvent) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO auth_events (user_id, kind, session_ref, ip_address, user_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(user_id.map(|id| id.to_string()))
        .bind(event.kind.as_str())
        .bind(&event.session_ref)
        .bind(&event.ip_address)
        .bind(&event.user_agent)
        .bind(ts(event.created_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn list_events(&self, user_id: UserId, limit: u32) -> Result<Vec<AuthEvent>, Error> {
        let rows = sqlx::query(
            "SELECT kind, session_ref, ip_address, user_agent, created_at FROM auth_events \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
        )
        .bind(user_id.to_string())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .filter_map(|row| {
                let kind: String = row.try_get("kind").ok()?;
                let kind = AuthEventKind::parse(&kind)?;
                Some((kind, row))
            })
            .map(|(kind, row)| {
                Ok(AuthEvent {
                    kind,
                    session_ref: row.try_get("session_ref")?,
                    ip_address: row.try_get("ip_address")?,
                    user_agent: row.try_get("user_agent")?,
                    created_at: from_ts(row.try_get("created_at")?)?,
                })
            })
            .collect()
    }

    async fn ping(&self) -> Result<(), Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

#[async_trait]
impl SessionStore for Store {
    async fn insert_session(&self, s: &SessionRecord) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, \
             idle_expires_at, expires_at, persistent, ip_address, user_agent, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(s.id.to_string())
        .bind(s.user_id.to_string())
        .bind(&s.token_hash.as_bytes()[..])
        .bind(ts(s.created_at))
        .bind(ts(s.last_seen_at))
        .bind(ts(s.idle_expires_at))
        .bind(ts(s.expires_at))
        .bind(s.persistent)
        .bind(&s.ip_address)
        .bind(&s.user_agent)
        .bind(s.revoked_at.map(ts))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &TokenHash) -> Result<Option<Authenticated>, Error> {
        let row = sqlx::query(concat!(session_with_user!(), " WHERE s.token_hash = $1"))
            .bind(&token_hash.as_bytes()[..])
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(authenticated_from_row).transpose()
    }

    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
    ) -> Result<(), Error> {
        sqlx::query(
            "UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(last_seen_at))
        .bind(ts(idle_expires_at))
        .bind(id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn revoke_session(
        &self,
        user_id: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let res = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
        )
        .bind(ts(at))
        .bind(id.to_string())
        .bind(user_id.to_string())
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected() > 0)
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<u64, Error> {
        let res = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE user_id = $2 AND revoked_at IS NULL AND (CAST($3 AS TEXT) IS NULL OR id <> $3)",
        )
        .bind(ts(at))
        .bind(user_id.to_string())
        .bind(keep.map(|id| id.to_string()))
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }

    async fn list_user_sessions(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error> {
        let rows = sqlx::query(concat!(
            "SELECT ",
            session_columns!(),
            " FROM sessions s WHERE s.user_id = $1 AND s.revoked_at IS NULL \
             AND s.idle_expires_at > $2 AND s.expires_at > $3 \
             ORDER BY s.created_at DESC, s.id DESC"
        ))
        .bind(user_id.to_string())
        .bind(ts(now))
        .bind(ts(now))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(session_from_row).collect()
    }

    async fn find_session_by_id(&self, id: SessionId) -> Result<Option<Authenticated>, Error> {
        let row = sqlx::query(concat!(session_with_user!(), " WHERE s.id = $1"))
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(authenticated_from_row).transpose()
    }

    async fn revoke_session_by_id(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<Option<UserId>, Error> {
        let user: Option<String> = sqlx::query_scalar(
            "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL \
             RETURNING user_id",
        )
        .bind(ts(at))
        .bind(id.to_string())
        .fetch_optional(&self.pool)
        .await?;
        user.map(|u| u.parse()).transpose()
    }

    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        sqlx::query(
            "INSERT INTO refresh_tokens (id, session_id, token_hash, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(session_id.to_string())
        .bind(&token_hash.as_bytes()[..])
        .bind(ts(at))
        .execute(&self.pool)
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
        let rotated: Option<String> = sqlx::query_scalar(
            "UPDATE refresh_tokens SET rotated_at = $1 \
             WHERE token_hash = $2 AND rotated_at IS NULL AND session_id IN ( \
                 SELECT id FROM sessions \
                 WHERE revoked_at IS NULL AND idle_expires_at > $1 AND expires_at > $1) \
             RETURNING session_id",
        )
        .bind(ts(now))
        .bind(&presented.as_bytes()[..])
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(session_id) = rotated {
            sqlx::query(
                "INSERT INTO refresh_tokens (id, session_id, token_hash, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(uuid::Uuid::now_v7().to_string())
            .bind(&session_id)
            .bind(&successor.as_bytes()[..])
            .bind(ts(now))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            return Ok(Rotation::Rotated(session_id.parse()?));
        }
        tx.rollback().await?;

        let row =
            sqlx::query("SELECT session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1")
                .bind(&presented.as_bytes()[..])
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else {
            return Ok(Rotation::Unknown);
        };
        let session_id: SessionId = row.try_get::<String, _>("session_id")?.parse()?;
        let rotated_at = row
            .try_get::<Option<i64>, _>("rotated_at")?
            .map(from_ts)
            .transpose()?;
        Ok(Rotation::for_presented_again(
            session_id, rotated_at, now, grace,
        ))
    }

    async fn ping(&self) -> Result<(), Error> {
        UserStore::ping(self).await
    }

    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error> {
        let res = sqlx::query(
            "DELETE FROM sessions \
             WHERE revoked_at IS NOT NULL OR idle_expires_at <= $1 OR expires_at <= $2",
        )
        .bind(ts(now))
        .bind(ts(now))
        .execute(&self.pool)
        .await?;
        Ok(res.rows_affected())
    }
}
