//! When the current session ends, as the browser needs to know it: for the
//! dashboard's live countdowns and the "stay signed in" prompt.
//!
//! The server states the times wherever it validated the session: the
//! `X-Session-Times` header (set by the session layer on every response that
//! kept the session, and by the refresh endpoint) and the header of every
//! server-rendered page. The browser keeps the newest observation in
//! [`SessionClock`], shares it with its other tabs (activity in one tab keeps
//! the others from warning) and with the tab's next pages
//! (`sessionStorage`), and counts down locally against the *server's*
//! clock: each observation carries the server time, so a wrong local clock
//! does not matter. One clock per page, shared by its islands.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

#[cfg(feature = "hydrate")]
#[path = "session_clock/browser.rs"]
mod imp;
#[cfg(not(feature = "hydrate"))]
#[path = "session_clock/server.rs"]
mod imp;

/// The response header carrying [`SessionTimes`].
pub const HEADER: &str = "x-session-times";

/// One observation of the session's timing (Unix seconds).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTimes {
    /// Last recorded activity.
    pub last_seen_at: i64,
    /// When inactivity ends the session.
    pub idle_expires_at: i64,
    /// When the session ends regardless.
    pub expires_at: i64,
    /// How many seconds before the idle expiry to offer to stay signed in.
    pub warn_before: i64,
    /// The server's time when observed.
    pub now: i64,
}

/// Where the session stands at a moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Nothing to say.
    Quiet,
    /// Ending in `remaining` seconds. `extendable` is false when the idle
    /// expiry has reached the absolute one: activity cannot help then.
    Ending {
        /// Seconds left.
        remaining: i64,
        /// Whether one refresh would push the end back.
        extendable: bool,
    },
    /// Ended.
    Ended,
}

impl SessionTimes {
    /// `seen=…, idle=…, absolute=…, warn=…, now=…`.
    #[must_use]
    pub fn to_header(&self) -> String {
        format!(
            "seen={}, idle={}, absolute={}, warn={}, now={}",
            self.last_seen_at, self.idle_expires_at, self.expires_at, self.warn_before, self.now
        )
    }

    /// Parses [`Self::to_header`]'s format; `None` if any field is missing
    /// or not a number.
    #[must_use]
    pub fn from_header(value: &str) -> Option<Self> {
        let mut fields = [None; 5];
        for part in value.split(',') {
            let (key, number) = part.trim().split_once('=')?;
            let slot = match key {
                "seen" => 0,
                "idle" => 1,
                "absolute" => 2,
                "warn" => 3,
                "now" => 4,
                _ => continue,
            };
            fields[slot] = Some(number.parse::<i64>().ok()?);
        }
        Some(Self {
            last_seen_at: fields[0]?,
            idle_expires_at: fields[1]?,
            expires_at: fields[2]?,
            warn_before: fields[3]?,
            now: fields[4]?,
        })
    }

    /// The phase at server time `now`.
    #[must_use]
    pub fn phase(&self, now: i64) -> Phase {
        let remaining = self.idle_expires_at - now;
        if remaining <= 0 {
            Phase::Ended
        } else if remaining <= self.warn_before {
            Phase::Ending {
                remaining,
                extendable: self.idle_expires_at < self.expires_at,
            }
        } else {
            Phase::Quiet
        }
    }
}

#[cfg(feature = "ssr")]
impl SessionTimes {
    /// The times of a validated session at `now`.
    #[must_use]
    pub fn of(
        auth: &engine::Authenticated,
        policy: &engine::SessionPolicy,
        now: time::OffsetDateTime,
    ) -> Self {
        let s = &auth.session;
        Self {
            last_seen_at: s.last_seen_at.unix_timestamp(),
            idle_expires_at: s.idle_expires_at.unix_timestamp(),
            expires_at: s.expires_at.unix_timestamp(),
            warn_before: policy.warning(s.persistent).whole_seconds(),
            now: now.unix_timestamp(),
        }
    }
}

/// The browser's view of the session's timing; `Copy`, one per page.
#[derive(Clone, Copy, Debug)]
pub struct SessionClock {
    known: RwSignal<Option<Known>>,
    /// The browser's `Date.now()`, updated every second once hydrated.
    /// `None` on the server and until then, so both render the same.
    now_ms: RwSignal<Option<f64>>,
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Known {
    times: SessionTimes,
    /// Server clock minus browser clock, in milliseconds.
    skew_ms: f64,
}

impl SessionClock {
    fn new() -> Self {
        Self {
            known: RwSignal::new(None),
            now_ms: RwSignal::new(None),
        }
    }

    /// The page's clock: in the browser, the one every island shares,
    /// ticking from the first use; on the server, a fresh one that never
    /// ticks (so both render the same before hydration).
    #[must_use]
    pub fn get() -> Self {
        imp::shared()
    }

    /// The newest observation (tracked).
    #[must_use]
    pub fn times(self) -> Option<SessionTimes> {
        self.known.with(|k| k.map(|k| k.times))
    }

    /// The server's time now, in Unix seconds, ticking every second
    /// (tracked); `None` until the browser clock runs and a session is known.
    #[must_use]
    pub fn now(self) -> Option<i64> {
        let now_ms = self.now_ms.get()?;
        let skew = self.known.with(|k| k.map(|k| k.skew_ms))?;
        Some(((now_ms + skew) / 1000.0).floor() as i64)
    }

    /// Records an observation unless a newer one is known.
    pub fn observe(self, times: SessionTimes) {
        imp::observe(self, times, true);
    }

    /// Forgets the session (signed out).
    pub fn clear(self) {
        self.known.set(None);
        imp::forget();
    }
}

/// Records the times a server response carried, if any. For code outside
/// the component tree (the server-function client, the refresh call).
pub fn observe_header(value: Option<&str>) {
    imp::observe_header(value);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn times() -> SessionTimes {
        SessionTimes {
            last_seen_at: 1_000,
            idle_expires_at: 2_800,
            expires_at: 29_800,
            warn_before: 120,
            now: 1_000,
        }
    }

    #[test]
    fn the_header_round_trips_and_refuses_garbage() {
        let t = times();
        assert_eq!(SessionTimes::from_header(&t.to_header()), Some(t));
        assert_eq!(
            SessionTimes::from_header(
                "now=1, warn=120, absolute=29800, idle=2800, seen=1000, extra=7"
            ),
            Some(SessionTimes { now: 1, ..t })
        );
        for bad in [
            "",
            "idle=2800",
            "seen=x, idle=1, absolute=1, warn=1, now=1",
            "seen 1",
        ] {
            assert_eq!(SessionTimes::from_header(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn phases_follow_the_idle_expiry() {
        let t = times();
        assert_eq!(t.phase(1_000), Phase::Quiet);
        assert_eq!(t.phase(2_680 - 1), Phase::Quiet);
        assert_eq!(
            t.phase(2_680),
            Phase::Ending {
                remaining: 120,
                extendable: true
            }
        );
        assert_eq!(
            t.phase(2_799),
            Phase::Ending {
                remaining: 1,
                extendable: true
            }
        );
        assert_eq!(t.phase(2_800), Phase::Ended);
        let capped = SessionTimes {
            idle_expires_at: 29_800,
            ..t
        };
        assert_eq!(
            capped.phase(29_790),
            Phase::Ending {
                remaining: 10,
                extendable: false
            }
        );
    }
}
