//! Expiry rules: a sliding idle timeout under an absolute cap.
//!
//! OWASP's guidance for low-risk applications: 15–30 minutes idle and 4–8
//! hours absolute. The defaults take the generous end of both (30 min, 8 h).
//! "Remember me" is an explicit, documented choice for longer limits
//! (7 days idle, 30 days absolute) and a persistent cookie.

use time::{Duration, OffsetDateTime};

/// The longest access-token lifetime the configuration accepts: every
/// instance but the revoking one accepts a revoked session's token this
/// long ([`crate::deny_list::RETAIN`] follows from it).
pub const MAX_ACCESS_TTL: time::Duration = time::Duration::minutes(15);

/// The longest refresh grace window [`SessionPolicy::validate`] accepts.
pub const MAX_REFRESH_GRACE: Duration = Duration::seconds(60);

/// How long sessions live. Built once from configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionPolicy {
    /// Inactivity after which a normal session ends.
    pub idle_timeout: Duration,
    /// Hard cap on a normal session's lifetime.
    pub absolute_timeout: Duration,
    /// Inactivity after which a "remember me" session ends.
    pub remember_idle_timeout: Duration,
    /// Hard cap on a "remember me" session's lifetime.
    pub remember_absolute_timeout: Duration,
    /// Minimum time between two writes that slide the idle expiry: most
    /// requests read the session and write nothing.
    pub touch_interval: Duration,
    /// How long a rotated refresh token is still accepted (without a new
    /// rotation), so tabs refreshing at the same moment do not trip reuse
    /// detection. After it, presenting the old token revokes the session.
    pub refresh_grace: Duration,
    /// How long after the user last proved a credential a sensitive action
    /// (password change, deletion, "sign out everywhere") is allowed
    /// without asking again (OWASP ASVS V3.7.1).
    pub reauth_window: Duration,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::minutes(30),
            absolute_timeout: Duration::hours(8),
            remember_idle_timeout: Duration::days(7),
            remember_absolute_timeout: Duration::days(30),
            touch_interval: Duration::minutes(1),
            refresh_grace: Duration::seconds(30),
            reauth_window: Duration::minutes(10),
        }
    }
}

/// The expiry times of one session at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expiry {
    /// When inactivity ends the session (never after `absolute`).
    pub idle: OffsetDateTime,
    /// When the session ends regardless.
    pub absolute: OffsetDateTime,
}

impl SessionPolicy {
    /// How long a rotated refresh token is kept to recognise its replay:
    /// a normal session's whole lifetime. Past it, a replay is refused as
    /// an unknown token (the thief still gets nothing) but no longer ends
    /// the session; in return a remember-me session's chain stays bounded
    /// (one row per refresh) instead of growing for 30 days.
    #[must_use]
    pub fn rotated_token_retention(&self) -> Duration {
        self.absolute_timeout
    }

    /// Checks the limits are usable: positive, idle within absolute, and the
    /// remember-me limits at least the normal ones.
    ///
    /// # Errors
    /// [`crate::Error::Invalid`] naming the broken rule.
    pub fn validate(&self) -> Result<(), crate::Error> {
        let positive = [
            self.idle_timeout,
            self.absolute_timeout,
            self.remember_idle_timeout,
            self.remember_absolute_timeout,
            self.reauth_window,
        ]
        .iter()
        .all(|d| d.is_positive());
        if !positive || self.touch_interval.is_negative() || self.refresh_grace.is_negative() {
            return Err(crate::Error::Invalid("session timeouts must be positive"));
        }
        if self.idle_timeout > self.absolute_timeout
            || self.remember_idle_timeout > self.remember_absolute_timeout
        {
            return Err(crate::Error::Invalid(
                "an idle timeout cannot exceed its absolute timeout",
            ));
        }
        // RFC 9700 wants a replayed token caught; a long grace lets a thief's
        // replay pass for a racing tab.
        if self.refresh_grace > MAX_REFRESH_GRACE {
            return Err(crate::Error::Invalid(
                "the refresh grace period is at most 60s: a replayed refresh token passes for \
                 a racing tab this long",
            ));
        }
        if self.touch_interval >= self.idle_timeout {
            return Err(crate::Error::Invalid(
                "the touch interval must be shorter than the idle timeout",
            ));
        }
        Ok(())
    }

    /// Whether a credential proved at `authenticated_at` is recent enough
    /// at `now` for a sensitive action: less than the window has passed.
    /// (Times are whole seconds, both rounded down, so "less than" never
    /// lets more than the window pass.)
    #[must_use]
    pub fn is_recent(&self, authenticated_at: OffsetDateTime, now: OffsetDateTime) -> bool {
        now - authenticated_at < self.reauth_window
    }

    /// Limits for a session starting `now`.
    #[must_use]
    pub fn initial(&self, now: OffsetDateTime, remember: bool) -> Expiry {
        let (idle, absolute) = self.limits(remember);
        let absolute = now + absolute;
        Expiry {
            idle: (now + idle).min(absolute),
            absolute,
        }
    }

    /// The idle expiry after activity at `now`, capped by the absolute one.
    #[must_use]
    pub fn slide(
        &self,
        now: OffsetDateTime,
        remember: bool,
        absolute: OffsetDateTime,
    ) -> OffsetDateTime {
        (now + self.limits(remember).0).min(absolute)
    }

    /// Whether activity at `now` should be written, given the last write.
    #[must_use]
    pub fn needs_touch(&self, now: OffsetDateTime, last_seen: OffsetDateTime) -> bool {
        now - last_seen >= self.touch_interval
    }

    /// How long before the idle expiry the UI offers to stay signed in: a
    /// quarter of the idle timeout, at most two minutes (WCAG 2.2.1 asks for
    /// at least 20 seconds to respond), and never earlier than the point
    /// where one refresh is sure to slide the expiry (the touch interval).
    #[must_use]
    pub fn warning(&self, remember: bool) -> Duration {
        let idle = self.limits(remember).0;
        (idle / 4_i32)
            .min(Duration::minutes(2))
            .min(idle - self.touch_interval)
    }

    fn limits(&self, remember: bool) -> (Duration, Duration) {
        if remember {
            (self.remember_idle_timeout, self.remember_absolute_timeout)
        } else {
            (self.idle_timeout, self.absolute_timeout)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warning_leaves_time_to_answer_and_a_refresh_that_slides() {
        let p = SessionPolicy::default();
        assert_eq!(p.warning(false), Duration::minutes(2));
        assert_eq!(p.warning(true), Duration::minutes(2));
        let short = SessionPolicy {
            idle_timeout: Duration::seconds(20),
            touch_interval: Duration::seconds(1),
            ..p
        };
        assert_eq!(short.warning(false), Duration::seconds(5));
        // A refresh inside the warning must be past the touch interval.
        let lazy = SessionPolicy {
            idle_timeout: Duration::minutes(10),
            touch_interval: Duration::minutes(9),
            ..p
        };
        assert_eq!(lazy.warning(false), Duration::minutes(1));
    }

    #[test]
    fn defaults_follow_owasp_low_risk_guidance_and_validate() {
        let p = SessionPolicy::default();
        assert!(p.idle_timeout >= Duration::minutes(15) && p.idle_timeout <= Duration::minutes(30));
        assert!(
            p.absolute_timeout >= Duration::hours(4) && p.absolute_timeout <= Duration::hours(8)
        );
        p.validate().unwrap();
    }

    #[test]
    fn idle_expiry_never_passes_the_absolute_cap() {
        let p = SessionPolicy::default();
        let start = OffsetDateTime::UNIX_EPOCH;
        let e = p.initial(start, false);
        assert_eq!(e.idle, start + Duration::minutes(30));
        assert_eq!(e.absolute, start + Duration::hours(8));
        let late = start + Duration::hours(7) + Duration::minutes(50);
        assert_eq!(p.slide(late, false, e.absolute), e.absolute);
    }

    #[test]
    fn remember_me_gets_the_longer_limits() {
        let p = SessionPolicy::default();
        let e = p.initial(OffsetDateTime::UNIX_EPOCH, true);
        assert_eq!(e.absolute - OffsetDateTime::UNIX_EPOCH, Duration::days(30));
    }

    #[test]
    fn a_proof_is_recent_for_less_than_the_window() {
        let p = SessionPolicy::default();
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(p.is_recent(t, t));
        assert!(p.is_recent(t, t + Duration::minutes(10) - Duration::seconds(1)));
        assert!(!p.is_recent(t, t + Duration::minutes(10)));
    }

    #[test]
    fn touches_are_throttled() {
        let p = SessionPolicy::default();
        let t = OffsetDateTime::UNIX_EPOCH;
        assert!(!p.needs_touch(t + Duration::seconds(59), t));
        assert!(p.needs_touch(t + Duration::seconds(60), t));
    }

    #[test]
    fn inconsistent_limits_are_refused() {
        let bad = [
            SessionPolicy {
                idle_timeout: Duration::ZERO,
                ..SessionPolicy::default()
            },
            SessionPolicy {
                idle_timeout: Duration::hours(9),
                ..SessionPolicy::default()
            },
            SessionPolicy {
                touch_interval: Duration::hours(1),
                ..SessionPolicy::default()
            },
            SessionPolicy {
                refresh_grace: Duration::seconds(61),
                ..SessionPolicy::default()
            },
        ];
        for p in bad {
            assert!(p.validate().is_err(), "{p:?}");
        }
    }
}
