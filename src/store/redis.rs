//! Redis backend for [`SessionStore`], [`RefreshTokens`], [`ExpiredDeletion`],
//! [`Readiness`] and [`RateCounters`]: sessions, refresh tokens and the
//! shared rate-limit counters in Redis, accounts and the event log still
//! in SQL.
//!
//! Keys, under a prefix (`ls:` by default):
//!
//! | key | type | holds |
//! |---|---|---|
//! | `s:{id}` | hash | the session, plus a copy of its user's summary (one read validates a request) |
//! | `t:{token hash}` | string | the session id for a token |
//! | `u:{user id}` | set | the user's session ids ("sign out everywhere", the session list) |
//! | `due` | sorted set | session ids by when they stop being valid (idle or absolute expiry, revocation) |
//! | `r:{refresh hash}` | hash | a refresh token: its session, and when it was rotated |
//! | `sr:{id}` | set | a session's refresh token hashes |
//! | `rotated` | sorted set | rotated refresh token hashes by when they were rotated (for their retention) |
//! | `revoked` | sorted set | the revocation log: session ids by when they were revoked, kept for [`crate::deny_list::RETAIN`] |
//! | `revocations` | pub/sub channel | each revoked session's id, published by the revoking script ([`super::redis_pubsub`]) |
//! | `c:{key}` | hash | a rate-limit counter: its count and when its window ends |
//! | `pk:{key hash}` | string | a passkey ceremony: its expiry (Unix seconds), a space, its state; Redis expires it too |
//!
//! Session, token and refresh keys expire an hour after the session's
//! absolute expiry, so Redis cleans up even without the purge task; the
//! purge task (`delete_expired`) removes idle-expired and revoked sessions
//! at once, using `due`. Every multi-key change is one Lua script, so it is
//! atomic: in particular a refresh token is rotated exactly once however
//! many instances race on it. (Scripts build key names from the prefix, so
//! this store expects a single Redis, not a cluster.)

use std::collections::HashMap;

use async_trait::async_trait;
use redis::{aio::ConnectionManager, AsyncCommands as _, Script};
use time::OffsetDateTime;

use super::{
    from_unix_ms, unix_ms, window_ms, Ceremonies, ExpiredDeletion, RateCounters, Readiness,
    RefreshFamily, RefreshTokens, Rotation, SessionStore, UserStore, Window,
};
use crate::{
    id::{SessionId, UserId},
    record::{Authenticated, ClientInfo, SessionRecord, UserSummary},
    token::TokenHash,
    Error,
};

/// Sessions and refresh tokens in Redis.
#[derive(Clone)]
pub struct RedisStore {
    conn: ConnectionManager,
    users: std::sync::Arc<dyn UserStore>,
    prefix: String,
}

impl std::fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisStore")
            .field("prefix", &self.prefix)
            .finish()
    }
}

/// Extra lifetime of keys past the session's absolute expiry.
const KEY_GRACE_SECS: i64 = 3600;

impl RedisStore {
    /// A store on `conn`, reading user summaries from `users`, with every
    /// key under `prefix`.
    #[must_use]
    pub fn new(
        conn: ConnectionManager,
        users: std::sync::Arc<dyn UserStore>,
        prefix: &str,
    ) -> Self {
        Self {
            conn,
            users,
            prefix: prefix.to_owned(),
        }
    }

    /// Connects to `url` with a connection that reconnects by itself, and
    /// fails a command after `timeout` instead of hanging while Redis is
    /// away.
    ///
    /// # Errors
    /// A malformed URL, or Redis unreachable at start-up.
    pub async fn connect(
        url: &str,
        timeout: std::time::Duration,
    ) -> Result<ConnectionManager, Error> {
        let client = redis::Client::open(url).map_err(Error::storage)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(timeout))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(std::time::Duration::from_secs(1));
        ConnectionManager::new_with_config(client, config)
            .await
            .map_err(Error::storage)
    }

    fn key(&self, kind: &str, id: impl std::fmt::Display) -> String {
        format!("{}{kind}:{id}", self.prefix)
    }

    /// A key of its own under the prefix (`revoked`, `due`).
    fn key_of(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    fn conn(&self) -> ConnectionManager {
        self.conn.clone()
    }
}

impl From<redis::RedisError> for Error {
    fn from(err: redis::RedisError) -> Self {
        Error::storage(err)
    }
}

fn hex(hash: &TokenHash) -> String {
    hash.as_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<TokenHash> {
    let bytes: Option<Vec<u8>> = (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|b| u8::from_str_radix(b, 16).ok()))
        .collect();
    TokenHash::from_slice(&bytes?)
}

fn ts(t: OffsetDateTime) -> i64 {
    t.unix_timestamp()
}

fn ttl_secs(expires_at: OffsetDateTime, now: OffsetDateTime) -> i64 {
    (ts(expires_at) - ts(now)).max(0) + KEY_GRACE_SECS
}

/// Parses the `s:{id}` hash (returned flat as field, value, …).
fn authenticated(id: &str, fields: &HashMap<String, String>) -> Result<Authenticated, Error> {
    let get = |name: &str| {
        fields
            .get(name)
            .ok_or_else(|| Error::storage(format!("session field {name} missing")))
    };
    let time = |name: &str| -> Result<OffsetDateTime, Error> {
        let secs: i64 = get(name)?.parse().map_err(Error::storage)?;
        OffsetDateTime::from_unix_timestamp(secs).map_err(Error::storage)
    };
    let user_id: UserId = get("user_id")?.parse()?;
    let created_at = time("created_at")?;
    let session = SessionRecord {
        id: id.parse()?,
        user_id,
        token_hash: unhex(get("token_hash")?).ok_or_else(|| Error::storage("bad token hash"))?,
        created_at,
        last_seen_at: time("last_seen_at")?,
        idle_expires_at: time("idle_expires_at")?,
        expires_at: time("expires_at")?,
        persistent: get("persistent")? == "1",
        ip_address: fields.get("ip").cloned(),
        user_agent: fields.get("ua").cloned(),
        last_ip_address: fields.get("lip").cloned(),
        last_user_agent: fields.get("lua").cloned(),
        revoked_at: fields
            .get("revoked_at")
            .map(|_| time("revoked_at"))
            .transpose()?,
        // Sessions stored before the field existed proved it at sign-in.
        authenticated_at: fields
            .get("auth_at")
            .map(|_| time("auth_at"))
            .transpose()?
            .unwrap_or(created_at),
        confirmed_at: fields.get("conf_at").map(|_| time("conf_at")).transpose()?,
    };
    let user = UserSummary {
        id: user_id,
        username: get("u_username")?.clone(),
        display_name: get("u_display_name")?.clone(),
        created_at: time("u_created_at")?,
    };
    Ok(Authenticated { session, user })
}

/// `GET t:{hash}` then `HGETALL s:{id}`, in one round trip.
const FIND: &str = r"
local id = redis.call('GET', ARGV[1] .. 't:' .. ARGV[2])
if not id then return false end
return {id, redis.call('HGETALL', ARGV[1] .. 's:' .. id)}
";

/// Slides activity on a live session and records where it was seen from
/// (ARGV[5] address, ARGV[6] agent; empty keeps the previous); keeps `due`
/// in step.
const TOUCH: &str = r"
local key = ARGV[1] .. 's:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'revoked_at') == 1 then
  return 0
end
redis.call('HSET', key, 'last_seen_at', ARGV[3], 'idle_expires_at', ARGV[4])
if ARGV[5] ~= '' then redis.call('HSET', key, 'lip', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', key, 'lua', ARGV[6]) end
local abs = tonumber(redis.call('HGET', key, 'expires_at'))
redis.call('ZADD', ARGV[1] .. 'due', math.min(tonumber(ARGV[4]), abs), ARGV[2])
return 1
";

/// Sets `auth_at` of live session ARGV[2] to ARGV[3]; 1 if it did.
const AUTHENTICATED: &str = r"
local key = ARGV[1] .. 's:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 or redis.call('HEXISTS', key, 'revoked_at') == 1 then
  return 0
end
redis.call('HSET', key, 'auth_at', ARGV[3], 'conf_at', ARGV[3])
return 1
";

/// Revokes session ARGV[2] if active and (when ARGV[4] is set) owned by
/// ARGV[4], logs and announces it; returns its owner, or false.
const REVOKE: &str = r"
local key = ARGV[1] .. 's:' .. ARGV[2]
local owner = redis.call('HGET', key, 'user_id')
if not owner or redis.call('HEXISTS', key, 'revoked_at') == 1 then return false end
if ARGV[4] ~= '' and owner ~= ARGV[4] then return false end
redis.call('HSET', key, 'revoked_at', ARGV[3])
redis.call('ZADD', ARGV[1] .. 'due', tonumber(ARGV[3]), ARGV[2])
redis.call('ZADD', ARGV[1] .. 'revoked', tonumber(ARGV[3]), ARGV[2])
redis.call('PUBLISH', ARGV[1] .. 'revocations', ARGV[2])
return owner
";

/// Revokes every active session of user ARGV[2] except ARGV[4], logs and
/// announces each; returns their ids.
const REVOKE_USER: &str = r"
local revoked = {}
local index = ARGV[1] .. 'u:' .. ARGV[2]
for _, id in ipairs(redis.call('SMEMBERS', index)) do
  local key = ARGV[1] .. 's:' .. id
  if redis.call('EXISTS', key) == 0 then
    -- Expired by its key's TTL before the purge saw it: drop the entry.
    redis.call('SREM', index, id)
  elseif id ~= ARGV[4] and redis.call('HEXISTS', key, 'revoked_at') == 0 then
    redis.call('HSET', key, 'revoked_at', ARGV[3])
    redis.call('ZADD', ARGV[1] .. 'due', tonumber(ARGV[3]), id)
    redis.call('ZADD', ARGV[1] .. 'revoked', tonumber(ARGV[3]), id)
    redis.call('PUBLISH', ARGV[1] .. 'revocations', id)
    table.insert(revoked, id)
  end
end
return revoked
";

/// Stores refresh token ARGV[3] for session ARGV[2], expiring with it.
const INSERT_REFRESH: &str = r"
local skey = ARGV[1] .. 's:' .. ARGV[2]
local ttl = redis.call('TTL', skey)
if ttl < 0 then ttl = tonumber(ARGV[5]) end
local rkey = ARGV[1] .. 'r:' .. ARGV[3]
redis.call('HSET', rkey, 'session', ARGV[2], 'created_at', ARGV[4])
redis.call('EXPIRE', rkey, ttl)
redis.call('SADD', ARGV[1] .. 'sr:' .. ARGV[2], ARGV[3])
redis.call('EXPIRE', ARGV[1] .. 'sr:' .. ARGV[2], ttl)
return 1
";

/// The DPoP key of session ARGV[2], set to ARGV[3] first if it has none and
/// ARGV[3] is not empty; nil for an unbound or unknown session.
const BIND_KEY: &str = r"
local key = ARGV[1] .. 's:' .. ARGV[2]
if redis.call('EXISTS', key) == 0 then return false end
if ARGV[3] ~= '' then redis.call('HSETNX', key, 'dpop_jkt', ARGV[3]) end
return redis.call('HGET', key, 'dpop_jkt')
";

/// Rotates refresh token ARGV[2] into ARGV[3] at time ARGV[4], only if it
/// belongs to session ARGV[5], is current and its session alive. Returns
/// {'ok', id}, {'rotated', id, when}, {'dead', id} or {'unknown'}.
const ROTATE: &str = r"
local rkey = ARGV[1] .. 'r:' .. ARGV[2]
local sid = redis.call('HGET', rkey, 'session')
if not sid or sid ~= ARGV[5] then return {'unknown'} end
local rotated = redis.call('HGET', rkey, 'rotated_at')
if rotated then return {'rotated', sid, rotated} end
local now = tonumber(ARGV[4])
local s = redis.call('HMGET', ARGV[1] .. 's:' .. sid, 'revoked_at', 'idle_expires_at', 'expires_at')
if s[1] or not s[2] or tonumber(s[2]) <= now or tonumber(s[3]) <= now then
  return {'dead', sid}
end
redis.call('HSET', rkey, 'rotated_at', ARGV[4])
redis.call('ZADD', ARGV[1] .. 'rotated', now, ARGV[2])
local nkey = ARGV[1] .. 'r:' .. ARGV[3]
redis.call('HSET', nkey, 'session', sid, 'created_at', ARGV[4])
local ttl = redis.call('TTL', rkey)
if ttl > 0 then redis.call('EXPIRE', nkey, ttl) end
redis.call('SADD', ARGV[1] .. 'sr:' .. sid, ARGV[3])
return {'ok', sid}
";

/// Deletes up to 500 sessions due by ARGV[2], with their index entries and
/// refresh tokens; returns how many.
const PURGE: &str = r"
local p = ARGV[1]
local ids = redis.call('ZRANGEBYSCORE', p .. 'due', '-inf', ARGV[2], 'LIMIT', 0, 500)
for _, id in ipairs(ids) do
  local key = p .. 's:' .. id
  local f = redis.call('HMGET', key, 'token_hash', 'user_id')
  if f[1] then redis.call('DEL', p .. 't:' .. f[1]) end
  if f[2] then redis.call('SREM', p .. 'u:' .. f[2], id) end
  for _, r in ipairs(redis.call('SMEMBERS', p .. 'sr:' .. id)) do
    redis.call('DEL', p .. 'r:' .. r)
    redis.call('ZREM', p .. 'rotated', r)
  end
  redis.call('DEL', key, p .. 'sr:' .. id)
  redis.call('ZREM', p .. 'due', id)
end
return #ids
";

/// Deletes up to 500 refresh tokens rotated before ARGV[2], with their
/// entries in their session's set; returns how many.
const PURGE_ROTATED: &str = r"
local p = ARGV[1]
local hashes = redis.call('ZRANGEBYSCORE', p .. 'rotated', '-inf', '(' .. ARGV[2], 'LIMIT', 0, 500)
for _, h in ipairs(hashes) do
  local sid = redis.call('HGET', p .. 'r:' .. h, 'session')
  if sid then redis.call('SREM', p .. 'sr:' .. sid, h) end
  redis.call('DEL', p .. 'r:' .. h)
  redis.call('ZREM', p .. 'rotated', h)
end
return #hashes
";

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
        let mut fields: Vec<(&str, String)> = vec![
            ("user_id", s.user_id.to_string()),
            ("token_hash", hex(&s.token_hash)),
            ("created_at", ts(s.created_at).to_string()),
            ("last_seen_at", ts(s.last_seen_at).to_string()),
            ("idle_expires_at", ts(s.idle_expires_at).to_string()),
            ("expires_at", ts(s.expires_at).to_string()),
            (
                "persistent",
                if s.persistent { "1" } else { "0" }.to_owned(),
            ),
            ("u_username", user.username),
            ("u_display_name", user.display_name),
            ("u_created_at", ts(user.created_at).to_string()),
            ("auth_at", ts(s.authenticated_at).to_string()),
        ];
        if let Some(ip) = &s.ip_address {
            fields.push(("ip", ip.clone()));
        }
        if let Some(ua) = &s.user_agent {
            fields.push(("ua", ua.clone()));
        }
        if let Some(ip) = &s.last_ip_address {
            fields.push(("lip", ip.clone()));
        }
        if let Some(ua) = &s.last_user_agent {
            fields.push(("lua", ua.clone()));
        }
        if let Some(at) = s.revoked_at {
            fields.push(("revoked_at", ts(at).to_string()));
        }
        if let Some(at) = s.confirmed_at {
            fields.push(("conf_at", ts(at).to_string()));
        }
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
        let found: Option<(String, HashMap<String, String>)> = Script::new(FIND)
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
        let _: i64 = Script::new(TOUCH)
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
        let owner: Option<String> = Script::new(REVOKE)
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
        let ids: Vec<String> = Script::new(REVOKE_USER)
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
        let recorded: i64 = Script::new(AUTHENTICATED)
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
        let owner: Option<String> = Script::new(REVOKE)
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

#[async_trait]
impl RefreshTokens for RedisStore {
    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        let _: i64 = Script::new(INSERT_REFRESH)
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
        let bound: Option<String> = Script::new(BIND_KEY)
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
        let reply: Vec<String> = Script::new(ROTATE)
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

#[async_trait]
impl Readiness for RedisStore {
    async fn ping(&self) -> Result<(), Error> {
        let _: String = redis::cmd("PING").query_async(&mut self.conn()).await?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for RedisStore {
    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error> {
        let cutoff = ts(now - crate::deny_list::RETAIN);
        let _: u64 = self
            .conn()
            .zrembyscore(self.key_of("revoked"), "-inf", format!("({cutoff}"))
            .await?;
        self.purge_in_batches(PURGE, now).await
    }

    async fn delete_rotated_before(&self, at: OffsetDateTime) -> Result<u64, Error> {
        self.purge_in_batches(PURGE_ROTATED, at).await
    }
}

impl RedisStore {
    /// Runs a purge script (at most 500 deletions a call, so Redis is never
    /// blocked for long) until it has nothing left before `at`.
    async fn purge_in_batches(&self, script: &str, at: OffsetDateTime) -> Result<u64, Error> {
        let mut total = 0;
        loop {
            let n: u64 = Script::new(script)
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

/// One count against a counter (`KEYS[1]`) at `ARGV[1]` (ms): a new window
/// of `ARGV[2]` ms if it has none or it ended. The key expires a second
/// after its window, so ended counters need no purge.
const COUNT: &str = r"
local now = tonumber(ARGV[1])
local ends = tonumber(redis.call('HGET', KEYS[1], 'e') or '0')
if ends <= now then
  ends = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'n', 1, 'e', ends)
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) + 1000)
  return {1, ends}
end
return {redis.call('HINCRBY', KEYS[1], 'n', 1), ends}
";

#[async_trait]
impl RateCounters for RedisStore {
    async fn count(
        &self,
        key: &str,
        window: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Window, Error> {
        let (count, ends): (u64, i64) = Script::new(COUNT)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_round_trip_through_hex() {
        let hash = crate::SessionToken::generate().hash();
        assert_eq!(unhex(&hex(&hash)), Some(hash));
        assert_eq!(unhex("zz"), None);
    }
}
