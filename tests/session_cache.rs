//! The in-process session cache's revocation bound, on two engine
//! instances sharing one SQLite database (as two servers would), with an
//! injected clock.
//!
//! The bound the cache promises: revocation through an instance is
//! immediate on that instance; on the others a revoked session stays
//! usable for at most the cache's TTL.

mod common;

use engine::{
    feed::{RevocationFeed, Signal},
    revocation::FeedState,
    ClientInfo, Validation,
};
use time::Duration;

const TTL: Duration = Duration::seconds(2);

fn client() -> ClientInfo {
    ClientInfo::new(Some("127.0.0.1".into()), Some("test-agent"))
}

fn is_valid(v: &Validation) -> bool {
    matches!(v, Validation::Valid(_))
}

#[tokio::test]
async fn revocation_is_immediate_on_the_instance_that_revokes() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, _clock) = common::two_cached_instances(dir.path(), TTL).await;
    let s = a
        .sign_up("alice", "amber falcon river", client())
        .await
        .unwrap();
    let token = s.token.expose().to_owned();
    let Validation::Valid(auth) = a.validate(&token).await.unwrap() else {
        panic!("a fresh session is valid");
    };
    assert!(is_valid(&a.validate(&token).await.unwrap()), "cached");

    a.logout(&auth, &client()).await.unwrap();
    assert_eq!(a.validate(&token).await.unwrap(), Validation::Invalid);
}

#[tokio::test]
async fn another_instance_sees_a_revocation_within_the_ttl() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, clock) = common::two_cached_instances(dir.path(), TTL).await;
    let s = a
        .sign_up("bob", "amber falcon river", client())
        .await
        .unwrap();
    let token = s.token.expose().to_owned();
    // `a` caches the session; `b` then revokes every session of the user.
    assert!(is_valid(&a.validate(&token).await.unwrap()));
    let Validation::Valid(on_b) = b.validate(&token).await.unwrap() else {
        panic!("valid on b too");
    };
    b.revoke_all(&on_b, &client()).await.unwrap();
    assert_eq!(b.validate(&token).await.unwrap(), Validation::Invalid);

    // The documented window: `a` still answers from memory until the TTL
    // has passed since it read the session...
    clock.advance(TTL - Duration::seconds(1));
    assert!(
        is_valid(&a.validate(&token).await.unwrap()),
        "within the bound: this is the window the TTL allows"
    );
    // ...and not a second longer.
    clock.advance(Duration::seconds(1));
    assert_eq!(a.validate(&token).await.unwrap(), Validation::Invalid);
}

#[tokio::test]
async fn a_cached_session_that_looks_idle_expired_is_looked_up_again() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, clock) = common::two_cached_instances(dir.path(), Duration::minutes(10)).await;
    let s = a
        .sign_up("carol", "amber falcon river", client())
        .await
        .unwrap();
    let token = s.token.expose().to_owned();
    let idle = a.policy().idle_timeout;
    assert!(is_valid(&a.validate(&token).await.unwrap()), "cached by a");

    // Activity through `b` slides the idle expiry; `a`'s copy does not know.
    clock.advance(idle - Duration::minutes(1));
    assert!(is_valid(&b.validate(&token).await.unwrap()), "touched by b");
    // Past the idle expiry `a` remembers, within the one `b` wrote: `a`
    // must ask the store rather than end a live session.
    clock.advance(Duration::minutes(2));
    assert!(is_valid(&a.validate(&token).await.unwrap()));
}

#[tokio::test]
async fn a_session_slides_through_the_cache_as_without_it() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, clock) = common::two_cached_instances(dir.path(), TTL).await;
    let s = a
        .sign_up("dave", "amber falcon river", client())
        .await
        .unwrap();
    let token = s.token.expose().to_owned();
    let policy = *a.policy();
    // Used every 20 minutes: each use is past the touch interval, so each
    // slides the idle expiry, and the next one reads the slid value.
    for _ in 0..4 {
        clock.advance(Duration::minutes(20));
        let Validation::Valid(auth) = a.validate(&token).await.unwrap() else {
            panic!("activity keeps the session alive");
        };
        assert_eq!(auth.session.last_seen_at, a.now());
        assert_eq!(
            auth.session.idle_expires_at,
            policy.slide(a.now(), false, auth.session.expires_at)
        );
    }
    clock.advance(policy.idle_timeout + Duration::minutes(1));
    assert_eq!(a.validate(&token).await.unwrap(), Validation::Invalid);
}

/// Two instances, the first following a scripted feed, which is listening;
/// the sender speaks for the feed.
async fn listening_pair(
    dir: &std::path::Path,
) -> (
    engine::Auth,
    engine::Auth,
    tokio::sync::mpsc::Sender<Signal>,
) {
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let feed = std::sync::Arc::new(Scripted(std::sync::Mutex::new(Some(rx))));
    let (a, b, _clock) = common::two_cached_instances_following(dir, TTL, Some(feed)).await;
    let follower = a.clone();
    tokio::spawn(async move { follower.follow_revocations().await });
    tx.send(Signal::Listening)
        .await
        .expect("the follower listens");
    until("live", async || a.revocation_feed().1 == FeedState::Live).await;
    (a, b, tx)
}

/// A feed the test speaks for: what another instance's store would
/// announce, and when the connection drops and returns.
struct Scripted(std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<Signal>>>);

impl RevocationFeed for Scripted {
    fn name(&self) -> &'static str {
        "scripted"
    }

    fn subscribe(&self) -> tokio::sync::mpsc::Receiver<Signal> {
        let mut slot = self.0.lock().expect("not poisoned");
        slot.take().expect("one follower")
    }
}

/// Waits (real time, briefly) until `done` holds.
async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
    for _ in 0..500 {
        if done().await {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("never: {what}");
}

/// The follower: a revocation heard is evicted from the cache and denied
/// to access tokens at once, with no clock moving; one made while the feed
/// was down is caught up from the log once it listens again.
#[tokio::test]
async fn a_follower_evicts_what_it_hears_and_catches_up_after_a_gap() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, tx) = listening_pair(dir.path()).await;

    // Revoked through B; A holds it in its cache until it hears.
    let signed_in = async |name: &str| {
        let s = a
            .sign_up(name, "amber falcon river", client())
            .await
            .unwrap();
        let token = s.token.expose().to_owned();
        assert!(is_valid(&a.validate(&token).await.unwrap()), "cached on A");
        let Validation::Valid(on_b) = b.validate(&token).await.unwrap() else {
            panic!("valid on B");
        };
        b.logout(&on_b, &client()).await.unwrap();
        assert!(
            is_valid(&a.validate(&token).await.unwrap()),
            "A has not heard"
        );
        (token, s.auth.session.id)
    };
    let (heard, id) = signed_in("hana").await;
    tx.send(Signal::Announced(vec![id])).await.unwrap();
    until("evicted", async || {
        a.validate(&heard).await.unwrap() == Validation::Invalid
    })
    .await;
    assert!(
        a.revoked().contains(&id.to_string()),
        "its access tokens denied"
    );

    tx.send(Signal::Lost("cut".into())).await.unwrap();
    until("down", async || {
        matches!(a.revocation_feed().1, FeedState::Down { .. })
    })
    .await;
    let (missed, id) = signed_in("ines").await;
    assert!(
        !a.revoked().contains(&id.to_string()),
        "not heard: the fallback bounds"
    );
    tx.send(Signal::Listening).await.unwrap();
    until("live again", async || {
        a.revocation_feed().1 == FeedState::Live
    })
    .await;
    assert_eq!(
        a.validate(&missed).await.unwrap(),
        Validation::Invalid,
        "cache flushed"
    );
    assert!(
        a.revoked().contains(&id.to_string()),
        "deny-list reloaded from the log"
    );
}

const PASSWORD: &str = "amber falcon river";

/// The sessions page's list, kept by the cache: this instance's writes
/// show at once, another instance's within the TTL, and what expires
/// leaves the kept list at its expiry.
#[tokio::test]
async fn the_session_list_shows_this_instances_writes_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, clock) = common::two_cached_instances(dir.path(), TTL).await;
    let s = a.sign_up("joe", PASSWORD, client()).await.unwrap();
    let user = s.auth.user.id;
    let listed = async |on: &engine::Auth| on.list_sessions(user).await.unwrap().len();
    assert_eq!(listed(&a).await, 1);

    b.sign_in("joe", PASSWORD, false, client()).await.unwrap();
    assert_eq!(listed(&a).await, 1, "kept: the window the TTL allows");
    clock.advance(TTL);
    assert_eq!(listed(&a).await, 2, "and not longer");

    let third = a.sign_in("joe", PASSWORD, false, client()).await.unwrap();
    assert_eq!(listed(&a).await, 3, "a new session here");
    a.logout(&third.auth, &client()).await.unwrap();
    assert_eq!(listed(&a).await, 2, "a sign-out here");
    a.revoke_all(&s.auth, &client()).await.unwrap();
    assert_eq!(listed(&a).await, 0, "everywhere, here");
}

#[tokio::test]
async fn a_kept_session_list_drops_what_expires_and_shows_touches() {
    let dir = tempfile::tempdir().unwrap();
    let (a, _b, clock) = common::two_cached_instances(dir.path(), Duration::hours(48)).await;
    let s = a.sign_up("kim", PASSWORD, client()).await.unwrap();
    let token = s.token.expose().to_owned();
    let user = s.auth.user.id;
    let list = async || a.list_sessions(user).await.unwrap();
    assert_eq!(list().await[0].last_seen_at, a.now());

    // A use past the touch interval slides the session: the list shows it.
    clock.advance(Duration::minutes(20));
    assert!(is_valid(&a.validate(&token).await.unwrap()));
    assert_eq!(list().await[0].last_seen_at, a.now(), "the touch shows");

    // Idle past its expiry: gone from the list kept before.
    clock.advance(a.policy().idle_timeout + Duration::minutes(1));
    assert!(list().await.is_empty(), "expired, so not listed");
}

/// A session used on another instance since the list was kept, past the
/// idle expiry the kept list remembers: still listed (asked again), as a
/// cached session is looked up again.
#[tokio::test]
async fn a_session_slid_elsewhere_stays_in_the_kept_list() {
    let dir = tempfile::tempdir().unwrap();
    // Kept longer than the idle timeout, so only the expiry can send `a`
    // to the store.
    let (a, b, clock) = common::two_cached_instances(dir.path(), Duration::hours(48)).await;
    let s = a.sign_up("max", PASSWORD, client()).await.unwrap();
    let token = s.token.expose().to_owned();
    let user = s.auth.user.id;
    let idle = a.policy().idle_timeout;
    assert_eq!(a.list_sessions(user).await.unwrap().len(), 1, "kept by a");

    clock.advance(idle - Duration::minutes(1));
    assert!(is_valid(&b.validate(&token).await.unwrap()), "slid by b");
    clock.advance(Duration::minutes(2));
    assert_eq!(a.list_sessions(user).await.unwrap().len(), 1);
}

/// A revocation another instance announces forgets the kept list that
/// holds the session, with no clock moving.
#[tokio::test]
async fn a_heard_revocation_forgets_the_kept_session_list() {
    let dir = tempfile::tempdir().unwrap();
    let (a, b, tx) = listening_pair(dir.path()).await;

    let s = a.sign_up("lou", PASSWORD, client()).await.unwrap();
    let other = a.sign_in("lou", PASSWORD, false, client()).await.unwrap();
    let user = s.auth.user.id;
    assert_eq!(a.list_sessions(user).await.unwrap().len(), 2);
    b.logout(&other.auth, &client()).await.unwrap();
    assert_eq!(
        a.list_sessions(user).await.unwrap().len(),
        2,
        "not heard yet"
    );
    tx.send(Signal::Announced(vec![other.auth.session.id]))
        .await
        .unwrap();
    until("forgotten", async || {
        a.list_sessions(user).await.unwrap().len() == 1
    })
    .await;
}
