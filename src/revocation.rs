//! Revocations on every instance: what an instance does with the feed
//! ([`crate::feed`]), so a session ended on one is refused on all of them
//! at once.
//!
//! Every instance follows its feed ([`Revocations::follow`]) and, for each
//! session revoked anywhere, forgets it from its session cache and adds it
//! to its deny-list of access tokens ([`crate::deny_list`]). Neither costs a
//! request a database call.
//!
//! A feed can lose its connection. While it is down the instance falls back
//! to the bounds it has without one (a revoked session lives on for the
//! cache's TTL, its access tokens until their `exp`) and says so
//! ([`FeedState`], in the logs and on `/readyz`). Once the feed listens
//! again, the instance empties its cache and reloads the deny-list from the
//! store's revocation log ([`crate::store::SessionStore::revoked_since`]):
//! nothing revoked during the gap is missed, and since listening comes
//! first, nothing falls between the reload and the feed either.

use std::sync::{Arc, Mutex, PoisonError};

use time::OffsetDateTime;

use crate::{
    clock::Clock,
    deny_list::{DenyList, RETAIN},
    feed::{RevocationFeed, Signal},
    id::SessionId,
    store::{cache::CachedSessions, SessionStore},
};

/// Whether this instance hears revocations made elsewhere.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FeedState {
    /// Not subscribed yet.
    Starting,
    /// Subscribed, and the deny-list reloaded since.
    Live,
    /// Not hearing: the fallback bounds apply until it is live again.
    Down {
        /// Since when.
        since: OffsetDateTime,
        /// Why, for operators (no secrets: a store's error message).
        reason: String,
    },
}

/// One instance's view of revocations: its feed, its cache, its deny-list.
pub struct Revocations {
    feed: Arc<dyn RevocationFeed>,
    cache: Option<Arc<CachedSessions>>,
    denied: Arc<DenyList>,
    state: Mutex<FeedState>,
}

impl std::fmt::Debug for Revocations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Revocations")
            .field("feed", &self.feed.name())
            .field("state", &self.state())
            .finish_non_exhaustive()
    }
}

impl Revocations {
    /// Follows `feed`, evicting from `cache`, denying through `denied`.
    #[must_use]
    pub fn new(
        feed: Arc<dyn RevocationFeed>,
        cache: Option<Arc<CachedSessions>>,
        denied: Arc<DenyList>,
    ) -> Self {
        Self {
            feed,
            cache,
            denied,
            state: Mutex::new(FeedState::Starting),
        }
    }

    /// The deny-list the access-token verifier consults.
    #[must_use]
    pub fn denied(&self) -> Arc<DenyList> {
        Arc::clone(&self.denied)
    }

    /// The feed's name.
    #[must_use]
    pub fn feed_name(&self) -> &'static str {
        self.feed.name()
    }

    /// Whether the feed is live.
    #[must_use]
    pub fn state(&self) -> FeedState {
        self.state
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub(crate) fn set_state(&self, state: FeedState) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    pub(crate) fn feed(&self) -> &dyn RevocationFeed {
        &*self.feed
    }

    /// This process revoked `ids` at `at` (its cache already forgot them):
    /// deny their tokens here, and tell the others where the store does not.
    pub(crate) fn revoked_here(&self, ids: &[SessionId], at: OffsetDateTime) {
        self.denied.add(ids.iter().copied(), at);
        self.feed.announce(ids);
    }

    /// Some instance revoked `ids`: forget and deny them.
    pub(crate) fn heard(&self, ids: Vec<SessionId>, at: OffsetDateTime) {
        if let Some(cache) = &self.cache {
            cache.forget(&ids);
        }
        self.denied.add(ids, at);
    }

    /// Back from a gap: nothing cached may be trusted.
    pub(crate) fn flush_cache(&self) {
        if let Some(cache) = &self.cache {
            cache.flush();
        }
    }
}

impl Revocations {
    /// Follows the feed until it ends (with the process): each session
    /// revoked anywhere is forgotten from the cache and denied; after a
    /// gap, the cache is emptied and the deny-list reloaded from
    /// `sessions`' revocation log, retried every second until it answers.
    pub async fn follow(&self, sessions: &dyn SessionStore, clock: &dyn Clock) {
        let mut signals = self.feed().subscribe();
        let mut retry = tokio::time::interval(std::time::Duration::from_secs(1));
        let mut reload_due = false;
        loop {
            tokio::select! {
                signal = signals.recv() => match signal {
                    None => return,
                    Some(Signal::Announced(ids)) => self.heard(ids, clock.now()),
                    Some(Signal::Listening) => reload_due = !self.catch_up(sessions, clock).await,
                    Some(Signal::Lost(reason)) => {
                        reload_due = false;
                        if !matches!(self.state(), FeedState::Down { .. }) {
                            tracing::warn!(
                                feed = self.feed_name(),
                                %reason,
                                "revocation feed lost: other instances' revocations now reach \
                                 this one within SESSION_CACHE_TTL, their access tokens at their exp"
                            );
                        }
                        let since = clock.now();
                        self.set_state(FeedState::Down { since, reason });
                    }
                },
                _ = retry.tick(), if reload_due => {
                    reload_due = !self.catch_up(sessions, clock).await;
                }
            }
        }
    }

    /// Listening again: empties the cache, reloads the deny-list from the
    /// revocation log, and marks the feed live. Whether it could.
    async fn catch_up(&self, sessions: &dyn SessionStore, clock: &dyn Clock) -> bool {
        self.flush_cache();
        let now = clock.now();
        match sessions.revoked_since(now - RETAIN).await {
            Ok(ids) => {
                tracing::info!(
                    feed = self.feed_name(),
                    reloaded = ids.len(),
                    "revocation feed live"
                );
                self.heard(ids, now);
                self.set_state(FeedState::Live);
                true
            }
            Err(err) => {
                tracing::warn!(error = %err, "reloading the revocation log failed; will retry");
                let since = match self.state() {
                    FeedState::Down { since, .. } => since,
                    _ => now,
                };
                let reason = "reloading the revocation log failed".to_owned();
                self.set_state(FeedState::Down { since, reason });
                false
            }
        }
    }
}
