//! Refresh-token families in Redis: a token's hash, its session and when it
//! was rotated; rotation is one script, so exactly one caller rotates.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{hex, scripts, ts, RedisStore, KEY_GRACE_SECS};
use crate::{
    id::SessionId,
    store::{RefreshFamily, RefreshTokens, Rotation},
    token::TokenHash,
    Error,
};

#[async_trait]
#[async_trait]
impl RefreshTokens for RedisStore {
    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        let _: i64 = scripts::INSERT_REFRESH
            .arg(&self.prefix)
            .arg(session_id.to_string())
            .arg(hex(token_hash))
            .arg(ts(at))
            .arg(KEY_GRACE_SECS)
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn refresh_token_session(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshFamily>, Error> {
        let (sid, rotated): (Option<String>, Option<String>) = redis::cmd("HMGET")
            .arg(self.key("r", hex(token_hash)))
            .arg("session")
            .arg("rotated_at")
            .query_async(&mut self.conn())
            .await?;
        sid.map(|sid| {
            Ok(RefreshFamily {
                session: sid.parse()?,
                current: rotated.is_none(),
            })
        })
        .transpose()
    }

    async fn bind_key(
        &self,
        session: SessionId,
        key: Option<&str>,
    ) -> Result<Option<String>, Error> {
        let bound: Option<String> = scripts::BIND_KEY
            .arg(&self.prefix)
            .arg(session.to_string())
            .arg(key.unwrap_or_default())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(bound)
    }

    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        session: SessionId,
        now: OffsetDateTime,
        grace: time::Duration,
    ) -> Result<Rotation, Error> {
        let reply: Vec<String> = scripts::ROTATE
            .arg(&self.prefix)
            .arg(hex(presented))
            .arg(hex(successor))
            .arg(ts(now))
            .arg(session.to_string())
            .invoke_async(&mut self.conn())
            .await?;
        let id = |i: usize| -> Result<SessionId, Error> {
            reply
                .get(i)
                .ok_or_else(|| Error::storage("short reply"))?
                .parse()
        };
        Ok(match reply.first().map(String::as_str) {
            Some("ok") => Rotation::Rotated(id(1)?),
            // Not rotated: the engine then finds the session ended.
            Some("dead") => Rotation::for_presented_again(id(1)?, None, now, grace),
            Some("rotated") => {
                let when = reply
                    .get(2)
                    .and_then(|w| w.parse().ok())
                    .and_then(|w| OffsetDateTime::from_unix_timestamp(w).ok());
                Rotation::for_presented_again(id(1)?, when, now, grace)
            }
            _ => Rotation::Unknown,
        })
    }
}
