//! Sign-up, sign-in, logout and "who am I".
//!
//! Each works both from a hydrated page (called through `fetch`, errors come
//! back as JSON) and from a plain HTML form without JavaScript (errors come
//! back as a redirect to the form with an `error` code).

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// The signed-in user, as the navigation shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// Name to display.
    pub display_name: String,
    /// When the current session ends, for the idle prompt.
    pub times: crate::session_clock::SessionTimes,
}

/// Creates an account and signs it in.
///
/// # Errors
/// Invalid name or password, a taken name, or an unavailable database.
#[server(client = crate::csrf::CsrfClient)]
pub async fn sign_up(
    username: String,
    password: String,
    next: Option<String>,
) -> Result<(), AppError> {
    // The engine validates both fields; its errors map to form messages.
    let device = ssr::device_cookie();
    let result = match ssr::admit(&username, device.as_deref()).await {
        Ok(admitted) => admitted
            .ctx
            .auth
            .sign_up(&username, &password, session::client_info())
            .await
            .map_err(AppError::from),
        Err(err) => Err(err),
    };
    ssr::finish_sign_in(result, false, next.as_deref(), "/signup")
}

/// Signs in with a fresh session (never reusing the one the browser had).
///
/// # Errors
/// [`AppError::InvalidCredentials`] for an unknown user or a wrong password.
#[server(client = crate::csrf::CsrfClient)]
pub async fn sign_in(
    username: String,
    password: String,
    remember: Option<String>,
    next: Option<String>,
) -> Result<(), AppError> {
    let remember = remember.is_some();
    let device = ssr::device_cookie();
    let result = match ssr::admit(&username, device.as_deref()).await {
        Ok(admitted) => {
            let client = session::client_info().with_known_device(admitted.device.is_some());
            match admitted
                .ctx
                .auth
                .sign_in(&username, &password, remember, client)
                .await
            {
                Err(engine::Error::InvalidCredentials) => {
                    admitted.count_failure(&username).await;
                    Err(AppError::InvalidCredentials)
                }
                other => other.map_err(AppError::from),
            }
        }
        Err(err) => Err(err),
    };
    ssr::finish_sign_in(result, remember, next.as_deref(), "/login")
}

/// Signs out this device: revokes the session server-side, clears the
/// cookie and asks the browser to drop site data.
///
/// # Errors
/// Only if the database is unavailable; the cookie is cleared regardless.
// Under `/api/auth`, so the refresh cookie comes along: a browser that
// has only that one left still ends its session.
#[server(prefix = "/api/auth", client = crate::csrf::CsrfClient)]
pub async fn logout() -> Result<(), AppError> {
    let ctx = ssr::ctx()?;
    session::clear_session_cookies(&ctx.cookies);
    let client = session::client_info();
    if let Some(auth) = session::current() {
        ctx.auth
            .logout(&auth, &client)
            .await
            .map_err(AppError::from)?;
    } else if let Some(refresh) = session::request_cookie(ctx.cookies.refresh_name()) {
        ctx.auth
            .logout_by_refresh(&refresh, &client)
            .await
            .map_err(AppError::from)?;
    }
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

/// The signed-in user, or `None`.
///
/// # Errors
/// Never in practice; the signature allows transport errors.
#[server(client = crate::csrf::CsrfClient)]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    let Some(auth) = session::current() else {
        return Ok(None);
    };
    let engine = &ssr::ctx()?.auth;
    Ok(Some(Viewer {
        times: crate::session_clock::SessionTimes::of(&auth, engine.policy(), engine.now()),
        display_name: auth.user.display_name,
    }))
}

#[cfg(feature = "ssr")]
use crate::session;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    pub use super::super::context::ctx;
    use crate::{error::AppError, redirect::safe_next, session};

    use super::super::context::ServerContext;

    /// A credential attempt within the limits: the context, and the
    /// browser's device token if it counts for the account.
    pub struct Admitted {
        pub ctx: ServerContext,
        /// The device token this browser sent that counts for the account
        /// (its signature, account, age and credentials version checked;
        /// its own failure budget not: see [`admit`]).
        pub device: Option<engine::device::Recognised>,
    }

    impl Admitted {
        /// Counts a wrong password (or unknown name) against the account,
        /// and against the device token that came with it; when that locks
        /// the account, records so for the account's owner to see.
        pub async fn count_failure(&self, username: &str) {
            let ctx = &self.ctx;
            if let Some(device) = &self.device {
                ctx.throttle.record_device_failure(&device.nonce).await;
            }
            if ctx.throttle.record_failure(username).await {
                let client = session::client_info();
                if let Err(err) = ctx.auth.record_lockout(username, &client).await {
                    tracing::warn!(error = %err, "could not record the lockout");
                }
            }
        }
    }

    /// Counts a credential attempt against the brute-force limits; over
    /// them, or while failures have locked the account and this browser
    /// carries no device token for it with budget left, answers 429 with
    /// `Retry-After` before any password is hashed.
    pub async fn admit(username: &str, device: Option<&str>) -> Result<Admitted, AppError> {
        let ctx = ctx()?;
        let ip = session::client_ip();
        let device = match device {
            Some(cookie) => ctx
                .auth
                .recognise_device(&ctx.device, username, cookie)
                .await
                .map_err(AppError::from)?,
            None => None,
        };
        let exempt = match &device {
            Some(token) => !ctx.throttle.device_spent(&token.nonce).await,
            None => false,
        };
        // Counted once: by the server's gate in front of parsing, if any.
        let uncounted = ip.filter(|_| !session::address_counted());
        match ctx.throttle.admit(uncounted, username, exempt).await {
            Ok(()) => Ok(Admitted { ctx, device }),
            Err(throttled) => {
                // Debug only: a flood of refusals must not become a flood of
                // log lines; the lock itself is logged and recorded once.
                tracing::debug!(?ip, "credential attempts throttled");
                Err(too_many(throttled))
            }
        }
    }

    /// A refused attempt: 429 with `Retry-After`.
    pub fn too_many(throttled: engine::throttle::Throttled) -> AppError {
        session::set_header_value(
            http::header::RETRY_AFTER,
            &throttled.retry_after_secs.to_string(),
        );
        AppError::TooManyAttempts
    }

    /// This browser's device cookie (read once per attempt: admission
    /// checks it, a successful sign-in renews it).
    pub fn device_cookie() -> Option<String> {
        session::request_cookie(ctx().ok()?.cookies.device_name())
    }

    /// Counts a wrong password for a signed-in user's own account (a
    /// confirmation, a password change) as a failed sign-in would be.
    pub async fn wrong_password(admitted: &Admitted, auth: &engine::Authenticated) -> AppError {
        admitted.count_failure(&auth.user.username).await;
        AppError::WrongPassword
    }

    /// This browser's device cookie, renewed for `user` at credentials
    /// `version` (after a sign-in, a password change or "sign out
    /// everywhere", whose new version ended the tokens before).
    pub fn renew_device_cookie(ctx: &ServerContext, user: engine::UserId, version: i64) {
        let devices = device_cookie();
        let value = ctx
            .device
            .remember(user, version, ctx.auth.now(), devices.as_deref());
        session::set_cookie(&ctx.cookies.device_cookie(&value));
    }

    /// Sets the cookies of a new session: its token, its first refresh
    /// token and a CSRF token bound to it (the previous one no longer
    /// verifies). Persistent until the session's end with `remember`.
    pub fn set_session_cookies(ctx: &ServerContext, new: &engine::NewSession, remember: bool) {
        let persist = remember.then_some(new.auth.session.expires_at);
        session::set_cookie(&ctx.cookies.session_cookie(new.token.expose(), persist));
        session::set_cookie(&ctx.cookies.refresh_cookie(new.refresh.expose(), persist));
        let csrf = ctx.csrf.issue(engine::csrf::Binding::Session(&new.token));
        session::set_cookie(&ctx.cookies.csrf_cookie(&csrf, persist));
    }

    /// Completes a sign-in or sign-up: on success, the new session's
    /// cookies ([`complete_sign_in`]) and go to `next`; on failure, report
    /// the error the way the caller can show it.
    pub fn finish_sign_in(
        result: Result<engine::NewSession, AppError>,
        remember: bool,
        next: Option<&str>,
        form_path: &str,
    ) -> Result<(), AppError> {
        let target = safe_next(next);
        match result {
            Ok(new) => {
                complete_sign_in(&ctx()?, &new, remember);
                leptos_axum::redirect(&target);
                Ok(())
            }
            // Reported as every form reports it (see `security::ssr::Form`).
            Err(err) => crate::server_fns::security::ssr::Form::new(form_path, Some(&target))
                .finish(Err(err), false),
        }
    }

    /// What every sign-in (password or passkey) ends with: drop the
    /// session the browser came with, set the new cookies (this browser
    /// now recognised for the account, added to the device cookie it
    /// sent), tell the session layer, and keep the answer out of caches.
    pub fn complete_sign_in(ctx: &ServerContext, new: &engine::NewSession, remember: bool) {
        if let Some(previous) = session::current() {
            // Fire-and-forget: the old session must not outlive the
            // new one, but a failure here must not fail the sign-in.
            let auth = ctx.auth.clone();
            let client = session::client_info();
            leptos::task::spawn(async move {
                if let Err(err) = auth.logout(&previous, &client).await {
                    tracing::warn!(error = %err, "could not end the previous session");
                }
            });
        }
        set_session_cookies(ctx, new, remember);
        renew_device_cookie(ctx, new.auth.user.id, new.credentials_version);
        session::record_change(session::SessionChange::SignedIn);
        session::set_header(http::header::CACHE_CONTROL, "no-store");
    }
}
