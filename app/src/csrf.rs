//! The CSRF token, as the UI sees it.
//!
//! The server's CSRF layer refuses every state-changing request without a
//! valid token (see `server/src/csrf.rs` and `engine::csrf`). The token
//! reaches it two ways:
//!
//! - **HTML forms** (no JavaScript): a hidden [`CsrfField`], filled on the
//!   server from the token the session layer resolved for this request;
//! - **the islands**: every server-function call, every form an island
//!   sends and the refresh call send an `X-CSRF-Token` header
//!   ([`CsrfClient`], [`header_value`]), read from the CSRF cookie at send
//!   time, so a sign-in in another tab is picked up without a reload.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
#[path = "csrf/browser.rs"]
mod imp;
#[cfg(not(feature = "hydrate"))]
#[path = "csrf/server.rs"]
mod imp;

#[cfg(feature = "ssr")]
#[path = "csrf/current_request.rs"]
mod current;
#[cfg(not(feature = "ssr"))]
#[path = "csrf/current_cookie.rs"]
mod current;

/// Name of the hidden form field.
pub const FIELD: &str = "csrf_token";
/// Name of the request header.
pub const HEADER: &str = "X-CSRF-Token";
/// Where the browser app gets a token when it has no cookie.
pub const TOKEN_PATH: &str = "/api/auth/csrf";
/// Cookie names, secure first; they mirror `engine::cookie::CSRF_COOKIE*`
/// (the browser build does not link the engine; a test keeps them equal).
pub const COOKIE_NAMES: [&str; 2] = ["__Host-csrf", "csrf"];

/// The token for this request, set by the server's session layer.
#[derive(Clone, Debug)]
pub struct RequestCsrf(pub String);

/// The current token: on the server, this request's; in the browser, the
/// cookie's. Empty on prerendered pages (no request) and when absent.
#[must_use]
pub fn token() -> String {
    current::token()
}

/// The hidden field every `<form>` that posts includes.
#[component]
pub fn CsrfField() -> impl IntoView {
    view! { <input type="hidden" name=FIELD value=token() /> }
}

/// The CSRF cookie's value, read in the browser.
#[must_use]
pub fn header_value() -> Option<String> {
    imp::header_value()
}

/// The token to send: the cookie's, or (no cookie yet, e.g. on a
/// prerendered page, or after logout) one
/// fetched from [`TOKEN_PATH`], which also sets the cookie.
pub async fn ensure_token() -> Option<String> {
    match header_value() {
        Some(token) => Some(token),
        None => imp::fetch_token().await,
    }
}

/// The server-function client: the browser client plus the CSRF header.
/// Every `#[server]` function names it (`client = crate::csrf::CsrfClient`).
pub struct CsrfClient;

mod client {
    use std::future::Future;

    use futures::{Sink, Stream};
    use leptos::server_fn::{
        client::{browser::BrowserClient, Client},
        error::FromServerFnError,
        request::browser::BrowserRequest,
        response::browser::BrowserResponse,
        Bytes,
    };

    use super::CsrfClient;

    impl<E, IS, OS> Client<E, IS, OS> for CsrfClient
    where
        E: FromServerFnError,
        IS: FromServerFnError,
        OS: FromServerFnError,
    {
        type Request = BrowserRequest;
        type Response = BrowserResponse;

        fn send(req: Self::Request) -> impl Future<Output = Result<Self::Response, E>> + Send {
            // Browser futures are not `Send`; they never leave the page's
            // single thread, which is what the wrapper asserts.
            send_wrapper::SendWrapper::new(async move {
                if let Some(token) = super::ensure_token().await {
                    req.headers().set(super::HEADER, &token);
                }
                // (The session times such a call reports are not read here:
                // reading a response's headers through `server_fn` builds a
                // `http::HeaderMap`, whose header-name table would be a
                // tenth of the bundle. The calls that move the session's
                // times are followed by a page load, which reports them.)
                <BrowserClient as Client<E, IS, OS>>::send(req).await
            })
        }

        #[allow(clippy::type_complexity)]
        fn open_websocket(
            path: &str,
        ) -> impl Future<
            Output = Result<
                (
                    impl Stream<Item = Result<Bytes, Bytes>> + Send + 'static,
                    impl Sink<Bytes> + Send + 'static,
                ),
                E,
            >,
        > + Send {
            <BrowserClient as Client<E, IS, OS>>::open_websocket(path)
        }

        fn spawn(future: impl Future<Output = ()> + Send + 'static) {
            <BrowserClient as Client<E, IS, OS>>::spawn(future);
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn cookie_names_match_the_engine() {
        assert_eq!(super::COOKIE_NAMES[0], engine::cookie::CSRF_COOKIE);
        assert_eq!(super::COOKIE_NAMES[1], engine::cookie::CSRF_COOKIE_INSECURE);
    }
}
