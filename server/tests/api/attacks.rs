//! The attack table: each row is one hostile request, the exact status it
//! must get, and the promise that it changed nothing (no account, session or
//! refresh token was created, revoked, rotated or extended).
//!
//! Every state-changing route is attacked four ways (cross-site, no token,
//! another session's token, a token from before sign-in); then come forged
//! JWTs, replays, injection and oversized input, cookie tricks, open
//! redirects and a revoked session's cookie.

use app::server_fns::{
    account::{RevokeOtherSessions, RevokeSession, SignOutEverywhere},
    auth::{Logout, SignIn, SignUp},
};
use axum::{
    body::Body,
    http::{header, Method, Request, StatusCode},
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use leptos::server_fn::ServerFn;

use crate::helpers::{spawn_app, Browser, Submit, TestApp, PASSWORD};

const SESSION: &str = engine::cookie::SESSION_COOKIE;

/// One row of the table.
struct Case {
    name: String,
    req: Request<Body>,
    status: StatusCode,
    /// Extra check on the response (e.g. where a redirect points).
    check: Option<fn(&crate::helpers::TestResponse) -> bool>,
}

/// A hostile request, built field by field.
struct Attack {
    method: Method,
    path: String,
    fields: Vec<(String, String)>,
    headers: Vec<(String, String)>,
    raw_body: Option<Vec<u8>>,
}

impl Attack {
    fn post(path: &str) -> Self {
        Self {
            method: Method::POST,
            path: path.to_owned(),
            fields: Vec::new(),
            headers: vec![("accept".into(), "application/json".into())],
            raw_body: None,
        }
    }

    fn get(path: &str) -> Self {
        Self {
            method: Method::GET,
            path: path.to_owned(),
            fields: Vec::new(),
            headers: vec![("accept".into(), "text/html".into())],
            raw_body: None,
        }
    }

    fn field(mut self, k: &str, v: &str) -> Self {
        self.fields.push((k.into(), v.into()));
        self
    }

    fn fields(mut self, fields: &[(&str, String)]) -> Self {
        for (k, v) in fields {
            self.fields.push(((*k).into(), v.clone()));
        }
        self
    }

    fn header(mut self, k: &str, v: &str) -> Self {
        if k != "cookie" {
            self.headers
                .retain(|(name, _)| !name.eq_ignore_ascii_case(k));
        }
        self.headers.push((k.into(), v.into()));
        self
    }

    fn same_origin(self) -> Self {
        self.header("sec-fetch-site", "same-origin")
    }

    fn cookies(self, browser: &Browser) -> Self {
        match browser.cookie_header_value() {
            Some(c) => self.header("cookie", &c),
            None => self,
        }
    }

    fn csrf(self, token: &str) -> Self {
        self.header("x-csrf-token", token)
    }

    fn body(mut self, bytes: Vec<u8>) -> Self {
        self.raw_body = Some(bytes);
        self
    }

    fn expect(self, name: impl Into<String>, status: StatusCode) -> Case {
        self.expect_with(name, status, None)
    }

    fn expect_with(
        self,
        name: impl Into<String>,
        status: StatusCode,
        check: Option<fn(&crate::helpers::TestResponse) -> bool>,
    ) -> Case {
        let mut req = Request::builder().method(self.method).uri(&self.path);
        for (k, v) in &self.headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let body = match self.raw_body {
            Some(bytes) => {
                req = req.header(header::CONTENT_LENGTH, bytes.len());
                Body::from(bytes)
            }
            None if self.fields.is_empty() => Body::empty(),
            None => {
                req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Body::from(
                    form_urlencoded::Serializer::new(String::new())
                        .extend_pairs(&self.fields)
                        .finish(),
                )
            }
        };
        Case {
            name: name.into(),
            req: req.body(body).unwrap(),
            status,
            check,
        }
    }
}

/// Everything that must not change: accounts, sessions (with expiries and
/// revocation) and refresh tokens (with rotation).
async fn fingerprint(app: &TestApp) -> String {
    sqlx::query_scalar::<_, String>(
        "SELECT coalesce((SELECT group_concat(id || ':' || username, ',') FROM users), '') || '|' ||
                coalesce((SELECT group_concat(id || ':' || idle_expires_at || ':' || coalesce(revoked_at, '-'), ',') FROM sessions), '') || '|' ||
                coalesce((SELECT group_concat(hex(token_hash) || ':' || coalesce(rotated_at, '-'), ',') FROM refresh_tokens), '')",
    )
    .fetch_one(app.sqlite())
    .await
    .unwrap()
}

async fn session_id_of(app: &TestApp, browser: &Browser) -> String {
    let token = engine::SessionToken::parse(browser.session().unwrap()).unwrap();
    sqlx::query_scalar("SELECT id FROM sessions WHERE token_hash = ?")
        .bind(token.hash().as_bytes().to_vec())
        .fetch_one(app.sqlite())
        .await
        .unwrap()
}

fn jwt_with(header: &str, payload: &str, signature: &str) -> String {
    format!(
        "{}.{}.{signature}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(payload)
    )
}

#[tokio::test]
async fn the_attack_table() {
    let app = spawn_app().await;
    // The victim is signed in on two devices; Mallory has her own account;
    // `anon` is a visitor who has loaded the sign-in page.
    let mut victim = app.signed_up("victim").await;
    let victim_other = app.signed_in("victim").await;
    let mallory = app.signed_up("mallory").await;
    let mut anon = Browser::new();
    app.visit(&mut anon, "/login").await;
    let mut stranger = Browser::new();
    app.visit(&mut stranger, "/login").await;
    let revoked = app.signed_in("victim").await;
    app.call::<Logout>(&mut revoked.clone(), &[], Submit::Js)
        .await;

    let victim_csrf = victim.csrf().unwrap().clone();
    let mallory_csrf = mallory.csrf().unwrap().clone();
    let anon_csrf = anon.csrf().unwrap().clone();
    let stranger_csrf = stranger.csrf().unwrap().clone();
    let other_id = session_id_of(&app, &victim_other).await;

    // An access token to tamper with, obtained the normal way.
    let refreshed = app.refresh(&mut victim).await;
    assert_eq!(refreshed.status, StatusCode::OK);
    let victim_csrf_now = victim.csrf().unwrap().clone();
    assert_eq!(victim_csrf, victim_csrf_now, "refresh keeps the CSRF token");
    let jwt: String = serde_json::from_str::<serde_json::Value>(&refreshed.body).unwrap()
        ["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let parts: Vec<&str> = jwt.split('.').collect();
    let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    let auth = match app
        .state
        .auth
        .validate(victim.session().unwrap())
        .await
        .unwrap()
    {
        engine::Validation::Valid(auth) => *auth,
        engine::Validation::Invalid => panic!("victim is signed in"),
    };
    let (expired, _) = app
        .state
        .jwt
        .issue(
            &auth,
            time::OffsetDateTime::now_utc() - time::Duration::hours(1),
        )
        .unwrap();
    // Mallory's token with the victim's identity pasted in: signature mismatch.
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(payload.replace("victim", "mallory")),
        parts[2]
    );
    let alg_none = jwt_with(r#"{"alg":"none","typ":"at+jwt"}"#, &payload, "");
    let alg_none_upper = jwt_with(r#"{"alg":"NONE","typ":"at+jwt"}"#, &payload, "");

    // A refresh token that was already used and then signed out.
    let mut replayed = app.signed_in("victim").await;
    let replay_jar = replayed.clone();
    app.call::<Logout>(&mut replayed, &[], Submit::Js).await;

    let before = fingerprint(&app).await;

    // ---- every state-changing route, four ways ----
    let sign_in_fields = [
        ("username", "victim".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let sign_up_fields = [
        ("username", "eve".to_owned()),
        ("password", PASSWORD.to_owned()),
    ];
    let revoke_fields = [("id", other_id.clone())];
    // (route, fields, the browser whose cookies ride along, its own valid token)
    type Route<'a> = (
        &'a str,
        &'a str,
        Vec<(&'a str, String)>,
        &'a Browser,
        &'a str,
    );
    let routes: Vec<Route<'_>> = vec![
        (
            "sign-in",
            SignIn::PATH,
            sign_in_fields.to_vec(),
            &anon,
            &anon_csrf,
        ),
        (
            "sign-up",
            SignUp::PATH,
            sign_up_fields.to_vec(),
            &anon,
            &anon_csrf,
        ),
        ("logout", Logout::PATH, vec![], &victim, &victim_csrf),
        (
            "revoke one",
            RevokeSession::PATH,
            revoke_fields.to_vec(),
            &victim,
            &victim_csrf,
        ),
        (
            "revoke others",
            RevokeOtherSessions::PATH,
            vec![],
            &victim,
            &victim_csrf,
        ),
        (
            "sign out everywhere",
            SignOutEverywhere::PATH,
            vec![],
            &victim,
            &victim_csrf,
        ),
        (
            "refresh",
            "/api/auth/refresh",
            vec![],
            &victim,
            &victim_csrf,
        ),
    ];
    let mut cases = Vec::new();
    for (label, path, fields, jar, token) in &routes {
        let wrong_session = if jar.session().is_some() {
            // Another user's session-bound token.
            mallory_csrf.as_str()
        } else {
            // Another browser's pre-session token (not this browser's cookie).
            stranger_csrf.as_str()
        };
        let wrong_era = if jar.session().is_some() {
            // A token from before sign-in.
            anon_csrf.as_str()
        } else {
            // A session-bound token, where none applies.
            victim_csrf.as_str()
        };
        let base = || Attack::post(path).fields(fields).cookies(jar);
        cases.push(
            base()
                .header("sec-fetch-site", "cross-site")
                .csrf(token)
                .expect(
                    format!("{label}: cross-site with a valid token"),
                    StatusCode::FORBIDDEN,
                ),
        );
        cases.push(
            base()
                .same_origin()
                .expect(format!("{label}: no token"), StatusCode::FORBIDDEN),
        );
        cases.push(base().same_origin().csrf(wrong_session).expect(
            format!("{label}: another session's token"),
            StatusCode::FORBIDDEN,
        ));
        cases.push(base().same_origin().csrf(wrong_era).expect(
            format!("{label}: a token from another era"),
            StatusCode::FORBIDDEN,
        ));
    }

    // ---- origin checks without fetch metadata ----
    cases.push(
        Attack::post(Logout::PATH)
            .cookies(&victim)
            .csrf(&victim_csrf)
            .header("origin", "https://evil.example")
            .expect("logout: foreign Origin", StatusCode::FORBIDDEN),
    );
    cases.push(
        Attack::post(Logout::PATH)
            .cookies(&victim)
            .csrf(&victim_csrf)
            .header("origin", "null")
            .expect("logout: opaque Origin", StatusCode::FORBIDDEN),
    );
    cases.push(
        Attack::post(SignOutEverywhere::PATH)
            .cookies(&victim)
            .csrf(&victim_csrf)
            .header("referer", "https://evil.example/page")
            .expect(
                "sign out everywhere: foreign Referer",
                StatusCode::FORBIDDEN,
            ),
    );
    cases.push(
        Attack::post(SignIn::PATH)
            .fields(&sign_in_fields)
            .cookies(&anon)
            .field("csrf_token", &anon_csrf)
            .field("csrf_token", &anon_csrf)
            .header("sec-fetch-site", "same-origin")
            .expect("sign-in: token field sent twice", StatusCode::FORBIDDEN),
    );

    // ---- GET to mutating server functions ----
    for (label, path) in [
        ("logout", Logout::PATH),
        ("sign out everywhere", SignOutEverywhere::PATH),
        ("revoke others", RevokeOtherSessions::PATH),
    ] {
        cases.push(
            Attack::get(path)
                .cookies(&victim)
                .same_origin()
                .csrf(&victim_csrf)
                .expect(format!("{label}: GET"), StatusCode::METHOD_NOT_ALLOWED),
        );
    }

    // ---- forged access tokens ----
    for (label, token) in [
        ("forged signature", forged.as_str()),
        ("expired", expired.as_str()),
        ("alg none", alg_none.as_str()),
        ("alg NONE", alg_none_upper.as_str()),
        ("garbage", "not.a.jwt"),
    ] {
        cases.push(
            Attack::get("/api/me")
                .header("authorization", &format!("Bearer {token}"))
                .expect(format!("/api/me: {label} JWT"), StatusCode::UNAUTHORIZED),
        );
    }

    // ---- a replayed refresh token of an ended session ----
    let replay_csrf = replay_jar.csrf().unwrap().clone();
    cases.push(
        Attack::post("/api/auth/refresh")
            .cookies(&replay_jar)
            .same_origin()
            .csrf(&replay_csrf)
            .expect(
                "refresh: replayed token of a signed-out session",
                StatusCode::UNAUTHORIZED,
            ),
    );

    // ---- injection and oversized values in every form field ----
    let sqli = "' OR '1'='1' --";
    let drop = "x'); DROP TABLE users; --";
    let huge = "A".repeat(10_000);
    let form = |path: &str, fields: &[(&str, &str)], jar: &Browser, token: &str| {
        let mut a = Attack::post(path).cookies(jar).same_origin().csrf(token);
        for (k, v) in fields {
            a = a.field(k, v);
        }
        a
    };
    for (label, user, pass, status) in [
        ("SQL in user name", sqli, PASSWORD, StatusCode::UNAUTHORIZED),
        ("SQL in password", "victim", sqli, StatusCode::UNAUTHORIZED),
        (
            "huge user name",
            huge.as_str(),
            PASSWORD,
            StatusCode::UNAUTHORIZED,
        ),
        (
            "huge password",
            "victim",
            huge.as_str(),
            StatusCode::UNAUTHORIZED,
        ),
    ] {
        cases.push(
            form(
                SignIn::PATH,
                &[("username", user), ("password", pass)],
                &anon,
                &anon_csrf,
            )
            .expect(format!("sign-in: {label}"), status),
        );
    }
    for (label, user, pass, status) in [
        ("SQL in user name", drop, PASSWORD, StatusCode::BAD_REQUEST),
        (
            "SQL in password of a taken name",
            "victim",
            sqli,
            StatusCode::CONFLICT,
        ),
        (
            "huge user name",
            huge.as_str(),
            PASSWORD,
            StatusCode::BAD_REQUEST,
        ),
        (
            "huge password",
            "newcomer",
            huge.as_str(),
            StatusCode::BAD_REQUEST,
        ),
    ] {
        cases.push(
            form(
                SignUp::PATH,
                &[("username", user), ("password", pass)],
                &anon,
                &anon_csrf,
            )
            .expect(format!("sign-up: {label}"), status),
        );
    }
    for (label, id) in [("SQL in id", "1' OR '1'='1"), ("huge id", huge.as_str())] {
        cases.push(
            form(RevokeSession::PATH, &[("id", id)], &victim, &victim_csrf)
                .expect(format!("revoke one: {label}"), StatusCode::NOT_FOUND),
        );
    }
    let other_users_session = session_id_of(&app, &mallory).await;
    cases.push(
        form(
            RevokeSession::PATH,
            &[("id", &other_users_session)],
            &victim,
            &victim_csrf,
        )
        .expect("revoke one: another user's session", StatusCode::NOT_FOUND),
    );
    cases.push(
        form(
            SignIn::PATH,
            &[
                ("username", "victim"),
                ("password", "wrong password"),
                ("next", sqli),
            ],
            &anon,
            &anon_csrf,
        )
        .expect("sign-in: SQL in next", StatusCode::UNAUTHORIZED),
    );
    cases.push(
        Attack::post(SignIn::PATH)
            .cookies(&anon)
            .same_origin()
            .csrf(&anon_csrf)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("username=victim&password={}", "x".repeat(100_000)).into_bytes())
            .expect("sign-in: oversized body", StatusCode::PAYLOAD_TOO_LARGE),
    );
    cases.push(
        Attack::get("/login")
            .header("x-filler", &"f".repeat(20_000))
            .expect(
                "oversized headers",
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ),
    );
    cases.push(
        Attack::get("/dashboard")
            .header("cookie", &format!("{SESSION}={}", "c".repeat(9_000)))
            .expect(
                "oversized cookie",
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            ),
    );

    // ---- cookie tricks on a protected page ----
    let victim_token = victim.session().unwrap().clone();
    for (label, cookie) in [
        (
            "malformed session cookie",
            format!("{SESSION}=%00%ff<script>"),
        ),
        (
            "duplicated session cookie",
            format!("{SESSION}={victim_token}; {SESSION}={victim_token}"),
        ),
        (
            "case-variant cookie name",
            format!("__host-session={victim_token}"),
        ),
        ("unprefixed cookie name", format!("session={victim_token}")),
    ] {
        cases.push(
            Attack::get("/dashboard")
                .header("cookie", &cookie)
                .expect(format!("dashboard: {label}"), StatusCode::SEE_OTHER),
        );
    }
    cases.push(Attack::get("/dashboard").cookies(&revoked).expect(
        "dashboard: a revoked session's cookie",
        StatusCode::SEE_OTHER,
    ));
    cases.push(
        Attack::post(RevokeOtherSessions::PATH)
            .cookies(&revoked)
            .same_origin()
            .csrf(revoked.csrf().unwrap())
            .expect(
                "revoke others: a revoked session's cookie and token",
                StatusCode::UNAUTHORIZED,
            ),
    );

    // ---- open redirects through `next` ----
    for next in ["//evil.example", "https://evil.example", "/\\evil.example"] {
        cases.push(
            Attack::post(SignIn::PATH)
                .cookies(&anon)
                .same_origin()
                .header("accept", "text/html")
                .field("username", "victim")
                .field("password", "wrong password")
                .field("next", next)
                .field("csrf_token", &anon_csrf)
                .expect_with(
                    format!("sign-in: next={next}"),
                    // Leptos answers a no-JS server-function form with 302.
                    StatusCode::FOUND,
                    Some(|res| {
                        res.header("location")
                            .is_some_and(|l| l.starts_with("/login?") && !l.contains("evil"))
                    }),
                ),
        );
    }

    assert!(cases.len() >= 40, "only {} cases", cases.len());
    let total = cases.len();
    let mut failures = Vec::new();
    for case in cases {
        let res = app.send(case.req).await;
        let extra_ok = case.check.is_none_or(|check| check(&res));
        if res.status != case.status || !extra_ok {
            failures.push(format!(
                "{}: expected {}, got {} {:?} {}",
                case.name,
                case.status,
                res.status,
                res.header("location"),
                res.body.chars().take(160).collect::<String>()
            ));
        }
        let location = res.header("location").unwrap_or_default();
        assert!(
            !location.contains(&victim_token) && !res.body.contains(&victim_token),
            "{}: a session token in a URL or body",
            case.name
        );
        assert!(
            !res.body.contains("sqlx")
                && !res.body.contains("SQLITE")
                && !res.body.contains("panicked"),
            "{}: internals leaked: {}",
            case.name,
            res.body
        );
        let after = fingerprint(&app).await;
        if after != before {
            failures.push(format!("{}: state changed", case.name));
            break;
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {total} cases failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn a_refused_call_tells_the_app_and_the_person_why() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    app.visit(&mut b, "/login").await;
    let fields = [("username", "nobody"), ("password", PASSWORD)];
    let res = app
        .call_raw::<SignIn>(
            &mut b,
            &fields,
            Submit::Js,
            &[("sec-fetch-site", "same-origin")],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let decoded: app::error::AppError = serde_json::from_str(&res.body).unwrap();
    assert_eq!(decoded, app::error::AppError::StaleForm);

    let res = app
        .call_raw::<SignIn>(
            &mut b,
            &fields,
            Submit::Html,
            &[("sec-fetch-site", "cross-site")],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body.contains("another site"), "{}", res.body);
}

#[tokio::test]
async fn the_token_endpoint_hands_out_a_working_token_without_touching_the_database() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let res = app.visit(&mut b, app::csrf::TOKEN_PATH).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let token: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    assert_eq!(
        token["token"].as_str(),
        b.csrf().map(String::as_str),
        "body and cookie agree"
    );

    // Asked again, the same token and no new cookie.
    let again = app.visit(&mut b, app::csrf::TOKEN_PATH).await;
    assert!(again.header("set-cookie").is_none());
    assert!(again.body.contains(b.csrf().unwrap().as_str()));

    // It works for a sign-up; afterwards the endpoint hands out the new,
    // session-bound token.
    let before = b.csrf().unwrap().clone();
    let res = app
        .call::<SignUp>(
            &mut b,
            &[("username", "tess"), ("password", PASSWORD)],
            Submit::Js,
        )
        .await;
    assert!(b.session().is_some(), "{}", res.body);
    assert_ne!(b.csrf().unwrap(), &before);
    let after = app.visit(&mut b, app::csrf::TOKEN_PATH).await;
    assert!(after.body.contains(b.csrf().unwrap().as_str()));

    // With the database gone it still answers: it reads only cookies.
    app.state.db.close().await;
    assert_eq!(
        app.visit(&mut b, app::csrf::TOKEN_PATH).await.status,
        StatusCode::OK
    );
}
