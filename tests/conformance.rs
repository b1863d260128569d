//! The store conformance suite: one set of tests, run against every backend.
//!
//! Each backend gets the same tests through `conformance!`. SQLite always
//! runs, bare and behind the in-process session cache. PostgreSQL and Redis run when their servers answer
//! (`TEST_DATABASE_URL`, default `postgres://postgres@127.0.0.1:5432/postgres`;
//! `TEST_REDIS_URL`, default `redis://127.0.0.1:6379`); otherwise each test
//! prints `SKIPPED <backend>` and passes, and the test command reports which
//! backends ran. Set `REQUIRE_BACKENDS=postgres,redis` to make a missing
//! server a failure instead (CI does).

#![allow(clippy::unwrap_used)]

mod common;

use engine::{
    email::{EmailAddress, LinkPurpose, Mail, NewLink},
    id::{SessionId, UserId},
    record::{
        AuthEvent, AuthEventKind, ClientInfo, Notice, NoticeKind, SessionRecord, UserSummary,
    },
    store::{IdentityRecord, NewUser, PasskeyRecord, Removal, Rotation},
    Error, SessionToken,
};
use time::{Duration, OffsetDateTime};

use crate::common::backends::{self, Backend};

fn now() -> OffsetDateTime {
    // Whole seconds: every backend stores Unix seconds.
    OffsetDateTime::from_unix_timestamp(OffsetDateTime::now_utc().unix_timestamp()).unwrap()
}

fn new_user(name: &str) -> NewUser {
    NewUser {
        user: UserSummary {
            id: UserId::new(),
            username: name.to_owned(),
            display_name: name.to_uppercase(),
            created_at: now(),
        },
        password_hash: Some("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
    }
}

fn session_for(user: &NewUser, at: OffsetDateTime) -> (SessionRecord, SessionToken) {
    let token = SessionToken::generate();
    let record = SessionRecord {
        id: SessionId::new(),
        user_id: user.user.id,
        token_hash: token.hash(),
        created_at: at,
        last_seen_at: at,
        idle_expires_at: at + Duration::minutes(30),
        expires_at: at + Duration::hours(8),
        persistent: false,
        ip_address: Some("192.0.2.1".to_owned()),
        user_agent: Some("conformance".to_owned()),
        last_ip_address: Some("192.0.2.1".to_owned()),
        last_user_agent: Some("conformance".to_owned()),
        revoked_at: None,
        authenticated_at: at,
        confirmed_at: None,
    };
    (record, token)
}

/// Rotates `presented` (of session `id`) into `successor` at `at`, with a
/// 30-second grace.
async fn rotate(
    b: &Backend,
    presented: &engine::TokenHash,
    successor: &engine::TokenHash,
    id: SessionId,
    at: OffsetDateTime,
) -> Rotation {
    b.sessions
        .rotate_refresh_token(presented, successor, id, at, Duration::seconds(30))
        .await
        .unwrap()
}

/// A stored first refresh token for session `id`.
async fn refresh_token(b: &Backend, id: SessionId, at: OffsetDateTime) -> SessionToken {
    let token = SessionToken::generate();
    b.sessions
        .insert_refresh_token(id, &token.hash(), at)
        .await
        .unwrap();
    token
}

/// A user with one session, stored.
async fn signed_in(b: &Backend, name: &str) -> (NewUser, SessionRecord, SessionToken) {
    let user = new_user(name);
    b.users.create_user(&user).await.unwrap();
    let (session, token) = session_for(&user, now());
    b.sessions.insert_session(&session).await.unwrap();
    (user, session, token)
}

async fn users_are_unique_by_name_and_found_by_it(b: Backend) {
    let user = new_user("alice");
    b.users.create_user(&user).await.unwrap();
    let mut again = new_user("alice");
    again.user.id = UserId::new();
    assert!(matches!(
        b.users.create_user(&again).await,
        Err(Error::UsernameTaken)
    ));
    let found = b
        .users
        .find_user_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.user, user.user);
    assert_eq!(found.password_hash, user.password_hash);
    assert_eq!(found.credentials_version, 0, "a new account's");
    assert!(b
        .users
        .find_user_by_username("bob")
        .await
        .unwrap()
        .is_none());
    b.users.ping().await.unwrap();
    b.sessions.ping().await.unwrap();
}

async fn a_session_is_found_by_its_hash_with_its_user(b: Backend) {
    let (user, session, token) = signed_in(&b, "carol").await;
    let found = b
        .sessions
        .find_session(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.session, session);
    assert_eq!(found.user, user.user);
    let by_id = b
        .sessions
        .find_session_by_id(session.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_id.session, session);
    let unknown = SessionToken::generate();
    assert!(b
        .sessions
        .find_session(&unknown.hash())
        .await
        .unwrap()
        .is_none());
    assert!(b
        .sessions
        .find_session_by_id(SessionId::new())
        .await
        .unwrap()
        .is_none());
}

async fn touch_slides_activity_but_not_on_revoked_sessions(b: Backend) {
    let (user, session, token) = signed_in(&b, "dan").await;
    let later = session.created_at + Duration::minutes(5);
    b.sessions
        .touch_session(
            session.id,
            later,
            later + Duration::minutes(30),
            &ClientInfo::new(Some("198.51.100.7".to_owned()), Some("elsewhere")),
        )
        .await
        .unwrap();
    let found = b
        .sessions
        .find_session(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.session.last_seen_at, later);
    assert_eq!(found.session.idle_expires_at, later + Duration::minutes(30));
    let last_seen = (
        found.session.last_ip_address.as_deref(),
        found.session.last_user_agent.as_deref(),
    );
    assert_eq!(last_seen, (Some("198.51.100.7"), Some("elsewhere")));
    assert_eq!(
        found.session.ip_address.as_deref(),
        Some("192.0.2.1"),
        "the sign-in address stays"
    );
    assert_eq!(
        found.session.expires_at, session.expires_at,
        "absolute never moves"
    );

    assert!(b
        .sessions
        .revoke_session(user.user.id, session.id, later)
        .await
        .unwrap());
    let much_later = later + Duration::minutes(10);
    b.sessions
        .touch_session(
            session.id,
            much_later,
            much_later + Duration::minutes(30),
            &ClientInfo::default(),
        )
        .await
        .unwrap();
    let found = b
        .sessions
        .find_session(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        found.session.last_seen_at, later,
        "a revoked session is not touched"
    );
    assert_eq!(
        found.session.revoked_at,
        Some(later),
        "revoked rows are still found"
    );
}

async fn revocation_is_per_owner_and_once(b: Backend) {
    let (erin, session, _) = signed_in(&b, "erin").await;
    let (frank, _, _) = signed_in(&b, "frank").await;
    let at = now();
    assert!(
        !b.sessions
            .revoke_session(frank.user.id, session.id, at)
            .await
            .unwrap(),
        "not his"
    );
    assert!(b
        .sessions
        .revoke_session(erin.user.id, session.id, at)
        .await
        .unwrap());
    assert!(
        !b.sessions
            .revoke_session(erin.user.id, session.id, at)
            .await
            .unwrap(),
        "once"
    );
    assert!(!b
        .sessions
        .revoke_session(erin.user.id, SessionId::new(), at)
        .await
        .unwrap());
}

async fn revoking_all_sessions_can_keep_one(b: Backend) {
    let (gus, first, _) = signed_in(&b, "gus").await;
    let mut ids = vec![first.id];
    for _ in 0..3 {
        let (s, _) = session_for(&gus, now());
        b.sessions.insert_session(&s).await.unwrap();
        ids.push(s.id);
    }
    let (other, _, _) = signed_in(&b, "hal").await;
    let at = now();
    let mut revoked = b
        .sessions
        .revoke_user_sessions(gus.user.id, Some(ids[0]), at)
        .await
        .unwrap();
    revoked.sort_unstable();
    let mut others = ids[1..].to_vec();
    others.sort_unstable();
    assert_eq!(revoked, others, "the revoked sessions are named");
    let left = b
        .sessions
        .list_user_sessions(gus.user.id, at)
        .await
        .unwrap();
    assert_eq!(left.iter().map(|s| s.id).collect::<Vec<_>>(), vec![ids[0]]);
    assert_eq!(
        b.sessions
            .revoke_user_sessions(gus.user.id, None, at)
            .await
            .unwrap(),
        vec![ids[0]]
    );
    assert!(b
        .sessions
        .list_user_sessions(gus.user.id, at)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        b.sessions
            .list_user_sessions(other.user.id, at)
            .await
            .unwrap()
            .len(),
        1,
        "other users untouched"
    );
}

async fn the_session_list_holds_active_sessions_newest_first(b: Backend) {
    let (ida, oldest, _) = signed_in(&b, "ida").await;
    let base = oldest.created_at;
    let (newer, _) = session_for(&ida, base + Duration::seconds(10));
    let (newest, _) = session_for(&ida, base + Duration::seconds(20));
    let (mut expired, _) = session_for(&ida, base - Duration::hours(9));
    expired.expires_at = base - Duration::hours(1);
    for s in [&newer, &newest, &expired] {
        b.sessions.insert_session(s).await.unwrap();
    }
    let list = b
        .sessions
        .list_user_sessions(ida.user.id, base + Duration::seconds(30))
        .await
        .unwrap();
    assert_eq!(
        list.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![newest.id, newer.id, oldest.id]
    );
}

async fn revoke_by_id_returns_the_owner_once(b: Backend) {
    let (jan, session, _) = signed_in(&b, "jan").await;
    let at = now();
    assert_eq!(
        b.sessions
            .revoke_session_by_id(session.id, at)
            .await
            .unwrap(),
        Some(jan.user.id)
    );
    assert_eq!(
        b.sessions
            .revoke_session_by_id(session.id, at)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        b.sessions
            .revoke_session_by_id(SessionId::new(), at)
            .await
            .unwrap(),
        None
    );
}

async fn refresh_tokens_rotate_then_grace_then_reuse(b: Backend) {
    let (_, session, _) = signed_in(&b, "kim").await;
    let at = now();
    let first = refresh_token(&b, session.id, at).await;

    let second = SessionToken::generate();
    let r = rotate(&b, &first.hash(), &second.hash(), session.id, at).await;
    assert_eq!(r, Rotation::Rotated(session.id));
    let third = SessionToken::generate();
    let r = rotate(
        &b,
        &first.hash(),
        &third.hash(),
        session.id,
        at + Duration::seconds(10),
    )
    .await;
    assert_eq!(r, Rotation::WithinGrace(session.id), "a racing tab");
    let r = rotate(
        &b,
        &first.hash(),
        &third.hash(),
        session.id,
        at + Duration::seconds(31),
    )
    .await;
    assert_eq!(r, Rotation::Reused(session.id), "a replay");
    let r = rotate(
        &b,
        &second.hash(),
        &third.hash(),
        session.id,
        at + Duration::seconds(31),
    )
    .await;
    assert_eq!(r, Rotation::Rotated(session.id), "the successor is current");
    let unknown = SessionToken::generate();
    let r = rotate(&b, &unknown.hash(), &third.hash(), session.id, at).await;
    assert_eq!(r, Rotation::Unknown);
    // Only the newest token of a family is current.
    let family = |token: &SessionToken| {
        let sessions = std::sync::Arc::clone(&b.sessions);
        let hash = token.hash();
        async move { sessions.refresh_token_session(&hash).await.unwrap() }
    };
    for (token, current) in [(&first, false), (&second, false), (&third, true)] {
        assert_eq!(
            family(token).await,
            Some(engine::store::RefreshFamily {
                session: session.id,
                current
            })
        );
    }
    assert_eq!(family(&unknown).await, None);
}

async fn a_refresh_token_rotates_only_for_its_own_session(b: Backend) {
    let (_, session, _) = signed_in(&b, "lee").await;
    let (_, other, _) = signed_in(&b, "lia").await;
    let at = now();
    let token = refresh_token(&b, session.id, at).await;
    let successor = SessionToken::generate();
    let r = rotate(&b, &token.hash(), &successor.hash(), other.id, at).await;
    assert_eq!(
        r,
        Rotation::Unknown,
        "presented beside another session's cookie"
    );
    let r = rotate(&b, &successor.hash(), &token.hash(), session.id, at).await;
    assert_eq!(r, Rotation::Unknown, "and nothing was stored");
    let r = rotate(&b, &token.hash(), &successor.hash(), session.id, at).await;
    assert_eq!(
        r,
        Rotation::Rotated(session.id),
        "still current for its own"
    );
}

async fn a_session_is_bound_to_one_key_for_good(b: Backend) {
    let (_, session, _) = signed_in(&b, "lyn").await;
    assert_eq!(b.sessions.bind_key(session.id, None).await.unwrap(), None);
    let tasks: Vec<_> = ["a", "b", "c"]
        .into_iter()
        .map(|key| {
            let sessions = b.sessions.clone();
            tokio::spawn(async move { sessions.bind_key(session.id, Some(key)).await })
        })
        .collect();
    let mut bound = Vec::new();
    for task in tasks {
        bound.push(task.await.unwrap().unwrap().expect("bound"));
    }
    assert!(
        bound.windows(2).all(|w| w[0] == w[1]),
        "one winner: {bound:?}"
    );
    let after = b.sessions.bind_key(session.id, Some("z")).await.unwrap();
    assert_eq!(after.as_ref(), bound.first(), "never rebound");
    assert_eq!(b.sessions.bind_key(session.id, None).await.unwrap(), after);
    let unknown = SessionId::new();
    assert_eq!(b.sessions.bind_key(unknown, Some("a")).await.unwrap(), None);
}

async fn a_dead_sessions_refresh_token_is_not_rotated(b: Backend) {
    let (lea, session, _) = signed_in(&b, "lea").await;
    let at = now();
    let token = refresh_token(&b, session.id, at).await;
    b.sessions
        .revoke_session(lea.user.id, session.id, at)
        .await
        .unwrap();
    let successor = SessionToken::generate();
    let r = rotate(&b, &token.hash(), &successor.hash(), session.id, at).await;
    assert!(!matches!(r, Rotation::Rotated(_)), "{r:?}");
    // The successor was not stored: presenting it is unknown.
    let r = rotate(&b, &successor.hash(), &token.hash(), session.id, at).await;
    assert_eq!(r, Rotation::Unknown);
}

async fn concurrent_rotations_of_one_token_rotate_it_exactly_once(b: Backend) {
    let (_, session, _) = signed_in(&b, "max").await;
    let at = now();
    let token = refresh_token(&b, session.id, at).await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let sessions = b.sessions.clone();
            let (hash, id) = (token.hash(), session.id);
            tokio::spawn(async move {
                let successor = SessionToken::generate();
                sessions
                    .rotate_refresh_token(&hash, &successor.hash(), id, at, Duration::seconds(30))
                    .await
            })
        })
        .collect();
    let mut rotated = 0;
    for task in tasks {
        match task.await.unwrap().unwrap() {
            Rotation::Rotated(id) => {
                assert_eq!(id, session.id);
                rotated += 1;
            }
            Rotation::WithinGrace(id) => assert_eq!(id, session.id),
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(rotated, 1);
}

async fn purge_deletes_expired_and_revoked_sessions_with_their_tokens(b: Backend) {
    let (ned, live, live_token) = signed_in(&b, "ned").await;
    let at = live.created_at;
    let (mut idle, idle_token) = session_for(&ned, at - Duration::hours(1));
    idle.idle_expires_at = at - Duration::minutes(1);
    let (mut old, old_token) = session_for(&ned, at - Duration::hours(9));
    old.expires_at = at - Duration::hours(1);
    let (revoked, revoked_token) = session_for(&ned, at);
    for s in [&idle, &old, &revoked] {
        b.sessions.insert_session(s).await.unwrap();
    }
    b.sessions
        .revoke_session(ned.user.id, revoked.id, at)
        .await
        .unwrap();
    let refresh = refresh_token(&b, revoked.id, at).await;

    assert_eq!(b.sessions.delete_expired(at).await.unwrap(), 3);
    for gone in [&idle_token, &old_token, &revoked_token] {
        assert!(b
            .sessions
            .find_session(&gone.hash())
            .await
            .unwrap()
            .is_none());
    }
    assert!(b
        .sessions
        .find_session(&live_token.hash())
        .await
        .unwrap()
        .is_some());
    let r = rotate(
        &b,
        &refresh.hash(),
        &SessionToken::generate().hash(),
        revoked.id,
        at,
    )
    .await;
    assert_eq!(r, Rotation::Unknown, "its refresh tokens went with it");
    assert_eq!(b.sessions.delete_expired(at).await.unwrap(), 0);
}

async fn events_are_listed_newest_first_and_limited(b: Backend) {
    let (oli, _, _) = signed_in(&b, "oli").await;
    let base = now();
    for (i, kind) in [
        AuthEventKind::SignUp,
        AuthEventKind::SignIn,
        AuthEventKind::Logout,
    ]
    .into_iter()
    .enumerate()
    {
        let event = AuthEvent {
            kind,
            session_ref: Some("abcd1234".to_owned()),
            ip_address: None,
            user_agent: Some("ua".to_owned()),
            created_at: base + Duration::seconds(i64::try_from(i).unwrap()),
            count: 1,
        };
        b.users
            .record_event(Some(oli.user.id), &event)
            .await
            .unwrap();
    }
    let anonymous = AuthEvent {
        kind: AuthEventKind::SignInFailed,
        session_ref: None,
        ip_address: None,
        user_agent: None,
        created_at: base,
        count: 1,
    };
    b.users.record_event(None, &anonymous).await.unwrap();
    let events = b.users.list_events(oli.user.id, 2).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.kind).collect::<Vec<_>>(),
        vec![AuthEventKind::Logout, AuthEventKind::SignIn]
    );
}

/// Instantiates every test above for one backend.
async fn rate_counters_count_within_a_window_then_start_again(b: Backend) {
    let at =
        engine::store::from_unix_ms(engine::store::unix_ms(OffsetDateTime::now_utc())).unwrap();
    let minute = std::time::Duration::from_secs(60);
    let c = &b.counters;
    assert_eq!(c.peek("fail:ada", at).await.unwrap(), None, "never counted");
    let first = c.count("fail:ada", minute, at).await.unwrap();
    assert_eq!((first.count, first.ends_at), (1, at + Duration::minutes(1)));
    let later = at + Duration::seconds(30);
    let second = c.count("fail:ada", minute, later).await.unwrap();
    assert_eq!(
        (second.count, second.ends_at),
        (2, first.ends_at),
        "same window"
    );
    assert_eq!(c.peek("fail:ada", later).await.unwrap(), Some(second));
    assert_eq!(
        c.peek("fail:ada", later).await.unwrap().unwrap().count,
        2,
        "peek does not count"
    );
    assert_eq!(
        c.count("fail:bob", minute, later).await.unwrap().count,
        1,
        "keys are apart"
    );
    // Once the window has ended the count starts again.
    let next = first.ends_at;
    assert_eq!(c.peek("fail:ada", next).await.unwrap(), None);
    let again = c.count("fail:ada", minute, next).await.unwrap();
    assert_eq!(
        (again.count, again.ends_at),
        (1, next + Duration::minutes(1))
    );
}

async fn concurrent_counts_each_get_a_distinct_count(b: Backend) {
    let at = OffsetDateTime::now_utc();
    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let c = b.counters.clone();
            tokio::spawn(async move {
                let minute = std::time::Duration::from_secs(60);
                c.count("ip:192.0.2.9", minute, at).await.unwrap().count
            })
        })
        .collect();
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await.unwrap());
    }
    counts.sort_unstable();
    assert_eq!(counts, (1..=20).collect::<Vec<_>>());
}

async fn a_confirmation_is_recorded_on_a_live_session_only(b: Backend) {
    let (_, session, token) = signed_in(&b, "ivy").await;
    let later = now() + Duration::minutes(3);
    assert!(b
        .sessions
        .record_authentication(session.id, later)
        .await
        .unwrap());
    let found = b
        .sessions
        .find_session(&token.hash())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.session.authenticated_at, later);
    assert_eq!(
        found.session.confirmed_at,
        Some(later),
        "a proof within the session, unlike the sign-in's"
    );
    b.sessions
        .revoke_session(session.user_id, session.id, later)
        .await
        .unwrap();
    assert!(!b
        .sessions
        .record_authentication(session.id, later)
        .await
        .unwrap());
    assert!(!b
        .sessions
        .record_authentication(SessionId::new(), later)
        .await
        .unwrap());
}

async fn a_password_hash_is_replaced_and_a_deleted_user_is_gone(b: Backend) {
    let (jan, session, token) = signed_in(&b, "jan").await;
    let id = jan.user.id;
    assert_eq!(
        b.users
            .set_password_hash(id, "$argon2id$new")
            .await
            .unwrap(),
        Some(1),
        "the credentials version moves on"
    );
    let account = b.users.find_user_by_username("jan").await.unwrap().unwrap();
    assert_eq!(account.password_hash.as_deref(), Some("$argon2id$new"));
    assert_eq!(account.credentials_version, 1);
    assert_eq!(b.users.credentials_version(id).await.unwrap(), Some(1));
    assert_eq!(b.users.bump_credentials_version(id).await.unwrap(), Some(2));
    assert_eq!(
        b.users.set_password_hash(UserId::new(), "x").await.unwrap(),
        None
    );

    let event = AuthEvent {
        kind: AuthEventKind::SignIn,
        session_ref: None,
        ip_address: None,
        user_agent: None,
        created_at: now(),
        count: 1,
    };
    b.users.record_event(Some(id), &event).await.unwrap();
    // As the engine deletes an account: sessions ended, user deleted,
    // ended sessions purged.
    b.sessions
        .revoke_user_sessions(id, None, now())
        .await
        .unwrap();
    assert!(b.users.delete_user(id, None).await.unwrap());
    b.sessions.delete_expired(now()).await.unwrap();
    assert!(b.users.find_user_by_id(id).await.unwrap().is_none());
    assert!(b.users.list_events(id, 10).await.unwrap().is_empty());
    assert!(b
        .sessions
        .find_session(&token.hash())
        .await
        .unwrap()
        .is_none());
    assert!(b
        .sessions
        .find_session_by_id(session.id)
        .await
        .unwrap()
        .is_none());
    assert!(
        !b.users.delete_user(id, None).await.unwrap(),
        "deleted once"
    );
    // Retention: events before the cutoff go, later ones stay.
    let kept = new_user("kim");
    b.users.create_user(&kept).await.unwrap();
    let at = |t| AuthEvent {
        created_at: t,
        ..event.clone()
    };
    let old = now() - Duration::days(100);
    b.users
        .record_event(Some(kept.user.id), &at(old))
        .await
        .unwrap();
    b.users.record_event(None, &at(old)).await.unwrap();
    b.users
        .record_event(Some(kept.user.id), &at(now()))
        .await
        .unwrap();
    let gone = b
        .users
        .delete_events_before(now() - Duration::days(90))
        .await
        .unwrap();
    assert!(gone >= 2, "{gone}");
    let left = b.users.list_events(kept.user.id, 10).await.unwrap();
    assert_eq!(left.len(), 1);
    assert!(left[0].created_at > old, "the recent event stays");
    // The name is free again.
    b.users.create_user(&new_user("jan")).await.unwrap();
}

async fn failed_sign_ins_are_counted_since_the_latest_sign_in(b: Backend) {
    let (pia, _, _) = signed_in(&b, "pia").await;
    let id = pia.user.id;
    let record = |kind| {
        let event = AuthEvent {
            kind,
            session_ref: None,
            ip_address: None,
            user_agent: None,
            // One second for all: the count goes by order, not by time.
            created_at: now(),
            count: 1,
        };
        let users = std::sync::Arc::clone(&b.users);
        async move { users.record_event(Some(id), &event).await.unwrap() }
    };
    assert_eq!(b.users.failed_sign_ins_since_sign_in(id).await.unwrap(), 0);
    record(AuthEventKind::SignInFailed).await;
    record(AuthEventKind::SignUp).await;
    record(AuthEventKind::SignInFailed).await;
    record(AuthEventKind::SignInFailed).await;
    assert_eq!(b.users.failed_sign_ins_since_sign_in(id).await.unwrap(), 2);
    let listed = b.users.list_events(id, 10).await.unwrap();
    assert_eq!(
        listed.iter().map(|e| e.kind).collect::<Vec<_>>(),
        [AuthEventKind::SignUp],
        "failed sign-ins are counted, not listed"
    );
    record(AuthEventKind::SignIn).await;
    assert_eq!(b.users.failed_sign_ins_since_sign_in(id).await.unwrap(), 0);
}

async fn notices_are_listed_newest_first_and_dismissed_by_their_owner(b: Backend) {
    let (ray, _, _) = signed_in(&b, "ray").await;
    let (sam, _, _) = signed_in(&b, "sam").await;
    let notice = |kind, count, created_at| Notice {
        kind,
        count,
        ip_address: Some("203.0.113.9".to_owned()),
        user_agent: Some("ua".to_owned()),
        created_at,
    };
    let (at, old) = (now(), now() - Duration::days(100));
    for n in [
        notice(NoticeKind::NewDevice, 0, old),
        notice(NoticeKind::FailedSignIns, 3, at),
        notice(NoticeKind::RefreshReuse, 0, at),
    ] {
        b.users.add_notice(ray.user.id, &n, None).await.unwrap();
    }
    let listed = b.users.list_notices(ray.user.id, 2).await.unwrap();
    assert_eq!(
        listed.iter().map(|n| n.notice.kind).collect::<Vec<_>>(),
        [NoticeKind::RefreshReuse, NoticeKind::FailedSignIns]
    );
    assert_eq!(listed[1].notice, notice(NoticeKind::FailedSignIns, 3, at));
    // The dashboard reads notices and events in one query: each list as it
    // is listed alone (failed sign-ins left out, each limit kept, no other
    // user's rows).
    let event = |kind, created_at| AuthEvent {
        kind,
        session_ref: Some("ab12".to_owned()),
        ip_address: None,
        user_agent: Some("ua".to_owned()),
        created_at,
        count: 1,
    };
    for (kind, ago) in [
        (AuthEventKind::SignUp, 3),
        (AuthEventKind::SignInFailed, 2),
        (AuthEventKind::SignIn, 1),
    ] {
        let e = event(kind, at - Duration::seconds(ago));
        b.users.record_event(Some(ray.user.id), &e).await.unwrap();
    }
    let theirs = event(AuthEventKind::Logout, at);
    b.users
        .record_event(Some(sam.user.id), &theirs)
        .await
        .unwrap();
    let activity = b.users.activity(ray.user.id, 2, 10).await.unwrap();
    assert_eq!(activity.notices, listed);
    assert_eq!(
        activity.events,
        b.users.list_events(ray.user.id, 10).await.unwrap()
    );
    assert_eq!(
        activity.events,
        [
            event(AuthEventKind::SignIn, at - Duration::seconds(1)),
            event(AuthEventKind::SignUp, at - Duration::seconds(3))
        ]
    );
    let fewer = b.users.activity(ray.user.id, 1, 1).await.unwrap();
    assert_eq!((fewer.notices.len(), fewer.events.len()), (1, 1));
    let failed = listed[1].id;
    // Dismissed once, by its owner only, from a session that proved a
    // credential after the notice was raised: a later sign-in, or a
    // confirmation since (the same second counts for a confirmation only).
    let later = at + Duration::seconds(1);
    assert!(!b
        .users
        .dismiss_notice(sam.user.id, failed, later, None)
        .await
        .unwrap());
    assert!(
        !b.users
            .dismiss_notice(ray.user.id, failed, at, None)
            .await
            .unwrap(),
        "a sign-in in the notice's second, as the one that raised it"
    );
    assert!(
        !b.users
            .dismiss_notice(ray.user.id, failed, at, Some(at - Duration::seconds(1)))
            .await
            .unwrap(),
        "a confirmation from before the notice"
    );
    assert!(b
        .users
        .dismiss_notice(ray.user.id, failed, at, Some(at))
        .await
        .unwrap());
    assert!(
        !b.users
            .dismiss_notice(ray.user.id, failed, later, None)
            .await
            .unwrap(),
        "once"
    );
    let all = b.users.list_notices(ray.user.id, 10).await.unwrap();
    let old_one = all.last().unwrap();
    assert_eq!(old_one.notice.kind, NoticeKind::NewDevice);
    assert!(
        b.users
            .dismiss_notice(ray.user.id, old_one.id, at, None)
            .await
            .unwrap(),
        "a session signed in after it"
    );
    // Retention takes old notices with old events.
    b.users
        .delete_events_before(now() - Duration::days(90))
        .await
        .unwrap();
    let left = b.users.list_notices(ray.user.id, 10).await.unwrap();
    assert_eq!(
        left.iter().map(|n| n.notice.kind).collect::<Vec<_>>(),
        [NoticeKind::RefreshReuse]
    );
    assert!(b
        .users
        .list_notices(sam.user.id, 10)
        .await
        .unwrap()
        .is_empty());
    // They go with their user.
    assert!(b.users.delete_user(ray.user.id, None).await.unwrap());
    assert!(b
        .users
        .list_notices(ray.user.id, 10)
        .await
        .unwrap()
        .is_empty());
}

async fn rotated_refresh_tokens_are_deleted_after_their_retention(b: Backend) {
    let (_, session, _) = signed_in(&b, "lou").await;
    let at = now();
    let first = refresh_token(&b, session.id, at).await;
    let second = SessionToken::generate();
    let third = SessionToken::generate();
    let later = at + Duration::minutes(5);
    assert_eq!(
        rotate(&b, &first.hash(), &second.hash(), session.id, at).await,
        Rotation::Rotated(session.id)
    );
    assert_eq!(
        rotate(&b, &second.hash(), &third.hash(), session.id, later).await,
        Rotation::Rotated(session.id)
    );
    // Only `first` was rotated before the cutoff.
    let gone = b.sessions.delete_rotated_before(later).await.unwrap();
    assert_eq!(gone, 1);
    let fourth = SessionToken::generate();
    let probe = later + Duration::minutes(1);
    assert_eq!(
        rotate(&b, &first.hash(), &fourth.hash(), session.id, probe).await,
        Rotation::Unknown,
        "past its retention a replay is refused as unknown"
    );
    assert_eq!(
        rotate(&b, &second.hash(), &fourth.hash(), session.id, probe).await,
        Rotation::Reused(session.id),
        "within it, still recognised"
    );
    // The current token is never rotated, so never deleted this way.
    let far = probe + Duration::days(1);
    b.sessions.delete_rotated_before(far).await.unwrap();
    let fresh = signed_in(&b, "lou2").await;
    let current = refresh_token(&b, fresh.1.id, at).await;
    b.sessions.delete_rotated_before(far).await.unwrap();
    assert_eq!(
        rotate(&b, &current.hash(), &fourth.hash(), fresh.1.id, probe).await,
        Rotation::Rotated(fresh.1.id)
    );
}

async fn revocations_are_logged_and_announced(b: Backend) {
    use engine::feed::Signal;
    let wait = std::time::Duration::from_secs(5);
    let mut heard = b.feed.as_ref().map(|feed| feed.subscribe());
    if let Some(heard) = &mut heard {
        let first = tokio::time::timeout(wait, heard.recv()).await.unwrap();
        assert_eq!(first, Some(Signal::Listening));
    }
    let (pat, one, _) = signed_in(&b, "pat").await;
    let at = one.created_at;
    let (two, three, kept) = (
        session_for(&pat, at).0,
        session_for(&pat, at).0,
        session_for(&pat, at).0,
    );
    for s in [&two, &three, &kept] {
        b.sessions.insert_session(s).await.unwrap();
    }
    assert!(b
        .sessions
        .revoke_session(pat.user.id, one.id, at)
        .await
        .unwrap());
    assert!(b
        .sessions
        .revoke_session_by_id(two.id, at)
        .await
        .unwrap()
        .is_some());
    let rest = b
        .sessions
        .revoke_user_sessions(pat.user.id, Some(kept.id), at)
        .await
        .unwrap();
    assert_eq!(rest, [three.id]);
    let mut expected = vec![one.id, two.id, three.id];
    expected.sort();

    let logged = || async {
        let mut ids = b.sessions.revoked_since(at).await.unwrap();
        ids.sort();
        ids
    };
    assert_eq!(logged().await, expected, "every way of revoking is logged");
    assert!(b
        .sessions
        .revoked_since(at + Duration::seconds(1))
        .await
        .unwrap()
        .is_empty());
    if let Some(mut heard) = heard {
        // Other tests' revocations may share the channel (one database).
        let mut announced = Vec::new();
        while announced.len() < expected.len() {
            match tokio::time::timeout(wait, heard.recv()).await.unwrap() {
                Some(Signal::Announced(ids)) => {
                    announced.extend(ids.into_iter().filter(|id| expected.contains(id)));
                }
                other => panic!("unexpected {other:?}"),
            }
        }
        announced.sort();
        assert_eq!(announced, expected, "each announced once");
    }

    // The log outlives the rows and the account, for RETAIN.
    b.sessions.delete_expired(at).await.unwrap();
    b.sessions
        .revoke_user_sessions(pat.user.id, None, at)
        .await
        .unwrap();
    assert!(b.users.delete_user(pat.user.id, None).await.unwrap());
    b.sessions.delete_expired(at).await.unwrap();
    assert_eq!(logged().await.len(), 4);
    let later = at + engine::deny_list::RETAIN + Duration::seconds(1);
    b.sessions.delete_expired(later).await.unwrap();
    assert!(logged().await.is_empty(), "forgotten after RETAIN");
}

fn passkey(user: &NewUser, credential_id: &str, at: OffsetDateTime) -> PasskeyRecord {
    PasskeyRecord {
        id: uuid::Uuid::now_v7().to_string(),
        user_id: user.user.id,
        credential_id: credential_id.to_owned(),
        name: "Laptop".to_owned(),
        credential: "{}".to_owned(),
        created_at: at,
        last_used_at: None,
    }
}

fn identity(user: &NewUser, subject: &str, at: OffsetDateTime) -> IdentityRecord {
    IdentityRecord {
        issuer: "https://id.example".to_owned(),
        subject: subject.to_owned(),
        user_id: user.user.id,
        label: format!("{subject}@id.example"),
        created_at: at,
        last_used_at: None,
    }
}

fn without_password(name: &str) -> NewUser {
    let mut user = new_user(name);
    user.password_hash = None;
    user
}

async fn identities_link_one_account_and_the_last_credential_stays(b: Backend) {
    let at = now();
    let ida = without_password("ida");
    let first = identity(&ida, "ida-1", at);
    let address = EmailAddress::parse("Ida@Example.com").unwrap();
    b.users
        .create_identity_account(&ida, &first, Some(&address))
        .await
        .unwrap();
    let found = b.users.find_user_by_username("ida").await.unwrap().unwrap();
    assert_eq!(found.password_hash, None, "no password");
    assert_eq!(
        b.users
            .find_user_by_verified_email(&address)
            .await
            .unwrap()
            .map(|u| u.id),
        Some(ida.user.id),
        "the provider's address, verified"
    );
    assert_eq!(
        b.users.find_identity(&first.issuer, "ida-1").await.unwrap(),
        Some(ida.user.id)
    );
    assert_eq!(
        b.users
            .find_identity("https://other.example", "ida-1")
            .await
            .unwrap(),
        None
    );
    let (ann, _, _) = signed_in(&b, "ann").await;
    assert!(
        matches!(
            b.users.add_identity(&identity(&ann, "ida-1", at)).await,
            Err(Error::IdentityTaken)
        ),
        "an identity links one account"
    );
    b.users
        .identity_used(&first.issuer, "ida-1", at + Duration::seconds(9))
        .await
        .unwrap();
    let listed = b.users.list_identities(ida.user.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(at + Duration::seconds(9)));

    // The only credential stays; another account cannot remove it.
    assert_eq!(
        b.users
            .remove_identity(ida.user.id, &first.issuer, "ida-1")
            .await
            .unwrap(),
        Removal::LastCredential
    );
    assert_eq!(
        b.users
            .remove_identity(ann.user.id, &first.issuer, "ida-1")
            .await
            .unwrap(),
        Removal::NotFound
    );
    // With a passkey beside it, it goes; then the passkey is the last.
    let key = passkey(&ida, "ida-key", at);
    b.users.add_passkey(&key).await.unwrap();
    assert_eq!(
        b.users
            .remove_identity(ida.user.id, &first.issuer, "ida-1")
            .await
            .unwrap(),
        Removal::Removed
    );
    assert_eq!(
        b.users.find_identity(&first.issuer, "ida-1").await.unwrap(),
        None
    );
    assert_eq!(
        b.users.remove_passkey(ida.user.id, &key.id).await.unwrap(),
        Removal::LastCredential
    );
    // An identity counts as a credential for a passkey's removal, and for
    // a password's.
    b.users
        .add_identity(&identity(&ida, "ida-2", at))
        .await
        .unwrap();
    assert_eq!(
        b.users.remove_passkey(ida.user.id, &key.id).await.unwrap(),
        Removal::Removed
    );
    b.users
        .add_identity(&identity(&ann, "ann-1", at))
        .await
        .unwrap();
    assert_eq!(
        b.users.remove_password(ann.user.id).await.unwrap(),
        Removal::Removed
    );

    // Deleting the account unlinks its identities.
    assert!(b.users.delete_user(ida.user.id, None).await.unwrap());
    assert_eq!(
        b.users.find_identity(&first.issuer, "ida-2").await.unwrap(),
        None
    );
}

async fn an_identity_account_is_made_whole_or_not_at_all(b: Backend) {
    let at = now();
    let ivo = without_password("ivo");
    let address = EmailAddress::parse("ivo@example.com").unwrap();
    b.users
        .create_identity_account(&ivo, &identity(&ivo, "ivo-1", at), Some(&address))
        .await
        .unwrap();
    let attempts = [
        // The name is taken.
        (without_password("ivo"), "ivo-2", None, "UsernameTaken"),
        // The identity is linked already.
        (without_password("ivo-b"), "ivo-1", None, "IdentityTaken"),
        // The address is another account's verified one.
        (
            without_password("ivo-c"),
            "ivo-3",
            Some(&address),
            "EmailTaken",
        ),
    ];
    for (user, subject, email, expected) in attempts {
        let err = b
            .users
            .create_identity_account(&user, &identity(&user, subject, at), email)
            .await
            .unwrap_err();
        assert_eq!(format!("{err:?}"), expected);
        assert_eq!(b.users.list_identities(user.user.id).await.unwrap(), vec![]);
        if user.user.username != "ivo" {
            assert!(
                b.users
                    .find_user_by_username(&user.user.username)
                    .await
                    .unwrap()
                    .is_none(),
                "no account without its identity ({expected})"
            );
        }
        if subject != "ivo-1" {
            assert_eq!(
                b.users
                    .find_identity("https://id.example", subject)
                    .await
                    .unwrap(),
                None
            );
        }
    }
}

async fn passkeys_are_one_per_credential_and_the_last_credential_stays(b: Backend) {
    let at = now();
    let (ada, _, _) = signed_in(&b, "ada").await;
    let mut bo = new_user("bo");
    bo.password_hash = None;
    b.users.create_user(&bo).await.unwrap();
    assert_eq!(
        b.users
            .find_user_by_username("bo")
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        None,
        "no password"
    );

    let first = passkey(&bo, "cred-1", at);
    b.users.add_passkey(&first).await.unwrap();
    assert!(
        matches!(
            b.users.add_passkey(&passkey(&ada, "cred-1", at)).await,
            Err(Error::PasskeyTaken)
        ),
        "a credential belongs to one account"
    );
    assert_eq!(
        b.users.find_passkey("cred-1").await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(b.users.find_passkey("cred-2").await.unwrap(), None);

    assert!(b
        .users
        .passkey_used(
            &first.id,
            &first.credential,
            "{\"counter\":2}",
            at + Duration::seconds(5)
        )
        .await
        .unwrap());
    assert!(
        !b.users
            .passkey_used(&first.id, &first.credential, "{\"counter\":1}", at)
            .await
            .unwrap(),
        "compare-and-set: a use that read the old counter records nothing"
    );
    let used = b.users.find_passkey("cred-1").await.unwrap().unwrap();
    assert_eq!(used.credential, "{\"counter\":2}");
    assert_eq!(used.last_used_at, Some(at + Duration::seconds(5)));

    assert!(!b
        .users
        .rename_passkey(ada.user.id, &first.id, "Mine")
        .await
        .unwrap());
    assert!(b
        .users
        .rename_passkey(bo.user.id, &first.id, "Phone")
        .await
        .unwrap());
    assert_eq!(
        b.users.list_passkeys(bo.user.id).await.unwrap()[0].name,
        "Phone"
    );

    // Bo has no password: the only passkey stays, a second one can go.
    assert_eq!(
        b.users
            .remove_passkey(ada.user.id, &first.id)
            .await
            .unwrap(),
        Removal::NotFound,
        "not another's"
    );
    assert_eq!(
        b.users.remove_passkey(bo.user.id, &first.id).await.unwrap(),
        Removal::LastCredential
    );
    let second = passkey(&bo, "cred-2", at + Duration::seconds(1));
    b.users.add_passkey(&second).await.unwrap();
    let listed = b.users.list_passkeys(bo.user.id).await.unwrap();
    assert_eq!(
        listed.iter().map(|p| p.id.as_str()).collect::<Vec<_>>(),
        [&first.id, &second.id]
    );
    assert_eq!(
        b.users.remove_passkey(bo.user.id, &first.id).await.unwrap(),
        Removal::Removed
    );
    assert_eq!(
        b.users
            .remove_passkey(bo.user.id, &second.id)
            .await
            .unwrap(),
        Removal::LastCredential
    );

    // With a password, the last passkey can go.
    let own = passkey(&ada, "cred-3", at);
    b.users.add_passkey(&own).await.unwrap();
    assert_eq!(
        b.users.remove_passkey(ada.user.id, &own.id).await.unwrap(),
        Removal::Removed
    );

    assert_eq!(
        b.users.credentials_version(ada.user.id).await.unwrap(),
        Some(1),
        "a removed passkey moves the credentials version on (a refused one does not)"
    );

    // An account's passkeys go with it.
    assert!(b.users.delete_user(bo.user.id, None).await.unwrap());
    assert_eq!(b.users.find_passkey("cred-2").await.unwrap(), None);
}

async fn a_password_goes_only_while_a_passkey_stays(b: Backend) {
    let at = now();
    let (cal, _, _) = signed_in(&b, "cal").await;
    let id = cal.user.id;
    assert_eq!(
        b.users.remove_password(id).await.unwrap(),
        Removal::LastCredential,
        "no passkey to sign in with"
    );
    assert_eq!(b.users.credentials_version(id).await.unwrap(), Some(0));
    b.users
        .add_passkey(&passkey(&cal, "cal-1", at))
        .await
        .unwrap();
    assert_eq!(b.users.remove_password(id).await.unwrap(), Removal::Removed);
    let account = b.users.find_user_by_username("cal").await.unwrap().unwrap();
    assert_eq!(account.password_hash, None);
    assert_eq!(account.credentials_version, 1);
    assert_eq!(
        b.users.remove_password(id).await.unwrap(),
        Removal::NotFound,
        "none left to remove"
    );
    assert_eq!(
        b.users.remove_password(UserId::new()).await.unwrap(),
        Removal::NotFound
    );
}

/// Two removals at once on an account with no password and two passkeys:
/// exactly one goes (under READ COMMITTED, a plain `DELETE … COUNT(*) > 1`
/// lets both through). Fifty trials.
async fn concurrent_removals_never_take_the_last_credential(b: Backend) {
    let at = now();
    for trial in 0..50 {
        let mut user = new_user(&format!("race{trial}"));
        user.password_hash = None;
        b.users.create_user(&user).await.unwrap();
        let keys = [
            passkey(&user, &format!("race{trial}-a"), at),
            passkey(&user, &format!("race{trial}-b"), at),
        ];
        for key in &keys {
            b.users.add_passkey(key).await.unwrap();
        }
        let removals = keys.iter().map(|key| {
            let (users, id, key) = (b.users.clone(), user.user.id, key.id.clone());
            tokio::spawn(async move { users.remove_passkey(id, &key).await.unwrap() })
        });
        let mut removed = 0;
        for removal in removals {
            removed += usize::from(removal.await.unwrap() == Removal::Removed);
        }
        assert_eq!(removed, 1, "trial {trial}");
        assert_eq!(b.users.list_passkeys(user.user.id).await.unwrap().len(), 1);
    }
}

/// Events a stranger can cause (a lock, a refused refresh) are one line per
/// account, kind and day, counted, with the latest's time and source.
async fn stranger_caused_events_are_one_counted_line_a_day(b: Backend) {
    let (ana, _, _) = signed_in(&b, "ana").await;
    let id = ana.user.id;
    let day = now().replace_time(time::Time::MIDNIGHT) + Duration::hours(9);
    let event = |kind, created_at: OffsetDateTime, ip: &str| AuthEvent {
        kind,
        session_ref: None,
        ip_address: Some(ip.to_owned()),
        user_agent: None,
        created_at,
        count: 1,
    };
    let own = event(AuthEventKind::SignIn, day, "192.0.2.1");
    b.users.record_event(Some(id), &own).await.unwrap();
    for minute in 0..30 {
        let at = day + Duration::minutes(minute);
        let locked = event(AuthEventKind::SignInLocked, at, "203.0.113.9");
        b.users.record_event(Some(id), &locked).await.unwrap();
    }
    let refused = event(AuthEventKind::RefreshUnbound, day, "203.0.113.10");
    b.users.record_event(Some(id), &refused).await.unwrap();
    let next_day = event(
        AuthEventKind::SignInLocked,
        day + Duration::days(1),
        "203.0.113.11",
    );
    b.users.record_event(Some(id), &next_day).await.unwrap();

    let listed = b.users.list_events(id, 3).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|e| (e.kind, e.count, e.ip_address.as_deref().unwrap()))
            .collect::<Vec<_>>(),
        [
            (AuthEventKind::SignInLocked, 1, "203.0.113.11"),
            (AuthEventKind::SignInLocked, 30, "203.0.113.9"),
            (AuthEventKind::RefreshUnbound, 1, "203.0.113.10"),
        ]
    );
    assert_eq!(
        listed[1].created_at,
        day + Duration::minutes(29),
        "the latest's time"
    );
    let all = b.users.list_events(id, 10).await.unwrap();
    assert_eq!(
        all.len(),
        4,
        "the owner's own sign-in is still listed: {all:?}"
    );
    assert_eq!(b.users.activity(id, 0, 10).await.unwrap().events, all);
}

/// What the dashboard reads (`activity`) is, after every kind of write to
/// an account's notices and events, what the plain lists read: a store
/// that keeps it between writes (SQLite, one instance) forgets it on each.
async fn the_dashboards_lists_follow_every_write(b: Backend) {
    let (ray, _, _) = signed_in(&b, "ray").await;
    let (sam, _, _) = signed_in(&b, "sam").await;
    let id = ray.user.id;
    let at = now();
    let fresh = |b: &Backend| {
        let users = b.users.clone();
        async move {
            let notices = users.list_notices(id, 5).await.unwrap();
            let events = users.list_events(id, 10).await.unwrap();
            (notices, events)
        }
    };
    let shown = |b: &Backend| {
        let users = b.users.clone();
        async move {
            let activity = users.activity(id, 5, 10).await.unwrap();
            (activity.notices, activity.events)
        }
    };
    let event = |kind, created_at| AuthEvent {
        kind,
        session_ref: None,
        ip_address: Some("203.0.113.7".to_owned()),
        user_agent: None,
        created_at,
        count: 1,
    };
    // Read once, so a keeping store has something to forget each time.
    assert_eq!(shown(&b).await, fresh(&b).await);

    let old = at - Duration::days(100);
    b.users
        .record_event(Some(id), &event(AuthEventKind::SignIn, old))
        .await
        .unwrap();
    assert_eq!(shown(&b).await.1.len(), 1, "an event");
    assert_eq!(shown(&b).await, fresh(&b).await);

    // A grouped kind counts on today's line instead of adding one.
    for _ in 0..2 {
        b.users
            .record_event(Some(id), &event(AuthEventKind::SignInLocked, at))
            .await
            .unwrap();
    }
    assert_eq!(shown(&b).await.1[0].count, 2, "a grouped event counted");
    assert_eq!(shown(&b).await, fresh(&b).await);

    // Another account's writes leave these lists as they are.
    b.users
        .record_event(Some(sam.user.id), &event(AuthEventKind::SignIn, at))
        .await
        .unwrap();
    b.users
        .add_notice(sam.user.id, &new_device_notice(at), None)
        .await
        .unwrap();
    assert_eq!(shown(&b).await, fresh(&b).await);

    b.users
        .add_notice(id, &new_device_notice(old), None)
        .await
        .unwrap();
    b.users
        .add_notice(id, &new_device_notice(at), None)
        .await
        .unwrap();
    let (notices, _) = shown(&b).await;
    assert_eq!(notices.len(), 2, "the notices");
    assert_eq!(shown(&b).await, fresh(&b).await);

    assert!(b
        .users
        .dismiss_notice(id, notices[0].id, at + Duration::seconds(1), None)
        .await
        .unwrap());
    assert_eq!(shown(&b).await.0.len(), 1, "a notice dismissed");
    assert_eq!(shown(&b).await, fresh(&b).await);

    // The clean-up of old rows, which names no account.
    b.users
        .delete_events_before(at - Duration::days(30))
        .await
        .unwrap();
    let (notices, events) = shown(&b).await;
    assert_eq!((notices.len(), events.len()), (0, 1), "old rows gone");
    assert_eq!(shown(&b).await, fresh(&b).await);

    assert!(b.users.delete_user(id, None).await.unwrap());
    assert_eq!(
        shown(&b).await,
        (Vec::new(), Vec::new()),
        "the account gone"
    );
}

/// A plain notice of a sign-in from a new browser, raised `at`.
fn new_device_notice(at: OffsetDateTime) -> Notice {
    Notice {
        kind: NoticeKind::NewDevice,
        count: 0,
        ip_address: None,
        user_agent: None,
        created_at: at,
    }
}

async fn ceremonies_are_taken_once_until_they_expire(b: Backend) {
    let at = now();
    let key = SessionToken::generate().hash();
    b.sessions
        .put_ceremony(&key, "state {1}", at + Duration::minutes(5))
        .await
        .unwrap();
    let other = SessionToken::generate().hash();
    assert_eq!(b.sessions.take_ceremony(&other, at).await.unwrap(), None);
    assert_eq!(
        b.sessions.take_ceremony(&key, at).await.unwrap().as_deref(),
        Some("state {1}")
    );
    assert_eq!(
        b.sessions.take_ceremony(&key, at).await.unwrap(),
        None,
        "once"
    );

    // Expired: gone, for the taker and for the cleanup.
    let stale = SessionToken::generate().hash();
    b.sessions
        .put_ceremony(&stale, "old", at + Duration::minutes(5))
        .await
        .unwrap();
    let later = at + Duration::minutes(5);
    assert_eq!(b.sessions.take_ceremony(&stale, later).await.unwrap(), None);
    let left = SessionToken::generate().hash();
    b.sessions
        .put_ceremony(&left, "left", at + Duration::minutes(5))
        .await
        .unwrap();
    b.sessions.delete_expired(later).await.unwrap();
    assert_eq!(b.sessions.take_ceremony(&left, later).await.unwrap(), None);

    // Concurrent takes of one ceremony: exactly one gets it.
    let raced = SessionToken::generate().hash();
    b.sessions
        .put_ceremony(&raced, "raced", at + Duration::minutes(5))
        .await
        .unwrap();
    let takes = (0..8).map(|_| {
        let sessions = b.sessions.clone();
        tokio::spawn(async move { sessions.take_ceremony(&raced, at).await.unwrap() })
    });
    let mut got = 0;
    for take in takes {
        got += usize::from(take.await.unwrap().is_some());
    }
    assert_eq!(got, 1);
}

fn link_for(user: &NewUser, address: &str, at: OffsetDateTime) -> (NewLink, SessionToken, Mail) {
    let address = EmailAddress::parse(address).unwrap();
    let (link, token) = NewLink::issue(LinkPurpose::Verify, user.user.id, address, at);
    let mail = Mail {
        kind: "link:verify".to_owned(),
        to: link.address.as_str().to_owned(),
        subject: "Confirm".to_owned(),
        text: format!("open {}", token.expose()),
        html: "<p>open</p>".to_owned(),
    };
    (link, token, mail)
}

async fn an_address_is_set_unverified_and_its_link_taken_once(b: Backend) {
    let at = now();
    let (ada, _, _) = signed_in(&b, "ada").await;
    assert_eq!(b.users.email_of(ada.user.id).await.unwrap(), None);
    let (link, token, mail) = link_for(&ada, "Ada@Example.com", at);
    assert!(b.users.set_email(&link, &mail).await.unwrap());
    let email = b.users.email_of(ada.user.id).await.unwrap().unwrap();
    assert_eq!(email.address.as_str(), "Ada@Example.com", "kept as typed");
    assert_eq!(email.verified_at, None);

    let taken = b
        .users
        .take_link(&token.hash(), LinkPurpose::Verify)
        .await
        .unwrap();
    let taken = taken.unwrap();
    assert_eq!(
        (taken.user_id, taken.address.as_str()),
        (ada.user.id, "Ada@Example.com")
    );
    assert_eq!(taken.expires_at, link.expires_at);
    assert_eq!(
        b.users
            .take_link(&token.hash(), LinkPurpose::Verify)
            .await
            .unwrap(),
        None,
        "once"
    );
    let unknown = SessionToken::generate().hash();
    assert_eq!(
        b.users
            .take_link(&unknown, LinkPurpose::Verify)
            .await
            .unwrap(),
        None
    );

    let other_key = EmailAddress::parse("someone@example.com").unwrap();
    assert!(
        !b.users
            .mark_verified(ada.user.id, &other_key, at)
            .await
            .unwrap(),
        "not its address"
    );
    let same_key = EmailAddress::parse("ADA@example.COM").unwrap();
    assert!(
        b.users
            .mark_verified(ada.user.id, &same_key, at)
            .await
            .unwrap(),
        "by key"
    );
    assert!(
        !b.users
            .mark_verified(ada.user.id, &same_key, at)
            .await
            .unwrap(),
        "once"
    );
    let email = b.users.email_of(ada.user.id).await.unwrap().unwrap();
    assert_eq!(email.verified_at, Some(at));

    // A new address is unverified again; an unknown account gets nothing.
    let (link, _, mail) = link_for(&ada, "ada@elsewhere.org", at + Duration::minutes(2));
    assert!(b.users.set_email(&link, &mail).await.unwrap());
    let email = b.users.email_of(ada.user.id).await.unwrap().unwrap();
    assert_eq!(
        (email.address.as_str(), email.verified_at),
        ("ada@elsewhere.org", None)
    );
    let ghost = new_user("ghost");
    let (link, _, mail) = link_for(&ghost, "ghost@example.com", at);
    assert!(!b.users.set_email(&link, &mail).await.unwrap());
    assert_eq!(
        b.users.recent_mail(10).await.unwrap().len(),
        2,
        "no mail for no change"
    );
}

async fn a_new_link_ends_the_older_ones_and_expired_ones_are_purged(b: Backend) {
    let at = now();
    let (ada, _, _) = signed_in(&b, "ada").await;
    let (first, first_token, mail) = link_for(&ada, "ada@example.com", at);
    assert!(b.users.set_email(&first, &mail).await.unwrap());
    let later = at + Duration::minutes(2);
    let (second, second_token, mail) = link_for(&ada, "ada@example.com", later);
    b.users.issue_link(&second, &mail).await.unwrap();
    let hash = first_token.hash();
    assert_eq!(
        b.users.take_link(&hash, LinkPurpose::Verify).await.unwrap(),
        None,
        "ended"
    );

    // Expired links are purged; live ones stay.
    let purged = b
        .users
        .delete_expired_mail(later + Duration::hours(1))
        .await
        .unwrap();
    assert_eq!(purged, 0);
    b.users
        .delete_expired_mail(second.expires_at)
        .await
        .unwrap();
    let hash = second_token.hash();
    assert_eq!(
        b.users.take_link(&hash, LinkPurpose::Verify).await.unwrap(),
        None,
        "purged"
    );
}

async fn a_verified_address_belongs_to_one_account(b: Backend) {
    let at = now();
    let (ada, _, _) = signed_in(&b, "ada").await;
    let (bo, _, _) = signed_in(&b, "bo").await;
    let (link, _, mail) = link_for(&ada, "shared@example.com", at);
    assert!(b.users.set_email(&link, &mail).await.unwrap());
    assert!(b
        .users
        .mark_verified(ada.user.id, &link.address, at)
        .await
        .unwrap());
    // Anyone may type it; only verifying it is refused.
    let (link, _, mail) = link_for(&bo, "Shared@Example.com", at + Duration::minutes(2));
    assert!(b.users.set_email(&link, &mail).await.unwrap());
    let err = b
        .users
        .mark_verified(bo.user.id, &link.address, at)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::EmailTaken), "{err:?}");
    let email = b.users.email_of(bo.user.id).await.unwrap().unwrap();
    assert_eq!(email.verified_at, None);
}

async fn an_address_gets_a_few_messages_an_hour(b: Backend) {
    let at = now();
    let (ada, _, _) = signed_in(&b, "ada").await;
    let (link, _, mail) = link_for(&ada, "ada@example.com", at);
    assert!(b.users.set_email(&link, &mail).await.unwrap());
    let (link, _, mail) = link_for(&ada, "ADA@example.com", at + Duration::seconds(30));
    let err = b.users.issue_link(&link, &mail).await.unwrap_err();
    assert!(
        matches!(err, Error::TooManyMails),
        "a minute apart: {err:?}"
    );
    // Another kind of message is not held back by the minute.
    let (mut link, _, mut mail) = link_for(&ada, "ada@example.com", at + Duration::seconds(30));
    link.purpose = LinkPurpose::Reset;
    mail.kind = "link:reset".to_owned();
    b.users.issue_link(&link, &mail).await.unwrap();
    for i in 1..4 {
        let (link, _, mail) = link_for(&ada, "ada@example.com", at + Duration::minutes(2 * i));
        b.users.issue_link(&link, &mail).await.unwrap();
    }
    let (link, _, mail) = link_for(&ada, "ada@example.com", at + Duration::minutes(20));
    let err = b.users.issue_link(&link, &mail).await.unwrap_err();
    assert!(matches!(err, Error::TooManyMails), "five an hour: {err:?}");
    // Links asked for by anyone cannot silence a notice.
    let notice = new_device_notice(at + Duration::minutes(20));
    let mail = mail_of("notice:new_device", "ada@example.com");
    assert!(b
        .users
        .add_notice(ada.user.id, &notice, Some(&mail))
        .await
        .unwrap());
    let (link, _, mail) = link_for(&ada, "ada@example.com", at + Duration::minutes(62));
    b.users.issue_link(&link, &mail).await.unwrap();
}

fn mail_of(kind: &str, to: &str) -> Mail {
    Mail {
        kind: kind.to_owned(),
        to: to.to_owned(),
        subject: kind.to_owned(),
        text: kind.to_owned(),
        html: kind.to_owned(),
    }
}

async fn a_notice_and_a_farewell_are_mailed_in_their_own_transaction(b: Backend) {
    let at = now();
    let (ada, _, _) = signed_in(&b, "ada").await;
    let notice = new_device_notice(at);
    let mail = mail_of("notice:new_device", "ada@example.com");
    assert!(b
        .users
        .add_notice(ada.user.id, &notice, Some(&mail))
        .await
        .unwrap());
    // Past the address's share, the notice is kept and the mail is not.
    assert!(!b
        .users
        .add_notice(ada.user.id, &notice, Some(&mail))
        .await
        .unwrap());
    assert_eq!(
        b.users.list_notices(ada.user.id, 10).await.unwrap().len(),
        2
    );
    assert_eq!(b.users.recent_mail(10).await.unwrap().len(), 1);

    // The farewell outlives the account; no account, no farewell.
    let farewell = mail_of("deleted", "ada@example.com");
    assert!(b
        .users
        .delete_user(ada.user.id, Some((&farewell, at)))
        .await
        .unwrap());
    let later = at + Duration::minutes(2);
    assert!(!b
        .users
        .delete_user(ada.user.id, Some((&farewell, later)))
        .await
        .unwrap());
    let queued = b.users.recent_mail(10).await.unwrap();
    let kinds: Vec<_> = queued.iter().map(|m| m.mail.kind.as_str()).collect();
    assert_eq!(kinds, ["deleted", "notice:new_device"]);
}

async fn queued_mail_is_claimed_by_one_sender_until_sent(b: Backend) {
    let at = now();
    let (ada, _, _) = signed_in(&b, "ada").await;
    let (link, _, mail) = link_for(&ada, "ada@example.com", at);
    assert!(b.users.set_email(&link, &mail).await.unwrap());
    let lease = Duration::minutes(2);
    let claimed = b.users.claim_mail(at, lease).await.unwrap().unwrap();
    assert_eq!(
        (claimed.mail.clone(), claimed.attempts, claimed.sent_at),
        (mail, 0, None)
    );
    assert_eq!(
        b.users.claim_mail(at, lease).await.unwrap(),
        None,
        "held by its sender"
    );
    // A sender that died: taken again after the lease.
    let again = b
        .users
        .claim_mail(at + lease, lease)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.id, claimed.id);
    let retry = at + Duration::minutes(10);
    b.users
        .mail_failed(again.id, retry, "connection refused")
        .await
        .unwrap();
    assert_eq!(
        b.users
            .claim_mail(retry - Duration::seconds(1), lease)
            .await
            .unwrap(),
        None
    );
    let third = b.users.claim_mail(retry, lease).await.unwrap().unwrap();
    assert_eq!(third.attempts, 1);
    b.users.mail_sent(third.id, retry).await.unwrap();
    assert_eq!(
        b.users
            .claim_mail(retry + Duration::days(1), lease)
            .await
            .unwrap(),
        None
    );
    let listed = b.users.recent_mail(10).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].sent_at, Some(retry));
    // Sent mail is purged after it has been kept a while; unsent never.
    b.users
        .delete_expired_mail(retry + engine::email::mail::KEEP_SENT + Duration::seconds(1))
        .await
        .unwrap();
    assert!(b.users.recent_mail(10).await.unwrap().is_empty());
}

async fn concurrent_senders_claim_each_message_once(b: Backend) {
    let at = now();
    let mut queued = 0;
    for name in ["ada", "bo", "cy", "di"] {
        let (user, _, _) = signed_in(&b, name).await;
        let (link, _, mail) = link_for(&user, &format!("{name}@example.com"), at);
        assert!(b.users.set_email(&link, &mail).await.unwrap());
        queued += 1;
    }
    let claims: Vec<_> = (0..8)
        .map(|_| {
            let users = b.users.clone();
            tokio::spawn(async move { users.claim_mail(at, Duration::minutes(2)).await.unwrap() })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for claim in claims {
        if let Some(mail) = claim.await.unwrap() {
            assert!(ids.insert(mail.id), "claimed twice: {}", mail.id);
        }
    }
    // A sender that lost a race gets nothing this round; the rest is
    // claimed in the next, and still no message twice.
    while let Some(mail) = b.users.claim_mail(at, Duration::minutes(2)).await.unwrap() {
        assert!(ids.insert(mail.id), "claimed twice: {}", mail.id);
    }
    assert_eq!(ids.len(), queued);
}

macro_rules! conformance {
    ($backend:ident) => {
        mod $backend {
            use super::*;
            conformance!(@tests $backend;
                users_are_unique_by_name_and_found_by_it,
                a_session_is_found_by_its_hash_with_its_user,
                touch_slides_activity_but_not_on_revoked_sessions,
                revocation_is_per_owner_and_once,
                revoking_all_sessions_can_keep_one,
                the_session_list_holds_active_sessions_newest_first,
                revoke_by_id_returns_the_owner_once,
                refresh_tokens_rotate_then_grace_then_reuse,
                a_refresh_token_rotates_only_for_its_own_session,
                a_session_is_bound_to_one_key_for_good,
                a_dead_sessions_refresh_token_is_not_rotated,
                concurrent_rotations_of_one_token_rotate_it_exactly_once,
                purge_deletes_expired_and_revoked_sessions_with_their_tokens,
                events_are_listed_newest_first_and_limited,
                rate_counters_count_within_a_window_then_start_again,
                concurrent_counts_each_get_a_distinct_count,
                a_confirmation_is_recorded_on_a_live_session_only,
                a_password_hash_is_replaced_and_a_deleted_user_is_gone,
                failed_sign_ins_are_counted_since_the_latest_sign_in,
                notices_are_listed_newest_first_and_dismissed_by_their_owner,
                rotated_refresh_tokens_are_deleted_after_their_retention,
                revocations_are_logged_and_announced,
                passkeys_are_one_per_credential_and_the_last_credential_stays,
                identities_link_one_account_and_the_last_credential_stays,
                an_identity_account_is_made_whole_or_not_at_all,
                ceremonies_are_taken_once_until_they_expire,
                a_password_goes_only_while_a_passkey_stays,
                concurrent_removals_never_take_the_last_credential,
                stranger_caused_events_are_one_counted_line_a_day,
                an_address_is_set_unverified_and_its_link_taken_once,
                a_new_link_ends_the_older_ones_and_expired_ones_are_purged,
                a_verified_address_belongs_to_one_account,
                an_address_gets_a_few_messages_an_hour,
                queued_mail_is_claimed_by_one_sender_until_sent,
                concurrent_senders_claim_each_message_once,
                a_notice_and_a_farewell_are_mailed_in_their_own_transaction,
                the_dashboards_lists_follow_every_write,
            );
        }
    };
    (@tests $backend:ident; $($test:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $test() {
                if let Some(backend) = backends::$backend().await {
                    let cleanup = backend.cleanup.clone();
                    super::$test(backend).await;
                    cleanup.run().await;
                }
            }
        )*
    };
}

conformance!(sqlite);
conformance!(cached_sqlite);
#[cfg(feature = "postgres")]
conformance!(postgres);
#[cfg(feature = "redis")]
conformance!(redis);

/// PostgreSQL only: an instance keeping an account's dashboard lists hears
/// of every change another instance makes to them. Each step first proves
/// the lists are kept (a row written with triggers off, so unannounced,
/// does not show), then makes a change on the other instance and waits for
/// it to show.
#[cfg(feature = "postgres")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lists_follow_other_instances_writes() {
    let Some(b) = backends::postgres().await else {
        return;
    };
    let backends::Cleanup::Schema(admin, schema) = b.cleanup.clone() else {
        unreachable!("the PostgreSQL backend cleans up a schema");
    };
    let (here, pool) = backends::postgres_instance(&admin, &schema).await;
    let (ray, _, _) = signed_in(&b, "ray").await;
    let id = ray.user.id;
    let at = now();
    let there = b.users.clone();
    let shown = || {
        let here = here.clone();
        async move {
            let activity = here.activity(id, 5, 10).await.unwrap();
            (activity.notices, activity.events)
        }
    };
    let fresh = || {
        let there = there.clone();
        async move {
            let notices = there.list_notices(id, 5).await.unwrap();
            let events = there.list_events(id, 10).await.unwrap();
            (notices, events)
        }
    };
    // A sign-in line written with the triggers off: nobody is told.
    let unannounced = || {
        let pool = pool.clone();
        async move {
            let mut tx = pool.begin().await.unwrap();
            sqlx::query("SET LOCAL session_replication_role = replica")
                .execute(&mut *tx)
                .await
                .unwrap();
            sqlx::query(
                "INSERT INTO auth_events (user_id, kind, created_at) VALUES ($1, 'signin', $2)",
            )
            .bind(id.to_string())
            .bind(at.unix_timestamp())
            .execute(&mut *tx)
            .await
            .unwrap();
            tx.commit().await.unwrap();
        }
    };
    let until_shown = |what: &'static str| async move {
        let since = std::time::Instant::now();
        while shown().await != fresh().await {
            assert!(since.elapsed().as_secs() < 5, "{what}: not heard of");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
    };
    // Kept once its feed listens: an unannounced row stays unseen.
    let since = std::time::Instant::now();
    loop {
        let before = shown().await;
        unannounced().await;
        if shown().await == before {
            break;
        }
        assert!(since.elapsed().as_secs() < 5, "the lists are never kept");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let kept = || async move {
        shown().await;
        unannounced().await;
        assert_ne!(shown().await, fresh().await, "kept");
    };

    kept().await;
    let event = AuthEvent {
        kind: AuthEventKind::SignIn,
        session_ref: None,
        ip_address: Some("203.0.113.7".to_owned()),
        user_agent: None,
        created_at: at,
        count: 1,
    };
    there.record_event(Some(id), &event).await.unwrap();
    until_shown("an event").await;

    kept().await;
    let notice = new_device_notice(at);
    there.add_notice(id, &notice, None).await.unwrap();
    until_shown("a notice").await;

    kept().await;
    let notices = fresh().await.0;
    assert!(there
        .dismiss_notice(id, notices[0].id, at + Duration::seconds(1), None)
        .await
        .unwrap());
    until_shown("a notice dismissed").await;

    kept().await;
    assert!(there.delete_user(id, None).await.unwrap());
    until_shown("the account gone").await;
    assert_eq!(shown().await, (Vec::new(), Vec::new()));
    pool.close().await;
    drop(here);
    b.cleanup.run().await;
}

/// Redis only: a session whose key expired by its TTL before the purge ran
/// leaves no entry behind in its user's index once the index is read.
#[cfg(feature = "redis")]
#[tokio::test]
async fn redis_drops_index_entries_of_sessions_expired_by_ttl() {
    use ::redis::AsyncCommands as _;
    let Some(b) = backends::redis().await else {
        return;
    };
    let backends::Cleanup::Keys(mut conn, prefix, _) = b.cleanup.clone() else {
        unreachable!("the Redis backend cleans up keys");
    };
    let (user, record, _) = signed_in(&b, "tilly").await;
    let (kept, _) = session_for(&user, now());
    b.sessions.insert_session(&kept).await.unwrap();
    let index = format!("{prefix}u:{}", user.user.id);
    // As if its key had reached its TTL: the hash is gone, the index entry not.
    let _: i64 = conn.del(format!("{prefix}s:{}", record.id)).await.unwrap();
    let listed = b
        .sessions
        .list_user_sessions(user.user.id, now())
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|s| s.id).collect::<Vec<_>>(), [kept.id]);
    let members: Vec<String> = conn.smembers(&index).await.unwrap();
    assert_eq!(members, [kept.id.to_string()]);
    b.cleanup.run().await;
}

/// Every conformance test is run on every backend: a body written here but
/// left out of `conformance!`'s list would pass by never running.
#[test]
fn every_conformance_test_is_listed() {
    let source = include_str!("conformance.rs");
    let listed = source
        .split("conformance!(@tests $backend;")
        .nth(1)
        .and_then(|rest| rest.split(");").next())
        .expect("the list");
    let bodies: Vec<&str> = source
        .lines()
        .filter_map(|line| line.strip_prefix("async fn "))
        .filter(|rest| rest.contains("(b: Backend)"))
        .filter_map(|rest| rest.split('(').next())
        .collect();
    assert!(bodies.len() > 20, "{bodies:?}");
    for body in bodies {
        assert!(
            listed.split(',').any(|name| name.trim() == body),
            "{body} is not in conformance!'s list"
        );
    }
}
