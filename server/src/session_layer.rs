//! Validates the session cookie once per request, before Leptos renders.
//!
//! - Prerendered pages, files and probes never reach this layer's work:
//!   they are skipped by route, and anonymous requests write nothing.
//! - The outcome goes into the request's extensions as
//!   [`app::session::RequestSession`], where server functions and SSR
//!   components read it.
//! - A cookie that no longer names a valid session is cleared.
//! - Anonymous requests for pages whose declared access
//!   ([`crate::access`]) needs a session get a 303 to `/login?next=…`
//!   before anything is rendered; pages that need a recent authentication
//!   send a session past the window to `/account/confirm?next=…`.
//! - Responses are marked `Cache-Control: no-store` (each carries this
//!   browser's CSRF token, perhaps a user); signed-in ones also say when the
//!   session now ends (`X-Session-Times`, for the browser's idle prompt).
//! - The request's CSRF token is resolved here too (the CSRF cookie's, if it
//!   is valid for the session the response leaves in place, else a new one,
//!   set as the cookie) and handed to forms as [`app::csrf::RequestCsrf`].
//! - A handler that signs someone in or out says so
//!   ([`app::session::SessionChange`]); its cookies are then left as it set
//!   them.

use std::sync::Arc;

use axum::{
    extract::{MatchedPath, Request, State},
    http::{header, HeaderValue},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use engine::{Auth, ClientInfo, CookiePolicy, Validation};

use app::{
    csrf::RequestCsrf,
    routes::Access,
    session::{ClientIp, RequestSession, SessionChanges},
    session_clock::{self, SessionTimes},
};

use crate::{
    access::{Page, RouteAccess},
    cookies::{RequestCookies, SessionCookie},
    csrf::Csrf,
    error::{ServerError, Shape},
};

/// What the session layer needs; shared behind an `Arc` (axum clones a
/// middleware's state for every request).
#[derive(Clone, Debug)]
pub struct SessionLayer {
    /// The session engine.
    pub auth: Auth,
    /// The cookies' names and attributes.
    pub cookies: CookiePolicy,
    /// The forms' CSRF tokens.
    pub csrf: Csrf,
    /// Which pages need a session.
    pub routes: Arc<RouteAccess>,
}

/// The middleware function; install with `from_fn_with_state`.
///
/// # Errors
/// [`ServerError::Unavailable`] when the session store does not answer.
pub async fn session_layer(
    State(layer): State<Arc<SessionLayer>>,
    mut req: Request,
    next: Next,
) -> Result<Response, ServerError> {
    let page = req
        .extensions()
        .get::<MatchedPath>()
        .and_then(|p| layer.routes.of(p.as_str()));
    if page == Some(Page::Prerendered) {
        return Ok(next.run(req).await);
    }

    let cookies = RequestCookies::of(&req, &layer.cookies);
    let seen_from = {
        let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
        let headers = req.headers();
        move || app::session::client_info_of(ip, headers)
    };
    let (session, clear_cookie) = match &cookies.session {
        SessionCookie::Missing => (None, false),
        SessionCookie::Unusable => (None, true),
        SessionCookie::Token(token) => match validate(&layer.auth, token, seen_from).await {
            Ok(Validation::Valid(auth)) => (Some(*auth), false),
            Ok(Validation::Invalid) => (None, true),
            Err(source) => {
                return Err(ServerError::Unavailable {
                    shape: Shape::Text,
                    source,
                })
            }
        },
    };

    // A protected page answers 303 before anything renders: to the sign-in
    // form without a session, to the confirmation form when the page needs
    // a recent authentication the session no longer has.
    let gate = match (page, &session) {
        (Some(Page::Rendered(Access::Session | Access::RecentAuthentication)), None) => {
            Some(app::paths::LOGIN)
        }
        (Some(Page::Rendered(Access::RecentAuthentication)), Some(auth))
            if !layer.auth.is_recent(&auth.session) =>
        {
            Some(app::server_fns::security::CONFIRM_PATH)
        }
        _ => None,
    };
    if let Some(form) = gate {
        let target = req
            .uri()
            .path_and_query()
            .map_or(req.uri().path(), |pq| pq.as_str());
        let mut res = Redirect::to(&app::redirect::via(form, target)).into_response();
        if clear_cookie {
            crate::cookies::append(&mut res, &layer.cookies.removal());
        }
        return Ok(res);
    }

    let times = session
        .as_ref()
        .map(|auth| SessionTimes::of(auth, layer.auth.policy(), layer.auth.now()));
    let token = session.as_ref().and(cookies.session.token());
    let (csrf, new_csrf) = layer.csrf.token_for(&cookies, token);
    let changes = SessionChanges::default();
    req.extensions_mut().insert(RequestSession(session));
    req.extensions_mut().insert(RequestCsrf(csrf.clone()));
    req.extensions_mut().insert(changes.clone());
    let mut res = next.run(req).await;
    // A sign-in or sign-out in this very request set its own cookies (a new
    // session and CSRF token, or their removal) and has no session times.
    if changes.get().is_none() {
        if new_csrf {
            crate::cookies::append(&mut res, &layer.cookies.csrf_cookie(&csrf, None));
        }
        if clear_cookie {
            crate::cookies::append(&mut res, &layer.cookies.removal());
        }
        if let Some(times) = times {
            insert_times(&mut res, &times);
        }
    }
    // Rendered for this browser (a CSRF token in every form, perhaps a
    // user): never stored by a cache, shared or not.
    if !res.headers().contains_key(header::CACHE_CONTROL) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    Ok(res)
}

/// Adds the `X-Session-Times` header the browser's idle prompt counts from.
pub fn insert_times(res: &mut Response, times: &SessionTimes) {
    if let Ok(value) = HeaderValue::from_str(&times.to_header()) {
        res.headers_mut().insert(session_clock::HEADER, value);
    }
}

/// The engine's validation (or, in the bench-only build, its bypass).
async fn validate(
    auth: &Auth,
    token: &engine::SessionToken,
    seen_from: impl FnOnce() -> ClientInfo + Send,
) -> Result<Validation, engine::Error> {
    #[cfg(feature = "bench-bypass")]
    return crate::bench_bypass::validate(auth, token, seen_from).await;
    #[cfg(not(feature = "bench-bypass"))]
    auth.validate_token(token, seen_from).await
}
