//! Refresh rotation and the stateless token APIs over HTTP.

use app::server_fns::auth::Logout;
use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use time::Duration;

use crate::helpers::{spawn_app, Browser, Submit, TestApp, TestResponse};

use testkit::dpop_key::DpopKey;

/// The refresh endpoint as the test client names it (`Host: localhost`).
const HTU: &str = "http://localhost/api/auth/refresh";

const REFRESH: &str = engine::cookie::REFRESH_COOKIE;

impl TestApp {
    /// `POST /api/auth/refresh` with the browser's refresh cookie (the
    /// browser sends it there: its path is `/api/auth`).
    pub async fn refresh(&self, browser: &mut Browser) -> TestResponse {
        self.refresh_as(browser, "test-browser").await
    }

    /// As [`TestApp::refresh`], from a browser that says it is `user_agent`.
    pub async fn refresh_as(&self, browser: &mut Browser, user_agent: &str) -> TestResponse {
        self.refresh_with(browser, &[(header::USER_AGENT.as_str(), user_agent)])
            .await
    }

    /// A refresh as the browser app sends it: same-origin, all cookies (the
    /// refresh cookie's path is `/api/auth`), the CSRF header, and `extra`.
    async fn refresh_with(&self, browser: &mut Browser, extra: &[(&str, &str)]) -> TestResponse {
        let mut req = Request::builder()
            .method(Method::POST)
            .uri("/api/auth/refresh")
            .header("sec-fetch-site", "same-origin");
        for (name, value) in extra {
            req = req.header(*name, *value);
        }
        if let Some(cookies) = browser.cookie_header_value() {
            req = req.header(header::COOKIE, cookies);
        }
        if let Some(token) = browser.csrf() {
            req = req.header("x-csrf-token", token.as_str());
        }
        let res = self.send(req.body(Body::empty()).unwrap()).await;
        browser.absorb(&res);
        res
    }

    pub async fn api(&self, path: &str, bearer: Option<&str>) -> TestResponse {
        let mut req = Request::builder().method(Method::GET).uri(path);
        if let Some(token) = bearer {
            req = req.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }
}

pub(crate) fn access_token(res: &TestResponse) -> String {
    let body: serde_json::Value = serde_json::from_str(&res.body).expect("JSON");
    body["access_token"]
        .as_str()
        .expect("access_token")
        .to_owned()
}

#[tokio::test]
async fn sign_in_sets_a_narrow_refresh_cookie() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let res = app
        .call::<app::server_fns::auth::SignUp>(
            &mut b,
            &[("username", "ann"), ("password", crate::helpers::PASSWORD)],
            Submit::Js,
        )
        .await;
    let refresh = res
        .headers
        .get_all(header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with(REFRESH))
        .expect("refresh cookie")
        .to_owned();
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth"] {
        assert!(refresh.contains(attr), "{attr} missing in {refresh}");
    }
}

#[tokio::test]
async fn refresh_rotates_and_returns_a_verifiable_jwt() {
    let app = spawn_app().await;
    let mut b = app.signed_up("ben").await;
    let first = b.cookies[REFRESH].clone();
    let res = app.refresh(&mut b).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_ne!(b.cookies[REFRESH], first, "rotated");
    let token = access_token(&res);

    let me = app.api("/api/me", Some(&token)).await;
    assert_eq!(me.status, StatusCode::OK);
    assert_eq!(me.header("cache-control"), Some("no-store"));
    let me: serde_json::Value = serde_json::from_str(&me.body).unwrap();
    assert_eq!(me["user"]["name"], "ben");

    let v = app.api("/api/validate-session", Some(&token)).await;
    assert_eq!(v.status, StatusCode::OK);
    assert_eq!(v.header("cache-control"), Some("no-store"));
    let v: serde_json::Value = serde_json::from_str(&v.body).unwrap();
    assert_eq!(v["valid"], true);
    assert_eq!(v["claims"]["client_id"], "web", "RFC 9068");

    let jwks = app.api("/.well-known/jwks.json", None).await;
    let jwks: serde_json::Value = serde_json::from_str(&jwks.body).unwrap();
    assert_eq!(jwks["keys"][0]["crv"], "Ed25519");
    assert!(jwks["keys"][0].get("d").is_none(), "no private part");
}

#[tokio::test]
async fn the_stateless_apis_never_touch_the_database() {
    let app = spawn_app().await;
    let mut b = app.signed_up("cleo").await;
    let token = access_token(&app.refresh(&mut b).await);
    app.state.db.close().await;
    assert_eq!(
        app.api("/api/me", Some(&token)).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.api("/api/validate-session", Some(&token)).await.status,
        StatusCode::OK
    );
    // Static pages neither.
    assert_eq!(app.get("/").await.status, StatusCode::OK);
    // While anything needing the database fails cleanly.
    assert_eq!(
        app.get("/readyz").await.status,
        StatusCode::SERVICE_UNAVAILABLE
    );
    let res = app.refresh(&mut b).await;
    assert_eq!(res.status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(!res.body.to_lowercase().contains("sqlx") && !res.body.contains("pool"));
}

#[tokio::test]
async fn bad_bearer_tokens_get_401_with_www_authenticate() {
    let app = spawn_app().await;
    for bearer in [
        None,
        Some(""),
        Some("garbage"),
        Some("a.b.c"),
        Some(&"x".repeat(5000) as &str),
    ] {
        let res = app.api("/api/me", bearer).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{bearer:?}");
        assert!(res
            .header("www-authenticate")
            .unwrap()
            .starts_with("Bearer"));
    }
}

#[tokio::test]
async fn reuse_after_the_grace_window_revokes_the_session_and_ssr_signs_out() {
    let app = spawn_app().await;
    let mut b = app.signed_up("dan").await;
    let stolen = b.clone();
    assert_eq!(app.refresh(&mut b).await.status, StatusCode::OK);

    app.clock.advance(Duration::seconds(31));
    let mut attacker = stolen;
    assert_eq!(
        app.refresh_as(&mut attacker, "attacker-agent/1.0")
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );
    // The whole session is gone: for the legitimate browser too.
    assert_eq!(app.refresh(&mut b).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.visit(&mut b, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    let reuse: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM auth_events WHERE kind = 'refresh_reuse'")
            .fetch_one(app.sqlite())
            .await
            .unwrap();
    assert_eq!(reuse, 1);
    // The event says where the replay came from.
    let (ip, agent): (Option<String>, Option<String>) = sqlx::query_as(
        "SELECT ip_address, user_agent FROM auth_events WHERE kind = 'refresh_reuse'",
    )
    .fetch_one(app.sqlite())
    .await
    .unwrap();
    assert_eq!(ip.as_deref(), Some("127.0.0.1"));
    assert!(agent.is_some_and(|a| a.contains("attacker-agent")));
}

#[tokio::test]
async fn ten_concurrent_refreshes_within_the_window_all_succeed() {
    let app = spawn_app().await;
    let b = app.signed_up("eve").await;
    let results = futures_join(&app, &b, 10).await;
    assert!(results.iter().all(|s| *s == StatusCode::OK), "{results:?}");
    let mut b = b;
    assert_eq!(
        app.visit(&mut b, "/dashboard").await.status,
        StatusCode::OK,
        "session intact"
    );
}

async fn futures_join(app: &TestApp, b: &Browser, n: usize) -> Vec<StatusCode> {
    futures::future::join_all((0..n).map(|_| {
        let mut browser = b.clone();
        async move { app.refresh(&mut browser).await.status }
    }))
    .await
}

#[tokio::test]
async fn refresh_after_logout_is_401_and_clears_the_cookie() {
    let app = spawn_app().await;
    let mut b = app.signed_up("fred").await;
    let kept = b.clone();
    app.call::<Logout>(&mut b, &[], Submit::Js).await;
    assert!(
        !b.cookies.contains_key(REFRESH),
        "logout clears the refresh cookie"
    );
    let mut replay = kept;
    let res = app.refresh(&mut replay).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(!replay.cookies.contains_key(REFRESH));
}

#[tokio::test]
async fn refresh_without_a_cookie_is_204_and_with_a_bad_one_401() {
    let app = spawn_app().await;
    let mut anon = Browser::new();
    let res = app.refresh(&mut anon).await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "no CSRF cookie, no token"
    );
    app.visit(&mut anon, "/login").await;
    let res = app.refresh(&mut anon).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    anon.cookies.insert(REFRESH.into(), "forged".into());
    let res = app.refresh(&mut anon).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.header("set-cookie").unwrap().contains("Max-Age=0"));
}

/// A refresh cookie copied out of the browser is useless on its own, and
/// beside another session's cookie: refused, rotating nothing, so the real
/// browser keeps refreshing (and is not signed out as a replay).
#[tokio::test]
async fn a_copied_refresh_cookie_without_its_session_cookie_is_refused() {
    let app = spawn_app().await;
    let mut owner = app.signed_up("gia").await;
    let mut stranger = app.signed_up("hal").await;
    let stolen = owner.cookies[REFRESH].clone();

    let mut alone = Browser::new();
    app.visit(&mut alone, "/login").await; // its own CSRF cookie
    alone.cookies.insert(REFRESH.into(), stolen.clone());
    let res = app.refresh(&mut alone).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);

    stranger.cookies.insert(REFRESH.into(), stolen);
    let res = app.refresh(&mut stranger).await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "beside another session's cookie"
    );

    for _ in 0..2 {
        let res = app.refresh(&mut owner).await;
        assert_eq!(res.status, StatusCode::OK, "the real browser: {}", res.body);
    }
    assert_eq!(
        app.visit(&mut owner, "/dashboard").await.status,
        StatusCode::OK
    );
}

/// A browser left with only its refresh cookie (the session cookie gone)
/// still ends its session when it signs out.
#[tokio::test]
async fn logout_with_only_the_refresh_cookie_revokes_the_session() {
    let app = spawn_app().await;
    let mut b = app.signed_up("ivy").await;
    let kept = b.clone();
    b.cookies.remove(engine::cookie::SESSION_COOKIE);
    // The page it signs out from gave it a CSRF token for no session.
    app.visit(&mut b, "/login").await;
    let res = app.call::<Logout>(&mut b, &[], Submit::Js).await;
    assert!(
        !b.cookies.contains_key(REFRESH),
        "cleared: {} {}",
        res.status,
        res.body
    );
    let mut before = kept;
    assert_ne!(
        app.visit(&mut before, "/dashboard").await.status,
        StatusCode::OK,
        "the session is over, on the server"
    );
}

impl TestApp {
    /// A refresh as the browser app makes it, with `proof` in `DPoP` (the
    /// proofs name `Host: localhost`).
    pub(crate) async fn refresh_proving(
        &self,
        browser: &mut Browser,
        proof: Option<&str>,
    ) -> TestResponse {
        let mut extra = vec![(header::HOST.as_str(), "localhost")];
        extra.extend(proof.map(|proof| ("dpop", proof)));
        self.refresh_with(browser, &extra).await
    }
}

/// The first refresh with a proof binds the session to its key: copied
/// cookies then refresh with no proof, or with another key, are refused
/// (and end nothing), while the real browser keeps refreshing. Its access
/// tokens carry the key's thumbprint.
#[tokio::test]
async fn copied_cookies_cannot_refresh_without_the_browsers_key() {
    let app = spawn_app().await;
    let mut owner = app.signed_up("jan").await;
    let key = DpopKey::new();
    let res = app.refresh_proving(&mut owner, Some(&key.proof(HTU))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let token = access_token(&res);
    let proof = key.proof_for_token("http://localhost/api/validate-session", &token);
    let req = axum::http::Request::builder()
        .uri("/api/validate-session")
        .header(header::AUTHORIZATION, format!("DPoP {token}"))
        .header("dpop", proof)
        .body(axum::body::Body::empty())
        .unwrap();
    let claims = app.send(req).await;
    let claims: serde_json::Value = serde_json::from_str(&claims.body).unwrap();
    let jkt = claims["claims"]["cnf"]["jkt"].as_str().expect("cnf.jkt");
    assert_eq!(jkt.len(), 43);

    let mut thief = owner.clone();
    let res = app.refresh_proving(&mut thief, None).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "no proof");
    assert!(res
        .header("www-authenticate")
        .unwrap()
        .contains("invalid_dpop_proof"));
    let other = DpopKey::new().proof(HTU);
    let res = app.refresh_proving(&mut thief, Some(&other)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "another key");

    for _ in 0..2 {
        let res = app.refresh_proving(&mut owner, Some(&key.proof(HTU))).await;
        assert_eq!(res.status, StatusCode::OK, "the real browser: {}", res.body);
    }
    assert_eq!(
        app.visit(&mut owner, "/dashboard").await.status,
        StatusCode::OK
    );
}

/// A proof is good once, and only near the time it was made.
#[tokio::test]
async fn a_replayed_or_stale_proof_is_refused() {
    let app = spawn_app().await;
    let mut b = app.signed_up("kai").await;
    let key = DpopKey::new();
    let proof = key.proof(HTU);
    assert_eq!(
        app.refresh_proving(&mut b, Some(&proof)).await.status,
        StatusCode::OK
    );
    let res = app.refresh_proving(&mut b, Some(&proof)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "replayed");
    let stale = key.proof_at(HTU, -120);
    let res = app.refresh_proving(&mut b, Some(&stale)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "two minutes old");
    let res = app.refresh_proving(&mut b, Some(&key.proof(HTU))).await;
    assert_eq!(res.status, StatusCode::OK, "a fresh one: {}", res.body);
}
