//! Security headers on every response — pages, files, APIs and errors —
//! set in one outermost layer so nothing can forget them: the CSP
//! (`crate::csp`), `nosniff`, the referrer and opener policies, framing,
//! permissions, and HSTS once the site is served over https.

use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};

use crate::csp::{self, CspNonce, ScriptHashes};

/// The fixed headers, as `(name, value)`.
pub const HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "strict-origin-when-cross-origin"),
    ("cross-origin-opener-policy", "same-origin"),
    ("x-frame-options", "DENY"),
    (
        "permissions-policy",
        "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    ),
];

/// One year, with subdomains: the HSTS value once the site is on https.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// [`HEADERS`] as header names and values, checked by the compiler (an
/// invalid one fails the build), not per response.
const FIXED: [(HeaderName, HeaderValue); HEADERS.len()] =
    [fixed(0), fixed(1), fixed(2), fixed(3), fixed(4)];

const fn fixed(i: usize) -> (HeaderName, HeaderValue) {
    (
        HeaderName::from_static(HEADERS[i].0),
        HeaderValue::from_static(HEADERS[i].1),
    )
}

/// What this layer needs of the configuration.
#[derive(Clone, Debug)]
pub struct HeaderSettings {
    /// `cargo leptos watch` is running: allow its live-reload socket.
    pub live_reload: bool,
    /// The public URL is https: send HSTS.
    pub hsts: bool,
    /// The sign-in providers' origins, which a form's answer may redirect
    /// to (space-separated; empty without providers).
    pub form_targets: std::sync::Arc<str>,
}

/// The middleware: nonce in, headers out.
pub async fn security_headers(
    State(settings): State<HeaderSettings>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = CspNonce::fresh();
    let scripts = format!("'nonce-{}'", nonce.0);
    req.extensions_mut().insert(nonce);
    let mut res = next.run(req).await;

    // A prerendered page, answered by `static_pages`, says which scripts.
    let csp = match res.extensions().get::<ScriptHashes>() {
        Some(ScriptHashes(hashes)) => {
            csp::policy(hashes, settings.live_reload, &settings.form_targets)
        }
        None => csp::policy(&scripts, settings.live_reload, &settings.form_targets),
    };
    let headers = res.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        set(headers, header::CONTENT_SECURITY_POLICY, csp);
    }
    for (name, value) in FIXED {
        set(headers, name, value);
    }
    if settings.hsts {
        set(
            headers,
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    res
}

/// Sets `name` unless the response has set it already.
fn set(headers: &mut HeaderMap, name: HeaderName, value: HeaderValue) {
    if let header::Entry::Vacant(entry) = headers.entry(name) {
        entry.insert(value);
    }
}
