//! Spawns the real app on a fresh database and drives it through its router.

use std::{collections::HashMap, net::SocketAddr, path::PathBuf, sync::Arc};

use axum::{
    body::Body,
    extract::ConnectInfo,
    http::{header, Method, Request, StatusCode},
    Router,
};
use engine::ManualClock;
use leptos::{config::LeptosOptions, server_fn::ServerFn};
use server::{AppState, Config};
use tower::ServiceExt as _;

/// A running app: its router, state and throw-away directory.
pub struct TestApp {
    /// Held for the app's lifetime: see [`spawn_app_with`].
    _serial: std::sync::MutexGuard<'static, ()>,
    pub router: Router,
    pub state: AppState,
    pub clock: ManualClock,
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

    /// Every value of header `name`, such as each `Set-Cookie`.
    pub fn headers_all(&self, name: &str) -> Vec<&str> {
        let values = self.headers.get_all(name).iter();
        values.filter_map(|v| v.to_str().ok()).collect()
    }
}

/// Builds the app with `vars` as its environment, on a fresh SQLite file,
/// with the static routes written into a fresh site root.
///
/// Test apps run one at a time: Leptos keeps process-wide rendering state
/// (its executor and static-route registry), and two apps rendering on two
/// test runtimes in one process can stall each other. A server process runs
/// one app, so this only concerns tests; the suite still takes seconds.
pub async fn spawn_app_with(vars: &[(&str, &str)]) -> TestApp {
    spawn_app_in(vars, |_, _| {}).await
}

/// As [`spawn_app_with`], letting `setup` prepare the site root (before the
/// static routes are written) and adjust the configuration.
pub async fn spawn_app_in(
    vars: &[(&str, &str)],
    setup: impl FnOnce(&std::path::Path, &mut Config),
) -> TestApp {
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let serial = SERIAL
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let dir = tempfile::tempdir().expect("tempdir");
    let db_url = format!("sqlite://{}", dir.path().join("test.db").display());
    let keys_dir = dir.path().join("keys").display().to_string();
    let mut env: HashMap<String, String> = HashMap::from([
        ("DATABASE_URL".into(), db_url),
        ("JWT_KEYS_DIR".into(), keys_dir),
        // Every test client is 127.0.0.1: only the rate-limit tests want
        // limits they can reach.
        ("RATE_LIMIT_CREDENTIALS_PER_IP".into(), "10000/1m".into()),
        (
            "RATE_LIMIT_CREDENTIALS_PER_ACCOUNT".into(),
            "10000/1m".into(),
        ),
        ("RATE_LIMIT_REFRESH_PER_IP".into(), "10000/1m".into()),
        ("RATE_LIMIT_PASSKEY_STARTS_PER_IP".into(), "10000/1m".into()),
    ]);
    for (k, v) in vars {
        env.insert((*k).to_owned(), (*v).to_owned());
    }
    let site_root: PathBuf = dir.path().join("site");
    std::fs::create_dir_all(&site_root).expect("site root");
    let leptos = LeptosOptions::builder()
        .output_name("leptos-sessions")
        .site_root(site_root.display().to_string())
        .build();
    let mut config = Config::from_vars(&env, leptos).expect("config");
    setup(dir.path(), &mut config);
    let clock = ManualClock::new();
    let (state, static_routes) = AppState::build_with_clock(config, Arc::new(clock.clone()))
        .await
        .expect("state");
    static_routes.generate(&state.leptos).await;
    // As `serve` does: follow the revocation feed, live before the first
    // request.
    let follower = state.auth.clone();
    tokio::spawn(async move { follower.follow_revocations().await });
    while state.auth.revocation_feed().1 != engine::revocation::FeedState::Live {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let router = server::routes::router(state.clone());
    TestApp {
        _serial: serial,
        router,
        state,
        clock,
        dir,
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(&[]).await
}

impl TestApp {
    /// Sends a request as a client at 127.0.0.1, to `Host: localhost`
    /// unless the request names another (every HTTP/1.1 request has one).
    pub async fn send(&self, mut req: Request<Body>) -> TestResponse {
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40000))));
        if !req.headers().contains_key(header::HOST) {
            req.headers_mut()
                .insert(header::HOST, header::HeaderValue::from_static("localhost"));
        }
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

/// How a form is submitted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Submit {
    /// A hydrated page: the server function is called with `fetch`.
    Js,
    /// A plain HTML form post (no JavaScript).
    Html,
}

/// A client that keeps cookies, like a browser profile.
#[derive(Default, Clone)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
}

impl Browser {
    pub fn new() -> Self {
        Self::default()
    }

    fn cookie_header(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    /// Applies the response's `Set-Cookie` headers.
    pub fn absorb(&mut self, res: &TestResponse) {
        for value in res.headers.get_all(header::SET_COOKIE) {
            let Ok(value) = value.to_str() else { continue };
            let Ok(c) = cookie::Cookie::parse(value.to_owned()) else {
                continue;
            };
            let expired = c
                .max_age()
                .is_some_and(|age| age.is_zero() || age.is_negative());
            if expired || c.value().is_empty() {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    pub fn session(&self) -> Option<&String> {
        self.cookies.get(engine::cookie::SESSION_COOKIE)
    }

    /// The CSRF cookie, which the page's script (or hidden field) echoes.
    pub fn csrf(&self) -> Option<&String> {
        self.cookies.get(engine::cookie::CSRF_COOKIE)
    }

    /// A `Cookie` header with everything in the jar.
    pub fn cookie_header_value(&self) -> Option<String> {
        self.cookie_header()
    }
}

impl TestApp {
    /// GET as `browser`, keeping cookies.
    pub async fn visit(&self, browser: &mut Browser, path: &str) -> TestResponse {
        let mut req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::ACCEPT, "text/html");
        if let Some(cookies) = browser.cookie_header() {
            req = req.header(header::COOKIE, cookies);
        }
        let res = self.send(req.body(Body::empty()).expect("request")).await;
        browser.absorb(&res);
        res
    }

    /// Calls server function `F` with form fields, as `browser` on one of
    /// this site's pages would: same-origin, with the CSRF token (as a
    /// header from script, or as the hidden form field). A browser without
    /// a CSRF cookie first loads the sign-in page, as a person would.
    pub async fn call<F: ServerFn>(
        &self,
        browser: &mut Browser,
        fields: &[(&str, &str)],
        how: Submit,
    ) -> TestResponse {
        if browser.csrf().is_none() {
            self.visit(browser, "/login").await;
        }
        let token = browser.csrf().cloned().unwrap_or_default();
        let mut fields = fields.to_vec();
        if how == Submit::Html {
            fields.push(("csrf_token", &token));
        }
        self.call_raw::<F>(
            browser,
            &fields,
            how,
            &[("sec-fetch-site", "same-origin")],
            Some(&token),
        )
        .await
    }

    /// Calls server function `F` exactly as told: the caller picks the
    /// extra headers and whether the script's CSRF header is sent.
    pub async fn call_raw<F: ServerFn>(
        &self,
        browser: &mut Browser,
        fields: &[(&str, &str)],
        how: Submit,
        extra: &[(&str, &str)],
        csrf_header: Option<&str>,
    ) -> TestResponse {
        let body = fields
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    percent_encoding::utf8_percent_encode(k, percent_encoding::NON_ALPHANUMERIC),
                    percent_encoding::utf8_percent_encode(v, percent_encoding::NON_ALPHANUMERIC)
                )
            })
            .collect::<Vec<_>>()
            .join("&");
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(F::PATH)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        req = match how {
            Submit::Js => {
                let req = req.header(header::ACCEPT, "application/json");
                match csrf_header {
                    Some(token) => req.header("x-csrf-token", token),
                    None => req,
                }
            }
            Submit::Html => req
                .header(header::ACCEPT, "text/html")
                .header(header::REFERER, "http://localhost/form"),
        };
        for (name, value) in extra {
            req = req.header(*name, *value);
        }
        if let Some(cookies) = browser.cookie_header() {
            req = req.header(header::COOKIE, cookies);
        }
        let res = self
            .send(req.body(Body::from(body)).expect("request"))
            .await;
        browser.absorb(&res);
        res
    }

    /// POSTs `body` as JSON to `path` as `browser`'s script would (same
    /// origin, the CSRF header), keeping cookies.
    pub async fn call_json(
        &self,
        browser: &mut Browser,
        path: &str,
        body: &serde_json::Value,
    ) -> TestResponse {
        self.call_json_text(browser, path, &body.to_string()).await
    }

    /// As [`TestApp::call_json`], with the body exactly as given (JSON or
    /// not).
    pub async fn call_json_text(
        &self,
        browser: &mut Browser,
        path: &str,
        body: &str,
    ) -> TestResponse {
        if browser.csrf().is_none() {
            self.visit(browser, "/login").await;
        }
        let mut req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header("sec-fetch-site", "same-origin")
            .header("x-csrf-token", browser.csrf().cloned().unwrap_or_default());
        if let Some(cookies) = browser.cookie_header() {
            req = req.header(header::COOKIE, cookies);
        }
        let res = self
            .send(req.body(Body::from(body.to_owned())).expect("request"))
            .await;
        browser.absorb(&res);
        res
    }

    /// Signs `name` in with `password` from `browser`, as its script would.
    pub async fn sign_in(&self, browser: &mut Browser, name: &str, password: &str) -> TestResponse {
        let fields = [("username", name), ("password", password)];
        self.call::<app::server_fns::auth::SignIn>(browser, &fields, Submit::Js)
            .await
    }

    /// Confirms the test password in `browser`'s session (a proof made
    /// within the session, as adding a credential needs).
    pub async fn confirm(&self, browser: &mut Browser) {
        let res = self
            .call::<app::server_fns::security::ConfirmPassword>(
                browser,
                &[("password", PASSWORD)],
                Submit::Js,
            )
            .await;
        assert!(res.status.is_success(), "{} {}", res.status, res.body);
    }

    /// Signs up `name` in a fresh browser.
    pub async fn signed_up(&self, name: &str) -> Browser {
        self.fresh_browser_through::<app::server_fns::auth::SignUp>(name)
            .await
    }

    /// Signs `name` in from a fresh browser.
    pub async fn signed_in(&self, name: &str) -> Browser {
        self.fresh_browser_through::<app::server_fns::auth::SignIn>(name)
            .await
    }

    async fn fresh_browser_through<F: ServerFn>(&self, name: &str) -> Browser {
        let mut browser = Browser::new();
        let res = self
            .call::<F>(
                &mut browser,
                &[("username", name), ("password", PASSWORD)],
                Submit::Js,
            )
            .await;
        assert!(
            browser.session().is_some(),
            "no session cookie: {}",
            res.body
        );
        browser
    }

    /// The test database (always SQLite here).
    pub fn sqlite(&self) -> &sqlx::SqlitePool {
        match self
            .state
            .db
            .downcast::<engine::store::sqlite::SqliteDatabase>()
        {
            Some(db) => &db.0,
            None => panic!("test apps run on SQLite, not {}", self.state.db.backend()),
        }
    }

    /// Number of rows in `sessions`.
    pub async fn session_rows(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(self.sqlite())
            .await
            .expect("count")
    }
}

/// The password every test account uses.
pub const PASSWORD: &str = "correct horse battery";
