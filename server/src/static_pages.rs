//! Prerendered pages served from memory.
//!
//! Leptos writes each static route to a file at start-up and, by default,
//! serves it from disk on every request (a check that the file exists, then
//! an open and a read, each on a blocking thread). These pages never change
//! while the process runs, so the first request for one reads it once and
//! keeps its bytes, its ETag and the CSP hashes of its inline scripts; the
//! rest are answered from memory, before the session layer and without
//! touching the disk or the database.
//!
//! HTML is revalidated (`Cache-Control: no-cache` with a strong ETag): a new
//! deployment is picked up at once, and an unchanged page costs a 304.
//! The bundle files a content-hashed release names in that HTML are the
//! opposite: their names change with their bytes, so they are cached for a
//! year, `immutable` ([`immutable_assets`]).

use std::{
    collections::{HashMap, HashSet},
    path::{Path, PathBuf},
    sync::{Arc, RwLock},
};

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::Response,
};
use sha2::{Digest as _, Sha256};

use crate::csp::{inline_script_hashes, ScriptHashes};

/// One prerendered page, as served.
#[derive(Debug)]
struct StaticPage {
    body: Bytes,
    etag: HeaderValue,
    /// The `'sha256-…'` sources of its inline scripts, for the CSP.
    script_hashes: ScriptHashes,
}

impl StaticPage {
    fn new(html: Vec<u8>) -> Self {
        let digest = Sha256::digest(&html);
        let tag: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
        let script_hashes = inline_script_hashes(&String::from_utf8_lossy(&html)).join(" ");
        Self {
            etag: HeaderValue::from_str(&format!("\"{tag}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"0\"")),
            script_hashes: ScriptHashes(script_hashes.into()),
            body: Bytes::from(html),
        }
    }
}

/// The prerendered routes and the pages read so far. Cheap to clone.
#[derive(Clone, Debug)]
pub struct StaticPages(Arc<Site>);

#[derive(Debug)]
struct Site {
    /// Route patterns of the prerendered routes (`/guides/{slug}`).
    routes: HashSet<String>,
    /// Where Leptos wrote them.
    root: PathBuf,
    /// Pages read so far, by request path.
    pages: RwLock<HashMap<String, Arc<StaticPage>>>,
}

impl StaticPages {
    /// The pages of `routes` (route patterns), written under `root`.
    #[must_use]
    pub fn new(routes: HashSet<String>, root: PathBuf) -> Self {
        Self(Arc::new(Site {
            routes,
            root,
            pages: RwLock::default(),
        }))
    }

    /// The prerendered page for `path`, read from disk the first time;
    /// `None` when `path` is not a static route, or its file does not exist
    /// (yet): a 404 rendered on the fly is never cached.
    async fn lookup(&self, path: &str) -> Option<Arc<StaticPage>> {
        let site = &self.0;
        if !site
            .routes
            .iter()
            .any(|pattern| matches_route(pattern, path))
        {
            return None;
        }
        if let Some(page) = site.pages.read().ok()?.get(path) {
            return Some(page.clone());
        }
        let file = static_file(&site.root, path)?;
        let page = Arc::new(StaticPage::new(tokio::fs::read(&file).await.ok()?));
        if let Ok(mut pages) = site.pages.write() {
            pages.insert(path.to_owned(), page.clone());
        }
        Some(page)
    }
}

/// The middleware, on the page routes: answers GET and HEAD for prerendered
/// pages from memory; everything else goes on.
pub async fn serve(State(pages): State<StaticPages>, req: Request, next: Next) -> Response {
    let head = req.method() == Method::HEAD;
    if !(head || req.method() == Method::GET) {
        return next.run(req).await;
    }
    let Some(page) = pages.lookup(req.uri().path()).await else {
        return next.run(req).await;
    };
    let fresh = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| {
            tags.split(',')
                .any(|t| t.trim().trim_start_matches("W/") == page.etag)
        });
    let mut res = if fresh {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NOT_MODIFIED;
        res
    } else {
        let body = if head {
            Body::empty()
        } else {
            Body::from(page.body.clone())
        };
        let mut res = Response::new(body);
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(page.body.len()));
        res
    };
    let headers = res.headers_mut();
    headers.insert(header::ETAG, page.etag.clone());
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    // For the security headers layer: this page's script hashes.
    res.extensions_mut().insert(page.script_hashes.clone());
    res
}

/// One year: what browsers and CDNs may keep a content-hashed file.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// Marks the content-hashed bundle files (JS, WASM, CSS, each also served
/// precompressed under the same path) as cacheable for good. Other files
/// keep the file handler's `Last-Modified` revalidation.
pub async fn immutable_assets(
    State(assets): State<Arc<app::assets::AssetNames>>,
    req: Request,
    next: Next,
) -> Response {
    let hashed = assets.is_hashed_path(req.uri().path());
    let mut res = next.run(req).await;
    if hashed && (res.status().is_success() || res.status() == StatusCode::NOT_MODIFIED) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(IMMUTABLE));
    }
    res
}

/// Whether `path` matches a route pattern such as `/guides/{slug}` (axum's
/// syntax, which the route list uses) or `/guides/:slug`.
fn matches_route(pattern: &str, path: &str) -> bool {
    let mut pattern = pattern.split('/');
    let mut path = path.split('/');
    loop {
        match (pattern.next(), path.next()) {
            (None, None) => return true,
            (Some(p), Some(s))
                if (p.starts_with(':') || (p.starts_with('{') && p.ends_with('}')))
                    && !s.is_empty() => {}
            (Some(p), Some(s)) if p == s => {}
            _ => return false,
        }
    }
}

/// Where Leptos wrote the page for `path` (`/` → `index.html`).
fn static_file(site_root: &Path, path: &str) -> Option<PathBuf> {
    let rel = path.trim_start_matches('/').trim_end_matches('/');
    if rel.split('/').any(|seg| seg == ".." || seg.contains('\\')) {
        return None;
    }
    Some(if rel.is_empty() {
        site_root.join("index.html")
    } else {
        site_root.join(format!("{rel}.html"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_patterns_match_one_segment_per_parameter() {
        assert!(matches_route("/", "/"));
        assert!(matches_route("/guides/:slug", "/guides/tokens"));
        assert!(matches_route("/guides/{slug}", "/guides/tokens"));
        assert!(!matches_route("/guides/{slug}", "/guides"));
        assert!(!matches_route("/guides/:slug", "/guides/"));
        assert!(!matches_route("/guides/:slug", "/guides/a/b"));
        assert!(!matches_route("/about", "/about/x"));
    }

    #[test]
    fn static_files_stay_inside_the_site_root() {
        let root = Path::new("/site");
        assert_eq!(static_file(root, "/"), Some(root.join("index.html")));
        assert_eq!(
            static_file(root, "/guides/x"),
            Some(root.join("guides/x.html"))
        );
        assert_eq!(static_file(root, "/guides/.."), None);
    }
}
