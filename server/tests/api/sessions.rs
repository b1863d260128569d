//! Accounts and server-side sessions over HTTP: sign-up and sign-in,
//! protected pages, fixation, expiry, revocation, logout and cleanup.

use std::time::Duration as StdDuration;

use app::server_fns::{
    account::{RevokeOtherSessions, RevokeSession, SignOutEverywhere},
    auth::{Logout, SignIn, SignUp},
};
use axum::http::StatusCode;
use engine::SessionToken;
use time::Duration;

use crate::helpers::{spawn_app, Browser, Submit, PASSWORD};

const COOKIE: &str = engine::cookie::SESSION_COOKIE;

#[tokio::test]
async fn sign_up_sets_a_host_prefixed_cookie_with_every_attribute() {
    let app = spawn_app().await;
    let mut browser = Browser::new();
    let res = app
        .call::<SignUp>(
            &mut browser,
            &[("username", "alice"), ("password", PASSWORD)],
            Submit::Js,
        )
        .await;
    let set_cookie = res.header("set-cookie").expect("cookie set");
    assert!(
        set_cookie.starts_with(&format!("{COOKIE}=")),
        "{set_cookie}"
    );
    for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(set_cookie.contains(attr), "{attr} missing in {set_cookie}");
    }
    assert!(
        !set_cookie.to_lowercase().contains("domain"),
        "{set_cookie}"
    );
    assert!(
        !set_cookie.contains("Expires"),
        "not persistent without remember-me"
    );
    assert_eq!(res.header("cache-control"), Some("no-store"));

    // The cookie's token is stored only as its hash.
    let token = SessionToken::parse(browser.session().unwrap()).unwrap();
    let raw_stored: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = ?")
        .bind(token.expose().as_bytes())
        .fetch_one(app.sqlite())
        .await
        .unwrap();
    let hashed_stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sessions WHERE token_hash = ?")
            .bind(&token.hash().as_bytes()[..])
            .fetch_one(app.sqlite())
            .await
            .unwrap();
    assert_eq!((raw_stored, hashed_stored), (0, 1));
}

#[tokio::test]
async fn remember_me_sets_a_persistent_cookie() {
    let app = spawn_app().await;
    app.signed_up("bob").await;
    let mut browser = Browser::new();
    let res = app
        .call::<SignIn>(
            &mut browser,
            &[
                ("username", "bob"),
                ("password", PASSWORD),
                ("remember", "on"),
            ],
            Submit::Js,
        )
        .await;
    assert!(res.header("set-cookie").unwrap().contains("Expires="));
}

#[tokio::test]
async fn protected_pages_redirect_anonymous_requests_with_303() {
    let app = spawn_app().await;
    for (path, next) in [
        ("/dashboard", "%2Fdashboard"),
        ("/account/sessions", "%2Faccount%2Fsessions"),
    ] {
        let res = app.get(path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        assert_eq!(
            res.header("location"),
            Some(format!("/login?next={next}").as_str())
        );
        assert!(!res.body.contains("This session"), "no protected content");
    }
}

/// Whatever the route table declares, the server enforces: every page
/// that is not public, a page added later included, sends an anonymous
/// request to sign in, with nothing rendered.
#[tokio::test]
async fn every_page_the_table_protects_sends_anonymous_requests_to_sign_in() {
    let app = spawn_app().await;
    let protected: Vec<&str> = app::routes::PAGES
        .iter()
        .filter(|page| page.access != app::routes::Access::Public)
        .map(|page| page.path)
        .collect();
    assert!(protected.len() >= 6, "{protected:?}");
    for path in protected {
        let res = app.get(path).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}");
        let next = percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC);
        assert_eq!(
            res.header("location"),
            Some(format!("/login?next={next}").as_str()),
            "{path}"
        );
        assert!(res.body.is_empty(), "{path}: nothing rendered");
    }
}

#[tokio::test]
async fn protected_pages_render_the_users_data_in_the_first_response() {
    let app = spawn_app().await;
    let mut browser = app.signed_up("carol").await;
    let res = app.visit(&mut browser, "/dashboard").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.body.contains(r#"data-testid="dashboard-user">carol<"#),
        "{}",
        res.body
    );
    assert!(res.body.contains("Account created"), "events are listed");
    assert_eq!(res.header("cache-control"), Some("no-store"));

    let res = app.visit(&mut browser, "/account/sessions").await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body.contains("This device"));
    assert_eq!(res.header("cache-control"), Some("no-store"));
}

#[tokio::test]
async fn wrong_password_and_unknown_user_get_the_same_answer() {
    let app = spawn_app().await;
    app.signed_up("dave").await;
    let mut b = Browser::new();
    let wrong = app
        .call::<SignIn>(
            &mut b,
            &[("username", "dave"), ("password", "not the password")],
            Submit::Js,
        )
        .await;
    let unknown = app
        .call::<SignIn>(
            &mut b,
            &[("username", "nobody"), ("password", PASSWORD)],
            Submit::Js,
        )
        .await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!((wrong.status, &wrong.body), (unknown.status, &unknown.body));
    assert!(b.session().is_none());
}

#[tokio::test]
async fn sign_up_rejects_bad_input_with_readable_errors() {
    let app = spawn_app().await;
    app.signed_up("erin").await;
    let mut b = Browser::new();
    for (user, pass, status, text) in [
        ("x", PASSWORD, StatusCode::BAD_REQUEST, "User name must be"),
        (
            "frank",
            "short",
            StatusCode::BAD_REQUEST,
            "Password must be",
        ),
        ("ERIN", PASSWORD, StatusCode::CONFLICT, "already taken"),
    ] {
        let res = app
            .call::<SignUp>(
                &mut b,
                &[("username", user), ("password", pass)],
                Submit::Js,
            )
            .await;
        assert_eq!(res.status, status, "{user}/{pass}: {}", res.body);
        assert!(res.body.contains("Invalid") || !res.body.is_empty());
        let err: app::error::AppError = serde_json::from_str(&res.body).expect("JSON error");
        assert!(err.to_string().contains(text), "{err}");
    }
}

#[tokio::test]
async fn a_cookie_set_before_sign_in_is_never_the_one_in_use_after() {
    let app = spawn_app().await;
    app.signed_up("fay").await;

    // An attacker-chosen (well-formed) token planted before sign-in.
    let planted = SessionToken::generate();
    let mut victim = Browser::new();
    victim
        .cookies
        .insert(COOKIE.into(), planted.expose().into());
    app.call::<SignIn>(
        &mut victim,
        &[("username", "fay"), ("password", PASSWORD)],
        Submit::Js,
    )
    .await;
    let now_using = victim.session().unwrap().clone();
    assert_ne!(now_using, planted.expose());

    // Re-signing in over a valid session replaces and ends the old one.
    let old = now_using;
    app.call::<SignIn>(
        &mut victim,
        &[("username", "fay"), ("password", PASSWORD)],
        Submit::Js,
    )
    .await;
    assert_ne!(victim.session().unwrap(), &old);
    tokio::time::sleep(StdDuration::from_millis(100)).await; // the old one is ended in the background
    let mut stale = Browser::new();
    stale.cookies.insert(COOKIE.into(), old);
    let res = app.visit(&mut stale, "/dashboard").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn idle_expiry_signs_out_and_clears_the_cookie() {
    let app = spawn_app().await;
    let mut b = app.signed_up("gus").await;
    app.clock.advance(Duration::minutes(20));
    assert_eq!(app.visit(&mut b, "/dashboard").await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(20)); // 20 min since last activity: still fine
    assert_eq!(app.visit(&mut b, "/dashboard").await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(31));
    let res = app.visit(&mut b, "/dashboard").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.header("set-cookie").unwrap().contains("Max-Age=0"));
    assert!(b.session().is_none(), "cookie cleared");
}

#[tokio::test]
async fn absolute_expiry_ends_an_active_session() {
    let app = spawn_app().await;
    let mut b = app.signed_up("hana").await;
    for _ in 0..19 {
        app.clock.advance(Duration::minutes(25));
        assert_eq!(app.visit(&mut b, "/dashboard").await.status, StatusCode::OK);
    }
    app.clock.advance(Duration::minutes(25)); // past 8 h
    assert_eq!(
        app.visit(&mut b, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn revoke_one_others_and_everywhere() {
    let app = spawn_app().await;
    let mut laptop = app.signed_up("ivan").await;
    let mut phone = app.signed_in("ivan").await;
    let mut tablet = app.signed_in("ivan").await;

    // The laptop lists three sessions and signs out the phone.
    let res = app.visit(&mut laptop, "/account/sessions").await;
    assert_eq!(res.body.matches(r#"data-testid="session""#).count(), 3);
    let phone_id = current_session_id(&app, &phone).await;
    let res = app
        .call::<RevokeSession>(&mut laptop, &[("id", &phone_id)], Submit::Js)
        .await;
    assert!(res.status.is_success(), "{}", res.body);
    assert_eq!(
        app.visit(&mut phone, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );

    // Revoking an unknown id is a clean 404.
    let res = app
        .call::<RevokeSession>(
            &mut laptop,
            &[("id", &engine::SessionId::new().to_string())],
            Submit::Js,
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .call::<RevokeSession>(&mut laptop, &[("id", "' OR 1=1 --")], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);

    // Sign out all others: the tablet goes, the laptop stays.
    app.call::<RevokeOtherSessions>(&mut laptop, &[], Submit::Js)
        .await;
    assert_eq!(
        app.visit(&mut tablet, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.visit(&mut laptop, "/dashboard").await.status,
        StatusCode::OK
    );

    // Everywhere: the laptop too.
    let mut desktop = app.signed_in("ivan").await;
    let res = app
        .call::<SignOutEverywhere>(&mut laptop, &[], Submit::Js)
        .await;
    assert!(res.header("clear-site-data").is_some());
    assert!(laptop.session().is_none());
    assert_eq!(
        app.visit(&mut desktop, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn revocation_needs_a_session() {
    let app = spawn_app().await;
    let mut anon = Browser::new();
    let res = app
        .call::<RevokeOtherSessions>(&mut anon, &[], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn logout_ends_the_session_clears_the_cookie_and_site_data() {
    let app = spawn_app().await;
    let mut b = app.signed_up("judy").await;
    let token = b.session().unwrap().clone();
    let res = app.call::<Logout>(&mut b, &[], Submit::Html).await;
    assert!(res.status.is_redirection());
    assert_eq!(res.header("location"), Some("/login?signed_out=1"));
    assert_eq!(res.header("clear-site-data"), Some(r#""storage""#));
    // Each session cookie is removed by name; the device cookie stays.
    let set_cookies = res.headers_all("set-cookie");
    for name in ["__Host-session=", "__Secure-refresh=", "__Host-csrf="] {
        assert!(
            set_cookies
                .iter()
                .any(|c| c.starts_with(name) && c.contains("Max-Age=0")),
            "{name} not removed: {set_cookies:?}"
        );
    }
    assert!(
        !set_cookies.iter().any(|c| c.starts_with("__Host-device=")),
        "{set_cookies:?}"
    );
    assert!(b.cookies.contains_key("__Host-device"));
    assert!(b.session().is_none());

    // Replaying the old cookie does not work.
    let mut replay = Browser::new();
    replay.cookies.insert(COOKIE.into(), token);
    assert_eq!(
        app.visit(&mut replay, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn next_only_accepts_local_paths() {
    let app = spawn_app().await;
    app.signed_up("kim").await;
    for (next, expected) in [
        ("/account/sessions", "/account/sessions"),
        ("//evil.example", "/dashboard"),
        ("https://evil.example", "/dashboard"),
        ("/\\evil.example", "/dashboard"),
        ("javascript:alert(1)", "/dashboard"),
    ] {
        let mut b = Browser::new();
        let res = app
            .call::<SignIn>(
                &mut b,
                &[("username", "kim"), ("password", PASSWORD), ("next", next)],
                Submit::Html,
            )
            .await;
        assert_eq!(res.header("location"), Some(expected), "next={next}");
    }
}

#[tokio::test]
async fn plain_form_errors_come_back_as_a_redirect_with_a_code() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let res = app
        .call::<SignIn>(
            &mut b,
            &[
                ("username", "nobody"),
                ("password", PASSWORD),
                ("next", "/account/sessions"),
            ],
            Submit::Html,
        )
        .await;
    assert!(res.status.is_redirection());
    assert_eq!(
        res.header("location"),
        Some("/login?error=invalid_credentials&next=%2Faccount%2Fsessions")
    );
    // And the login page shows the message for that code.
    let page = app.get("/login?error=invalid_credentials").await;
    assert!(page.body.contains("Invalid user name or password."));
    let page = app.get("/login?error=%3Cscript%3E").await;
    assert!(!page.body.contains("<script>"));
}

#[tokio::test]
async fn anonymous_requests_write_nothing() {
    let app = spawn_app().await;
    for path in [
        "/",
        "/login",
        "/signup",
        "/status",
        "/dashboard",
        "/favicon.svg",
    ] {
        app.get(path).await;
    }
    assert_eq!(app.session_rows().await, 0);
    let events: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM auth_events")
        .fetch_one(app.sqlite())
        .await
        .unwrap();
    assert_eq!(events, 0);
}

#[tokio::test]
async fn the_cleanup_task_deletes_expired_and_revoked_rows_and_old_events() {
    let app = spawn_app().await;
    let mut gone = app.signed_up("leo").await;
    let _idle = app.signed_in("leo").await;
    app.call::<Logout>(&mut gone, &[], Submit::Js).await;
    assert_eq!(app.session_rows().await, 2);

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::tasks::purge_expired_sessions(
        app.state.auth.clone(),
        (Duration::milliseconds(20), Duration::days(90)),
        stopped,
    ));
    wait_for(|| async { app.session_rows().await == 1 }).await; // the revoked one
    app.clock.advance(Duration::minutes(31));
    wait_for(|| async { app.session_rows().await == 0 }).await; // the idle one
    let events = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM auth_events")
            .fetch_one(app.sqlite())
            .await
            .unwrap()
    };
    assert_eq!(
        events().await,
        3,
        "sign-up, sign-in, logout: within retention"
    );
    let notices = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM security_notices")
            .fetch_one(app.sqlite())
            .await
            .unwrap()
    };
    assert_eq!(notices().await, 1, "the sign-in from a new browser");
    app.clock.advance(Duration::days(90));
    wait_for(|| async { events().await == 0 }).await; // past the retention
    wait_for(|| async { notices().await == 0 }).await;
    stop.send(true).unwrap();
    tokio::time::timeout(StdDuration::from_secs(2), task)
        .await
        .expect("task stops on shutdown")
        .unwrap();
}

#[tokio::test]
async fn the_cleanup_task_deletes_rotated_refresh_tokens_after_their_retention() {
    let app = spawn_app().await;
    app.signed_up("mia").await;
    let mut b = Browser::new();
    let fields = [
        ("username", "mia"),
        ("password", PASSWORD),
        ("remember", "on"),
    ];
    app.call::<SignIn>(&mut b, &fields, Submit::Js).await;
    let first = b.cookies.get(engine::cookie::REFRESH_COOKIE).cloned();
    for _ in 0..2 {
        assert_eq!(app.refresh(&mut b).await.status, StatusCode::OK);
    }
    let rotated = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM refresh_tokens WHERE rotated_at IS NOT NULL",
        )
        .fetch_one(app.sqlite())
        .await
        .unwrap()
    };
    assert_eq!(rotated().await, 2);

    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::tasks::purge_expired_sessions(
        app.state.auth.clone(),
        (Duration::milliseconds(20), Duration::days(90)),
        stopped,
    ));
    // Past a normal session's lifetime; the remember-me session lives on.
    app.clock.advance(Duration::hours(8) + Duration::minutes(1));
    assert_eq!(app.refresh(&mut b).await.status, StatusCode::OK);
    wait_for(|| async { rotated().await == 1 }).await; // the one just rotated stays
    assert_eq!(app.visit(&mut b, "/dashboard").await.status, StatusCode::OK);
    // A replay of a purged token is refused, and ends nothing.
    let mut thief = Browser::new();
    app.visit(&mut thief, "/login").await; // a CSRF token of its own
    thief
        .cookies
        .insert(engine::cookie::REFRESH_COOKIE.into(), first.unwrap());
    assert_eq!(
        app.refresh(&mut thief).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.visit(&mut b, "/dashboard").await.status, StatusCode::OK);
    stop.send(true).unwrap();
    task.await.unwrap();
}

async fn wait_for<F, Fut>(cond: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..200 {
        if cond().await {
            return;
        }
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
    panic!("condition not met within 2 s");
}

/// The id of the session behind `browser`'s cookie.
pub(crate) async fn current_session_id(app: &crate::helpers::TestApp, browser: &Browser) -> String {
    let token = SessionToken::parse(browser.session().unwrap()).unwrap();
    sqlx::query_scalar("SELECT id FROM sessions WHERE token_hash = ?")
        .bind(&token.hash().as_bytes()[..])
        .fetch_one(app.sqlite())
        .await
        .unwrap()
}

#[tokio::test]
async fn responses_that_keep_the_session_say_when_it_ends() {
    use app::{server_fns::account::LoadDashboard, session_clock::SessionTimes};
    use engine::Clock as _;

    let app = spawn_app().await;
    let times = |res: &crate::helpers::TestResponse| {
        res.header(app::session_clock::HEADER)
            .map(|v| SessionTimes::from_header(v).expect("parseable times"))
    };
    let mut b = Browser::new();
    let res = app
        .call::<SignUp>(
            &mut b,
            &[("username", "ines"), ("password", PASSWORD)],
            Submit::Js,
        )
        .await;
    assert_eq!(times(&res), None, "a sign-in response sets a new session");
    assert_eq!(
        times(&app.visit(&mut Browser::new(), "/login").await),
        None,
        "anonymous"
    );

    let start = app.clock.now().unix_timestamp();
    let t = times(&app.visit(&mut b, "/dashboard").await).expect("times on an SSR page");
    assert_eq!(t.now, start);
    assert_eq!(t.idle_expires_at, start + 30 * 60);
    assert_eq!(t.expires_at, start + 8 * 3600);
    assert_eq!(t.warn_before, 120);

    // Activity ten minutes later slides the idle expiry; the server function
    // response reports it.
    app.clock.advance(Duration::minutes(10));
    let res = app.call::<LoadDashboard>(&mut b, &[], Submit::Js).await;
    let t = times(&res).expect("times on a server function response");
    assert_eq!(t.last_seen_at, start + 600);
    assert_eq!(t.idle_expires_at, start + 600 + 30 * 60);
    assert_eq!(t.expires_at, start + 8 * 3600, "the absolute cap stays");

    // The refresh that "stay signed in" performs reports them too.
    app.clock.advance(Duration::minutes(28));
    let t = times(&app.refresh(&mut b).await).expect("times on a refresh");
    assert_eq!(t.idle_expires_at, start + 38 * 60 + 30 * 60);

    let res = app.call::<Logout>(&mut b, &[], Submit::Js).await;
    assert_eq!(times(&res), None, "a sign-out ends the session");
}
