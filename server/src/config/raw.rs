//! The environment as written: one field per variable (`APP_ENV` fills
//! `app_env`), with its parser and its default, each stated once here. A
//! type of its own (a rate limit, the trusted proxies) parses through its
//! `FromStr`, next to the type.
//!
//! This step only parses. The ranges and the production rules are in
//! [`super::Config::from_raw`], so each rule has one place.

use std::{fmt::Display, path::PathBuf, str::FromStr};

use engine::throttle::Limit;
use serde::{de::Error as _, Deserialize, Deserializer};
use time::Duration;

use crate::{client_ip::TrustedProxies, origin::PublicOrigin};

use super::{invalid, AppEnv, ConfigError, LogFormat, TokenStorage, Vars};

/// Generates [`Env`] and its `Default` from one line per variable:
/// `field: Type = default => "parser";` (the parser is optional). The
/// `let`s in braces before them name values the defaults share.
macro_rules! raw_config {
    (
        { $(let $var:ident = $init:expr;)* }
        $($field:ident: $ty:ty = $default:expr $(=> $parse:literal)?;)*
    ) => {
        /// Every variable the server reads (the field in capitals), parsed;
        /// [`super::Config::env`] holds it once checked against the rules.
        /// `docs/CONFIGURATION.md` describes each. A variable that is unset (or empty) keeps
        /// [`Env::default`], which runs out of the box in development.
        #[derive(Clone, Debug, Deserialize)]
        #[serde(default)]
        pub struct Env {
            $($(#[serde(deserialize_with = $parse)])? pub $field: $ty,)*
        }

        impl Default for Env {
            fn default() -> Self {
                $(let $var = $init;)*
                Self { $($field: $default,)* }
            }
        }
    };
}

// The session lifetimes and rate limits default to the engine's own.
raw_config! {
    {
        let session = engine::SessionPolicy::default();
        let limits = engine::throttle::ThrottleSettings::default();
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    }
    app_env: AppEnv = AppEnv::Dev;
    log_format: Option<LogFormat> = None;
    database_url: secrecy::SecretString = "sqlite://data/app.db".into();
    database_max_connections: u32 = 8 => "number";
    database_acquire_timeout_ms: u64 = 3_000 => "number";
    session_store: Option<secrecy::SecretString> = None;
    session_store_timeout_ms: u64 = 2_000 => "number";
    session_store_prefix: String = "ls:".into();
    session_idle_timeout: Duration = session.idle_timeout => "duration";
    session_absolute_timeout: Duration = session.absolute_timeout => "duration";
    session_remember_idle_timeout: Duration = session.remember_idle_timeout => "duration";
    session_remember_absolute_timeout: Duration = session.remember_absolute_timeout => "duration";
    session_touch_interval: Duration = session.touch_interval => "duration";
    refresh_grace_period: Duration = session.refresh_grace => "duration";
    reauth_window: Duration = session.reauth_window => "duration";
    auth_events_retention: Duration = Duration::days(90) => "duration";
    session_cache_ttl: Option<Duration> = Some(Duration::seconds(2)) => "duration_or_off";
    session_cleanup_interval: Duration = Duration::minutes(10) => "duration";
    cookie_secure: bool = true => "from_str";
    jwt_access_ttl: Duration = Duration::minutes(5) => "duration";
    jwt_issuer: Option<String> = None;
    jwt_audience: String = "leptos-sessions".to_owned();
    jwt_keys_dir: PathBuf = "data/keys".into();
    token_storage: TokenStorage = TokenStorage::Session;
    public_url: Option<PublicOrigin> = None => "some";
    csrf_secret: Option<secrecy::SecretString> = None;
    smtp_url: Option<secrecy::SecretString> = None;
    mail_from: String = "Leptos Sessions <no-reply@localhost>".into();
    trusted_proxies: TrustedProxies = TrustedProxies::default() => "from_str";
    rate_limit_credentials_per_ip: Limit = limits.credentials_per_ip => "from_str";
    rate_limit_credentials_per_account: Limit = limits.credentials_per_account => "from_str";
    rate_limit_refresh_per_ip: Limit = limits.refresh_per_ip => "from_str";
    rate_limit_passkey_starts_per_ip: Limit = limits.passkey_starts_per_ip => "from_str";
    render_concurrency: usize = 8 * cores => "number";
    leptos_watch: Option<String> = None;
}

impl Env {
    /// Parses `vars`. Only names in capitals are read, and an empty value
    /// counts as unset.
    ///
    /// # Errors
    /// The first variable that does not parse, named, with why.
    pub fn from_vars(vars: &Vars) -> Result<Self, ConfigError> {
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

/// Any type with a `FromStr` whose error says what is expected: the rate
/// limits, the trusted proxies, the public origin, `true` or `false`.
fn from_str<'de, D: Deserializer<'de>, T: FromStr<Err: Display>>(d: D) -> Result<T, D::Error> {
    parsed(d, T::from_str)
}

/// As [`from_str`], for a variable that may be unset.
fn some<'de, D: Deserializer<'de>, T: FromStr<Err: Display>>(d: D) -> Result<Option<T>, D::Error> {
    parsed(d, |text| T::from_str(text).map(Some))
}
