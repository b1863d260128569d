//! Brute-force limits on credential attempts and token refreshes.
//!
//! Argon2id makes each password guess slow; these limits make guessing at
//! scale impossible. Sign-in and sign-up share two buckets: one per client
//! IP (a single attacker trying many accounts) and one per account name
//! (many addresses trying one account). Refreshes have a per-IP bucket.
//!
//! A client address means an IPv4 address, or the IPv6 /64 it is in: one
//! subscriber usually holds a whole /64, so rotating within it buys no new
//! budget. Each IPv6 /48 (a site) also has a looser budget,
//! [`SITE_FACTOR`] times the per-address one.
//!
//! Buckets are GCRA cells from `governor`, kept in memory: with several
//! instances behind a load balancer each enforces its own share, so the
//! effective limit is at most `instances ×` the configured one. Memory is
//! bounded: at most [`MAX_KEYS`] buckets per limit; past that (a flood from
//! more addresses than that within one refill period) new addresses share
//! one overflow bucket, and [`Throttle::sweep`] (every minute) drops the
//! buckets that are full again.

use std::{
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use governor::{clock::Clock as _, DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota};

/// Most buckets kept per limit (about 100 bytes each).
pub const MAX_KEYS: usize = 100_000;

/// How much larger an IPv6 /48's budget is than one address's (/64's).
pub const SITE_FACTOR: u32 = 8;

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
    /// The same rate, `factor` times larger.
    fn times(self, factor: u32) -> Self {
        Self {
            count: self
                .count
                .saturating_mul(NonZeroU32::new(factor).unwrap_or(NonZeroU32::MIN)),
            per: self.per,
        }
    }

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
    credentials_ip: Buckets<IpAddr>,
    credentials_site: Buckets<IpAddr>,
    credentials_account: Buckets<String>,
    refresh_ip: Buckets<IpAddr>,
    refresh_site: Buckets<IpAddr>,
}

/// Longest account key kept (names are at most this long anyway).
const MAX_ACCOUNT_KEY: usize = 254;

impl Throttle {
    /// Limiters for `settings`.
    #[must_use]
    pub fn new(settings: ThrottleSettings) -> Self {
        let site = |limit: Limit| Buckets::new(limit.times(SITE_FACTOR), MAX_KEYS);
        Self {
            credentials_ip: Buckets::new(settings.credentials_per_ip, MAX_KEYS),
            credentials_site: site(settings.credentials_per_ip),
            credentials_account: Buckets::new(settings.credentials_per_account, MAX_KEYS),
            refresh_ip: Buckets::new(settings.refresh_per_ip, MAX_KEYS),
            refresh_site: site(settings.refresh_per_ip),
        }
    }

    /// Counts a sign-in or sign-up attempt for `ip` and `account`.
    ///
    /// # Errors
    /// [`Throttled`] when any bucket is empty. The address is checked first,
    /// so an attacker cycling names cannot drain other accounts' buckets.
    pub fn check_credentials(&self, ip: Option<IpAddr>, account: &str) -> Result<(), Throttled> {
        if let Some(ip) = ip {
            check_address(&self.credentials_ip, &self.credentials_site, ip)?;
        }
        self.credentials_account.check(&account_key(account))
    }

    /// Counts a refresh from `ip`.
    ///
    /// # Errors
    /// [`Throttled`] when the bucket is empty.
    pub fn check_refresh(&self, ip: Option<IpAddr>) -> Result<(), Throttled> {
        ip.map_or(Ok(()), |ip| {
            check_address(&self.refresh_ip, &self.refresh_site, ip)
        })
    }

    /// Drops buckets that are full again, so memory follows recent traffic
    /// rather than every address ever seen. The server calls it every
    /// minute.
    pub fn sweep(&self) {
        self.credentials_ip.sweep();
        self.credentials_site.sweep();
        self.credentials_account.sweep();
        self.refresh_ip.sweep();
        self.refresh_site.sweep();
    }

    /// How many buckets are kept, over every limit (for tests and metrics).
    #[must_use]
    pub fn buckets(&self) -> usize {
        self.credentials_ip.len()
            + self.credentials_site.len()
            + self.credentials_account.len()
            + self.refresh_ip.len()
            + self.refresh_site.len()
    }
}

/// The address's own bucket (IPv4 address or IPv6 /64), then, for IPv6,
/// its site's (/48).
fn check_address(
    own: &Buckets<IpAddr>,
    site: &Buckets<IpAddr>,
    ip: IpAddr,
) -> Result<(), Throttled> {
    match ip.to_canonical() {
        ip @ IpAddr::V4(_) => own.check(&ip),
        IpAddr::V6(v6) => {
            own.check(&prefix(v6, 64))?;
            site.check(&prefix(v6, 48))
        }
    }
}

/// The first `bits` of `ip`, the rest zero.
fn prefix(ip: Ipv6Addr, bits: u32) -> IpAddr {
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    IpAddr::V6(Ipv6Addr::from(u128::from(ip) & mask))
}

/// Keyed buckets, at most `max_keys` of them.
#[derive(Debug)]
struct Buckets<K: Hash + Eq + Clone> {
    keyed: DefaultKeyedRateLimiter<K>,
    /// Shared by the keys that arrive while `keyed` is full of active
    /// buckets: under a flood from that many addresses they share one
    /// budget (and none gets a fresh one).
    overflow: DefaultDirectRateLimiter,
    max_keys: usize,
    /// When `keyed` was last swept because it was full (at most once a second).
    last_full_sweep: Mutex<Instant>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(limit: Limit, max_keys: usize) -> Self {
        Self {
            keyed: DefaultKeyedRateLimiter::keyed(limit.quota()),
            overflow: DefaultDirectRateLimiter::direct(limit.quota()),
            max_keys,
            last_full_sweep: Mutex::new(Instant::now()),
        }
    }

    fn check(&self, key: &K) -> Result<(), Throttled> {
        if self.keyed.len() >= self.max_keys {
            // A full sweep scans every bucket: at most once a second.
            if let Ok(mut last) = self.last_full_sweep.try_lock() {
                if last.elapsed() >= Duration::from_secs(1) {
                    self.keyed.retain_recent();
                    *last = Instant::now();
                }
            }
            if self.keyed.len() >= self.max_keys {
                let clock = self.overflow.clock();
                return self.overflow.check().map_err(|n| throttled(&n, clock));
            }
        }
        let clock = self.keyed.clock();
        self.keyed.check_key(key).map_err(|n| throttled(&n, clock))
    }

    fn sweep(&self) {
        self.keyed.retain_recent();
        self.keyed.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.keyed.len()
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

/// The refusal for a bucket that is empty until `not_until`, by the
/// limiter's own `clock` (creating a clock calibrates it: far too slow to do
/// per refusal under a flood).
fn throttled(
    not_until: &governor::NotUntil<governor::clock::QuantaInstant>,
    clock: &governor::clock::DefaultClock,
) -> Throttled {
    let wait = not_until.wait_time_from(clock.now());
    // Whole seconds, rounded up: `Retry-After` has no fractions.
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    Throttled {
        retry_after_secs: secs.max(1),
    }
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
        throttle.sweep();
    }

    #[test]
    fn an_ipv6_64_is_one_client_and_a_48_has_a_looser_budget() {
        let mut s = settings(100, 60);
        s.credentials_per_ip = Limit {
            count: NonZeroU32::new(2).unwrap(),
            per: Duration::from_secs(60),
        };
        let throttle = Throttle::new(s);
        let host = |n: u16| Some(IpAddr::from([0x2001, 0xdb8, 1, 1, n, n, n, n]));
        throttle.check_credentials(host(1), "a").unwrap();
        throttle.check_credentials(host(2), "b").unwrap();
        assert!(
            throttle.check_credentials(host(3), "c").is_err(),
            "rotating within one /64 buys nothing"
        );
        // Other /64s of the same /48: each its own budget, up to the site's.
        let in_site = |net: u16| Some(IpAddr::from([0x2001, 0xdb8, 1, net, 0, 0, 0, 1]));
        let allowed = (2..100)
            .flat_map(|net| [in_site(net), in_site(net)])
            .filter(|ip| throttle.check_credentials(*ip, "d").is_ok())
            .count();
        assert_eq!(
            allowed as u32,
            2 * SITE_FACTOR - 2,
            "the /48 budget caps them"
        );
        // IPv4 is by address, and IPv4-mapped IPv6 is the same address.
        let v4 = Some(IpAddr::from([192, 0, 2, 1]));
        throttle.check_credentials(v4, "e").unwrap();
        let mapped = Some(IpAddr::from(
            std::net::Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped(),
        ));
        throttle.check_credentials(mapped, "e").unwrap();
        assert!(throttle.check_credentials(v4, "e").is_err());
    }

    #[test]
    fn a_million_addresses_keep_the_buckets_bounded() {
        let limit = Limit {
            count: NonZeroU32::new(5).unwrap(),
            per: Duration::from_secs(60),
        };
        let buckets = Buckets::new(limit, 10_000);
        for n in 0..1_000_000_u32 {
            let _ = buckets.check(&IpAddr::from(n.to_be_bytes()));
        }
        assert!(buckets.len() <= 10_000, "{}", buckets.len());
        // The overflow is one shared budget, long exhausted by the flood.
        assert!(buckets.check(&IpAddr::from([198, 51, 100, 1])).is_err());
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let key = account_key(&"é".repeat(400));
        assert_eq!(key.chars().count(), MAX_ACCOUNT_KEY);
    }
}
