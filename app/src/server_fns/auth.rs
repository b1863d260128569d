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

/// Creates an account and signs it in; an email address, if given, gets
/// its confirmation link at once.
///
/// # Errors
/// Invalid name, password or address, a taken name, or an unavailable
/// database.
#[server(client = crate::csrf::CsrfClient)]
pub async fn sign_up(
    /// The sign-in name asked for.
    username: String,
    /// The new password.
    password: String,
    /// An email address to confirm (optional).
    email: Option<String>,
    /// Where to go once signed up (a local path).
    next: Option<String>,
) -> Result<(), AppError> {
    let reply = Reply::form("sign_up", "/signup").then(next.as_deref());
    reply
        .run(async {
            let attempt = Require::credential_attempt(&username).check().await?;
            let ctx = &attempt.ctx;
            // A bad address is refused before the account exists.
            let email = email.filter(|e| !e.trim().is_empty());
            if let Some(email) = &email {
                engine::email::EmailAddress::parse(email)?;
            }
            // The engine validates both fields; its errors map to form messages.
            let new = ctx
                .auth
                .sign_up(&username, &password, session::client_info())
                .await?;
            complete_sign_in(ctx, &new);
            if let Some(email) = email {
                // The account exists: a mail that cannot go now (the
                // address's share is spent) is sent again from its page.
                let client = session::client_info();
                if let Err(err) = ctx.auth.set_email(&new.auth, &email, &client).await {
                    tracing::info!(error = %err, "confirmation link not sent at sign-up");
                }
            }
            Ok(())
        })
        .await
}

/// Signs in with a fresh session (never reusing the one the browser had).
///
/// # Errors
/// [`AppError::InvalidCredentials`] for an unknown user or a wrong password.
#[server(client = crate::csrf::CsrfClient)]
pub async fn sign_in(
    /// The sign-in name (or e-mail).
    username: String,
    /// The password.
    password: String,
    /// Set ("on") to keep this browser signed in after it closes.
    remember: Option<String>,
    /// Where to go once signed in (a local path).
    next: Option<String>,
) -> Result<(), AppError> {
    let reply = Reply::form("sign_in", "/login").then(next.as_deref());
    reply
        .run(async {
            let attempt = Require::credential_attempt(&username).check().await?;
            let ctx = &attempt.ctx;
            let client = session::client_info().with_known_device(attempt.known_device());
            let signed_in = ctx
                .auth
                .sign_in(&username, &password, remember.is_some(), client)
                .await;
            match signed_in {
                Ok(new) => {
                    complete_sign_in(ctx, &new);
                    Ok(())
                }
                Err(engine::Error::InvalidCredentials) => {
                    attempt.count_failure(&username).await;
                    Err(AppError::InvalidCredentials)
                }
                Err(err) => Err(err.into()),
            }
        })
        .await
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
    Reply::json("logout")
        .then(Some("/login?signed_out=1"))
        .run(sign_out())
        .await
}

/// Ends this browser's session (by its cookie, or else by its current
/// refresh token) and clears its cookies.
#[cfg(feature = "ssr")]
pub(crate) async fn sign_out() -> Result<(), AppError> {
    let ctx = Require::nothing().check()?;
    session::clear_session_cookies(&ctx.cookies);
    let client = session::client_info();
    if let Some(auth) = session::current() {
        ctx.auth.logout(&auth, &client).await?;
    } else if let Some(refresh) = session::request_cookie(ctx.cookies.refresh_name()) {
        ctx.auth.logout_by_refresh(&refresh, &client).await?;
    }
    Ok(())
}

/// The signed-in user, or `None`.
///
/// # Errors
/// Never in practice; the signature allows transport errors.
#[server(client = crate::csrf::CsrfClient)]
pub async fn current_viewer() -> Result<Option<Viewer>, AppError> {
    Reply::json("current_viewer")
        .run(async {
            let Some(auth) = session::current() else {
                return Ok(None);
            };
            let engine = &Require::nothing().check()?.auth;
            Ok(Some(Viewer {
                times: crate::session_clock::SessionTimes::of(&auth, engine.policy(), engine.now()),
                display_name: auth.user.display_name,
            }))
        })
        .await
}

#[cfg(feature = "ssr")]
use super::{completion::complete_sign_in, reply::Reply, require::Require};
#[cfg(feature = "ssr")]
use crate::session;
