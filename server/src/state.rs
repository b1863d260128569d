//! Shared application state, built once at start-up.

use axum::extract::FromRef;
use leptos::config::LeptosOptions;
use leptos_axum::{generate_route_list_with_ssg, AxumRouteListing, StaticRouteGenerator};
use sqlx::SqlitePool;

use crate::{config::Config, db, error::StartupError};

/// Everything handlers need; cheap to clone (all fields are shared handles).
#[derive(Clone, Debug)]
pub struct AppState {
    /// Leptos' options (site root, output name, address).
    pub leptos: LeptosOptions,
    /// The database.
    pub db: SqlitePool,
    /// The app's routes, for the router.
    pub routes: Vec<AxumRouteListing>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos.clone()
    }
}

impl AppState {
    /// Opens the database and collects the app's routes.
    ///
    /// Returns the generator for the static routes too; the caller decides
    /// when to write them (before serving).
    ///
    /// # Errors
    /// See [`db::connect`].
    pub async fn build(config: Config) -> Result<(Self, StaticRouteGenerator), StartupError> {
        let db = db::connect(&config.database).await?;
        let leptos = config.leptos;
        let (routes, static_routes) = generate_route_list_with_ssg({
            let leptos = leptos.clone();
            move || app::shell(leptos.clone())
        });
        Ok((Self { leptos, db, routes }, static_routes))
    }

    /// The context server functions read through `app::server_fns::context::ctx()`.
    #[must_use]
    pub fn server_context(&self) -> app::server_fns::context::ServerContext {
        app::server_fns::context::ServerContext {
            db: self.db.clone(),
            db_backend: "sqlite",
        }
    }
}
