//! Shared rate-limit counters in Redis: `c:{key}`, counted by one script.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{scripts, RedisStore};
use crate::{
    store::{from_unix_ms, unix_ms, window_ms, RateCounters, Window},
    Error,
};

#[async_trait]
#[async_trait]
impl RateCounters for RedisStore {
    async fn count(
        &self,
        key: &str,
        window: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Window, Error> {
        let (count, ends): (u64, i64) = scripts::COUNT
            .key(self.key("c", key))
            .arg(unix_ms(now))
            .arg(window_ms(window))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(Window {
            count,
            ends_at: from_unix_ms(ends)?,
        })
    }

    async fn peek(&self, key: &str, now: OffsetDateTime) -> Result<Option<Window>, Error> {
        let (count, ends): (Option<u64>, Option<i64>) = redis::cmd("HMGET")
            .arg(self.key("c", key))
            .arg("n")
            .arg("e")
            .query_async(&mut self.conn())
            .await?;
        match (count, ends) {
            (Some(count), Some(ends)) if ends > unix_ms(now) => Ok(Some(Window {
                count,
                ends_at: from_unix_ms(ends)?,
            })),
            _ => Ok(None),
        }
    }
}
