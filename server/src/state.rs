//! Shared application state, built once at start-up.

use std::{collections::HashSet, sync::Arc};

use axum::extract::FromRef;
use engine::{store::database::Database, Auth, Clock, CookiePolicy, SystemClock};
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list_with_ssg, AxumRouteListing, StaticRouteGenerator};
use leptos_router::SsrMode;

use crate::{config::Config, db, error::StartupError};

/// Everything handlers need, behind one `Arc`: axum clones the state for
/// every middleware and handler a request passes, so a clone must be one
/// reference-count increment (cloning the fields themselves, the route list
/// among them, once took most of a static page's CPU time). Fields are read
/// through `Deref`.
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
    /// Access-token signer and verifier.
    pub jwt: Arc<engine::jwt::Jwt>,
    /// The app's routes, for the router.
    pub routes: Vec<AxumRouteListing>,
    /// Paths of prerendered routes: served as files, so the session layer
    /// skips them.
    pub static_paths: Arc<HashSet<String>>,
    /// The prerendered pages, held in memory once read (bytes, ETag, CSP hashes).
    pub static_pages: crate::static_pages::StaticPages,
    /// The bundle's file names (content-hashed in release builds).
    pub assets: Arc<app::assets::AssetNames>,
    /// The configuration, for the background tasks.
    pub config: Arc<Config>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Opens the database, assembles the engine and collects the routes.
    ///
    /// Returns the generator for the static routes too; the caller decides
    /// when to write them (before serving).
    ///
    /// # Errors
    /// See [`db::connect`].
    pub async fn build(config: Config) -> Result<(Self, StaticRouteGenerator), StartupError> {
        Self::build_with_clock(config, Arc::new(SystemClock)).await
    }

    /// As [`AppState::build`], with an injected clock (tests move time).
    ///
    /// # Errors
    /// See [`db::connect`].
    pub async fn build_with_clock(
        config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<(Self, StaticRouteGenerator), StartupError> {
        let db = db::connect(&config.database).await?;
        let (users, mut sessions) = db.stores();
        if let Some(url) = &config.session_store {
            let url = secrecy::ExposeSecret::expose_secret(url);
            let conn = engine::store::redis::RedisStore::connect(url, config.session_store_timeout)
                .await
                .map_err(|err| StartupError::Engine(format!("SESSION_STORE: {err}")))?;
            sessions = Arc::new(engine::store::redis::RedisStore::new(
                conn,
                users.clone(),
                "ls:",
            ));
            tracing::info!("sessions in Redis");
        }
        if let Some(ttl) = config.session_cache_ttl {
            sessions = Arc::new(engine::store::cache::CachedSessions::new(
                sessions,
                ttl,
                clock.clone(),
            ));
        }
        let auth = Auth::new(users, sessions, config.session, clock)
            .map_err(|err| StartupError::Engine(err.to_string()))?;
        let keys = crate::keys::load(&config.keys_dir, config.app_env)?;
        let jwt = engine::jwt::Jwt::new(config.jwt.clone(), &keys)
            .map_err(|err| StartupError::Keys(err.to_string()))?;
        let csrf = crate::keys::csrf_key(&config.keys_dir, &config.csrf_secret)?;
        let throttle = Arc::new(engine::throttle::Throttle::new(config.throttle));
        let leptos = config.leptos.clone();
        let storage = config.token_storage.as_str();
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
            let leptos = leptos.clone();
            let assets = assets.clone();
            move || app::shell(leptos.clone(), storage, assets.clone())
        });
        let static_paths = routes
            .iter()
            .filter(|r| matches!(r.mode(), SsrMode::Static(_)))
            .map(|r| r.path().to_owned())
            .collect();
        let state = Self(Arc::new(Shared {
            leptos,
            db,
            auth,
            cookies: CookiePolicy::new(config.cookie_secure),
            csrf,
            throttle,
            jwt: Arc::new(jwt),
            routes,
            static_paths: Arc::new(static_paths),
            static_pages: crate::static_pages::StaticPages::default(),
            assets,
            config: Arc::new(config),
        }));
        Ok((state, static_routes))
    }

    /// The context server functions read through `app::server_fns::context::ctx()`.
    #[must_use]
    pub fn server_context(&self) -> app::server_fns::context::ServerContext {
        app::server_fns::context::ServerContext {
            auth: self.auth.clone(),
            cookies: self.cookies,
            csrf: self.csrf.clone(),
            throttle: self.throttle.clone(),
            db: self.db.clone(),
        }
    }
}
