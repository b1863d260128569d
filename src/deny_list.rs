//! Sessions revoked recently, remembered so their access tokens stop
//! working at once.
//!
//! An access JWT is verified without a database call, so on its own it
//! stays valid until its `exp` after its session ends. Every revocation
//! through [`crate::Auth`] adds the session here, and [`crate::jwt::Jwt`]
//! refuses tokens of a listed session. An entry is needed only while a
//! token minted before the revocation could still be unexpired: the longest
//! access-token lifetime plus the clock leeway ([`RETAIN`]).
//!
//! Each instance keeps its own list: filled by the revocations it makes and
//! by those it hears of on the revocation feed ([`crate::revocation`]), so a
//! revocation anywhere refuses its tokens everywhere at once (while the feed
//! is down, other instances' tokens live to their `exp`).

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use time::{Duration, OffsetDateTime};

use crate::id::SessionId;

/// How long a revoked session is remembered: the longest access-token
/// lifetime the configuration allows plus a margin for the verifier's
/// leeway.
pub const RETAIN: Duration = crate::policy::MAX_ACCESS_TTL.saturating_add(Duration::minutes(1));

/// Above this many entries, an insertion first forgets the ones past
/// [`RETAIN`]. (Each revocation is of a real session, itself behind the
/// sign-in limits, so the list cannot grow faster than sign-ins.)
const SWEEP_ABOVE: usize = 10_000;

/// The recently revoked sessions, each with when it may be forgotten.
#[derive(Debug, Default)]
pub struct DenyList(Mutex<HashMap<SessionId, OffsetDateTime>>);

impl DenyList {
    /// Remembers that `ids` were revoked at `at`.
    pub fn add(&self, ids: impl IntoIterator<Item = SessionId>, at: OffsetDateTime) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, until| *until > at);
        }
        map.extend(ids.into_iter().map(|id| (id, at + RETAIN)));
    }

    /// Whether the session `sid` (a token's `sid` claim) was revoked.
    #[must_use]
    pub fn contains(&self, sid: &str) -> bool {
        let Ok(id) = sid.parse::<SessionId>() else {
            return false;
        };
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains_key(&id)
    }

    /// How many sessions are remembered.
    #[must_use]
    pub fn len(&self) -> usize {
        self.0.lock().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether none are.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn revoked_sessions_are_listed_and_old_ones_swept() {
        let list = DenyList::default();
        let (a, b) = (SessionId::new(), SessionId::new());
        let t0 = OffsetDateTime::UNIX_EPOCH;
        list.add([a], t0);
        assert!(list.contains(&a.to_string()));
        assert!(!list.contains(&b.to_string()));
        assert!(!list.contains("not an id"));

        // Past the bound, an insertion after RETAIN sweeps the old entries.
        list.add((0..SWEEP_ABOVE).map(|_| SessionId::new()), t0);
        list.add([b], t0 + RETAIN + Duration::seconds(1));
        assert_eq!(list.len(), 1);
        assert!(list.contains(&b.to_string()));
    }
}
