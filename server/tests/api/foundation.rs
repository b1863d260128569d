//! The first slice: probes, a prerendered page and an SSR page.

use axum::http::StatusCode;

use crate::helpers::spawn_app;

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
    assert_eq!(res.body, r#"{"status":"ready"}"#);

    // With the pool closed, the same probe must report unavailability.
    app.state.db.close().await;
    let res = app.get("/readyz").await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!res.body.to_lowercase().contains("sqlx"), "{}", res.body);
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
    }
}
