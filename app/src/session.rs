//! The request's session, as the server's session layer resolved it.
//!
//! The layer validates the cookie once, before Leptos runs, and stores the
//! outcome in the request's extensions as [`RequestSession`]. Server
//! functions and SSR components read it from there: none of them validates
//! again, and none can forget to.

use std::net::{IpAddr, SocketAddr};

use axum::extract::ConnectInfo;
use engine::{Authenticated, ClientInfo};
use http::{header, request::Parts, HeaderValue};
use leptos::prelude::*;
use leptos_axum::ResponseOptions;

use crate::error::AppError;

/// Set by the session layer on every request it handles.
#[derive(Clone, Debug, Default)]
pub struct RequestSession(pub Option<Authenticated>);

/// Typed extractor for plain axum handlers (and `leptos_axum::extract`):
/// the request's validated session, or a 401 when there is none.
#[derive(Clone, Debug)]
pub struct Authed(pub Authenticated);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Authed {
    type Rejection = (http::StatusCode, &'static str);

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<RequestSession>()
            .and_then(|s| s.0.clone())
            .map(Self)
            .ok_or((
                http::StatusCode::UNAUTHORIZED,
                "Please sign in to continue.",
            ))
    }
}

fn parts() -> Option<Parts> {
    use_context::<Parts>()
}

/// The signed-in user's session, if any.
#[must_use]
pub fn current() -> Option<Authenticated> {
    parts()?.extensions.get::<RequestSession>()?.0.clone()
}

/// The signed-in user's session.
///
/// # Errors
/// [`AppError::Unauthorized`] without a valid session.
pub fn require() -> Result<Authenticated, AppError> {
    current().ok_or(AppError::Unauthorized)
}

/// The client's address as the server resolved it: the socket's peer, or
/// the `X-Forwarded-For` entry a trusted proxy vouches for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

/// The client's address ([`ClientIp`], else the socket's peer).
#[must_use]
pub fn client_ip() -> Option<IpAddr> {
    let parts = parts()?;
    parts.extensions.get::<ClientIp>().map(|c| c.0).or_else(|| {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    })
}

/// Where the request came from, for the session list and the event log.
#[must_use]
pub fn client_info() -> ClientInfo {
    let Some(parts) = parts() else {
        return ClientInfo::default();
    };
    let ip = client_ip();
    let ua = parts
        .headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    ClientInfo::new(ip.map(|ip| ip.to_string()), ua)
}

/// Whether the request is a plain HTML form post (no JavaScript): errors
/// must then travel back in a redirect rather than as JSON.
#[must_use]
pub fn is_plain_form_post() -> bool {
    parts()
        .and_then(|p| {
            p.headers
                .get(header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// Adds a `Set-Cookie` header to the response.
pub fn set_cookie(cookie: &cookie::Cookie<'_>) {
    if let (Some(res), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(&cookie.to_string()),
    ) {
        res.append_header(header::SET_COOKIE, value);
    }
}

/// Adds a response header.
pub fn set_header(name: header::HeaderName, value: &'static str) {
    if let Some(res) = use_context::<ResponseOptions>() {
        res.insert_header(name, HeaderValue::from_static(value));
    }
}

/// Adds a response header with a computed value.
pub fn set_header_value(name: header::HeaderName, value: &str) {
    if let (Some(res), Ok(value)) = (
        use_context::<ResponseOptions>(),
        HeaderValue::from_str(value),
    ) {
        res.insert_header(name, value);
    }
}

/// Sets the response status for an error, so failed server function calls
/// are real 4xx/5xx responses.
pub fn set_error_status(err: &AppError) {
    if let (Some(res), Ok(code)) = (
        use_context::<ResponseOptions>(),
        http::StatusCode::from_u16(err.status()),
    ) {
        res.set_status(code);
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::FromRequestParts as _;

    use super::*;

    #[tokio::test]
    async fn the_extractor_needs_a_validated_session() {
        let (mut parts, ()) = http::Request::builder()
            .extension(RequestSession(None))
            .body(())
            .unwrap()
            .into_parts();
        let rejected = Authed::from_request_parts(&mut parts, &())
            .await
            .unwrap_err();
        assert_eq!(rejected.0, http::StatusCode::UNAUTHORIZED);

        let (mut bare, ()) = http::Request::new(()).into_parts();
        assert!(
            Authed::from_request_parts(&mut bare, &()).await.is_err(),
            "no layer, no session"
        );
    }
}
