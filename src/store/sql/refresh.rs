//! Refresh-token families in SQL, rotated with one conditional `UPDATE`.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{opt_ts, ts, Dialect, SqlStore, Value};
use crate::{
    id::SessionId,
    store::{RefreshFamily, RefreshTokens, Rotation},
    token::TokenHash,
    Error,
};

#[async_trait]
impl<DB: Dialect> RefreshTokens for SqlStore<DB> {
    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.execute(
            super::INSERT_REFRESH_TOKEN,
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

    async fn refresh_token_session(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshFamily>, Error> {
        let row = self
            .fetch_optional(
                "SELECT session_id, rotated_at FROM refresh_tokens WHERE token_hash = $1",
                &[Value::Bytes(token_hash.as_bytes())],
            )
            .await?;
        row.map(|row| {
            Ok(RefreshFamily {
                session: DB::text(&row, "session_id")?.parse()?,
                current: opt_ts::<DB>(&row, "rotated_at")?.is_none(),
            })
        })
        .transpose()
    }

    async fn bind_key(
        &self,
        session: SessionId,
        key: Option<&str>,
    ) -> Result<Option<String>, Error> {
        let id = session.to_string();
        let bound = || async {
            let row = self
                .fetch_optional(
                    "SELECT dpop_jkt FROM sessions WHERE id = $1",
                    &[Value::Text(&id)],
                )
                .await?;
            Ok::<_, Error>(match row {
                Some(row) => DB::opt_text(&row, "dpop_jkt")?,
                None => None,
            })
        };
        // Bound already (every refresh after the first), or nothing to
        // bind: one read, no write.
        let current = bound().await?;
        let (Some(key), None) = (key, &current) else {
            return Ok(current);
        };
        // Conditional: of racing first binds, one wins; all read it back.
        self.execute(
            "UPDATE sessions SET dpop_jkt = $1 WHERE id = $2 AND dpop_jkt IS NULL",
            &[Value::Text(key), Value::Text(&id)],
        )
        .await?;
        bound().await
    }

    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        session: SessionId,
        now: OffsetDateTime,
        grace: time::Duration,
    ) -> Result<Rotation, Error> {
        // The conditional UPDATE is the lock. SQLite serialises writers;
        // PostgreSQL locks the row, and a concurrent UPDATE waits, then
        // re-checks `rotated_at IS NULL` and matches nothing. Either way
        // exactly one caller gets the row back. Writing first (not reading
        // first) also avoids SQLite's deadlock on upgrading a read
        // transaction to a write one. A token whose session has ended, or
        // that came with another session's cookie, is not rotated: nothing is
        // written for it.
        let mut tx = self.pool.begin().await?;
        let rotated = DB::fetch_optional(
            &mut *tx,
            "UPDATE refresh_tokens SET rotated_at = $1 \
             WHERE token_hash = $2 AND rotated_at IS NULL AND session_id = $3 AND EXISTS ( \
                 SELECT 1 FROM sessions WHERE id = $3 \
                 AND revoked_at IS NULL AND idle_expires_at > $1 AND expires_at > $1) \
             RETURNING session_id",
            &[
                Value::Int(ts(now)),
                Value::Bytes(presented.as_bytes()),
                Value::Text(&session.to_string()),
            ],
        )
        .await?;
        if let Some(row) = rotated {
            let session_id = DB::text(&row, "session_id")?;
            DB::execute(
                &mut *tx,
                super::INSERT_REFRESH_TOKEN,
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
                "SELECT session_id, rotated_at FROM refresh_tokens \
                 WHERE token_hash = $1 AND session_id = $2",
                &[
                    Value::Bytes(presented.as_bytes()),
                    Value::Text(&session.to_string()),
                ],
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
