//! Signing in with a link or a code sent by email, over HTTP: both only in
//! the browser that asked, once, and a code only for a few tries.

use app::{
    error::AppError,
    server_fns::mailed_sign_in::{RequestSignInLink, SignInWithCode, SignInWithLink},
};
use axum::http::StatusCode;
use time::Duration;

use crate::helpers::{spawn_app, Browser, Submit, TestApp};

fn error_of(body: &str) -> AppError {
    serde_json::from_str(body).expect("a JSON AppError")
}

impl TestApp {
    /// `browser` asks for a sign-in message to `email`; the answer.
    async fn ask_sign_in(&self, browser: &mut Browser, email: &str) -> (StatusCode, String) {
        let res = self
            .call::<RequestSignInLink>(browser, &[("email", email)], Submit::Js)
            .await;
        (res.status, res.body)
    }

    /// The link's token and the code of the newest sign-in message.
    async fn sign_in_message(&self) -> (String, String) {
        let mut found = None;
        for _ in 0..100 {
            let mail = self.state.auth.recent_mail(20).await.unwrap();
            found = mail
                .into_iter()
                .find(|m| m.mail.subject.contains("sign-in code"));
            if found.is_some() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let mail = found.expect("a sign-in message").mail;
        let code = mail.subject.rsplit(' ').next().unwrap().to_owned();
        let start = mail.text.find("token=").unwrap() + "token=".len();
        let token = mail.text[start..]
            .split_whitespace()
            .next()
            .unwrap()
            .to_owned();
        (token, code)
    }

    async fn with_link(&self, b: &mut Browser, token: &str) -> (StatusCode, String) {
        let res = self
            .call::<SignInWithLink>(b, &[("token", token)], Submit::Js)
            .await;
        (res.status, res.body)
    }

    async fn with_code(&self, b: &mut Browser, code: &str) -> (StatusCode, String) {
        let res = self
            .call::<SignInWithCode>(b, &[("code", code)], Submit::Js)
            .await;
        (res.status, res.body)
    }

    /// `name`, signed up with `address` confirmed.
    async fn confirmed(&self, name: &str, address: &str) {
        let mut browser = self.signed_up(name).await;
        self.set_email(&mut browser, address).await;
        let token = self.latest_token(address).await;
        let (status, body) = self.verify(&mut Browser::new(), &token).await;
        assert!(status.is_success(), "{status} {body}");
    }
}

#[tokio::test]
async fn a_mailed_link_signs_in_only_the_browser_that_asked_and_once() {
    let app = spawn_app().await;
    app.confirmed("ada", "ada@example.com").await;
    let mut asker = Browser::new();
    let (status, body) = app.ask_sign_in(&mut asker, "Ada@example.com").await;
    assert!(status.is_success(), "{status} {body}");
    let (token, _) = app.sign_in_message().await;

    // A scanner's GET, and another browser, sign nobody in.
    let page = app.get(&format!("/login/link?token={token}")).await;
    assert_eq!(page.status, StatusCode::OK);
    let mut elsewhere = Browser::new();
    let (status, body) = app.with_link(&mut elsewhere, &token).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::OtherBrowser)
    );
    assert!(elsewhere.session().is_none());

    let (status, body) = app.with_link(&mut asker, &token).await;
    assert!(status.is_success(), "{status} {body}");
    assert!(asker.session().is_some());
    assert_eq!(
        app.visit(&mut asker, "/dashboard").await.status,
        StatusCode::OK
    );
    let (status, body) = app.with_link(&mut asker, &token).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected)
    );
}

#[tokio::test]
async fn a_mailed_code_works_in_the_asking_browser_and_five_wrong_ones_end_it() {
    let app = spawn_app().await;
    app.confirmed("ada", "ada@example.com").await;
    let mut asker = Browser::new();
    app.ask_sign_in(&mut asker, "ada@example.com").await;
    let (_, code) = app.sign_in_message().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    // Without JavaScript, a wrong code returns to the code form.
    let res = app
        .call::<SignInWithCode>(&mut asker, &[("code", wrong)], Submit::Html)
        .await;
    let back = res.header("location").unwrap();
    assert!(
        back.starts_with("/login/email?error=link_rejected") && back.ends_with("&sent=1"),
        "{back}"
    );
    for _ in 0..3 {
        let (status, body) = app.with_code(&mut asker, wrong).await;
        assert_eq!(
            (status, error_of(&body)),
            (StatusCode::BAD_REQUEST, AppError::LinkRejected)
        );
    }
    // The right code, typed in another browser: nothing.
    let (status, _) = app.with_code(&mut Browser::new(), &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let (status, body) = app.with_code(&mut asker, &spaced).await;
    assert!(status.is_success(), "{status} {body}");
    assert!(asker.session().is_some());

    // Five wrong codes end the next one.
    app.clock.advance(Duration::minutes(2));
    let mut again = Browser::new();
    app.ask_sign_in(&mut again, "ada@example.com").await;
    let (_, code) = app.sign_in_message().await;
    let wrong = if code == "000000" { "111111" } else { "000000" };
    for _ in 0..5 {
        app.with_code(&mut again, wrong).await;
    }
    let (status, body) = app.with_code(&mut again, &code).await;
    assert_eq!(
        (status, error_of(&body)),
        (StatusCode::BAD_REQUEST, AppError::LinkRejected)
    );
    assert!(again.session().is_none());
}

#[tokio::test]
async fn asking_answers_alike_and_mails_only_a_confirmed_address() {
    let app = spawn_app().await;
    app.confirmed("ada", "ada@example.com").await;
    let mut bob = app.signed_up("bob").await;
    app.set_email(&mut bob, "bob@example.com").await; // never confirmed
    let mut stranger = Browser::new();
    let mut answers = Vec::new();
    for address in ["ada@example.com", "bob@example.com", "nobody@example.com"] {
        answers.push(app.ask_sign_in(&mut stranger, address).await);
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mail = app.state.auth.recent_mail(20).await.unwrap();
    let sign_ins: Vec<_> = mail
        .iter()
        .filter(|m| m.mail.subject.contains("sign-in code"))
        .map(|m| m.mail.to.as_str())
        .collect();
    assert_eq!(sign_ins, ["ada@example.com"]);
}
