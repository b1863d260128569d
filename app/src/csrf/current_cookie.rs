//! [`super::token`] in the browser: the cookie's token. The server build
//! compiles `current_request.rs` instead, which reads the request.

/// The cookie's token; empty without one.
pub fn token() -> String {
    super::header_value().unwrap_or_default()
}
