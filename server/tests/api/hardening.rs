//! What the security review of passkeys, DPoP, step-up, notices and the
//! credential gate found, sent over HTTP as an attacker would send it. One
//! test (or two) per finding, named for it; each failed before its fix.

use app::{
    error::AppError,
    server_fns::{
        account::{DismissNotice, RevokeOtherSessions, RevokeSession},
        auth::{Logout, SignIn},
        security::{ChangePassword, RemovePassword},
    },
};
use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use serde_json::json;
use time::Duration;

use crate::{
    helpers::{spawn_app, spawn_app_with, Browser, Submit, TestApp, TestResponse, PASSWORD},
    passkeys::{body, ORIGIN},
    tokens::access_token,
};
use testkit::{authenticator::Authenticator, dpop_key::DpopKey};

const REFRESH: &str = engine::cookie::REFRESH_COOKIE;
const DEVICE: &str = engine::cookie::DEVICE_COOKIE;

fn error_of(res: &TestResponse) -> AppError {
    serde_json::from_str(&res.body).unwrap_or_else(|_| panic!("an AppError: {}", res.body))
}

impl TestApp {
    /// The kinds of `name`'s notices not yet dismissed, newest first.
    async fn notice_kinds(&self, name: &str) -> Vec<String> {
        sqlx::query_scalar(
            "SELECT n.kind FROM security_notices n JOIN users u ON u.id = n.user_id \
             WHERE u.username = $1 ORDER BY n.id DESC",
        )
        .bind(name)
        .fetch_all(self.sqlite())
        .await
        .unwrap()
    }

    /// The id of `name`'s newest notice of `kind`.
    async fn notice_id(&self, name: &str, kind: &str) -> String {
        let id: i64 = sqlx::query_scalar(
            "SELECT n.id FROM security_notices n JOIN users u ON u.id = n.user_id \
             WHERE u.username = $1 AND n.kind = $2 ORDER BY n.id DESC LIMIT 1",
        )
        .bind(name)
        .bind(kind)
        .fetch_one(self.sqlite())
        .await
        .unwrap();
        id.to_string()
    }

    /// Adds a passkey to `browser`'s account (its session must have
    /// confirmed a credential lately).
    async fn add_passkey(&self, browser: &mut Browser, key: &mut Authenticator) -> TestResponse {
        self.ceremony(
            browser,
            "register",
            json!({}),
            |options| key.register(options, ORIGIN),
            |credential| json!({"credential": credential, "name": "Phone"}),
        )
        .await
    }

    /// Confirms with `key` (a passkey of `browser`'s account).
    async fn confirm_with_passkey(&self, browser: &mut Browser, key: &mut Authenticator) {
        let res = self
            .ceremony(
                browser,
                "confirm",
                json!({}),
                |options| key.assert(options, ORIGIN),
                |credential| json!({"credential": credential}),
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    }

    /// `GET path` with `Authorization: <scheme> <token>` and a `DPoP` proof.
    async fn api_as(
        &self,
        path: &str,
        scheme: &str,
        token: &str,
        proof: Option<&str>,
    ) -> TestResponse {
        let mut req = Request::builder()
            .method(Method::GET)
            .uri(path)
            .header(header::HOST, "localhost")
            .header(header::AUTHORIZATION, format!("{scheme} {token}"));
        if let Some(proof) = proof {
            req = req.header("dpop", proof);
        }
        self.send(req.body(Body::empty()).unwrap()).await
    }
}

// 1. A fresh stolen session (or XSS) could add a credential that outlived
//    recovery, and nobody was told.

/// Adding a passkey needs a credential proved within the session (a fresh
/// sign-in is not enough), raises a notice, and the notice is dismissed
/// only with a proof made after it.
#[tokio::test]
async fn adding_a_passkey_needs_a_proof_within_the_session_and_tells_the_owner() {
    let app = spawn_app().await;
    let mut thief = app.signed_up("ada").await;
    let res = app
        .call_json(&mut thief, "/api/passkeys/register/start", &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "a fresh session alone");
    assert_eq!(error_of(&res), AppError::ReauthRequired);

    app.confirm(&mut thief).await;
    app.clock.advance(Duration::minutes(1));
    let mut key = Authenticator::new();
    let res = app.add_passkey(&mut thief, &mut key).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(app.notice_kinds("ada").await, ["passkey_added"]);

    // The session that added it proved a credential before, not since.
    let id = app.notice_id("ada", "passkey_added").await;
    let res = app
        .call::<DismissNotice>(&mut thief, &[("id", &id)], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(error_of(&res), AppError::ReauthRequired);
    app.confirm(&mut thief).await;
    let res = app
        .call::<DismissNotice>(&mut thief, &[("id", &id)], Submit::Js)
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    assert!(app.notice_kinds("ada").await.is_empty());
}

/// A passkey-only account sets its first password only with a passkey
/// proved within the session; a passkey confirmation stands in for the
/// current password; an account with a passkey can remove its password;
/// every change is a notice.
#[tokio::test]
async fn a_passkey_proof_stands_in_for_the_password_which_an_account_with_one_can_remove() {
    let app = spawn_app().await;
    let (mut browser, mut key) = app.passkey_sign_up("pia").await;
    let first = [("new_password", "quiet cedar meadow")];
    let res = app
        .call::<ChangePassword>(&mut browser, &first, Submit::Js)
        .await;
    assert_eq!(
        error_of(&res),
        AppError::ReauthRequired,
        "no first password on the strength of the sign-up alone"
    );
    app.confirm_with_passkey(&mut browser, &mut key).await;
    let res = app
        .call::<ChangePassword>(&mut browser, &first, Submit::Js)
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    app.clock.advance(Duration::minutes(1));

    // The passkey again stands in for the (now existing) current password.
    app.confirm_with_passkey(&mut browser, &mut key).await;
    let second = [("new_password", "amber falcon river")];
    let res = app
        .call::<ChangePassword>(&mut browser, &second, Submit::Js)
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    let mut other = Browser::new();
    let res = app.sign_in(&mut other, "pia", "amber falcon river").await;
    assert!(other.session().is_some(), "{}", res.body);

    let res = app
        .call::<RemovePassword>(&mut browser, &[], Submit::Js)
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    let mut late = Browser::new();
    let res = app.sign_in(&mut late, "pia", "amber falcon river").await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "no password any more");
    assert_eq!(
        app.notice_kinds("pia").await,
        [
            "password_removed",
            "new_device",
            "password_changed",
            "password_changed"
        ]
    );
}

/// The page after a password change lists the passkeys added in the last
/// 30 days, each with "Remove".
#[tokio::test]
async fn the_page_after_a_password_change_lists_the_passkeys_added_lately() {
    let app = spawn_app().await;
    let mut browser = app.signed_up("ned").await;
    app.confirm(&mut browser).await;
    let mut key = Authenticator::new();
    assert_eq!(
        app.add_passkey(&mut browser, &mut key).await.status,
        StatusCode::CREATED
    );
    let fields = [
        ("current_password", PASSWORD),
        ("new_password", "quiet cedar meadow"),
    ];
    app.call::<ChangePassword>(&mut browser, &fields, Submit::Js)
        .await;
    let page = app.visit(&mut browser, "/account/password?changed=1").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body.contains(r#"data-testid="recent-passkeys""#),
        "{}",
        page.body
    );
    assert!(page.body.contains("Remove Phone"), "{}", page.body);
    app.clock.advance(Duration::days(31));
    app.sign_in(&mut browser, "ned", "quiet cedar meadow").await;
    let page = app.visit(&mut browser, "/account/password?changed=1").await;
    assert!(
        !page.body.contains(r#"data-testid="recent-passkeys""#),
        "older than 30 days"
    );
}

// 2. Passkey ceremony starts were unlimited, and every sign-in start was
//    stored.

/// A sign-in ceremony stores nothing until it finishes, and every kind of
/// start spends the address's budget of starts (held 429s past it).
#[tokio::test]
async fn passkey_starts_store_nothing_for_sign_in_and_have_a_budget() {
    let app = spawn_app_with(&[("RATE_LIMIT_PASSKEY_STARTS_PER_IP", "5/1m")]).await;
    let mut browser = Browser::new();
    app.visit(&mut browser, "/login").await;
    let starts = (0..12).map(|_| {
        let mut browser = browser.clone();
        let app = &app;
        async move {
            app.call_json(&mut browser, "/api/passkeys/login/start", &json!({}))
                .await
        }
    });
    let answers = futures::future::join_all(starts).await;
    let ok = answers
        .iter()
        .filter(|r| r.status == StatusCode::OK)
        .count();
    let refused: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::TOO_MANY_REQUESTS)
        .collect();
    assert_eq!((ok, refused.len()), (5, 7));
    assert!(refused.iter().all(|r| r.header("retry-after").is_some()));
    let stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM passkey_ceremonies")
        .fetch_one(app.sqlite())
        .await
        .unwrap();
    assert_eq!(stored, 0, "a sign-in start keeps its state in its cookie");
    // The budget is the address's, whatever the ceremony.
    let mut signed_in = app.signed_up("sal").await;
    app.confirm(&mut signed_in).await;
    let res = app
        .call_json(&mut signed_in, "/api/passkeys/register/start", &json!({}))
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
}

/// A signed sign-in ceremony finishes once: its cookie replayed finds it
/// used, and one altered (a later expiry written in) does not open.
#[tokio::test]
async fn a_signed_sign_in_ceremony_finishes_once_and_cannot_be_altered() {
    let app = spawn_app().await;
    let (_, mut key) = app.passkey_sign_up("sid").await;
    let mut browser = Browser::new();
    let started = app
        .call_json(&mut browser, "/api/passkeys/login/start", &json!({}))
        .await;
    let sealed = browser.cookies["__Secure-passkey"].clone();
    assert!(sealed.starts_with("s1."), "{sealed}");
    let credential = key.assert(&body(&started), ORIGIN);
    let mut replay = browser.clone();
    let res = app
        .call_json(
            &mut browser,
            "/api/passkeys/login/finish",
            &json!({"credential": credential}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    replay.cookies.remove(engine::cookie::SESSION_COOKIE);
    let res = app
        .call_json(
            &mut replay,
            "/api/passkeys/login/finish",
            &json!({"credential": credential}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "used: {}", res.body);
    let mut forged = Browser::new();
    let (body_part, mac) = sealed.rsplit_once('.').unwrap();
    let (prefix, rest) = body_part.split_at(3);
    let (expiry, state) = rest.split_once('.').unwrap();
    let later = expiry.parse::<i64>().unwrap() + 86_400;
    forged.cookies.insert(
        "__Secure-passkey".into(),
        format!("{prefix}{later}.{state}.{mac}"),
    );
    let res = app
        .call_json(
            &mut forged,
            "/api/passkeys/login/finish",
            &json!({"credential": key.assert(&body(&started), ORIGIN)}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{}", res.body);
}

// 4. Malformed JSON to the passkey endpoints answered 500.

/// Every JSON endpoint answers a body it cannot read with 400 and the
/// app's error code, and a server function missing its fields likewise.
#[tokio::test]
async fn a_malformed_body_is_a_400_with_an_error_code_at_every_endpoint() {
    let app = spawn_app().await;
    let mut browser = app.signed_up("mal").await;
    for ceremony in ["login", "signup", "register", "confirm"] {
        for step in ["start", "finish"] {
            let path = format!("/api/passkeys/{ceremony}/{step}");
            // (`[]` is JSON's "no arguments" for a start that takes none.)
            let takes_arguments = step == "finish" || ceremony == "signup";
            let array = takes_arguments.then_some("[]");
            for body in ["not json", "", "{", "\"x\""].into_iter().chain(array) {
                let res = app.call_json_text(&mut browser, &path, body).await;
                assert_eq!(
                    res.status,
                    StatusCode::BAD_REQUEST,
                    "{path} {body:?}: {}",
                    res.body
                );
                assert_eq!(error_of(&res), AppError::BadRequest, "{path} {body:?}");
                assert_eq!(AppError::BadRequest.code(), "bad_request");
            }
        }
    }
    // A form-encoded server function without its fields, or with garbage.
    for fields in [&[][..], &[("username", "x")][..]] {
        let res = app
            .call::<SignIn>(&mut Browser::new(), fields, Submit::Js)
            .await;
        assert_eq!(
            res.status,
            StatusCode::BAD_REQUEST,
            "{fields:?}: {}",
            res.body
        );
        assert_eq!(error_of(&res), AppError::BadRequest);
    }
}

// 5. A DPoP `iat` near i64::MIN panicked (debug) or wrapped into the window
//    (release).

#[tokio::test]
async fn dpop_proofs_with_extreme_issue_times_are_refused_not_wrapped() {
    let app = spawn_app().await;
    let mut b = app.signed_up("ian").await;
    let key = DpopKey::new();
    let htu = "http://localhost/api/auth/refresh";
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    for iat in [i64::MIN, i64::MIN + now, i64::MAX, i64::MAX - now] {
        let proof = key.proof_claims("POST", htu, iat, None);
        let res = app.refresh_proving(&mut b, Some(&proof)).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "iat {iat}");
        assert!(
            res.header("www-authenticate")
                .is_some_and(|v| v.contains("invalid_dpop_proof")),
            "iat {iat}: {:?}",
            res.headers
        );
    }
    let res = app.refresh_proving(&mut b, Some(&key.proof(htu))).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

// 6. A thief could sign the owner out, contrary to the docs.

/// Signing one or all other devices out needs a recent authentication, as
/// signing out everywhere does.
#[tokio::test]
async fn signing_other_devices_out_needs_a_recent_authentication() {
    let app = spawn_app_with(&[("REAUTH_WINDOW", "2m")]).await;
    let mut thief = app.signed_up("tom").await;
    let mut owner = app.signed_in("tom").await;
    let owners = crate::sessions::current_session_id(&app, &owner).await;
    app.clock.advance(Duration::minutes(3));
    let res = app
        .call::<RevokeSession>(&mut thief, &[("id", &owners)], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(error_of(&res), AppError::ReauthRequired);
    let res = app
        .call::<RevokeOtherSessions>(&mut thief, &[], Submit::Js)
        .await;
    assert_eq!(error_of(&res), AppError::ReauthRequired);
    let res = app
        .call::<RevokeOtherSessions>(&mut thief, &[], Submit::Html)
        .await;
    assert_eq!(
        res.header("location"),
        Some("/account/confirm?next=%2Faccount%2Fsessions"),
        "without JavaScript, to the confirmation"
    );
    assert_eq!(
        app.visit(&mut owner, "/dashboard").await.status,
        StatusCode::OK,
        "the owner is still signed in"
    );
    // With the password confirmed, it goes through.
    app.confirm(&mut thief).await;
    let res = app
        .call::<RevokeSession>(&mut thief, &[("id", &owners)], Submit::Js)
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    assert_eq!(
        app.visit(&mut owner, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

/// Only the session's current refresh token (or its cookie) can end it:
/// a rotated one, copied to another browser, signs nobody out.
#[tokio::test]
async fn a_rotated_refresh_token_cannot_sign_the_owner_out() {
    let app = spawn_app().await;
    let mut owner = app.signed_up("uma").await;
    let rotated = owner.cookies[REFRESH].clone();
    assert_eq!(app.refresh(&mut owner).await.status, StatusCode::OK);
    assert_ne!(owner.cookies[REFRESH], rotated);
    let mut thief = Browser::new();
    app.visit(&mut thief, "/login").await;
    thief.cookies.insert(REFRESH.into(), rotated);
    app.call::<Logout>(&mut thief, &[], Submit::Js).await;
    assert_eq!(
        app.visit(&mut owner, "/dashboard").await.status,
        StatusCode::OK,
        "a rotated copy ended nothing"
    );
}

// 7. Owner notices could be erased and flooded.

/// The session whose sign-in raised "new browser" cannot dismiss it, nor
/// can any other without a credential proved since; a sign-in after it
/// can.
#[tokio::test]
async fn whoever_raised_a_notice_cannot_dismiss_it_without_a_fresh_proof() {
    let app = spawn_app().await;
    let mut owner = app.signed_up("val").await;
    app.clock.advance(Duration::minutes(1));
    let mut stranger = app.signed_in("val").await;
    let id = app.notice_id("val", "new_device").await;
    for browser in [&mut stranger, &mut owner] {
        let res = app
            .call::<DismissNotice>(browser, &[("id", &id)], Submit::Js)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
        assert_eq!(error_of(&res), AppError::ReauthRequired);
    }
    let page = app.visit(&mut owner, "/dashboard").await;
    assert!(
        page.body.contains(r#"data-dismissable="false""#),
        "the button says a confirmation comes first"
    );
    app.clock.advance(Duration::seconds(5));
    let mut later = app.signed_in("val").await;
    let res = app
        .call::<DismissNotice>(&mut later, &[("id", &id)], Submit::Js)
        .await;
    assert!(res.status.is_success(), "a sign-in after it: {}", res.body);
}

/// A copied cookie's refused refreshes (anyone can cause them) are one
/// counted line a day, so the owner's own events stay on the list.
#[tokio::test]
async fn a_strangers_refused_refreshes_do_not_push_the_owners_events_off() {
    let app = spawn_app().await;
    let mut owner = app.signed_up("wes").await;
    let key = DpopKey::new();
    let htu = "http://localhost/api/auth/refresh";
    let res = app.refresh_proving(&mut owner, Some(&key.proof(htu))).await;
    assert_eq!(res.status, StatusCode::OK);
    let mut thief = owner.clone();
    for _ in 0..15 {
        let res = app.refresh_proving(&mut thief, None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let page = app.visit(&mut owner, "/dashboard").await;
    assert!(page.body.contains("(×15 that day)"), "{}", page.body);
    assert!(
        page.body.contains("Account created"),
        "the owner's own event is listed"
    );
}

// 8. The credential gate spent the address's budget before the CSRF check.

/// A hostile page's cross-site sign-in posts are refused without spending
/// the visitor's budget.
#[tokio::test]
async fn cross_site_sign_in_posts_spend_no_budget() {
    let app = spawn_app_with(&[("RATE_LIMIT_CREDENTIALS_PER_IP", "5/1m")]).await;
    app.signed_up("xia").await;
    let mut visitor = Browser::new();
    let fields = [("username", "xia"), ("password", PASSWORD)];
    for extra in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("origin", "https://evil.example")][..],
    ] {
        for _ in 0..15 {
            let res = app
                .call_raw::<SignIn>(&mut visitor, &fields, Submit::Html, extra, None)
                .await;
            assert_eq!(res.status, StatusCode::FORBIDDEN, "{extra:?}");
        }
    }
    let res = app.sign_in(&mut visitor, "xia", PASSWORD).await;
    assert!(visitor.session().is_some(), "{} {}", res.status, res.body);
}

// 11. Device cookies never expired and had no budget of their own.

/// A device token spares its browser from the account's lock only within
/// its own failure budget: a copied cookie buys no unlimited guesses.
#[tokio::test]
async fn a_copied_device_cookie_has_a_failure_budget_of_its_own() {
    let app = spawn_app_with(&[("RATE_LIMIT_CREDENTIALS_PER_ACCOUNT", "3/1m")]).await;
    let owner = app.signed_up("yan").await;
    let mut thief = Browser::new();
    thief
        .cookies
        .insert(DEVICE.into(), owner.cookies[DEVICE].clone());
    let wrong = [("username", "yan"), ("password", "not the password")];
    let mut statuses = Vec::new();
    for _ in 0..5 {
        statuses.push(
            app.call::<SignIn>(&mut thief, &wrong, Submit::Js)
                .await
                .status,
        );
    }
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::TOO_MANY_REQUESTS
        ],
        "locked once its own budget is spent, like any browser"
    );
}

/// A device token stops counting after a year, and after a password
/// change or "sign out everywhere" (a per-account version).
#[tokio::test]
async fn a_device_cookie_ends_with_its_year_or_a_credential_change() {
    let app = spawn_app_with(&[("RATE_LIMIT_CREDENTIALS_PER_ACCOUNT", "2/1m")]).await;
    let mut owner = app.signed_up("zoe").await;
    let mut laptop = app.signed_in("zoe").await;
    let lock = || async {
        let mut stranger = Browser::new();
        let wrong = [("username", "zoe"), ("password", "not the password")];
        for _ in 0..2 {
            app.call::<SignIn>(&mut stranger, &wrong, Submit::Js).await;
        }
    };
    lock().await;
    let res = app.sign_in(&mut laptop.clone(), "zoe", PASSWORD).await;
    assert!(
        res.status.is_success(),
        "recognised during the lock: {}",
        res.body
    );

    let fields = [
        ("current_password", PASSWORD),
        ("new_password", "quiet cedar meadow"),
    ];
    app.call::<ChangePassword>(&mut owner, &fields, Submit::Js)
        .await;
    let res = app.sign_in(&mut laptop, "zoe", "quiet cedar meadow").await;
    assert_eq!(
        res.status,
        StatusCode::TOO_MANY_REQUESTS,
        "the laptop's token is of the old credentials"
    );
    let res = app
        .sign_in(&mut owner.clone(), "zoe", "quiet cedar meadow")
        .await;
    assert!(
        res.status.is_success(),
        "the browser that changed it got a new one: {}",
        res.body
    );

    app.clock.advance(Duration::days(366));
    let res = app.sign_in(&mut owner, "zoe", "quiet cedar meadow").await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "a year old");
}

// 12. `cnf.jkt` was not enforced: a bound token worked as a bearer token.

/// A token bound to a DPoP key is a DPoP token: every API takes it only
/// with a proof of that key naming the token's hash (RFC 9449 §7).
#[tokio::test]
async fn a_bound_access_token_needs_a_proof_of_its_key_at_every_api() {
    let app = spawn_app().await;
    let mut b = app.signed_up("kit").await;
    let key = DpopKey::new();
    let res = app
        .refresh_proving(
            &mut b,
            Some(&key.proof("http://localhost/api/auth/refresh")),
        )
        .await;
    let answer: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(answer["token_type"], "DPoP");
    let token = access_token(&res);
    for path in ["/api/me", "/api/validate-session"] {
        let htu = format!("http://localhost{path}");
        let res = app.api_as(path, "Bearer", &token, None).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path} as Bearer");
        assert!(res.header("www-authenticate").unwrap().starts_with("DPoP"));
        for proof in [
            None,
            Some(key.proof_for_token(&htu, "another.token")),
            Some(DpopKey::new().proof_for_token(&htu, &token)),
            Some(key.proof_for_token("http://localhost/elsewhere", &token)),
            Some(key.proof_claims(
                "GET",
                &htu,
                0,
                Some(&engine::dpop::access_token_hash(&token)),
            )),
        ] {
            let res = app.api_as(path, "DPoP", &token, proof.as_deref()).await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path} {proof:?}");
        }
        let proof = key.proof_for_token(&htu, &token);
        let res = app.api_as(path, "DPoP", &token, Some(&proof)).await;
        assert_eq!(res.status, StatusCode::OK, "{path}: {}", res.body);
        let res = app.api_as(path, "DPoP", &token, Some(&proof)).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{path}: a replayed proof"
        );
    }
    // An unbound token stays a bearer token.
    let mut plain = app.signed_up("lou").await;
    let res = app.refresh(&mut plain).await;
    let answer: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(answer["token_type"], "Bearer");
    let token = access_token(&res);
    assert_eq!(
        app.api_as("/api/me", "Bearer", &token, None).await.status,
        StatusCode::OK
    );
    assert_eq!(
        app.api_as("/api/me", "DPoP", &token, None).await.status,
        StatusCode::UNAUTHORIZED
    );
}

// Info: a sibling subdomain could plant a refresh cookie, and the server
// then deleted the real one.

#[tokio::test]
async fn a_duplicate_refresh_cookie_is_refused_without_deleting_the_real_one() {
    let app = spawn_app().await;
    let b = app.signed_up("dot").await;
    let cookies = format!(
        "{}; {REFRESH}=planted-by-a-sibling",
        b.cookie_header_value().unwrap()
    );
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/auth/refresh")
        .header("sec-fetch-site", "same-origin")
        .header("x-csrf-token", b.csrf().unwrap().as_str())
        .header(header::COOKIE, cookies)
        .body(Body::empty())
        .unwrap();
    let res = app.send(req).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(
        !res.headers_all("set-cookie")
            .iter()
            .any(|c| c.starts_with(&format!("{REFRESH}="))),
        "the real cookie is left alone: {:?}",
        res.headers_all("set-cookie")
    );
}
