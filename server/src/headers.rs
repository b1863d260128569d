//! Security headers on every response — pages, files, APIs and errors —
//! set in one layer so nothing can forget them.
//!
//! The script policy (nonces for SSR pages, hashes for prerendered ones) is
//! still to come; this layer already forbids framing and sniffing and trims
//! what the page may ask the browser for.

use axum::http::{HeaderName, HeaderValue};
use tower_http::set_header::SetResponseHeaderLayer;

/// The fixed headers, as `(name, value)`.
pub const HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'",
    ),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

/// One layer per header; each only sets its header if the handler did not.
pub fn layers() -> Vec<SetResponseHeaderLayer<HeaderValue>> {
    HEADERS
        .iter()
        .map(|(name, value)| {
            SetResponseHeaderLayer::if_not_present(
                HeaderName::from_static(name),
                HeaderValue::from_static(value),
            )
        })
        .collect()
}
