//! Passkey ceremonies in Redis: `pk:{hash}`, taken with `GETDEL` (single
//! use), expiring by itself.

use async_trait::async_trait;
use redis::AsyncCommands as _;
use time::OffsetDateTime;

use super::{hex, RedisStore};
use crate::{store::Ceremonies, token::TokenHash, Error};

#[async_trait]
#[async_trait]
impl Ceremonies for RedisStore {
    async fn put_ceremony(
        &self,
        key: &TokenHash,
        state: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), Error> {
        // The expiry goes in the value too: the engine's clock decides,
        // and Redis' own TTL only cleans up.
        let ttl = (expires_at - OffsetDateTime::now_utc())
            .whole_seconds()
            .max(1)
            + 60;
        let value = format!("{} {state}", expires_at.unix_timestamp());
        let ttl = u64::try_from(ttl).unwrap_or(1);
        let _: () = self
            .conn()
            .set_ex(self.key("pk", hex(key)), value, ttl)
            .await?;
        Ok(())
    }

    async fn take_ceremony(
        &self,
        key: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<String>, Error> {
        // GETDEL: of two concurrent takes, one gets the value.
        let value: Option<String> = redis::cmd("GETDEL")
            .arg(self.key("pk", hex(key)))
            .query_async(&mut self.conn())
            .await?;
        let Some((expires, state)) = value.as_deref().and_then(|v| v.split_once(' ')) else {
            return Ok(None);
        };
        let expires: i64 = expires.parse().map_err(Error::storage)?;
        Ok((expires > now.unix_timestamp()).then(|| state.to_owned()))
    }
}
