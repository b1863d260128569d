//! Background tasks.

use std::{sync::Arc, time::Duration};

use engine::{throttle::Throttle, Auth};
use tokio::sync::watch;

/// Deletes expired and revoked sessions (and forgets idle rate-limit
/// buckets) every `interval` until `shutdown` changes. The first run is one
/// interval after start, not at start-up.
pub async fn purge_expired_sessions(
    auth: Auth,
    throttle: Arc<Throttle>,
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the immediate first tick
    loop {
        tokio::select! {
            _ = ticker.tick() => {
                match auth.purge_expired().await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(deleted = n, "purged expired sessions"),
                    Err(err) => tracing::warn!(error = %err, "session purge failed; will retry"),
                }
                throttle.forget_idle();
            }
            _ = shutdown.changed() => break,
        }
    }
    tracing::debug!("session purge task stopped");
}
