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
//!
//! The endpoints of mailed links (asking for a reset or a sign-in code,
//! using a link or a code) spend the same budget as a sign-in, here.
//!
//! Passkey ceremony starts pass the same gate with a budget of their own
//! (`RATE_LIMIT_PASSKEY_STARTS_PER_IP`): anyone can start a sign-in, and
//! each start costs a challenge, so a flood of them is refused here too.
//!
//! A request another site made the browser send is not counted: the gate
//! checks where it came from (`Sec-Fetch-Site`, `Origin`, `Referer`, the
//! CSRF layer's first test, which reads no body) before it spends any
//! budget, and lets the CSRF layer refuse it. Otherwise a hostile page could
//! spend its visitors' budgets (and everyone's behind the same NAT) with
//! cross-site posts that fail anyway.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::{Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
use leptos::server_fn::ServerFn as _;

use app::{
    error::AppError,
    paths,
    server_fns::reply::refusal,
    server_fns::{
        auth::{SignIn, SignUp},
        email::{RevertEmail, VerifyEmail},
        mailed_sign_in::{RequestSignInLink, SignInWithCode, SignInWithLink},
        passkeys::{ConfirmStart, LoginStart, RegisterStart, SignupStart},
        recovery::{RequestPasswordReset, ResetPassword},
    },
    session::{AddressCounted, ClientIp, BUSY_RETRY_AFTER_SECS},
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
    /// `PUBLIC_URL`'s origin, for the cross-site test (else the `Host`).
    public_origin: Option<Arc<str>>,
}

impl CredentialGate {
    /// A gate in front of `auth`'s hashing and `throttle`'s budgets, for a
    /// site at `public_origin`.
    #[must_use]
    pub fn new(auth: Auth, throttle: Arc<Throttle>, public_origin: Option<Arc<str>>) -> Self {
        Self {
            auth,
            throttle,
            delayed: tokio::sync::Semaphore::new(DELAYED_AT_ONCE),
            public_origin,
        }
    }

    /// Holds a refusal for [`REFUSAL_DELAY`], if there is a place.
    async fn hold(&self) {
        if let Ok(_place) = self.delayed.try_acquire() {
            tokio::time::sleep(REFUSAL_DELAY).await;
        }
    }
}

/// What a gated endpoint is.
#[derive(Clone, Copy)]
enum Gated {
    /// A password sign-in or sign-up, and the form page it is posted from.
    Credentials(&'static str),
    /// A passkey ceremony's start (JSON only).
    CeremonyStart,
    /// A mailed link's use, or a request for one, and the form page it is
    /// posted from: the address's budget, as a sign-in (no hashing, except
    /// a reset's new password, which is `Credentials`).
    Link(&'static str),
}

/// The endpoints of mailed links (and the requests for them), with their
/// form pages.
const LINKS: [(&str, &str); 6] = [
    (RequestPasswordReset::PATH, paths::FORGOT_PASSWORD),
    (VerifyEmail::PATH, paths::VERIFY_EMAIL),
    (RevertEmail::PATH, paths::REVERT_EMAIL),
    (RequestSignInLink::PATH, paths::MAILED_SIGN_IN),
    (SignInWithLink::PATH, paths::LINK_SIGN_IN),
    (SignInWithCode::PATH, paths::MAILED_SIGN_IN),
];

/// The gated endpoints.
fn gated(path: &str) -> Option<Gated> {
    if path == SignIn::PATH {
        Some(Gated::Credentials("/login"))
    } else if path == SignUp::PATH {
        Some(Gated::Credentials("/signup"))
    } else if path == ResetPassword::PATH {
        Some(Gated::Credentials(paths::RESET_PASSWORD))
    } else if let Some((_, page)) = LINKS.iter().find(|(gated, _)| *gated == path) {
        Some(Gated::Link(page))
    } else if [
        LoginStart::PATH,
        SignupStart::PATH,
        RegisterStart::PATH,
        ConfirmStart::PATH,
    ]
    .contains(&path)
    {
        Some(Gated::CeremonyStart)
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
    // Page loads (GETs) pass without a look at their path.
    if req.method() != Method::POST {
        return next.run(req).await;
    }
    let Some(kind) = gated(req.uri().path()) else {
        return next.run(req).await;
    };
    // Another site's post: the CSRF layer refuses it, and it spends nothing.
    if crate::csrf::is_cross_site(req.headers(), gate.public_origin.as_deref()) {
        return next.run(req).await;
    }
    let ip = req.extensions().get::<ClientIp>().copied();
    let refused = match kind {
        Gated::Credentials(_) if gate.auth.hashing_saturated() => {
            Some((AppError::Busy, BUSY_RETRY_AFTER_SECS))
        }
        Gated::Credentials(_) | Gated::Link(_) => match ip {
            Some(ClientIp(ip)) => match gate.throttle.admit_address(ip).await {
                Ok(()) => {
                    req.extensions_mut().insert(AddressCounted);
                    None
                }
                Err(throttled) => Some((AppError::TooManyAttempts, throttled.retry_after_secs)),
            },
            None => None,
        },
        Gated::CeremonyStart => match ip {
            Some(ClientIp(ip)) => gate
                .throttle
                .admit_ceremony(ip)
                .await
                .err()
                .map(|throttled| (AppError::TooManyAttempts, throttled.retry_after_secs)),
            None => None,
        },
    };
    match refused {
        None => next.run(req).await,
        Some((err, retry_after_secs)) => {
            gate.hold().await;
            let page = match kind {
                Gated::Credentials(page) | Gated::Link(page) => Some(page),
                Gated::CeremonyStart => None,
            };
            refusal(req.headers(), page, &err, retry_after_secs)
        }
    }
}
