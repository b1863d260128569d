//! What a server function requires of its caller, stated once at its top
//! and checked once (after crates.io's `AuthCheck`): the check hands back
//! the caller as the function needs it, or an [`AppError`] whose status the
//! server sets on the way out (`server/src/server_fn_errors.rs`).
//!
//! | requirement | hands back | refused with |
//! |---|---|---|
//! | [`Require::nothing`] | the [`ServerContext`] | — |
//! | [`Require::session`] | [`Signed`]: the context and the session | 401 |
//! | [`Require::recent`] | [`Signed`], the credential proved within `REAUTH_WINDOW` | 401, 403 `ReauthRequired` |
//! | [`Require::link_holder`] | the [`ServerContext`], within the address's budget | 429 with `Retry-After` |
//! | [`Require::credential_attempt`] | [`Attempt`]: the context, the browser's device token | 429 with `Retry-After` |
//!
//! A credential attempt is a sign-in, sign-up or confirmation: it counts
//! against the address's budget (unless the server's gate counted it) and
//! is refused while failures lock the account, unless this browser carries
//! a device token for it with budget left ([`engine::device`]).

use engine::Authenticated;

use super::context::{ctx, ServerContext};
use crate::{error::AppError, session};

/// What a server function requires; see the module docs.
#[derive(Clone, Copy, Debug)]
pub struct Require<K>(K);

/// [`Require::nothing`].
#[derive(Clone, Copy, Debug)]
pub struct Anyone;

/// [`Require::session`] and [`Require::recent`].
#[derive(Clone, Copy, Debug)]
pub struct SignedIn {
    recent: bool,
}

/// [`Require::link_holder`].
#[derive(Clone, Copy, Debug)]
pub struct LinkHolder;

/// [`Require::credential_attempt`].
#[derive(Clone, Copy, Debug)]
pub struct CredentialAttempt<'a> {
    account: &'a str,
}

impl Require<LinkHolder> {
    /// Anyone holding a link from a mail (or asking for one), or coming
    /// back from a sign-in provider, within the client address's budget:
    /// links and provider callbacks are signed-out credentials, so each use
    /// spends from the same budget as a sign-in.
    #[must_use]
    pub fn link_holder() -> Self {
        Self(LinkHolder)
    }

    /// The context, once the address's budget allows.
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`] past the budget (with `Retry-After`).
    pub async fn check(self) -> Result<ServerContext, AppError> {
        Ok(Attempt::address_only().await?.ctx)
    }
}

impl Require<Anyone> {
    /// Anyone may call it.
    #[must_use]
    pub fn nothing() -> Self {
        Self(Anyone)
    }

    /// The context.
    ///
    /// # Errors
    /// [`AppError::Internal`] if the server did not provide it (a wiring bug).
    pub fn check(self) -> Result<ServerContext, AppError> {
        ctx()
    }
}

impl Require<SignedIn> {
    /// A signed-in session (validated by the server's session layer).
    #[must_use]
    pub fn session() -> Self {
        Self(SignedIn { recent: false })
    }

    /// A session whose user proved a credential within `REAUTH_WINDOW`:
    /// sensitive actions, past which a page asks for a confirmation.
    #[must_use]
    pub fn recent() -> Self {
        Self(SignedIn { recent: true })
    }

    /// The context and the session.
    ///
    /// # Errors
    /// [`AppError::Unauthorized`] without a session,
    /// [`AppError::ReauthRequired`] past the window.
    pub fn check(self) -> Result<Signed, AppError> {
        let auth = session::require()?;
        let ctx = ctx()?;
        if self.0.recent && !ctx.auth.is_recent(&auth.session) {
            return Err(AppError::ReauthRequired);
        }
        Ok(Signed { ctx, auth })
    }
}

impl<'a> Require<CredentialAttempt<'a>> {
    /// A credential attempt for the account named `account` (a sign-in, a
    /// sign-up, or the signed-in user confirming their own).
    #[must_use]
    pub fn credential_attempt(account: &'a str) -> Self {
        Self(CredentialAttempt { account })
    }

    /// The attempt, once admitted by the brute-force limits.
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`] (with `Retry-After`) past the
    /// address's budget, or while the account is locked for this browser.
    pub async fn check(self) -> Result<Attempt, AppError> {
        let ctx = ctx()?;
        let account = self.0.account;
        let device = match device_cookie(&ctx) {
            Some(cookie) => ctx
                .auth
                .recognise_device(&ctx.device, account, &cookie)
                .await
                .map_err(AppError::from)?,
            None => None,
        };
        let exempt = match &device {
            Some(token) => !ctx.throttle.device_spent(&token.nonce).await,
            None => false,
        };
        // Counted once: by the server's gate in front of parsing, if any.
        let ip = session::client_ip();
        let uncounted = ip.filter(|_| !session::address_counted());
        match ctx.throttle.admit(uncounted, account, exempt).await {
            Ok(()) => Ok(Attempt { ctx, device }),
            Err(throttled) => {
                // Debug only: a flood of refusals must not become a flood of
                // log lines; the lock itself is logged and recorded once.
                tracing::debug!(?ip, "credential attempts throttled");
                Err(too_many(throttled))
            }
        }
    }
}

/// A signed-in caller.
#[derive(Clone, Debug)]
pub struct Signed {
    /// The server's context.
    pub ctx: ServerContext,
    /// The request's session.
    pub auth: Authenticated,
}

/// An admitted credential attempt.
#[derive(Clone, Debug)]
pub struct Attempt {
    /// The server's context.
    pub ctx: ServerContext,
    /// This browser's device token, if it counts for the account (its
    /// signature, account, age and credentials version checked; its own
    /// failure budget decided whether it spares the browser a lock).
    pub device: Option<engine::device::Recognised>,
}

impl Attempt {
    /// Whether this browser has signed in to the account before (a sign-in
    /// from any other raises a "new browser" notice).
    #[must_use]
    pub fn known_device(&self) -> bool {
        self.device.is_some()
    }

    /// Counts a wrong password (or unknown name, or refused passkey)
    /// against the account and against the device token that came with
    /// it; when that locks the account, records so for its owner to see.
    pub async fn count_failure(&self, account: &str) {
        let ctx = &self.ctx;
        if let Some(device) = &self.device {
            ctx.throttle.record_device_failure(&device.nonce).await;
        }
        if ctx.throttle.record_failure(account).await {
            let client = session::client_info();
            if let Err(err) = ctx.auth.record_lockout(account, &client).await {
                tracing::warn!(error = %err, "could not record the lockout");
            }
        }
    }

    /// Counts a passkey attempt that names no account against the
    /// address's budget alone (unless the gate counted it).
    ///
    /// # Errors
    /// [`AppError::TooManyAttempts`] past the budget.
    pub async fn address_only() -> Result<Self, AppError> {
        let ctx = ctx()?;
        if let Some(ip) = session::client_ip().filter(|_| !session::address_counted()) {
            ctx.throttle.admit_address(ip).await.map_err(too_many)?;
        }
        Ok(Self { ctx, device: None })
    }
}

/// A refused attempt: 429 with `Retry-After`.
#[must_use]
pub fn too_many(throttled: engine::throttle::Throttled) -> AppError {
    session::set_header_value(
        http::header::RETRY_AFTER,
        &throttled.retry_after_secs.to_string(),
    );
    AppError::TooManyAttempts
}

/// This browser's device cookie.
pub(crate) fn device_cookie(ctx: &ServerContext) -> Option<String> {
    session::request_cookie(ctx.cookies.device_name())
}
