//! The account around the session through [`engine::Auth`]: confirmation
//! (re-authentication), password change and deletion, on SQLite with an
//! injected clock.

#![allow(clippy::unwrap_used)]

mod common;

use engine::dpop::KeyProof;
use engine::{AuthEventKind, ClientInfo, Error, NoticeKind, RefreshOutcome, Validation};
use time::Duration;

const PASSWORD: &str = "amber falcon river";

fn client() -> ClientInfo {
    ClientInfo::new(Some("127.0.0.1".into()), Some("test-agent"))
}

async fn valid(auth: &engine::Auth, token: &engine::SessionToken) -> Option<engine::Authenticated> {
    match auth.validate_token(token, client).await.unwrap() {
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
    assert_eq!(kinds[0], AuthEventKind::Confirmed);
    // The wrong confirmation counts as a failed sign-in: the next sign-in
    // raises a notice with it (this test's client is not a known device).
    auth.sign_in("ada", PASSWORD, false, client())
        .await
        .unwrap();
    let notices: Vec<_> = auth
        .notices(s.auth.user.id)
        .await
        .unwrap()
        .into_iter()
        .map(|n| (n.notice.kind, n.notice.count))
        .collect();
    assert_eq!(
        notices,
        [(NoticeKind::NewDevice, 0), (NoticeKind::FailedSignIns, 1)]
    );
}

#[tokio::test]
async fn a_password_change_ends_every_session_and_starts_a_new_one() {
    let (auth, _) = common::sqlite_auth().await;
    let here = auth.sign_up("bea", PASSWORD, client()).await.unwrap();
    let elsewhere = auth.sign_in("bea", PASSWORD, true, client()).await.unwrap();
    let new = "quiet cedar meadow";

    assert!(matches!(
        auth.change_password(&here.auth, Some("wrong"), new, client())
            .await,
        Err(Error::InvalidCredentials)
    ));
    assert!(matches!(
        auth.change_password(&here.auth, Some(PASSWORD), "password1", client())
            .await,
        Err(Error::WeakPassword(_))
    ));
    assert!(
        valid(&auth, &here.token).await.is_some(),
        "nothing changed yet"
    );

    let replaced = auth
        .change_password(&elsewhere.auth, Some(PASSWORD), new, client())
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

#[tokio::test]
async fn notices_tell_of_new_devices_and_replays_until_dismissed() {
    let (auth, clock) = common::sqlite_auth().await;
    let s = auth.sign_up("eve", PASSWORD, client()).await.unwrap();
    let user = s.auth.user.id;
    let kinds = |auth: engine::Auth| async move {
        let notices = auth.notices(user).await.unwrap();
        notices
            .into_iter()
            .map(|n| n.notice.kind)
            .collect::<Vec<_>>()
    };
    assert!(kinds(auth.clone()).await.is_empty(), "sign-up raises none");
    let known = client().with_known_device(true);
    let owner = auth.sign_in("eve", PASSWORD, false, known).await.unwrap();
    assert!(kinds(auth.clone()).await.is_empty(), "a known browser");

    // A replayed refresh token, from the thief's address.
    let RefreshOutcome::Refreshed { .. } = auth
        .refresh(
            s.refresh.expose(),
            Some(s.token.expose()),
            KeyProof::Absent,
            &client(),
        )
        .await
        .unwrap()
    else {
        panic!("the first refresh rotates");
    };
    clock.advance(Duration::minutes(1));
    let thief = ClientInfo::new(Some("203.0.113.66".into()), Some("curl/8"));
    assert_eq!(
        auth.refresh(
            s.refresh.expose(),
            Some(s.token.expose()),
            KeyProof::Absent,
            &thief
        )
        .await
        .unwrap(),
        RefreshOutcome::Invalid
    );
    let notices = auth.notices(user).await.unwrap();
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].notice.kind, NoticeKind::RefreshReuse);
    assert_eq!(
        notices[0].notice.ip_address.as_deref(),
        Some("203.0.113.66")
    );

    let other = auth.sign_up("fred", PASSWORD, client()).await.unwrap();
    assert!(matches!(
        auth.dismiss_notice(&other.auth, notices[0].id).await,
        Err(Error::NotFound)
    ));
    // Raised after this session's proof: it needs a new one first.
    assert!(matches!(
        auth.dismiss_notice(&owner.auth, notices[0].id).await,
        Err(Error::ConfirmationRequired)
    ));
    auth.confirm(&owner.auth, PASSWORD, &client())
        .await
        .unwrap();
    let confirmed = valid(&auth, &owner.token).await.unwrap();
    auth.dismiss_notice(&confirmed, notices[0].id)
        .await
        .unwrap();
    assert!(kinds(auth.clone()).await.is_empty());
}

#[tokio::test]
async fn a_touch_records_where_the_session_was_last_seen() {
    let (auth, clock) = common::sqlite_auth().await;
    let s = auth.sign_up("gil", PASSWORD, client()).await.unwrap();
    clock.advance(Duration::minutes(5));
    let moved = ClientInfo::new(Some("198.51.100.4".into()), Some("other-agent"));
    auth.validate_token(&s.token, || moved).await.unwrap();
    let listed = auth.list_sessions(s.auth.user.id).await.unwrap();
    let session = &listed[0];
    assert_eq!(session.ip_address.as_deref(), Some("127.0.0.1"), "sign-in");
    assert_eq!(session.last_ip_address.as_deref(), Some("198.51.100.4"));
    assert_eq!(session.last_user_agent.as_deref(), Some("other-agent"));
}
