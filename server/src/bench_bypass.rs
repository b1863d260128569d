//! Bench-only (cargo feature `bench-bypass`): session validation replaced
//! by a fixed user, so the load benchmark can measure what validation costs
//! on `/dashboard` by comparing against this build in the same run.
//!
//! The first request with a valid cookie is validated for real; every later
//! request with any session cookie is treated as that session, with no
//! database access. Never enable this feature outside `scripts/bench.sh`:
//! the server refuses to start with it unless `BENCH_BYPASS=1` is set and
//! `APP_ENV` is `dev`.

use std::sync::OnceLock;

use engine::{Auth, Authenticated, SessionToken, Validation};

use crate::{config::AppEnv, error::StartupError};

static FIXED: OnceLock<Authenticated> = OnceLock::new();

/// The bypass's stand-in for [`engine::Auth::validate`].
///
/// # Errors
/// Only from the first, real validation.
pub async fn validate(
    auth: &Auth,
    token: &SessionToken,
    seen_from: impl FnOnce() -> engine::ClientInfo + Send,
) -> Result<Validation, engine::Error> {
    if let Some(fixed) = FIXED.get() {
        return Ok(Validation::Valid(Box::new(fixed.clone())));
    }
    let outcome = auth.validate_token(token, seen_from).await?;
    if let Validation::Valid(auth) = &outcome {
        let _ = FIXED.set((**auth).clone());
    }
    Ok(outcome)
}

/// Refuses to run a bypass build by accident.
///
/// # Errors
/// [`StartupError::Refused`], saying why the server will not start.
pub fn guard(env: AppEnv) -> Result<(), StartupError> {
    if env != AppEnv::Dev || std::env::var("BENCH_BYPASS").as_deref() != Ok("1") {
        return Err(StartupError::Refused(
            "this is a bench-only build (feature `bench-bypass`) that skips session \
             validation; it runs only with APP_ENV=dev and BENCH_BYPASS=1",
        ));
    }
    tracing::warn!("bench-only build: session validation is bypassed");
    Ok(())
}
