//! CSRF defence for every state-changing request, in one layer that wraps
//! the whole router (pages, server functions, the refresh endpoint, and
//! paths that do not exist), so no route can opt out by forgetting.
//!
//! 1. **Where from?** `Sec-Fetch-Site` must be `same-origin` (or `none`, a
//!    user-typed navigation). Without it (older browsers, other clients),
//!    `Origin`, then `Referer`, must be this site. Anything else is 403.
//! 2. **Token.** A token signed by [`engine::csrf`] and bound to the
//!    request's session cookie (or, before sign-in, equal to the CSRF
//!    cookie) must come in the `X-CSRF-Token` header or, for plain HTML
//!    forms, the `csrf_token` field. Requests with no origin information
//!    at all pass layer 1 and are decided here.
//!
//! Safe methods (GET, HEAD, OPTIONS) change nothing and pass; server
//! functions that change state accept only POST (layer 3, in `app`).

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use engine::{csrf::Binding, SessionToken};

use crate::{
    cookies::{self, CookieValue},
    state::AppState,
};

/// The header the browser app sends the token in.
pub const HEADER: &str = "x-csrf-token";
/// The hidden form field carrying the token in HTML forms.
pub const FIELD: &str = app::csrf::FIELD;
/// Largest form body this layer reads to find the token.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Layer 1: another site (or an opaque origin) sent it.
    CrossSite,
    /// Layer 2: no token, or one not valid for this session.
    BadToken,
    /// The form body exceeds [`MAX_FORM_BYTES`].
    TooLarge,
}

impl Refusal {
    /// The answer: JSON in the server-function error format for the
    /// hydrated app (so its form shows the message), plain text otherwise.
    fn into_response(self, wants_html: bool) -> Response {
        let (status, message) = match self {
            Self::CrossSite => (
                StatusCode::FORBIDDEN,
                "This request came from another site and was refused.",
            ),
            Self::BadToken => (
                StatusCode::FORBIDDEN,
                "This page has expired or the request did not come from this site. Reload the page and try again.",
            ),
            Self::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large."),
        };
        let no_store = (header::CACHE_CONTROL, "no-store");
        if wants_html || self == Self::TooLarge {
            return (status, [no_store], message).into_response();
        }
        let body = serde_json::to_string(&app::error::AppError::StaleForm).unwrap_or_default();
        (
            status,
            [no_store, (header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// The middleware; install with `from_fn_with_state` around the router.
pub async fn csrf_layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    match check(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(refusal) => {
            tracing::warn!(?refusal, "refused a state-changing request");
            refusal.into_response(wants_html)
        }
    }
}

/// Both layers; hands the request back (body intact) when it may proceed.
async fn check(state: &AppState, req: Request) -> Result<Request, Refusal> {
    if is_cross_site(req.headers(), state.config.public_origin.as_deref()) {
        return Err(Refusal::CrossSite);
    }
    let session = match cookies::find(req.headers(), state.cookies.name()) {
        CookieValue::One(raw) => SessionToken::parse(&raw),
        CookieValue::Missing | CookieValue::Ambiguous => None,
    };
    let binding = session
        .as_ref()
        .map_or(Binding::PreSession, Binding::Session);
    let cookie = match cookies::find(req.headers(), state.cookies.csrf_name()) {
        CookieValue::One(value) => Some(value),
        CookieValue::Missing | CookieValue::Ambiguous => None,
    };

    let (req, presented) = presented_token(req).await?;
    let valid = presented.as_deref().is_some_and(|token| {
        state.csrf.verify(binding, token)
            && match binding {
                Binding::Session(_) => true,
                // Anyone can obtain a pre-session token; only the browser
                // holding the matching cookie can present it.
                Binding::PreSession => cookie
                    .as_deref()
                    .is_some_and(|c| engine::csrf::same_token(c, token)),
            }
    });
    if valid {
        Ok(req)
    } else {
        Err(Refusal::BadToken)
    }
}

/// The token from the header, or else from a URL-encoded form body (which is
/// read, bounded, and put back for the handler).
async fn presented_token(req: Request) -> Result<(Request, Option<String>), Refusal> {
    if let Some(value) = req.headers().get(HEADER) {
        let token = value.to_str().ok().map(str::to_owned);
        return Ok((req, token));
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    if !is_form {
        return Ok((req, None));
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| Refusal::TooLarge)?;
    let mut found = form_urlencoded::parse(&bytes).filter(|(k, _)| k == FIELD);
    let token = match (found.next(), found.next()) {
        (Some((_, v)), None) => Some(v.into_owned()),
        // Absent, or sent twice: no token.
        _ => None,
    };
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// The CSRF token for a request whose session (after this response) is
/// `session`: the CSRF cookie's value when it is valid for it, else a new
/// one — `true` means the caller must set it as the cookie.
#[must_use]
pub fn token_for(
    state: &AppState,
    headers: &HeaderMap,
    session: Option<&SessionToken>,
) -> (String, bool) {
    let binding = session.map_or(Binding::PreSession, Binding::Session);
    match cookies::find(headers, state.cookies.csrf_name()) {
        CookieValue::One(current) if state.csrf.verify(binding, &current) => (current, false),
        _ => (state.csrf.issue(binding), true),
    }
}

/// `GET /api/auth/csrf`: the token for this browser, setting the cookie if
/// it has none (yet) or a stale one. The hydrated app asks when it needs to
/// post and finds no cookie: after a client-side navigation from a
/// prerendered page, or after a logout cleared site data. Reading it needs
/// no database (the binding is the session cookie's hash), and another site
/// cannot read the answer (no CORS), so a GET is safe.
pub async fn token_endpoint(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let session = match cookies::find(&headers, state.cookies.name()) {
        CookieValue::One(raw) => SessionToken::parse(&raw),
        CookieValue::Missing | CookieValue::Ambiguous => None,
    };
    let (token, new) = token_for(&state, &headers, session.as_ref());
    let mut res = (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "token": token })),
    )
        .into_response();
    if new {
        cookies::append(&mut res, &state.cookies.csrf_cookie(&token, None));
    }
    res
}

/// Layer 1. `true` when the browser says (or the headers show) that another
/// origin sent the request. `expected` is the configured public origin; when
/// unset, the request's own `Host` is the reference.
#[must_use]
pub fn is_cross_site(headers: &HeaderMap, expected: Option<&str>) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return !matches!(site, "same-origin" | "none");
    }
    let host = get(header::HOST.as_str());
    let same = |origin: &str| match expected {
        Some(expected) => origin.eq_ignore_ascii_case(expected),
        None => origin
            .split_once("://")
            .is_some_and(|(_, authority)| host.is_some_and(|h| authority.eq_ignore_ascii_case(h))),
    };
    if let Some(origin) = get(header::ORIGIN.as_str()) {
        return !same(origin);
    }
    if let Some(referer) = get(header::REFERER.as_str()) {
        return !origin_of(referer).is_some_and(same);
    }
    false
}

/// `scheme://authority` of a URL, without path, query or fragment.
fn origin_of(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    url.get(..scheme.len() + 3 + end)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn fetch_metadata_decides_first() {
        let site = Some("https://app.example");
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            site
        ));
        assert!(!is_cross_site(
            &headers(&[("sec-fetch-site", "none")]),
            site
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            site
        ));
        assert!(is_cross_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            site
        ));
        assert!(
            is_cross_site(
                &headers(&[
                    ("sec-fetch-site", "cross-site"),
                    ("origin", "https://app.example")
                ]),
                site
            ),
            "the browser's own verdict wins over a matching Origin"
        );
    }

    #[test]
    fn origin_then_referer_when_fetch_metadata_is_absent() {
        let site = Some("https://app.example");
        assert!(!is_cross_site(
            &headers(&[("origin", "https://app.example")]),
            site
        ));
        assert!(is_cross_site(
            &headers(&[("origin", "https://evil.example")]),
            site
        ));
        assert!(is_cross_site(&headers(&[("origin", "null")]), site));
        assert!(
            is_cross_site(&headers(&[("origin", "http://app.example")]), site),
            "scheme"
        );
        assert!(!is_cross_site(
            &headers(&[("referer", "https://app.example/login?x")]),
            site
        ));
        assert!(is_cross_site(
            &headers(&[("referer", "https://app.example.evil.example/")]),
            site
        ));
        assert!(
            !is_cross_site(&headers(&[]), site),
            "no evidence: the token decides"
        );
    }

    #[test]
    fn without_a_public_url_the_host_header_is_the_reference() {
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:3000"),
        ]);
        assert!(!is_cross_site(&h, None));
        let h = headers(&[
            ("host", "127.0.0.1:3000"),
            ("origin", "http://127.0.0.1:4000"),
        ]);
        assert!(is_cross_site(&h, None));
    }

    #[test]
    fn origin_of_strips_everything_after_the_authority() {
        assert_eq!(
            origin_of("https://a.example:8443/p?q#f"),
            Some("https://a.example:8443")
        );
        assert_eq!(origin_of("https://a.example"), Some("https://a.example"));
        assert_eq!(origin_of("a.example/x"), None);
    }
}
