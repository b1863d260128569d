//! The Redis revocation feed: the revoking scripts `PUBLISH` each revoked
//! session's id on `{prefix}revocations` (atomically with the revocation),
//! and every instance `SUBSCRIBE`s on a connection of its own.

use std::time::Duration;

use futures_util::StreamExt as _;
use tokio::sync::mpsc;

use crate::{
    feed::{listen, reconnecting, RevocationFeed, Signal, Subscription},
    Error,
};

/// Revocations published by the Redis session store.
#[derive(Clone, Debug)]
pub struct RedisFeed {
    client: redis::Client,
    channel: String,
    timeout: Duration,
}

impl RedisFeed {
    /// The feed of the store at `url` under `prefix`; connecting and each
    /// check fail after `timeout`.
    ///
    /// # Errors
    /// A malformed URL.
    pub fn new(url: &str, prefix: &str, timeout: Duration) -> Result<Self, Error> {
        Ok(Self {
            client: redis::Client::open(url).map_err(Error::storage)?,
            channel: format!("{prefix}revocations"),
            timeout,
        })
    }

    /// One connection's life; see [`listen`].
    async fn session(self, tx: mpsc::Sender<Signal>) -> (String, bool) {
        let connect = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&self.channel).await?;
            Ok::<_, redis::RedisError>(Subscribed(pubsub.split()))
        };
        listen(&tx, self.timeout, async {
            connect.await.map_err(|e| e.to_string())
        })
        .await
    }
}

/// A `SUBSCRIBE`d connection: pings go out on the sink, messages come in
/// on the stream.
struct Subscribed((redis::aio::PubSubSink, redis::aio::PubSubStream));

impl Subscription for Subscribed {
    // `StreamExt::next` is cancel-safe.
    async fn next(&mut self) -> Result<Option<String>, String> {
        let Some(msg) = self.0 .1.next().await else {
            return Ok(None);
        };
        // A payload that is not UTF-8 is malformed like any other.
        Ok(Some(
            String::from_utf8_lossy(msg.get_payload_bytes()).into_owned(),
        ))
    }

    async fn check(&mut self) -> Result<(), String> {
        let ping = self.0 .0.ping::<redis::Value>().await;
        ping.map(drop).map_err(|e| e.to_string())
    }
}

impl RevocationFeed for RedisFeed {
    fn name(&self) -> &'static str {
        "redis pub/sub"
    }

    fn subscribe(&self) -> mpsc::Receiver<Signal> {
        let (tx, rx) = mpsc::channel(256);
        let feed = self.clone();
        tokio::spawn(reconnecting(tx, move |tx| feed.clone().session(tx)));
        rx
    }
}
