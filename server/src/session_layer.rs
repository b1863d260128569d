//! Validates the session cookie once per request, before Leptos renders.
//!
//! - Prerendered pages, files and probes never reach this layer's work:
//!   they are skipped by route, and anonymous requests write nothing.
//! - The outcome goes into the request's extensions as
//!   [`app::session::RequestSession`], where server functions and SSR
//!   components read it.
//! - A cookie that no longer names a valid session is cleared.
//! - Anonymous requests for protected pages get a 303 to
//!   `/login?next=…` before anything is rendered.
//! - Responses are marked `Cache-Control: no-store` (each carries this
//!   browser's CSRF token, perhaps a user); signed-in ones also say when the
//!   session now ends (`X-Session-Times`, for the
//!   browser's idle prompt).
//! - The request's CSRF token is resolved here too (the CSRF cookie's, if it
//!   is valid for the session the response leaves in place, else a new one,
//!   set as the cookie) and handed to forms as [`app::csrf::RequestCsrf`].

use axum::{
    body::Body,
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use engine::{SessionToken, Validation};

use app::{
    csrf::RequestCsrf,
    session::RequestSession,
    session_clock::{self, SessionTimes},
};

use crate::{
    cookies::{self, CookieValue},
    state::AppState,
};

/// The middleware function; install with `from_fn_with_state`.
pub async fn session_layer(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let is_static = req
        .extensions()
        .get::<MatchedPath>()
        .is_some_and(|p| state.static_paths.contains(p.as_str()));
    if is_static {
        return next.run(req).await;
    }

    let (session, clear_cookie, token) = match cookies::find(req.headers(), state.cookies.name()) {
        CookieValue::Missing => (None, false, None),
        CookieValue::Ambiguous => (None, true, None),
        CookieValue::One(raw) => match validate(&state, &raw).await {
            Ok(Validation::Valid(auth)) => (Some(*auth), false, SessionToken::parse(&raw)),
            Ok(Validation::Invalid) => (None, true, None),
            Err(err) => {
                tracing::error!(error = %err, "session validation failed");
                return unavailable();
            }
        },
    };

    let path = req.uri().path();
    if session.is_none() && app::requires_session(path) {
        let target = req
            .uri()
            .path_and_query()
            .map_or(path, |pq| pq.as_str())
            .to_owned();
        let encoded =
            percent_encoding::utf8_percent_encode(&target, percent_encoding::NON_ALPHANUMERIC);
        let mut res = Redirect::to(&format!("/login?next={encoded}")).into_response();
        if clear_cookie {
            cookies::append(&mut res, &state.cookies.removal());
        }
        return res;
    }

    let times = session
        .as_ref()
        .map(|auth| SessionTimes::of(auth, state.auth.policy(), state.auth.now()));
    let (csrf, new_csrf) = crate::csrf::token_for(&state, req.headers(), token.as_ref());
    req.extensions_mut().insert(RequestSession(session));
    req.extensions_mut().insert(RequestCsrf(csrf.clone()));
    let mut res = next.run(req).await;
    // Unless this request signed in or out, which sets its own.
    if new_csrf && !cookies::is_set(&res, state.cookies.csrf_name()) {
        cookies::append(&mut res, &state.cookies.csrf_cookie(&csrf, None));
    }
    // A sign-in in this very request sets a fresh cookie: keep that one.
    if clear_cookie && !cookies::is_set(&res, state.cookies.name()) {
        cookies::append(&mut res, &state.cookies.removal());
    }
    // Rendered for this browser (a CSRF token in every form, perhaps a
    // user): never stored by a cache, shared or not.
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if let Some(times) = times {
        // When this session now ends, unless the request signed in or out.
        if !cookies::is_set(&res, state.cookies.name()) {
            insert_times(&mut res, &times);
        }
    }
    res
}

/// Adds the `X-Session-Times` header the browser's idle prompt counts from.
pub fn insert_times(res: &mut Response, times: &SessionTimes) {
    if let Ok(value) = HeaderValue::from_str(&times.to_header()) {
        res.headers_mut().insert(session_clock::HEADER, value);
    }
}

/// The engine's validation (or, in the bench-only build, its bypass).
async fn validate(state: &AppState, raw: &str) -> Result<Validation, engine::Error> {
    #[cfg(feature = "bench-bypass")]
    return crate::bench_bypass::validate(state, raw).await;
    #[cfg(not(feature = "bench-bypass"))]
    state.auth.validate(raw).await
}

/// The session store is unreachable: fail fast and say so, without details.
fn unavailable() -> Response {
    let mut res = Response::new(Body::from(
        "The service is temporarily unavailable. Please try again in a moment.",
    ));
    *res.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    res
}
