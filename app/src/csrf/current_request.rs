//! [`super::token`] on the server: the token the session layer resolved for
//! this request. Server-only (it reads the request); the browser build
//! compiles `current_cookie.rs` instead.

use leptos::prelude::*;

use super::RequestCsrf;

/// This request's token; empty without a request (prerendering).
pub fn token() -> String {
    use_context::<http::request::Parts>()
        .and_then(|p| p.extensions.get::<RequestCsrf>().map(|t| t.0.clone()))
        .unwrap_or_default()
}
