//! The account's email address over HTTP: setting it, the link mailed to
//! it (once, by POST, for a day), the mail limit, and the development
//! mailbox.

use app::{
    error::AppError,
    server_fns::email::{ResendVerification, SetEmail, VerifyEmail},
};
use axum::http::StatusCode;
use time::Duration;

use crate::helpers::{spawn_app, spawn_app_with, Browser, Submit, TestApp};

fn error_of(body: &str) -> AppError {
    serde_json::from_str(body).expect("a JSON AppError")
}

impl TestApp {
    pub async fn set_email(&self, b: &mut Browser, email: &str) -> (StatusCode, String) {
        let res = self
            .call::<SetEmail>(b, &[("email", email)], Submit::Js)
            .await;
        (res.status, res.body)
    }

    pub async fn verify(&self, b: &mut Browser, token: &str) -> (StatusCode, String) {
        let res = self
            .call::<VerifyEmail>(b, &[("token", token)], Submit::Js)
            .await;
        (res.status, res.body)
    }

    /// Types `code` on the email page of `b`'s account.
    pub async fn verify_code(&self, b: &mut Browser, code: &str) -> crate::helpers::TestResponse {
        let fields = [("code", code)];
        self.call::<app::server_fns::email::VerifyEmailCode>(b, &fields, Submit::Js)
            .await
    }

    /// The token of the latest link mailed to `to`, read from the outbox.
    pub async fn latest_token(&self, to: &str) -> String {
        let mail = self.state.auth.recent_mail(10).await.unwrap();
        let text = &mail
            .iter()
            .find(|m| m.mail.to == to)
            .expect("a message")
            .mail
            .text;
        let start = text.find("token=").expect("a link") + "token=".len();
        text[start..].split_whitespace().next().unwrap().to_owned()
    }

    /// What the email page says of the address: none, unverified or verified.
    pub async fn email_state(&self, b: &mut Browser) -> String {
        let page = self.visit(b, "/account/email").await.body;
        let start = page.find("data-state=\"").expect("the state") + "data-state=\"".len();
        page[start..].split('"').next().unwrap().to_owned()
    }
}

#[tokio::test]
async fn a_link_verifies_its_address_once_by_post_never_by_get() {
    let app = spawn_app().await;
    let mut ada = app.signed_up("ada").await;
    assert_eq!(app.email_state(&mut ada).await, "none");
    let (status, body) = app.set_email(&mut ada, "Ada@Example.com").await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(app.email_state(&mut ada).await, "unverified");
    let token = app.latest_token("Ada@Example.com").await;

    // What a mail scanner does: nothing changes.
    let page = app.get(&format!("/verify-email?token={token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Confirm my email address"));
    assert_eq!(app.email_state(&mut ada).await, "unverified");

    // Another device, signed out.
    let mut phone = Browser::new();
    let (status, body) = app.verify(&mut phone, &token).await;
    assert!(status.is_success(), "{status} {body}");
    assert!(phone.session().is_none(), "verifying signs nobody in");
    assert_eq!(app.email_state(&mut ada).await, "verified");
    let (status, body) = app.verify(&mut phone, &token).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(error_of(&body), AppError::LinkRejected);
    for junk in ["", "short", &"A".repeat(43), &format!("{token}x")] {
        let (status, body) = app.verify(&mut phone, junk).await;
        assert_eq!(
            (status, error_of(&body)),
            (StatusCode::BAD_REQUEST, AppError::LinkRejected)
        );
    }
}

#[tokio::test]
async fn a_link_stops_working_after_a_day_and_when_the_address_changes() {
    let app = spawn_app().await;
    let mut ada = app.signed_up("ada").await;
    app.set_email(&mut ada, "ada@example.com").await;
    let token = app.latest_token("ada@example.com").await;
    app.clock.advance(Duration::hours(24));
    let (status, body) = app.verify(&mut Browser::new(), &token).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected)
    );

    // A link to the old address does not verify the new one.
    let mut ada = app.signed_in("ada").await;
    app.set_email(&mut ada, "first@example.com").await;
    let old = app.latest_token("first@example.com").await;
    app.clock.advance(Duration::minutes(2));
    let (status, _) = app.set_email(&mut ada, "second@example.com").await;
    assert!(status.is_success());
    let (status, body) = app.verify(&mut Browser::new(), &old).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected)
    );
    assert_eq!(app.email_state(&mut ada).await, "unverified");
}

#[tokio::test]
async fn setting_an_address_needs_a_recent_proof_and_a_real_address() {
    let app = spawn_app().await;
    let mut ada = app.signed_up("ada").await;
    let (status, body) = app.set_email(&mut ada, "ada@localhost").await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::InvalidEmail)
    );
    app.clock.advance(Duration::minutes(11));
    let (status, body) = app.set_email(&mut ada, "ada@example.com").await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::FORBIDDEN, AppError::ReauthRequired)
    );
    assert!(
        app.state.auth.recent_mail(10).await.unwrap().is_empty(),
        "nothing queued"
    );
    // Without JavaScript, the form goes to the confirmation page.
    let res = app
        .call::<SetEmail>(&mut ada, &[("email", "ada@example.com")], Submit::Html)
        .await;
    assert!(res.status.is_redirection(), "{}", res.status);
    assert!(res
        .header("location")
        .unwrap()
        .starts_with("/account/confirm?next="));
    let anonymous = app
        .call::<SetEmail>(
            &mut Browser::new(),
            &[("email", "x@example.com")],
            Submit::Js,
        )
        .await;
    assert_eq!(anonymous.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn mail_to_one_address_is_limited_and_says_so() {
    let app = spawn_app().await;
    let mut ada = app.signed_up("ada").await;
    app.set_email(&mut ada, "ada@example.com").await;
    let res = app
        .call::<ResendVerification>(&mut ada, &[], Submit::Js)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(error_of(&res.body), AppError::TooManyMails);
    app.clock.advance(Duration::minutes(2));
    let res = app
        .call::<ResendVerification>(&mut ada, &[], Submit::Js)
        .await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    assert_eq!(app.state.auth.recent_mail(10).await.unwrap().len(), 2);
    // Someone else typing the same address shares its budget.
    let mut bob = app.signed_up("bob").await;
    let (status, body) = app.set_email(&mut bob, "ADA@example.com").await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::TOO_MANY_REQUESTS, AppError::TooManyMails)
    );
}

#[tokio::test]
async fn only_the_mailbox_owner_learns_an_address_is_taken() {
    let app = spawn_app().await;
    let mut ada = app.signed_up("ada").await;
    app.set_email(&mut ada, "shared@example.com").await;
    let token = app.latest_token("shared@example.com").await;
    app.verify(&mut Browser::new(), &token).await;
    // Bo's form answers as for any address...
    app.clock.advance(Duration::minutes(2));
    let mut bob = app.signed_up("bob").await;
    let (status, _) = app.set_email(&mut bob, "Shared@example.com").await;
    assert!(status.is_success());
    // ...and the link says it, to whoever reads the mail.
    let token = app.latest_token("Shared@example.com").await;
    let (status, body) = app.verify(&mut Browser::new(), &token).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::CONFLICT, AppError::EmailTaken)
    );
    assert_eq!(app.email_state(&mut bob).await, "unverified");
}

#[tokio::test]
async fn the_development_mailbox_shows_unsent_mail_and_nowhere_else_exists() {
    let app = spawn_app().await;
    let mut ada = app.signed_up("ada").await;
    app.set_email(&mut ada, "ada@example.com").await;
    let token = app.latest_token("ada@example.com").await;
    let page = app.get("/dev/mailbox").await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("ada@example.com") && page.body.contains("not sent"));
    assert!(
        page.body.contains(&format!("token={token}\">")),
        "the link is clickable"
    );
    drop(app);

    let sending = spawn_app_with(&[("SMTP_URL", "smtp://127.0.0.1:9")]).await;
    assert_eq!(
        sending.get("/dev/mailbox").await.status,
        StatusCode::NOT_FOUND
    );
}

/// A real SMTP server (npm `maildev`, installed in `end2end/` by the test
/// command) on free ports; `None` (skipped, said on stderr) where it is not
/// installed, unless `REQUIRE_BACKENDS` names `smtp`.
struct Maildev {
    child: std::process::Child,
    web: u16,
}

impl Maildev {
    fn free_port() -> u16 {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    }

    fn bin() -> Option<std::path::PathBuf> {
        let bin = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../end2end/node_modules/.bin/maildev");
        if bin.exists() {
            return Some(bin);
        }
        let required = std::env::var("REQUIRE_BACKENDS").unwrap_or_default();
        assert!(
            !required.split(',').any(|r| r.trim() == "smtp"),
            "smtp is required (REQUIRE_BACKENDS) but maildev is not installed: run `make setup`"
        );
        eprintln!("SKIPPED smtp: maildev is not installed (cd end2end && npm ci)");
        None
    }

    /// Starts it on `smtp` (and a free web port), and waits for its API.
    async fn start(bin: &std::path::Path, smtp: u16) -> Self {
        let web = Self::free_port();
        let child = std::process::Command::new(bin)
            .args(["--smtp", &smtp.to_string(), "--web", &web.to_string()])
            .args(["--ip", "127.0.0.1", "--web-ip", "127.0.0.1"])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("maildev starts");
        let maildev = Self { child, web };
        for _ in 0..200 {
            if maildev.received().await.is_some() {
                return maildev;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("maildev did not answer on port {web}");
    }

    /// The recipients of what it received; `None` while it does not answer.
    async fn received(&self) -> Option<Vec<String>> {
        let url = format!("http://127.0.0.1:{}/api/email", self.web);
        let mail: Vec<serde_json::Value> = reqwest::get(url).await.ok()?.json().await.ok()?;
        Some(
            mail.iter()
                .filter_map(|m| m["to"][0]["address"].as_str().map(str::to_owned))
                .collect(),
        )
    }
}

impl Drop for Maildev {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn mail_queued_while_the_smtp_server_is_down_arrives_once_it_is_back() {
    let Some(bin) = Maildev::bin() else { return };
    let port = Maildev::free_port();
    let url = format!("smtp://127.0.0.1:{port}");
    let app = spawn_app_with(&[("SMTP_URL", url.as_str())]).await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let sender = tokio::spawn(server::smtp::send_outbox(
        app.state.auth.clone(),
        app.state.smtp.clone().expect("SMTP_URL is set"),
        stopped,
    ));

    // Down: the request is answered as usual, and the mail waits.
    let mut ada = app.signed_up("ada").await;
    let (status, _) = app.set_email(&mut ada, "ada@example.com").await;
    assert!(status.is_success());
    let mut waited = 0;
    loop {
        let outbox: (i64, Option<String>) =
            sqlx::query_as("SELECT attempts, last_error FROM outbox")
                .fetch_one(app.sqlite())
                .await
                .unwrap();
        if outbox.0 > 0 {
            assert!(outbox.1.is_some(), "the failure is kept for the operator");
            break;
        }
        waited += 1;
        assert!(waited < 400, "the sender never tried");
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }

    // Back: after its back-off the message is delivered, once.
    let maildev = Maildev::start(&bin, port).await;
    app.clock.advance(Duration::seconds(31));
    app.state.auth.outbox_bell().notify_one();
    let mut received = Vec::new();
    for _ in 0..200 {
        received = maildev.received().await.unwrap_or_default();
        if !received.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(received, ["ada@example.com"]);
    let mut recorded = false;
    for _ in 0..200 {
        recorded = app.state.auth.recent_mail(10).await.unwrap()[0]
            .sent_at
            .is_some();
        if recorded {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    assert!(recorded, "recorded as sent");
    app.state.auth.outbox_bell().notify_one();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(maildev.received().await.unwrap().len(), 1, "not sent twice");
    let _ = stop.send(true);
    sender.await.unwrap();
}

#[tokio::test]
async fn an_address_given_at_sign_up_gets_its_link_and_a_bad_one_makes_no_account() {
    let app = spawn_app().await;
    let mut b = Browser::new();
    let fields = [
        ("username", "ada"),
        ("password", crate::helpers::PASSWORD),
        ("email", "ada@localhost"),
    ];
    let res = app
        .call::<app::server_fns::auth::SignUp>(&mut b, &fields, Submit::Js)
        .await;
    assert_eq!(
        (res.status, error_of(&res.body)),
        (StatusCode::BAD_REQUEST, AppError::InvalidEmail)
    );
    assert!(b.session().is_none());
    let fields = [
        ("username", "ada"),
        ("password", crate::helpers::PASSWORD),
        ("email", "ada@example.com"),
    ];
    let res = app
        .call::<app::server_fns::auth::SignUp>(&mut b, &fields, Submit::Js)
        .await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    assert_eq!(app.email_state(&mut b).await, "unverified");
    let token = app.latest_token("ada@example.com").await;
    let (status, _) = app.verify(&mut Browser::new(), &token).await;
    assert!(status.is_success());
    // Without one, the account stays name-only.
    let mut bob = app.signed_up("bob").await;
    assert_eq!(app.email_state(&mut bob).await, "none");
}

#[tokio::test]
async fn the_code_in_the_message_confirms_the_address_in_a_session_of_its_account() {
    let app = spawn_app().await;
    let mut ada = app.signed_up("ada").await;
    app.set_email(&mut ada, "ada@example.com").await;
    let mail = app.state.auth.recent_mail(1).await.unwrap().remove(0).mail;
    let code = mail.text.split("email page: ").nth(1).unwrap()[..6].to_owned();
    // Another account's session: nothing.
    let mut bob = app.signed_up("bob").await;
    assert_eq!(
        app.verify_code(&mut bob, &code).await.status,
        StatusCode::BAD_REQUEST
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let res = app.verify_code(&mut ada, wrong).await;
    assert_eq!(
        (res.status, error_of(&res.body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected)
    );
    let res = app.verify_code(&mut ada, &code).await;
    assert!(res.status.is_success(), "{} {}", res.status, res.body);
    assert_eq!(app.email_state(&mut ada).await, "verified");
    assert_eq!(
        app.verify_code(&mut ada, &code).await.status,
        StatusCode::BAD_REQUEST,
        "once"
    );
}
