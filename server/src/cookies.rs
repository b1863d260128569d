//! Reading and writing cookies on raw requests and responses.
//!
//! The cookies this app reads are parsed once per request, at the edge
//! ([`parse_layer`]), into [`RequestCookies`]: the CSRF layer, the session
//! layer and the handlers read that typed value instead of the headers.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue},
    middleware::Next,
    response::Response,
};
use engine::{CookiePolicy, SessionToken};

/// The session cookie as the request carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionCookie {
    /// Not sent: an anonymous request.
    Missing,
    /// Sent twice, or not a token this server could have issued: it names no
    /// session, and the response clears it.
    Unusable,
    /// A well-formed token (not yet validated).
    Token(SessionToken),
}

impl SessionCookie {
    /// The token, if well-formed.
    #[must_use]
    pub fn token(&self) -> Option<&SessionToken> {
        match self {
            Self::Token(token) => Some(token),
            Self::Missing | Self::Unusable => None,
        }
    }
}

/// The app's cookies on one request, parsed once by [`parse_layer`].
#[derive(Clone, Debug)]
pub struct RequestCookies {
    /// The session cookie.
    pub session: SessionCookie,
    /// The CSRF cookie's value, if sent exactly once.
    pub csrf: Option<String>,
    /// The refresh cookie (only sent to `/api/auth`).
    pub refresh: CookieValue,
}

impl RequestCookies {
    /// Parses the cookies named by `policy` from `headers`.
    #[must_use]
    pub fn parse(headers: &HeaderMap, policy: &CookiePolicy) -> Self {
        let [session, csrf, refresh] = engine::cookie::find_each(
            cookie_headers(headers),
            [policy.name(), policy.csrf_name(), policy.refresh_name()],
        );
        let session = match session {
            CookieValue::Missing => SessionCookie::Missing,
            CookieValue::Ambiguous => SessionCookie::Unusable,
            CookieValue::One(raw) => {
                SessionToken::parse(&raw).map_or(SessionCookie::Unusable, SessionCookie::Token)
            }
        };
        let csrf = match csrf {
            CookieValue::One(value) => Some(value),
            CookieValue::Missing | CookieValue::Ambiguous => None,
        };
        Self {
            session,
            csrf,
            refresh,
        }
    }

    /// This request's parsed cookies (from [`parse_layer`]; parsed here if
    /// a test mounted a handler without it).
    #[must_use]
    pub fn of(req: &Request, policy: &CookiePolicy) -> Self {
        req.extensions()
            .get::<Self>()
            .cloned()
            .unwrap_or_else(|| Self::parse(req.headers(), policy))
    }
}

/// The middleware, outside every layer that reads cookies: puts
/// [`RequestCookies`] into the request's extensions.
pub async fn parse_layer(
    State(policy): State<CookiePolicy>,
    mut req: Request,
    next: Next,
) -> Response {
    let cookies = RequestCookies::parse(req.headers(), &policy);
    req.extensions_mut().insert(cookies);
    next.run(req).await
}

pub use engine::cookie::CookieValue;

/// Finds cookie `name` among all `Cookie` headers
/// ([`engine::cookie::find`]).
#[must_use]
pub fn find(headers: &HeaderMap, name: &str) -> CookieValue {
    engine::cookie::find(cookie_headers(headers), name)
}

/// The values of every `Cookie` header that is text.
fn cookie_headers(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
}

/// Adds a `Set-Cookie` header.
pub fn append(res: &mut Response, cookie: &cookie::Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn finds_exact_names_and_refuses_duplicates() {
        assert_eq!(
            find(&headers(&["a=1; __Host-session=x"]), "__Host-session"),
            CookieValue::One("x".into())
        );
        assert_eq!(
            find(&headers(&["__host-session=x"]), "__Host-session"),
            CookieValue::Missing
        );
        assert_eq!(
            find(
                &headers(&["__Host-session=x; __Host-session=y"]),
                "__Host-session"
            ),
            CookieValue::Ambiguous
        );
        assert_eq!(
            find(
                &headers(&["__Host-session=x", "__Host-session=y"]),
                "__Host-session"
            ),
            CookieValue::Ambiguous
        );
        assert_eq!(find(&headers(&[]), "__Host-session"), CookieValue::Missing);
    }
}
