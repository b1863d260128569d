//! [`super::token`] on the server: the token the session layer resolved for
//! this request. Server-only (it reads the request); the browser build
//! compiles `current_cookie.rs` instead.

use leptos::prelude::*;

use super::RequestCsrf;

/// This request's token; empty without a request (prerendering).
pub fn token() -> String {
    // Borrowed: `use_context` would clone the request's headers and
    // extensions for one string.
    with_context::<http::request::Parts, _>(|p| {
        p.extensions.get::<RequestCsrf>().map(|t| t.0.clone())
    })
    .flatten()
    .unwrap_or_default()
}
