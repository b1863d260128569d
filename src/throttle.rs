//! Brute-force limits on credential attempts and token refreshes.
//!
//! Argon2id makes each password guess slow; these limits make guessing at
//! scale impossible. Every sign-in and sign-up attempt counts against its
//! client IP (a single attacker trying many accounts). Failed sign-ins count
//! against the account name (many addresses trying one account): once its
//! budget is spent, the account is *locked* for browsers it does not
//! recognise until the next failure would be allowed. A browser that has
//! signed in to the account before (a device cookie, [`crate::device`]) is
//! not locked out, so a stranger's guesses cannot lock the owner out, and a
//! right password never counts. Each device token has a failure budget of
//! its own, the size of an account's ([`Throttle::record_device_failure`]):
//! spent, the token stops sparing its browser until the budget refills, so
//! a copied device cookie buys no more guesses than the account allows.
//! Refreshes have a per-IP bucket, and so do passkey ceremony starts.
//!
//! A client address means an IPv4 address, or the IPv6 /64 it is in: one
//! subscriber usually holds a whole /64, so rotating within it buys no new
//! budget. Each IPv6 /48 (a site) also has a looser budget,
//! [`SITE_FACTOR`] times the per-address one.
//!
//! Where the budgets live:
//! - **One instance** ([`Throttle::new`]): GCRA cells from `governor`, in
//!   memory. Memory is bounded: at most [`MAX_KEYS`] buckets per limit;
//!   past that (a flood from more addresses than that within one refill
//!   period) new addresses share one overflow bucket, and
//!   [`Throttle::sweep`] (every minute) drops the buckets that are full
//!   again.
//! - **Several instances** ([`Throttle::shared`]): fixed-window counters in
//!   the store every instance shares ([`RateCounters`]: PostgreSQL or
//!   Redis), so the budget is per deployment, not per instance. A fixed
//!   window lets at most twice the burst through across a window's edge.
//!   If the shared store fails, each instance falls back to its own
//!   in-memory limits for that request, and says so in its log.

use std::{
    collections::HashMap,
    hash::Hash,
    net::{IpAddr, Ipv6Addr},
    num::NonZeroU32,
    sync::Mutex,
    time::{Duration, Instant},
};

use time::OffsetDateTime;

use crate::store::{RateCounters, Window};

use governor::{
    clock::{Clock as _, DefaultClock},
    middleware::StateInformationMiddleware,
    state::{keyed::DefaultKeyedStateStore, InMemoryState, NotKeyed},
    Quota, RateLimiter,
};

/// A keyed limiter whose answers say how much budget is left.
type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock, StateInformationMiddleware>;
/// One shared budget, likewise.
type Direct = RateLimiter<NotKeyed, InMemoryState, DefaultClock, StateInformationMiddleware>;

/// Most buckets kept per limit (about 100 bytes each), and most locks.
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
    /// Failed sign-ins per account name, before browsers the account has
    /// not signed in from are locked out.
    pub credentials_per_account: Limit,
    /// Refreshes per client IP.
    pub refresh_per_ip: Limit,
    /// Passkey ceremonies started per client IP (sign-in, sign-up,
    /// registration, confirmation).
    pub passkey_starts_per_ip: Limit,
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
            passkey_starts_per_ip: limit(30, 60),
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
pub struct Throttle {
    settings: ThrottleSettings,
    /// The deployment's shared counters, if several instances share a store.
    shared: Option<std::sync::Arc<dyn RateCounters>>,
    credentials_ip: Buckets<IpAddr>,
    credentials_site: Buckets<IpAddr>,
    /// Failed sign-ins, by account.
    failures: Buckets<String>,
    /// Accounts whose failure budget is spent, until when.
    locked: Locks,
    refresh_ip: Buckets<IpAddr>,
    refresh_site: Buckets<IpAddr>,
    starts_ip: Buckets<IpAddr>,
    starts_site: Buckets<IpAddr>,
    /// IPv6 sites (/48) whose budget is spent, until when: their addresses
    /// are refused before a bucket is made for each new /64.
    spent_sites: Locks,
}

/// Longest account key kept (names are at most this long anyway).
const MAX_ACCOUNT_KEY: usize = 254;

impl Throttle {
    /// Limiters for `settings`.
    #[must_use]
    pub fn new(settings: ThrottleSettings) -> Self {
        let site = |limit: Limit| Buckets::new(limit.times(SITE_FACTOR), MAX_KEYS);
        Self {
            settings,
            shared: None,
            credentials_ip: Buckets::new(settings.credentials_per_ip, MAX_KEYS),
            credentials_site: site(settings.credentials_per_ip),
            failures: Buckets::new(settings.credentials_per_account, MAX_KEYS),
            locked: Locks::default(),
            refresh_ip: Buckets::new(settings.refresh_per_ip, MAX_KEYS),
            refresh_site: site(settings.refresh_per_ip),
            starts_ip: Buckets::new(settings.passkey_starts_per_ip, MAX_KEYS),
            starts_site: site(settings.passkey_starts_per_ip),
            spent_sites: Locks::default(),
        }
    }

    /// Limiters whose budgets live in `counters`, shared by every instance
    /// (the in-memory ones stand by for when the store fails).
    #[must_use]
    pub fn shared(settings: ThrottleSettings, counters: std::sync::Arc<dyn RateCounters>) -> Self {
        Self {
            shared: Some(counters),
            ..Self::new(settings)
        }
    }

    /// Whether the budgets are shared by every instance.
    #[must_use]
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    /// Admits a sign-in or sign-up attempt for `account` from `ip`
    /// (counted), unless the account is locked and the browser is not one
    /// it `recognised` (nothing counted).
    ///
    /// # Errors
    /// [`Throttled`] when the address's budget is spent, or the account is
    /// locked for this browser. The address is checked first, so an
    /// attacker cycling names cannot use up other accounts' budgets.
    pub async fn admit(
        &self,
        ip: Option<IpAddr>,
        account: &str,
        recognised: bool,
    ) -> Result<(), Throttled> {
        if let Some(ip) = ip {
            self.address(Scope::Credentials, ip).await?;
        }
        if recognised {
            return Ok(());
        }
        self.failures_spent(&account_key(account)).await
    }

    /// Refuses while `key`'s failure budget is spent (shared or own).
    async fn failures_spent(&self, key: &str) -> Result<(), Throttled> {
        if let Some(shared) = &self.shared {
            let spent = u64::from(self.settings.credentials_per_account.count.get());
            match shared
                .peek(&failure_key(key), OffsetDateTime::now_utc())
                .await
            {
                Ok(Some(window)) if window.count >= spent => return Err(until(window)),
                Ok(_) => return Ok(()),
                Err(err) => fall_back(&err),
            }
        }
        self.locked.check(key)
    }

    /// Counts a passkey ceremony's start from `ip`.
    ///
    /// # Errors
    /// [`Throttled`] when the address's budget is spent.
    pub async fn admit_ceremony(&self, ip: IpAddr) -> Result<(), Throttled> {
        self.address(Scope::Ceremony, ip).await
    }

    /// Counts a wrong password sent from a browser whose device token
    /// (its nonce) the account recognised.
    pub async fn record_device_failure(&self, nonce: &str) {
        self.count_failure(device_key(nonce)).await;
    }

    /// Whether the device token `nonce` has spent its failure budget: it
    /// then spares its browser from the account's lock no more.
    pub async fn device_spent(&self, nonce: &str) -> bool {
        self.failures_spent(&device_key(nonce)).await.is_err()
    }

    /// Counts a credential attempt against `ip`'s budget alone, for a gate
    /// in front of the request's parsing; [`Throttle::admit`] with no
    /// address then does the rest.
    ///
    /// # Errors
    /// [`Throttled`] when the address's budget is spent.
    pub async fn admit_address(&self, ip: IpAddr) -> Result<(), Throttled> {
        self.address(Scope::Credentials, ip).await
    }

    /// Counts a failed sign-in for `account`. Returns `true` when this
    /// failure spent the account's budget and locked it (once per lock: the
    /// moment to tell the account's owner).
    pub async fn record_failure(&self, account: &str) -> bool {
        self.count_failure(account_key(account)).await
    }

    /// Counts one failure against `key`; `true` when this one locked it.
    async fn count_failure(&self, key: String) -> bool {
        let limit = self.settings.credentials_per_account;
        if let Some(shared) = &self.shared {
            let now = OffsetDateTime::now_utc();
            match shared.count(&failure_key(&key), limit.per, now).await {
                Ok(window) => return window.count == u64::from(limit.count.get()),
                Err(err) => fall_back(&err),
            }
        }
        let until = match self.failures.check(&key) {
            // The next failure is allowed one refill interval from now.
            Ok(0) => Instant::now() + limit.quota().replenish_interval(),
            Ok(_) => return false,
            Err(throttled) => Instant::now() + Duration::from_secs(throttled.retry_after_secs),
        };
        self.locked.lock(key, until)
    }

    /// Counts a refresh from `ip`.
    ///
    /// # Errors
    /// [`Throttled`] when the budget is spent.
    pub async fn check_refresh(&self, ip: Option<IpAddr>) -> Result<(), Throttled> {
        match ip {
            Some(ip) => self.address(Scope::Refresh, ip).await,
            None => Ok(()),
        }
    }

    /// Counts one against `ip`'s budget for `scope`: shared when there is a
    /// shared store that answers, else this instance's own.
    async fn address(&self, scope: Scope, ip: IpAddr) -> Result<(), Throttled> {
        let (own, site, limit) = match scope {
            Scope::Credentials => (
                &self.credentials_ip,
                &self.credentials_site,
                self.settings.credentials_per_ip,
            ),
            Scope::Refresh => (
                &self.refresh_ip,
                &self.refresh_site,
                self.settings.refresh_per_ip,
            ),
            Scope::Ceremony => (
                &self.starts_ip,
                &self.starts_site,
                self.settings.passkey_starts_per_ip,
            ),
        };
        if let Some(shared) = &self.shared {
            match shared_address(shared.as_ref(), scope, limit, ip).await {
                Ok(result) => return result,
                Err(err) => fall_back(&err),
            }
        }
        check_address(own, site, &self.spent_sites, scope, ip)
    }

    /// Drops buckets that are full again, so memory follows recent traffic
    /// rather than every address ever seen. The server calls it every
    /// minute.
    pub fn sweep(&self) {
        self.credentials_ip.sweep();
        self.credentials_site.sweep();
        self.failures.sweep();
        self.locked.sweep();
        self.refresh_ip.sweep();
        self.refresh_site.sweep();
        self.starts_ip.sweep();
        self.starts_site.sweep();
        self.spent_sites.sweep();
    }

    /// How many buckets are kept, over every limit (for tests and metrics).
    #[must_use]
    pub fn buckets(&self) -> usize {
        self.credentials_ip.len()
            + self.credentials_site.len()
            + self.failures.len()
            + self.locked.len()
            + self.refresh_ip.len()
            + self.refresh_site.len()
            + self.starts_ip.len()
            + self.starts_site.len()
            + self.spent_sites.len()
    }
}

/// The address's own bucket (IPv4 address or IPv6 /64), then, for IPv6,
/// its site's (/48). A site found spent is remembered until it refills, so
/// an address rotating through its /64s is refused before each new /64
/// gets a bucket.
fn check_address(
    own: &Buckets<IpAddr>,
    site: &Buckets<IpAddr>,
    spent_sites: &Locks,
    scope: Scope,
    ip: IpAddr,
) -> Result<(), Throttled> {
    match ip.to_canonical() {
        ip @ IpAddr::V4(_) => own.check(&ip)?,
        IpAddr::V6(v6) => {
            let site_key = format!("{scope:?}:{}", prefix(v6, 48));
            spent_sites.check(&site_key)?;
            own.check(&prefix(v6, 64))?;
            site.check(&prefix(v6, 48)).inspect_err(|refused| {
                let until = Instant::now() + Duration::from_secs(refused.retry_after_secs);
                spent_sites.lock(site_key, until);
            })?
        }
    };
    Ok(())
}

/// The shared counter of `key`'s (an [`account_key`]) failed sign-ins.
fn failure_key(key: &str) -> String {
    format!("fail:{key}")
}

/// The failure key of a device token (account keys never hold a `:`).
fn device_key(nonce: &str) -> String {
    format!("device:{nonce}")
}

/// Which per-address budget.
#[derive(Clone, Copy, Debug)]
enum Scope {
    Credentials,
    Refresh,
    Ceremony,
}

/// [`check_address`] on shared counters: `Ok(result)` when the store
/// answered.
async fn shared_address(
    counters: &dyn RateCounters,
    scope: Scope,
    limit: Limit,
    ip: IpAddr,
) -> Result<Result<(), Throttled>, crate::Error> {
    let name = match scope {
        Scope::Credentials => "ip",
        Scope::Refresh => "refresh",
        Scope::Ceremony => "ceremony",
    };
    let keys = match ip.to_canonical() {
        ip @ IpAddr::V4(_) => vec![(format!("{name}:{ip}"), limit)],
        IpAddr::V6(v6) => vec![
            (format!("{name}:{}", prefix(v6, 64)), limit),
            (
                format!("{name}-site:{}", prefix(v6, 48)),
                limit.times(SITE_FACTOR),
            ),
        ],
    };
    for (key, limit) in keys {
        let window = counters
            .count(&key, limit.per, OffsetDateTime::now_utc())
            .await?;
        if window.count > u64::from(limit.count.get()) {
            return Ok(Err(until(window)));
        }
    }
    Ok(Ok(()))
}

/// The refusal until `window` ends.
fn until(window: Window) -> Throttled {
    let wait = window.ends_at - OffsetDateTime::now_utc();
    Throttled {
        retry_after_secs: whole_secs(wait.max(time::Duration::ZERO).unsigned_abs()),
    }
}

/// A shared store that failed: this request is limited by this instance's
/// own budgets instead (failing open entirely would lift every limit while
/// the store is down; failing closed would lock everyone out).
fn fall_back(err: &crate::Error) {
    tracing::warn!(error = %err, "shared rate limits unavailable; this instance's own apply");
}

/// The first `bits` of `ip`, the rest zero.
fn prefix(ip: Ipv6Addr, bits: u32) -> IpAddr {
    let mask = u128::MAX.checked_shl(128 - bits).unwrap_or(0);
    IpAddr::V6(Ipv6Addr::from(u128::from(ip) & mask))
}

impl std::fmt::Debug for Throttle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Throttle")
            .field("settings", &self.settings)
            .field("shared", &self.shared.is_some())
            .finish_non_exhaustive()
    }
}

/// Keyed buckets, at most `max_keys` of them.
#[derive(Debug)]
struct Buckets<K: Hash + Eq + Clone> {
    keyed: Keyed<K>,
    /// Shared by the keys that arrive while `keyed` is full of active
    /// buckets: under a flood from that many addresses they share one
    /// budget (and none gets a fresh one).
    overflow: Direct,
    max_keys: usize,
    /// When `keyed` was last swept because it was full (at most once a second).
    last_full_sweep: Mutex<Instant>,
}

impl<K: Hash + Eq + Clone> Buckets<K> {
    fn new(limit: Limit, max_keys: usize) -> Self {
        Self {
            keyed: RateLimiter::keyed(limit.quota()).with_middleware(),
            overflow: RateLimiter::direct(limit.quota()).with_middleware(),
            max_keys,
            last_full_sweep: Mutex::new(Instant::now()),
        }
    }

    /// Takes one from `key`'s budget; `Ok` says how many are left.
    fn check(&self, key: &K) -> Result<u32, Throttled> {
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
                return self
                    .overflow
                    .check()
                    .map(|state| state.remaining_burst_capacity())
                    .map_err(|n| throttled(&n, clock));
            }
        }
        let clock = self.keyed.clock();
        self.keyed
            .check_key(key)
            .map(|state| state.remaining_burst_capacity())
            .map_err(|n| throttled(&n, clock))
    }

    fn sweep(&self) {
        self.keyed.retain_recent();
        self.keyed.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.keyed.len()
    }
}

/// Locked accounts and when each lock ends, at most [`MAX_KEYS`] of them.
/// Past that (more accounts locked at once than that) a new lock is not
/// kept, and the account's failure bucket, already empty, locks it again
/// at its next failure.
#[derive(Debug, Default)]
struct Locks(Mutex<HashMap<String, Instant>>);

impl Locks {
    /// Refuses `key` while its lock lasts.
    fn check(&self, key: &str) -> Result<(), Throttled> {
        let locks = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        match locks.get(key) {
            Some(until) if *until > Instant::now() => {
                let wait = until.saturating_duration_since(Instant::now());
                Err(Throttled {
                    retry_after_secs: whole_secs(wait),
                })
            }
            _ => Ok(()),
        }
    }

    /// Locks `key` until `until`; `true` if it was not locked already.
    fn lock(&self, key: String, until: Instant) -> bool {
        let mut locks = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if locks.len() >= MAX_KEYS {
            locks.retain(|_, until| *until > now);
        }
        let was_locked = locks.get(&key).is_some_and(|previous| *previous > now);
        if was_locked || locks.len() < MAX_KEYS {
            locks.insert(key, until);
        }
        !was_locked
    }

    fn sweep(&self) {
        let mut locks = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        locks.retain(|_, until| *until > now);
        locks.shrink_to_fit();
    }

    fn len(&self) -> usize {
        self.0.lock().map_or(0, |locks| locks.len())
    }
}

/// Names are matched the way sign-in matches them: trimmed, case-folded.
pub(crate) fn account_key(account: &str) -> String {
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
    clock: &DefaultClock,
) -> Throttled {
    Throttled {
        retry_after_secs: whole_secs(not_until.wait_time_from(clock.now())),
    }
}

/// Whole seconds, rounded up and at least 1: `Retry-After` has no fractions.
fn whole_secs(wait: Duration) -> u64 {
    (wait.as_secs() + u64::from(wait.subsec_nanos() > 0)).max(1)
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

    fn limit(count: u32, per: Duration) -> Limit {
        Limit {
            count: NonZeroU32::new(count).unwrap(),
            per,
        }
    }

    fn settings(count: u32, secs: u64) -> ThrottleSettings {
        let each = limit(count, Duration::from_secs(secs));
        ThrottleSettings {
            credentials_per_ip: limit(100, Duration::from_secs(60)),
            credentials_per_account: each,
            refresh_per_ip: each,
            passkey_starts_per_ip: each,
        }
    }

    #[tokio::test]
    async fn a_device_token_has_a_failure_budget_of_its_own() {
        let throttle = Throttle::new(settings(3, 60));
        assert!(!throttle.device_spent("nonce-a").await);
        for _ in 0..3 {
            throttle.record_device_failure("nonce-a").await;
        }
        assert!(throttle.device_spent("nonce-a").await, "spent after 3");
        assert!(
            !throttle.device_spent("nonce-b").await,
            "another token's is whole"
        );
        throttle.admit(None, "nonce-a", false).await.unwrap();
        assert!(
            !throttle.record_failure("nonce-a").await,
            "an account of that name has a budget apart"
        );
    }

    #[tokio::test]
    async fn a_spent_ipv6_site_makes_no_bucket_for_each_new_64() {
        let throttle = Throttle::new(ThrottleSettings {
            passkey_starts_per_ip: limit(1, Duration::from_secs(60)),
            ..settings(100, 60)
        });
        let site = 0x2001_0db8_0001_u128 << 80;
        // SITE_FACTOR /64s spend the /48's budget of SITE_FACTOR.
        for n in 0..u128::from(SITE_FACTOR) {
            let ip = IpAddr::V6(Ipv6Addr::from(site | (n << 64)));
            throttle.admit_ceremony(ip).await.unwrap();
        }
        let refused = IpAddr::V6(Ipv6Addr::from(site | (1000 << 64)));
        assert!(throttle.admit_ceremony(refused).await.is_err());
        let before = throttle.starts_ip.len();
        for n in 2000..2100_u128 {
            let ip = IpAddr::V6(Ipv6Addr::from(site | (n << 64)));
            assert!(throttle.admit_ceremony(ip).await.is_err());
        }
        assert_eq!(throttle.starts_ip.len(), before, "no new /64 buckets");
        let elsewhere = IpAddr::V6(Ipv6Addr::from(0x2001_0db8_0002_u128 << 80));
        throttle.admit_ceremony(elsewhere).await.unwrap();
    }

    #[tokio::test]
    async fn failures_lock_the_account_for_unrecognised_browsers_only() {
        let throttle = Throttle::new(settings(3, 60));
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        // Attempts alone (right passwords) never lock anything.
        for _ in 0..10 {
            throttle.admit(ip, "alice", false).await.unwrap();
        }
        assert!(!throttle.record_failure("Alice").await);
        assert!(!throttle.record_failure("alice").await);
        assert!(
            throttle.record_failure(" ALICE ").await,
            "the third failure locks"
        );
        let err = throttle.admit(ip, "alice", false).await.unwrap_err();
        assert!((1..=20).contains(&err.retry_after_secs), "{err:?}");
        throttle.admit(ip, "Alice", true).await.unwrap();
        throttle.admit(ip, "bob", false).await.unwrap();
        assert!(
            !throttle.record_failure("alice").await,
            "a failure during the lock does not lock it anew"
        );
        assert!(throttle.admit(ip, "alice", false).await.is_err());
    }

    #[tokio::test]
    async fn a_lock_ends_when_the_next_failure_would_be_allowed() {
        let limit = limit(2, Duration::from_secs(1));
        let throttle = Throttle::new(ThrottleSettings {
            credentials_per_account: limit,
            ..settings(100, 60)
        });
        throttle.record_failure("carol").await;
        assert!(throttle.record_failure("carol").await);
        assert!(throttle.admit(None, "carol", false).await.is_err());
        tokio::time::sleep(Duration::from_millis(600)).await;
        throttle.admit(None, "carol", false).await.unwrap();
        throttle.sweep();
        assert_eq!(throttle.locked.len(), 0, "the ended lock is swept");
    }

    #[tokio::test]
    async fn the_ip_bucket_is_checked_before_the_account() {
        let mut s = settings(100, 60);
        s.credentials_per_ip = limit(2, Duration::from_secs(60));
        let throttle = Throttle::new(s);
        let ip = Some(IpAddr::from([10, 0, 0, 2]));
        throttle.admit(ip, "a", false).await.unwrap();
        throttle.admit(ip, "b", false).await.unwrap();
        assert!(throttle.admit(ip, "c", false).await.is_err());
        assert!(throttle
            .admit(Some(IpAddr::from([10, 0, 0, 3])), "c", false)
            .await
            .is_ok());
    }

    #[tokio::test]
    async fn refresh_without_an_ip_is_not_limited_by_ip() {
        let throttle = Throttle::new(settings(1, 60));
        throttle.check_refresh(None).await.unwrap();
        throttle.check_refresh(None).await.unwrap();
        let ip = Some(IpAddr::from([10, 0, 0, 4]));
        throttle.check_refresh(ip).await.unwrap();
        assert!(throttle.check_refresh(ip).await.is_err());
        throttle.sweep();
    }

    #[tokio::test]
    async fn an_ipv6_64_is_one_client_and_a_48_has_a_looser_budget() {
        let mut s = settings(100, 60);
        s.credentials_per_ip = limit(2, Duration::from_secs(60));
        let throttle = Throttle::new(s);
        let host = |n: u16| Some(IpAddr::from([0x2001, 0xdb8, 1, 1, n, n, n, n]));
        throttle.admit(host(1), "a", false).await.unwrap();
        throttle.admit(host(2), "b", false).await.unwrap();
        assert!(
            throttle.admit(host(3), "c", false).await.is_err(),
            "rotating within one /64 buys nothing"
        );
        // Other /64s of the same /48: each its own budget, up to the site's.
        let in_site = |net: u16| Some(IpAddr::from([0x2001, 0xdb8, 1, net, 0, 0, 0, 1]));
        let mut allowed = 0;
        for ip in (2..100).flat_map(|net| [in_site(net), in_site(net)]) {
            allowed += u32::from(throttle.admit(ip, "d", false).await.is_ok());
        }
        assert_eq!(allowed, 2 * SITE_FACTOR - 2, "the /48 budget caps them");
        // IPv4 is by address, and IPv4-mapped IPv6 is the same address.
        let v4 = Some(IpAddr::from([192, 0, 2, 1]));
        throttle.admit(v4, "e", false).await.unwrap();
        let mapped = Some(IpAddr::from(
            std::net::Ipv4Addr::new(192, 0, 2, 1).to_ipv6_mapped(),
        ));
        throttle.admit(mapped, "e", false).await.unwrap();
        assert!(throttle.admit(v4, "e", false).await.is_err());
    }

    #[test]
    fn a_million_addresses_keep_the_buckets_bounded() {
        let limit = limit(5, Duration::from_secs(60));
        let buckets = Buckets::new(limit, 10_000);
        for n in 0..1_000_000_u32 {
            let _ = buckets.check(&IpAddr::from(n.to_be_bytes()));
        }
        assert!(buckets.len() <= 10_000, "{}", buckets.len());
        // The overflow is one shared budget, long exhausted by the flood.
        assert!(buckets.check(&IpAddr::from([198, 51, 100, 1])).is_err());
    }

    /// Counters in a map, standing in for the shared store (the SQL and
    /// Redis ones pass the conformance suite).
    #[derive(Default)]
    struct MapCounters(Mutex<HashMap<String, Window>>);

    #[async_trait::async_trait]
    impl RateCounters for MapCounters {
        async fn count(
            &self,
            key: &str,
            window: Duration,
            now: OffsetDateTime,
        ) -> Result<Window, crate::Error> {
            let mut map = self.0.lock().unwrap();
            let entry = map.entry(key.to_owned()).or_insert(Window {
                count: 0,
                ends_at: now,
            });
            if entry.ends_at <= now {
                *entry = Window {
                    count: 0,
                    ends_at: now + window,
                };
            }
            entry.count += 1;
            Ok(*entry)
        }

        async fn peek(
            &self,
            key: &str,
            now: OffsetDateTime,
        ) -> Result<Option<Window>, crate::Error> {
            let map = self.0.lock().unwrap();
            Ok(map.get(key).copied().filter(|w| w.ends_at > now))
        }
    }

    /// A shared store that is down.
    struct DownCounters;

    #[async_trait::async_trait]
    impl RateCounters for DownCounters {
        async fn count(
            &self,
            _: &str,
            _: Duration,
            _: OffsetDateTime,
        ) -> Result<Window, crate::Error> {
            Err(crate::Error::storage("down"))
        }

        async fn peek(&self, _: &str, _: OffsetDateTime) -> Result<Option<Window>, crate::Error> {
            Err(crate::Error::storage("down"))
        }
    }

    #[tokio::test]
    async fn instances_sharing_counters_share_one_budget() {
        let counters = std::sync::Arc::new(MapCounters::default());
        let mut s = settings(3, 60);
        s.credentials_per_ip = limit(4, Duration::from_secs(60));
        let a = Throttle::shared(s, counters.clone());
        let b = Throttle::shared(s, counters);
        assert!(a.is_shared());
        // Failures on either instance count against one account budget.
        assert!(!a.record_failure("dora").await);
        assert!(!b.record_failure("Dora").await);
        assert!(a.record_failure("dora").await, "the third failure locks");
        let err = b.admit(None, "dora", false).await.unwrap_err();
        assert!((1..=60).contains(&err.retry_after_secs), "{err:?}");
        a.admit(None, "dora", true).await.unwrap();
        // One address's attempts through both instances: one budget of 4.
        let ip = Some(IpAddr::from([10, 9, 8, 7]));
        for throttle in [&a, &b, &a, &b] {
            throttle.admit(ip, "x", false).await.unwrap();
        }
        assert!(a.admit(ip, "x", false).await.is_err());
        assert!(b.admit(ip, "x", false).await.is_err());
        assert_eq!(a.buckets() + b.buckets(), 0, "nothing kept in memory");
    }

    #[tokio::test]
    async fn a_failing_shared_store_falls_back_to_this_instances_limits() {
        let mut s = settings(2, 60);
        s.credentials_per_ip = limit(2, Duration::from_secs(60));
        let throttle = Throttle::shared(s, std::sync::Arc::new(DownCounters));
        let ip = Some(IpAddr::from([10, 9, 8, 6]));
        throttle.admit(ip, "eve", false).await.unwrap();
        throttle.admit(ip, "eve", false).await.unwrap();
        assert!(throttle.admit(ip, "eve", false).await.is_err());
        assert!(!throttle.record_failure("eve").await);
        assert!(throttle.record_failure("eve").await);
        assert!(throttle.admit(None, "eve", false).await.is_err());
    }

    #[test]
    fn locks_are_bounded() {
        let locks = Locks::default();
        let until = Instant::now() + Duration::from_secs(60);
        for n in 0..=MAX_KEYS {
            locks.lock(format!("account-{n}"), until);
        }
        assert_eq!(locks.len(), MAX_KEYS, "one lock past the bound is not kept");
        assert!(locks.check(&format!("account-{MAX_KEYS}")).is_ok());
        assert!(locks.check("account-0").is_err());
    }

    #[test]
    fn long_names_are_cut_on_a_character_boundary() {
        let key = account_key(&"é".repeat(400));
        assert_eq!(key.chars().count(), MAX_ACCOUNT_KEY);
    }
}
