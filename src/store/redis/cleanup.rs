//! The cleanup task's deletions in Redis, in batches so Redis is never
//! blocked for long.

use async_trait::async_trait;
use redis::AsyncCommands as _;
use redis::Script;
use time::OffsetDateTime;

use super::{scripts, ts, RedisStore};
use crate::{store::ExpiredDeletion, Error};

#[async_trait]
#[async_trait]
impl ExpiredDeletion for RedisStore {
    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error> {
        let cutoff = ts(now - crate::deny_list::RETAIN);
        let _: u64 = self
            .conn()
            .zrembyscore(self.key_of("revoked"), "-inf", format!("({cutoff}"))
            .await?;
        self.purge_in_batches(&scripts::PURGE, now).await
    }

    async fn delete_rotated_before(&self, at: OffsetDateTime) -> Result<u64, Error> {
        self.purge_in_batches(&scripts::PURGE_ROTATED, at).await
    }
}

impl RedisStore {
    /// Runs a purge script (at most 500 deletions a call, so Redis is never
    /// blocked for long) until it has nothing left before `at`.
    async fn purge_in_batches(&self, script: &Script, at: OffsetDateTime) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let n: u64 = script
                .arg(&self.prefix)
                .arg(ts(at))
                .invoke_async(&mut self.conn())
                .await?;
            total += n;
            if n < 500 {
                return Ok(total);
            }
        }
    }
}
