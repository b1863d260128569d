//! Sessions in Redis: the session hash, its token index, its user's set,
//! and the `due` set the purge reads; every multi-key change one script.

use std::collections::HashMap;

use async_trait::async_trait;
use redis::AsyncCommands as _;
use time::OffsetDateTime;

use super::{
    hex,
    record::{self, authenticated},
    scripts, ts, ttl_secs, RedisStore,
};
use crate::{
    id::{SessionId, UserId},
    record::{Authenticated, ClientInfo, SessionRecord},
    store::SessionStore,
    token::TokenHash,
    Error,
};

#[async_trait]
#[async_trait]
impl SessionStore for RedisStore {
    async fn insert_session(&self, s: &SessionRecord) -> Result<(), Error> {
        let user = self
            .users
            .find_user_by_id(s.user_id)
            .await?
            .ok_or_else(|| Error::storage("session for an unknown user"))?;
        let id = s.id.to_string();
        let ttl = ttl_secs(s.expires_at, s.created_at);
        let fields = record::fields(s, user);
        let due = s.revoked_at.unwrap_or(s.idle_expires_at.min(s.expires_at));
        let skey = self.key("s", &id);
        redis::pipe()
            .atomic()
            .hset_multiple(&skey, &fields)
            .ignore()
            .expire(&skey, ttl)
            .ignore()
            .set_ex(
                self.key("t", hex(&s.token_hash)),
                &id,
                u64::try_from(ttl).unwrap_or(u64::MAX),
            )
            .ignore()
            .sadd(self.key("u", s.user_id), &id)
            .ignore()
            .zadd(format!("{}due", self.prefix), &id, ts(due))
            .ignore()
            .query_async::<()>(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn find_session(&self, token_hash: &TokenHash) -> Result<Option<Authenticated>, Error> {
        let found: Option<(String, HashMap<String, String>)> = scripts::FIND
            .arg(&self.prefix)
            .arg(hex(token_hash))
            .invoke_async(&mut self.conn())
            .await?;
        match found {
            Some((id, fields)) if !fields.is_empty() => authenticated(&id, &fields).map(Some),
            _ => Ok(None),
        }
    }

    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
        seen_from: &ClientInfo,
    ) -> Result<(), Error> {
        let _: i64 = scripts::TOUCH
            .arg(&self.prefix)
            .arg(id.to_string())
            .arg(ts(last_seen_at))
            .arg(ts(idle_expires_at))
            .arg(seen_from.ip_address.as_deref().unwrap_or_default())
            .arg(seen_from.user_agent.as_deref().unwrap_or_default())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(())
    }

    async fn revoke_session(
        &self,
        user_id: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let owner: Option<String> = scripts::REVOKE
            .arg(&self.prefix)
            .arg(id.to_string())
            .arg(ts(at))
            .arg(user_id.to_string())
            .invoke_async(&mut self.conn())
            .await?;
        Ok(owner.is_some())
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<Vec<SessionId>, Error> {
        let ids: Vec<String> = scripts::REVOKE_USER
            .arg(&self.prefix)
            .arg(user_id.to_string())
            .arg(ts(at))
            .arg(keep.map(|k| k.to_string()).unwrap_or_default())
            .invoke_async(&mut self.conn())
            .await?;
        ids.iter().map(|id| id.parse()).collect()
    }

    async fn record_authentication(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let recorded: i64 = scripts::AUTHENTICATED
            .arg(&self.prefix)
            .arg(id.to_string())
            .arg(ts(at))
            .invoke_async(&mut self.conn())
            .await?;
        Ok(recorded == 1)
    }

    async fn list_user_sessions(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error> {
        let mut conn = self.conn();
        let ids: Vec<String> = conn.smembers(self.key("u", user_id)).await?;
        if ids.is_empty() {
            // An empty pipeline is an error in Redis, not an empty answer.
            return Ok(Vec::new());
        }
        let mut pipe = redis::pipe();
        for id in &ids {
            pipe.hgetall(self.key("s", id));
        }
        let rows: Vec<HashMap<String, String>> = pipe.query_async(&mut conn).await?;
        let mut sessions = Vec::new();
        let mut gone = Vec::new();
        for (id, fields) in ids.iter().zip(rows) {
            if fields.is_empty() {
                // Expired by its key's TTL before the purge saw it.
                gone.push(id);
                continue;
            }
            let s = authenticated(id, &fields)?.session;
            if s.revoked_at.is_none() && s.idle_expires_at > now && s.expires_at > now {
                sessions.push(s);
            }
        }
        if !gone.is_empty() {
            let _: i64 = conn.srem(self.key("u", user_id), gone).await?;
        }
        sessions.sort_by(|a, b| {
            (b.created_at, b.id.to_string()).cmp(&(a.created_at, a.id.to_string()))
        });
        Ok(sessions)
    }

    async fn find_session_by_id(&self, id: SessionId) -> Result<Option<Authenticated>, Error> {
        let fields: HashMap<String, String> = self.conn().hgetall(self.key("s", id)).await?;
        if fields.is_empty() {
            return Ok(None);
        }
        authenticated(&id.to_string(), &fields).map(Some)
    }

    async fn revoke_session_by_id(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<Option<UserId>, Error> {
        let owner: Option<String> = scripts::REVOKE
            .arg(&self.prefix)
            .arg(id.to_string())
            .arg(ts(at))
            .arg("")
            .invoke_async(&mut self.conn())
            .await?;
        owner.map(|o| o.parse()).transpose()
    }

    async fn revoked_since(&self, at: OffsetDateTime) -> Result<Vec<SessionId>, Error> {
        let ids: Vec<String> = self
            .conn()
            .zrangebyscore(self.key_of("revoked"), ts(at), "+inf")
            .await?;
        ids.iter().map(|id| id.parse()).collect()
    }
}
