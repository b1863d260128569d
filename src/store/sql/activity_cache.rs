//! The dashboard's lists (an account's notices and events) kept in memory
//! between the writes that change them, on a database only one instance
//! writes (SQLite).
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
//! query and compared after it, and a write bumps it. On PostgreSQL
//! several instances write, and none would hear of the others' writes:
//! the store runs without this cache there.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard, PoisonError},
};

use crate::{id::UserId, record::Activity};

/// At most this many accounts' lists are kept (a few KB each); when full,
/// everything is forgotten and filling starts again.
const MAX_ACCOUNTS: usize = 4096;

/// The kept lists; see the module docs.
#[derive(Debug, Default)]
pub struct ActivityCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    slots: HashMap<UserId, Slot>,
    /// Bumped whenever `slots` is emptied, so no read begun before keeps
    /// its answer.
    epoch: u64,
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
    /// The kept lists of `user` read with these limits, or the ticket to
    /// keep them once read.
    pub fn get(&self, user: UserId, limits: (u32, u32)) -> Result<Activity, Ticket> {
        let mut inner = self.lock();
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
        if inner.epoch != ticket.epoch {
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

    /// A panic elsewhere while holding the lock left nothing half-written
    /// that matters: the worst is a forgotten entry.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let cache = ActivityCache::default();
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
        let cache = ActivityCache::default();
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

    #[test]
    fn full_means_forgotten_not_unbounded() {
        let cache = ActivityCache::default();
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
