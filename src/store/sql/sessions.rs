//! Sessions in SQL: one indexed lookup (by `token_hash`, joined to its
//! user) validates a request.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{from_ts, opt_ts, ts, user_from_row, Dialect, SqlStore, Value};
use crate::{
    id::{SessionId, UserId},
    record::{Authenticated, ClientInfo, SessionRecord},
    store::SessionStore,
    token::TokenHash,
    Error,
};

// Every column of `sessions` is named here, in the insert above the
// trait impl and in `session_from_row` below: a new column is one file.

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
            session_columns!(),
            ", u.id AS u_id, u.username AS u_username, u.display_name AS u_display_name, \
             u.created_at AS u_created_at FROM sessions s JOIN users u ON u.id = s.user_id"
        )
    };
}

#[async_trait]
impl<DB: Dialect> SessionStore for SqlStore<DB> {
    async fn insert_session(&self, s: &SessionRecord) -> Result<(), Error> {
        let (id, user_id) = (s.id.to_string(), s.user_id.to_string());
        self.execute(
            "INSERT INTO sessions (id, user_id, token_hash, created_at, last_seen_at, \
             idle_expires_at, expires_at, persistent, ip_address, user_agent, revoked_at, \
             authenticated_at, last_ip_address, last_user_agent, confirmed_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
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
                Value::Int(ts(s.authenticated_at)),
                Value::OptText(s.last_ip_address.as_deref()),
                Value::OptText(s.last_user_agent.as_deref()),
                Value::OptInt(s.confirmed_at.map(ts)),
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
        seen_from: &ClientInfo,
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2, \
             last_ip_address = COALESCE($3, last_ip_address), \
             last_user_agent = COALESCE($4, last_user_agent) \
             WHERE id = $5 AND revoked_at IS NULL",
            &[
                Value::Int(ts(last_seen_at)),
                Value::Int(ts(idle_expires_at)),
                Value::OptText(seen_from.ip_address.as_deref()),
                Value::OptText(seen_from.user_agent.as_deref()),
                Value::Text(&id.to_string()),
            ],
        )
        .await?;
        Ok(())
    }

    async fn record_authentication(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let recorded = self
            .execute(
                "UPDATE sessions SET authenticated_at = $1, confirmed_at = $1 \
                 WHERE id = $2 AND revoked_at IS NULL",
                &[Value::Int(ts(at)), Value::Text(&id.to_string())],
            )
            .await?;
        Ok(recorded > 0)
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
    ) -> Result<Vec<SessionId>, Error> {
        let keep = keep.map(|id| id.to_string());
        let rows = self
            .fetch_all(
                "UPDATE sessions SET revoked_at = $1 \
                 WHERE user_id = $2 AND revoked_at IS NULL \
                 AND (CAST($3 AS TEXT) IS NULL OR id <> $3) RETURNING id",
                &[
                    Value::Int(ts(at)),
                    Value::Text(&user_id.to_string()),
                    Value::OptText(keep.as_deref()),
                ],
            )
            .await?;
        rows.iter()
            .map(|row| DB::text(row, "id")?.parse())
            .collect()
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

    async fn revoked_since(&self, at: OffsetDateTime) -> Result<Vec<SessionId>, Error> {
        // Logged by the trigger on `sessions.revoked_at` (migration 0006).
        let rows = self
            .fetch_all(
                "SELECT session_id FROM session_revocations WHERE revoked_at >= $1",
                &[Value::Int(ts(at))],
            )
            .await?;
        rows.iter()
            .map(|row| DB::text(row, "session_id")?.parse())
            .collect()
    }
}

pub(super) fn session_from_row<DB: Dialect>(row: &DB::Row) -> Result<SessionRecord, Error> {
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
pub(super) fn authenticated_from_row<DB: Dialect>(row: &DB::Row) -> Result<Authenticated, Error> {
    Ok(Authenticated {
        session: session_from_row::<DB>(row)?,
        user: user_from_row::<DB>(row, "u_")?,
    })
}
