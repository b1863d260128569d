//! The account around the session over HTTP: step-up (re-authentication),
//! password change and account deletion.

use app::server_fns::{
    account::SignOutEverywhere,
    security::{ChangePassword, ConfirmPassword, DeleteAccount},
};
use axum::http::StatusCode;
use time::Duration;

use crate::helpers::{spawn_app, spawn_app_with, Browser, Submit, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "quiet cedar meadow";

fn error_of(body: &str) -> app::error::AppError {
    serde_json::from_str(body).expect("a JSON AppError")
}

impl TestApp {
    async fn change_password(&self, b: &mut Browser, current: &str, new: &str) -> StatusCode {
        let fields = [("current_password", current), ("new_password", new)];
        self.call::<ChangePassword>(b, &fields, Submit::Js)
            .await
            .status
    }
}

#[tokio::test]
async fn a_password_change_signs_out_other_devices_and_replaces_this_token() {
    let app = spawn_app().await;
    let mut here = app.signed_up("pat").await;
    let mut other = app.signed_in("pat").await;
    let old_token = here.session().cloned().unwrap();

    let status = app.change_password(&mut here, "not it", NEW_PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "wrong current password");
    let res = app
        .call::<ChangePassword>(
            &mut here,
            &[
                ("current_password", PASSWORD),
                ("new_password", "password1"),
            ],
            Submit::Js,
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let advice = error_of(&res.body).to_string();
    assert!(
        advice.starts_with("This password is easy to guess."),
        "{advice}"
    );
    assert_eq!(here.session(), Some(&old_token), "nothing changed yet");

    let status = app.change_password(&mut here, PASSWORD, NEW_PASSWORD).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let new_token = here.session().cloned().unwrap();
    assert_ne!(new_token, old_token, "this browser got a new session");
    assert_eq!(
        app.visit(&mut here, "/dashboard").await.status,
        StatusCode::OK
    );

    // The other device, and the old cookie value, are signed out.
    let res = app.visit(&mut other, "/dashboard").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let mut stale = Browser::new();
    stale
        .cookies
        .insert(engine::cookie::SESSION_COOKIE.into(), old_token);
    let res = app.visit(&mut stale, "/dashboard").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);

    // The old password is refused, the new one accepted.
    let mut fresh = Browser::new();
    let res = app.sign_in(&mut fresh, "pat", PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let res = app.sign_in(&mut fresh, "pat", NEW_PASSWORD).await;
    assert!(fresh.session().is_some(), "{}", res.body);
    let events: Vec<String> = sqlx::query_scalar("SELECT kind FROM auth_events")
        .fetch_all(app.sqlite())
        .await
        .unwrap();
    assert!(events.iter().any(|k| k == "password_changed"), "{events:?}");
}

#[tokio::test]
async fn a_password_change_refuses_tokens_of_the_other_sessions_at_once() {
    let app = spawn_app().await;
    let mut here = app.signed_up("quin").await;
    let mut other = app.signed_in("quin").await;
    let res = app.refresh(&mut other).await;
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    assert_eq!(
        app.api("/api/me", Some(&token)).await.status,
        StatusCode::OK
    );

    let status = app.change_password(&mut here, PASSWORD, NEW_PASSWORD).await;
    assert!(status.is_success() || status.is_redirection(), "{status}");
    let res = app.api("/api/me", Some(&token)).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED, "before its exp");
    // This browser's refresh cookie was replaced too, and still works.
    let res = app.refresh(&mut here).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

#[tokio::test]
async fn past_the_window_pages_and_actions_ask_for_the_password_first() {
    let app = spawn_app_with(&[("REAUTH_WINDOW", "2m")]).await;
    let mut b = app.signed_up("rae").await;
    assert_eq!(
        app.visit(&mut b, "/account/password").await.status,
        StatusCode::OK,
        "a fresh sign-in is recent"
    );
    app.clock.advance(Duration::minutes(3));

    // A page answers 303 to the confirmation form, which returns to it.
    let res = app.visit(&mut b, "/account/password").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        res.header("location"),
        Some("/account/confirm?next=%2Faccount%2Fpassword")
    );
    assert_eq!(
        app.visit(&mut b, "/account/delete").await.status,
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        app.visit(&mut b, "/account/confirm").await.status,
        StatusCode::OK
    );

    // A server function answers with the typed error (from script) or a
    // redirect to the confirmation form (a plain form post).
    let res = app.call::<SignOutEverywhere>(&mut b, &[], Submit::Js).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(error_of(&res.body), app::error::AppError::ReauthRequired);
    let res = app
        .call::<SignOutEverywhere>(&mut b, &[], Submit::Html)
        .await;
    assert_eq!(
        res.header("location"),
        Some("/account/confirm?next=%2Faccount%2Fsessions")
    );
    let fields = [
        ("current_password", PASSWORD),
        ("new_password", NEW_PASSWORD),
    ];
    let res = app
        .call::<ChangePassword>(&mut b, &fields, Submit::Js)
        .await;
    assert_eq!(error_of(&res.body), app::error::AppError::ReauthRequired);
    assert!(b.session().is_some(), "still signed in");

    // A wrong password does not confirm.
    let res = app
        .call::<ConfirmPassword>(
            &mut b,
            &[("password", "not it"), ("next", "/account/password")],
            Submit::Html,
        )
        .await;
    let location = res.header("location").unwrap_or_default();
    assert!(
        location.starts_with("/account/confirm?error=wrong_password"),
        "{location}"
    );
    assert_eq!(
        app.visit(&mut b, "/account/password").await.status,
        StatusCode::SEE_OTHER
    );

    // The right one returns to `next`, and only to a local one.
    let res = app
        .call::<ConfirmPassword>(
            &mut b,
            &[("password", PASSWORD), ("next", "//evil.example/x")],
            Submit::Html,
        )
        .await;
    assert_eq!(
        res.header("location"),
        Some("/dashboard"),
        "next stays local"
    );
    let res = app
        .call::<ConfirmPassword>(
            &mut b,
            &[("password", PASSWORD), ("next", "/account/password")],
            Submit::Html,
        )
        .await;
    assert_eq!(res.header("location"), Some("/account/password"));
    assert_eq!(
        app.visit(&mut b, "/account/password").await.status,
        StatusCode::OK
    );
    let res = app
        .call::<ChangePassword>(&mut b, &fields, Submit::Js)
        .await;
    assert!(b.session().is_some(), "{}", res.body);
    assert!(!res.status.is_client_error(), "{}", res.body);
}

#[tokio::test]
async fn a_deleted_account_cannot_sign_in_and_leaves_nothing_behind() {
    let app = spawn_app().await;
    let mut b = app.signed_up("sam").await;
    let mut other = app.signed_in("sam").await;
    let res = app.refresh(&mut other).await;
    let body: serde_json::Value = serde_json::from_str(&res.body).unwrap();
    let token = body["access_token"].as_str().unwrap().to_owned();
    let _bystander = app.signed_up("tess").await;
    assert!(b.cookies.contains_key(engine::cookie::DEVICE_COOKIE));

    let res = app
        .call::<DeleteAccount>(&mut b, &[("username", "someone")], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "the name must match");
    assert_eq!(
        error_of(&res.body),
        app::error::AppError::ConfirmationMismatch
    );

    let res = app
        .call::<DeleteAccount>(&mut b, &[("username", " SAM ")], Submit::Html)
        .await;
    assert_eq!(res.header("location"), Some("/login?deleted=1"));
    assert!(b.session().is_none(), "session cookie cleared");
    assert!(
        !b.cookies.contains_key(engine::cookie::DEVICE_COOKIE),
        "device cookie cleared"
    );

    // Their JWT is refused at once; their other device is signed out.
    assert_eq!(
        app.api("/api/me", Some(&token)).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.visit(&mut other, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
    let res = app.sign_in(&mut Browser::new(), "sam", PASSWORD).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    // Their rows are gone; the bystander's are not.
    for (table, expected) in [
        ("SELECT COUNT(*) FROM users", 1),
        ("SELECT COUNT(*) FROM sessions", 1),
        (
            "SELECT COUNT(*) FROM auth_events WHERE user_id IS NOT NULL",
            1,
        ),
        (
            "SELECT COUNT(*) FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id",
            1,
        ),
        ("SELECT COUNT(*) FROM refresh_tokens", 1),
    ] {
        let n: i64 = sqlx::query_scalar(table)
            .fetch_one(app.sqlite())
            .await
            .unwrap();
        assert_eq!(n, expected, "{table}");
    }
    // The name can be registered again.
    app.signed_up("sam").await;
}

#[tokio::test]
async fn sign_out_everywhere_past_the_window_confirms_with_the_password_sent() {
    let app = spawn_app().await;
    let mut b = app.signed_up("uma").await;
    let mut other = app.signed_in("uma").await;
    app.clock.advance(Duration::minutes(11));
    let res = app
        .call::<SignOutEverywhere>(&mut b, &[("password", "not it")], Submit::Js)
        .await;
    assert_eq!(error_of(&res.body), app::error::AppError::WrongPassword);
    assert_eq!(
        app.visit(&mut other, "/dashboard").await.status,
        StatusCode::OK
    );
    let res = app
        .call::<SignOutEverywhere>(&mut b, &[("password", PASSWORD)], Submit::Js)
        .await;
    assert!(!res.status.is_client_error(), "{}", res.body);
    assert!(b.session().is_none(), "this device signed out too");
    assert_eq!(
        app.visit(&mut other, "/dashboard").await.status,
        StatusCode::SEE_OTHER
    );
}

/// The dashboard's notices as the page data carries them.
async fn notices(app: &TestApp, b: &mut Browser) -> Vec<app::server_fns::account::NoticeView> {
    use app::server_fns::account::{Dashboard, LoadDashboard};
    let res = app.call::<LoadDashboard>(b, &[], Submit::Js).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    serde_json::from_str::<Dashboard>(&res.body)
        .expect("dashboard JSON")
        .notices
}

#[tokio::test]
async fn notices_tell_of_a_new_browser_and_failed_attempts_until_dismissed() {
    use app::server_fns::account::DismissNotice;
    let app = spawn_app().await;
    let mut home = app.signed_up("quin").await;
    assert!(notices(&app, &mut home).await.is_empty(), "sign-up: none");

    // The same browser signs in again: it is known, nothing to tell.
    let signed_in = app.sign_in(&mut home, "quin", PASSWORD).await;
    assert!(signed_in.status.is_success() || signed_in.status.is_redirection());
    assert!(notices(&app, &mut home).await.is_empty(), "a known browser");

    // Two wrong guesses from elsewhere, then a sign-in from a new browser.
    for _ in 0..2 {
        let res = app
            .sign_in(&mut Browser::new(), "quin", "not the password")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let mut away = app.signed_in("quin").await;
    let listed = notices(&app, &mut home).await;
    let messages: Vec<_> = listed.iter().map(|n| n.message.as_str()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].starts_with("New sign-in from a browser"),
        "{messages:?}"
    );
    assert_eq!(
        messages[1],
        "2 failed sign-in attempts since your previous sign-in."
    );

    // Only the owner dismisses, with a credential proved after the notice
    // (the sign-in that raised it is not such a proof); a plain form post
    // comes back to the page.
    let mut stranger = app.signed_up("rex").await;
    let id = listed[0].id.as_str();
    let res = app
        .call::<DismissNotice>(&mut stranger, &[("id", id)], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .call::<DismissNotice>(&mut away, &[("id", "not a number")], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .call::<DismissNotice>(&mut away, &[("id", id)], Submit::Html)
        .await;
    assert_eq!(
        res.header("location"),
        Some("/account/confirm?next=%2Fdashboard"),
        "the session that raised it must prove a credential first"
    );
    app.confirm(&mut away).await;
    let res = app
        .call::<DismissNotice>(&mut away, &[("id", id)], Submit::Html)
        .await;
    assert!(res.status.is_redirection(), "{}", res.status);
    assert_eq!(res.header("location"), Some("/dashboard"));
    let left = notices(&app, &mut home).await;
    assert_eq!(left.len(), 1, "one dismissed, on every device");
    assert_eq!(left[0].id, listed[1].id);
}
