//! Configuration, read from the environment once at start-up into typed
//! structs. Nothing reads environment variables after this.
//!
//! Every variable has a default that runs out of the box in development;
//! see `docs/CONFIGURATION.md` for the reference.

use std::{collections::HashMap, str::FromStr};

use leptos::config::LeptosOptions;

/// Which rules apply: `dev` generates what is missing, `prod` refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppEnv {
    /// Local development (the default).
    Dev,
    /// Production: stricter checks at start-up.
    Prod,
}

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// Where the WASM app keeps the access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStorage {
    /// In memory only (the default): gone on reload, unreachable for other
    /// scripts except through the app itself.
    Memory,
    /// In `localStorage`: survives reloads, but any script that runs on the
    /// page (an XSS) can read it. Opt-in.
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

/// The whole configuration.
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
    pub session_store: Option<String>,
    /// `SESSION_STORE_TIMEOUT_MS`: how long a Redis command may take before
    /// the request fails with 503.
    pub session_store_timeout: std::time::Duration,
    /// Session lifetimes (`SESSION_*`).
    pub session: engine::SessionPolicy,
    /// `SESSION_CACHE_TTL`: how long a validated session is remembered in
    /// process (`0` turns the cache off). Also the longest a session revoked
    /// through *another* instance stays usable on this one.
    pub session_cache_ttl: Option<time::Duration>,
    /// `SESSION_CLEANUP_INTERVAL`: how often expired and revoked sessions
    /// are deleted.
    pub cleanup_interval: std::time::Duration,
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
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Brute-force limits (`RATE_LIMIT_*`).
    pub throttle: engine::throttle::ThrottleSettings,
    /// The `hash.txt` a content-hashed release build (`LEPTOS_HASH_FILES=true`)
    /// writes beside the server binary (`LEPTOS_HASH_FILE_NAME`, relative
    /// to the binary's folder).
    pub hash_file: std::path::PathBuf,
    /// `RENDER_CONCURRENCY`: pages and server functions handled at once;
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
    /// `DATABASE_URL`.
    pub url: String,
    /// `DATABASE_MAX_CONNECTIONS`.
    pub max_connections: u32,
    /// `DATABASE_ACQUIRE_TIMEOUT_MS`: how long a request waits for a
    /// connection before failing with 503 instead of hanging.
    pub acquire_timeout: std::time::Duration,
}

/// A configuration value was rejected.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A variable has a value that cannot be used.
    #[error("{name}={value:?} is invalid: {reason}")]
    Invalid {
        /// The variable.
        name: &'static str,
        /// What it was set to.
        value: String,
        /// What is expected.
        reason: &'static str,
    },
    /// Leptos rejected its own settings.
    #[error("invalid LEPTOS_* setting: {0}")]
    Leptos(String),
}

/// The default database: a SQLite file under `data/`, created on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/app.db";

impl Config {
    /// Reads the process environment.
    ///
    /// # Errors
    /// The first invalid variable, named, with what is expected.
    pub fn from_env() -> Result<Self, ConfigError> {
        let vars: HashMap<String, String> = std::env::vars().collect();
        let leptos = leptos::config::get_configuration(None)
            .map_err(|err| ConfigError::Leptos(err.to_string()))?
            .leptos_options;
        Self::from_vars(&vars, leptos)
    }

    /// Builds the configuration from explicit variables, for tests.
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_vars(
        vars: &HashMap<String, String>,
        leptos: LeptosOptions,
    ) -> Result<Self, ConfigError> {
        let get = |name: &str| vars.get(name).map(String::as_str).filter(|v| !v.is_empty());

        let app_env = match get("APP_ENV").unwrap_or("dev") {
            "dev" | "development" => AppEnv::Dev,
            "prod" | "production" => AppEnv::Prod,
            other => {
                return Err(ConfigError::Invalid {
                    name: "APP_ENV",
                    value: other.to_owned(),
                    reason: "expected `dev` or `prod`",
                })
            }
        };
        let default_format = match app_env {
            AppEnv::Dev => "pretty",
            AppEnv::Prod => "json",
        };
        let log_format = match get("LOG_FORMAT").unwrap_or(default_format) {
            "pretty" => LogFormat::Pretty,
            "json" => LogFormat::Json,
            other => {
                return Err(ConfigError::Invalid {
                    name: "LOG_FORMAT",
                    value: other.to_owned(),
                    reason: "expected `pretty` or `json`",
                })
            }
        };

        let url = get("DATABASE_URL")
            .unwrap_or(DEFAULT_DATABASE_URL)
            .to_owned();
        if !engine::store::database::Database::supports(&url) {
            return Err(ConfigError::Invalid {
                name: "DATABASE_URL",
                value: redact_url(&url),
                reason: "expected a sqlite:// or postgres:// URL",
            });
        }
        let database = DatabaseConfig {
            url,
            max_connections: parse_in(get, "DATABASE_MAX_CONNECTIONS", 8, 1..=1000)?,
            acquire_timeout: std::time::Duration::from_millis(parse_in(
                get,
                "DATABASE_ACQUIRE_TIMEOUT_MS",
                3_000,
                10..=60_000,
            )?),
        };

        let session_store = get("SESSION_STORE").map(str::to_owned);
        if let Some(url) = &session_store {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::Invalid {
                    name: "SESSION_STORE",
                    value: redact_url(url),
                    reason: "expected a redis:// URL, or unset to keep sessions in DATABASE_URL",
                });
            }
        }
        let session_store_timeout = std::time::Duration::from_millis(parse_in(
            get,
            "SESSION_STORE_TIMEOUT_MS",
            2_000,
            10..=60_000,
        )?);

        let defaults = engine::SessionPolicy::default();
        let session = engine::SessionPolicy {
            idle_timeout: duration(get, "SESSION_IDLE_TIMEOUT", defaults.idle_timeout)?,
            absolute_timeout: duration(get, "SESSION_ABSOLUTE_TIMEOUT", defaults.absolute_timeout)?,
            remember_idle_timeout: duration(
                get,
                "SESSION_REMEMBER_IDLE_TIMEOUT",
                defaults.remember_idle_timeout,
            )?,
            remember_absolute_timeout: duration(
                get,
                "SESSION_REMEMBER_ABSOLUTE_TIMEOUT",
                defaults.remember_absolute_timeout,
            )?,
            touch_interval: duration(get, "SESSION_TOUCH_INTERVAL", defaults.touch_interval)?,
            refresh_grace: duration(get, "REFRESH_GRACE_PERIOD", defaults.refresh_grace)?,
        };
        session.validate().map_err(|err| ConfigError::Invalid {
            name: "SESSION_*",
            value: format!("{session:?}"),
            reason: match err {
                engine::Error::Invalid(reason) => reason,
                _ => "inconsistent session timeouts",
            },
        })?;
        let session_cache_ttl = match get("SESSION_CACHE_TTL").map(str::trim) {
            Some("0" | "off") => None,
            _ => Some(duration(
                get,
                "SESSION_CACHE_TTL",
                time::Duration::seconds(2),
            )?),
        };
        if let Some(ttl) = session_cache_ttl.filter(|t| *t > time::Duration::minutes(1)) {
            return Err(ConfigError::Invalid {
                name: "SESSION_CACHE_TTL",
                value: ttl.to_string(),
                reason:
                    "at most 1m: it is how long a session revoked on another instance stays usable",
            });
        }
        let cleanup_interval =
            duration(get, "SESSION_CLEANUP_INTERVAL", time::Duration::minutes(10))?;
        let cleanup_interval =
            std::time::Duration::try_from(cleanup_interval).map_err(|_| ConfigError::Invalid {
                name: "SESSION_CLEANUP_INTERVAL",
                value: cleanup_interval.to_string(),
                reason: "must be positive",
            })?;

        let cookie_secure = match get("COOKIE_SECURE").unwrap_or("true") {
            "true" | "1" => true,
            "false" | "0" => false,
            other => {
                return Err(ConfigError::Invalid {
                    name: "COOKIE_SECURE",
                    value: other.to_owned(),
                    reason: "expected `true` or `false`",
                })
            }
        };
        if app_env == AppEnv::Prod && !cookie_secure {
            return Err(ConfigError::Invalid {
                name: "COOKIE_SECURE",
                value: "false".to_owned(),
                reason: "insecure cookies are refused when APP_ENV=prod",
            });
        }

        let jwt = engine::jwt::JwtSettings {
            issuer: get("JWT_ISSUER").unwrap_or("leptos-sessions").to_owned(),
            audience: get("JWT_AUDIENCE").unwrap_or("leptos-sessions").to_owned(),
            ttl: duration(get, "JWT_ACCESS_TTL", time::Duration::minutes(5))?,
            leeway_secs: 5,
        };
        if jwt.ttl > time::Duration::hours(1) {
            return Err(ConfigError::Invalid {
                name: "JWT_ACCESS_TTL",
                value: jwt.ttl.to_string(),
                reason: "access tokens cannot be revoked, so keep them short (1h at most)",
            });
        }
        let keys_dir = get("JWT_KEYS_DIR").unwrap_or("data/keys").into();
        let token_storage = match get("TOKEN_STORAGE").unwrap_or("memory") {
            "memory" => TokenStorage::Memory,
            "local" => TokenStorage::LocalStorage,
            other => {
                return Err(ConfigError::Invalid {
                    name: "TOKEN_STORAGE",
                    value: other.to_owned(),
                    reason: "expected `memory` or `local`",
                })
            }
        };

        let public_origin = get("PUBLIC_URL").map(public_origin).transpose()?;
        if app_env == AppEnv::Prod && public_origin.is_none() {
            return Err(ConfigError::Invalid {
                name: "PUBLIC_URL",
                value: String::new(),
                reason: "required when APP_ENV=prod (e.g. https://app.example)",
            });
        }
        let csrf_secret = match (get("CSRF_SECRET"), app_env) {
            (Some(secret), _) => CsrfSecret::Configured(
                engine::csrf::CsrfKey::from_secret(secret.as_bytes()).map_err(|_| {
                    ConfigError::Invalid {
                        name: "CSRF_SECRET",
                        value: "<hidden>".to_owned(),
                        reason: "too weak: use at least 32 random bytes, e.g. `openssl rand -base64 48`",
                    }
                })?,
            ),
            (None, AppEnv::Dev) => CsrfSecret::Generated,
            (None, AppEnv::Prod) => {
                return Err(ConfigError::Invalid {
                    name: "CSRF_SECRET",
                    value: String::new(),
                    reason: "required when APP_ENV=prod; every instance must share it \
                             (e.g. `openssl rand -base64 48`)",
                })
            }
        };
        let trusted_proxies = get("TRUSTED_PROXIES")
            .map(|raw| {
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        s.parse::<ipnet::IpNet>()
                            .or_else(|_| s.parse::<std::net::IpAddr>().map(ipnet::IpNet::from))
                            .map_err(|_| ConfigError::Invalid {
                                name: "TRUSTED_PROXIES",
                                value: raw.to_owned(),
                                reason: "expected IP addresses or CIDR ranges, comma-separated",
                            })
                    })
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()?
            .unwrap_or_default();
        let limits = engine::throttle::ThrottleSettings::default();
        let throttle = engine::throttle::ThrottleSettings {
            credentials_per_ip: limit(
                get,
                "RATE_LIMIT_CREDENTIALS_PER_IP",
                limits.credentials_per_ip,
            )?,
            credentials_per_account: limit(
                get,
                "RATE_LIMIT_CREDENTIALS_PER_ACCOUNT",
                limits.credentials_per_account,
            )?,
            refresh_per_ip: limit(get, "RATE_LIMIT_REFRESH_PER_IP", limits.refresh_per_ip)?,
        };

        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let render_concurrency = parse_in(get, "RENDER_CONCURRENCY", 8 * cores, 1..=4096)?;
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(std::path::Path::to_path_buf))
            .unwrap_or_default()
            .join(&*leptos.hash_file);

        Ok(Self {
            app_env,
            log_format,
            database,
            session_store,
            session_store_timeout,
            session_cache_ttl,
            session,
            cleanup_interval,
            cookie_secure,
            jwt,
            keys_dir,
            token_storage,
            public_origin,
            csrf_secret,
            trusted_proxies,
            throttle,
            render_concurrency,
            hash_file,
            live_reload: app_env == AppEnv::Dev && get("LEPTOS_WATCH").is_some(),
            leptos,
        })
    }
}

/// Parses an optional number and checks its range.
fn parse_in<'a, T>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, ConfigError>
where
    T: FromStr + PartialOrd,
{
    let Some(raw) = get(name) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(value) if range.contains(&value) => Ok(value),
        _ => Err(ConfigError::Invalid {
            name,
            value: raw.to_owned(),
            reason: "not a number in the allowed range",
        }),
    }
}

/// Parses an optional duration such as `30s`, `15m`, `8h` or `7d`.
fn duration<'a>(
    get: impl Fn(&str) -> Option<&'a str>,
    name: &'static str,
    default: time::Duration,
) -> Result<time::Duration, ConfigError> {
    let Some(raw) = get(name) else {
        return Ok(default);
    };
    let invalid = || ConfigError::Invalid {
        name,
        value: raw.to_owned(),
        reason: "expected a positive duration such as 30s, 15m, 8h or 7d",
    };
    let raw_trimmed = raw.trim();
    let split = raw_trimmed
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(invalid)?;
    let (number, unit) = raw_trimmed.split_at(split);
    let n: i64 = number.parse().map_err(|_| invalid())?;
    let d = match unit {
        "s" => time::Duration::seconds(n),
        "m" => time::Duration::minutes(n),
        "h" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        _ => return Err(invalid()),
    };
    if n <= 0 || n > 1_000_000 {
        return Err(invalid());
    }
    Ok(d)
}

/// `http(s)://host[:port]` from a `PUBLIC_URL`; a path is refused (the app
/// is served from the root: `__Host-` cookies require `Path=/`).
fn public_origin(raw: &str) -> Result<String, ConfigError> {
    let invalid = || ConfigError::Invalid {
        name: "PUBLIC_URL",
        value: raw.to_owned(),
        reason: "expected an origin such as https://app.example or http://localhost:3000",
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

/// Parses an optional rate limit such as `5/1m` (five per minute).
fn limit<'a>(
    get: impl Fn(&str) -> Option<&'a str> + Copy,
    name: &'static str,
    default: engine::throttle::Limit,
) -> Result<engine::throttle::Limit, ConfigError> {
    let Some(raw) = get(name) else {
        return Ok(default);
    };
    let invalid = || ConfigError::Invalid {
        name,
        value: raw.to_owned(),
        reason: "expected <count>/<period>, such as 5/1m or 100/10s",
    };
    let (count, period) = raw.split_once('/').ok_or_else(invalid)?;
    let count = count
        .trim()
        .parse::<std::num::NonZeroU32>()
        .map_err(|_| invalid())?;
    let per = duration(|_| Some(period), name, time::Duration::ZERO)?;
    let per = std::time::Duration::try_from(per).map_err(|_| invalid())?;
    Ok(engine::throttle::Limit { count, per })
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

#[cfg(test)]
mod tests {
    use super::*;

    fn leptos() -> LeptosOptions {
        LeptosOptions::builder().output_name("test").build()
    }

    fn vars(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_run_out_of_the_box() {
        let config = Config::from_vars(&vars(&[]), leptos()).unwrap();
        assert_eq!(config.app_env, AppEnv::Dev);
        assert_eq!(config.log_format, LogFormat::Pretty);
        assert_eq!(config.database.url, DEFAULT_DATABASE_URL);
        assert_eq!(config.database.max_connections, 8);
    }

    /// Every variable this module reads must be in the configuration
    /// reference and in `.env.example`, so the docs cannot drift.
    #[test]
    fn every_variable_is_documented() {
        let source = include_str!("config.rs");
        let reference = include_str!("../../docs/CONFIGURATION.md");
        let example = include_str!("../../.env.example");
        let code = source.split("#[cfg(test)]").next().unwrap();
        let names: Vec<&str> = code
            .split('"')
            .skip(1)
            .step_by(2)
            .filter(|s| {
                s.len() > 3
                    && s.contains('_')
                    && s.chars().all(|c| c.is_ascii_uppercase() || c == '_')
            })
            .collect();
        assert!(names.len() >= 10, "found {names:?}");
        for name in names {
            assert!(
                reference.contains(&format!("`{name}`")),
                "{name} missing from docs/CONFIGURATION.md"
            );
            assert!(example.contains(name), "{name} missing from .env.example");
        }
    }

    #[test]
    fn the_session_cache_is_on_by_default_and_can_be_turned_off() {
        let on = Config::from_vars(&vars(&[]), leptos()).unwrap();
        assert_eq!(on.session_cache_ttl, Some(time::Duration::seconds(2)));
        let longer = Config::from_vars(&vars(&[("SESSION_CACHE_TTL", "10s")]), leptos()).unwrap();
        assert_eq!(longer.session_cache_ttl, Some(time::Duration::seconds(10)));
        for off in ["0", "off"] {
            let off = Config::from_vars(&vars(&[("SESSION_CACHE_TTL", off)]), leptos()).unwrap();
            assert_eq!(off.session_cache_ttl, None);
        }
    }

    #[test]
    fn eight_renders_per_core_at_once_by_default() {
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let config = Config::from_vars(&vars(&[]), leptos()).unwrap();
        assert_eq!(config.render_concurrency, 8 * cores);
        let set = Config::from_vars(&vars(&[("RENDER_CONCURRENCY", "3")]), leptos()).unwrap();
        assert_eq!(set.render_concurrency, 3);
    }

    #[test]
    fn durations_parse_with_units() {
        let config = Config::from_vars(
            &vars(&[
                ("SESSION_IDLE_TIMEOUT", "15m"),
                ("SESSION_ABSOLUTE_TIMEOUT", "4h"),
            ]),
            leptos(),
        )
        .unwrap();
        assert_eq!(config.session.idle_timeout, time::Duration::minutes(15));
        assert_eq!(config.session.absolute_timeout, time::Duration::hours(4));
    }

    #[test]
    fn idle_longer_than_absolute_is_refused() {
        let err = Config::from_vars(&vars(&[("SESSION_IDLE_TIMEOUT", "9h")]), leptos())
            .unwrap_err()
            .to_string();
        assert!(err.contains("idle timeout cannot exceed"), "{err}");
    }

    #[test]
    fn prod_refuses_insecure_cookies() {
        let err = Config::from_vars(
            &vars(&[("APP_ENV", "prod"), ("COOKIE_SECURE", "false")]),
            leptos(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("COOKIE_SECURE"), "{err}");
    }

    const PROD: [(&str, &str); 3] = [
        ("APP_ENV", "prod"),
        ("PUBLIC_URL", "https://app.example"),
        ("CSRF_SECRET", "k3Jv9QpX2mZr7LwT5bNc8HdY4gFs1aUe6tRy0oPi"),
    ];

    #[test]
    fn prod_defaults_to_json_logs() {
        let config = Config::from_vars(&vars(&PROD), leptos()).unwrap();
        assert_eq!(config.log_format, LogFormat::Json);
        assert_eq!(config.public_origin.as_deref(), Some("https://app.example"));
    }

    #[test]
    fn prod_refuses_missing_or_weak_secrets_and_a_missing_public_url() {
        for (drop, weak) in [
            ("CSRF_SECRET", None),
            ("PUBLIC_URL", None),
            ("CSRF_SECRET", Some("changeme")),
            (
                "CSRF_SECRET",
                Some("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
            ),
        ] {
            let mut v = vars(&PROD);
            match weak {
                Some(value) => v.insert(drop.to_owned(), value.to_owned()),
                None => v.remove(drop),
            };
            let err = Config::from_vars(&v, leptos()).unwrap_err().to_string();
            assert!(err.contains(drop), "{err}");
            if let Some(value) = weak {
                assert!(!err.contains(value), "secret echoed: {err}");
            }
        }
    }

    #[test]
    fn the_live_reload_socket_is_allowed_only_under_watch_in_dev() {
        let watch = ("LEPTOS_WATCH", "ON");
        assert!(
            Config::from_vars(&vars(&[watch]), leptos())
                .unwrap()
                .live_reload
        );
        assert!(!Config::from_vars(&vars(&[]), leptos()).unwrap().live_reload);
        let mut prod = vars(&PROD);
        prod.insert(watch.0.to_owned(), watch.1.to_owned());
        assert!(!Config::from_vars(&prod, leptos()).unwrap().live_reload);
    }

    #[test]
    fn limits_and_proxies_parse() {
        let config = Config::from_vars(
            &vars(&[
                ("RATE_LIMIT_CREDENTIALS_PER_ACCOUNT", "3/10s"),
                ("TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1"),
                ("PUBLIC_URL", "HTTP://Localhost:3000/"),
            ]),
            leptos(),
        )
        .unwrap();
        assert_eq!(config.throttle.credentials_per_account.count.get(), 3);
        assert_eq!(config.throttle.credentials_per_account.per.as_secs(), 10);
        assert_eq!(config.trusted_proxies.len(), 2);
        assert_eq!(
            config.public_origin.as_deref(),
            Some("http://localhost:3000")
        );
    }

    #[test]
    fn invalid_values_are_named_in_the_error() {
        for (name, value) in [
            ("APP_ENV", "staging"),
            ("LOG_FORMAT", "xml"),
            ("DATABASE_URL", "mysql://u:secret@h/db"),
            ("DATABASE_MAX_CONNECTIONS", "0"),
            ("DATABASE_MAX_CONNECTIONS", "many"),
            ("DATABASE_ACQUIRE_TIMEOUT_MS", "999999999"),
            ("SESSION_IDLE_TIMEOUT", "soon"),
            ("SESSION_IDLE_TIMEOUT", "-5m"),
            ("SESSION_CLEANUP_INTERVAL", "10y"),
            ("SESSION_CACHE_TTL", "5m"),
            ("SESSION_CACHE_TTL", "-1s"),
            ("COOKIE_SECURE", "maybe"),
            ("JWT_ACCESS_TTL", "2h"),
            ("TOKEN_STORAGE", "cookie"),
            ("SESSION_STORE", "memcached://h"),
            ("PUBLIC_URL", "app.example"),
            ("PUBLIC_URL", "https://app.example/app"),
            ("TRUSTED_PROXIES", "10.0.0.0/33"),
            ("RATE_LIMIT_REFRESH_PER_IP", "0/1m"),
            ("RATE_LIMIT_REFRESH_PER_IP", "ten"),
            ("RENDER_CONCURRENCY", "0"),
            ("CSRF_SECRET", "short"),
        ] {
            let err = Config::from_vars(&vars(&[(name, value)]), leptos())
                .unwrap_err()
                .to_string();
            assert!(err.contains(name), "{err}");
            assert!(!err.contains("secret"), "password leaked: {err}");
        }
    }
}
