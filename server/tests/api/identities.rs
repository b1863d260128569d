//! "Sign in with …" against a real OpenID provider: PyPI's
//! `oidc-provider-mock` (installed in `end2end/.venv` by the test
//! command), started on a free port. The app discovers it, sends the
//! browser to its authorization endpoint, exchanges the code at its token
//! endpoint and checks the ID token with its keys: nothing is mocked on
//! this side. Skipped (said on stderr) where it is not installed, unless
//! `REQUIRE_BACKENDS` names `oidc`.

use axum::http::StatusCode;

use testkit::oidc_provider::OidcProvider as Provider;

use crate::helpers::{spawn_app_with, Browser, Submit, TestApp, TestResponse};

async fn app_for(provider: &Provider) -> TestApp {
    let vars = provider.vars("leptos-sessions");
    let vars: Vec<(&str, &str)> = vars.iter().map(|(k, v)| (*k, v.as_str())).collect();
    spawn_app_with(&vars).await
}

/// The path and query of an absolute URL on the app.
fn local(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    rest.find('/')
        .map_or("/".to_owned(), |i| rest[i..].to_owned())
}

fn location(res: &TestResponse) -> String {
    res.header("location").unwrap_or_default().to_owned()
}

/// Starts a sign-in as `browser`: the provider's authorization URL.
async fn start(app: &TestApp, browser: &mut Browser) -> String {
    let res = app.visit(browser, "/auth/oidc/start?provider=mock").await;
    assert!(res.status.is_redirection(), "{} {}", res.status, res.body);
    let url = location(&res);
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    url
}

/// Signs `sub` in from `browser` all the way; the callback's answer.
async fn sign_in(
    app: &TestApp,
    provider: &Provider,
    browser: &mut Browser,
    sub: &str,
) -> TestResponse {
    let authorize = start(app, browser).await;
    let back = provider.sign_in(&authorize, sub).await;
    app.visit(browser, &local(&back)).await
}

/// The id of the account named `name`, if there is one.
async fn user_id(app: &TestApp, name: &str) -> Option<engine::UserId> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE username = ?")
        .bind(name)
        .fetch_optional(app.sqlite())
        .await
        .unwrap();
    id.map(|id| id.parse().unwrap())
}

fn refused_with(res: &TestResponse, code: &str) {
    assert!(res.status.is_redirection(), "{} {}", res.status, res.body);
    let to = location(res);
    assert!(to.contains(&format!("error={code}")), "{to}");
}

#[tokio::test]
async fn a_first_sign_in_makes_an_account_and_the_next_one_finds_it() {
    let Some(provider) = Provider::start(120).await else {
        return;
    };
    provider
        .user("alice-sub", serde_json::json!({"email": "alice@example.com", "email_verified": true, "preferred_username": "alice"}))
        .await;
    let app = app_for(&provider).await;
    let mut browser = Browser::new();
    let authorize = start(&app, &mut browser).await;
    // PKCE (S256), state and nonce go with the request; the redirect URI
    // is this provider's own callback.
    for part in [
        "code_challenge=",
        "code_challenge_method=S256",
        "state=",
        "nonce=",
        "scope=openid",
    ] {
        assert!(authorize.contains(part), "{part}: {authorize}");
    }
    assert!(
        authorize.contains("auth%2Foidc%2Fmock%2Fcallback"),
        "{authorize}"
    );
    assert!(browser.cookies.contains_key("__Host-oidc"), "a flow cookie");
    let back = provider.sign_in(&authorize, "alice-sub").await;
    let res = app.visit(&mut browser, &local(&back)).await;
    assert_eq!(location(&res), "/dashboard", "{}", res.body);
    assert!(browser.session().is_some(), "signed in");
    assert!(
        !browser.cookies.contains_key("__Host-oidc"),
        "the flow cookie is used up"
    );
    let user = user_id(&app, "alice")
        .await
        .expect("an account named after the provider's name");
    let linked = app.state.auth.identities(user).await.unwrap();
    assert_eq!(linked.len(), 1);
    assert_eq!(
        (linked[0].issuer.as_str(), linked[0].subject.as_str()),
        (provider.issuer().as_str(), "alice-sub")
    );

    // Signed out and in again: the same account, no second one.
    let mut again = Browser::new();
    let res = sign_in(&app, &provider, &mut again, "alice-sub").await;
    assert_eq!(location(&res), "/dashboard");
    let page = app.visit(&mut again, "/dashboard").await;
    assert!(page.body.contains("alice"), "{}", page.body);
    assert_eq!(user_id(&app, "alice-2").await, None);

    // The account menu links the providers page.
    assert!(page.body.contains("/account/providers"), "{}", page.body);
}

#[tokio::test]
async fn without_providers_there_are_no_buttons_and_no_callback() {
    let app = spawn_app_with(&[]).await;
    let login = app.get("/login").await;
    assert!(
        !login.body.contains("Sign in with Mock"),
        "no provider button"
    );
    assert!(!login.body.contains("provider-links"));
    assert_eq!(
        app.get("/auth/oidc/mock/callback?code=c&state=s")
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let mut browser = Browser::new();
    let start = app
        .visit(&mut browser, "/auth/oidc/start?provider=mock")
        .await;
    assert_eq!(location(&start), "/login?error=identity_failed");
    assert!(!browser.cookies.contains_key("__Host-oidc"), "no flow");
    // Nor an entry for the providers page in the account menu.
    let mut signed = app.signed_up("nobody-linked").await;
    let dashboard = app.visit(&mut signed, "/dashboard").await;
    assert_eq!(dashboard.status, StatusCode::OK);
    assert!(
        !dashboard.body.contains("/account/providers"),
        "no menu entry"
    );
}

#[tokio::test]
async fn keys_the_provider_rotated_are_fetched_again_but_not_at_every_token() {
    let Some(mut provider) = Provider::start(120).await else {
        return;
    };
    let app = app_for(&provider).await;
    let mut first = Browser::new();
    assert_eq!(
        location(&sign_in(&app, &provider, &mut first, "kai").await),
        "/dashboard"
    );
    // The provider comes back with new signing keys.
    provider.restart().await;
    // Moments after the keys were fetched, a token under a key they lack
    // is refused rather than fetching them again: at most every 30 s.
    let mut soon = Browser::new();
    refused_with(
        &sign_in(&app, &provider, &mut soon, "kai").await,
        "identity_failed",
    );
    app.clock.advance(time::Duration::seconds(31));
    let mut later = Browser::new();
    let res = sign_in(&app, &provider, &mut later, "kai").await;
    assert_eq!(location(&res), "/dashboard", "the new keys were fetched");
    let page = app.visit(&mut later, "/dashboard").await;
    assert!(page.body.contains("kai"), "the same account");
}

#[tokio::test]
async fn every_broken_callback_is_refused_with_a_clear_page_and_no_session() {
    let Some(provider) = Provider::start(120).await else {
        return;
    };
    let app = app_for(&provider).await;

    // A wrong state.
    let mut browser = Browser::new();
    let back = provider
        .sign_in(&start(&app, &mut browser).await, "eve")
        .await;
    let forged = local(&back).replace("state=", "state=x");
    refused_with(&app.visit(&mut browser, &forged).await, "identity_failed");
    assert!(browser.session().is_none());

    // A callback replayed: the flow was used by the first.
    let mut browser = Browser::new();
    let back = local(
        &provider
            .sign_in(&start(&app, &mut browser).await, "bob")
            .await,
    );
    let flow = browser.cookies.get("__Host-oidc").cloned().unwrap();
    assert_eq!(
        location(&app.visit(&mut browser, &back).await),
        "/dashboard"
    );
    let mut replay = Browser::new();
    replay.cookies.insert("__Host-oidc".into(), flow);
    refused_with(&app.visit(&mut replay, &back).await, "identity_failed");
    assert!(replay.session().is_none());

    // No flow in this browser (no PKCE verifier to send): another
    // browser's callback is refused before any code is exchanged.
    let mut starter = Browser::new();
    let back = local(
        &provider
            .sign_in(&start(&app, &mut starter).await, "mallory")
            .await,
    );
    let mut victim = Browser::new();
    refused_with(&app.visit(&mut victim, &back).await, "identity_failed");
    assert!(victim.session().is_none());

    // A nonce the flow did not send (the request tampered with).
    let mut browser = Browser::new();
    let authorize = start(&app, &mut browser).await;
    let tampered = authorize.replace("nonce=", "nonce=other");
    let back = provider.sign_in(&tampered, "carol").await;
    refused_with(
        &app.visit(&mut browser, &local(&back)).await,
        "identity_failed",
    );

    // A code issued to another client (its ID token's `aud`): the token
    // endpoint refuses it for ours.
    let mut browser = Browser::new();
    let authorize = start(&app, &mut browser).await;
    let other = authorize.replace("client_id=leptos-sessions", "client_id=another-app");
    let back = provider.sign_in(&other, "dave").await;
    refused_with(
        &app.visit(&mut browser, &local(&back)).await,
        "identity_failed",
    );

    // An expired ID token: the app's clock is past its `exp` (the flow
    // itself still good).
    let mut browser = Browser::new();
    let authorize = start(&app, &mut browser).await;
    let back = provider.sign_in(&authorize, "frank").await;
    app.clock.advance(time::Duration::minutes(5));
    refused_with(
        &app.visit(&mut browser, &local(&back)).await,
        "identity_failed",
    );

    // The callback of another provider's path (mix-up).
    let mut browser = Browser::new();
    let back = local(
        &provider
            .sign_in(&start(&app, &mut browser).await, "grace")
            .await,
    );
    let res = app
        .visit(
            &mut browser,
            &back.replace("/auth/oidc/mock/", "/auth/oidc/other/"),
        )
        .await;
    refused_with(&res, "identity_failed");

    // The person cancelled at the provider.
    let mut browser = Browser::new();
    let back = provider.deny(&start(&app, &mut browser).await).await;
    assert!(back.contains("error=access_denied"), "{back}");
    refused_with(
        &app.visit(&mut browser, &local(&back)).await,
        "identity_declined",
    );

    // None of these made an account, and none answered with a 5xx.
    for name in ["eve", "mallory", "carol", "dave", "frank", "grace"] {
        assert_eq!(user_id(&app, name).await, None, "{name}");
    }
}

#[tokio::test]
async fn an_address_an_account_has_is_not_linked_without_its_owner() {
    let Some(provider) = Provider::start(120).await else {
        return;
    };
    let app = app_for(&provider).await;
    // An account here with a confirmed address.
    let mut owner = app.signed_up("owner").await;
    let user = user_id(&app, "owner").await.unwrap();
    sqlx::query(
        "UPDATE users SET email = 'owner@example.com', email_key = 'owner@example.com', \
         email_verified_at = 1 WHERE id = ?",
    )
    .bind(user.to_string())
    .execute(app.sqlite())
    .await
    .unwrap();
    provider
        .user(
            "stranger",
            serde_json::json!({"email": "owner@example.com", "email_verified": true}),
        )
        .await;
    let mut browser = Browser::new();
    let res = sign_in(&app, &provider, &mut browser, "stranger").await;
    refused_with(&res, "identity_address_in_use");
    assert!(browser.session().is_none());
    assert!(app.state.auth.identities(user).await.unwrap().is_empty());

    // The owner, signed in, links it (after confirming the password).
    app.confirm(&mut owner).await;
    let res = app
        .call::<app::server_fns::identities::LinkIdentity>(
            &mut owner,
            &[("provider", "mock")],
            Submit::Html,
        )
        .await;
    let authorize = location(&res);
    assert!(
        authorize.starts_with(&provider.issuer()),
        "{} {}",
        res.status,
        authorize
    );
    let back = provider.sign_in(&authorize, "stranger").await;
    let res = app.visit(&mut owner, &local(&back)).await;
    assert_eq!(
        location(&res),
        "/account/providers?linked=1",
        "{}",
        res.body
    );
    // Now it signs in to the owner's account.
    let mut later = Browser::new();
    assert_eq!(
        location(&sign_in(&app, &provider, &mut later, "stranger").await),
        "/dashboard"
    );
    let page = app.visit(&mut later, "/account/providers").await;
    assert!(page.body.contains("owner@example.com"), "{}", page.body);
}

#[tokio::test]
async fn the_last_way_in_cannot_be_unlinked_and_confirming_needs_a_linked_identity() {
    let Some(provider) = Provider::start(120).await else {
        return;
    };
    let app = app_for(&provider).await;
    let mut browser = Browser::new();
    sign_in(&app, &provider, &mut browser, "solo").await;
    let user = user_id(&app, "solo").await.unwrap();
    let issuer = provider.issuer();
    let unlink = |b: &mut Browser| {
        let issuer = issuer.clone();
        let app = &app;
        let mut b = b.clone();
        async move {
            let res = app
                .call::<app::server_fns::identities::UnlinkIdentity>(
                    &mut b,
                    &[("issuer", issuer.as_str()), ("subject", "solo")],
                    Submit::Js,
                )
                .await;
            res
        }
    };
    // Just signed in: recent enough; but it is the only credential.
    let res = unlink(&mut browser).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert!(res.body.contains("LastCredential"), "{}", res.body);
    assert_eq!(app.state.auth.identities(user).await.unwrap().len(), 1);

    // Step-up with the provider: it is asked to sign the person in again.
    // (The app's clock stays with the provider's: its tokens are checked
    // against it.)
    let res = app
        .call::<app::server_fns::identities::ConfirmWithIdentity>(
            &mut browser,
            &[("provider", "mock"), ("next", "/account/delete")],
            Submit::Html,
        )
        .await;
    let authorize = location(&res);
    assert!(
        authorize.contains("prompt=login") && authorize.contains("max_age=0"),
        "{authorize}"
    );
    // Another identity at the provider is not this account's.
    let back = provider.sign_in(&authorize, "someone-else").await;
    let res = app.visit(&mut browser, &local(&back)).await;
    refused_with(&res, "identity_not_linked");
    // Its own identity confirms.
    let res = app
        .call::<app::server_fns::identities::ConfirmWithIdentity>(
            &mut browser,
            &[("provider", "mock"), ("next", "/account/delete")],
            Submit::Html,
        )
        .await;
    let back = provider.sign_in(&location(&res), "solo").await;
    let res = app.visit(&mut browser, &local(&back)).await;
    assert_eq!(location(&res), "/account/delete", "{}", res.body);
    assert_eq!(
        app.visit(&mut browser, "/account/delete").await.status,
        StatusCode::OK
    );
}
