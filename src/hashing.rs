//! Admission to password hashing: a bounded queue with its own permits.
//!
//! Argon2id takes 19 MiB and a core's worth of time per hash, so hashes run
//! at most [`HashingLimits::at_once`] at a time. A flood of sign-ins must
//! not turn that into an unbounded wait: at most [`HashingLimits::queue`]
//! more may wait, each for at most [`HashingLimits::wait`]. Past either
//! bound the attempt is refused at once with [`Error::Busy`] (the web layer
//! answers 503 with `Retry-After`), and nothing else the server does (pages,
//! logout, refresh, the APIs) waits behind it.
//!
//! Nor does it wait for the CPU: hashes run on threads of their own at the
//! lowest scheduling priority (niceness 19 on Linux), so when every core is
//! busy, serving a page wins over hashing a password. Under a sign-in flood
//! the hashes then run slower, the queue fills sooner, and more sign-ins
//! get the 503, while the site stays fast for everyone signed in.

use std::{
    panic::AssertUnwindSafe,
    sync::{mpsc, Arc, Mutex},
    time::Duration,
};

use tokio::sync::Semaphore;

use crate::Error;

/// How much password hashing is admitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes running at once.
    pub at_once: usize,
    /// Attempts waiting for a hashing slot, beyond those running.
    pub queue: usize,
    /// The longest an attempt waits for a slot.
    pub wait: Duration,
}

impl Default for HashingLimits {
    /// One hash per core, four more per core waiting, for at most 2 s.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            at_once: cores,
            queue: 4 * cores,
            wait: Duration::from_secs(2),
        }
    }
}

/// The admission state; share one per engine.
#[derive(Debug)]
pub struct Hashing {
    /// Running or waiting: `at_once + queue` tickets.
    admitted: Arc<Semaphore>,
    /// Running: `at_once` slots.
    running: Semaphore,
    wait: Duration,
    /// Hands a hash to the hashing threads.
    jobs: mpsc::Sender<Job>,
}

/// One hash, and where its result goes.
type Job = Box<dyn FnOnce() + Send>;

/// Starts `count` hashing threads at the lowest priority. They end when
/// the sender is dropped (the engine with it).
fn start_threads(count: usize) -> mpsc::Sender<Job> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    for n in 0..count {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("password-hash-{n}"))
            .spawn(move || {
                if let Err(err) = thread_priority::set_current_thread_priority(
                    thread_priority::ThreadPriority::Min,
                ) {
                    tracing::warn!(?err, "password hashing runs at normal priority");
                }
                loop {
                    let job = match receiver.lock() {
                        Ok(receiver) => receiver.recv(),
                        Err(_) => return,
                    };
                    let Ok(job) = job else { return };
                    // A panicking hash fails its own sign-in, not the thread.
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            });
        if let Err(err) = spawned {
            tracing::error!(error = %err, "could not start a password hashing thread");
        }
    }
    sender
}

impl Hashing {
    /// Admission with `limits`.
    #[must_use]
    pub fn new(limits: HashingLimits) -> Self {
        let at_once = limits.at_once.max(1);
        Self {
            admitted: Arc::new(Semaphore::new(at_once + limits.queue)),
            running: Semaphore::new(at_once),
            wait: limits.wait,
            jobs: start_threads(at_once),
        }
    }

    /// Whether every running and waiting place is taken, so the next
    /// attempt would be refused: the web layer refuses it before reading
    /// it.
    #[must_use]
    pub fn is_saturated(&self) -> bool {
        self.admitted.available_permits() == 0
    }

    /// Runs `f` (the hashing) on a hashing thread once admitted.
    ///
    /// # Errors
    /// [`Error::Busy`] when the queue is full or the wait runs out;
    /// [`Error::Hashing`] if the hash panics.
    pub async fn run<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Error> {
        let _ticket = self.admitted.try_acquire().map_err(|_| Error::Busy)?;
        let _slot = tokio::time::timeout(self.wait, self.running.acquire())
            .await
            .map_err(|_| Error::Busy)?
            .map_err(|err| Error::Hashing(err.to_string()))?;
        let (done, result) = tokio::sync::oneshot::channel();
        // The hash runs under the caller's span, so what it logs (a
        // panic, a slow hash) says which request it was for.
        let span = tracing::Span::current();
        let job: Job = Box::new(move || {
            let _entered = span.enter();
            let _ = done.send(f());
        });
        if self.jobs.send(job).is_err() {
            return Err(Error::Hashing("the hashing threads have stopped".into()));
        }
        result
            .await
            .map_err(|_| Error::Hashing("a password hash panicked".into()))
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn slow() -> usize {
        std::thread::sleep(Duration::from_millis(200));
        1
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_the_queue_attempts_are_refused_at_once() {
        let hashing = Arc::new(Hashing::new(HashingLimits {
            at_once: 1,
            queue: 1,
            wait: Duration::from_secs(5),
        }));
        let busy = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let (hashing, busy) = (hashing.clone(), busy.clone());
                tokio::spawn(async move {
                    if matches!(hashing.run(slow).await, Err(Error::Busy)) {
                        busy.fetch_add(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert_eq!(busy.load(Ordering::SeqCst), 3, "one runs, one waits");
        assert_eq!(hashing.run(|| 2).await.unwrap(), 2, "free again");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn saturation_shows_while_every_place_is_taken() {
        let hashing = Arc::new(Hashing::new(HashingLimits {
            at_once: 1,
            queue: 1,
            wait: Duration::from_secs(5),
        }));
        assert!(!hashing.is_saturated());
        let taken: Vec<_> = (0..2)
            .map(|_| {
                let hashing = hashing.clone();
                tokio::spawn(async move { hashing.run(slow).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(hashing.is_saturated(), "one runs, one waits");
        for task in taken {
            task.await.unwrap().unwrap();
        }
        assert!(!hashing.is_saturated());
    }

    #[tokio::test]
    async fn hashes_run_at_the_lowest_priority_and_survive_a_panic() {
        let hashing = Hashing::new(HashingLimits {
            at_once: 1,
            queue: 1,
            wait: Duration::from_secs(5),
        });
        #[cfg(target_os = "linux")]
        {
            // Field 19 of /proc/thread-self/stat is the niceness.
            let nice = hashing
                .run(|| {
                    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
                    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
                    after_name
                        .split(' ')
                        .nth(16)
                        .unwrap()
                        .parse::<i32>()
                        .unwrap()
                })
                .await
                .unwrap();
            assert_eq!(nice, 19);
        }
        let panicked = hashing.run(|| -> usize { panic!("hash") }).await;
        assert!(matches!(panicked, Err(Error::Hashing(_))), "{panicked:?}");
        assert_eq!(hashing.run(|| 3).await.unwrap(), 3, "the thread lives on");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_wait_past_the_bound_is_refused() {
        let hashing = Arc::new(Hashing::new(HashingLimits {
            at_once: 1,
            queue: 10,
            wait: Duration::from_millis(50),
        }));
        let running = tokio::spawn({
            let hashing = hashing.clone();
            async move { hashing.run(slow).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        assert!(matches!(hashing.run(|| 0).await, Err(Error::Busy)));
        assert_eq!(running.await.unwrap().unwrap(), 1);
    }
}
