//! Passkeys over HTTP: the four ceremony endpoints under `/api/passkeys`
//! (and the confirmation's), driven by a software authenticator as a
//! browser would drive them, through the real router with CSRF, cookies
//! and rate limits.

use axum::http::StatusCode;
use serde_json::{json, Value};
use testkit::authenticator::Authenticator;

use crate::helpers::{spawn_app, spawn_app_with, Browser, TestApp, TestResponse};

pub(crate) const ORIGIN: &str = "http://localhost:3000";

pub(crate) fn body(res: &TestResponse) -> Value {
    serde_json::from_str(&res.body).unwrap_or_else(|_| panic!("JSON: {}", res.body))
}

impl TestApp {
    /// `…/start` then `…/finish` of `ceremony`, with what the
    /// authenticator makes of the options.
    pub(crate) async fn ceremony(
        &self,
        browser: &mut Browser,
        ceremony: &str,
        start: Value,
        respond: impl FnOnce(&Value) -> Value,
        finish: impl FnOnce(Value) -> Value,
    ) -> TestResponse {
        let started = self
            .call_json(browser, &format!("/api/passkeys/{ceremony}/start"), &start)
            .await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.body);
        assert_eq!(started.header("cache-control"), Some("no-store"));
        // Only this browser's requests to the ceremony endpoints carry it,
        // for the ceremony's five minutes.
        let cookie = started
            .headers_all("set-cookie")
            .into_iter()
            .find(|c| c.starts_with("__Secure-passkey="))
            .expect("a ceremony cookie");
        for attribute in [
            "HttpOnly",
            "SameSite=Strict",
            "Secure",
            "Path=/api/passkeys",
            "Max-Age=300",
        ] {
            assert!(cookie.contains(attribute), "{attribute} in {cookie}");
        }
        let credential = respond(&body(&started));
        self.call_json(
            browser,
            &format!("/api/passkeys/{ceremony}/finish"),
            &finish(credential),
        )
        .await
    }

    pub(crate) async fn passkey_sign_up(&self, name: &str) -> (Browser, Authenticator) {
        let mut browser = Browser::new();
        let mut key = Authenticator::new();
        let res = self
            .ceremony(
                &mut browser,
                "signup",
                json!({"username": name}),
                |options| key.register(options, ORIGIN),
                |credential| json!({"credential": credential, "name": "Test key"}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        assert_eq!(body(&res), json!({"next": "/dashboard"}));
        assert!(browser.session().is_some());
        (browser, key)
    }

    pub(crate) async fn passkey_sign_in(
        &self,
        browser: &mut Browser,
        key: &mut Authenticator,
    ) -> TestResponse {
        self.ceremony(
            browser,
            "login",
            json!({}),
            |options| key.assert(options, ORIGIN),
            |credential| json!({"credential": credential, "remember": true, "next": "/account/sessions"}),
        )
        .await
    }
}

#[tokio::test]
async fn a_passkey_account_signs_up_then_in_with_no_password() {
    let app = spawn_app().await;
    let (mut first, mut key) = app.passkey_sign_up("pia").await;
    assert_eq!(
        app.visit(&mut first, "/dashboard").await.status,
        StatusCode::OK
    );

    let mut other = Browser::new();
    let res = app.passkey_sign_in(&mut other, &mut key).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(body(&res), json!({"next": "/account/sessions"}));
    let cookies = res.headers_all("set-cookie").join("\n");
    assert!(cookies.contains("__Host-session="), "{cookies}");
    assert!(
        cookies.contains("__Secure-refresh="),
        "a refresh cookie too"
    );
    assert!(
        cookies.contains("__Secure-passkey=;") || cookies.contains("__Secure-passkey=\"\""),
        "the ceremony cookie is cleared: {cookies}"
    );
    assert_ne!(other.session(), first.session(), "a session of its own");
    let page = app.visit(&mut other, "/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains("Signed in with a passkey"),
        "the event is listed"
    );
}

#[tokio::test]
async fn a_replayed_or_foreign_or_late_assertion_is_refused() {
    let app = spawn_app().await;
    let (_, mut key) = app.passkey_sign_up("rex").await;

    // Replayed: the same response with the same ceremony cookie.
    let mut browser = Browser::new();
    let started = app
        .call_json(&mut browser, "/api/passkeys/login/start", &json!({}))
        .await;
    let ceremony = browser.cookies.clone();
    let credential = json!({"credential": key.assert(&body(&started), ORIGIN)});
    let res = app
        .call_json(&mut browser, "/api/passkeys/login/finish", &credential)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let mut replayer = Browser { cookies: ceremony };
    let res = app
        .call_json(&mut replayer, "/api/passkeys/login/finish", &credential)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        body(&res),
        json!("PasskeyFailed"),
        "one outcome, nothing internal"
    );
    assert!(replayer.session().is_none());

    // From another origin.
    let mut browser = Browser::new();
    let res = app
        .ceremony(
            &mut browser,
            "login",
            json!({}),
            |options| key.assert(options, "https://evil.example"),
            |credential| json!({"credential": credential}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // After the ceremony's five minutes.
    let mut browser = Browser::new();
    let started = app
        .call_json(&mut browser, "/api/passkeys/login/start", &json!({}))
        .await;
    app.clock.advance(engine::passkey::CEREMONY_TTL);
    let credential = json!({"credential": key.assert(&body(&started), ORIGIN)});
    let res = app
        .call_json(&mut browser, "/api/passkeys/login/finish", &credential)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // Without the browser's ceremony cookie, or with junk.
    let mut stranger = Browser::new();
    let res = app
        .call_json(&mut stranger, "/api/passkeys/login/finish", &credential)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let started = app
        .call_json(&mut stranger, "/api/passkeys/login/start", &json!({}))
        .await;
    assert_eq!(started.status, StatusCode::OK);
    let res = app
        .call_json(
            &mut stranger,
            "/api/passkeys/login/finish",
            &json!({"credential": {"id": 1}}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(stranger.session().is_none());
}

#[tokio::test]
async fn the_ceremonies_are_refused_without_the_csrf_token() {
    let app = spawn_app().await;
    let mut browser = Browser::new();
    app.visit(&mut browser, "/login").await;
    browser.cookies.remove(engine::cookie::CSRF_COOKIE);
    browser
        .cookies
        .insert(engine::cookie::CSRF_COOKIE.to_owned(), "forged".to_owned());
    let res = app
        .call_json(&mut browser, "/api/passkeys/login/start", &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
}

#[tokio::test]
async fn a_password_account_adds_a_passkey_with_201_after_a_confirmation() {
    let app = spawn_app().await;
    let mut browser = app.signed_up("max").await;
    // A fresh sign-in is not enough to add a credential.
    let res = app
        .call_json(&mut browser, "/api/passkeys/register/start", &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(body(&res), json!("ReauthRequired"));
    app.confirm(&mut browser).await;
    let mut key = Authenticator::new();
    let res = app
        .ceremony(
            &mut browser,
            "register",
            json!({}),
            |options| {
                assert_eq!(
                    options["publicKey"]["authenticatorSelection"]["userVerification"],
                    "required"
                );
                key.register(options, ORIGIN)
            },
            |credential| json!({"credential": credential, "name": "Phone"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(body(&res)["name"], "Phone");

    let mut other = Browser::new();
    let res = app.passkey_sign_in(&mut other, &mut key).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);

    // Past the re-authentication window, adding another needs a
    // confirmation first: with the passkey itself.
    app.clock.advance(time::Duration::minutes(11));
    let res = app
        .call_json(&mut browser, "/api/passkeys/register/start", &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(body(&res), json!("ReauthRequired"));
    let res = app
        .ceremony(
            &mut browser,
            "confirm",
            json!({}),
            |options| key.assert(options, ORIGIN),
            |credential| json!({"credential": credential}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let res = app
        .call_json(&mut browser, "/api/passkeys/register/start", &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::OK, "confirmed by the passkey");
}

#[tokio::test]
async fn failed_assertions_count_against_the_account_like_wrong_passwords() {
    let app = spawn_app_with(&[("RATE_LIMIT_CREDENTIALS_PER_ACCOUNT", "3/3s")]).await;
    // Copies of the authenticator whose counter stays behind: every
    // assertion one makes after the first is refused.
    let (_, mut stale) = app.passkey_sign_up("cal").await;
    let mut browser = Browser::new();
    assert_eq!(
        app.passkey_sign_in(&mut browser, &mut stale.clone())
            .await
            .status,
        StatusCode::OK
    );
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let mut attacker = Browser::new();
        statuses.push(
            app.passkey_sign_in(&mut attacker, &mut stale.clone())
                .await
                .status,
        );
    }
    assert_eq!(&statuses[..3], [StatusCode::UNAUTHORIZED; 3]);
    assert_eq!(
        statuses[3],
        StatusCode::TOO_MANY_REQUESTS,
        "the account is locked"
    );
    stale.counter += 10;
    let mut fresh = Browser::new();
    let res = app.passkey_sign_in(&mut fresh, &mut stale).await;
    assert_eq!(
        res.status,
        StatusCode::TOO_MANY_REQUESTS,
        "for browsers it has not signed in from"
    );
}

#[tokio::test]
async fn a_registration_started_in_the_window_finishes_after_it() {
    let app = spawn_app().await;
    let mut browser = app.signed_up("sly").await;
    app.confirm(&mut browser).await;
    let mut key = Authenticator::new();
    app.clock.advance(time::Duration::minutes(9));
    let started = app
        .call_json(&mut browser, "/api/passkeys/register/start", &json!({}))
        .await;
    assert_eq!(started.status, StatusCode::OK, "{}", started.body);
    // The person takes two minutes over the fingerprint: the window has
    // passed, the ceremony (five minutes) has not.
    app.clock.advance(time::Duration::minutes(2));
    let credential = json!({"credential": key.register(&body(&started), ORIGIN)});
    let res = app
        .call_json(&mut browser, "/api/passkeys/register/finish", &credential)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let res = app
        .call_json(&mut browser, "/api/passkeys/register/start", &json!({}))
        .await;
    assert_eq!(
        res.status,
        StatusCode::FORBIDDEN,
        "a new one needs the window again"
    );
}
