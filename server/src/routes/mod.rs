//! The router: Leptos pages and server functions, plus plain endpoints.

pub mod health;
pub mod tokens;

use axum::{
    middleware,
    routing::{get, post},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::LeptosRoutes as _;
use tower_http::{catch_panic::CatchPanicLayer, trace::TraceLayer};

use crate::state::AppState;

/// Builds the complete router for `state`.
pub fn router(state: AppState) -> Router {
    let context = state.server_context();
    let provide = move || provide_context(context.clone());
    let leptos = state.leptos.clone();
    let storage = state.config.token_storage.as_str();

    // Pages and server functions go through the session layer; probes and
    // files (the fallback) do not.
    let router = Router::new()
        .leptos_routes_with_context(&state, state.routes.clone(), provide.clone(), {
            let leptos = leptos.clone();
            move || app::shell(leptos.clone(), storage)
        })
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::session_layer::session_layer,
        ))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/api/auth/refresh", post(tokens::refresh))
        .route("/api/me", get(tokens::me))
        .route("/api/validate-session", get(tokens::validate_session))
        .route("/.well-known/jwks.json", get(tokens::jwks))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide, move |options| {
            app::shell(options, storage)
        }))
        .layer(TraceLayer::new_for_http().make_span_with(trace_span))
        .layer(CatchPanicLayer::new());
    // Outermost, so every response gets them: pages, files, APIs, errors.
    let router = crate::headers::layers()
        .into_iter()
        .fold(router, |router, layer| router.layer(layer));
    router.with_state(state)
}

/// One span per request, named by the matched route rather than the raw URI
/// (no query strings, no ids in paths).
fn trace_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    let route = req
        .extensions()
        .get::<axum::extract::MatchedPath>()
        .map_or("<fallback>", axum::extract::MatchedPath::as_str);
    tracing::info_span!("request", method = %req.method(), route)
}
