//! Configuration, read from the environment once at start-up into typed
//! structs. Nothing reads environment variables after this.
//!
//! Two steps, so that each thing is written once: [`RawConfig`] (serde, via
//! `envy`) maps every variable onto a field with its syntax and default,
//! then [`Config::from_raw`] applies every range and production rule.
//! Every default runs out of the box in development; see
//! `docs/CONFIGURATION.md` for the reference. Values that may hold a
//! password are [`SecretString`]s, so no `Debug` output shows them.

mod raw;
#[cfg(test)]
mod tests;

use std::{collections::HashMap, fmt::Display, ops::RangeInclusive, time::Duration};

use engine::{csrf::CsrfKey, store::database::Database};
use leptos::config::LeptosOptions;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use time::ext::NumericalDuration as _;

use crate::client_ip::TrustedProxies;

pub use crate::telemetry::LogFormat;
pub use raw::RawConfig;

/// Which rules apply: `dev` generates what is missing, `prod` refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum AppEnv {
    /// Local development (the default).
    #[serde(rename = "dev", alias = "development")]
    Dev,
    /// Production: stricter checks at start-up.
    #[serde(rename = "prod", alias = "production")]
    Prod,
}

/// Where the WASM app keeps the access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
pub enum TokenStorage {
    /// In memory only (the default): gone on reload, unreachable for other
    /// scripts except through the app itself.
    #[serde(rename = "memory")]
    Memory,
    /// In `localStorage`: survives reloads, but any script that runs on the
    /// page (an XSS) can read it. Opt-in.
    #[serde(rename = "local")]
    LocalStorage,
}

impl TokenStorage {
    /// The value the browser app reads.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Memory => "memory",
            Self::LocalStorage => "local",
        }
    }
}

/// The whole configuration. Its `Debug` shows no secret.
#[derive(Clone, Debug)]
pub struct Config {
    /// `APP_ENV`.
    pub app_env: AppEnv,
    /// `LOG_FORMAT`.
    pub log_format: LogFormat,
    /// Database settings.
    pub database: DatabaseConfig,
    /// `SESSION_STORE`: `redis://…` keeps sessions and refresh tokens in
    /// Redis; unset keeps them in the SQL database.
    pub session_store: Option<SecretString>,
    /// `SESSION_STORE_TIMEOUT_MS`: how long a Redis command may take before
    /// the request fails with 503.
    pub session_store_timeout: Duration,
    /// Session lifetimes (`SESSION_*`).
    pub session: engine::SessionPolicy,
    /// `SESSION_CACHE_TTL`: how long a validated session is remembered in
    /// process (`0` turns the cache off). Also the longest a session revoked
    /// through *another* instance stays usable on this one.
    pub session_cache_ttl: Option<time::Duration>,
    /// `SESSION_CLEANUP_INTERVAL`: how often expired and revoked sessions
    /// are deleted.
    pub cleanup_interval: Duration,
    /// `COOKIE_SECURE`: `false` only for plain-HTTP development on a host
    /// other than localhost; refused in production.
    pub cookie_secure: bool,
    /// Access-token settings (`JWT_*`).
    pub jwt: engine::jwt::JwtSettings,
    /// `JWT_KEYS_DIR`: where signing keys are read (and, in dev, created).
    pub keys_dir: std::path::PathBuf,
    /// `TOKEN_STORAGE`: where the browser keeps the access token.
    pub token_storage: TokenStorage,
    /// `PUBLIC_URL`'s origin (`https://app.example`): the reference for
    /// the CSRF origin check, and HSTS when it is https.
    pub public_origin: Option<String>,
    /// Where the CSRF secret comes from (`CSRF_SECRET`).
    pub csrf_secret: CsrfSecret,
    /// `TRUSTED_PROXIES`: peers whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Brute-force limits (`RATE_LIMIT_*`).
    pub throttle: engine::throttle::ThrottleSettings,
    /// The `hash.txt` a content-hashed release build (`LEPTOS_HASH_FILES=true`)
    /// writes beside the server binary (`LEPTOS_HASH_FILE_NAME`, relative
    /// to the binary's folder).
    pub hash_file: std::path::PathBuf,
    /// `RENDER_CONCURRENCY`: server-rendered pages handled at once;
    /// the rest wait their turn (default: 8 per core).
    pub render_concurrency: usize,
    /// `LEPTOS_WATCH` (set by `cargo leptos watch`): the page's live-reload
    /// socket must be allowed by the CSP.
    pub live_reload: bool,
    /// Leptos' own options (`LEPTOS_SITE_ADDR`, `LEPTOS_SITE_ROOT`, …).
    pub leptos: LeptosOptions,
}

/// The CSRF signing secret: configured, or (dev only) a generated one kept
/// next to the signing keys.
#[derive(Clone, Debug)]
pub enum CsrfSecret {
    /// From `CSRF_SECRET`, already checked for strength.
    Configured(engine::csrf::CsrfKey),
    /// Dev: read or create `csrf.secret` in `JWT_KEYS_DIR`.
    Generated,
}

/// Database connection settings.
#[derive(Clone, Debug)]
pub struct DatabaseConfig {
    /// `DATABASE_URL` (may hold a password).
    pub url: SecretString,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a request waits for a
    /// connection before failing with 503 instead of hanging.
    pub acquire_timeout: Duration,
}

/// A configuration value was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: String,
        /// What it was set to (with any password or secret hidden).
        value: String,
        /// What is expected.
        reason: String,
    },
    /// Leptos rejected its own settings.
    #[error("invalid LEPTOS_* setting: {0}")]
    Leptos(String),
}

/// The variables, by name.
pub type Vars = HashMap<String, String>;

/// The default database: a SQLite file under `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/app.db";

/// A [`ConfigError::Invalid`] for `name`.
fn invalid(name: &str, value: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid {
        name: name.to_owned(),
        value: value.into(),
        reason: reason.into(),
    }
}

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first invalid variable, named, with what is expected.
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars: Vars = std::env::vars().collect();
        let leptos = leptos::config::get_configuration(None)
            .map_err(|err| ConfigError::Leptos(err.to_string()))?
            .leptos_options;
        Self::from_vars(&vars, leptos)
    }

    /// Builds the configuration from explicit variables, for tests.
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_vars(vars: &Vars, leptos: LeptosOptions) -> Result<Self, ConfigError> {
        Self::from_raw(RawConfig::from_vars(vars)?, leptos)
    }

    /// Checks the parsed variables against every rule: ranges, consistent
    /// session timeouts, URL schemes and what `APP_ENV=prod` requires.
    ///
    /// # Errors
    /// The first broken rule, naming its variable; never a password or the
    /// CSRF secret.
    pub fn from_raw(raw: RawConfig, leptos: LeptosOptions) -> Result<Self, ConfigError> {
        let prod = raw.app_env == AppEnv::Prod;
        let public_origin = raw.public_url.as_deref().map(public_origin).transpose()?;
        let db = raw.database_url.expose_secret();
        let store = raw.session_store.as_ref();
        let store = store.map_or("", ExposeSecret::expose_secret);
        let scheme = store.split_once("://").map(|(scheme, _)| scheme);
        let redis = store.is_empty() || matches!(scheme, Some("redis" | "rediss"));
        let (conns, renders) = (raw.database_max_connections, raw.render_concurrency);
        let acquire = raw.database_acquire_timeout_ms;
        let store_timeout = raw.session_store_timeout_ms;
        let cache = raw.session_cache_ttl.unwrap_or_default();
        let (sweep, ttl) = (raw.session_cleanup_interval, raw.jwt_access_ttl);
        let secure = raw.cookie_secure || !prod;
        let secret = raw.csrf_secret.as_ref().map(ExposeSecret::expose_secret);
        let csrf_key = secret.map(|secret| CsrfKey::from_secret(secret.as_bytes()));
        let strong = !matches!(csrf_key, Some(Err(_)));
        // What each rule expects, for its error.
        let sql = "expected a sqlite:// or postgres:// URL";
        let redis_url = "expected a redis:// URL, or unset to keep sessions in DATABASE_URL";
        let revoked =
            "at most 1m: it is how long a session revoked on another instance stays usable";
        let day = "at most 1d";
        let insecure = "insecure cookies are refused when APP_ENV=prod";
        let short = "access tokens cannot be revoked, so keep them short (1h at most)";
        let origin = "required when APP_ENV=prod (e.g. https://app.example)";
        let csrf = "required when APP_ENV=prod; every instance must share it \
                    (e.g. `openssl rand -base64 48`)";
        let weak = "too weak: use at least 32 random bytes, e.g. `openssl rand -base64 48`";
        for (ok, name, value, reason) in [
            rule(Database::supports(db), "DATABASE_URL", redact_url(db), sql),
            rule(redis, "SESSION_STORE", redact_url(store), redis_url),
            in_range("DATABASE_MAX_CONNECTIONS", conns, 1..=1000),
            in_range("DATABASE_ACQUIRE_TIMEOUT_MS", acquire, 10..=60_000),
            in_range("SESSION_STORE_TIMEOUT_MS", store_timeout, 10..=60_000),
            rule(cache <= 1.minutes(), "SESSION_CACHE_TTL", cache, revoked),
            rule(sweep <= 1.days(), "SESSION_CLEANUP_INTERVAL", sweep, day),
            rule(secure, "COOKIE_SECURE", "false", insecure),
            rule(ttl <= 1.hours(), "JWT_ACCESS_TTL", ttl, short),
            rule(public_origin.is_some() || !prod, "PUBLIC_URL", "", origin),
            rule(secret.is_some() || !prod, "CSRF_SECRET", "", csrf),
            rule(strong, "CSRF_SECRET", "<hidden>", weak),
            in_range("RENDER_CONCURRENCY", renders, 1..=4096),
        ] {
            ok.then_some(())
                .ok_or_else(|| invalid(name, value, reason))?;
        }
        let session = engine::SessionPolicy {
            idle_timeout: raw.session_idle_timeout,
            absolute_timeout: raw.session_absolute_timeout,
            remember_idle_timeout: raw.session_remember_idle_timeout,
            remember_absolute_timeout: raw.session_remember_absolute_timeout,
            touch_interval: raw.session_touch_interval,
            refresh_grace: raw.refresh_grace_period,
        };
        // The engine's own consistency rules; its error says which one.
        let inconsistent =
            |err: engine::Error| invalid("SESSION_*", format!("{session:?}"), err.to_string());
        session.validate().map_err(inconsistent)?;
        let exe = std::env::current_exe().unwrap_or_default();
        Ok(Self {
            app_env: raw.app_env,
            log_format: raw.log_format.unwrap_or(match raw.app_env {
                AppEnv::Dev => LogFormat::Pretty,
                AppEnv::Prod => LogFormat::Json,
            }),
            database: DatabaseConfig {
                max_connections: conns,
                acquire_timeout: Duration::from_millis(acquire),
                url: raw.database_url,
            },
            session_store: raw.session_store,
            session_store_timeout: Duration::from_millis(store_timeout),
            session,
            session_cache_ttl: raw.session_cache_ttl,
            cleanup_interval: sweep.unsigned_abs(),
            cookie_secure: raw.cookie_secure,
            jwt: engine::jwt::JwtSettings {
                issuer: raw.jwt_issuer,
                audience: raw.jwt_audience,
                ttl,
                leeway_secs: 5,
            },
            keys_dir: raw.jwt_keys_dir,
            token_storage: raw.token_storage,
            public_origin,
            csrf_secret: match csrf_key {
                Some(Ok(key)) => CsrfSecret::Configured(key),
                _ => CsrfSecret::Generated,
            },
            trusted_proxies: raw.trusted_proxies,
            throttle: engine::throttle::ThrottleSettings {
                credentials_per_ip: raw.rate_limit_credentials_per_ip,
                credentials_per_account: raw.rate_limit_credentials_per_account,
                refresh_per_ip: raw.rate_limit_refresh_per_ip,
            },
            hash_file: exe.with_file_name(&*leptos.hash_file),
            render_concurrency: renders,
            live_reload: !prod && raw.leptos_watch.is_some(),
            leptos,
        })
    }
}

/// A rule: ok, the variable, its value as shown, and what is expected.
type Row = (bool, &'static str, String, String);

/// One row of [`Config::from_raw`]'s table: `name`'s value is refused
/// for `reason` unless `ok`.
fn rule(ok: bool, name: &'static str, value: impl Display, reason: &str) -> Row {
    (ok, name, value.to_string(), reason.to_owned())
}

/// A row that `name`'s value is in `range`.
fn in_range<T: PartialOrd + Display>(name: &'static str, v: T, range: RangeInclusive<T>) -> Row {
    let reason = format!("expected {} to {}", range.start(), range.end());
    rule(range.contains(&v), name, v, &reason)
}

/// `http(s)://host[:port]` from a `PUBLIC_URL`; a path is refused (the app
/// is served from the root: `__Host-` cookies require `Path=/`).
fn public_origin(raw: &str) -> Result<String, ConfigError> {
    let invalid = || {
        let reason = "expected an origin such as https://app.example or http://localhost:3000";
        invalid("PUBLIC_URL", raw, reason)
    };
    let trimmed = raw.trim().trim_end_matches('/');
    let (scheme, authority) = trimmed.split_once("://").ok_or_else(invalid)?;
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https")
        || authority.is_empty()
        || authority.contains(['/', '?', '#', '@', ' '])
    {
        return Err(invalid());
    }
    Ok(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// Hides a password in a connection URL before it is shown in an error.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}
