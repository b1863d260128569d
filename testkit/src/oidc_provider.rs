//! A real OpenID provider for the tests: PyPI's `oidc-provider-mock`
//! (installed in `end2end/.venv` by the set-up), started on a free port.
//! It publishes discovery and keys, shows a login form that takes any
//! subject, and issues real signed ID tokens: nothing on the app's side is
//! mocked. Where it is not installed, [`OidcProvider::start`] returns
//! `None` (said on stderr), unless `REQUIRE_BACKENDS` names `oidc`.

use std::path::{Path, PathBuf};

/// A running `oidc-provider-mock`, stopped when dropped.
pub struct OidcProvider {
    child: std::process::Child,
    port: u16,
    token_secs: u32,
    http: reqwest::Client,
}

impl OidcProvider {
    fn bin() -> Option<PathBuf> {
        let bin =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../end2end/.venv/bin/oidc-provider-mock");
        if bin.exists() {
            return Some(bin);
        }
        let required = std::env::var("REQUIRE_BACKENDS").unwrap_or_default();
        assert!(
            !required.split(',').any(|r| r.trim() == "oidc"),
            "oidc is required (REQUIRE_BACKENDS) but oidc-provider-mock is not installed: \
             run `make setup`"
        );
        eprintln!("SKIPPED oidc: oidc-provider-mock is not installed (scripts/setup.sh --test)");
        None
    }

    /// Starts one whose tokens live `token_secs`, and waits for its
    /// discovery document.
    pub async fn start(token_secs: u32) -> Option<Self> {
        let bin = Self::bin()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let child = Self::spawn(&bin, port, token_secs);
        let provider = Self {
            child,
            port,
            token_secs,
            http,
        };
        provider.ready().await;
        Some(provider)
    }

    /// Stops it and starts a new one on the same port: the same issuer
    /// with new signing keys (as a provider that rotated them), and none of
    /// the old one's users.
    pub async fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let bin = Self::bin().expect("installed");
        self.child = Self::spawn(&bin, self.port, self.token_secs);
        self.ready().await;
    }

    fn spawn(bin: &Path, port: u16, token_secs: u32) -> std::process::Child {
        std::process::Command::new(bin)
            .args(["--port", &port.to_string()])
            .args(["--token-max-age", &token_secs.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("oidc-provider-mock starts")
    }

    async fn ready(&self) {
        let discovery = format!("{}/.well-known/openid-configuration", self.issuer());
        for _ in 0..200 {
            let answer = self.http.get(&discovery).send().await;
            if answer.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("oidc-provider-mock did not answer on port {}", self.port);
    }

    /// Its issuer (and base URL).
    #[must_use]
    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The app's settings for it as provider `mock`, with `client_id`.
    #[must_use]
    pub fn vars(&self, client_id: &str) -> Vec<(&'static str, String)> {
        vec![
            ("OIDC_PROVIDERS", "mock".into()),
            ("OIDC_MOCK_ISSUER", self.issuer()),
            ("OIDC_MOCK_CLIENT_ID", client_id.into()),
            ("OIDC_MOCK_CLIENT_SECRET", "test-secret".into()),
            ("OIDC_MOCK_NAME", "Mock ID".into()),
            ("OIDC_MOCK_TRUST_EMAIL", "true".into()),
        ]
    }

    /// Sets what it says of `sub`.
    pub async fn user(&self, sub: &str, claims: serde_json::Value) {
        let res = self
            .http
            .put(format!("{}/users/{sub}", self.issuer()))
            .json(&claims)
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success(), "{}", res.status());
    }

    /// Signs `sub` in on its form at `authorize` (the URL the app sent the
    /// browser to); returns the URL it sends the browser back to.
    pub async fn sign_in(&self, authorize: &str, sub: &str) -> String {
        self.answer(authorize, &format!("sub={sub}")).await
    }

    /// Presses "Deny" on its form instead.
    pub async fn deny(&self, authorize: &str) -> String {
        self.answer(authorize, "action=deny").await
    }

    async fn answer(&self, authorize: &str, form: &str) -> String {
        let res = self
            .http
            .post(authorize)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form.to_owned())
            .send()
            .await
            .unwrap();
        assert!(res.status().is_redirection(), "{}", res.status());
        res.headers()["location"].to_str().unwrap().to_owned()
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
