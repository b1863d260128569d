//! Prerendered pages: written at start-up, served as files, no database.

use axum::http::StatusCode;

use crate::helpers::spawn_app;

const STATIC_PAGES: &[(&str, &str)] = &[
    ("/", "index.html"),
    ("/about", "about.html"),
    ("/guides", "guides.html"),
    (
        "/guides/protected-ssr-page",
        "guides/protected-ssr-page.html",
    ),
    ("/guides/token-model", "guides/token-model.html"),
    ("/guides/deployment", "guides/deployment.html"),
];

#[tokio::test]
async fn every_static_route_is_a_file_after_start_up() {
    let app = spawn_app().await;
    for (_, file) in STATIC_PAGES {
        let path = app.dir.path().join("site").join(file);
        assert!(path.is_file(), "{} was not prerendered", path.display());
    }
    for (slug, _) in app::guides::GUIDES {
        let path = app
            .dir
            .path()
            .join("site/guides")
            .join(format!("{slug}.html"));
        let html = std::fs::read_to_string(&path).unwrap();
        assert!(html.contains("All guides"), "{slug}");
    }
}

#[tokio::test]
async fn static_pages_are_served_with_the_database_gone_even_with_a_session_cookie() {
    let app = spawn_app().await;
    let mut browser = app.signed_up("nadia").await;
    app.state.db.close().await;
    for (path, file) in STATIC_PAGES {
        let res = app.visit(&mut browser, path).await;
        assert_eq!(res.status, StatusCode::OK, "{path}");
        let on_disk = std::fs::read_to_string(app.dir.path().join("site").join(file)).unwrap();
        assert_eq!(res.body, on_disk, "{path} is the file as written");
        assert!(
            res.header("set-cookie").is_none(),
            "{path}: no session work"
        );
    }
    // Pages that need the session fail cleanly instead.
    assert_eq!(
        app.visit(&mut browser, "/dashboard").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
}

#[tokio::test]
async fn an_unknown_guide_is_a_404() {
    let app = spawn_app().await;
    let res = app.get("/guides/no-such-guide").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(res.body.contains("Page not found"));
}

#[tokio::test]
async fn static_pages_come_from_memory_and_are_revalidated_with_an_etag() {
    use axum::{body::Body, http::Request};

    let app = spawn_app().await;
    let first = app.get("/about").await;
    assert_eq!(first.status, StatusCode::OK);
    assert_eq!(first.header("cache-control"), Some("no-cache"));
    let etag = first.header("etag").expect("an ETag").to_owned();

    // Served from memory: the file can go, the page stays.
    std::fs::remove_file(app.dir.path().join("site/about.html")).unwrap();
    let again = app.get("/about").await;
    assert_eq!(
        (again.status, again.body.as_str()),
        (StatusCode::OK, first.body.as_str())
    );

    // A browser holding the page revalidates for nothing.
    let req = Request::get("/about")
        .header("if-none-match", &etag)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::NOT_MODIFIED);
    assert!(res.body.is_empty());
    assert!(
        res.header("content-security-policy").is_some(),
        "still secured"
    );
    let req = Request::get("/about")
        .header("if-none-match", "\"something-else\"")
        .body(Body::empty())
        .unwrap();
    assert_eq!(app.send(req).await.status, StatusCode::OK);

    // Pages rendered per request are never stored.
    assert_eq!(
        app.get("/login").await.header("cache-control"),
        Some("no-store")
    );
}

/// A release built with `LEPTOS_HASH_FILES=true`: content-hashed bundle
/// files and the `hash.txt` that names them.
async fn spawn_hashed_app() -> crate::helpers::TestApp {
    crate::helpers::spawn_app_in(&[], |dir, config| {
        let pkg = dir.join("site/pkg");
        std::fs::create_dir_all(&pkg).unwrap();
        for (name, body) in [
            ("leptos-sessions.Js1.js", "export default function(){}"),
            ("leptos-sessions.Wasm2.wasm", "\0asm"),
            ("leptos-sessions.Css3.css", "body{}"),
            ("leptos-sessions.Css3.css.br", "brotli bytes"),
            ("leptos-sessions.css", "body{}"),
        ] {
            std::fs::write(pkg.join(name), body).unwrap();
        }
        let hashes = dir.join("hash.txt");
        std::fs::write(&hashes, "js: Js1\nwasm: Wasm2\ncss: Css3\n").unwrap();
        config.hash_file = hashes;
    })
    .await
}

#[tokio::test]
async fn content_hashed_bundle_files_are_linked_and_cached_for_good() {
    let app = spawn_hashed_app().await;
    for page in ["/", "/login"] {
        let html = app.get(page).await.body;
        for name in [
            "/pkg/leptos-sessions.Js1.js",
            "/pkg/leptos-sessions.Wasm2.wasm",
            "/pkg/leptos-sessions.Css3.css",
        ] {
            assert!(html.contains(name), "{page} does not link {name}");
        }
        assert!(!html.contains("/pkg/leptos-sessions.css"), "{page}");
    }
    let res = app.get("/pkg/leptos-sessions.Css3.css").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        res.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    // Its precompressed copy, served under the same name, too.
    let res = app
        .send(
            axum::http::Request::get("/pkg/leptos-sessions.Css3.css")
                .header("accept-encoding", "br")
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(res.header("content-encoding"), Some("br"));
    assert_eq!(
        res.header("cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    // An unhashed file may change under its name: not cached for good.
    let res = app.get("/pkg/leptos-sessions.css").await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("cache-control"), None);
    // Pages stay revalidated.
    assert_eq!(app.get("/").await.header("cache-control"), Some("no-cache"));
}

#[tokio::test]
async fn without_hashes_the_plain_names_are_linked_and_revalidated() {
    let app = spawn_app().await;
    let html = app.get("/login").await.body;
    assert!(html.contains("/pkg/leptos-sessions.css"), "{html}");
    assert!(html.contains("/pkg/leptos-sessions.wasm"));
    assert!(html.contains("/pkg/leptos-sessions.js"));
}
