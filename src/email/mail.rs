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

/// Most links one address receives in [`LIMIT_WINDOW`], whoever asks for
/// them. Notices do not count, nor are they capped: a stranger asking for
/// links must not be able to silence the notice of a sign-in.
pub const PER_ADDRESS: i64 = 5;

/// Least time between two messages of one kind to one address.
pub const SPACING: Duration = Duration::minutes(1);

/// The kind of a message carrying a link for `purpose` (`link:reset`):
/// the kinds [`PER_ADDRESS`] caps.
#[must_use]
pub fn link_kind(purpose: &str) -> String {
    format!("{LINK_KIND}{purpose}")
}

/// The prefix of [`link_kind`]s.
pub const LINK_KIND: &str = "link:";

/// Whether a message of `kind` to an address that received `links` links
/// in the window, and the latest message of the same kind at `latest`, is
/// refused at `now`.
#[must_use]
pub fn over_limit(
    kind: &str,
    links: i64,
    latest: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> bool {
    let capped = kind.starts_with(LINK_KIND) && links >= PER_ADDRESS;
    capped || latest.is_some_and(|at| now - at < SPACING)
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
        let link = super::link_kind("reset");
        assert!(!over_limit(&link, 0, None, now));
        assert!(!over_limit(&link, 4, Some(now - Duration::minutes(2)), now));
        assert!(over_limit(&link, 1, Some(now - Duration::seconds(59)), now));
        // Notices are spaced, never capped by the links others asked for.
        assert!(!over_limit("notice:new_device", 5, None, now));
        assert!(over_limit(
            "notice:new_device",
            0,
            Some(now - Duration::seconds(1)),
            now
        ));
        assert!(over_limit(&link, 5, Some(now - Duration::minutes(30)), now));
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
