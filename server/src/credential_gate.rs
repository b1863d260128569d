//! Refuses a sign-in or sign-up flood before it costs anything.
//!
//! Under a flood of bad sign-ins from many addresses, nearly every attempt
//! is refused (429: the address's budget is spent; 503: the hashing queue
//! is full). Refused inside the server function, each refusal still paid
//! for CSRF, the session layer, the body and Leptos' dispatch, and enough
//! of them kept every core busy: signed-in pages waited behind them. This
//! gate runs first, ahead of all of that, and refuses with the same answers
//! the server function would give, from the address and the hashing queue
//! alone. What it lets through is counted once: the server function sees
//! [`AddressCounted`] and skips the address.
//!
//! Cheap refusals alone do not free the site, though: a flooder that waits
//! for each answer (as credential-stuffing tools do) just sends more of
//! them, and the cores stay busy (measured in `BENCHMARKS.md`). So each
//! refusal is held for [`REFUSAL_DELAY`] before it is sent (a tarpit): the
//! wait costs a timer, not a core, and a flooder with 48 connections sends
//! 48 attempts a second instead of thousands. A person who gets the answer
//! was told to wait anyway (`Retry-After`). At most [`DELAYED_AT_ONCE`]
//! refusals wait at once; past that they are sent at once, so a flood of
//! connections cannot pile up waiting tasks.
//!
//! The form's `next` is in the body, which the gate does not read, so a
//! refused plain form post returns to the bare form.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::{header, HeaderValue, Method, StatusCode},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use leptos::server_fn::ServerFn as _;

use app::{
    error::AppError,
    server_fns::auth::{SignIn, SignUp},
    session::{accepts_html, AddressCounted, ClientIp, BUSY_RETRY_AFTER_SECS},
};
use engine::{throttle::Throttle, Auth};

/// How long a refusal is held before it is sent.
pub const REFUSAL_DELAY: Duration = Duration::from_secs(1);
/// Most refusals held at once.
pub const DELAYED_AT_ONCE: usize = 4096;

/// What the gate consults.
#[derive(Debug)]
pub struct CredentialGate {
    /// For the hashing queue.
    auth: Auth,
    /// For the addresses' budgets.
    throttle: Arc<Throttle>,
    /// Places for refusals being held.
    delayed: tokio::sync::Semaphore,
}

impl CredentialGate {
    /// A gate in front of `auth`'s hashing and `throttle`'s budgets.
    #[must_use]
    pub fn new(auth: Auth, throttle: Arc<Throttle>) -> Self {
        Self {
            auth,
            throttle,
            delayed: tokio::sync::Semaphore::new(DELAYED_AT_ONCE),
        }
    }

    /// Holds a refusal for [`REFUSAL_DELAY`], if there is a place.
    async fn hold(&self) {
        if let Ok(_place) = self.delayed.try_acquire() {
            tokio::time::sleep(REFUSAL_DELAY).await;
        }
    }
}

/// The form page of each credential endpoint, for plain form posts.
fn form_page(path: &str) -> Option<&'static str> {
    if path == SignIn::PATH {
        Some("/login")
    } else if path == SignUp::PATH {
        Some("/signup")
    } else {
        None
    }
}

/// The middleware; install outside the CSRF layer, inside the client
/// address layer.
pub async fn credential_gate(
    State(gate): State<Arc<CredentialGate>>,
    mut req: Request,
    next: Next,
) -> Response {
    let page = match form_page(req.uri().path()) {
        Some(page) if req.method() == Method::POST => page,
        _ => return next.run(req).await,
    };
    let refusal = if gate.auth.hashing_saturated() {
        Some((AppError::Busy, BUSY_RETRY_AFTER_SECS))
    } else if let Some(ClientIp(ip)) = req.extensions().get::<ClientIp>().copied() {
        match gate.throttle.admit_address(ip).await {
            Ok(()) => {
                req.extensions_mut().insert(AddressCounted);
                None
            }
            Err(throttled) => Some((AppError::TooManyAttempts, throttled.retry_after_secs)),
        }
    } else {
        None
    };
    match refusal {
        None => next.run(req).await,
        Some((err, retry_after_secs)) => {
            gate.hold().await;
            refuse(&req, page, &err, retry_after_secs)
        }
    }
}

/// The server function's own answer to `err`: for a plain form post, back
/// to the form with the error's code; from script, the typed error as JSON
/// with its status. Both say when to try again.
fn refuse(req: &Request, page: &str, err: &AppError, retry_after_secs: u64) -> Response {
    let mut res = if accepts_html(req.headers()) {
        Redirect::to(&format!("{page}?error={}", err.code())).into_response()
    } else {
        let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
        let body = serde_json::to_string(err).unwrap_or_default();
        (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
