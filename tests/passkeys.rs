//! Passkeys through the engine, with a software authenticator, on every
//! backend (SQLite, PostgreSQL, Redis sessions) and across two instances:
//! registration, discoverable sign-in, confirmation, and what is refused
//! (a replayed assertion, a foreign origin, an expired ceremony, a
//! ceremony of another kind or account, a counter that went back, a lying
//! user handle).

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::backends::{self, Backend};
use engine::{
    auth::PasskeyClaim,
    passkey::{PublicKeyCredential, RegisterPublicKeyCredential},
    Auth, ClientInfo, Error, ManualClock, NewSession, SessionPolicy, Validation,
};
use serde_json::Value;
use testkit::authenticator::Authenticator;

const ORIGIN: &str = "http://localhost:3000";

fn client() -> ClientInfo {
    ClientInfo::new(Some("192.0.2.7".to_owned()), Some("passkey test"))
}

/// Two engines (instances) on one backend, sharing a manual clock, the
/// ceremony seal (derived from the site's secret in the server) and the
/// store's single-use ids.
fn instances(b: &Backend) -> (Auth, Auth, ManualClock) {
    let clock = ManualClock::new();
    let seal = engine::passkey::CeremonySeal::generate();
    let once = Arc::new(engine::once::UsedOnce::new(Some(b.counters.clone())));
    let auth = || {
        Auth::new(
            b.users.clone(),
            b.sessions.clone(),
            SessionPolicy::default(),
            Arc::new(clock.clone()),
        )
        .unwrap()
        .with_ceremony_signing(seal.clone(), once.clone())
    };
    (auth(), auth(), clock)
}

/// The session `token` as a request would find it now.
async fn current(auth: &Auth, token: &engine::SessionToken) -> engine::Authenticated {
    match auth
        .validate_token(token, ClientInfo::default)
        .await
        .unwrap()
    {
        Validation::Valid(auth) => *auth,
        Validation::Invalid => panic!("session ended"),
    }
}

fn json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap()
}

fn registration(value: Value) -> RegisterPublicKeyCredential {
    serde_json::from_value(value).unwrap()
}

fn assertion(value: Value) -> PublicKeyCredential {
    serde_json::from_value(value).unwrap()
}

/// What the web layer makes of a sign-in assertion: the claim, read once.
async fn claim(auth: &Auth, value: Value) -> PasskeyClaim {
    auth.passkey_claim(assertion(value)).await.unwrap()
}

/// Signs up `name` with a new passkey: started on `a`, finished on `b`.
async fn sign_up(a: &Auth, b: &Auth, name: &str) -> (Authenticator, NewSession) {
    let mut key = Authenticator::new();
    let started = a.passkey_sign_up_start(name).await.unwrap();
    let created = key.register(&json(&started.options), ORIGIN);
    let session = b
        .passkey_sign_up_finish(
            &started.token,
            &registration(created),
            Some("Test key"),
            client(),
        )
        .await
        .unwrap();
    (key, session)
}

/// A discoverable sign-in with `key`: started on `a`, finished on `b`.
async fn sign_in(a: &Auth, b: &Auth, key: &mut Authenticator) -> Result<NewSession, Error> {
    let started = a.passkey_sign_in_start().unwrap();
    let asserted = key.assert(&json(&started.options), ORIGIN);
    let claim = claim(b, asserted).await;
    b.passkey_sign_in_finish(&started.token, &claim, true, client())
        .await
}

async fn a_passkey_account_signs_up_and_in_like_a_password_one(b: Backend) {
    let (a, other, _) = instances(&b);
    let (mut key, first) = sign_up(&a, &other, "pia").await;
    assert_eq!(first.auth.user.username, "pia");
    assert!(!a.has_password(&first.auth.user).await.unwrap());
    let passkeys = a.passkeys(first.auth.user.id).await.unwrap();
    assert_eq!(passkeys.len(), 1);
    assert_eq!(passkeys[0].name, "Test key");

    // Started on one instance, finished on the other.
    let second = sign_in(&other, &a, &mut key).await.unwrap();
    assert_eq!(second.auth.user.id, first.auth.user.id);
    assert_ne!(
        second.auth.session.id, first.auth.session.id,
        "a new session"
    );
    assert!(second.auth.session.persistent, "remember me kept");
    assert!(matches!(
        a.validate(second.token.expose()).await.unwrap(),
        Validation::Valid(_)
    ));
    let used = a.passkeys(first.auth.user.id).await.unwrap();
    assert!(used[0].last_used_at.is_some());
    let events = a.list_events(first.auth.user.id, 10).await.unwrap();
    let kinds: Vec<_> = events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["passkey_sign_in", "passkey_added", "signup"]);

    // A password sign-in cannot open a passkey-only account.
    assert!(matches!(
        a.sign_in("pia", "", false, client()).await,
        Err(Error::InvalidCredentials)
    ));
}

async fn a_replayed_assertion_is_refused(b: Backend) {
    let (a, other, _) = instances(&b);
    let (mut key, _) = sign_up(&a, &other, "rex").await;
    let started = a.passkey_sign_in_start().unwrap();
    let asserted = claim(&a, key.assert(&json(&started.options), ORIGIN)).await;
    let token = &started.token;
    a.passkey_sign_in_finish(token, &asserted, false, client())
        .await
        .unwrap();
    // The same response again, on either instance: the ceremony is gone.
    for auth in [&a, &other] {
        assert!(matches!(
            auth.passkey_sign_in_finish(token, &asserted, false, client())
                .await,
            Err(Error::PasskeyRejected)
        ));
    }
    // And under a new ceremony it answers the wrong challenge.
    let fresh = a.passkey_sign_in_start().unwrap();
    assert!(matches!(
        a.passkey_sign_in_finish(&fresh.token, &asserted, false, client())
            .await,
        Err(Error::PasskeyRejected)
    ));
}

async fn a_foreign_origin_is_refused(b: Backend) {
    let (a, other, _) = instances(&b);
    let mut key = Authenticator::new();
    let started = a.passkey_sign_up_start("fay").await.unwrap();
    let created = key.register(&json(&started.options), "https://evil.example");
    assert!(matches!(
        a.passkey_sign_up_finish(&started.token, &registration(created), None, client())
            .await,
        Err(Error::PasskeyRejected)
    ));
    let (mut key, _) = sign_up(&a, &other, "fay").await;
    let started = a.passkey_sign_in_start().unwrap();
    let asserted = key.assert(
        &json(&started.options),
        "http://localhost.evil.example:3000",
    );
    let asserted = claim(&a, asserted).await;
    assert!(matches!(
        a.passkey_sign_in_finish(&started.token, &asserted, false, client())
            .await,
        Err(Error::PasskeyRejected)
    ));
    // Any localhost port is the development origin.
    let started = a.passkey_sign_in_start().unwrap();
    let asserted = key.assert(&json(&started.options), "http://localhost:49152");
    let asserted = claim(&a, asserted).await;
    a.passkey_sign_in_finish(&started.token, &asserted, false, client())
        .await
        .unwrap();
}

async fn an_expired_ceremony_is_refused(b: Backend) {
    let (a, other, clock) = instances(&b);
    let (mut key, _) = sign_up(&a, &other, "eve").await;
    let started = a.passkey_sign_in_start().unwrap();
    let asserted = key.assert(&json(&started.options), ORIGIN);
    clock.advance(engine::passkey::CEREMONY_TTL);
    let asserted = claim(&other, asserted).await;
    assert!(matches!(
        other
            .passkey_sign_in_finish(&started.token, &asserted, false, client())
            .await,
        Err(Error::PasskeyRejected)
    ));
}

async fn the_signature_counter_must_move_forward(b: Backend) {
    let (a, other, _) = instances(&b);
    let (mut key, new) = sign_up(&a, &other, "cal").await;
    let mut clone = key.clone();
    sign_in(&a, &other, &mut key).await.unwrap();
    sign_in(&a, &other, &mut key).await.unwrap();
    // The copy's counter is behind: a cloned authenticator.
    assert!(matches!(
        sign_in(&a, &other, &mut clone).await,
        Err(Error::PasskeyRejected)
    ));
    let events = a.list_events(new.auth.user.id, 10).await.unwrap();
    assert_eq!(
        events[0].kind.as_str(),
        "passkey_sign_in",
        "failures are not listed"
    );
    assert_eq!(
        b.users
            .failed_sign_ins_since_sign_in(new.auth.user.id)
            .await
            .unwrap(),
        1,
        "the refused assertion counts as a failed sign-in"
    );
}

async fn the_user_handle_must_name_the_owner(b: Backend) {
    let (a, other, _) = instances(&b);
    let (mut key, _) = sign_up(&a, &other, "uma").await;
    let (_, someone) = sign_up(&a, &other, "sam").await;
    let started = a.passkey_sign_in_start().unwrap();
    let handle = someone.auth.user.id.as_uuid();
    let asserted = key.assert_as(&json(&started.options), ORIGIN, handle.as_bytes());
    let asserted = claim(&a, asserted).await;
    assert_eq!(asserted.account(), None);
    assert!(matches!(
        a.passkey_sign_in_finish(&started.token, &asserted, false, client())
            .await,
        Err(Error::PasskeyRejected)
    ));
}

async fn a_password_account_adds_a_passkey_and_confirms_with_it(b: Backend) {
    let (a, other, clock) = instances(&b);
    let new = a
        .sign_up("max", "correct horse battery staple", client())
        .await
        .unwrap();
    let mut key = Authenticator::new();
    // A fresh sign-in is not enough to add a credential: only a proof
    // within the session is (a stolen session cannot add its own).
    assert!(matches!(
        a.passkey_registration_start(&new.auth).await,
        Err(Error::ConfirmationRequired)
    ));
    a.confirm(&new.auth, "correct horse battery staple", &client())
        .await
        .unwrap();
    let auth = current(&a, &new.token).await;
    let started = a.passkey_registration_start(&auth).await.unwrap();
    let options = json(&started.options);
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["residentKey"],
        "preferred"
    );
    assert_eq!(
        options["publicKey"]["authenticatorSelection"]["userVerification"],
        "required"
    );
    let created = registration(key.register(&options, ORIGIN));
    // Another account cannot finish it, even with the token.
    let stranger = a
        .sign_up("nia", "correct horse battery staple", client())
        .await
        .unwrap();
    assert!(matches!(
        other
            .passkey_registration_finish(&stranger.auth, &started.token, &created, None, &client())
            .await,
        Err(Error::PasskeyRejected)
    ));
    let started = a.passkey_registration_start(&auth).await.unwrap();
    let created = registration(key.register(&json(&started.options), ORIGIN));
    let record = other
        .passkey_registration_finish(&auth, &started.token, &created, Some("  Phone "), &client())
        .await
        .unwrap();
    assert_eq!(record.name, "Phone");
    // The same authenticator again: excluded, and refused if sent anyway
    // (by webauthn-rs' exclusion check, or else by the store).
    let again = a.passkey_registration_start(&auth).await.unwrap();
    let excluded = json(&again.options)["publicKey"]["excludeCredentials"].clone();
    assert_eq!(excluded.as_array().unwrap().len(), 1);
    let created = registration(key.register(&json(&again.options), ORIGIN));
    assert!(matches!(
        a.passkey_registration_finish(&auth, &again.token, &created, None, &client())
            .await,
        Err(Error::PasskeyRejected | Error::PasskeyTaken)
    ));

    // Confirming a sensitive action with it, once the window has passed.
    clock.advance(time::Duration::minutes(15));
    let current = match a
        .validate_token(&new.token, ClientInfo::default)
        .await
        .unwrap()
    {
        Validation::Valid(auth) => *auth,
        Validation::Invalid => panic!("session ended"),
    };
    assert!(!a.is_recent(&current.session));
    let started = a.passkey_confirm_start(&current).await.unwrap();
    let asserted = assertion(key.assert(&json(&started.options), ORIGIN));
    // A sign-in ceremony's token cannot finish a confirmation, and the
    // confirmation is this session's only.
    let sign_in = a.passkey_sign_in_start().unwrap();
    assert!(matches!(
        a.passkey_confirm_finish(&current, &sign_in.token, &asserted, &client())
            .await,
        Err(Error::PasskeyRejected)
    ));
    other
        .passkey_confirm_finish(&current, &started.token, &asserted, &client())
        .await
        .unwrap();
    let current = match a
        .validate_token(&new.token, ClientInfo::default)
        .await
        .unwrap()
    {
        Validation::Valid(auth) => *auth,
        Validation::Invalid => panic!("session ended"),
    };
    assert!(a.is_recent(&current.session));

    // Removable: the account has a password.
    a.remove_passkey(&current, &record.id, &client())
        .await
        .unwrap();
    assert!(matches!(
        a.passkey_confirm_start(&current).await,
        Err(Error::NotFound)
    ));
    // Deleting the account deletes its passkeys.
    let (_, pia) = sign_up(&a, &other, "pia").await;
    let id = a.passkeys(pia.auth.user.id).await.unwrap()[0].id.clone();
    assert!(matches!(
        a.remove_passkey(&pia.auth, &id, &client()).await,
        Err(Error::LastCredential)
    ));
    a.delete_account(&pia.auth).await.unwrap();
    assert!(a.passkeys(pia.auth.user.id).await.unwrap().is_empty());
}

/// Runs `test` on `backend` if its server answers, then cleans up.
async fn on<F: std::future::Future<Output = ()>>(
    backend: Option<Backend>,
    test: impl FnOnce(Backend) -> F,
) {
    if let Some(b) = backend {
        let cleanup = b.cleanup.clone();
        test(b).await;
        cleanup.run().await;
    }
}

macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $test() { super::on(super::backends::sqlite().await, super::$test).await })*
        }
        #[cfg(feature = "postgres")]
        mod postgres {
            $(#[tokio::test] async fn $test() { super::on(super::backends::postgres().await, super::$test).await })*
        }
        #[cfg(feature = "redis")]
        mod redis {
            $(#[tokio::test] async fn $test() { super::on(super::backends::redis().await, super::$test).await })*
        }
    };
}

on_every_backend!(
    a_passkey_account_signs_up_and_in_like_a_password_one,
    a_replayed_assertion_is_refused,
    a_foreign_origin_is_refused,
    an_expired_ceremony_is_refused,
    the_signature_counter_must_move_forward,
    the_user_handle_must_name_the_owner,
    a_password_account_adds_a_passkey_and_confirms_with_it,
);
