//! A budget for log lines that anyone can cause at will (a refused
//! cross-site post, a refresh from a copied cookie): the first of each
//! second is written, with how many were left out since, so a flood of
//! them is not also a flood of log lines (and of disk).

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        OnceLock,
    },
    time::Instant,
};

/// One kind of line's budget; a `static` per call site.
#[derive(Debug, Default)]
pub struct LogBudget {
    /// Milliseconds (since the process's first budget check) before which
    /// no line is written.
    next_ms: AtomicU64,
    /// Lines left out since the last one written.
    left_out: AtomicU64,
}

/// How far apart the lines written are.
const EVERY_MS: u64 = 1_000;

impl LogBudget {
    /// A full budget.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            next_ms: AtomicU64::new(0),
            left_out: AtomicU64::new(0),
        }
    }

    /// `Some(left out since the last line)` when a line may be written now;
    /// `None` when this one is left out (and counted).
    pub fn allow(&self) -> Option<u64> {
        static START: OnceLock<Instant> = OnceLock::new();
        let now = u64::try_from(START.get_or_init(Instant::now).elapsed().as_millis())
            .unwrap_or(u64::MAX);
        let next = self.next_ms.load(Ordering::Relaxed);
        if now >= next
            && self
                .next_ms
                .compare_exchange(next, now + EVERY_MS, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            return Some(self.left_out.swap(0, Ordering::Relaxed));
        }
        self.left_out.fetch_add(1, Ordering::Relaxed);
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_a_second_and_the_count_of_the_rest() {
        let budget = LogBudget::new();
        assert_eq!(budget.allow(), Some(0));
        for _ in 0..999 {
            assert_eq!(budget.allow(), None);
        }
        std::thread::sleep(std::time::Duration::from_millis(1_050));
        assert_eq!(budget.allow(), Some(999));
    }
}
