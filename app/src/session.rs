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

/// A sign-in or sign-out that a handler performed: it set (or cleared) the
/// session's cookies itself, so the session layer leaves them alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionChange {
    /// A new session, with its own cookies.
    SignedIn,
    /// The session ended and its cookies were cleared.
    SignedOut,
}

/// Where a handler leaves its [`SessionChange`] for the session layer,
/// which puts one into every request it handles and reads it once the
/// handler is done. (A server function's `ResponseOptions` carries only
/// headers and a status, so the typed value travels in the request.)
#[derive(Clone, Debug, Default)]
pub struct SessionChanges(std::sync::Arc<std::sync::Mutex<Option<SessionChange>>>);

impl SessionChanges {
    /// Records `change` (the last one wins).
    pub fn record(&self, change: SessionChange) {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(change);
    }

    /// The change recorded, if any.
    #[must_use]
    pub fn get(&self) -> Option<SessionChange> {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Tells the session layer that this request signed someone in or out.
pub fn record_change(change: SessionChange) {
    if let Some(changes) = extension::<SessionChanges>() {
        changes.record(change);
    }
}

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

/// Reads the request's parts where they are: `use_context` would clone
/// all its headers and extensions for each look. `read` must not look up
/// another context (the owner's lock is held).
pub fn with_parts<R>(read: impl FnOnce(&Parts) -> R) -> Option<R> {
    with_context::<Parts, _>(read)
}

/// One extension the server's layers put on this request, cloned alone.
#[must_use]
pub fn extension<T: Clone + Send + Sync + 'static>() -> Option<T> {
    with_parts(|parts| parts.extensions.get::<T>().cloned()).flatten()
}

/// The signed-in user's session, if any.
#[must_use]
pub fn current() -> Option<Authenticated> {
    with_parts(|parts| parts.extensions.get::<RequestSession>()?.0.clone()).flatten()
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

/// Put into a sign-in or sign-up request by the server's credential gate
/// once it has counted the attempt against the address's budget, so the
/// server function does not count it twice.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressCounted;

/// Whether the credential gate already counted this request's address.
#[must_use]
pub fn address_counted() -> bool {
    extension::<AddressCounted>().is_some()
}

/// The client's address ([`ClientIp`], else the socket's peer).
#[must_use]
pub fn client_ip() -> Option<IpAddr> {
    with_parts(ip_of).flatten()
}

/// [`client_ip`] of `parts`.
fn ip_of(parts: &Parts) -> Option<IpAddr> {
    parts.extensions.get::<ClientIp>().map(|c| c.0).or_else(|| {
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0.ip())
    })
}

/// The value of cookie `name`, if the request sent it exactly once.
#[must_use]
pub fn request_cookie(name: &str) -> Option<String> {
    with_parts(|parts| {
        let values = parts.headers.get_all(header::COOKIE).iter();
        match engine::cookie::find(values.filter_map(|v| v.to_str().ok()), name) {
            engine::cookie::CookieValue::One(value) => Some(value),
            _ => None,
        }
    })
    .flatten()
}

/// Where the request came from, for the session list and the event log.
#[must_use]
pub fn client_info() -> ClientInfo {
    with_parts(|parts| client_info_of(ip_of(parts), &parts.headers)).unwrap_or_default()
}

/// [`client_info`] for a request outside Leptos (the server's layers).
#[must_use]
pub fn client_info_of(ip: Option<IpAddr>, headers: &http::HeaderMap) -> ClientInfo {
    let ua = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok());
    ClientInfo::new(ip.map(|ip| ip.to_string()), ua)
}

/// Seconds a sign-in refused as busy is told to wait: about one hash's
/// worth of waiting clears a burst.
pub const BUSY_RETRY_AFTER_SECS: u64 = 2;

/// Whether a request with `headers` is a plain HTML form post.
#[must_use]
pub fn accepts_html(headers: &http::HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"))
}

/// Whether the request is a plain HTML form post (no JavaScript): errors
/// must then travel back in a redirect rather than as JSON.
#[must_use]
pub fn is_plain_form_post() -> bool {
    with_parts(|p| accepts_html(&p.headers)).unwrap_or(false)
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

/// Signs this browser out on the response: clears the session, refresh and
/// CSRF cookies, asks the browser to drop the site's stored data, and tells
/// the session layer ([`SessionChange::SignedOut`]). `Clear-Site-Data`
/// names only `"storage"`: `"cookies"` would also drop the device cookie,
/// which must outlive the session to spare this browser from lockouts.
pub fn clear_session_cookies(cookies: &engine::CookiePolicy) {
    set_cookie(&cookies.removal());
    set_cookie(&cookies.refresh_removal());
    set_cookie(&cookies.csrf_removal());
    set_header(
        header::HeaderName::from_static("clear-site-data"),
        "\"storage\"",
    );
    record_change(SessionChange::SignedOut);
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

/// Sets the response status (a success other than 200).
pub fn set_status(code: http::StatusCode) {
    if let Some(res) = use_context::<ResponseOptions>() {
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
