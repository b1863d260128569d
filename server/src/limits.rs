//! Size limits on what a request may carry, checked before anything reads
//! it: oversized headers or cookies get 431, oversized bodies 413.
//!
//! The numbers are generous for this app (its largest legitimate body is a
//! sign-up form of a few hundred bytes) and small enough that a flood of
//! large requests costs the server little.
//!
//! Also here: how many pages and server functions are handled at once
//! ([`render_limit`]). Rendering is CPU work plus a few short queries; past
//! a few per core, more at once only adds memory (each holds its HTML and
//! reactive graph), not throughput. The rest wait, holding nothing but
//! their request.

use std::sync::Arc;

use axum::{
    extract::{Request, State},
    http::{header, Method, StatusCode},
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

/// Pages and server functions in progress at once, shared by every route
/// [`render_limit`] guards.
#[derive(Clone, Debug)]
pub struct RenderPermits(Arc<tokio::sync::Semaphore>);

impl RenderPermits {
    /// Allows `n` at once.
    #[must_use]
    pub fn new(n: usize) -> Self {
        Self(Arc::new(tokio::sync::Semaphore::new(n)))
    }
}

/// Waits for a render permit, then renders the page. Server-function calls
/// (POSTs) pass without one: they are short, render no page, and the slow
/// ones (sign-in, sign-up) are bounded by the hashing admission instead
/// (`engine::hashing`), so a flood of sign-ins never holds the permits that
/// pages, logout and revoke need.
pub async fn render_limit(
    State(permits): State<RenderPermits>,
    req: Request,
    next: Next,
) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    // The semaphore is never closed; if it were, serving beats refusing.
    let _permit = permits.0.acquire().await.ok();
    next.run(req).await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use axum::{body::Body, middleware, routing::get, Router};
    use tower::ServiceExt as _;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_than_the_permits_run_at_once_and_the_rest_wait() {
        static RUNNING: AtomicUsize = AtomicUsize::new(0);
        static MOST: AtomicUsize = AtomicUsize::new(0);
        let app = Router::new()
            .route(
                "/",
                get(|| async {
                    let now = RUNNING.fetch_add(1, Ordering::SeqCst) + 1;
                    MOST.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                    RUNNING.fetch_sub(1, Ordering::SeqCst);
                    "ok"
                }),
            )
            .route_layer(middleware::from_fn_with_state(
                RenderPermits::new(2),
                render_limit,
            ));
        let requests = (0..8).map(|_| {
            let app = app.clone();
            tokio::spawn(async move {
                let req = Request::builder().uri("/").body(Body::empty()).unwrap();
                app.oneshot(req).await.unwrap().status()
            })
        });
        for handle in requests.collect::<Vec<_>>() {
            assert_eq!(
                handle.await.unwrap(),
                StatusCode::OK,
                "every request is served"
            );
        }
        assert_eq!(MOST.load(Ordering::SeqCst), 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn server_function_calls_never_wait_for_a_page_permit() {
        let (release, released) = tokio::sync::watch::channel(false);
        let app = Router::new()
            .route(
                "/",
                get(move || {
                    let mut released = released.clone();
                    async move {
                        let _ = released.wait_for(|done| *done).await;
                        "page"
                    }
                })
                .post(|| async { "call" }),
            )
            .route_layer(middleware::from_fn_with_state(
                RenderPermits::new(1),
                render_limit,
            ));
        // A page holds the only permit until released.
        let page = tokio::spawn({
            let app = app.clone();
            async move {
                let req = Request::builder().uri("/").body(Body::empty()).unwrap();
                app.oneshot(req).await.unwrap().status()
            }
        });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let call = Request::builder()
            .method("POST")
            .uri("/")
            .body(Body::empty())
            .unwrap();
        let answered =
            tokio::time::timeout(std::time::Duration::from_secs(5), app.clone().oneshot(call))
                .await
                .expect("the call did not wait for the page's permit")
                .unwrap();
        assert_eq!(answered.status(), StatusCode::OK);
        let _ = release.send(true);
        assert_eq!(page.await.unwrap(), StatusCode::OK);
    }
}
