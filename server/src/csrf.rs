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

use std::sync::Arc;

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderMap, Method},
    middleware::Next,
    response::{IntoResponse as _, Response},
};
use engine::{
    csrf::{Binding, CsrfKey},
    CookiePolicy, SessionToken,
};

use crate::{
    cookies::RequestCookies,
    error::{ServerError, Shape},
};

/// The header the browser app sends the token in.
pub const HEADER: &str = "x-csrf-token";
/// The hidden form field carrying the token in HTML forms.
pub const FIELD: &str = app::csrf::FIELD;
/// Largest form body this layer reads to find the token.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// What the CSRF layer and the token endpoint need (behind an `Arc` there:
/// axum clones a middleware's state for every request).
#[derive(Clone, Debug)]
pub struct Csrf {
    /// Signs and checks tokens.
    pub key: CsrfKey,
    /// The cookies' names and attributes.
    pub cookies: CookiePolicy,
    /// `PUBLIC_URL`'s origin, the reference for layer 1 (else the `Host`).
    pub public_origin: Option<Arc<str>>,
}

impl Csrf {
    /// The CSRF token for a request whose session (after this response) is
    /// `session`: the CSRF cookie's value when it is valid for it, else a
    /// new one — `true` means the caller must set it as the cookie.
    #[must_use]
    pub fn token_for(
        &self,
        cookies: &RequestCookies,
        session: Option<&SessionToken>,
    ) -> (String, bool) {
        let binding = session.map_or(Binding::PreSession, Binding::Session);
        match &cookies.csrf {
            Some(current) if self.key.verify(binding, current) => (current.clone(), false),
            _ => (self.key.issue(binding), true),
        }
    }
}

/// The middleware; install with `from_fn_with_state` around the router.
///
/// # Errors
/// [`ServerError::CrossSite`], [`ServerError::BadCsrfToken`] or
/// [`ServerError::TooLarge`]: plain text for a browser showing a page,
/// JSON in the server-function error format for the hydrated app.
pub async fn csrf_layer(
    State(csrf): State<Arc<Csrf>>,
    req: Request,
    next: Next,
) -> Result<Response, ServerError> {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(req).await);
    }
    let wants_html = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let shape = if wants_html { Shape::Text } else { Shape::Json };
    let req = check(&csrf, req, shape).await?;
    Ok(next.run(req).await)
}

/// Both layers; hands the request back (body intact) when it may proceed.
async fn check(csrf: &Csrf, req: Request, shape: Shape) -> Result<Request, ServerError> {
    if is_cross_site(req.headers(), csrf.public_origin.as_deref()) {
        return Err(ServerError::CrossSite(shape));
    }
    let cookies = RequestCookies::of(&req, &csrf.cookies);
    let binding = cookies
        .session
        .token()
        .map_or(Binding::PreSession, Binding::Session);

    let (req, presented) = presented_token(req).await?;
    let valid = presented.as_deref().is_some_and(|token| {
        csrf.key.verify(binding, token)
            && match binding {
                Binding::Session(_) => true,
                // Anyone can obtain a pre-session token; only the browser
                // holding the matching cookie can present it.
                Binding::PreSession => cookies
                    .csrf
                    .as_deref()
                    .is_some_and(|c| engine::csrf::same_token(c, token)),
            }
    });
    if valid {
        Ok(req)
    } else {
        Err(ServerError::BadCsrfToken(shape))
    }
}

/// The token from the header, or else from a URL-encoded form body (which is
/// read, bounded, and put back for the handler).
async fn presented_token(req: Request) -> Result<(Request, Option<String>), ServerError> {
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
        .map_err(|_| ServerError::TooLarge)?;
    let mut found = form_urlencoded::parse(&bytes).filter(|(k, _)| k == FIELD);
    let token = match (found.next(), found.next()) {
        (Some((_, v)), None) => Some(v.into_owned()),
        // Absent, or sent twice: no token.
        _ => None,
    };
    Ok((Request::from_parts(parts, Body::from(bytes)), token))
}

/// `GET /api/auth/csrf`: the token for this browser, setting the cookie if
/// it has none (yet) or a stale one. An island asks when it needs to post
/// and finds no cookie: on a prerendered page (served without the session
/// layer, which sets it), or after a logout cleared site data. Reading it needs
/// no database (the binding is the session cookie's hash), and another site
/// cannot read the answer (no CORS), so a GET is safe.
pub async fn token_endpoint(State(csrf): State<Arc<Csrf>>, req: Request) -> Response {
    let cookies = RequestCookies::of(&req, &csrf.cookies);
    let (token, new) = csrf.token_for(&cookies, cookies.session.token());
    let mut res = (
        [(header::CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({ "token": token })),
    )
        .into_response();
    if new {
        crate::cookies::append(&mut res, &csrf.cookies.csrf_cookie(&token, None));
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
