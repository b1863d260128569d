//! Size limits on what a request may carry, checked before anything reads
//! it: oversized headers or cookies get 431, oversized bodies 413.
//!
//! The numbers are generous for this app (its largest legitimate body is a
//! sign-up form of a few hundred bytes) and small enough that a flood of
//! large requests costs the server little.

use axum::{
    extract::Request,
    http::{header, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};

/// Largest request body, in bytes.
pub const MAX_BODY_BYTES: usize = 64 * 1024;
/// Largest sum of header names and values, in bytes.
pub const MAX_HEADER_BYTES: usize = 16 * 1024;
/// Largest sum of `Cookie` header values, in bytes (browsers send ~4 KB
/// per cookie at most; this app sets three small ones).
pub const MAX_COOKIE_BYTES: usize = 8 * 1024;

/// The header check; the body limit is `tower_http`'s `RequestBodyLimitLayer`.
pub async fn header_limits(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let total: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let cookies: usize = headers
        .get_all(header::COOKIE)
        .iter()
        .map(|v| v.len())
        .sum();
    if total > MAX_HEADER_BYTES || cookies > MAX_COOKIE_BYTES {
        return (
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "The request's headers or cookies are too large. Clearing this site's cookies will fix it.",
        )
            .into_response();
    }
    next.run(req).await
}
