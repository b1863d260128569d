//! The configuration's rules, its secrecy, and that the docs match the code.

use super::*;
use crate::origin::PublicOrigin;
use serde::Deserialize as _;

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
    assert_eq!(config.env.app_env, AppEnv::Dev);
    assert_eq!(config.log_format, LogFormat::Pretty);
    assert_eq!(
        config.env.database_url.expose_secret(),
        "sqlite://data/app.db"
    );
    assert_eq!(config.env.database_max_connections, 8);
}

/// The variables the server reads: [`Env`]'s fields, in capitals
/// (serde hands a deserializer the field names before any value).
fn variables() -> Vec<String> {
    use serde::de::{Error, Visitor};
    struct Fields(&'static [&'static str]);
    impl<'de> serde::Deserializer<'de> for &mut Fields {
        type Error = serde::de::value::Error;
        fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Self::Error> {
            Err(Error::custom("only the field names are wanted"))
        }
        fn deserialize_struct<V: Visitor<'de>>(
            self,
            _: &'static str,
            fields: &'static [&'static str],
            visitor: V,
        ) -> Result<V::Value, Self::Error> {
            self.0 = fields;
            self.deserialize_any(visitor)
        }
        serde::forward_to_deserialize_any! {
            bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
            bytes byte_buf option unit unit_struct newtype_struct seq tuple
            tuple_struct map enum identifier ignored_any
        }
    }
    let mut fields = Fields(&[]);
    assert!(Env::deserialize(&mut fields).is_err());
    fields.0.iter().map(|f| f.to_uppercase()).collect()
}

const REFERENCE: &str = include_str!("../../../docs/CONFIGURATION.md");
const EXAMPLE: &str = include_str!("../../../.env.example");

/// Every variable this module reads must be in the configuration
/// reference and in `.env.example`, so the docs cannot drift.
#[test]
fn every_variable_is_documented() {
    let names = variables();
    assert!(names.len() >= 10, "found {names:?}");
    for name in names {
        assert!(
            REFERENCE.contains(&format!("`{name}`")),
            "{name} missing from docs/CONFIGURATION.md"
        );
        assert!(EXAMPLE.contains(&name), "{name} missing from .env.example");
    }
}

/// Variables without one default value: derived (`LOG_FORMAT` from
/// `APP_ENV`, `RENDER_CONCURRENCY` from the cores) or unset.
const NO_SINGLE_DEFAULT: [&str; 9] = [
    "LOG_FORMAT",
    "SMTP_URL",
    "JWT_ISSUER",
    "RENDER_CONCURRENCY",
    "SESSION_STORE",
    "PUBLIC_URL",
    "CSRF_SECRET",
    "TRUSTED_PROXIES",
    "LEPTOS_WATCH",
];

/// What one variable parses to, secrets included, for comparing.
fn parsed(name: &str, value: &str) -> String {
    let raw = Env::from_vars(&vars(&[(name, value)]))
        .unwrap_or_else(|err| panic!("{name}={value}: {err}"));
    format!("{raw:?} {}", raw.database_url.expose_secret())
}

/// The documented default of `name`: the reference's `| `NAME` | `value` |`
/// row, and the first `NAME=value` line (commented or not) of `.env.example`.
fn documented(name: &str) -> [(&'static str, &'static str); 2] {
    let row = REFERENCE
        .lines()
        .find_map(|l| l.strip_prefix(&format!("| `{name}` |")))
        .unwrap_or_else(|| panic!("no row for {name} in docs/CONFIGURATION.md"));
    let cell = row.split('|').next().unwrap().trim();
    let value = cell
        .strip_prefix('`')
        .and_then(|c| c.strip_suffix('`'))
        .filter(|c| !c.contains('`'))
        .unwrap_or_else(|| panic!("the default of {name} is not one value: {cell}"));
    let line = EXAMPLE
        .lines()
        .find_map(|l| {
            l.trim_start_matches(['#', ' '])
                .strip_prefix(&format!("{name}="))
        })
        .unwrap_or_else(|| panic!("no {name}= line in .env.example"));
    [
        ("docs/CONFIGURATION.md", value),
        (".env.example", line.trim()),
    ]
}

/// The docs show the defaults the code has, compared as parsed values (so
/// `7d` and `7days` are the same).
#[test]
fn documented_defaults_are_the_defaults() {
    let defaults = parsed("NONE", "");
    for name in variables() {
        if NO_SINGLE_DEFAULT.contains(&name.as_str()) {
            continue;
        }
        for (doc, value) in documented(&name) {
            assert_eq!(parsed(&name, value), defaults, "{doc} shows {name}={value}");
        }
    }
    // The derived ones, as written in the reference.
    let row = |name: &str| {
        REFERENCE
            .lines()
            .find(|l| l.contains(&format!("| `{name}` |")))
    };
    assert!(row("LOG_FORMAT")
        .unwrap()
        .contains("| `pretty` in dev, `json` in prod |"));
    assert!(row("RENDER_CONCURRENCY")
        .unwrap()
        .contains("| 8 per core |"));
    let raw = Env::default();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    assert_eq!(raw.render_concurrency, 8 * cores);
    assert!(raw.log_format.is_none() && raw.public_url.is_none() && raw.leptos_watch.is_none());
    assert!(raw.session_store.is_none() && raw.csrf_secret.is_none());
    assert!(raw.trusted_proxies.is_empty());
}

#[test]
fn debug_shows_no_password_nor_the_csrf_secret() {
    let mut v = vars(&PROD);
    v.insert("DATABASE_URL".into(), "postgres://u:pw@h/db".into());
    v.insert("SESSION_STORE".into(), "redis://:pw@h:6379".into());
    let raw = format!("{:?}", Env::from_vars(&v).unwrap());
    let config = Config::from_vars(&v, leptos()).unwrap();
    for shown in [format!("{config:?}"), raw] {
        assert!(!shown.contains("pw@"), "password shown: {shown}");
        assert!(!shown.contains(PROD[2].1), "CSRF secret shown: {shown}");
    }
    assert_eq!(
        config.env.database_url.expose_secret(),
        "postgres://u:pw@h/db"
    );
    let store = config
        .env
        .session_store
        .as_ref()
        .map(ExposeSecret::expose_secret);
    assert_eq!(store, Some("redis://:pw@h:6379"));
}

#[test]
fn the_session_cache_is_on_by_default_and_can_be_turned_off() {
    let on = Config::from_vars(&vars(&[]), leptos()).unwrap();
    assert_eq!(on.env.session_cache_ttl, Some(time::Duration::seconds(2)));
    let longer = Config::from_vars(&vars(&[("SESSION_CACHE_TTL", "10s")]), leptos()).unwrap();
    assert_eq!(
        longer.env.session_cache_ttl,
        Some(time::Duration::seconds(10))
    );
    for off in ["0", "off"] {
        let off = Config::from_vars(&vars(&[("SESSION_CACHE_TTL", off)]), leptos()).unwrap();
        assert_eq!(off.env.session_cache_ttl, None);
    }
}

#[test]
fn eight_renders_per_core_at_once_by_default() {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let config = Config::from_vars(&vars(&[]), leptos()).unwrap();
    assert_eq!(config.env.render_concurrency, 8 * cores);
    let set = Config::from_vars(&vars(&[("RENDER_CONCURRENCY", "3")]), leptos()).unwrap();
    assert_eq!(set.env.render_concurrency, 3);
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
fn durations_take_humantime_syntax() {
    for (text, secs) in [
        ("30s", 30),
        ("15m", 900),
        ("8h", 28_800),
        ("7d", 604_800),
        ("30d", 2_592_000),
        (" 7days ", 604_800),
        ("1h 30m", 5_400),
    ] {
        let config =
            Config::from_vars(&vars(&[("SESSION_REMEMBER_IDLE_TIMEOUT", text)]), leptos()).unwrap();
        let idle = config.session.remember_idle_timeout;
        assert_eq!(idle, time::Duration::seconds(secs), "{text}");
    }
    let err = Config::from_vars(&vars(&[("SESSION_TOUCH_INTERVAL", "0s")]), leptos()).unwrap_err();
    assert!(err.to_string().contains("SESSION_TOUCH_INTERVAL"), "{err}");
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

const PROD: [(&str, &str); 4] = [
    ("APP_ENV", "prod"),
    ("PUBLIC_URL", "https://app.example"),
    ("CSRF_SECRET", "k3Jv9QpX2mZr7LwT5bNc8HdY4gFs1aUe6tRy0oPi"),
    ("SMTP_URL", "smtps://app:s3cret-pw@smtp.example.com:465"),
];

#[test]
fn prod_defaults_to_json_logs() {
    let config = Config::from_vars(&vars(&PROD), leptos()).unwrap();
    assert_eq!(config.log_format, LogFormat::Json);
    assert_eq!(
        config.env.public_url.as_ref().map(PublicOrigin::as_str),
        Some("https://app.example")
    );
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
fn prod_refuses_no_smtp_or_plaintext_smtp_and_never_shows_the_url() {
    for (value, expected) in [
        (None, "required when APP_ENV=prod"),
        (
            Some("smtp://app:s3cret-pw@smtp.example.com:25"),
            "unencrypted",
        ),
        (
            Some("http://app:s3cret-pw@smtp.example.com"),
            "expected smtps://",
        ),
    ] {
        let mut v = vars(&PROD);
        match value {
            Some(url) => v.insert("SMTP_URL".to_owned(), url.to_owned()),
            None => v.remove("SMTP_URL"),
        };
        let err = Config::from_vars(&v, leptos()).unwrap_err().to_string();
        assert!(err.contains("SMTP_URL") && err.contains(expected), "{err}");
        assert!(!err.contains("s3cret-pw"), "password echoed: {err}");
    }
    let mut v = vars(&PROD);
    v.insert(
        "SMTP_URL".to_owned(),
        "smtp://h.example:587?tls=required".to_owned(),
    );
    assert!(Config::from_vars(&v, leptos()).is_ok());
    v.insert("MAIL_FROM".to_owned(), "not an address".to_owned());
    let err = Config::from_vars(&v, leptos()).unwrap_err().to_string();
    assert!(err.contains("MAIL_FROM"), "{err}");
    assert!(!format!("{:?}", Config::from_vars(&vars(&PROD), leptos())).contains("s3cret-pw"));
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
    let per_account = config.env.rate_limit_credentials_per_account;
    assert_eq!(per_account.count.get(), 3);
    assert_eq!(per_account.per.as_secs(), 10);
    assert_eq!(config.env.trusted_proxies.len(), 2);
    assert_eq!(
        config.env.public_url.as_ref().map(PublicOrigin::as_str),
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
        ("JWT_ACCESS_TTL", "16m"),
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

#[test]
fn a_refresh_grace_period_past_a_minute_is_refused() {
    let ok = Config::from_vars(&vars(&[("REFRESH_GRACE_PERIOD", "60s")]), leptos());
    assert!(ok.is_ok());
    let err = Config::from_vars(&vars(&[("REFRESH_GRACE_PERIOD", "61s")]), leptos())
        .unwrap_err()
        .to_string();
    assert!(err.contains("refresh grace period is at most 60s"), "{err}");
}

/// What `docs/CONFIGURATION.md` promises of the provider variables.
#[test]
fn providers_are_read_with_their_defaults_and_their_mistakes_named() {
    assert!(Config::from_vars(&vars(&[]), leptos())
        .unwrap()
        .providers
        .is_empty());
    let base = [
        ("OIDC_PROVIDERS", "google, work-sso"),
        ("OIDC_GOOGLE_ISSUER", "https://accounts.google.com"),
        ("OIDC_GOOGLE_CLIENT_ID", "g"),
        ("OIDC_GOOGLE_CLIENT_SECRET", "g-s3cret"),
        ("OIDC_GOOGLE_NAME", "Google"),
        ("OIDC_GOOGLE_TRUST_EMAIL", "true"),
        ("OIDC_WORK_SSO_ISSUER", "http://127.0.0.1:9400"),
        ("OIDC_WORK_SSO_CLIENT_ID", "w"),
        ("OIDC_WORK_SSO_SCOPES", "openid,email groups"),
    ];
    let config = Config::from_vars(&vars(&base), leptos()).unwrap();
    let [google, work] = config.providers.as_slice() else {
        panic!("two providers: {:?}", config.providers);
    };
    assert_eq!(
        (google.id.as_str(), google.name.as_str()),
        ("google", "Google")
    );
    assert!(google.trust_email);
    assert_eq!(google.scopes, ["email", "profile"], "the default scopes");
    assert_eq!(
        (work.name.as_str(), work.client_secret.as_deref()),
        ("work-sso", None)
    );
    assert_eq!(
        work.scopes,
        ["email", "groups"],
        "openid is always asked for"
    );
    assert!(!work.trust_email, "not trusted by default");
    assert!(
        !format!("{config:?}").contains("g-s3cret"),
        "the secret never shows"
    );

    let broken = |key: &str, value: Option<&str>| {
        let mut v = vars(&base);
        match value {
            Some(value) => v.insert(key.to_owned(), value.to_owned()),
            None => v.remove(key),
        };
        Config::from_vars(&v, leptos()).unwrap_err().to_string()
    };
    assert!(broken("OIDC_GOOGLE_ISSUER", None).contains("OIDC_GOOGLE_ISSUER"));
    assert!(broken("OIDC_WORK_SSO_CLIENT_ID", None).contains("OIDC_WORK_SSO_CLIENT_ID"));
    assert!(broken("OIDC_GOOGLE_TRUST_EMAIL", Some("yes")).contains("true or false"));
    assert!(broken("OIDC_PROVIDERS", Some("google,google")).contains("each provider once"));
    assert!(broken("OIDC_PROVIDERS", Some("Google")).contains("a-z, 0-9 and -"));
    assert!(broken("OIDC_GOOGLE_ISSUER", Some("not a url")).contains("not a URL"));
    // Production wants https issuers.
    let mut v = vars(&PROD);
    v.extend(vars(&base));
    let err = Config::from_vars(&v, leptos()).unwrap_err().to_string();
    assert!(err.contains("https in production"), "{err}");
}
