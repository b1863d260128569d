//! Configuration, read from the environment once at start-up into typed
//! structs. Nothing reads environment variables after this.
//!
//! Two steps, so that each thing is written once: [`Env`] (serde, via
//! `envy`) maps every variable onto a field with its syntax and default,
//! then [`Config::from_raw`] applies every range and production rule.
//! Every default runs out of the box in development; see
//! `docs/CONFIGURATION.md` for the reference. Values that may hold a
//! password are [`secrecy::SecretString`]s, so no `Debug` output shows them.

mod providers;
mod raw;
#[cfg(test)]
mod tests;

use std::{collections::HashMap, fmt::Display, ops::RangeInclusive};

use engine::jwt::MAX_ACCESS_TTL as MAX_TTL;
use engine::store::{
    database::redact,
    open::{supports_database, supports_session_store},
};
use leptos::config::LeptosOptions;
use secrecy::ExposeSecret;
use time::ext::NumericalDuration as _;

pub use crate::telemetry::LogFormat;
pub use app::client_session::TokenStorage;
pub use raw::Env;

/// Which rules apply: `dev` generates what is missing, `prod` refuses it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
pub enum AppEnv {
    /// Local development (the default).
    #[serde(rename = "dev", alias = "development")]
    Dev,
    /// Production: stricter checks at start-up.
    #[serde(rename = "prod", alias = "production")]
    Prod,
}

/// The whole configuration. Its `Debug` shows no secret.
#[derive(Clone, Debug)]
pub struct Config {
    /// Every variable as set (or its default), checked against the rules:
    /// `env.database_url` is `DATABASE_URL`, and so on.
    pub env: Env,
    /// `LOG_FORMAT`, or the one `APP_ENV` implies.
    pub log_format: LogFormat,
    /// Session lifetimes (`SESSION_*`, `REFRESH_GRACE_PERIOD`).
    pub session: engine::SessionPolicy,
    /// `CSRF_SECRET` as a key (checked for strength); `None` in dev, where
    /// one is generated and kept beside the signing keys.
    pub csrf_key: Option<engine::csrf::CsrfKey>,
    /// The `hash.txt` a content-hashed release build (`LEPTOS_HASH_FILES=true`)
    /// writes beside the server binary (`LEPTOS_HASH_FILE_NAME`, relative
    /// to the binary's folder).
    pub hash_file: std::path::PathBuf,
    /// `LEPTOS_WATCH` (set by `cargo leptos watch`) in dev: the page's
    /// live-reload socket must be allowed by the CSP.
    pub live_reload: bool,
    /// Leptos' own options (`LEPTOS_SITE_ADDR`, `LEPTOS_SITE_ROOT`, …).
    pub leptos: LeptosOptions,
    /// The "Sign in with …" providers (`OIDC_PROVIDERS`, `OIDC_<ID>_*`);
    /// none by default.
    pub providers: Vec<engine::oidc::ProviderConfig>,
}

/// A variable has a value that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("{name}={value:?} is invalid: {reason}")]
pub struct ConfigError {
    /// The variable.
    pub name: String,
    /// What it was set to (with any password or secret hidden).
    pub value: String,
    /// What is expected.
    pub reason: String,
}

/// The variables, by name.
pub type Vars = HashMap<String, String>;

/// A [`ConfigError`] for `name`.
fn invalid(name: &str, value: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError {
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
        let leptos = leptos::config::get_configuration(None)
            .map_err(|err| invalid("LEPTOS_*", "", err.to_string()))?
            .leptos_options;
        Self::from_vars(&std::env::vars().collect(), leptos)
    }

    /// Builds the configuration from explicit variables, for tests.
    ///
    /// # Errors
    /// As [`Config::from_env`].
    pub fn from_vars(vars: &Vars, leptos: LeptosOptions) -> Result<Self, ConfigError> {
        let mut config = Self::from_raw(Env::from_vars(vars)?, leptos)?;
        config.providers = providers::providers(vars, config.env.app_env == AppEnv::Prod)?;
        Ok(config)
    }

    /// Checks the parsed variables against every rule: ranges, consistent
    /// session timeouts, URL schemes and what `APP_ENV=prod` requires.
    ///
    /// # Errors
    /// The first broken rule, naming its variable; never a password or the
    /// CSRF secret.
    pub fn from_raw(env: Env, leptos: LeptosOptions) -> Result<Self, ConfigError> {
        let prod = env.app_env == AppEnv::Prod;
        let db = env.database_url.expose_secret();
        let store = env.session_store.as_ref().map_or("", |s| s.expose_secret());
        let store_ok = store.is_empty() || supports_session_store(store);
        let prefix = &env.session_store_prefix;
        let prefix_ok = (1..=64).contains(&prefix.len())
            && prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":_-.".contains(&b));
        let (conns, renders) = (env.database_max_connections, env.render_concurrency);
        let acquire = env.database_acquire_timeout_ms;
        let store_ms = env.session_store_timeout_ms;
        let cache = env.session_cache_ttl.unwrap_or_default();
        let (sweep, ttl) = (env.session_cleanup_interval, env.jwt_access_ttl);
        let secure = env.cookie_secure || !prod;
        let secret = env.csrf_secret.as_ref().map(ExposeSecret::expose_secret);
        let csrf_key = secret.map(|secret| engine::csrf::CsrfKey::from_secret(secret.as_bytes()));
        let strong = !matches!(csrf_key, Some(Err(_)));
        // What each rule expects, for its error.
        let sql = "expected a sqlite:// or postgres:// URL";
        let redis_url = "expected a redis:// URL, or unset to keep sessions in DATABASE_URL";
        let key_prefix = "1 to 64 letters, digits and : _ - . (such as ls: or app1:)";
        let revoked = "at most 1m: a session revoked on another instance stays usable this long";
        let day = "at most 1d";
        let insecure = "insecure cookies are refused when APP_ENV=prod";
        let short = "at most 15m: other instances accept a revoked session's token until exp";
        let origin = "required when APP_ENV=prod (e.g. https://app.example)";
        let csrf = "required when APP_ENV=prod, shared by all instances (openssl rand -base64 48)";
        let weak = "too weak: use at least 32 random bytes, e.g. `openssl rand -base64 48`";
        let smtp = env.smtp_url.as_ref().map(ExposeSecret::expose_secret);
        let smtp_err =
            smtp.and_then(|url| crate::smtp::transport(url).err().map(|e| e.to_string()));
        let from_err = crate::smtp::parse_from(&env.mail_from)
            .err()
            .map(|e| e.to_string());
        let no_smtp = "required when APP_ENV=prod, or mail waits in the outbox for good \
                       (smtps://user:password@smtp.example.com:465)";
        let plaintext =
            "sends mail unencrypted: use smtps://, or add ?tls=required, when APP_ENV=prod";
        for (ok, name, value, reason) in [
            rule(supports_database(db), "DATABASE_URL", redact(db), sql),
            rule(store_ok, "SESSION_STORE", redact(store), redis_url),
            rule(prefix_ok, "SESSION_STORE_PREFIX", prefix, key_prefix),
            in_range("DATABASE_MAX_CONNECTIONS", conns, 1..=1000),
            in_range("DATABASE_ACQUIRE_TIMEOUT_MS", acquire, 10..=60_000),
            in_range("SESSION_STORE_TIMEOUT_MS", store_ms, 10..=60_000),
            rule(cache <= 1.minutes(), "SESSION_CACHE_TTL", cache, revoked),
            rule(sweep <= 1.days(), "SESSION_CLEANUP_INTERVAL", sweep, day),
            rule(secure, "COOKIE_SECURE", "false", insecure),
            rule(ttl <= MAX_TTL, "JWT_ACCESS_TTL", ttl, short),
            rule(env.public_url.is_some() || !prod, "PUBLIC_URL", "", origin),
            rule(secret.is_some() || !prod, "CSRF_SECRET", "", csrf),
            rule(strong, "CSRF_SECRET", "<hidden>", weak),
            in_range("RENDER_CONCURRENCY", renders, 1..=4096),
            rule(smtp.is_some() || !prod, "SMTP_URL", "", no_smtp),
            rule(
                smtp_err.is_none(),
                "SMTP_URL",
                "<hidden>",
                smtp_err.as_deref().unwrap_or_default(),
            ),
            rule(
                !(prod && smtp.is_some_and(crate::smtp::is_plaintext)),
                "SMTP_URL",
                "<hidden>",
                plaintext,
            ),
            rule(
                from_err.is_none(),
                "MAIL_FROM",
                &env.mail_from,
                from_err.as_deref().unwrap_or_default(),
            ),
        ] {
            ok.then_some(())
                .ok_or_else(|| invalid(name, value, reason))?;
        }
        let session = engine::SessionPolicy {
            idle_timeout: env.session_idle_timeout,
            absolute_timeout: env.session_absolute_timeout,
            remember_idle_timeout: env.session_remember_idle_timeout,
            remember_absolute_timeout: env.session_remember_absolute_timeout,
            touch_interval: env.session_touch_interval,
            refresh_grace: env.refresh_grace_period,
            reauth_window: env.reauth_window,
        };
        // The engine's own consistency rules; its error says which one.
        let inconsistent =
            |err: engine::Error| invalid("SESSION_*", format!("{session:?}"), err.to_string());
        session.validate().map_err(inconsistent)?;
        let exe = std::env::current_exe().unwrap_or_default();
        Ok(Self {
            log_format: env.log_format.unwrap_or(LogFormat::default_for(prod)),
            session,
            csrf_key: csrf_key.and_then(Result::ok),
            hash_file: exe.with_file_name(&*leptos.hash_file),
            live_reload: !prod && env.leptos_watch.is_some(),
            leptos,
            env,
            providers: Vec::new(),
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
