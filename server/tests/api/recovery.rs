//! A password reset by email over HTTP: the request's answer reveals
//! nothing, and the link's reset ends everything the account had signed
//! in.

use app::{
    error::AppError,
    server_fns::recovery::{RequestPasswordReset, ResetPassword},
};
use axum::http::StatusCode;
use time::Duration;

use crate::helpers::{spawn_app, Browser, Submit, TestApp, PASSWORD};

const NEW_PASSWORD: &str = "quiet cedar meadow";

fn error_of(body: &str) -> AppError {
    serde_json::from_str(body).expect("a JSON AppError")
}

impl TestApp {
    /// `name`, signed up with `address` verified; their browser.
    async fn with_verified_address(&self, name: &str, address: &str) -> Browser {
        let mut browser = self.signed_up(name).await;
        let (status, body) = self.set_email(&mut browser, address).await;
        assert!(status.is_success(), "{status} {body}");
        let token = self.latest_token(address).await;
        let (status, body) = self.verify(&mut Browser::new(), &token).await;
        assert!(status.is_success(), "{status} {body}");
        browser
    }

    async fn ask_reset(
        &self,
        b: &mut Browser,
        email: &str,
        how: Submit,
    ) -> (StatusCode, String, Option<String>) {
        let res = self
            .call::<RequestPasswordReset>(b, &[("email", email)], how)
            .await;
        (
            res.status,
            res.body.clone(),
            res.header("location").map(str::to_owned),
        )
    }

    /// The messages in the outbox with `subject` in their subject, once the
    /// background lookups have settled.
    async fn outbox_with(&self, subject: &str, expected: usize) -> Vec<engine::email::Mail> {
        for _ in 0..100 {
            let mut found = self.state.auth.recent_mail(50).await.unwrap();
            found.retain(|m| m.mail.subject.contains(subject));
            if found.len() >= expected {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Anything more would have been queued by now too.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut all = self.state.auth.recent_mail(50).await.unwrap();
        all.retain(|m| m.mail.subject.contains(subject));
        all.into_iter().map(|m| m.mail).collect()
    }

    async fn reset(&self, b: &mut Browser, token: &str, password: &str) -> (StatusCode, String) {
        let fields = [("token", token), ("new_password", password)];
        let res = self.call::<ResetPassword>(b, &fields, Submit::Js).await;
        (res.status, res.body)
    }
}

fn token_in(mail: &engine::email::Mail) -> String {
    let start = mail.text.find("token=").expect("a link") + "token=".len();
    mail.text[start..]
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn asking_for_a_reset_answers_alike_for_every_address() {
    let app = spawn_app().await;
    app.with_verified_address("ada", "ada@example.com").await;
    let mut bob = app.signed_up("bob").await;
    app.set_email(&mut bob, "bob@example.com").await; // never verified

    let mut stranger = Browser::new();
    for how in [Submit::Js, Submit::Html] {
        let mut seen = Vec::new();
        for address in ["ADA@example.com", "bob@example.com", "nobody@example.com"] {
            let answer = app.ask_reset(&mut stranger, address, how).await;
            assert!(
                answer.0.is_success() || answer.0.is_redirection(),
                "{address}: {answer:?}"
            );
            seen.push(answer);
        }
        assert!(seen.windows(2).all(|w| w[0] == w[1]), "{how:?}: {seen:?}");
    }
    // Only the verified address got mail (once: the second ask was within
    // the minute, and the limit said nothing to the asker).
    let mail = app.outbox_with("Reset your password", 1).await;
    assert_eq!(mail.len(), 1);
    assert_eq!(
        mail[0].to, "ada@example.com",
        "the address as the account holds it"
    );
    let (status, body, _) = app
        .ask_reset(&mut stranger, "not an address", Submit::Js)
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::InvalidEmail)
    );
}

#[tokio::test]
async fn a_reset_ends_every_session_and_signs_this_browser_in() {
    let app = spawn_app().await;
    let mut here = app.with_verified_address("ada", "ada@example.com").await;
    let mut laptop = app.signed_in("ada").await;
    app.ask_reset(&mut Browser::new(), "ada@example.com", Submit::Js)
        .await;
    let token = token_in(&app.outbox_with("Reset your password", 1).await[0]);

    // A scanner's GET, and a weak first choice, leave the link working.
    let page = app.get(&format!("/reset-password?token={token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Set the new password"));
    let mut phone = Browser::new();
    let (status, body) = app.reset(&mut phone, &token, "password1").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        matches!(error_of(&body), AppError::WeakPassword(_)),
        "{body}"
    );
    assert!(phone.session().is_none());
    // Without JavaScript, the form comes back with its link's token.
    let fields = [("token", token.as_str()), ("new_password", "password1")];
    let res = app
        .call::<ResetPassword>(&mut phone, &fields, Submit::Html)
        .await;
    let back = res.header("location").unwrap();
    assert!(
        back.starts_with("/reset-password?error=weak_password"),
        "{back}"
    );
    let kept = back.split("&token=").nth(1).unwrap();
    let kept = percent_encoding::percent_decode_str(kept)
        .decode_utf8()
        .unwrap();
    assert_eq!(kept, token, "{back}");

    let (status, body) = app.reset(&mut phone, &token, NEW_PASSWORD).await;
    assert!(status.is_success(), "{status} {body}");
    assert!(phone.session().is_some(), "this browser is signed in");
    assert_eq!(
        app.visit(&mut phone, "/dashboard").await.status,
        StatusCode::OK
    );
    for browser in [&mut here, &mut laptop] {
        // Its refresh token too, replayed with a CSRF token of its own.
        let refresh = browser.cookies[engine::cookie::REFRESH_COOKIE].clone();
        let mut replay = Browser::new();
        app.visit(&mut replay, "/login").await;
        replay
            .cookies
            .insert(engine::cookie::REFRESH_COOKIE.into(), refresh);
        assert_eq!(
            app.refresh(&mut replay).await.status,
            StatusCode::UNAUTHORIZED
        );
        assert_eq!(
            app.visit(browser, "/dashboard").await.status,
            StatusCode::SEE_OTHER
        );
    }
    let old = app.sign_in(&mut Browser::new(), "ada", PASSWORD).await;
    assert_eq!(old.status, StatusCode::UNAUTHORIZED);
    let new = app.sign_in(&mut Browser::new(), "ada", NEW_PASSWORD).await;
    assert!(new.status.is_success());
    let dashboard = app.visit(&mut phone, "/dashboard").await.body;
    assert!(
        dashboard.contains("Your password was reset from a link mailed"),
        "the notice"
    );

    // Once only.
    let (status, body) = app
        .reset(&mut Browser::new(), &token, "another fine phrase")
        .await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected)
    );
}

#[tokio::test]
async fn a_reset_link_is_for_resets_for_15_minutes_and_the_newest_only() {
    let app = spawn_app().await;
    app.with_verified_address("ada", "ada@example.com").await;
    let mut stranger = Browser::new();
    app.ask_reset(&mut stranger, "ada@example.com", Submit::Js)
        .await;
    let first = token_in(&app.outbox_with("Reset your password", 1).await[0]);
    // For resets only: it verifies nothing.
    let (status, body) = app.verify(&mut Browser::new(), &first).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected)
    );

    app.clock.advance(Duration::minutes(2));
    app.ask_reset(&mut stranger, "ada@example.com", Submit::Js)
        .await;
    let mail = app.outbox_with("Reset your password", 2).await;
    let second = token_in(&mail[0]);
    assert_ne!(first, second);
    let (status, body) = app.reset(&mut Browser::new(), &first, NEW_PASSWORD).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected),
        "ended by the newer"
    );

    app.clock.advance(Duration::minutes(15));
    let (status, body) = app.reset(&mut Browser::new(), &second, NEW_PASSWORD).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected),
        "expired"
    );
    assert_eq!(
        app.sign_in(&mut Browser::new(), "ada", PASSWORD)
            .await
            .status,
        StatusCode::OK
    );
}

#[tokio::test]
async fn notices_reach_a_confirmed_address_by_mail_and_a_deletion_says_goodbye() {
    let app = spawn_app().await;
    let mut ada = app.with_verified_address("ada", "ada@example.com").await;
    let mut bob = app.signed_up("bob").await;
    app.set_email(&mut bob, "bob@example.com").await; // never confirmed

    // Signed in from browsers the accounts do not know.
    app.signed_in("ada").await;
    app.signed_in("bob").await;
    let mail = app.outbox_with("New sign-in", 1).await;
    assert_eq!(mail.len(), 1, "only the confirmed address");
    assert_eq!(mail[0].to, "ada@example.com");
    assert!(mail[0].text.contains("127.0.0.1"), "{}", mail[0].text);

    app.confirm(&mut ada).await;
    let res = app
        .call::<app::server_fns::security::DeleteAccount>(
            &mut ada,
            &[("username", "ada")],
            Submit::Js,
        )
        .await;
    assert!(
        res.status.is_success() || res.status.is_redirection(),
        "{}",
        res.status
    );
    let farewell = app.outbox_with("was deleted", 1).await;
    assert_eq!(farewell.len(), 1);
    assert_eq!(farewell[0].to, "ada@example.com");
}

#[tokio::test]
async fn a_change_keeps_the_confirmed_address_until_confirmed_and_the_old_one_can_undo_it() {
    let app = spawn_app().await;
    let mut ada = app.with_verified_address("ada", "old@example.com").await;
    let (status, body) = app.set_email(&mut ada, "new@example.com").await;
    assert!(status.is_success(), "{status} {body}");
    // The confirmed address stays until the new one is confirmed.
    assert_eq!(app.email_state(&mut ada).await, "verified");
    let page = app.visit(&mut ada, "/account/email").await.body;
    assert!(
        page.contains("old@example.com") && page.contains("Waiting for"),
        "{page}"
    );
    assert!(page.contains("new@example.com"));
    let token = app.latest_token("new@example.com").await;
    let (status, body) = app.verify(&mut Browser::new(), &token).await;
    assert!(status.is_success(), "{status} {body}");
    let page = app.visit(&mut ada, "/account/email").await.body;
    assert!(page.contains("new@example.com") && !page.contains("Waiting for"));

    // The old address is told, with a link that undoes it.
    // (The new address gets the notice of the change.)
    let told = app.outbox_with("was changed", 2).await;
    let mut to: Vec<_> = told.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["new@example.com", "old@example.com"]);
    let old = told.iter().find(|m| m.to == "old@example.com").unwrap();
    assert!(old.text.contains("new@example.com"));
    let revert = token_in(old);
    let mut laptop = app.signed_in("ada").await;
    let res = app
        .call::<app::server_fns::email::RevertEmail>(
            &mut Browser::new(),
            &[("token", revert.as_str())],
            Submit::Js,
        )
        .await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    for browser in [&mut ada, &mut laptop] {
        assert_eq!(
            app.visit(browser, "/dashboard").await.status,
            StatusCode::SEE_OTHER
        );
    }
    let res = app
        .call::<app::server_fns::email::RevertEmail>(
            &mut Browser::new(),
            &[("token", revert.as_str())],
            Submit::Js,
        )
        .await;
    assert_eq!(error_of(&res.body), AppError::LinkRejected, "once");

    // The old address is the account's again: a reset goes there.
    app.clock.advance(Duration::minutes(2));
    app.ask_reset(&mut Browser::new(), "old@example.com", Submit::Js)
        .await;
    let reset = app.outbox_with("Reset your password", 1).await;
    assert_eq!(reset[0].to, "old@example.com");
}

#[tokio::test]
async fn mailed_link_endpoints_spend_the_sign_in_budget_at_the_gate() {
    let app = crate::helpers::spawn_app_with(&[("RATE_LIMIT_CREDENTIALS_PER_IP", "2/1m")]).await;
    let mut b = Browser::new();
    for address in ["a@example.com", "b@example.com"] {
        let (status, body, _) = app.ask_reset(&mut b, address, Submit::Js).await;
        assert!(status.is_success(), "{status} {body}");
    }
    // Refused ahead of everything (this one carries no CSRF token), for
    // each link endpoint, and for a sign-in: one budget.
    let fields = [("email", "c@example.com")];
    let res = app
        .call_raw::<RequestPasswordReset>(&mut b, &fields, Submit::Js, &[], None)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);
    assert_eq!(error_of(&res.body), AppError::TooManyAttempts);
    assert!(res.header("retry-after").is_some());
    let res = app
        .call_raw::<RequestPasswordReset>(&mut b, &fields, Submit::Html, &[], None)
        .await;
    assert_eq!(
        res.header("location"),
        Some("/forgot-password?error=too_many_attempts")
    );
    let token = [("token", "x")];
    let res = app
        .call_raw::<app::server_fns::email::VerifyEmail>(&mut b, &token, Submit::Js, &[], None)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let code = [("code", "123456")];
    let res = app
        .call_raw::<app::server_fns::mailed_sign_in::SignInWithCode>(
            &mut b,
            &code,
            Submit::Js,
            &[],
            None,
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let res = app.sign_in(&mut b, "ada", PASSWORD).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
}

/// Timing, statistically, as the sign-in test does
/// (`tests/lifecycle.rs::unknown_names_take_as_long_as_wrong_passwords`):
/// asking for a reset for a confirmed address takes as long as for an
/// address no account has. Interleaved tries, compared at the median and
/// the 90th percentile with a tolerance for scheduling noise. (The answer
/// comes before the lookup by construction: the lookup and the mail run
/// in a task of their own.)
#[tokio::test]
async fn asking_for_a_reset_takes_as_long_for_a_known_address_as_for_an_unknown_one() {
    use std::time::Instant;
    let app = spawn_app().await;
    app.with_verified_address("gus", "gus@example.com").await;
    let mut b = Browser::new();
    // Warm up: the first calls pay for compiling statements.
    for address in ["gus@example.com", "nobody@example.com"] {
        app.ask_reset(&mut b, address, Submit::Js).await;
    }
    let (mut known, mut unknown) = (Vec::new(), Vec::new());
    for i in 0..40 {
        let order = if i % 2 == 0 {
            ["gus@example.com", "nobody@example.com"]
        } else {
            ["nobody@example.com", "gus@example.com"]
        };
        for address in order {
            let started = Instant::now();
            let (status, _, _) = app.ask_reset(&mut b, address, Submit::Js).await;
            let took = started.elapsed();
            assert!(status.is_success());
            if address.starts_with("gus") {
                known.push(took);
            } else {
                unknown.push(took);
            }
        }
    }
    known.sort_unstable();
    unknown.sort_unstable();
    for (label, at) in [("p50", 20), ("p90", 36)] {
        let (k, u) = (known[at].as_secs_f64(), unknown[at].as_secs_f64());
        let ratio = k.max(u) / k.min(u);
        eprintln!(
            "FIGURES reset-request timing {label}: known {k:.5} s, unknown {u:.5} s, ratio {ratio:.2}"
        );
        assert!(ratio < 2.0, "{label}: known {k:.5} s vs unknown {u:.5} s");
    }
}
