//! Time, injectable.
//!
//! Every expiry decision asks a [`Clock`], so tests can move time forward
//! instead of sleeping through idle and absolute timeouts.

use std::sync::{
    atomic::{AtomicI64, Ordering},
    Arc,
};

use time::OffsetDateTime;

/// A source of "now", truncated to whole seconds (the storage precision).
pub trait Clock: Send + Sync + 'static {
    /// The current time.
    fn now(&self) -> OffsetDateTime;
}

/// The system clock.
#[derive(Clone, Copy, Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        now.replace_nanosecond(0).unwrap_or(now)
    }
}

/// A clock that only moves when told to. Cloning shares the same time.
#[derive(Clone, Debug)]
pub struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    /// Starts at the current system time.
    #[must_use]
    pub fn new() -> Self {
        Self(Arc::new(AtomicI64::new(SystemClock.now().unix_timestamp())))
    }

    /// Moves time forward (or back, with a negative duration).
    pub fn advance(&self, by: time::Duration) {
        self.0.fetch_add(by.whole_seconds(), Ordering::SeqCst);
    }
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(self.0.load(Ordering::SeqCst))
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_advanced_and_clones_share_it() {
        let clock = ManualClock::new();
        let other = clock.clone();
        let start = clock.now();
        clock.advance(time::Duration::minutes(31));
        assert_eq!(other.now() - start, time::Duration::minutes(31));
    }
}
