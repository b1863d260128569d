//! The account around the session through [`engine::Auth`]: confirmation
//! (re-authentication), password change and deletion, on SQLite with an
//! injected clock.

#![allow(clippy::unwrap_used)]

mod common;

use engine::{AuthEventKind, ClientInfo, Error, Validation};
use time::Duration;

const PASSWORD: &str = "amber falcon river";

fn client() -> ClientInfo {
    ClientInfo::new(Some("127.0.0.1".into()), Some("test-agent"))
}

async fn valid(auth: &engine::Auth, token: &engine::SessionToken) -> Option<engine::Authenticated> {
    match auth.validate_token(token).await.unwrap() {
        Validation::Valid(a) => Some(*a),
        Validation::Invalid => None,
    }
}

#[tokio::test]
async fn a_confirmation_makes_the_sign_in_recent_again() {
    let (auth, clock) = common::sqlite_auth().await;
    let s = auth.sign_up("ada", PASSWORD, client()).await.unwrap();
    assert!(auth.is_recent(&s.auth.session), "a fresh sign-in is recent");
    clock.advance(Duration::minutes(11));
    let now = valid(&auth, &s.token).await.unwrap();
    assert!(!auth.is_recent(&now.session), "past the 10-minute window");

    assert!(matches!(
        auth.confirm(&now, "not the password", &client()).await,
        Err(Error::InvalidCredentials)
    ));
    auth.confirm(&now, PASSWORD, &client()).await.unwrap();
    let confirmed = valid(&auth, &s.token).await.unwrap();
    assert!(auth.is_recent(&confirmed.session));
    let kinds: Vec<_> = auth
        .list_events(s.auth.user.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds[..2],
        [AuthEventKind::Confirmed, AuthEventKind::SignInFailed]
    );
}

#[tokio::test]
async fn a_password_change_ends_every_session_and_starts_a_new_one() {
    let (auth, _) = common::sqlite_auth().await;
    let here = auth.sign_up("bea", PASSWORD, client()).await.unwrap();
    let elsewhere = auth.sign_in("bea", PASSWORD, true, client()).await.unwrap();
    let new = "quiet cedar meadow";

    assert!(matches!(
        auth.change_password(&here.auth, "wrong", new, client())
            .await,
        Err(Error::InvalidCredentials)
    ));
    assert!(matches!(
        auth.change_password(&here.auth, PASSWORD, "password1", client())
            .await,
        Err(Error::WeakPassword(_))
    ));
    assert!(
        valid(&auth, &here.token).await.is_some(),
        "nothing changed yet"
    );

    let replaced = auth
        .change_password(&elsewhere.auth, PASSWORD, new, client())
        .await
        .unwrap();
    assert!(
        valid(&auth, &here.token).await.is_none(),
        "other device out"
    );
    assert!(
        valid(&auth, &elsewhere.token).await.is_none(),
        "old token out"
    );
    let current = valid(&auth, &replaced.token).await.unwrap();
    assert!(current.session.persistent, "remember-me kept");
    assert!(auth.is_recent(&current.session));
    let revoked = auth.revoked();
    assert!(revoked.contains(&here.auth.session.id.to_string()));
    assert!(revoked.contains(&elsewhere.auth.session.id.to_string()));
    assert!(!revoked.contains(&current.session.id.to_string()));

    assert!(matches!(
        auth.sign_in("bea", PASSWORD, false, client()).await,
        Err(Error::InvalidCredentials)
    ));
    auth.sign_in("bea", new, false, client()).await.unwrap();
    let events = auth.list_events(current.user.id, 10).await.unwrap();
    assert!(events
        .iter()
        .any(|e| e.kind == AuthEventKind::PasswordChanged));
}

#[tokio::test]
async fn a_deleted_account_is_gone_and_its_name_free() {
    let (auth, _) = common::sqlite_auth().await;
    let s = auth.sign_up("cyd", PASSWORD, client()).await.unwrap();
    let other = auth
        .sign_in("cyd", PASSWORD, false, client())
        .await
        .unwrap();
    auth.delete_account(&s.auth).await.unwrap();

    assert!(valid(&auth, &s.token).await.is_none());
    assert!(valid(&auth, &other.token).await.is_none());
    assert!(auth.revoked().contains(&other.auth.session.id.to_string()));
    assert!(matches!(
        auth.sign_in("cyd", PASSWORD, false, client()).await,
        Err(Error::InvalidCredentials)
    ));
    assert!(auth
        .list_events(s.auth.user.id, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(auth.list_sessions(s.auth.user.id).await.unwrap().is_empty());
    let again = auth.sign_up("cyd", PASSWORD, client()).await.unwrap();
    assert_ne!(again.auth.user.id, s.auth.user.id);
}

#[tokio::test]
async fn old_events_are_purged_past_their_retention() {
    let (auth, clock) = common::sqlite_auth().await;
    let s = auth.sign_up("dee", PASSWORD, client()).await.unwrap();
    clock.advance(Duration::days(91));
    auth.sign_in("dee", PASSWORD, false, client())
        .await
        .unwrap();
    let purged = auth.purge_events(Duration::days(90)).await.unwrap();
    assert_eq!(purged, 1, "the sign-up");
    let left = auth.list_events(s.auth.user.id, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert_eq!(left[0].kind, AuthEventKind::SignIn);
}
