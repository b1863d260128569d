//! Single use: remembers ids (a DPoP proof's `jti`, a signed passkey
//! ceremony) for as long as they could be presented, so a second use is
//! refused.
//!
//! Shared by every instance through the store's rate counters (PostgreSQL,
//! Redis: a counter that reaches 2 is a second use); on a lone SQLite
//! instance, in memory. The memory set is two generations of ids, each as
//! old as the longest lifetime at most: an insert or a lookup is O(1), and
//! when the newer generation ages (or fills past [`LOCAL_CAPACITY`]) the
//! older one is dropped whole, so a flood never turns into a scan under the
//! lock.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex, PoisonError},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use time::{Duration, OffsetDateTime};

use crate::{store::RateCounters, Error};

/// Ids kept in memory per generation at most. Past it, the older
/// generation is dropped early: an id from it could then be used again
/// within its lifetime, which needs a flood of this many valid uses (each
/// DPoP proof needs a valid refresh cookie, each ceremony a start within
/// the address's budget) in one lifetime.
pub const LOCAL_CAPACITY: usize = 100_000;

/// The ids used so far, for the longest of their lifetimes.
pub struct UsedOnce {
    shared: Option<Arc<dyn RateCounters>>,
    local: Mutex<Generations>,
}

/// The memory set: ids seen since `started`, and the generation before.
#[derive(Default)]
struct Generations {
    current: HashSet<[u8; 32]>,
    previous: HashSet<[u8; 32]>,
    started: Option<OffsetDateTime>,
    /// The longest lifetime asked for: a generation spans it.
    span: Duration,
}

impl std::fmt::Debug for UsedOnce {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UsedOnce")
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

impl UsedOnce {
    /// In the store's `shared` counters, or in memory.
    #[must_use]
    pub fn new(shared: Option<Arc<dyn RateCounters>>) -> Self {
        Self {
            shared,
            local: Mutex::default(),
        }
    }

    /// Records `id` (in `namespace`, which keeps kinds of ids apart) as used
    /// at `now`; whether this is its first use. `lifetime` is how long the
    /// id could be presented at all: it must be remembered that long.
    ///
    /// # Errors
    /// [`Error::Storage`] if the shared store fails.
    pub async fn first_use(
        &self,
        namespace: &str,
        id: [u8; 32],
        lifetime: Duration,
        now: OffsetDateTime,
    ) -> Result<bool, Error> {
        match &self.shared {
            Some(counters) => {
                let key = format!("{namespace}:{}", URL_SAFE_NO_PAD.encode(id));
                let window = counters.count(&key, lifetime.unsigned_abs(), now).await?;
                Ok(window.count == 1)
            }
            None => Ok(self
                .local
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .first_use(namespace_id(namespace, id), lifetime, now)),
        }
    }
}

impl Generations {
    fn first_use(&mut self, id: [u8; 32], lifetime: Duration, now: OffsetDateTime) -> bool {
        let started = *self.started.get_or_insert(now);
        self.span = self.span.max(lifetime);
        // A generation covers the longest lifetime: once the newer one is
        // that old, the older one holds only ids past theirs.
        if now - started >= self.span || self.current.len() >= LOCAL_CAPACITY {
            self.previous = std::mem::take(&mut self.current);
            self.started = Some(now);
        }
        if self.previous.contains(&id) {
            return false;
        }
        self.current.insert(id)
    }
}

/// Kinds of ids in one memory set never collide.
fn namespace_id(namespace: &str, id: [u8; 32]) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    Sha256::new()
        .chain_update(namespace.as_bytes())
        .chain_update(b":")
        .chain_update(id)
        .finalize()
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: i64) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_900_000_000 + secs).unwrap()
    }

    #[tokio::test]
    async fn an_id_is_used_once_within_its_lifetime() {
        let once = UsedOnce::new(None);
        let life = Duration::seconds(120);
        assert!(once.first_use("a", [1; 32], life, at(0)).await.unwrap());
        assert!(!once.first_use("a", [1; 32], life, at(1)).await.unwrap());
        assert!(!once.first_use("a", [1; 32], life, at(200)).await.unwrap());
        assert!(
            once.first_use("b", [1; 32], life, at(1)).await.unwrap(),
            "another namespace"
        );
        assert!(once.first_use("a", [2; 32], life, at(1)).await.unwrap());
        // Two lifetimes on, the id's generation is gone.
        assert!(once.first_use("a", [1; 32], life, at(400)).await.unwrap());
    }

    #[tokio::test]
    async fn a_long_lifetime_outlives_shorter_ones_in_the_same_set() {
        let once = UsedOnce::new(None);
        let (short, long) = (Duration::seconds(10), Duration::seconds(300));
        assert!(once.first_use("long", [9; 32], long, at(0)).await.unwrap());
        for t in (1..290).step_by(7) {
            once.first_use("short", [t as u8; 32], short, at(t))
                .await
                .unwrap();
        }
        assert!(!once
            .first_use("long", [9; 32], long, at(290))
            .await
            .unwrap());
    }

    #[test]
    fn a_flood_costs_constant_work_and_bounded_memory() {
        let mut set = Generations::default();
        let life = Duration::seconds(120);
        for n in 0..(3 * LOCAL_CAPACITY as u64) {
            let mut id = [0u8; 32];
            id[..8].copy_from_slice(&n.to_le_bytes());
            assert!(set.first_use(id, life, at(0)));
        }
        assert!(set.current.len() + set.previous.len() <= 2 * LOCAL_CAPACITY);
        let mut recent = [0u8; 32];
        recent[..8].copy_from_slice(&(3 * LOCAL_CAPACITY as u64 - 1).to_le_bytes());
        assert!(!set.first_use(recent, life, at(1)), "the newest are kept");
    }
}
