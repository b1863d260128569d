//! Micro-benchmarks of the session engine's hot paths: what every request
//! (or every refresh) pays.
//!
//! ```sh
//! cargo bench -p engine --features postgres --bench hot_paths
//! ```
//!
//! Session validation runs on a SQLite file (WAL, as the server opens it)
//! and, when `BENCH_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! answers, on PostgreSQL. Results are recorded in `BENCHMARKS.md`.

use std::{hint::black_box, sync::Arc, time::Duration};

use criterion::{criterion_group, criterion_main, BenchmarkGroup, Criterion};
use engine::{
    csrf::{Binding, CsrfKey},
    jwt::{Jwt, JwtSettings, KeyPair},
    store::{database::PoolSettings, StoreSettings},
    Auth, ClientInfo, SessionPolicy, SessionToken, SystemClock, Validation,
};
use tokio::runtime::Runtime;

fn tokens(c: &mut Criterion) {
    let mut group = c.benchmark_group("token");
    group.bench_function("generate (256-bit, base64url)", |b| {
        b.iter(SessionToken::generate);
    });
    let token = SessionToken::generate();
    group.bench_function("hash (SHA-256)", |b| b.iter(|| black_box(&token).hash()));
    group.bench_function("parse + hash a cookie value", |b| {
        b.iter(|| SessionToken::parse(black_box(token.expose())).map(|t| t.hash()));
    });
    group.finish();
}

fn csrf(c: &mut Criterion) {
    let mut group = c.benchmark_group("csrf");
    let key = CsrfKey::generate();
    let session = SessionToken::generate();
    let token = key.issue(Binding::Session(&session));
    group.bench_function("issue (HMAC-SHA256)", |b| {
        b.iter(|| key.issue(Binding::Session(black_box(&session))));
    });
    group.bench_function("verify", |b| {
        b.iter(|| key.verify(Binding::Session(&session), black_box(&token)));
    });
    group.finish();
}

/// A store with one user signed in: the engine and the session's raw token.
/// With `cached`, sessions go through the in-process cache the server uses
/// by default (`SESSION_CACHE_TTL=2s`).
async fn signed_in(url: &str, cached: bool) -> Option<(Auth, String)> {
    let settings = StoreSettings {
        database_url: url,
        pool: PoolSettings {
            max_connections: 4,
            acquire_timeout: Duration::from_secs(5),
        },
        session_store: None,
        session_store_timeout: Duration::from_secs(2),
        key_prefix: "bench:",
        cache_ttl: cached.then_some(time::Duration::seconds(2)),
    };
    let stores = engine::store::open(settings, Arc::new(SystemClock))
        .await
        .ok()?;
    let auth = Auth::new(
        stores.users,
        stores.sessions,
        SessionPolicy::default(),
        Arc::new(SystemClock),
    )
    .ok()?;
    let name = format!(
        "bench-{}",
        SessionToken::generate().expose()[..8].to_lowercase()
    );
    let new = auth
        .sign_up(&name, "correct horse battery", ClientInfo::default())
        .await
        .ok()?;
    Some((auth, new.token.expose().to_owned()))
}

fn validate_on(
    group: &mut BenchmarkGroup<'_, criterion::measurement::WallTime>,
    rt: &Runtime,
    label: &str,
    auth: &Auth,
    token: &str,
    cached: bool,
) {
    if cached {
        group.bench_function(
            format!("validate a session cookie ({label}, cached)"),
            |b| {
                b.to_async(rt).iter(|| async {
                    let outcome = auth.validate(black_box(token)).await;
                    assert!(matches!(outcome, Ok(Validation::Valid(_))));
                });
            },
        );
        return;
    }
    // The default touch interval (1 min) means these are reads only, like
    // most requests; the first may write once.
    group.bench_function(format!("validate a session cookie ({label})"), |b| {
        b.to_async(rt).iter(|| async {
            let outcome = auth.validate(black_box(token)).await;
            assert!(matches!(outcome, Ok(Validation::Valid(_))));
        });
    });
    group.bench_function(format!("reject an unknown token ({label})"), |b| {
        let unknown = SessionToken::generate();
        b.to_async(rt).iter(|| async {
            let outcome = auth.validate(black_box(unknown.expose())).await;
            assert!(matches!(outcome, Ok(Validation::Invalid)));
        });
    });
}

fn validation(c: &mut Criterion) {
    let Ok(rt) = Runtime::new() else { return };
    let mut group = c.benchmark_group("session");
    let dir = tempfile::tempdir().ok();
    if let Some(dir) = &dir {
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("bench.db").display()
        );
        for cached in [false, true] {
            if let Some((auth, token)) = rt.block_on(signed_in(&url, cached)) {
                validate_on(&mut group, &rt, "SQLite", &auth, &token, cached);
            }
        }
    }
    #[cfg(feature = "postgres")]
    {
        let url = std::env::var("BENCH_DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        for cached in [false, true] {
            match rt.block_on(signed_in(&url, cached)) {
                Some((auth, token)) => {
                    validate_on(&mut group, &rt, "PostgreSQL", &auth, &token, cached);
                }
                None => eprintln!("PostgreSQL not reachable at {url}: skipped"),
            }
        }
    }
    group.finish();
}

fn jwt(c: &mut Criterion) {
    let Ok(rt) = Runtime::new() else { return };
    let dir = tempfile::tempdir().ok();
    let Some((auth, token)) = dir.as_ref().and_then(|dir| {
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("jwt.db").display());
        rt.block_on(signed_in(&url, false))
    }) else {
        return;
    };
    let Ok(Validation::Valid(session)) = rt.block_on(auth.validate(&token)) else {
        return;
    };
    let settings = JwtSettings {
        client_id: "web".into(),
        issuer: "bench".into(),
        audience: "bench".into(),
        ttl: time::Duration::minutes(5),
        leeway_secs: 5,
    };
    let Ok(jwt) = Jwt::new(settings, &[KeyPair::generate()]) else {
        return;
    };
    let now = time::OffsetDateTime::now_utc();
    let Ok((signed, _)) = jwt.issue(&session, now) else {
        return;
    };

    let mut group = c.benchmark_group("jwt");
    group.bench_function("sign (EdDSA)", |b| {
        b.iter(|| jwt.issue(black_box(&session), now));
    });
    group.bench_function("verify a new token (EdDSA + claims)", |b| {
        b.iter_batched(
            || jwt.issue(&session, now).map(|(token, _)| token),
            |token| {
                let claims = token.map(|t| jwt.verify(black_box(&t)));
                assert!(matches!(claims, Ok(Ok(_))));
            },
            criterion::BatchSize::SmallInput,
        );
    });
    group.bench_function("verify a repeated token (remembered)", |b| {
        b.iter(|| {
            let claims = jwt.verify(black_box(&signed));
            assert!(claims.is_ok());
        });
    });
    group.finish();
}

criterion_group!(benches, tokens, csrf, jwt, validation);
criterion_main!(benches);
