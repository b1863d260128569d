//! The first slice: probes, a prerendered page and an SSR page.

use axum::http::StatusCode;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;
    let res = app.get("/healthz").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, "ok");
}

#[tokio::test]
async fn readyz_queries_the_database() {
    let app = spawn_app().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        res.body,
        r#"{"revocations":{"feed":"in process","state":"live"},"status":"ready"}"#
    );

    // With the pool closed, the same probe must report unavailability,
    // once its last answer (reused for a second: the probe is public, so a
    // flood of it costs one round trip a second) has aged.
    app.state.db.close().await;
    assert_eq!(app.get("/readyz").await.status, StatusCode::OK, "reused");
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!res.body.to_lowercase().contains("sqlx"), "{}", res.body);
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(
        body["revocations"]["feed"], "in process",
        "the feed's state is reported when unready too"
    );
}

#[tokio::test]
async fn home_is_prerendered_to_a_file_and_served_from_it() {
    let app = spawn_app().await;
    let file = app.dir.path().join("site").join("index.html");
    let on_disk = std::fs::read_to_string(&file).expect("index.html was prerendered");
    assert!(on_disk.contains("Sessions done right"));

    let res = app.get("/").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body, on_disk, "served body is the prerendered file");
}

#[tokio::test]
async fn status_page_is_server_rendered_with_its_data() {
    let app = spawn_app().await;
    let res = app.get("/status").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.body
            .contains(r#"data-testid="status-database">sqlite<"#),
        "{}",
        res.body
    );
    assert!(!res.body.contains("Loading…"), "rendered before sending");
}

#[tokio::test]
async fn unknown_paths_are_404() {
    let app = spawn_app().await;
    let res = app.get("/definitely/not/here").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("Page not found"));
}

#[tokio::test]
async fn every_kind_of_response_carries_the_security_headers() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/status",
        "/login",
        "/healthz",
        "/favicon.svg",
        "/nope",
        "/.well-known/jwks.json",
    ] {
        let res = app.get(path).await;
        for (name, value) in server::headers::HEADERS {
            assert_eq!(res.header(name), Some(*value), "{name} on {path}");
        }
        let csp = res.header("content-security-policy").unwrap();
        assert!(
            csp.contains("script-src '")
                && csp.contains(" 'strict-dynamic' 'wasm-unsafe-eval';")
                && !csp.contains("script-src 'self'")
                && csp.contains("frame-ancestors 'none'")
                && !csp.contains("unsafe-inline"),
            "{path}: {csp}"
        );
        assert!(
            res.header("strict-transport-security").is_none(),
            "plain HTTP: {path}"
        );
    }
}

#[tokio::test]
async fn ssr_pages_get_a_fresh_nonce_and_static_pages_their_script_hashes() {
    let app = spawn_app().await;
    let nonce_of = |csp: &str| {
        csp.split("'nonce-")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .map(str::to_owned)
    };
    let first = app.get("/login").await;
    let second = app.get("/login").await;
    let n1 = nonce_of(first.header("content-security-policy").unwrap()).unwrap();
    let n2 = nonce_of(second.header("content-security-policy").unwrap()).unwrap();
    assert_ne!(n1, n2, "a nonce is never reused");
    assert!(n1.len() >= 22, "at least 128 bits: {n1}");
    assert!(
        first.body.contains(&format!("nonce=\"{n1}\"")),
        "scripts carry it"
    );

    for path in ["/", "/about", "/guides", "/guides/token-model"] {
        let page = app.get(path).await;
        let csp = page.header("content-security-policy").unwrap();
        assert!(nonce_of(csp).is_none(), "{path}: {csp}");
        let hashes = server::csp::inline_script_hashes(&page.body);
        assert!(!hashes.is_empty(), "{path}");
        for hash in hashes {
            assert!(csp.contains(&hash), "{path}: {hash} missing from {csp}");
        }
    }
}

#[tokio::test]
async fn hsts_only_when_the_public_url_is_https() {
    let app = spawn_app_with(&[("PUBLIC_URL", "https://app.example")]).await;
    let res = app.get("/").await;
    assert_eq!(
        res.header("strict-transport-security"),
        Some("max-age=31536000; includeSubDomains")
    );
}

#[tokio::test]
async fn a_panic_in_a_handler_is_a_plain_500_and_the_server_lives_on() {
    use axum::{routing::get, Router};
    use tower::ServiceExt as _;
    let app = spawn_app().await;
    // The production layers around one route that panics.
    let router = server::routes::with_layers(
        Router::new().route(
            "/boom",
            get(|| async {
                panic!("secret internal detail");
                #[allow(unreachable_code)]
                "unreachable"
            }),
        ),
        app.state.clone(),
    );
    let res = router
        .clone()
        .oneshot(
            axum::http::Request::get("/boom")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), axum::http::StatusCode::INTERNAL_SERVER_ERROR);
    let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
    assert!(!String::from_utf8_lossy(&body).contains("secret"));
    assert_eq!(app.get("/healthz").await.status, axum::http::StatusCode::OK);
}
