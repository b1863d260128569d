//! The environment as written: one field per variable (`APP_ENV` fills
//! `app_env`), with its syntax and its default, each stated once here.
//!
//! This step only parses. The ranges and the production rules are in
//! [`super::Config::from_raw`], so each rule has one place.

use std::{collections::HashMap, fmt::Display, path::PathBuf, str::FromStr};

use engine::throttle::Limit;
use secrecy::SecretString;
use serde::{de::Error as _, Deserialize, Deserializer};
use time::Duration;

use super::{invalid, AppEnv, ConfigError, LogFormat, TokenStorage, DEFAULT_DATABASE_URL};

/// Every variable the server reads, parsed but not yet checked against the
/// rules. A variable that is unset (or empty) keeps [`RawConfig::default`].
#[derive(Debug, Deserialize)]
#[serde(default)]
pub struct RawConfig {
    /// `APP_ENV`.
    pub app_env: AppEnv,
    /// `LOG_FORMAT`; unset: chosen by `APP_ENV`.
    pub log_format: Option<LogFormat>,
    /// `DATABASE_URL` (may hold a password).
    pub database_url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`.
    #[serde(deserialize_with = "number")]
    pub database_max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`.
    #[serde(deserialize_with = "number")]
    pub database_acquire_timeout_ms: u64,
    /// `SESSION_STORE` (may hold a password).
    pub session_store: Option<SecretString>,
    /// `SESSION_STORE_TIMEOUT_MS`.
    #[serde(deserialize_with = "number")]
    pub session_store_timeout_ms: u64,
    /// `SESSION_IDLE_TIMEOUT`.
    #[serde(deserialize_with = "duration")]
    pub session_idle_timeout: Duration,
    /// `SESSION_ABSOLUTE_TIMEOUT`.
    #[serde(deserialize_with = "duration")]
    pub session_absolute_timeout: Duration,
    /// `SESSION_REMEMBER_IDLE_TIMEOUT`.
    #[serde(deserialize_with = "duration")]
    pub session_remember_idle_timeout: Duration,
    /// `SESSION_REMEMBER_ABSOLUTE_TIMEOUT`.
    #[serde(deserialize_with = "duration")]
    pub session_remember_absolute_timeout: Duration,
    /// `SESSION_TOUCH_INTERVAL`.
    #[serde(deserialize_with = "duration")]
    pub session_touch_interval: Duration,
    /// `REFRESH_GRACE_PERIOD`.
    #[serde(deserialize_with = "duration")]
    pub refresh_grace_period: Duration,
    /// `SESSION_CACHE_TTL`; `None` for `0` or `off`.
    #[serde(deserialize_with = "duration_or_off")]
    pub session_cache_ttl: Option<Duration>,
    /// `SESSION_CLEANUP_INTERVAL`.
    #[serde(deserialize_with = "duration")]
    pub session_cleanup_interval: Duration,
    /// `COOKIE_SECURE`: `true`/`1` or `false`/`0`.
    #[serde(deserialize_with = "flag")]
    pub cookie_secure: bool,
    /// `JWT_ACCESS_TTL`.
    #[serde(deserialize_with = "duration")]
    pub jwt_access_ttl: Duration,
    /// `JWT_ISSUER`.
    pub jwt_issuer: String,
    /// `JWT_AUDIENCE`.
    pub jwt_audience: String,
    /// `JWT_KEYS_DIR`.
    pub jwt_keys_dir: PathBuf,
    /// `TOKEN_STORAGE`.
    pub token_storage: TokenStorage,
    /// `PUBLIC_URL`, as given (normalised by the rules).
    pub public_url: Option<String>,
    /// `CSRF_SECRET`.
    pub csrf_secret: Option<SecretString>,
    /// `TRUSTED_PROXIES`: IPs or CIDR ranges, comma-separated.
    #[serde(deserialize_with = "proxies")]
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// `RATE_LIMIT_CREDENTIALS_PER_IP`.
    #[serde(deserialize_with = "limit")]
    pub rate_limit_credentials_per_ip: Limit,
    /// `RATE_LIMIT_CREDENTIALS_PER_ACCOUNT`.
    #[serde(deserialize_with = "limit")]
    pub rate_limit_credentials_per_account: Limit,
    /// `RATE_LIMIT_REFRESH_PER_IP`.
    #[serde(deserialize_with = "limit")]
    pub rate_limit_refresh_per_ip: Limit,
    /// `RENDER_CONCURRENCY`.
    #[serde(deserialize_with = "number")]
    pub render_concurrency: usize,
    /// `LEPTOS_WATCH`: set (to anything) by `cargo leptos watch`.
    pub leptos_watch: Option<String>,
}

impl Default for RawConfig {
    /// The defaults, which run out of the box in development. The session
    /// lifetimes and rate limits are the engine's own defaults.
    fn default() -> Self {
        let session = engine::SessionPolicy::default();
        let limits = engine::throttle::ThrottleSettings::default();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        Self {
            app_env: AppEnv::Dev,
            log_format: None,
            database_url: DEFAULT_DATABASE_URL.into(),
            database_max_connections: 8,
            database_acquire_timeout_ms: 3_000,
            session_store: None,
            session_store_timeout_ms: 2_000,
            session_idle_timeout: session.idle_timeout,
            session_absolute_timeout: session.absolute_timeout,
            session_remember_idle_timeout: session.remember_idle_timeout,
            session_remember_absolute_timeout: session.remember_absolute_timeout,
            session_touch_interval: session.touch_interval,
            refresh_grace_period: session.refresh_grace,
            session_cache_ttl: Some(Duration::seconds(2)),
            session_cleanup_interval: Duration::minutes(10),
            cookie_secure: true,
            jwt_access_ttl: Duration::minutes(5),
            jwt_issuer: "leptos-sessions".to_owned(),
            jwt_audience: "leptos-sessions".to_owned(),
            jwt_keys_dir: "data/keys".into(),
            token_storage: TokenStorage::Memory,
            public_url: None,
            csrf_secret: None,
            trusted_proxies: Vec::new(),
            rate_limit_credentials_per_ip: limits.credentials_per_ip,
            rate_limit_credentials_per_account: limits.credentials_per_account,
            rate_limit_refresh_per_ip: limits.refresh_per_ip,
            render_concurrency: 8 * cores,
            leptos_watch: None,
        }
    }
}

impl RawConfig {
    /// Parses `vars`. Only names in capitals are read, and an empty value
    /// counts as unset.
    ///
    /// # Errors
    /// The first variable that does not parse, named, with why.
    pub fn from_vars(vars: &HashMap<String, String>) -> Result<Self, ConfigError> {
        let set = vars
            .iter()
            .filter(|(k, v)| !v.is_empty() && !k.bytes().any(|b| b.is_ascii_lowercase()));
        match envy::from_iter(set.map(|(k, v)| (k.clone(), v.clone()))) {
            Ok(Located(Ok(raw))) => Ok(raw),
            Ok(Located(Err((field, reason)))) => {
                let name = field.to_uppercase();
                let value = vars.get(&name).cloned().unwrap_or_default();
                Err(invalid(&name, value, reason))
            }
            Err(err) => Err(invalid("environment", "", err.to_string())),
        }
    }
}

/// `T`, or the field that failed and why: serde's error alone does not say
/// which variable it was.
struct Located<T>(Result<T, (String, String)>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Located<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let result = serde_path_to_error::deserialize(d);
        Ok(Self(result.map_err(|e| {
            (e.path().to_string(), e.inner().to_string())
        })))
    }
}

/// The longest duration accepted anywhere: far beyond any sensible value,
/// and short enough that adding it to the current time cannot overflow.
const LONGEST: std::time::Duration = std::time::Duration::from_secs(1_000_000 * 86_400);

/// Deserializes the variable's text with `parse`, whose error says what is
/// expected.
fn parsed<'de, D, T, E>(d: D, parse: impl FnOnce(&str) -> Result<T, E>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: Display,
{
    parse(&String::deserialize(d)?).map_err(D::Error::custom)
}

/// A positive duration in humantime's syntax (`90s`, `15m`, `8h`, `7d`,
/// `1h 30m`), at most [`LONGEST`].
fn positive(text: &str) -> Result<Duration, String> {
    let expected = "expected a positive duration such as 30s, 15m, 8h or 7d";
    match humantime::parse_duration(text.trim()) {
        Ok(d) if !d.is_zero() && d <= LONGEST => Duration::try_from(d).map_err(|e| e.to_string()),
        Ok(_) => Err(format!("{expected}, at most 1000000d")),
        Err(e) => Err(format!("{expected} ({e})")),
    }
}

fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    parsed(d, positive)
}

/// A duration, or `None` for `0` or `off`.
fn duration_or_off<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    parsed(d, |text| match text.trim() {
        "0" | "off" => Ok(None),
        text => positive(text).map(Some),
    })
}

/// A number; surrounding spaces are ignored.
fn number<'de, D: Deserializer<'de>, T: FromStr<Err: Display>>(d: D) -> Result<T, D::Error> {
    let expected = |e| format!("expected a number ({e})");
    parsed(d, |text| text.trim().parse().map_err(expected))
}

fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    parsed(d, |text| match text {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err("expected `true` or `false`"),
    })
}

fn proxies<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<ipnet::IpNet>, D::Error> {
    let proxy = |s: &str| {
        let ip = || s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from);
        s.parse::<ipnet::IpNet>()
            .or_else(|_| ip())
            .map_err(|_| "expected IP addresses or CIDR ranges, comma-separated")
    };
    parsed(d, |text| {
        let listed = text.split(',').map(str::trim).filter(|s| !s.is_empty());
        listed.map(proxy).collect()
    })
}

/// A rate limit such as `5/1m`: a burst of five, refilled over a minute.
fn limit<'de, D: Deserializer<'de>>(d: D) -> Result<Limit, D::Error> {
    let limit = |text: &str| {
        let (count, per) = text.split_once('/')?;
        let per = positive(per).ok()?.unsigned_abs();
        Some(Limit {
            count: count.trim().parse().ok()?,
            per,
        })
    };
    parsed(d, |text| {
        limit(text).ok_or("expected <count>/<period>, such as 5/1m or 100/10s")
    })
}
