//! Background tasks: each runs on its own timer until shutdown, and skips
//! the immediate first tick (nothing is due at start-up).

use std::{future::Future, sync::Arc, time::Duration};

use engine::{throttle::Throttle, Auth};
use tokio::sync::watch;

/// How often the rate limiter drops buckets that are full again: often
/// enough that a flood from rotating addresses cannot pile them up for long
/// (the limiter also caps them), rarely enough to cost nothing.
pub const LIMITER_SWEEP: Duration = Duration::from_secs(60);

/// Deletes expired and revoked sessions, and auth events older than
/// `retention`, every `interval` until `shutdown` changes.
pub async fn purge_expired_sessions(
    auth: Auth,
    (interval, retention): (time::Duration, time::Duration),
    shutdown: watch::Receiver<bool>,
) {
    every(interval.unsigned_abs(), shutdown, || async {
        match auth.purge_expired().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "purged expired sessions"),
            Err(err) => tracing::warn!(error = %err, "session purge failed; will retry"),
        }
        match auth.purge_events(retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(deleted = n, "purged auth events past their retention"),
            Err(err) => tracing::warn!(error = %err, "event purge failed; will retry"),
        }
    })
    .await;
    tracing::debug!("session purge task stopped");
}

/// Follows the revocation feed (`engine::revocation`): sessions revoked on
/// any instance are refused here at once, until `shutdown` changes.
pub async fn follow_revocations(auth: Auth, mut shutdown: watch::Receiver<bool>) {
    tokio::select! {
        () = auth.follow_revocations() => {}
        _ = shutdown.changed() => {}
    }
    tracing::debug!("revocation follower stopped");
}

/// Forgets idle rate-limit buckets every [`LIMITER_SWEEP`] until `shutdown`
/// changes.
pub async fn sweep_limiters(throttle: Arc<Throttle>, shutdown: watch::Receiver<bool>) {
    every(LIMITER_SWEEP, shutdown, || async { throttle.sweep() }).await;
}

/// Runs `job` every `interval` (the first run one interval after start)
/// until `shutdown` changes.
async fn every<F: Future<Output = ()>>(
    interval: Duration,
    mut shutdown: watch::Receiver<bool>,
    mut job: impl FnMut() -> F,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticker.tick().await; // the immediate first tick
    loop {
        tokio::select! {
            _ = ticker.tick() => job().await,
            _ = shutdown.changed() => break,
        }
    }
}

/// Fetches the discovery of every provider that has none yet, at once and
/// then with a growing pause (5 s, doubling to 5 min), until every one has
/// it or `shutdown` changes: a provider that is down at start-up is not
/// fatal, and signs in once it answers.
pub async fn discover_providers(auth: Auth, mut shutdown: watch::Receiver<bool>) {
    let providers = auth.identity_providers().clone();
    let mut pause = Duration::from_secs(5);
    loop {
        let missing = providers.discover_missing(auth.now()).await;
        if missing == 0 {
            break;
        }
        tracing::warn!(missing, retry_in = ?pause, "OpenID providers not discovered yet");
        tokio::select! {
            () = tokio::time::sleep(pause) => {}
            _ = shutdown.changed() => break,
        }
        pause = (pause * 2).min(Duration::from_secs(300));
    }
}
