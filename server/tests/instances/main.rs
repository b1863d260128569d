//! Several real server processes on one shared store, and what happens when
//! the store goes away.
//!
//! Each scenario runs on PostgreSQL (sessions in SQL) and on Redis (sessions
//! in Redis, accounts in a SQLite file both instances share). The storage
//! server is reached through a relay the test can cut, which is how "the
//! database is down" looks to the app. Figures (recovery time, failed and
//! lost requests) are printed; run with `--nocapture` to see them.

#![allow(clippy::unwrap_used)]

mod harness;

use std::time::{Duration, Instant};

use app::server_fns::{
    account::SignOutEverywhere,
    auth::{Logout, SignIn, SignUp},
};
use harness::{service, Browser, Cluster, Database, Instance, Relay};
use reqwest::StatusCode;

/// Where sessions live in a scenario.
#[derive(Clone, Copy, Debug)]
enum Store {
    Postgres,
    Redis,
}

/// The shared store, behind a relay, and the environment pointing at it.
struct Backing {
    relay: Relay,
    env: Vec<(&'static str, String)>,
    db: Option<Database>,
}

async fn backing(store: Store, extra: &[(&'static str, String)]) -> Option<Backing> {
    let mut env = extra.to_vec();
    let backing = match store {
        Store::Postgres => {
            let admin = service(
                "postgres",
                "TEST_DATABASE_URL",
                "postgres://postgres@127.0.0.1:5432/postgres",
            )?;
            let db = Database::create(&admin).await;
            let relay = Relay::start("127.0.0.1:5432".parse().unwrap()).await;
            env.push((
                "DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:{}/{}", relay.port, db.name),
            ));
            Backing {
                relay,
                env,
                db: Some(db),
            }
        }
        Store::Redis => {
            service("redis", "TEST_REDIS_URL", "redis://127.0.0.1:6379")?;
            let relay = Relay::start("127.0.0.1:6379".parse().unwrap()).await;
            env.push(("SESSION_STORE", format!("redis://127.0.0.1:{}", relay.port)));
            Backing {
                relay,
                env,
                db: None,
            }
        }
    };
    Some(backing)
}

impl Backing {
    fn cluster(&self) -> Cluster {
        Cluster::new(&self.env)
    }

    async fn finish(self) {
        if let Some(db) = self.db {
            db.drop_it().await;
        }
    }
}

async fn shared_sessions_and_revocation(store: Store) {
    let Some(backing) = backing(store, &[]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;

    let mut browser = Browser::signed_up(&a, "ada").await;
    assert!(
        browser.is_signed_in(&b).await,
        "{store:?}: a session made on A works on B"
    );
    // A has validated the session (and so remembers it, SESSION_CACHE_TTL).
    assert!(browser.is_signed_in(&a).await);
    let mut on_a = browser.clone();
    let mut on_b = browser.clone();

    let res = browser.call::<SignOutEverywhere>(&b, &[]).await;
    assert!(
        res.status.is_redirection() || res.status.is_success(),
        "{}",
        res.status
    );
    assert!(
        !on_b.is_signed_in(&b).await,
        "{store:?}: the instance that revoked knows at once"
    );
    assert!(
        !on_a.is_signed_in(&a).await,
        "{store:?}: the other instance too (the revocation is pushed)"
    );
    drop((a, b));
    backing.finish().await;
}

/// The moment a session is refused, by its cookie and by its access token,
/// on an instance that did not revoke it.
struct Refused {
    cookie: Duration,
    token: Duration,
}

/// Polls `on` until it refuses both `browser`'s session cookie and `token`,
/// timing each from `since`. Panics past `limit`.
async fn until_refused(
    on: &Instance,
    browser: &Browser,
    token: &str,
    since: Instant,
    limit: Duration,
) -> Refused {
    let cookie = async {
        let mut browser = browser.clone();
        while browser.is_signed_in(on).await {
            assert!(since.elapsed() < limit, "cookie still accepted");
        }
        since.elapsed()
    };
    let token = async {
        while browser.bearer(on, token).await {
            assert!(since.elapsed() < limit, "access token still accepted");
        }
        since.elapsed()
    };
    let (cookie, token) = tokio::join!(cookie, token);
    Refused { cookie, token }
}

/// p50, p99 and max of `times`, for the figures.
fn spread(mut times: Vec<Duration>) -> String {
    times.sort();
    let at = |q: f64| times[((times.len() as f64 * q).ceil() as usize).clamp(1, times.len()) - 1];
    format!(
        "p50 {:?}, p99 {:?}, max {:?}",
        at(0.5),
        at(0.99),
        times[times.len() - 1]
    )
}

/// The cache would keep a revoked session for this long, and the access
/// token lives longer still, so a refusal sooner is the push's doing.
const FALLBACK: &str = "60s";

/// Revocations through A reach B at once, over 100 trials: B refuses the
/// session cookie and the session's access token well before either
/// fallback bound.
async fn revocation_is_pushed(store: Store) {
    let Some(backing) = backing(store, &[("SESSION_CACHE_TTL", FALLBACK.into())]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    b.feed_becomes("live", store).await;
    let name = "eve";
    Browser::signed_up(&a, name).await;
    let (mut cookie, mut token) = (Vec::new(), Vec::new());
    for _ in 0..100 {
        let mut browser = Browser::new();
        let res = browser
            .call::<SignIn>(&a, &[("username", name), ("password", harness::PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{store:?}: {}", res.body);
        let jwt = browser.access_token(&b).await;
        // B now holds the session in its cache, and accepts the token.
        assert!(browser.is_signed_in(&b).await && browser.bearer(&b, &jwt).await);
        let res = browser.clone().call::<Logout>(&a, &[]).await;
        assert!(
            res.status.is_redirection() || res.status.is_success(),
            "{}",
            res.status
        );
        let refused =
            until_refused(&b, &browser, &jwt, Instant::now(), Duration::from_secs(5)).await;
        cookie.push(refused.cookie);
        token.push(refused.token);
    }
    eprintln!(
        "FIGURES {store:?} revocation push, 100 sign-outs on A, until B refuses: the cookie {}; \
         the access token {} (fallback bounds: SESSION_CACHE_TTL={FALLBACK}, JWT_ACCESS_TTL=5m)",
        spread(cookie),
        spread(token),
    );
    drop((a, b));
    backing.finish().await;
}

/// B loses its feed, a session is revoked meanwhile, B's feed comes back:
/// B refuses the session all the same (its cache flushed, its deny-list
/// reloaded from the log), and says on `/readyz` when it was not hearing.
async fn revocation_missed_while_cut_is_caught_up(store: Store) {
    let Some(backing) = backing(store, &[("SESSION_CACHE_TTL", FALLBACK.into())]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    // B reaches the store through a relay of its own, to cut B alone.
    let target = match store {
        Store::Postgres => "127.0.0.1:5432",
        Store::Redis => "127.0.0.1:6379",
    };
    let relay = Relay::start(target.parse().unwrap()).await;
    let own: Vec<(&str, String)> = backing
        .env
        .iter()
        .filter(|(k, _)| matches!(*k, "DATABASE_URL" | "SESSION_STORE"))
        .map(|(k, v)| {
            (
                *k,
                v.replace(&backing.relay.port.to_string(), &relay.port.to_string()),
            )
        })
        .collect();
    let b = cluster.instance_with("b", &own).await;
    b.feed_becomes("live", store).await;

    let mut browser = Browser::signed_up(&a, "fay").await;
    let jwt = browser.access_token(&b).await;
    assert!(browser.is_signed_in(&b).await && browser.bearer(&b, &jwt).await);

    relay.cut();
    let cut = Instant::now();
    while b.revocation_feed().await != "down" {
        assert!(
            cut.elapsed() < Duration::from_secs(20),
            "{store:?}: B never noticed the cut"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let noticed = cut.elapsed();
    let res = browser.clone().call::<Logout>(&a, &[]).await;
    assert!(
        res.status.is_redirection() || res.status.is_success(),
        "{}",
        res.status
    );
    // Cut off, B has not heard: its cached session and the token still
    // pass (the fallback bounds), which is what makes the catch-up matter.
    assert!(
        browser.bearer(&b, &jwt).await,
        "{store:?}: B heard through a cut relay?"
    );

    relay.restore();
    let back = Instant::now();
    while b.revocation_feed().await != "live" {
        assert!(
            back.elapsed() < Duration::from_secs(20),
            "{store:?}: B's feed never came back"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let live = back.elapsed();
    assert!(
        !browser.clone().is_signed_in(&b).await,
        "{store:?}: cookie still accepted on B"
    );
    assert!(
        !browser.bearer(&b, &jwt).await,
        "{store:?}: token still accepted on B"
    );
    eprintln!(
        "FIGURES {store:?} feed cut: B reported down after {noticed:?}; live again {live:?} after \
         restore, refusing the session revoked meanwhile (cookie and token)"
    );
    drop((a, b));
    backing.finish().await;
}

/// A DPoP proof used on A is refused on B (the used `jti`s are shared), and
/// the key bound through A is the one B asks for.
async fn dpop_proofs_are_good_once_across_instances(store: Store) {
    // Behind one public origin, as in production: every instance expects
    // the same `htu`, so only the shared record of used proofs can tell.
    let origin = "http://app.test";
    let Some(backing) = backing(store, &[("PUBLIC_URL", origin.into())]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    let mut browser = Browser::signed_up(&a, "gus").await;
    let key = testkit::dpop_key::DpopKey::new();
    let htu = format!("{origin}/api/auth/refresh");

    let proof = key.proof(&htu);
    let res = browser.refresh_proving(&a, &proof).await;
    assert_eq!(res.status, StatusCode::OK, "{store:?}: {}", res.body);
    let res = browser.refresh_proving(&b, &proof).await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "{store:?}: replayed on B"
    );
    let other = testkit::dpop_key::DpopKey::new().proof(&htu);
    let res = browser.refresh_proving(&b, &other).await;
    assert_eq!(
        res.status,
        StatusCode::UNAUTHORIZED,
        "{store:?}: B knows the binding"
    );
    let res = browser.refresh_proving(&b, &key.proof(&htu)).await;
    assert_eq!(
        res.status,
        StatusCode::OK,
        "{store:?}: the bound key on B: {}",
        res.body
    );
    drop((a, b));
    backing.finish().await;
}

async fn racing_refreshes_then_reuse(store: Store) {
    let Some(backing) = backing(store, &[("REFRESH_GRACE_PERIOD", "2s".into())]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    let mut tab1 = Browser::signed_up(&a, "bea").await;
    let before = tab1.clone();
    let mut tab2 = tab1.clone();

    // Two tabs, same refresh token, two instances, at the same moment.
    let (r1, r2) = tokio::join!(tab1.refresh(&a), tab2.refresh(&b));
    assert_eq!(
        (r1.status, r2.status),
        (StatusCode::OK, StatusCode::OK),
        "{store:?}"
    );
    assert!(tab1.is_signed_in(&a).await, "{store:?}: no false alarm");

    // The pre-race token, replayed after the grace window: theft.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let mut thief = before;
    assert_eq!(
        thief.refresh(&b).await.status,
        StatusCode::UNAUTHORIZED,
        "{store:?}"
    );
    assert!(
        !tab2.is_signed_in(&a).await,
        "{store:?}: the session is revoked everywhere"
    );
    drop((a, b));
    backing.finish().await;
}

async fn store_outage_fails_fast_and_recovers(store: Store) {
    let Some(backing) = backing(store, &[]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let mut browser = Browser::signed_up(&a, "cyd").await;
    let mut anonymous = Browser::new();

    backing.relay.cut();
    let outage = Instant::now();
    let (mut failed, mut slowest, mut static_ok, mut static_total) = (0, Duration::ZERO, 0, 0);
    while outage.elapsed() < Duration::from_secs(3) {
        let started = Instant::now();
        let res = browser.get(&a, "/dashboard").await;
        slowest = slowest.max(started.elapsed());
        assert_eq!(
            res.status,
            StatusCode::SERVICE_UNAVAILABLE,
            "{store:?}: {}",
            res.body
        );
        assert!(
            !res.body.contains("sqlx") && !res.body.contains("redis"),
            "{}",
            res.body
        );
        failed += 1;
        static_total += 1;
        if anonymous.get(&a, "/").await.status == StatusCode::OK {
            static_ok += 1;
        }
    }
    assert_eq!(
        static_ok, static_total,
        "{store:?}: static pages are served throughout"
    );
    assert!(
        slowest < Duration::from_millis(2500),
        "{store:?}: fails fast, took {slowest:?}"
    );

    backing.relay.restore();
    let back = Instant::now();
    while !browser.is_signed_in(&a).await {
        assert!(
            back.elapsed() < Duration::from_secs(15),
            "{store:?}: no recovery"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let recovered = back.elapsed();
    // The same cookie still works: nothing was lost.
    assert!(browser.cookies.contains_key(engine::cookie::SESSION_COOKIE));
    eprintln!(
        "FIGURES {store:?} outage: {failed} requests answered 503 during 3 s (slowest {slowest:?}); \
         {static_ok}/{static_total} static pages served; recovered {recovered:?} after restore; sessions lost: 0"
    );
    drop(a);
    backing.finish().await;
}

async fn sigkill_keeps_sessions_and_keys(store: Store) {
    let Some(backing) = backing(store, &[]).await else {
        return;
    };
    let cluster = backing.cluster();
    let mut a = cluster.instance("a").await;
    let mut browser = Browser::signed_up(&a, "dee").await;
    let jwks = browser.get(&a, "/.well-known/jwks.json").await.body;
    a.kill();
    let started = Instant::now();
    let a = cluster.instance("a").await;
    let restart = started.elapsed();
    assert!(
        browser.is_signed_in(&a).await,
        "{store:?}: the session survived SIGKILL"
    );
    assert_eq!(browser.refresh(&a).await.status, StatusCode::OK);
    assert_eq!(
        browser.get(&a, "/.well-known/jwks.json").await.body,
        jwks,
        "same keys"
    );
    eprintln!("FIGURES {store:?} SIGKILL: restarted and ready in {restart:?}; sessions lost: 0");
    drop(a);
    backing.finish().await;
}

async fn one_rate_limit_budget_for_every_instance(store: Store) {
    let limits = [
        ("RATE_LIMIT_CREDENTIALS_PER_ACCOUNT", "3/1m".to_owned()),
        ("RATE_LIMIT_CREDENTIALS_PER_IP", "8/1m".to_owned()),
        ("TRUSTED_PROXIES", "127.0.0.1".to_owned()),
    ];
    let Some(backing) = backing(store, &limits).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    // A client address and names of this run's own: the counters outlive
    // a run in a shared Redis.
    let run = uuid::Uuid::now_v7();
    let [.., x, y, z] = run.as_bytes().map(|b| b.max(1));
    let client = || {
        let mut browser = Browser::new();
        browser.forwarded_for = Some(format!("10.{x}.{y}.{z}"));
        browser
    };
    let name = format!("lim{}", &run.simple().to_string()[24..]);
    let right = [("username", name.as_str()), ("password", harness::PASSWORD)];
    let mut owner = client();
    let res = owner.call::<SignUp>(&a, &right).await; // 1 of the address's 8
    assert_eq!(res.status, StatusCode::OK, "{store:?}: {}", res.body);

    // Three wrong passwords, spread over both instances, lock the account:
    // each instance alone has seen fewer than its budget.
    let mut stranger = client();
    let wrong = [
        ("username", name.as_str()),
        ("password", "not the password"),
    ];
    for at in [&a, &b, &a] {
        let res = stranger.call::<SignIn>(at, &wrong).await;
        assert_eq!(
            res.status,
            StatusCode::UNAUTHORIZED,
            "{store:?}: {}",
            res.body
        );
    }
    let res = stranger.call::<SignIn>(&b, &right).await;
    assert_eq!(
        res.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{store:?}: locked on B by failures on A and B"
    );
    // The owner's browser (device cookie) still signs in, on either.
    let res = owner.call::<SignIn>(&b, &right).await;
    assert_eq!(res.status, StatusCode::OK, "{store:?}: {}", res.body);

    // One address's attempts: 6 so far; the budget of 8 is the deployment's.
    let nobody = format!("nobody{}", &run.simple().to_string()[24..]);
    let other = [
        ("username", nobody.as_str()),
        ("password", harness::PASSWORD),
    ];
    for at in [&a, &b] {
        let res = client().call::<SignIn>(at, &other).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{store:?}");
    }
    for at in [&a, &b] {
        let res = client().call::<SignIn>(at, &other).await;
        assert_eq!(
            res.status,
            StatusCode::TOO_MANY_REQUESTS,
            "{store:?}: the address's budget is shared"
        );
    }
    eprintln!(
        "FIGURES {store:?} shared limits: an account locked by failures on two instances; \
         one address budget across both"
    );
    drop((a, b));
    backing.finish().await;
}

/// A passkey ceremony started on one instance is finished on the other,
/// once: sign-up through A then B, sign-in through B then A, and the same
/// response replayed on B is refused.
async fn passkey_ceremonies_span_instances(store: Store) {
    use serde_json::{json, Value};
    let Some(backing) = backing(store, &[]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    let origin = "http://localhost:3000";
    let options = |reply: &harness::Reply| -> Value {
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        serde_json::from_str(&reply.body).unwrap()
    };
    let mut key = testkit::authenticator::Authenticator::new();

    let mut browser = Browser::new();
    let started = browser
        .call_json(
            &a,
            "/api/passkeys/signup/start",
            &json!({"username": "kai"}),
        )
        .await;
    let credential = key.register(&options(&started), origin);
    let done = browser
        .call_json(
            &b,
            "/api/passkeys/signup/finish",
            &json!({"credential": credential}),
        )
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(browser.is_signed_in(&a).await);

    let mut other = Browser::new();
    let started = other
        .call_json(&b, "/api/passkeys/login/start", &json!({}))
        .await;
    let ceremony = other.cookies.clone();
    let credential = json!({"credential": key.assert(&options(&started), origin)});
    let done = other
        .call_json(&a, "/api/passkeys/login/finish", &credential)
        .await;
    assert_eq!(done.status, StatusCode::OK, "{}", done.body);
    assert!(other.is_signed_in(&b).await);

    let mut replayer = Browser::new();
    replayer.cookies = ceremony;
    let replayed = replayer
        .call_json(&b, "/api/passkeys/login/finish", &credential)
        .await;
    assert_eq!(
        replayed.status,
        StatusCode::UNAUTHORIZED,
        "{}",
        replayed.body
    );
    drop((a, b));
    backing.finish().await;
}

/// A sign-in with a provider started on one instance finishes on the
/// other (the flow is in the shared store), once: the callback replayed
/// on the first is refused.
async fn provider_sign_in_spans_instances(store: Store) {
    let Some(provider) = testkit::oidc_provider::OidcProvider::start(300).await else {
        return;
    };
    // Every instance sends the provider the same redirect URI, as behind
    // one public URL.
    let mut env = provider.vars("cluster");
    env.push(("PUBLIC_URL", "http://localhost:3000".into()));
    let Some(backing) = backing(store, &env).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    let path = |url: &str| url.split_once("3000").map(|(_, p)| p.to_owned()).unwrap();

    let mut browser = Browser::new();
    let started = browser.get(&a, "/auth/oidc/start?provider=mock").await;
    let authorize = started.location.expect("sent to the provider");
    assert!(authorize.starts_with(&provider.issuer()), "{authorize}");
    let back = path(&provider.sign_in(&authorize, "kim").await);
    let flow = browser.cookies.clone();
    let done = browser.get(&b, &back).await;
    assert_eq!(
        done.location.as_deref(),
        Some("/dashboard"),
        "{}",
        done.body
    );
    assert!(browser.is_signed_in(&a).await, "one session, on both");

    let mut replayer = Browser::new();
    replayer.cookies = flow;
    let replayed = replayer.get(&a, &back).await;
    let refused = replayed.location.unwrap_or_default();
    assert!(refused.contains("error=identity_failed"), "{refused}");
    assert!(!replayer.is_signed_in(&a).await);
    drop((a, b));
    backing.finish().await;
}

/// Polls `done` until it holds, for at most 5 s (then fails, saying
/// `what`); how long it took.
async fn within_5s(what: String, mut done: impl AsyncFnMut() -> bool) -> Duration {
    let since = Instant::now();
    while !done().await {
        assert!(
            since.elapsed() < Duration::from_secs(5),
            "{what}: not within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    since.elapsed()
}

/// How many lines the dashboard's "Recent activity" shows `browser` on `at`.
async fn events_shown(browser: &mut Browser, at: &Instance) -> usize {
    let page = browser.get(at, "/dashboard").await;
    assert_eq!(page.status, StatusCode::OK);
    let list = page
        .body
        .split(r#"data-testid="events""#)
        .nth(1)
        .and_then(|rest| rest.split("</ul>").next())
        .expect("the dashboard's events");
    list.matches("<li").count()
}

/// The dashboard's lists, which an instance keeps between the writes that
/// change them: a change made through another instance shows on the next
/// render (PostgreSQL announces it; with sessions in Redis and accounts in
/// a SQLite file the instances share, nothing is kept).
async fn dashboard_lists_follow_other_instances(store: Store) {
    let Some(backing) = backing(store, &[]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    let mut browser = Browser::signed_up(&a, "dee").await;
    let before = events_shown(&mut browser, &a).await;
    assert_eq!(events_shown(&mut browser, &a).await, before);
    for round in 1..=3 {
        let mut elsewhere = Browser::new();
        let res = elsewhere
            .call::<SignIn>(&b, &[("username", "dee"), ("password", harness::PASSWORD)])
            .await;
        assert_eq!(res.status, StatusCode::OK, "{store:?}: {}", res.body);
        let took = within_5s(
            format!("{store:?}: sign-in {round} on B on A's dashboard"),
            async || events_shown(&mut browser, &a).await >= before + round,
        )
        .await;
        eprintln!("FIGURES {store:?} sign-in {round} on B shown on A's dashboard after {took:?}");
    }
    drop((a, b));
    backing.finish().await;
}

/// The sessions page, whose list an instance keeps for up to
/// `SESSION_CACHE_TTL`: a session signed out through another instance is
/// gone from the next render.
async fn sessions_page_follows_sign_outs_elsewhere(store: Store) {
    // The list may be kept this long: the feed, not the TTL, must tell A.
    let Some(backing) = backing(store, &[("SESSION_CACHE_TTL", FALLBACK.into())]).await else {
        return;
    };
    let cluster = backing.cluster();
    let a = cluster.instance("a").await;
    let b = cluster.instance("b").await;
    b.feed_becomes("live", store).await;
    a.feed_becomes("live", store).await;
    let mut browser = Browser::signed_up(&a, "fay").await;
    let mut elsewhere = Browser::new();
    let res = elsewhere
        .call::<SignIn>(&a, &[("username", "fay"), ("password", harness::PASSWORD)])
        .await;
    assert_eq!(res.status, StatusCode::OK, "{store:?}: {}", res.body);
    let mut listed = async || {
        let page = browser.get(&a, "/account/sessions").await;
        assert_eq!(page.status, StatusCode::OK);
        page.body.matches(r#"data-testid="session""#).count()
    };
    assert_eq!(listed().await, 2);
    let res = elsewhere.call::<Logout>(&b, &[]).await;
    assert!(res.status.is_redirection() || res.status.is_success());
    let took = within_5s(
        format!("{store:?}: a sign-out on B gone from A's list"),
        async || listed().await == 1,
    )
    .await;
    eprintln!("FIGURES {store:?} a sign-out on B gone from A's sessions page after {took:?}");
    drop((a, b));
    backing.finish().await;
}

macro_rules! scenarios {
    ($($name:ident: $scenario:ident($store:expr);)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                $scenario($store).await;
            }
        )*
    };
}

scenarios! {
    postgres_sessions_are_shared_and_revocation_reaches_every_instance: shared_sessions_and_revocation(Store::Postgres);
    redis_sessions_are_shared_and_revocation_reaches_every_instance: shared_sessions_and_revocation(Store::Redis);
    postgres_revocation_is_pushed_to_every_instance: revocation_is_pushed(Store::Postgres);
    redis_revocation_is_pushed_to_every_instance: revocation_is_pushed(Store::Redis);
    postgres_revocation_missed_while_cut_is_caught_up: revocation_missed_while_cut_is_caught_up(Store::Postgres);
    redis_revocation_missed_while_cut_is_caught_up: revocation_missed_while_cut_is_caught_up(Store::Redis);
    postgres_dpop_proofs_are_good_once_across_instances: dpop_proofs_are_good_once_across_instances(Store::Postgres);
    redis_dpop_proofs_are_good_once_across_instances: dpop_proofs_are_good_once_across_instances(Store::Redis);
    postgres_racing_refreshes_succeed_and_later_reuse_revokes: racing_refreshes_then_reuse(Store::Postgres);
    redis_racing_refreshes_succeed_and_later_reuse_revokes: racing_refreshes_then_reuse(Store::Redis);
    postgres_outage_fails_fast_and_recovers: store_outage_fails_fast_and_recovers(Store::Postgres);
    redis_outage_fails_fast_and_recovers: store_outage_fails_fast_and_recovers(Store::Redis);
    postgres_sigkill_keeps_sessions_and_keys: sigkill_keeps_sessions_and_keys(Store::Postgres);
    redis_sigkill_keeps_sessions_and_keys: sigkill_keeps_sessions_and_keys(Store::Redis);
    postgres_passkey_ceremonies_span_instances: passkey_ceremonies_span_instances(Store::Postgres);
    redis_passkey_ceremonies_span_instances: passkey_ceremonies_span_instances(Store::Redis);
    postgres_rate_limits_are_one_budget_for_every_instance: one_rate_limit_budget_for_every_instance(Store::Postgres);
    redis_rate_limits_are_one_budget_for_every_instance: one_rate_limit_budget_for_every_instance(Store::Redis);
    postgres_provider_sign_in_spans_instances: provider_sign_in_spans_instances(Store::Postgres);
    redis_provider_sign_in_spans_instances: provider_sign_in_spans_instances(Store::Redis);
    postgres_dashboard_lists_follow_other_instances: dashboard_lists_follow_other_instances(Store::Postgres);
    redis_dashboard_lists_follow_other_instances: dashboard_lists_follow_other_instances(Store::Redis);
    postgres_sessions_page_follows_sign_outs_elsewhere: sessions_page_follows_sign_outs_elsewhere(Store::Postgres);
    redis_sessions_page_follows_sign_outs_elsewhere: sessions_page_follows_sign_outs_elsewhere(Store::Redis);
}
