//! The Content-Security-Policy: which scripts a page may run.
//!
//! No inline script runs unless this site wrote it:
//!
//! - **SSR pages** get a fresh random nonce per request ([`CspNonce`], put
//!   into the request's extensions by the headers layer); the router hands
//!   it to Leptos, which stamps it on the hydration scripts it renders.
//! - **Prerendered pages** are files, identical for everyone, so a nonce
//!   would be a constant. They get the SHA-256 hashes of their inline
//!   scripts instead ([`inline_script_hashes`], computed once per page),
//!   which the static-pages layer attaches to its response as
//!   [`ScriptHashes`].
//! - `'strict-dynamic'` extends that trust to what those scripts load: the
//!   JS glue they `import()`, and the split loader and WebAssembly chunks
//!   the glue fetches as pages need them. No host source (not even `'self'`)
//!   is in `script-src`, so a script file someone manages to put on this
//!   origin still does not run unless a trusted script loads it.
//! - `'wasm-unsafe-eval'` lets the page compile its WebAssembly; it does not
//!   allow `eval` of JavaScript.
//!
//! Forms post to this origin only (`form-action 'self'`), plus the
//! origins of the configured sign-in providers: linking a provider and
//! confirming with one are forms whose answer redirects there, and
//! browsers hold a form's redirects to `form-action` too.
//!
//! With `cargo leptos watch` the live-reload script (inline, so nonced or
//! hashed like the others) connects to a WebSocket on another port, so dev
//! builds running under it also allow `ws:` connections.

use std::sync::Arc;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use sha2::{Digest as _, Sha256};

/// This request's CSP nonce, for the SSR renderer.
#[derive(Clone, Debug)]
pub struct CspNonce(pub String);

impl CspNonce {
    /// A fresh random nonce.
    #[must_use]
    pub fn fresh() -> Self {
        Self(leptos::nonce::Nonce::new().to_string())
    }
}

/// The `'sha256-…'` sources of a prerendered page's inline scripts, on its
/// response: the policy then allows those instead of a nonce.
#[derive(Clone, Debug)]
pub struct ScriptHashes(pub Arc<str>);

/// The policy for a response whose inline scripts are allowed by
/// `scripts` (a nonce source or hash sources); `form_targets` are the
/// origins besides this one that a form's answer may redirect to (the
/// sign-in providers', space-separated).
#[must_use]
pub fn policy(scripts: &str, live_reload: bool, form_targets: &str) -> String {
    let connect = if live_reload { "'self' ws:" } else { "'self'" };
    let forms = if form_targets.is_empty() {
        "'self'".to_owned()
    } else {
        format!("'self' {form_targets}")
    };
    format!(
        "default-src 'self'; script-src {scripts} 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self'; img-src 'self' data:; connect-src {connect}; \
         object-src 'none'; base-uri 'self'; form-action {forms}; frame-ancestors 'none'"
    )
}

/// `'sha256-…'` for the content of every inline `<script>` in `html` that
/// the app wrote: Leptos stamps its own scripts (hydration, the bundle
/// loader, live reload) with the render's nonce attribute, so a script
/// without one, however it got into the page, is not allowed.
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
        if !tag.contains(" src=") && tag.contains(" nonce=") {
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
    fn hashes_cover_the_apps_own_inline_scripts_only() {
        let html = r#"<head><script src="/pkg/a.js"></script><script type="module" nonce="x">import('/pkg/a.js')</script>
            <script>alert(1)</script></head>"#;
        let hashes = inline_script_hashes(html);
        assert_eq!(hashes.len(), 1, "{hashes:?}");
        let ours = STANDARD.encode(Sha256::digest(b"import('/pkg/a.js')"));
        assert_eq!(hashes[0], format!("'sha256-{ours}'"));
        let foreign = STANDARD.encode(Sha256::digest(b"alert(1)"));
        assert!(
            !hashes.contains(&format!("'sha256-{foreign}'")),
            "a script the app did not stamp is not allowed"
        );
    }

    #[test]
    fn scripts_are_trusted_by_nonce_or_hash_and_what_they_load() {
        let policy = policy("'nonce-x'", false, "");
        let script_src = policy
            .split(';')
            .find_map(|d| d.trim().strip_prefix("script-src "))
            .expect("a script-src directive");
        assert_eq!(script_src, "'nonce-x' 'strict-dynamic' 'wasm-unsafe-eval'");
    }

    #[test]
    fn live_reload_adds_only_websockets() {
        assert!(policy("'nonce-x'", true, "").contains("connect-src 'self' ws:;"));
        assert!(policy("'nonce-x'", false, "").contains("connect-src 'self';"));
    }

    #[test]
    fn forms_go_to_this_origin_and_the_providers_only() {
        assert!(policy("'nonce-x'", false, "").contains("form-action 'self';"));
        let with = policy("'nonce-x'", false, "https://accounts.google.com");
        assert!(
            with.contains("form-action 'self' https://accounts.google.com;"),
            "{with}"
        );
    }
}
