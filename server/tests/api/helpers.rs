//! Spawns the real app on a fresh database and drives it through its router.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, Method, Request, StatusCode},
    Router,
};
use leptos::config::LeptosOptions;
use server::{AppState, Config};
use tower::ServiceExt as _;

/// A running app: its router, state and throw-away directory.
pub struct TestApp {
    pub router: Router,
    pub state: AppState,
    pub dir: tempfile::TempDir,
}

/// A response, fully read.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: axum::http::HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Builds the app with `vars` as its environment, on a fresh SQLite file,
/// with the static routes written into a fresh site root.
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let db_url = format!("sqlite://{}", dir.path().join("test.db").display());
    let mut env: HashMap<String, String> = HashMap::from([("DATABASE_URL".into(), db_url)]);
    for (k, v) in vars {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let site_root: PathBuf = dir.path().join("site");
    std::fs::create_dir_all(&site_root).expect("site root");
    let leptos = LeptosOptions::builder()
        .output_name("leptos-sessions")
        .site_root(site_root.display().to_string())
        .build();
    let config = Config::from_vars(&env, leptos).expect("config");
    let (state, static_routes) = AppState::build(config).await.expect("state");
    static_routes.generate(&state.leptos).await;
    let router = server::routes::router(state.clone());
    TestApp { router, state, dir }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
    /// Sends a request as a client at 127.0.0.1.
    pub async fn send(&self, mut req: Request<Body>) -> TestResponse {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        let res = self
            .router
            .clone()
            .oneshot(req)
            .await
            .expect("router is infallible");
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = axum::body::to_bytes(res.into_body(), 4 * 1024 * 1024)
            .await
            .expect("body");
        TestResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&bytes).into_owned(),
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(
            Request::builder()
                .method(Method::GET)
                .uri(path)
                .header(header::ACCEPT, "text/html")
                .body(Body::empty())
                .expect("request"),
        )
        .await
    }
}
