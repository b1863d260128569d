//! Security headers on every response — pages, files, APIs and errors —
//! set in one outermost layer so nothing can forget them.
//!
//! The Content-Security-Policy allows no inline script except what this
//! site wrote itself:
//!
//! - **SSR pages** get a fresh random nonce per request. The layer puts it in
//!   the request's extensions ([`CspNonce`]); the router hands it to Leptos,
//!   which stamps it on the hydration scripts it renders.
//! - **Prerendered pages** are files, identical for everyone, so a nonce
//!   would be a constant. They get the SHA-256 hashes of their inline
//!   scripts instead, computed once per page by `crate::static_pages`,
//!   which hands the page to this layer with its response.
//! - `'wasm-unsafe-eval'` lets the page compile its WebAssembly; it does not
//!   allow `eval` of JavaScript.
//!
//! With `cargo leptos watch` the live-reload script (inline, so nonced or
//! hashed like the others) connects to a WebSocket on another port, so dev
//! builds running under it also allow `ws:` connections.

use axum::{
    extract::{Request, State},
    http::{HeaderMap, HeaderName, HeaderValue},
    middleware::Next,
    response::Response,
};
use base64::{engine::general_purpose::STANDARD, Engine as _};
use sha2::{Digest as _, Sha256};

use std::sync::Arc;

use crate::{state::AppState, static_pages::StaticPage};

/// This request's CSP nonce, for the SSR renderer.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

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

/// The middleware: nonce in, headers out.
pub async fn security_headers(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response {
    let nonce = leptos::nonce::Nonce::new().to_string();
    req.extensions_mut().insert(CspNonce(nonce.clone()));
    let mut res = next.run(req).await;

    // A prerendered page, answered by `static_pages`, says which scripts.
    let scripts = match res.extensions().get::<Arc<StaticPage>>() {
        Some(page) => page.script_hashes.to_string(),
        None => format!("'nonce-{nonce}'"),
    };
    let connect = if state.config.live_reload {
        "'self' ws:"
    } else {
        "'self'"
    };
    let csp = format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    );
    let headers = res.headers_mut();
    set(headers, "content-security-policy", &csp);
    for (name, value) in HEADERS {
        set(headers, name, value);
    }
    if state
        .config
        .public_origin
        .as_deref()
        .is_some_and(|o| o.starts_with("https://"))
    {
        set(headers, "strict-transport-security", HSTS);
    }
    res
}

fn set(headers: &mut HeaderMap, name: &'static str, value: &str) {
    let name = HeaderName::from_static(name);
    if !headers.contains_key(&name) {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
}

/// `'sha256-…'` for the content of every inline `<script>` in `html`.
#[must_use]
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    let mut hashes = Vec::new();
    let mut rest = html;
    while let Some(start) = rest.find("<script") {
        rest = &rest[start..];
        let Some(tag_end) = rest.find('>') else { break };
        let tag = &rest[..tag_end];
        let body_start = tag_end + 1;
        let Some(len) = rest[body_start..].find("</script>") else {
            break;
        };
        let body = &rest[body_start..body_start + len];
        if !tag.contains(" src=") {
            let digest = Sha256::digest(body.as_bytes());
            hashes.push(format!("'sha256-{}'", STANDARD.encode(digest)));
        }
        rest = &rest[body_start + len..];
    }
    hashes.sort();
    hashes.dedup();
    hashes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_cover_inline_scripts_only() {
        let html = r#"<head><script src="/pkg/a.js"></script><script type="module" nonce="x">import('/pkg/a.js')</script>
            <script>alert(1)</script></head>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 2, "{hashes:?}");
        let expected = STANDARD.encode(Sha256::digest(b"alert(1)"));
        assert!(hashes.contains(&format!("'sha256-{expected}'")));
    }
}
