//! A message in the outbox, and how long a failed one waits.

use time::{Duration, OffsetDateTime};

/// A message to send: written to the outbox with what caused it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mail {
    /// What it is for (a link's purpose): one address gets one message of
    /// a kind a minute at most.
    pub kind: String,
    /// The recipient's address.
    pub to: String,
    /// Subject line.
    pub subject: String,
    /// Plain-text body.
    pub text: String,
    /// HTML body, the same words.
    pub html: String,
}

/// A message as the outbox holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueuedMail {
    /// Its place in the outbox.
    pub id: i64,
    /// The message.
    pub mail: Mail,
    /// When it was queued.
    pub created_at: OffsetDateTime,
    /// Failed attempts so far.
    pub attempts: i64,
    /// When it was delivered to the SMTP server; `None` while waiting.
    pub sent_at: Option<OffsetDateTime>,
}

/// How long the sender holds a message it took: another instance takes it
/// again after this if the first died while sending.
pub const LEASE: Duration = Duration::minutes(2);

/// Sent mail is kept this long (the development mailbox shows it), then
/// purged; unsent mail is kept until sent.
pub const KEEP_SENT: Duration = Duration::days(7);

/// The window of the mail limit.
pub const LIMIT_WINDOW: Duration = Duration::hours(1);

/// Most messages one address receives in [`LIMIT_WINDOW`] (whoever asks
/// for them).
pub const PER_ADDRESS: i64 = 5;

/// Least time between two messages of one kind to one address.
pub const SPACING: Duration = Duration::minutes(1);

/// Whether another message to an address that received `sent` in the
/// window, the latest of the same kind at `latest`, is refused at `now`.
#[must_use]
pub fn over_limit(sent: i64, latest: Option<OffsetDateTime>, now: OffsetDateTime) -> bool {
    sent >= PER_ADDRESS || latest.is_some_and(|at| now - at < SPACING)
}

/// The wait after the `attempts`-th failure: 30 s doubling, at most an
/// hour, so a server down for a day costs about thirty tries per message.
#[must_use]
pub fn backoff(attempts: i64) -> Duration {
    let doublings = attempts.clamp(1, 8) - 1;
    (Duration::seconds(30) * (1_i32 << doublings)).min(Duration::hours(1))
}

#[cfg(test)]
mod tests {
    use time::{Duration, OffsetDateTime};

    use super::{backoff, over_limit};

    #[test]
    fn an_address_gets_a_few_messages_an_hour_a_minute_apart() {
        let now = OffsetDateTime::UNIX_EPOCH + Duration::days(1);
        assert!(!over_limit(0, None, now));
        assert!(!over_limit(4, Some(now - Duration::minutes(2)), now));
        assert!(over_limit(1, Some(now - Duration::seconds(59)), now));
        assert!(over_limit(5, Some(now - Duration::minutes(30)), now));
    }

    #[test]
    fn a_failed_message_waits_longer_each_time_up_to_an_hour() {
        assert_eq!(backoff(1), Duration::seconds(30));
        assert_eq!(backoff(2), Duration::minutes(1));
        assert_eq!(backoff(4), Duration::minutes(4));
        assert_eq!(backoff(7), Duration::minutes(32));
        assert_eq!(backoff(8), Duration::hours(1));
        assert_eq!(backoff(1000), Duration::hours(1));
    }
}
