//! Brute-force limits: the 429, its `Retry-After`, and recovery once the
//! window has passed.

use std::time::Duration;

use app::server_fns::auth::{SignIn, SignUp};
use axum::http::StatusCode;

use crate::helpers::{spawn_app_with, Browser, Submit, PASSWORD};

const DEVICE: &str = engine::cookie::DEVICE_COOKIE;

#[tokio::test]
async fn failed_sign_ins_lock_unknown_browsers_out_but_not_the_owners() {
    let app = spawn_app_with(&[("RATE_LIMIT_CREDENTIALS_PER_ACCOUNT", "3/3s")]).await;
    // The owner's browser signed up here: it carries the device cookie.
    let mut owner = app.signed_up("ivy").await;
    assert!(owner.cookies.contains_key(DEVICE), "{:?}", owner.cookies);
    // Right passwords never count against the account.
    for _ in 0..4 {
        app.signed_in("ivy").await;
    }

    // A stranger's wrong guesses spend the account's failure budget...
    let mut stranger = Browser::new();
    let wrong = [("username", "ivy"), ("password", "not the password")];
    for _ in 0..3 {
        let res = app.call::<SignIn>(&mut stranger, &wrong, Submit::Js).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    // ...so a browser the account has not signed in from is refused,
    // unhashed, even with the right password.
    let right = [("username", "IVY"), ("password", PASSWORD)];
    let res = app.call::<SignIn>(&mut stranger, &right, Submit::Js).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = res.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=3).contains(&retry), "Retry-After: {retry}");
    assert!(res.body.contains("TooManyAttempts"), "{}", res.body);
    assert!(stranger.session().is_none());
    // A device cookie made for another account does not help.
    let olga = app.signed_up("olga").await;
    let mut other = Browser::new();
    other
        .cookies
        .insert(DEVICE.into(), olga.cookies[DEVICE].clone());
    let res = app.call::<SignIn>(&mut other, &right, Submit::Js).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Nor does a forged one.
    let mut forged = Browser::new();
    forged.cookies.insert(
        DEVICE.into(),
        format!("{}.{}", "A".repeat(22), "B".repeat(43)),
    );
    let res = app.call::<SignIn>(&mut forged, &right, Submit::Js).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);

    // The owner's browser signs in during the lock, and is told.
    let res = app.call::<SignIn>(&mut owner, &right, Submit::Js).await;
    assert_ne!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert!(owner.session().is_some(), "{}", res.body);
    let dashboard = app.visit(&mut owner, "/dashboard").await;
    assert!(
        dashboard
            .body
            .contains("Sign-in paused after repeated wrong passwords"),
        "{}",
        dashboard.body
    );
    let locks: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM auth_events WHERE kind = 'signin_locked'")
            .fetch_one(app.sqlite())
            .await
            .unwrap();
    assert_eq!(locks, 1, "one lock, recorded once");

    // Another account from the stranger's address is not affected.
    let res = app
        .call::<SignIn>(
            &mut Browser::new(),
            &[("username", "someone"), ("password", PASSWORD)],
            Submit::Js,
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // Without JavaScript the form says so.
    let res = app
        .call::<SignIn>(&mut stranger, &right, Submit::Html)
        .await;
    let location = res.header("location").unwrap().to_owned();
    assert!(location.contains("error=too_many_attempts"), "{location}");
    let page = app.visit(&mut stranger, &location).await;
    assert!(page.body.contains("Too many attempts"), "{}", page.body);

    tokio::time::sleep(Duration::from_secs(retry)).await;
    let res = app.call::<SignIn>(&mut stranger, &right, Submit::Js).await;
    assert_ne!(
        res.status,
        StatusCode::TOO_MANY_REQUESTS,
        "recovered after Retry-After"
    );
    assert!(stranger.session().is_some(), "{}", res.body);
    assert!(stranger.cookies.contains_key(DEVICE), "now recognised");
}

#[tokio::test]
async fn attempts_per_address_cover_every_account_name() {
    let app = spawn_app_with(&[("RATE_LIMIT_CREDENTIALS_PER_IP", "2/1m")]).await;
    let mut b = Browser::new();
    for name in ["a1", "a2"] {
        let res = app
            .call::<SignIn>(
                &mut b,
                &[("username", name), ("password", PASSWORD)],
                Submit::Js,
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = app
        .call::<SignIn>(
            &mut b,
            &[("username", "a3"), ("password", PASSWORD)],
            Submit::Js,
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.header("retry-after").is_some());
    // Refused ahead of everything else (the CSRF check included: this one
    // carries no token), the same way for a plain form.
    // Held for a moment first (a tarpit for flooders that wait for it).
    let fields = [("username", "a4"), ("password", PASSWORD)];
    let started = std::time::Instant::now();
    let res = app
        .call_raw::<SignIn>(&mut b, &fields, Submit::Js, &[], None)
        .await;
    assert!(started.elapsed() >= server::credential_gate::REFUSAL_DELAY);
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    let err: app::error::AppError = serde_json::from_str(&res.body).expect("typed error");
    assert_eq!(err, app::error::AppError::TooManyAttempts);
    let res = app
        .call_raw::<SignIn>(&mut b, &fields, Submit::Html, &[], None)
        .await;
    assert!(res.status.is_redirection(), "{}", res.status);
    assert_eq!(
        res.header("location"),
        Some("/login?error=too_many_attempts")
    );
    // Sign-up shares the address's budget, and goes back to its own form.
    let res = app
        .call_raw::<SignUp>(&mut b, &fields, Submit::Html, &[], None)
        .await;
    assert_eq!(
        res.header("location"),
        Some("/signup?error=too_many_attempts")
    );
}

#[tokio::test]
async fn refreshes_per_address_are_limited() {
    let app = spawn_app_with(&[("RATE_LIMIT_REFRESH_PER_IP", "2/1m")]).await;
    let mut b = app.signed_up("rae").await;
    for _ in 0..2 {
        assert_eq!(app.refresh(&mut b).await.status, StatusCode::OK);
    }
    let res = app.refresh(&mut b).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.header("retry-after").is_some());
    assert!(res.body.contains("too_many_requests"), "{}", res.body);
}

/// Sign-in attempts from one socket peer (127.0.0.1), each claiming the
/// client address in `X-Forwarded-For` it is paired with.
async fn forwarded_attempts(vars: &[(&str, &str)], clients: &[&str]) -> Vec<StatusCode> {
    let app = spawn_app_with(vars).await;
    let mut b = Browser::new();
    app.visit(&mut b, "/login").await;
    let token = b.csrf().unwrap().clone();
    let mut statuses = Vec::new();
    for (n, client) in clients.iter().enumerate() {
        let name = format!("p{n}");
        let res = app
            .call_raw::<SignIn>(
                &mut b,
                &[("username", &name), ("password", PASSWORD)],
                Submit::Js,
                &[
                    ("sec-fetch-site", "same-origin"),
                    ("x-forwarded-for", client),
                ],
                Some(&token),
            )
            .await;
        statuses.push(res.status);
    }
    statuses
}

/// Two sign-in attempts from one socket peer (127.0.0.1) claiming two
/// different client addresses in `X-Forwarded-For`.
async fn two_forwarded_attempts(vars: &[(&str, &str)]) -> (StatusCode, StatusCode) {
    let statuses = forwarded_attempts(vars, &["203.0.113.1", "203.0.113.2"]).await;
    (statuses[0], statuses[1])
}

#[tokio::test]
async fn forwarded_addresses_are_ignored_without_a_trusted_proxy() {
    let (first, second) =
        two_forwarded_attempts(&[("RATE_LIMIT_CREDENTIALS_PER_IP", "1/1m")]).await;
    assert_eq!(first, StatusCode::UNAUTHORIZED);
    assert_eq!(
        second,
        StatusCode::TOO_MANY_REQUESTS,
        "one client: the socket's"
    );
}

#[tokio::test]
async fn forwarded_addresses_count_behind_a_trusted_proxy() {
    let (first, second) = two_forwarded_attempts(&[
        ("RATE_LIMIT_CREDENTIALS_PER_IP", "1/1m"),
        ("TRUSTED_PROXIES", "127.0.0.1"),
    ])
    .await;
    assert_eq!(first, StatusCode::UNAUTHORIZED);
    assert_eq!(
        second,
        StatusCode::UNAUTHORIZED,
        "two clients behind the proxy"
    );
}

/// A burst of sign-ins beyond the hashing queue (one hash per core, four
/// more per core waiting) is refused at once with 503, `Retry-After` and a
/// readable message, instead of queueing without bound; nothing else waits
/// for it, and the site still answers once the burst is over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_burst_past_the_hashing_queue_gets_503_at_once() {
    let app = spawn_app_with(&[]).await;
    let mut browser = Browser::new();
    app.visit(&mut browser, "/login").await;
    let names: Vec<String> = (0..64).map(|i| format!("stranger{i}")).collect();
    let attempts = names.iter().map(|name| {
        let mut b = browser.clone();
        let app = &app;
        async move {
            let fields = [
                ("username", name.as_str()),
                ("password", "not the password"),
            ];
            app.call::<SignIn>(&mut b, &fields, Submit::Js).await
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let busy: Vec<_> = answers
        .iter()
        .filter(|r| r.status == StatusCode::SERVICE_UNAVAILABLE)
        .collect();
    assert!(!busy.is_empty(), "no attempt was refused");
    for res in &busy {
        assert_eq!(res.header("retry-after"), Some("2"));
        assert!(res.body.contains("Busy"), "{}", res.body);
    }
    assert!(
        answers.iter().all(|r| matches!(
            r.status,
            StatusCode::UNAUTHORIZED | StatusCode::SERVICE_UNAVAILABLE
        )),
        "only wrong-password and busy answers"
    );
    // A form posted without JavaScript learns it through the redirect back
    // to the form, which says so in words.
    let attempts = names.iter().map(|name| {
        let mut b = browser.clone();
        let app = &app;
        async move {
            let fields = [
                ("username", name.as_str()),
                ("password", "not the password"),
            ];
            app.call::<SignIn>(&mut b, &fields, Submit::Html).await
        }
    });
    let answers = futures::future::join_all(attempts).await;
    let busy = answers
        .iter()
        .filter_map(|r| r.header("location"))
        .find(|location| location.contains("error=busy"))
        .expect("no form was sent back as busy")
        .to_owned();
    let page = app.visit(&mut browser.clone(), &busy).await;
    assert!(
        page.body
            .contains("The server is busy checking other sign-ins"),
        "{}",
        page.body
    );
    // Once the burst is over, sign-ins are checked again.
    let mut b = browser.clone();
    let fields = [("username", "stranger0"), ("password", "not the password")];
    let res = app.call::<SignIn>(&mut b, &fields, Submit::Js).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

/// Rotating addresses within one IPv6 /64 is one client: the third attempt
/// from the same /64 is throttled, however the proxy wrote the address
/// (bare, bracketed, with a port). Another /64 has its own budget.
#[tokio::test]
async fn an_ipv6_64_rotation_hits_429() {
    let statuses = forwarded_attempts(
        &[
            ("RATE_LIMIT_CREDENTIALS_PER_IP", "2/1m"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
        &[
            "2001:db8:1:2::1",
            "[2001:db8:1:2::2]:443",
            "[2001:db8:1:2:ffff::3]",
            "2001:db8:1:3::1",
        ],
    )
    .await;
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
            StatusCode::UNAUTHORIZED,
        ]
    );
}

/// An IPv4 client behind a proxy that writes `ip:port` is that client, not
/// the proxy: two clients keep two budgets.
#[tokio::test]
async fn forwarded_entries_with_ports_name_their_client() {
    let statuses = forwarded_attempts(
        &[
            ("RATE_LIMIT_CREDENTIALS_PER_IP", "1/1m"),
            ("TRUSTED_PROXIES", "127.0.0.1"),
        ],
        &["203.0.113.1:5000", "203.0.113.2:5001", "203.0.113.1:5002"],
    )
    .await;
    assert_eq!(
        statuses,
        [
            StatusCode::UNAUTHORIZED,
            StatusCode::UNAUTHORIZED,
            StatusCode::TOO_MANY_REQUESTS,
        ]
    );
}

/// A refresh without a refresh cookie (every static page load of an
/// anonymous visitor) creates no rate-limit bucket.
#[tokio::test]
async fn refreshes_without_a_cookie_create_no_bucket() {
    let app = spawn_app_with(&[("TRUSTED_PROXIES", "127.0.0.1")]).await;
    let mut b = Browser::new();
    app.visit(&mut b, "/login").await;
    let (cookies, token) = (b.cookie_header_value().unwrap(), b.csrf().unwrap().clone());
    let before = app.state.throttle.buckets();
    for n in 0..20 {
        let res = app
            .send(
                axum::http::Request::builder()
                    .method("POST")
                    .uri("/api/auth/refresh")
                    .header("sec-fetch-site", "same-origin")
                    .header("cookie", &cookies)
                    .header("x-csrf-token", &token)
                    .header("x-forwarded-for", format!("198.51.100.{n}"))
                    .body(axum::body::Body::empty())
                    .unwrap(),
            )
            .await;
        assert_eq!(res.status, StatusCode::NO_CONTENT);
    }
    assert_eq!(app.state.throttle.buckets(), before);
}
