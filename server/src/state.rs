//! Shared application state, built once at start-up, and the parts of it
//! each middleware and handler takes.

use std::{sync::Arc, time::Duration};

use axum::extract::FromRef;
use engine::{
    jwt::{Jwt, JwtSettings},
    passkey::{CeremonySeal, RelyingParty},
    store::{
        database::{Database, PoolSettings},
        StoreSettings,
    },
    throttle::{Throttle, ThrottleSettings},
    Auth, Clock, CookiePolicy, SystemClock,
};
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list_with_ssg, AxumRouteListing, StaticRouteGenerator};
use secrecy::ExposeSecret;

use crate::{
    access::RouteAccess, config::Config, csrf::Csrf, db, error::StartupError,
    headers::HeaderSettings, origin::PublicOrigin, session_layer::SessionLayer,
    static_pages::StaticPages,
};

/// Everything handlers need, behind one `Arc`: axum clones the state for
/// every middleware and handler a request passes, so a clone must be one
/// reference-count increment (cloning the fields themselves, the route list
/// among them, once took most of a static page's CPU time). Fields are read
/// through `Deref`; middlewares get only their part ([`AppState::csrf`],
/// [`AppState::session_layer`], …).
#[derive(Clone, Debug)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
#[derive(Debug)]
pub struct Shared {
    /// Leptos' options (site root, output name, address).
    pub leptos: LeptosOptions,
    /// The database.
    pub db: Database,
    /// The session engine.
    pub auth: Auth,
    /// The session cookie's policy.
    pub cookies: CookiePolicy,
    /// Signs and checks CSRF tokens.
    pub csrf: engine::csrf::CsrfKey,
    /// Brute-force limits.
    pub throttle: Arc<engine::throttle::Throttle>,
    /// Single-use ids already used: DPoP proofs, and signed passkey
    /// ceremonies (shared when the rate counters are).
    pub proofs: Arc<engine::once::UsedOnce>,
    /// Access-token signer and verifier.
    pub jwt: Arc<Jwt>,
    /// The app's routes, for the router.
    pub routes: Vec<AxumRouteListing>,
    /// Which routes need a session, and which are prerendered.
    pub access: Arc<RouteAccess>,
    /// The prerendered pages, held in memory once read.
    pub static_pages: StaticPages,
    /// The bundle's file names (content-hashed in release builds).
    pub assets: Arc<app::assets::AssetNames>,
    /// The configuration, for the background tasks.
    pub config: Arc<Config>,
    /// `/readyz`'s last storage check, reused for a second.
    pub readiness: engine::recent::Recent<Result<(), String>>,
    /// `/status`'s last database read, reused for a second.
    pub status: Arc<engine::recent::Recent<Result<i64, String>>>,
    /// Where the outbox is delivered (`SMTP_URL`); `None` keeps mail in
    /// it (development, `/dev/mailbox`).
    pub smtp: Option<Arc<crate::smtp::Smtp>>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl FromRef<AppState> for Arc<Jwt> {
    fn from_ref(state: &AppState) -> Self {
        state.jwt.clone()
    }
}

impl AppState {
    /// Opens the stores, assembles the engine and collects the routes.
    ///
    /// Returns the generator for the static routes too; the caller decides
    /// when to write them (before serving).
    ///
    /// # Errors
    /// Storage that cannot be opened, missing keys, or a route without a
    /// declared access.
    pub async fn build(config: Config) -> Result<(Self, StaticRouteGenerator), StartupError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`AppState::build`], with an injected clock (tests move time).
    ///
    /// # Errors
    /// As [`AppState::build`].
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, StaticRouteGenerator), StartupError> {
        let env = &config.env;
        db::prepare(env.database_url.expose_secret())?;
        let stores = engine::store::open(
            StoreSettings {
                database_url: env.database_url.expose_secret(),
                pool: PoolSettings {
                    max_connections: env.database_max_connections,
                    acquire_timeout: Duration::from_millis(env.database_acquire_timeout_ms),
                },
                session_store: env.session_store.as_ref().map(ExposeSecret::expose_secret),
                session_store_timeout: Duration::from_millis(env.session_store_timeout_ms),
                key_prefix: &env.session_store_prefix,
                cache_ttl: env.session_cache_ttl,
            },
            clock.clone(),
        )
        .await?;
        tracing::info!(
            database = stores.database.backend(),
            sessions = stores.session_backend,
            shared_rate_limits = stores.counters.is_some(),
            revocations = stores.feed.name(),
            "storage ready"
        );
        let csrf = crate::keys::csrf_key(&env.jwt_keys_dir, config.csrf_key.as_ref())?;
        // Shared by every instance when the store can be (PostgreSQL, Redis).
        let proofs = Arc::new(engine::once::UsedOnce::new(stores.counters.clone()));
        let auth = Auth::new(stores.users, stores.sessions, config.session, clock)
            .map_err(StartupError::Engine)?
            .with_revocation_feed(stores.feed, stores.cache)
            .with_relying_party(relying_party(env)?)
            .with_ceremony_signing(CeremonySeal::derive(&csrf), proofs.clone());
        let site = mail_site(env, &config.leptos);
        // Each provider sends the browser back to the origin mail links to.
        let providers = engine::oidc::Providers::new(config.providers.clone(), &site.origin)
            .map_err(StartupError::Engine)?;
        let auth = auth.with_site(site).with_identity_providers(providers);
        let keys = crate::keys::load(&env.jwt_keys_dir, env.app_env)?;
        let jwt = JwtSettings {
            issuer: issuer(env),
            client_id: WEB_CLIENT_ID.to_owned(),
            audience: env.jwt_audience.clone(),
            ttl: env.jwt_access_ttl,
            leeway_secs: 5,
        };
        // Tokens of sessions revoked here are refused at once.
        let jwt = Jwt::new(jwt, &keys)
            .map_err(|err| StartupError::Keys {
                path: env.jwt_keys_dir.clone(),
                source: err.into(),
            })?
            .refusing(auth.revoked());
        let limits = ThrottleSettings {
            credentials_per_ip: env.rate_limit_credentials_per_ip,
            credentials_per_account: env.rate_limit_credentials_per_account,
            refresh_per_ip: env.rate_limit_refresh_per_ip,
            passkey_starts_per_ip: env.rate_limit_passkey_starts_per_ip,
        };
        let throttle = Arc::new(match stores.counters {
            Some(counters) => Throttle::shared(limits, counters),
            None => Throttle::new(limits),
        });
        let smtp = match &env.smtp_url {
            Some(url) => Some(Arc::new(
                crate::smtp::Smtp::new(url.expose_secret(), &env.mail_from)
                    .map_err(|err| StartupError::Mail(err.to_string()))?,
            )),
            None => None,
        };
        let leptos = config.leptos.clone();
        let storage = env.token_storage;
        let assets = Arc::new(app::assets::AssetNames::load(
            &leptos.output_name,
            std::path::Path::new(&*leptos.site_root),
            &leptos.site_pkg_dir,
            &config.hash_file,
        ));
        if assets.hashed {
            tracing::info!(js = %assets.js, wasm = %assets.wasm, css = %assets.css, "content-hashed bundle");
        }
        let (routes, static_routes) = generate_route_list_with_ssg({
            let reload = config.live_reload.then(|| leptos.clone());
            let assets = assets.clone();
            move || app::shell(reload.clone(), storage, assets.clone())
        });
        let access = RouteAccess::new(&routes)?;
        let static_pages = StaticPages::new(access.prerendered(), (&*leptos.site_root).into());
        let state = Self(Arc::new(Shared {
            leptos,
            db: stores.database,
            auth,
            cookies: CookiePolicy::new(config.env.cookie_secure),
            csrf,
            throttle,
            proofs,
            jwt: Arc::new(jwt),
            routes,
            access: Arc::new(access),
            static_pages,
            assets,
            config: Arc::new(config),
            readiness: engine::recent::Recent::new(PROBE_REUSE),
            status: Arc::new(engine::recent::Recent::new(PROBE_REUSE)),
            smtp,
        }));
        Ok((state, static_routes))
    }

    /// The context server functions read through `app::server_fns::context::ctx()`.
    #[must_use]
    pub fn server_context(&self) -> app::server_fns::context::ServerContext {
        app::server_fns::context::ServerContext::new(app::server_fns::context::Services {
            auth: self.auth.clone(),
            cookies: self.cookies,
            csrf: self.csrf.clone(),
            device: engine::device::DeviceKey::derive(&self.csrf),
            throttle: self.throttle.clone(),
            db: self.db.clone(),
            status: self.status.clone(),
        })
    }

    /// What the CSRF layer and the token endpoint need.
    #[must_use]
    pub fn csrf(&self) -> Csrf {
        Csrf {
            key: self.csrf.clone(),
            cookies: self.cookies,
            public_origin: self
                .config
                .env
                .public_url
                .as_ref()
                .map(|o| Arc::from(o.as_str())),
        }
    }

    /// What the session layer needs.
    #[must_use]
    pub fn session_layer(&self) -> SessionLayer {
        SessionLayer {
            auth: self.auth.clone(),
            cookies: self.cookies,
            csrf: self.csrf(),
            routes: self.access.clone(),
        }
    }

    /// What the security-headers layer needs.
    #[must_use]
    pub fn header_settings(&self) -> HeaderSettings {
        HeaderSettings {
            live_reload: self.config.live_reload,
            hsts: self
                .config
                .env
                .public_url
                .as_ref()
                .is_some_and(PublicOrigin::is_https),
            form_targets: self.auth.identity_providers().origins().join(" ").into(),
        }
    }
}

/// Whom passkeys are for: `PUBLIC_URL`'s host and origin, else (in
/// development) `localhost` on any port.
///
/// # Errors
/// [`StartupError::Engine`] for a `PUBLIC_URL` that names an IP address:
/// WebAuthn scopes passkeys to a domain.
pub fn relying_party(env: &crate::config::Env) -> Result<RelyingParty, StartupError> {
    let rp = match &env.public_url {
        Some(origin) => RelyingParty::for_origin(origin.as_str(), RP_NAME),
        None => RelyingParty::localhost(RP_NAME),
    };
    rp.map_err(StartupError::Engine)
}

/// What mail names the site and where its links point: the public
/// origin, else this server's port on `localhost` for a loopback or
/// unspecified address (the host the development site is opened at, where
/// passkeys work and the browser's cookies are), else its address.
#[must_use]
pub fn mail_site(
    env: &crate::config::Env,
    leptos: &LeptosOptions,
) -> engine::email::templates::Site {
    let origin = match &env.public_url {
        Some(origin) => origin.as_str().to_owned(),
        None if leptos.site_addr.ip().is_unspecified() || leptos.site_addr.ip().is_loopback() => {
            format!("http://localhost:{}", leptos.site_addr.port())
        }
        None => format!("http://{}", leptos.site_addr),
    };
    engine::email::templates::Site {
        name: RP_NAME.to_owned(),
        origin,
    }
}

/// How long a probe's answer (`/readyz`, `/status`) is reused: they are
/// public, so a flood of them costs one database round trip a second.
const PROBE_REUSE: Duration = Duration::from_secs(1);

/// The name passkey prompts show for this site.
const RP_NAME: &str = "Leptos Sessions";

/// The `client_id` of every access token: the one client that mints them
/// is the browser app, refreshing with its cookie.
pub const WEB_CLIENT_ID: &str = "web";

/// The access tokens' `iss`: `JWT_ISSUER`, else the public origin (what an
/// API checking them expects to see), else the app's name in development.
#[must_use]
pub fn issuer(env: &crate::config::Env) -> String {
    match (&env.jwt_issuer, &env.public_url) {
        (Some(issuer), _) => issuer.clone(),
        (None, Some(origin)) => origin.as_str().to_owned(),
        (None, None) => "leptos-sessions".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    fn vars(pairs: &[(&str, &str)]) -> crate::config::Vars {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn passkeys_belong_to_the_public_host_or_to_localhost() {
        let env = |pairs: &[(&str, &str)]| crate::config::Env::from_vars(&vars(pairs)).unwrap();
        let rp = super::relying_party(&env(&[("PUBLIC_URL", "https://app.example")])).unwrap();
        assert_eq!(rp.id(), "app.example");
        assert_eq!(super::relying_party(&env(&[])).unwrap().id(), "localhost");
        let err = super::relying_party(&env(&[("PUBLIC_URL", "https://192.0.2.1")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("domain"), "{err}");
    }

    #[test]
    fn the_issuer_defaults_to_the_public_origin() {
        let env = |pairs: &[(&str, &str)]| crate::config::Env::from_vars(&vars(pairs)).unwrap();
        assert_eq!(super::issuer(&env(&[])), "leptos-sessions");
        let public = [("PUBLIC_URL", "https://app.example")];
        assert_eq!(super::issuer(&env(&public)), "https://app.example");
        let both = [
            ("PUBLIC_URL", "https://app.example"),
            ("JWT_ISSUER", "https://id.example"),
        ];
        assert_eq!(super::issuer(&env(&both)), "https://id.example");
    }
}
