//! The revocation feed: how a session revoked on one instance is heard of
//! on every other, at once.
//!
//! Each store announces its revocations on a [`RevocationFeed`]: PostgreSQL
//! with `NOTIFY` from the revocation's own transaction, Redis with
//! `PUBLISH` from the revoking script, a lone SQLite instance in process
//! ([`InProcess`]). A networked feed shares the reconnect loop
//! ([`reconnecting`]) and the life of one connection ([`listen`]) kept here.
//! What an instance does with what it hears is [`crate::revocation`]'s.
//!
//! The same machinery carries PostgreSQL's other announcement, an
//! account's dashboard lists changed (`store/sql/activity_cache.rs`): a
//! [`Signal`] is generic over what is announced.

use std::{future::Future, sync::Arc, time::Duration};

use tokio::sync::{broadcast, mpsc};

use crate::id::SessionId;

/// What a feed tells its follower: on the revocation feed, of sessions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Signal<T = SessionId> {
    /// Subscribed: every announcement from now on will be heard.
    Listening,
    /// These were announced (sessions revoked), on some instance.
    Announced(Vec<T>),
    /// The connection ended (why, for the logs); announcements are missed
    /// until the next [`Signal::Listening`].
    Lost(String),
}

/// Where an instance hears of revocations made on any instance.
pub trait RevocationFeed: Send + Sync + 'static {
    /// How it is carried, for logs and `/readyz`.
    fn name(&self) -> &'static str;

    /// Starts following: signals arrive on the receiver, the first one
    /// [`Signal::Listening`] once subscribed, until the receiver is dropped.
    /// A feed that loses its connection sends [`Signal::Lost`] and keeps
    /// reconnecting.
    fn subscribe(&self) -> mpsc::Receiver<Signal>;

    /// Announces revocations made by this process. Stores that announce
    /// their own (the PostgreSQL trigger, the Redis scripts) ignore it.
    fn announce(&self, _ids: &[SessionId]) {}
}

/// The feed of a single process (the SQLite default): announcements go to
/// every follower of this value.
#[derive(Debug)]
pub struct InProcess(broadcast::Sender<Arc<[SessionId]>>);

impl Default for InProcess {
    fn default() -> Self {
        Self(broadcast::channel(1024).0)
    }
}

impl RevocationFeed for InProcess {
    fn name(&self) -> &'static str {
        "in process"
    }

    fn subscribe(&self) -> mpsc::Receiver<Signal> {
        let mut announced = self.0.subscribe();
        let (tx, rx) = mpsc::channel(64);
        tokio::spawn(async move {
            let mut signal = Signal::Listening;
            while tx.send(signal).await.is_ok() {
                signal = match announced.recv().await {
                    Ok(ids) => Signal::Announced(ids.to_vec()),
                    // A follower that fell behind reloads, as after a gap.
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        if tx.send(Signal::Lost(format!("{n} missed"))).await.is_err() {
                            return;
                        }
                        Signal::Listening
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
            }
        });
        rx
    }

    fn announce(&self, ids: &[SessionId]) {
        // No follower yet is not an error.
        let _ = self.0.send(ids.into());
    }
}

/// How long a feed waits before reconnecting, at first and at most.
const RECONNECT: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));

/// The reconnect loop every networked feed shares. `session` connects,
/// subscribes, sends [`Signal::Listening`] and forwards announcements until
/// the connection ends; it returns why, and whether it got as far as
/// listening. Ends when the follower is gone.
pub async fn reconnecting<T, F, Fut>(tx: mpsc::Sender<Signal<T>>, mut session: F)
where
    F: FnMut(mpsc::Sender<Signal<T>>) -> Fut + Send,
    Fut: Future<Output = (String, bool)> + Send,
{
    let mut delay = RECONNECT.0;
    while !tx.is_closed() {
        let (reason, listened) = session(tx.clone()).await;
        if tx.send(Signal::Lost(reason)).await.is_err() {
            return;
        }
        delay = if listened {
            RECONNECT.0
        } else {
            (delay * 2).min(RECONNECT.1)
        };
        tokio::time::sleep(delay).await;
    }
}

/// With nothing heard for this long, a networked feed checks its
/// connection, so a silently dead one is noticed.
const IDLE: Duration = Duration::from_secs(10);

/// One subscribed connection of a networked feed.
pub trait Subscription: Send {
    /// The next announcement's payload (an id), `Ok(None)` once the
    /// connection has ended. Must be cancel-safe: an idle timeout drops it.
    fn next(&mut self) -> impl Future<Output = Result<Option<String>, String>> + Send;

    /// Whether the connection still answers, after [`IDLE`] of silence.
    fn check(&mut self) -> impl Future<Output = Result<(), String>> + Send;
}

/// One connection's life, for [`reconnecting`]: connects (within
/// `timeout`), sends [`Signal::Listening`], forwards announcements until
/// the connection ends, and returns why and whether it got to listening.
/// A payload that does not parse as a `T` is logged and skipped.
pub async fn listen<T: std::str::FromStr, S: Subscription>(
    tx: &mpsc::Sender<Signal<T>>,
    timeout: Duration,
    connect: impl Future<Output = Result<S, String>>,
) -> (String, bool) {
    let mut sub = match tokio::time::timeout(timeout, connect).await {
        Ok(Ok(sub)) => sub,
        Ok(Err(err)) => return (err, false),
        Err(_) => return ("connecting timed out".into(), false),
    };
    if tx.send(Signal::Listening).await.is_err() {
        return ("stopped".into(), true);
    }
    loop {
        let next = tokio::select! {
            () = tx.closed() => return ("stopped".into(), true),
            next = tokio::time::timeout(IDLE, sub.next()) => next,
        };
        let ended = match next {
            Ok(Ok(Some(payload))) => match payload.parse::<T>() {
                Ok(id) => match tx.send(Signal::Announced(vec![id])).await {
                    Ok(()) => continue,
                    Err(_) => "stopped".into(),
                },
                Err(_) => {
                    tracing::warn!("ignoring a malformed announcement");
                    continue;
                }
            },
            Ok(Ok(None)) => "connection closed".into(),
            Ok(Err(err)) => err,
            Err(_idle) => match tokio::time::timeout(timeout, sub.check()).await {
                Ok(Ok(())) => continue,
                Ok(Err(err)) => err,
                Err(_) => "connection check timed out".into(),
            },
        };
        return (ended, true);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_announcements_reach_every_follower() {
        let feed = InProcess::default();
        let (mut one, mut two) = (feed.subscribe(), feed.subscribe());
        assert_eq!(one.recv().await, Some(Signal::Listening));
        assert_eq!(two.recv().await, Some(Signal::Listening));
        let id = SessionId::new();
        feed.announce(&[id]);
        assert_eq!(one.recv().await, Some(Signal::Announced(vec![id])));
        assert_eq!(two.recv().await, Some(Signal::Announced(vec![id])));
    }

    #[tokio::test]
    async fn a_follower_that_falls_behind_is_told_to_reload() {
        let feed = InProcess::default();
        let mut slow = feed.subscribe();
        assert_eq!(slow.recv().await, Some(Signal::Listening));
        for _ in 0..2000 {
            feed.announce(&[SessionId::new()]);
        }
        let mut lost = false;
        while let Some(signal) = slow.recv().await {
            match signal {
                Signal::Lost(_) => lost = true,
                Signal::Listening if lost => return,
                _ => {}
            }
        }
        panic!("no Lost then Listening");
    }

    #[tokio::test]
    async fn a_feed_reconnects_until_its_follower_is_gone() {
        let (tx, mut rx) = mpsc::channel(8);
        let attempts = Arc::new(std::sync::atomic::AtomicU32::new(0));
        let task = tokio::spawn(reconnecting(tx, {
            let attempts = attempts.clone();
            move |tx: mpsc::Sender<Signal>| {
                let n = attempts.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                async move {
                    if n == 1 {
                        let _ = tx.send(Signal::Listening).await;
                        return ("closed".to_owned(), true);
                    }
                    ("refused".to_owned(), false)
                }
            }
        }));
        assert_eq!(rx.recv().await, Some(Signal::Lost("refused".into())));
        assert_eq!(rx.recv().await, Some(Signal::Listening));
        assert_eq!(rx.recv().await, Some(Signal::Lost("closed".into())));
        drop(rx);
        tokio::time::timeout(Duration::from_secs(10), task)
            .await
            .expect("stops")
            .unwrap();
    }
}
