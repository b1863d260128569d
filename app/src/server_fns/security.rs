//! Sensitive account actions: confirming a credential (re-authentication),
//! setting, changing or removing the password, and deleting the account.
//!
//! Each states what it requires ([`Require`]); the pages that lead to them
//! declare `Access::RecentAuthentication` in the route table, which the
//! server enforces with a 303 to `/account/confirm` before rendering. Like
//! the sign-in form, every form here works without JavaScript: errors then
//! come back as a redirect with an `error` code ([`Reply`]).

use leptos::prelude::*;

use crate::error::AppError;

pub use crate::paths::CONFIRM as CONFIRM_PATH;

/// Whether this session proved a credential recently enough for a
/// sensitive action (the client-side half of
/// `Access::RecentAuthentication`).
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn reauth_status() -> Result<bool, AppError> {
    Reply::json("reauth_status")
        .run(async {
            let signed = Require::session().check()?;
            Ok(signed.ctx.auth.is_recent(&signed.auth.session))
        })
        .await
}

/// What the password page needs to know of the account and session.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PasswordStatus {
    /// Whether the account has a password (one made with a passkey has
    /// none until its owner sets one).
    pub has_password: bool,
    /// Whether the account has a passkey (then its password can go).
    pub has_passkey: bool,
    /// Whether this session proved a credential within itself lately (a
    /// confirmation): it then stands in for the current password.
    pub confirmed: bool,
}

/// The account's password state, for the password page.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn password_state() -> Result<PasswordStatus, AppError> {
    Reply::json("password_state")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let (password, passkeys) = futures::future::join(
                ctx.auth.has_password(&auth.user),
                ctx.auth.passkeys(auth.user.id),
            )
            .await;
            Ok(PasswordStatus {
                has_password: password?,
                has_passkey: !passkeys?.is_empty(),
                confirmed: ctx.auth.is_confirmed(&auth.session),
            })
        })
        .await
}

/// Confirms the signed-in user's password, then goes to `next` if given
/// (the confirmation page) or stays (the prompt of a hydrated page, which
/// then retries its action).
///
/// # Errors
/// [`AppError::WrongPassword`], [`AppError::TooManyAttempts`] while the
/// account's failures lock it, or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn confirm_password(
    /// The account's password.
    password: String,
    /// Where to go once confirmed (a local path).
    next: Option<String>,
) -> Result<(), AppError> {
    let reply = Reply::form("confirm_password", CONFIRM_PATH);
    // A plain form post always goes on (to the dashboard without `next`).
    let reply = match next.as_deref() {
        Some(next) => reply.then(Some(next)),
        None => reply.then_reload(crate::redirect::DEFAULT_NEXT),
    };
    reply.run(confirm_with(&password)).await.map(drop)
}

/// Confirms the signed-in user's password (see [`confirm_password`]), and
/// returns the request's session, now recently authenticated. A wrong one
/// counts against the account's brute-force limit.
///
/// # Errors
/// As [`confirm_password`].
#[cfg(feature = "ssr")]
pub(crate) async fn confirm_with(password: &str) -> Result<engine::Authenticated, AppError> {
    let Signed { auth, .. } = Require::session().check()?;
    let attempt = Require::credential_attempt(&auth.user.username)
        .check()
        .await?;
    let client = session::client_info();
    match attempt.ctx.auth.confirm(&auth, password, &client).await {
        Ok(()) => Ok(auth),
        Err(engine::Error::InvalidCredentials) => {
            attempt.count_failure(&auth.user.username).await;
            Err(AppError::WrongPassword)
        }
        Err(err) => Err(err.into()),
    }
}

/// Sets a new password: every other device is signed out, and this
/// browser gets a new session (the old cookie stops working). The proof is
/// the current password, or a confirmation in this session (a passkey's
/// stands in for the password; a passkey-only account sets its first
/// password that way).
///
/// # Errors
/// [`AppError::ReauthRequired`] past the re-authentication window, or
/// without the current password and a confirmation,
/// [`AppError::WrongPassword`], [`AppError::InvalidPassword`] or
/// [`AppError::WeakPassword`], or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn change_password(
    /// The password now; a passkey-only account has none.
    current_password: Option<String>,
    /// The password wanted.
    new_password: String,
) -> Result<(), AppError> {
    Reply::form("change_password", PASSWORD)
        .then(Some("/account/password?changed=1"))
        .run(async {
            let Signed { auth, .. } = Require::recent().check()?;
            let name = &auth.user.username;
            let attempt = Require::credential_attempt(name).check().await?;
            let client = session::client_info();
            let changed = attempt
                .ctx
                .auth
                .change_password(&auth, current_password.as_deref(), &new_password, client)
                .await;
            match changed {
                Ok(new) => {
                    replace_session(&attempt.ctx, &new);
                    Ok(())
                }
                Err(engine::Error::InvalidCredentials) => {
                    attempt.count_failure(name).await;
                    Err(AppError::WrongPassword)
                }
                Err(err) => Err(err.into()),
            }
        })
        .await
}

/// Removes the password of an account that keeps a passkey, after a
/// recent authentication.
///
/// # Errors
/// [`AppError::ReauthRequired`] past the window, [`AppError::NotFound`]
/// without a password, [`AppError::LastCredential`] without a passkey, or
/// an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn remove_password() -> Result<(), AppError> {
    Reply::form("remove_password", PASSWORD)
        .then(Some("/account/password?removed=1"))
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            let client = session::client_info();
            Ok(ctx.auth.remove_password(&auth, &client).await?)
        })
        .await
}

/// Deletes the account, once the user has typed their user name: all of
/// their sessions end, everything stored of them is deleted, and this
/// browser's cookies are cleared (the device cookie too).
///
/// # Errors
/// [`AppError::ReauthRequired`] past the re-authentication window,
/// [`AppError::ConfirmationMismatch`] for another name, or an unavailable
/// store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn delete_account(
    /// The account's name, typed again to say it is meant.
    username: String,
) -> Result<(), AppError> {
    Reply::form("delete_account", "/account/delete")
        .then(Some("/login?deleted=1"))
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            if username.trim().to_ascii_lowercase() != auth.user.username {
                return Err(AppError::ConfirmationMismatch);
            }
            ctx.auth.delete_account(&auth).await?;
            session::clear_session_cookies(&ctx.cookies);
            session::set_cookie(&ctx.cookies.device_removal());
            Ok(())
        })
        .await
}

#[cfg(feature = "ssr")]
use super::{
    completion::replace_session,
    reply::Reply,
    require::{Require, Signed},
};
#[cfg(feature = "ssr")]
use crate::paths::PASSWORD;
#[cfg(feature = "ssr")]
use crate::session;
