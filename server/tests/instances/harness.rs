//! Real server processes, a cuttable link to the database, and a client
//! that keeps cookies like a browser.

use std::{
    collections::HashMap,
    net::SocketAddr,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

use leptos::server_fn::ServerFn;
use reqwest::{header, StatusCode};
use tokio::{
    io::copy_bidirectional,
    net::{TcpListener, TcpStream},
    task::JoinHandle,
};

pub const PASSWORD: &str = "correct horse battery";

/// A storage server tests can reach, or `None` (the test is skipped unless
/// `REQUIRE_BACKENDS` names it).
pub fn service(name: &str, env: &str, default: &str) -> Option<String> {
    let url = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    let authority = url
        .split("://")
        .nth(1)?
        .rsplit('@')
        .next()?
        .split('/')
        .next()?;
    let up = std::net::TcpStream::connect_timeout(
        &authority.parse::<SocketAddr>().ok()?,
        Duration::from_secs(1),
    )
    .is_ok();
    if up {
        return Some(url);
    }
    let required = std::env::var("REQUIRE_BACKENDS").unwrap_or_default();
    assert!(
        !required.split(',').any(|r| r.trim() == name),
        "{name} is required (REQUIRE_BACKENDS) but not reachable at {url}"
    );
    eprintln!("SKIPPED {name}: not reachable at {url}");
    None
}

/// A fresh PostgreSQL database for one test; dropped by [`Database::drop_it`].
pub struct Database {
    pub admin: sqlx::PgPool,
    pub name: String,
}

impl Database {
    pub async fn create(admin_url: &str) -> Self {
        let admin = sqlx::PgPool::connect(admin_url).await.expect("postgres");
        let name = format!("ls_test_{}", uuid::Uuid::now_v7().simple());
        // The name is ours (a UUID), not input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&admin)
            .await
            .expect("create database");
        Self { admin, name }
    }

    pub async fn drop_it(self) {
        let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        )))
        .execute(&self.admin)
        .await;
    }
}

/// A TCP relay in front of a storage server. `cut()` drops every relayed
/// connection and refuses new ones — to the app, the server is gone —
/// until `restore()`. (Stopping the machine's real service would disturb
/// everything else using it; the app cannot tell the difference.)
pub struct Relay {
    pub port: u16,
    up: Arc<AtomicBool>,
    live: Arc<Mutex<Vec<JoinHandle<()>>>>,
    _accept: JoinHandle<()>,
}

impl Relay {
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let up = Arc::new(AtomicBool::new(true));
        let live: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
        let accept = tokio::spawn({
            let up = up.clone();
            let live = live.clone();
            async move {
                while let Ok((mut client, _)) = listener.accept().await {
                    if !up.load(Ordering::SeqCst) {
                        drop(client);
                        continue;
                    }
                    let task = tokio::spawn(async move {
                        if let Ok(mut server) = TcpStream::connect(target).await {
                            let _ = copy_bidirectional(&mut client, &mut server).await;
                        }
                    });
                    live.lock().unwrap().push(task);
                }
            }
        });
        Self {
            port,
            up,
            live,
            _accept: accept,
        }
    }

    pub fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        for task in self.live.lock().unwrap().drain(..) {
            task.abort();
        }
    }

    pub fn restore(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// Settings shared by the instances of one test.
pub struct Cluster {
    pub dir: tempfile::TempDir,
    pub env: Vec<(String, String)>,
}

impl Cluster {
    /// Shared keys and CSRF secret, as a real deployment shares them.
    pub fn new(env: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let keys = dir.path().join("keys");
        let mut all: Vec<(String, String)> = vec![
            ("APP_ENV".into(), "dev".into()),
            ("LEPTOS_OUTPUT_NAME".into(), "leptos-sessions".into()),
            ("JWT_KEYS_DIR".into(), keys.display().to_string()),
            (
                "CSRF_SECRET".into(),
                "cluster-test-secret-0123456789-abcdefghijklmnop".into(),
            ),
            ("RUST_LOG".into(), "warn".into()),
            ("DATABASE_ACQUIRE_TIMEOUT_MS".into(), "1000".into()),
            ("SESSION_STORE_TIMEOUT_MS".into(), "1000".into()),
            ("RATE_LIMIT_CREDENTIALS_PER_IP".into(), "1000/1m".into()),
            ("RATE_LIMIT_REFRESH_PER_IP".into(), "10000/1m".into()),
            ("RATE_LIMIT_PASSKEY_STARTS_PER_IP".into(), "10000/1m".into()),
        ];
        // Without a DATABASE_URL (Redis scenarios), accounts go in one
        // SQLite file that every instance opens.
        let db = format!("sqlite://{}", dir.path().join("accounts.db").display());
        all.push(("DATABASE_URL".into(), db));
        all.extend(env.iter().map(|(k, v)| ((*k).to_owned(), v.clone())));
        let cluster = Self { dir, env: all };
        let status = cluster.command().arg("generate-key").status().unwrap();
        assert!(status.success(), "generate-key");
        cluster
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_server"));
        cmd.current_dir(self.dir.path())
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        cmd
    }

    /// Starts an instance and waits until it is ready.
    pub async fn instance(&self, name: &str) -> Instance {
        self.instance_with(name, &[]).await
    }

    /// An instance with settings of its own on top of the cluster's (its
    /// own relay to the store, say).
    pub async fn instance_with(&self, name: &str, env: &[(&str, String)]) -> Instance {
        let port = free_port();
        let site = self.dir.path().join(format!("site-{name}"));
        std::fs::create_dir_all(&site).unwrap();
        let child = self
            .command()
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
            .env("LEPTOS_SITE_ROOT", site.display().to_string())
            .env("LEPTOS_RELOAD_PORT", (port + 1).to_string())
            .spawn()
            .unwrap();
        let instance = Instance {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        instance.wait_ready().await;
        instance
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One server process.
pub struct Instance {
    child: Child,
    pub base: String,
}

impl Instance {
    /// `/readyz`'s `revocations.state`: `starting`, `live` or `down`.
    pub async fn revocation_feed(&self) -> String {
        let body: serde_json::Value = reqwest::get(format!("{}/readyz", self.base))
            .await
            .expect("request")
            .json()
            .await
            .unwrap_or_default();
        body["revocations"]["state"]
            .as_str()
            .unwrap_or("unknown")
            .to_owned()
    }

    /// Waits until `/readyz` says the revocation feed is in `state`; how
    /// long that took.
    pub async fn feed_becomes(&self, state: &str, context: impl std::fmt::Debug) -> Duration {
        let started = Instant::now();
        while self.revocation_feed().await != state {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "{context:?}: the revocation feed never became {state}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        started.elapsed()
    }

    pub async fn wait_ready(&self) {
        let started = Instant::now();
        let client = reqwest::Client::new();
        loop {
            if let Ok(res) = client.get(format!("{}/readyz", self.base)).send().await {
                if res.status() == StatusCode::OK {
                    return;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "instance did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A browser: cookies kept per name, sent to whichever instance it talks to
/// (instances behind one load balancer share the site's cookies).
#[derive(Clone, Default)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
    /// Sent as `X-Forwarded-For` (the instances trust 127.0.0.1 when the
    /// scenario says so): a client address of the test's own.
    pub forwarded_for: Option<String>,
    client: reqwest::Client,
}

pub struct Reply {
    pub status: StatusCode,
    pub body: String,
    /// Where a redirect goes.
    pub location: Option<String>,
}

impl Browser {
    pub fn new() -> Self {
        Self {
            forwarded_for: None,
            cookies: HashMap::new(),
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .timeout(Duration::from_secs(10))
                .build()
                .unwrap(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn absorb(&mut self, res: &reqwest::Response) {
        for value in res.headers().get_all(header::SET_COOKIE) {
            let Ok(c) = cookie::Cookie::parse(value.to_str().unwrap_or_default().to_owned()) else {
                continue;
            };
            if c.value().is_empty() || c.max_age().is_some_and(|a| a.is_zero()) {
                self.cookies.remove(c.name());
            } else {
                self.cookies
                    .insert(c.name().to_owned(), c.value().to_owned());
            }
        }
    }

    async fn send(&mut self, req: reqwest::RequestBuilder) -> Reply {
        let req = match &self.forwarded_for {
            Some(client) => req.header("x-forwarded-for", client),
            None => req,
        };
        let res = req
            .header(header::COOKIE, self.cookie_header())
            .header("sec-fetch-site", "same-origin")
            .send()
            .await
            .expect("request");
        self.absorb(&res);
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        Reply {
            status,
            body: res.text().await.unwrap_or_default(),
            location,
        }
    }

    pub async fn get(&mut self, at: &Instance, path: &str) -> Reply {
        let req = self
            .client
            .get(format!("{}{path}", at.base))
            .header(header::ACCEPT, "text/html");
        self.send(req).await
    }

    fn csrf(&self) -> Option<String> {
        self.cookies.get(engine::cookie::CSRF_COOKIE).cloned()
    }

    /// Calls server function `F` the way the hydrated app does.
    pub async fn call<F: ServerFn>(&mut self, at: &Instance, fields: &[(&str, &str)]) -> Reply {
        if self.csrf().is_none() {
            self.get(at, app::csrf::TOKEN_PATH).await;
        }
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = self
            .client
            .post(format!("{}{}", at.base, F::PATH))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(header::ACCEPT, "application/json")
            .header("x-csrf-token", self.csrf().unwrap_or_default())
            .body(body);
        self.send(req).await
    }

    /// POSTs `body` as JSON to `path` on `at`, as the app's script does.
    pub async fn call_json(
        &mut self,
        at: &Instance,
        path: &str,
        body: &serde_json::Value,
    ) -> Reply {
        if self.csrf().is_none() {
            self.get(at, app::csrf::TOKEN_PATH).await;
        }
        let req = self
            .client
            .post(format!("{}{path}", at.base))
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header("x-csrf-token", self.csrf().unwrap_or_default())
            .body(body.to_string());
        self.send(req).await
    }

    /// `POST /api/auth/refresh`.
    pub async fn refresh(&mut self, at: &Instance) -> Reply {
        let req = self.refresh_request(at);
        self.send(req).await
    }

    /// `POST /api/auth/refresh` with `proof` in `DPoP`.
    pub async fn refresh_proving(&mut self, at: &Instance, proof: &str) -> Reply {
        let req = self.refresh_request(at).header("dpop", proof);
        self.send(req).await
    }

    fn refresh_request(&self, at: &Instance) -> reqwest::RequestBuilder {
        self.client
            .post(format!("{}/api/auth/refresh", at.base))
            .header("x-csrf-token", self.csrf().unwrap_or_default())
    }

    /// A fresh access token from `at` (a refresh), for [`Self::bearer`].
    pub async fn access_token(&mut self, at: &Instance) -> String {
        let res = self.refresh(at).await;
        assert_eq!(res.status, StatusCode::OK, "refresh: {}", res.body);
        let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// `GET /api/me` on `at` with `token` (no cookies): whether it is
    /// accepted.
    pub async fn bearer(&self, at: &Instance, token: &str) -> bool {
        let res = self
            .client
            .get(format!("{}/api/me", at.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("request");
        res.status() == StatusCode::OK
    }

    pub async fn signed_up(at: &Instance, name: &str) -> Self {
        let mut b = Self::new();
        let res = b
            .call::<app::server_fns::auth::SignUp>(
                at,
                &[("username", name), ("password", PASSWORD)],
            )
            .await;
        assert!(
            b.cookies.contains_key(engine::cookie::SESSION_COOKIE),
            "sign-up failed: {} {}",
            res.status,
            res.body
        );
        b
    }

    /// Whether `/dashboard` on `at` shows the signed-in page (not a 303).
    pub async fn is_signed_in(&mut self, at: &Instance) -> bool {
        self.get(at, "/dashboard").await.status == StatusCode::OK
    }
}
