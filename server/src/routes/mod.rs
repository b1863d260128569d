//! The router: Leptos pages and server functions, plus plain endpoints.

pub mod health;
pub mod tokens;

use axum::{
    middleware,
    response::IntoResponse as _,
    routing::{get, post},
    Router,
};
use leptos::prelude::provide_context;
use leptos_axum::LeptosRoutes as _;
use tower_http::{catch_panic::CatchPanicLayer, limit::RequestBodyLimitLayer, trace::TraceLayer};

use crate::{csp::CspNonce, state::AppState};

/// `/dev/mailbox` in development without `SMTP_URL`: the outbox, to read
/// and follow mail that is not sent. No route otherwise.
fn dev_mailbox(state: &AppState) -> Router<AppState> {
    let dev = state.config.env.app_env == crate::config::AppEnv::Dev;
    if dev && state.smtp.is_none() {
        Router::new().route(
            MAILBOX_PATH,
            get(crate::mailbox::page).with_state((
                state.auth.clone(),
                state.assets.path(&state.assets.css).into(),
            )),
        )
    } else {
        Router::new()
    }
}

/// Each configured provider's own callback path
/// (`/auth/oidc/{provider}/callback`, one per provider against mix-up
/// attacks, RFC 9700 4.4.2), answered by the callback server function with
/// the provider named in its query. No route without providers.
fn provider_callbacks(
    state: &AppState,
    provide: impl Fn() + Clone + Send + Sync + 'static,
) -> Router<AppState> {
    if state.auth.identity_providers().is_empty() {
        return Router::new();
    }
    Router::new().route(
        "/auth/oidc/{provider}/callback",
        get(
            move |axum::extract::Path(provider): axum::extract::Path<String>,
                  mut req: axum::extract::Request| {
                let provide = provide.clone();
                async move {
                    let query = req.uri().query().unwrap_or_default();
                    let mapped = format!(
                        "{}?provider={}&{query}",
                        app::server_fns::identities::CALLBACK_PATH,
                        app::redirect::encoded(&provider)
                    );
                    match mapped.parse() {
                        Ok(uri) => {
                            *req.uri_mut() = uri;
                            leptos_axum::handle_server_fns_with_context(provide, req)
                                .await
                                .into_response()
                        }
                        Err(_) => axum::http::StatusCode::BAD_REQUEST.into_response(),
                    }
                }
            },
        ),
    )
}

/// Where the development mailbox is.
pub const MAILBOX_PATH: &str = "/dev/mailbox";

/// Builds the complete router for `state`.
pub fn router(state: AppState) -> Router {
    let context = state.server_context();
    // The server context, and this request's CSP nonce so that Leptos stamps
    // it on the scripts it renders (replacing the one it made up itself).
    let provide = move || {
        provide_context(context.clone());
        if let Some(CspNonce(nonce)) = app::session::extension::<CspNonce>() {
            provide_context(leptos::nonce::Nonce::from_value(nonce));
        }
    };
    let reload = state.config.live_reload.then(|| state.leptos.clone());
    let storage = state.config.env.token_storage;
    let assets = state.assets.clone();

    // Pages and server functions go through the session layer; probes and
    // files (the fallback) do not.
    let router = Router::new()
        .leptos_routes_with_context(&state, state.routes.clone(), provide.clone(), {
            let (reload, assets) = (reload.clone(), assets.clone());
            move || app::shell(reload.clone(), storage, assets.clone())
        })
        .merge(provider_callbacks(&state, provide.clone()))
        // Innermost: a server function's error answers with its own status.
        .route_layer(middleware::from_fn(crate::server_fn_errors::error_status))
        .route_layer(middleware::from_fn_with_state(
            std::sync::Arc::new(state.session_layer()),
            crate::session_layer::session_layer,
        ))
        // A bounded number at once, session check included.
        .route_layer(middleware::from_fn_with_state(
            crate::limits::RenderPermits::new(state.config.env.render_concurrency),
            crate::limits::render_limit,
        ))
        // Outside the session layer: prerendered pages, from memory.
        .route_layer(middleware::from_fn_with_state(
            state.static_pages.clone(),
            crate::static_pages::serve,
        ))
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route(tokens::REFRESH_PATH, post(tokens::refresh))
        .route(
            app::csrf::TOKEN_PATH,
            get(crate::csrf::token_endpoint).with_state(std::sync::Arc::new(state.csrf())),
        )
        .route("/api/me", get(tokens::me))
        .route("/api/validate-session", get(tokens::validate_session))
        .route("/.well-known/jwks.json", get(tokens::jwks))
        .merge(dev_mailbox(&state))
        // The request's span (made outside the router) learns its route.
        .route_layer(middleware::from_fn(record_route))
        .fallback(leptos_axum::file_and_error_handler_with_context::<
            AppState,
            _,
        >(provide, move |options| {
            app::shell(reload.is_some().then_some(options), storage, assets.clone())
        }));
    with_layers(router, state)
}

/// Wraps `routes` in the cross-cutting layers: the security headers, panic
/// recovery, tracing, size limits, client IP, cookie parsing, the
/// credential gate, CSRF, and the bundle's cache headers.
///
/// They are one tower stack around the whole router, not `Router::layer`:
/// that wraps each route in each layer, boxed, and a request clones the
/// boxes it passes through, each with everything inside it (about 190
/// boxed clones per page, each an allocation; BENCHMARKS.md).
pub fn with_layers(routes: Router<AppState>, state: AppState) -> Router {
    let trusted = state.config.env.trusted_proxies.clone();
    let gate = crate::credential_gate::CredentialGate::new(
        state.auth.clone(),
        state.throttle.clone(),
        state.csrf().public_origin,
    );
    // Listed outside-in: the first layer sees the request first.
    let stack = tower::ServiceBuilder::new()
        // Outermost, so every response gets them: pages, files, APIs, errors.
        .layer(middleware::from_fn_with_state(
            state.header_settings(),
            crate::headers::security_headers,
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(trace_span)
                .on_failure(log_failure),
        )
        .layer(middleware::from_fn(crate::limits::header_limits))
        .layer(RequestBodyLimitLayer::new(crate::limits::MAX_BODY_BYTES))
        // The limited body as axum's, which the layers below take.
        .map_request(as_axum_body)
        .layer(middleware::from_fn_with_state(
            trusted,
            crate::client_ip::client_ip_layer,
        ))
        .layer(middleware::from_fn_with_state(
            state.cookies,
            crate::cookies::parse_layer,
        ))
        // Ahead of CSRF and Leptos: a flood of sign-ins is refused cheaply.
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::new(gate),
            crate::credential_gate::credential_gate,
        ))
        .layer(middleware::from_fn_with_state(
            std::sync::Arc::new(state.csrf()),
            crate::csrf::csrf_layer,
        ))
        // Content-hashed bundle files: cached for good.
        .layer(middleware::from_fn_with_state(
            state.assets.clone(),
            crate::static_pages::immutable_assets,
        ))
        .service(routes.with_state(state));
    Router::new().fallback_service(stack)
}

/// Logs a failed response, except a 503: that is the server shedding load
/// (a full hashing queue, a store that is down), already logged where it is
/// decided, and one line per refused request would make a flood of them a
/// flood of log lines too.
fn log_failure(
    class: tower_http::classify::ServerErrorsFailureClass,
    latency: std::time::Duration,
    _: &tracing::Span,
) {
    use tower_http::classify::ServerErrorsFailureClass::StatusCode as Status;
    if !matches!(class, Status(status) if status == axum::http::StatusCode::SERVICE_UNAVAILABLE) {
        tracing::error!(classification = %class, ?latency, "response failed");
    }
}

/// A panic in a handler: logged, answered with a plain 500, nothing leaked.
fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> axum::response::Response {
    let detail = panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %detail, "handler panicked");
    axum::response::IntoResponse::into_response((
        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
        "Something went wrong. Please try again.",
    ))
}

/// One span per request, named by the matched route rather than the raw URI
/// (no query strings, no ids in paths).
fn trace_span(req: &axum::http::Request<axum::body::Body>) -> tracing::Span {
    tracing::info_span!("request", method = %req.method(), route = tracing::field::Empty)
}

/// `req` with its body (the size limit's wrapper) as axum's body type.
fn as_axum_body<B>(req: axum::http::Request<B>) -> axum::extract::Request
where
    B: axum::body::HttpBody<Data = axum::body::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    req.map(axum::body::Body::new)
}

/// Records the route a request matched in its span (`trace_span`, made
/// before routing); a request no route matched (files, 404s) has none.
async fn record_route(
    route: axum::extract::MatchedPath,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    tracing::Span::current().record("route", route.as_str());
    next.run(req).await
}

/// The app's route table (`app::routes::PAGES`) as JSON: each page's path
/// pattern, a path to visit it by, its access, and whether it is
/// prerendered. `server routes` prints it; the end-to-end suite builds its
/// page lists from it, so no page can be left off them.
#[must_use]
pub fn table_json() -> String {
    use app::routes::{example, Render, PAGES};
    let pages: Vec<serde_json::Value> = PAGES
        .iter()
        .map(|page| {
            serde_json::json!({
                "pattern": page.path,
                "path": example(page),
                "access": page.access.as_str(),
                "prerendered": page.render == Render::Prerendered,
            })
        })
        .collect();
    serde_json::Value::Array(pages).to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_route_table_lists_every_page_with_a_path_to_visit() {
        let table: Vec<serde_json::Value> =
            serde_json::from_str(&super::table_json()).expect("JSON");
        assert_eq!(table.len(), app::routes::PAGES.len());
        let guide = table
            .iter()
            .find(|p| p["pattern"] == "/guides/:slug")
            .expect("the guide pages");
        let first = app::guides::GUIDES[0].0;
        assert_eq!(guide["path"], format!("/guides/{first}"));
        assert_eq!(guide["prerendered"], true);
        let dashboard = table
            .iter()
            .find(|p| p["pattern"] == "/dashboard")
            .expect("the dashboard");
        assert_eq!(dashboard["access"], "session");
        assert_eq!(dashboard["prerendered"], false);
    }
}
