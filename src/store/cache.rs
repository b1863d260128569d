//! An in-process cache of validated sessions, in front of any session store.
//!
//! Validation is one indexed lookup, but on a networked database that round
//! trip is most of a signed-in request's session cost. [`CachedSessions`]
//! remembers sessions found active for a short `ttl` and answers
//! [`SessionStore::find_session`] from memory meanwhile.
//!
//! The bound it keeps, and which the tests check:
//! - **on this instance, revocation is still immediate**: every revoking
//!   call goes through this wrapper, which forgets the affected sessions as
//!   soon as the store has revoked them; a lookup that raced a revocation is
//!   not cached;
//! - **on other instances** (several servers on one database), a revoked
//!   session stays usable for at most `ttl` after the revocation;
//! - only active sessions are cached, and a cached one that looks expired is
//!   looked up again (another instance may have slid its idle expiry);
//! - everything else (refresh rotation, writes) passes straight through.
//!
//! It keeps each user's list of sessions too (the sessions page), for the
//! same `ttl`, and asks the store again when a session in it looks
//! expired. Every write through it to
//! a listed session (a new one, a touch, a revocation, a credential
//! proved, a key bound, a refresh) forgets that user's list once the store
//! has it, and a list read that raced any such write is not kept; a
//! revocation heard from another instance forgets the list holding it.
//! What other instances write without a revocation (a new session, a
//! touch) shows here within `ttl`, as a slid idle expiry does.
//!
//! Keys are token hashes: SHA-256 of a secret token, so comparing them in
//! non-constant time (as a hash map does) leaks nothing an attacker can
//! steer, as with the database index.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, MutexGuard, PoisonError},
};

use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

use crate::{
    clock::Clock,
    id::{SessionId, UserId},
    record::{Authenticated, ClientInfo, SessionRecord},
    store::{
        Ceremonies, ExpiredDeletion, Readiness, RefreshFamily, RefreshTokens, Rotation,
        SessionBackend, SessionStore,
    },
    token::TokenHash,
    Error,
};

/// At most this many sessions are remembered (about 1 KB each); when full,
/// stale entries are dropped and, if none are, new ones are not cached.
const MAX_ENTRIES: usize = 10_000;

/// At most this many users' session lists are kept, on the same terms.
const MAX_LISTS: usize = 4_096;

/// A [`SessionStore`] that remembers active sessions for `ttl`.
pub struct CachedSessions {
    inner: Arc<dyn SessionBackend>,
    ttl: Duration,
    clock: Arc<dyn Clock>,
    entries: Mutex<Entries>,
}

#[derive(Default)]
struct Entries {
    by_hash: HashMap<[u8; 32], Entry>,
    /// The same entries by session id (a session's token never changes),
    /// so a touch or a revocation by id forgets one without a scan.
    by_id: HashMap<SessionId, [u8; 32]>,
    /// Bumped by every revocation: a lookup that started before one may
    /// have read the session as it was, so it is not cached.
    generation: u64,
    /// Users' session lists, each read less than `ttl` ago.
    lists: HashMap<UserId, List>,
    /// Whose kept list holds each listed session, so a write to one
    /// session forgets its list without a scan.
    listed: HashMap<SessionId, UserId>,
    /// Bumped by every write that can change a list: a list read that
    /// started before one is not kept.
    list_generation: u64,
}

struct List {
    sessions: Vec<SessionRecord>,
    fetched_at: OffsetDateTime,
}

impl Entries {
    fn insert(&mut self, auth: &Authenticated, now: OffsetDateTime) {
        let hash = *auth.session.token_hash.as_bytes();
        self.by_id.insert(auth.session.id, hash);
        self.by_hash.insert(
            hash,
            Entry {
                auth: auth.clone(),
                fetched_at: now,
            },
        );
    }

    fn remove_id(&mut self, id: SessionId) {
        if let Some(hash) = self.by_id.remove(&id) {
            self.by_hash.remove(&hash);
        }
    }

    /// Forgets `user`'s list: one of its sessions was just written.
    fn forget_list(&mut self, user: UserId) {
        self.list_generation = self.list_generation.wrapping_add(1);
        self.drop_list(user);
    }

    fn drop_list(&mut self, user: UserId) {
        if let Some(list) = self.lists.remove(&user) {
            for s in &list.sessions {
                self.listed.remove(&s.id);
            }
        }
    }

    /// Forgets the list holding session `id`, if one is kept.
    fn forget_listing(&mut self, id: SessionId) {
        self.list_generation = self.list_generation.wrapping_add(1);
        if let Some(user) = self.listed.get(&id).copied() {
            self.forget_list(user);
        }
    }

    /// Keeps the lists `keep` accepts.
    fn retain_lists(&mut self, keep: impl Fn(&List) -> bool) {
        let listed = &mut self.listed;
        self.lists.retain(|_, list| {
            let kept = keep(list);
            if !kept {
                for s in &list.sessions {
                    listed.remove(&s.id);
                }
            }
            kept
        });
    }

    /// Keeps the entries `keep` accepts, in both maps.
    fn retain(&mut self, keep: impl Fn(&Entry) -> bool) {
        let by_id = &mut self.by_id;
        self.by_hash.retain(|_, e| {
            let kept = keep(e);
            if !kept {
                by_id.remove(&e.auth.session.id);
            }
            kept
        });
    }
}

struct Entry {
    auth: Authenticated,
    fetched_at: OffsetDateTime,
}

impl Entry {
    /// Read less than `ttl` ago, and still active at `now`.
    fn usable(&self, now: OffsetDateTime, ttl: Duration) -> bool {
        now - self.fetched_at < ttl && self.auth.session.is_active(now)
    }
}

impl List {
    /// Read less than `ttl` ago.
    fn fresh(&self, now: OffsetDateTime, ttl: Duration) -> bool {
        now - self.fetched_at < ttl
    }
}

impl CachedSessions {
    /// Wraps `inner`; `ttl` is the cross-instance revocation bound.
    #[must_use]
    pub fn new(inner: Arc<dyn SessionBackend>, ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            inner,
            ttl,
            clock,
            entries: Mutex::new(Entries::default()),
        }
    }

    /// The map holds plain data: a panic elsewhere cannot leave it half
    /// updated, so a poisoned lock is still safe to use.
    fn lock(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A remembered session, if fresh and still active at `now`.
    fn cached(&self, hash: &TokenHash, now: OffsetDateTime) -> Option<Authenticated> {
        let entries = self.lock();
        let entry = entries.by_hash.get(hash.as_bytes())?;
        entry.usable(now, self.ttl).then(|| entry.auth.clone())
    }

    /// Remembers `auth` unless a revocation happened since `generation`.
    fn remember(&self, auth: &Authenticated, generation: u64, now: OffsetDateTime) {
        let mut entries = self.lock();
        if entries.generation != generation {
            return;
        }
        if entries.by_hash.len() >= MAX_ENTRIES {
            entries.retain(|e| e.usable(now, self.ttl));
            if entries.by_hash.len() >= MAX_ENTRIES {
                return;
            }
        }
        entries.insert(auth, now);
    }

    /// `user`'s kept list, if fresh and every session in it still active
    /// at `now` (one that looks expired may have been used on another
    /// instance since: the store is asked again, as for a cached session).
    fn kept_list(&self, user: UserId, now: OffsetDateTime) -> Option<Vec<SessionRecord>> {
        let entries = self.lock();
        let list = entries.lists.get(&user)?;
        let usable = list.fresh(now, self.ttl) && list.sessions.iter().all(|s| s.is_active(now));
        usable.then(|| list.sessions.clone())
    }

    /// Keeps `user`'s list, read from `generation` on, unless a write that
    /// can change it came since.
    fn keep_list(
        &self,
        user: UserId,
        sessions: &[SessionRecord],
        generation: u64,
        now: OffsetDateTime,
    ) {
        let mut entries = self.lock();
        if entries.list_generation != generation {
            return;
        }
        if entries.lists.len() >= MAX_LISTS && !entries.lists.contains_key(&user) {
            entries.retain_lists(|l| l.fresh(now, self.ttl));
            if entries.lists.len() >= MAX_LISTS {
                return;
            }
        }
        entries.drop_list(user);
        for s in sessions {
            entries.listed.insert(s.id, user);
        }
        let sessions = sessions.to_vec();
        entries.lists.insert(
            user,
            List {
                sessions,
                fetched_at: now,
            },
        );
    }

    /// Forgets `ids`, revoked on another instance (an in-flight lookup
    /// may have read them before: it is not cached either), and the lists
    /// that hold them.
    pub fn forget(&self, ids: &[SessionId]) {
        let mut entries = self.after_revocation();
        for id in ids {
            entries.remove_id(*id);
            entries.forget_listing(*id);
        }
    }

    /// Forgets everything: after a gap in the revocation feed, any entry
    /// may be of a session revoked meanwhile.
    pub fn flush(&self) {
        let mut entries = self.after_revocation();
        entries.by_hash.clear();
        entries.by_id.clear();
        entries.list_generation = entries.list_generation.wrapping_add(1);
        entries.lists.clear();
        entries.listed.clear();
    }

    /// The entries, once the store has revoked something: lookups in
    /// flight are marked too old to cache (a lookup that starts later reads
    /// the revocation), and the caller forgets the revoked sessions.
    fn after_revocation(&self) -> MutexGuard<'_, Entries> {
        let mut entries = self.lock();
        entries.generation = entries.generation.wrapping_add(1);
        entries
    }
}

#[async_trait]
impl SessionStore for CachedSessions {
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), Error> {
        let inserted = self.inner.insert_session(session).await;
        self.lock().forget_list(session.user_id);
        inserted
    }

    async fn find_session(&self, token_hash: &TokenHash) -> Result<Option<Authenticated>, Error> {
        let now = self.clock.now();
        if let Some(auth) = self.cached(token_hash, now) {
            return Ok(Some(auth));
        }
        let generation = self.lock().generation;
        let found = self.inner.find_session(token_hash).await?;
        if let Some(auth) = found.as_ref().filter(|a| a.session.is_active(now)) {
            self.remember(auth, generation, now);
        }
        Ok(found)
    }

    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
        seen_from: &ClientInfo,
    ) -> Result<(), Error> {
        let touched = self
            .inner
            .touch_session(id, last_seen_at, idle_expires_at, seen_from)
            .await;
        // Refetched on next use, with the new activity times.
        let mut entries = self.lock();
        entries.remove_id(id);
        entries.forget_listing(id);
        touched
    }

    async fn revoke_session(
        &self,
        user_id: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let revoked = self.inner.revoke_session(user_id, id, at).await;
        let mut entries = self.after_revocation();
        entries.remove_id(id);
        entries.forget_list(user_id);
        revoked
    }

    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<Vec<SessionId>, Error> {
        let revoked = self.inner.revoke_user_sessions(user_id, keep, at).await;
        let mut entries = self.after_revocation();
        entries.retain(|e| {
            let s = &e.auth.session;
            s.user_id != user_id || Some(s.id) == keep
        });
        entries.forget_list(user_id);
        revoked
    }

    async fn record_authentication(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let recorded = self.inner.record_authentication(id, at).await;
        // Refetched on next use, with the new time.
        let mut entries = self.lock();
        entries.remove_id(id);
        entries.forget_listing(id);
        recorded
    }

    async fn list_user_sessions(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error> {
        if let Some(kept) = self.kept_list(user_id, now) {
            return Ok(kept);
        }
        let generation = self.lock().list_generation;
        let sessions = self.inner.list_user_sessions(user_id, now).await?;
        self.keep_list(user_id, &sessions, generation, now);
        Ok(sessions)
    }

    async fn find_session_by_id(&self, id: SessionId) -> Result<Option<Authenticated>, Error> {
        self.inner.find_session_by_id(id).await
    }

    async fn revoked_since(&self, at: OffsetDateTime) -> Result<Vec<SessionId>, Error> {
        self.inner.revoked_since(at).await
    }

    async fn revoke_session_by_id(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<Option<UserId>, Error> {
        let owner = self.inner.revoke_session_by_id(id, at).await;
        let mut entries = self.after_revocation();
        entries.remove_id(id);
        entries.forget_listing(id);
        if let Ok(Some(user)) = &owner {
            entries.forget_list(*user);
        }
        owner
    }
}

#[async_trait]
impl RefreshTokens for CachedSessions {
    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.inner
            .insert_refresh_token(session_id, token_hash, at)
            .await
    }

    async fn refresh_token_session(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshFamily>, Error> {
        self.inner.refresh_token_session(token_hash).await
    }

    async fn bind_key(
        &self,
        session: SessionId,
        key: Option<&str>,
    ) -> Result<Option<String>, Error> {
        let bound = self.inner.bind_key(session, key).await;
        self.lock().forget_listing(session);
        bound
    }

    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        session: SessionId,
        now: OffsetDateTime,
        grace: Duration,
    ) -> Result<Rotation, Error> {
        let rotated = self
            .inner
            .rotate_refresh_token(presented, successor, session, now, grace)
            .await;
        self.lock().forget_listing(session);
        rotated
    }
}

#[async_trait]
impl Ceremonies for CachedSessions {
    async fn put_ceremony(
        &self,
        key: &TokenHash,
        state: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.inner.put_ceremony(key, state, expires_at).await
    }

    async fn take_ceremony(
        &self,
        key: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<String>, Error> {
        self.inner.take_ceremony(key, now).await
    }
}

#[async_trait]
impl Readiness for CachedSessions {
    async fn ping(&self) -> Result<(), Error> {
        self.inner.ping().await
    }
}

#[async_trait]
impl ExpiredDeletion for CachedSessions {
    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error> {
        {
            let mut entries = self.lock();
            entries.retain(|e| e.usable(now, self.ttl));
            entries.retain_lists(|l| l.fresh(now, self.ttl));
        }
        self.inner.delete_expired(now).await
    }

    async fn delete_rotated_before(&self, at: OffsetDateTime) -> Result<u64, Error> {
        self.inner.delete_rotated_before(at).await
    }
}
