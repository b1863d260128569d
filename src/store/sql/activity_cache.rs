//! The dashboard's lists (an account's notices and events) kept in memory
//! between the writes that change them: on a database only one instance
//! writes (SQLite), or one that announces every change to them to every
//! instance (PostgreSQL).
//!
//! A signed-in page's query costs more than its rendering: on SQLite each
//! statement is a hand-off to the driver's worker thread and back, and the
//! wake-ups of those hand-offs halve the dashboard's throughput
//! (`BENCHMARKS.md`). The lists change only through this store's own
//! writes, so on a database no other process writes they can be kept
//! exactly, with no time-to-live: every write to an account's notices or
//! events forgets that account's lists once it is done, and the clean-up of
//! old rows forgets every account's.
//!
//! A read that raced a write must not keep what it read (it may predate
//! the write): each account's slot has a generation, taken before the
//! query and compared after it, and a write bumps it.
//!
//! On PostgreSQL several instances write. A trigger announces every change
//! to an account's lists when it commits (migration 0012, `NOTIFY
//! activity_changed`), and each instance's cache [`follows`] those
//! announcements: what it hears forgets that account's lists, as its own
//! writes do. Nothing is kept while the feed is not listening (before it
//! has subscribed, and from a lost connection until it has subscribed
//! again), since announcements are missed meanwhile; each change of state
//! forgets everything. Another instance's write shows on this one once
//! its announcement arrives (milliseconds), as a revocation does; this
//! instance's own writes show at once.
//!
//! [`follows`]: ActivityCache::following

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use tokio::sync::oneshot;

use crate::{id::UserId, record::Activity};

/// At most this many accounts' lists are kept (a few KB each); when full,
/// everything is forgotten and filling starts again.
const MAX_ACCOUNTS: usize = 4096;

/// The kept lists; see the module docs.
#[derive(Debug)]
pub struct ActivityCache {
    inner: Mutex<Inner>,
    /// Dropped with the cache, which stops the task following the feed.
    _following: Option<oneshot::Sender<()>>,
}

#[derive(Debug, Default)]
struct Inner {
    slots: HashMap<UserId, Slot>,
    /// Bumped whenever `slots` is emptied, so no read begun before keeps
    /// its answer.
    epoch: u64,
    /// Whether every write is heard of now: always for a sole writer; for
    /// a follower, while its feed is listening.
    live: bool,
}

#[derive(Debug, Default)]
struct Slot {
    /// Bumped by every write to the account's lists.
    generation: u64,
    /// The lists, with the limits they were read with.
    kept: Option<((u32, u32), Activity)>,
}

/// What a read that missed must show to keep its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket {
    user: UserId,
    limits: (u32, u32),
    epoch: u64,
    generation: u64,
}

impl ActivityCache {
    /// The cache of the database's only writer: every write is its own.
    pub fn sole_writer() -> Self {
        Self {
            inner: Mutex::new(Inner {
                live: true,
                ..Inner::default()
            }),
            _following: None,
        }
    }

    /// The cache of one writer among several, which hears of the others'
    /// writes on `feed` (each an account whose lists changed). It keeps
    /// nothing until the feed is listening. Must be called within a Tokio
    /// runtime: a task follows the feed until the cache is dropped.
    #[cfg(any(feature = "postgres", test))]
    pub fn following(
        mut feed: tokio::sync::mpsc::Receiver<crate::feed::Signal<UserId>>,
    ) -> std::sync::Arc<Self> {
        use crate::feed::Signal;
        let (stop, mut stopped) = oneshot::channel();
        let cache = std::sync::Arc::new(Self {
            inner: Mutex::default(),
            _following: Some(stop),
        });
        let weak = std::sync::Arc::downgrade(&cache);
        tokio::spawn(async move {
            loop {
                let signal = tokio::select! {
                    _ = &mut stopped => return,
                    signal = feed.recv() => signal,
                };
                let Some(cache) = weak.upgrade() else { return };
                match signal {
                    Some(Signal::Announced(users)) => {
                        users.into_iter().for_each(|u| cache.forget(u))
                    }
                    Some(Signal::Listening) => cache.set_live(true),
                    Some(Signal::Lost(_)) => cache.set_live(false),
                    None => return cache.set_live(false),
                }
            }
        });
        cache
    }

    /// The kept lists of `user` read with these limits, or the ticket to
    /// keep them once read.
    pub fn get(&self, user: UserId, limits: (u32, u32)) -> Result<Activity, Ticket> {
        let mut inner = self.lock();
        if !inner.live {
            // Nothing is kept, and a ticket of this epoch keeps nothing.
            return Err(Ticket {
                user,
                limits,
                epoch: inner.epoch,
                generation: 0,
            });
        }
        if inner.slots.len() >= MAX_ACCOUNTS && !inner.slots.contains_key(&user) {
            inner.slots.clear();
            inner.epoch += 1;
        }
        let epoch = inner.epoch;
        let slot = inner.slots.entry(user).or_default();
        match &slot.kept {
            Some((kept, activity)) if *kept == limits => Ok(activity.clone()),
            _ => Err(Ticket {
                user,
                limits,
                epoch,
                generation: slot.generation,
            }),
        }
    }

    /// Keeps `activity`, read under `ticket`, unless a write came since.
    pub fn keep(&self, ticket: Ticket, activity: &Activity) {
        let mut inner = self.lock();
        if !inner.live || inner.epoch != ticket.epoch {
            return;
        }
        if let Some(slot) = inner.slots.get_mut(&ticket.user) {
            if slot.generation == ticket.generation {
                slot.kept = Some((ticket.limits, activity.clone()));
            }
        }
    }

    /// Forgets `user`'s lists: a write to them has just ended (whether it
    /// succeeded or not).
    pub fn forget(&self, user: UserId) {
        let mut inner = self.lock();
        if let Some(slot) = inner.slots.get_mut(&user) {
            slot.generation += 1;
            slot.kept = None;
        }
    }

    /// Forgets every account's lists (old rows were deleted).
    pub fn forget_all(&self) {
        let mut inner = self.lock();
        inner.slots.clear();
        inner.epoch += 1;
    }

    /// The feed started (`true`) or stopped listening: either way what is
    /// kept, and any read under way, may have missed an announcement.
    #[cfg(any(feature = "postgres", test))]
    fn set_live(&self, live: bool) {
        let mut inner = self.lock();
        inner.slots.clear();
        inner.epoch += 1;
        inner.live = live;
    }

    /// A panic elsewhere while holding the lock left nothing half-written
    /// that matters: the worst is a forgotten entry.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::mpsc;

    use super::*;
    use crate::feed::Signal;
    use crate::record::{AuthEvent, AuthEventKind};

    fn lists(events: usize) -> Activity {
        let at = time::OffsetDateTime::UNIX_EPOCH;
        Activity {
            notices: Vec::new(),
            events: vec![
                AuthEvent {
                    kind: AuthEventKind::SignIn,
                    session_ref: None,
                    ip_address: None,
                    user_agent: None,
                    created_at: at,
                    count: 1,
                };
                events
            ],
        }
    }

    #[test]
    fn kept_until_a_write_to_that_account() {
        let cache = ActivityCache::sole_writer();
        let (ray, sam) = (UserId::new(), UserId::new());
        let ticket = cache.get(ray, (5, 10)).unwrap_err();
        cache.keep(ticket, &lists(1));
        assert_eq!(cache.get(ray, (5, 10)), Ok(lists(1)));
        // Other limits are another read, kept in their place.
        let other = cache.get(ray, (1, 1)).unwrap_err();
        cache.keep(other, &lists(2));
        assert_eq!(cache.get(ray, (1, 1)), Ok(lists(2)));
        assert!(cache.get(ray, (5, 10)).is_err());
        let ticket = cache.get(ray, (5, 10)).unwrap_err();
        cache.keep(ticket, &lists(1));
        cache.forget(sam);
        assert_eq!(cache.get(ray, (5, 10)), Ok(lists(1)));
        cache.forget(ray);
        assert!(cache.get(ray, (5, 10)).is_err());
    }

    #[test]
    fn a_read_that_raced_a_write_is_not_kept() {
        let cache = ActivityCache::sole_writer();
        let ray = UserId::new();
        let before = cache.get(ray, (5, 10)).unwrap_err();
        // The write ends while the read is under way…
        cache.forget(ray);
        // …so what the read found may predate it.
        cache.keep(before, &lists(1));
        assert!(cache.get(ray, (5, 10)).is_err());
        // The same after the clean-up, which forgets every account.
        let before = cache.get(ray, (5, 10)).unwrap_err();
        cache.forget_all();
        cache.keep(before, &lists(1));
        assert!(cache.get(ray, (5, 10)).is_err());
    }

    /// Waits (at most a second) until `done`: the follower's task applies
    /// what its feed says on its own time.
    async fn eventually(mut done: impl FnMut() -> bool) {
        let since = std::time::Instant::now();
        while !done() {
            assert!(since.elapsed().as_secs() < 1, "never happened");
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Reads `user`'s lists and keeps them if it may; whether they are
    /// kept now.
    fn read(cache: &ActivityCache, user: UserId) -> bool {
        if let Err(ticket) = cache.get(user, (5, 10)) {
            cache.keep(ticket, &lists(1));
        }
        cache.get(user, (5, 10)).is_ok()
    }

    #[tokio::test]
    async fn a_follower_keeps_only_while_its_feed_listens() {
        let (feed, heard) = mpsc::channel(8);
        let cache = ActivityCache::following(heard);
        let (ray, sam) = (UserId::new(), UserId::new());
        assert!(!read(&cache, ray), "not listening yet");
        let begun_before = cache.get(ray, (5, 10)).unwrap_err();

        feed.send(Signal::Listening).await.unwrap();
        eventually(|| read(&cache, ray)).await;
        cache.keep(begun_before, &lists(2));
        assert_eq!(cache.get(ray, (5, 10)), Ok(lists(1)), "a read from before");

        // Another instance's write to ray's lists forgets them, not sam's.
        assert!(read(&cache, sam));
        feed.send(Signal::Announced(vec![ray])).await.unwrap();
        eventually(|| cache.get(ray, (5, 10)).is_err()).await;
        assert!(cache.get(sam, (5, 10)).is_ok());

        // Announcements are missed from a lost connection on: nothing kept.
        feed.send(Signal::Lost("cut".into())).await.unwrap();
        eventually(|| cache.get(sam, (5, 10)).is_err()).await;
        assert!(!read(&cache, ray));
        feed.send(Signal::Listening).await.unwrap();
        eventually(|| read(&cache, ray)).await;

        // The task ends with the cache, which lets go of the feed.
        drop(cache);
        tokio::time::timeout(std::time::Duration::from_secs(1), feed.closed())
            .await
            .expect("the feed is let go");
    }

    #[test]
    fn full_means_forgotten_not_unbounded() {
        let cache = ActivityCache::sole_writer();
        let first = UserId::new();
        let ticket = cache.get(first, (5, 10)).unwrap_err();
        cache.keep(ticket, &lists(0));
        for _ in 1..MAX_ACCOUNTS {
            let ticket = cache.get(UserId::new(), (5, 10)).unwrap_err();
            cache.keep(ticket, &lists(0));
        }
        assert!(cache.get(first, (5, 10)).is_ok());
        // One more account empties it, and a read begun before keeps nothing.
        let pending = cache.get(first, (1, 1)).unwrap_err();
        assert!(cache.get(UserId::new(), (5, 10)).is_err());
        assert_eq!(cache.lock().slots.len(), 1);
        cache.keep(pending, &lists(0));
        assert!(cache.get(first, (1, 1)).is_err());
    }
}
