//! The last answer of a check that costs a round trip (a readiness probe,
//! the status page's database read), reused for a moment: however often
//! anyone asks, the check runs at most once per [`Recent::new`]'s
//! `max_age`, and concurrent askers wait for the one check in flight.

use std::time::{Duration, Instant};

use tokio::sync::Mutex;

/// A cached answer and when it was made.
#[derive(Debug)]
pub struct Recent<T> {
    max_age: Duration,
    last: Mutex<Option<(Instant, T)>>,
}

impl<T: Clone> Recent<T> {
    /// Answers are reused for `max_age`.
    #[must_use]
    pub fn new(max_age: Duration) -> Self {
        Self {
            max_age,
            last: Mutex::new(None),
        }
    }

    /// The last answer if it is recent enough, else `check`'s (kept).
    pub async fn get<F: std::future::Future<Output = T>>(&self, check: impl FnOnce() -> F) -> T {
        let mut last = self.last.lock().await;
        if let Some((at, answer)) = last.as_ref() {
            if at.elapsed() < self.max_age {
                return answer.clone();
            }
        }
        let answer = check().await;
        *last = Some((Instant::now(), answer.clone()));
        answer
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};

    use super::*;

    #[tokio::test]
    async fn a_flood_of_askers_costs_one_check_per_period() {
        let recent = Recent::new(Duration::from_millis(200));
        let checks = AtomicU32::new(0);
        let check = || async {
            checks.fetch_add(1, Ordering::Relaxed);
            7
        };
        for _ in 0..1000 {
            assert_eq!(recent.get(check).await, 7);
        }
        assert_eq!(checks.load(Ordering::Relaxed), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        recent.get(check).await;
        assert_eq!(checks.load(Ordering::Relaxed), 2);
    }
}
