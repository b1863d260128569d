//! Races between a sign-in in flight and a change to the account's
//! credentials, on every backend: the sign-in is held by a barrier in the
//! account store right after it read the password hash (as if it waited
//! in the hashing queue), the change runs to its end, then the sign-in
//! goes on. Its session must not outlive the change.
//!
//! Also: a new password's strength estimate waits in the hashing queue
//! like its hash.

#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{
    backends::{self, Backend},
    hooked::Hooked,
};
use engine::{
    hashing::{Hashing, HashingLimits},
    Auth, ClientInfo, Error, SessionPolicy, Validation,
};

const PASSWORD: &str = "correct horse battery staple";

fn client() -> ClientInfo {
    ClientInfo::new(Some("192.0.2.9".to_owned()), Some("race test"))
}

/// An engine whose account store can hold a lookup.
fn engine(b: &Backend) -> (Auth, Arc<Hooked>) {
    let users = Arc::new(Hooked::new(b.users.clone()));
    let auth = Auth::new(
        users.clone(),
        b.sessions.clone(),
        SessionPolicy::default(),
        Arc::new(engine::SystemClock),
    )
    .unwrap();
    (auth, users)
}

async fn is_valid(auth: &Auth, token: &engine::SessionToken) -> bool {
    matches!(
        auth.validate(token.expose()).await.unwrap(),
        Validation::Valid(_)
    )
}

async fn a_sign_in_in_flight_does_not_outlive_a_password_change(b: Backend) {
    let (auth, users) = engine(&b);
    let owner = auth.sign_up("ria", PASSWORD, client()).await.unwrap();
    let barrier = users.hold_next_lookup();
    let thief = tokio::spawn({
        let auth = auth.clone();
        async move { auth.sign_in("ria", PASSWORD, false, client()).await }
    });
    barrier.read.await.unwrap();
    // The owner changes the password while the thief's sign-in waits.
    let changed = auth
        .change_password(&owner.auth, Some(PASSWORD), "quiet cedar meadow", client())
        .await
        .unwrap();
    barrier.go.send(()).unwrap();
    let signed_in = thief.await.unwrap();
    assert!(
        matches!(signed_in, Err(Error::CredentialsChanged)),
        "the old password's sign-in must fail: {signed_in:?}"
    );
    let live = auth.list_sessions(owner.auth.user.id).await.unwrap();
    assert_eq!(
        live.iter().map(|s| s.id).collect::<Vec<_>>(),
        [changed.auth.session.id],
        "only the session the change started is left"
    );
    assert!(is_valid(&auth, &changed.token).await);
}

async fn a_sign_in_in_flight_does_not_outlive_the_accounts_deletion(b: Backend) {
    let (auth, users) = engine(&b);
    let owner = auth.sign_up("rob", PASSWORD, client()).await.unwrap();
    let barrier = users.hold_next_lookup();
    let late = tokio::spawn({
        let auth = auth.clone();
        async move { auth.sign_in("rob", PASSWORD, false, client()).await }
    });
    barrier.read.await.unwrap();
    auth.delete_account(&owner.auth).await.unwrap();
    barrier.go.send(()).unwrap();
    match late.await.unwrap() {
        // Refused: on SQL the insert fails with the account gone, on Redis
        // the session is found ended by the check after it.
        Err(_) => {}
        Ok(session) => panic!(
            "a session appeared for a deleted account (valid: {})",
            is_valid(&auth, &session.token).await
        ),
    }
    assert!(auth
        .list_sessions(owner.auth.user.id)
        .await
        .unwrap()
        .is_empty());
}

async fn signing_out_everywhere_ends_a_sign_in_in_flight(b: Backend) {
    let (auth, users) = engine(&b);
    let owner = auth.sign_up("rue", PASSWORD, client()).await.unwrap();
    let barrier = users.hold_next_lookup();
    let thief = tokio::spawn({
        let auth = auth.clone();
        async move { auth.sign_in("rue", PASSWORD, false, client()).await }
    });
    barrier.read.await.unwrap();
    auth.revoke_all(&owner.auth, &client()).await.unwrap();
    barrier.go.send(()).unwrap();
    assert!(matches!(
        thief.await.unwrap(),
        Err(Error::CredentialsChanged)
    ));
    assert!(auth
        .list_sessions(owner.auth.user.id)
        .await
        .unwrap()
        .is_empty());
}

macro_rules! on_every_backend {
    ($backend:ident; $($test:ident),* $(,)?) => {
        mod $backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if let Some(backend) = super::backends::$backend().await {
                        let cleanup = backend.cleanup.clone();
                        super::$test(backend).await;
                        cleanup.run().await;
                    }
                }
            )*
        }
    };
}

on_every_backend!(sqlite;
    a_sign_in_in_flight_does_not_outlive_a_password_change,
    a_sign_in_in_flight_does_not_outlive_the_accounts_deletion,
    signing_out_everywhere_ends_a_sign_in_in_flight,
);
#[cfg(feature = "postgres")]
on_every_backend!(postgres;
    a_sign_in_in_flight_does_not_outlive_a_password_change,
    a_sign_in_in_flight_does_not_outlive_the_accounts_deletion,
    signing_out_everywhere_ends_a_sign_in_in_flight,
);
#[cfg(feature = "redis")]
on_every_backend!(redis;
    a_sign_in_in_flight_does_not_outlive_a_password_change,
    a_sign_in_in_flight_does_not_outlive_the_accounts_deletion,
    signing_out_everywhere_ends_a_sign_in_in_flight,
);

/// The strength estimate (zxcvbn) can take hundreds of milliseconds on a
/// crafted password: it must wait for a hashing slot like the hash, never
/// run on the async workers ahead of the queue. With the one slot taken and
/// no room to wait, a sign-up with a weak password is refused as busy
/// rather than judged.
#[tokio::test]
async fn a_new_passwords_strength_check_waits_in_the_hashing_queue() {
    let (auth, _) = common::sqlite_auth().await;
    let hashing = Arc::new(Hashing::new(HashingLimits {
        at_once: 1,
        queue: 0,
        wait: std::time::Duration::from_millis(100),
    }));
    let auth = auth.with_hashing(hashing.clone());
    // The one slot, taken by a hash that runs until the test lets it end.
    let (started, release) = (
        Arc::new(tokio::sync::Notify::new()),
        Arc::new(std::sync::Barrier::new(2)),
    );
    let busy = tokio::spawn({
        let (started, release) = (started.clone(), release.clone());
        async move {
            hashing
                .run(move || {
                    started.notify_one();
                    release.wait();
                })
                .await
        }
    });
    started.notified().await;
    let weak = auth.sign_up("weakling", "password1", client()).await;
    release.wait();
    busy.await.unwrap().unwrap();
    assert!(
        matches!(weak, Err(Error::Busy)),
        "judged outside the queue: {weak:?}"
    );
    // With the slot free, the same password is judged, and refused as weak.
    assert!(matches!(
        auth.sign_up("weakling", "password1", client()).await,
        Err(Error::WeakPassword(_))
    ));
}
