//! [`super::token`] on the server: the token the session layer resolved for
//! this request. Server-only (it reads the request); the browser build
//! compiles `current_cookie.rs` instead.

use super::RequestCsrf;

/// This request's token; empty without a request (prerendering).
pub fn token() -> String {
    crate::session::extension::<RequestCsrf>()
        .map(|t| t.0)
        .unwrap_or_default()
}
