//! Brute-force limits on credential attempts and token refreshes.
//!
//! Argon2id makes each password guess slow; these limits make guessing at
//! scale impossible. Sign-in and sign-up share two buckets: one per client
//! IP (a single attacker trying many accounts) and one per account name
//! (many addresses trying one account). Refreshes have a per-IP bucket.
//!
//! Buckets are GCRA cells from `governor`, kept in memory: with several
//! instances behind a load balancer each enforces its own share, so the
//! effective limit is at most `instances ×` the configured one.

use std::{net::IpAddr, num::NonZeroU32, time::Duration};

use governor::{clock::Clock as _, DefaultKeyedRateLimiter, Quota};

/// `count` requests per `per`, refilled evenly (a burst of `count` at most).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Requests allowed in a burst.
    pub count: NonZeroU32,
    /// Time to refill the whole burst.
    pub per: Duration,
}

/// The longest period accepted: far beyond any sensible value.
const LONGEST_PERIOD: Duration = Duration::from_secs(1_000_000 * 86_400);

impl std::str::FromStr for Limit {
    type Err = &'static str;

    /// `<count>/<period>`, such as `5/1m`: a burst of five, refilled over a
    /// minute. The period is in humantime's syntax (`10s`, `1h 30m`).
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let limit = || {
            let (count, per) = text.split_once('/')?;
            let per = humantime::parse_duration(per.trim()).ok()?;
            (!per.is_zero() && per <= LONGEST_PERIOD).then_some(())?;
            let count = count.trim().parse().ok()?;
            Some(Self { count, per })
        };
        limit().ok_or("expected <count>/<period>, such as 5/1m or 100/10s")
    }
}

impl Limit {
    fn quota(self) -> Quota {
        let per_cell = self.per / self.count.get();
        Quota::with_period(per_cell.max(Duration::from_millis(1)))
            .unwrap_or_else(|| Quota::per_second(self.count))
            .allow_burst(self.count)
    }
}

/// The three limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottleSettings {
    /// Sign-in and sign-up attempts per client IP.
    pub credentials_per_ip: Limit,
    /// Sign-in and sign-up attempts per account name.
    pub credentials_per_account: Limit,
    /// Refreshes per client IP.
    pub refresh_per_ip: Limit,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        let limit = |count: u32, secs: u64| Limit {
            count: NonZeroU32::new(count).unwrap_or(NonZeroU32::MIN),
            per: Duration::from_secs(secs),
        };
        Self {
            credentials_per_ip: limit(20, 60),
            credentials_per_account: limit(5, 60),
            refresh_per_ip: limit(120, 60),
        }
    }
}

/// Over the limit; try again after `retry_after_secs`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("too many attempts; try again in {retry_after_secs} s")]
pub struct Throttled {
    /// Whole seconds until a new attempt is allowed (at least 1).
    pub retry_after_secs: u64,
}

/// The limiters; share one per process.
#[derive(Debug)]
pub struct Throttle {
    credentials_ip: DefaultKeyedRateLimiter<IpAddr>,
    credentials_account: DefaultKeyedRateLimiter<String>,
    refresh_ip: DefaultKeyedRateLimiter<IpAddr>,
}

/// Longest account key kept (names are at most this long anyway).
const MAX_ACCOUNT_KEY: usize = 254;

impl Throttle {
    /// Limiters for `settings`.
    #[must_use]
    pub fn new(settings: ThrottleSettings) -> Self {
        Self {
            credentials_ip: DefaultKeyedRateLimiter::keyed(settings.credentials_per_ip.quota()),
            credentials_account: DefaultKeyedRateLimiter::keyed(
                settings.credentials_per_account.quota(),
            ),
            refresh_ip: DefaultKeyedRateLimiter::keyed(settings.refresh_per_ip.quota()),
        }
    }

    /// Counts a sign-in or sign-up attempt for `ip` and `account`.
    ///
    /// # Errors
    /// [`Throttled`] when either bucket is empty. The IP is checked first,
    /// so an attacker cycling names cannot drain other accounts' buckets.
    pub fn check_credentials(&self, ip: Option<IpAddr>, account: &str) -> Result<(), Throttled> {
        if let Some(ip) = ip {
            check(&self.credentials_ip, &ip)?;
        }
        check(&self.credentials_account, &account_key(account))
    }

    /// Counts a refresh from `ip`.
    ///
    /// # Errors
    /// [`Throttled`] when the bucket is empty.
    pub fn check_refresh(&self, ip: Option<IpAddr>) -> Result<(), Throttled> {
        ip.map_or(Ok(()), |ip| check(&self.refresh_ip, &ip))
    }

    /// Drops buckets that are full again, so memory follows recent traffic
    /// rather than every address ever seen. Call periodically.
    pub fn forget_idle(&self) {
        for limiter in [&self.credentials_ip, &self.refresh_ip] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
        self.credentials_account.retain_recent();
        self.credentials_account.shrink_to_fit();
    }
}

/// Names are matched the way sign-in matches them: trimmed, case-folded.
fn account_key(account: &str) -> String {
    let trimmed = account.trim();
    let end = trimmed
        .char_indices()
        .nth(MAX_ACCOUNT_KEY)
        .map_or(trimmed.len(), |(i, _)| i);
    trimmed[..end].to_lowercase()
}

fn check<K>(limiter: &DefaultKeyedRateLimiter<K>, key: &K) -> Result<(), Throttled>
where
    K: Clone + Eq + std::hash::Hash,
{
    limiter.check_key(key).map_err(|not_until| {
        let wait = not_until.wait_time_from(governor::clock::DefaultClock::default().now());
        // Whole seconds, rounded up: `Retry-After` has no fractions.
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        Throttled {
            retry_after_secs: secs.max(1),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_parse_as_count_per_period() {
        let limit: Limit = " 3 / 10s ".parse().unwrap();
        assert_eq!((limit.count.get(), limit.per), (3, Duration::from_secs(10)));
        let long: Limit = "100/1h 30m".parse().unwrap();
        assert_eq!(long.per, Duration::from_secs(5_400));
        for bad in [
            "0/1m",
            "ten",
            "5",
            "5/",
            "5/0s",
            "5/soon",
            "-1/1m",
            "5/2000000d",
        ] {
            assert!(bad.parse::<Limit>().is_err(), "{bad}");
        }
    }

    fn settings(count: u32, secs: u64) -> ThrottleSettings {
        let limit = Limit {
            count: NonZeroU32::new(count).unwrap(),
            per: Duration::from_secs(secs),
        };
        ThrottleSettings {
            credentials_per_ip: Limit {
                count: NonZeroU32::new(100).unwrap(),
                per: Duration::from_secs(60),
            },
            credentials_per_account: limit,
            refresh_per_ip: limit,
        }
    }

    #[test]
    fn an_account_bucket_empties_and_names_are_case_folded() {
        let throttle = Throttle::new(settings(3, 60));
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for _ in 0..3 {
            throttle.check_credentials(ip, "Alice").unwrap();
        }
        let err = throttle.check_credentials(ip, " alice ").unwrap_err();
        assert!((1..=20).contains(&err.retry_after_secs), "{err:?}");
        throttle.check_credentials(ip, "bob").unwrap();
    }

    #[test]
    fn the_ip_bucket_is_checked_before_the_account() {
        let mut s = settings(100, 60);
        s.credentials_per_ip = Limit {
            count: NonZeroU32::new(2).unwrap(),
            per: Duration::from_secs(60),
        };
        let throttle = Throttle::new(s);
        let ip = Some(IpAddr::from([10, 0, 0, 2]));
        throttle.check_credentials(ip, "a").unwrap();
        throttle.check_credentials(ip, "b").unwrap();
        assert!(throttle.check_credentials(ip, "c").is_err());
        assert!(throttle
            .check_credentials(Some(IpAddr::from([10, 0, 0, 3])), "c")
            .is_ok());
    }

    #[test]
    fn refresh_without_an_ip_is_not_limited_by_ip() {
        let throttle = Throttle::new(settings(1, 60));
        throttle.check_refresh(None).unwrap();
        throttle.check_refresh(None).unwrap();
        let ip = Some(IpAddr::from([10, 0, 0, 4]));
        throttle.check_refresh(ip).unwrap();
        assert!(throttle.check_refresh(ip).is_err());
        throttle.forget_idle();
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let key = account_key(&"é".repeat(400));
        assert_eq!(key.chars().count(), MAX_ACCOUNT_KEY);
    }
}
