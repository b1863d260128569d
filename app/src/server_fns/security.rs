//! Sensitive account actions: confirming the password (re-authentication),
//! setting, changing or removing it, and deleting the account.
//!
//! Each action that needs a recent authentication checks it itself
//! ([`require_recent`]); the pages that lead to them declare
//! `Access::RecentAuthentication` in the route table, which the server
//! enforces with a 303 to `/account/confirm` before rendering. Like the
//! sign-in form, every form here works without JavaScript: errors then come
//! back as a redirect with an `error` code.

use leptos::prelude::*;

use crate::error::AppError;

/// Where the password is confirmed; `?next=` says where to go afterwards.
pub const CONFIRM_PATH: &str = "/account/confirm";

/// Whether this session proved a credential recently enough for a
/// sensitive action (the client-side half of
/// `Access::RecentAuthentication`).
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn reauth_status() -> Result<bool, AppError> {
    let auth = session::require().inspect_err(session::set_error_status)?;
    Ok(ctx()?.auth.is_recent(&auth.session))
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
    let auth = session::require().inspect_err(session::set_error_status)?;
    let engine = &ctx()?.auth;
    let (password, passkeys) = futures::future::join(
        engine.has_password(&auth.user),
        engine.passkeys(auth.user.id),
    )
    .await;
    Ok(PasswordStatus {
        has_password: password.map_err(AppError::from)?,
        has_passkey: !passkeys.map_err(AppError::from)?.is_empty(),
        confirmed: engine.is_confirmed(&auth.session),
    })
}

/// Confirms the signed-in user's password, then goes to `next` if given
/// (the confirmation page) or stays (the prompt of a hydrated page, which
/// then retries its action).
///
/// # Errors
/// [`AppError::WrongPassword`], [`AppError::TooManyAttempts`] while the
/// account's failures lock it, or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn confirm_password(password: String, next: Option<String>) -> Result<(), AppError> {
    let form = ssr::Form::new(CONFIRM_PATH, next.as_deref());
    // A plain form post always goes on (to the dashboard without `next`).
    let navigate = next.is_some() || session::is_plain_form_post();
    form.finish(confirm_with(&password).await.map(drop), navigate)
}

/// Confirms the signed-in user's password (see [`confirm_password`]), and
/// returns the request's session, now recently authenticated. A wrong one
/// counts against the account's brute-force limit.
///
/// # Errors
/// As [`confirm_password`].
#[cfg(feature = "ssr")]
pub async fn confirm_with(password: &str) -> Result<engine::Authenticated, AppError> {
    let auth = session::require()?;
    let admitted = ssr::admitted(&auth).await?;
    let client = session::client_info();
    match admitted.ctx.auth.confirm(&auth, password, &client).await {
        Ok(()) => Ok(auth),
        Err(engine::Error::InvalidCredentials) => {
            Err(super::auth::ssr::wrong_password(&admitted, &auth).await)
        }
        Err(err) => Err(AppError::from(err)),
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
    current_password: Option<String>,
    new_password: String,
) -> Result<(), AppError> {
    let form = ssr::Form::new("/account/password", Some("/account/password?changed=1"));
    let result = async {
        let auth = require_recent()?;
        let admitted = ssr::admitted(&auth).await?;
        let ctx = &admitted.ctx;
        let client = session::client_info();
        let changed = ctx
            .auth
            .change_password(&auth, current_password.as_deref(), &new_password, client)
            .await;
        match changed {
            Ok(new) => {
                let persist = new.auth.session.persistent;
                super::auth::ssr::set_session_cookies(ctx, &new, persist);
                super::auth::ssr::renew_device_cookie(
                    ctx,
                    new.auth.user.id,
                    new.credentials_version,
                );
                session::record_change(session::SessionChange::SignedIn);
                Ok(())
            }
            Err(engine::Error::InvalidCredentials) => {
                Err(super::auth::ssr::wrong_password(&admitted, &auth).await)
            }
            Err(err) => Err(AppError::from(err)),
        }
    };
    form.finish(result.await, true)
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
    let form = ssr::Form::new("/account/password", Some("/account/password?removed=1"));
    let result = async {
        let auth = require_recent()?;
        let client = session::client_info();
        ctx()?
            .auth
            .remove_password(&auth, &client)
            .await
            .map_err(AppError::from)
    };
    form.finish(result.await, true)
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
pub async fn delete_account(username: String) -> Result<(), AppError> {
    let form = ssr::Form::new("/account/delete", Some("/login?deleted=1"));
    let result = async {
        let auth = require_recent()?;
        if username.trim().to_ascii_lowercase() != auth.user.username {
            return Err(AppError::ConfirmationMismatch);
        }
        let ctx = ctx()?;
        ctx.auth
            .delete_account(&auth)
            .await
            .map_err(AppError::from)?;
        session::clear_session_cookies(&ctx.cookies);
        session::set_cookie(&ctx.cookies.device_removal());
        Ok(())
    };
    form.finish(result.await, true)
}

/// The request's session, if its user proved a credential recently enough
/// for a sensitive action.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session, [`AppError::ReauthRequired`]
/// past the window.
#[cfg(feature = "ssr")]
pub fn require_recent() -> Result<engine::Authenticated, AppError> {
    let auth = session::require()?;
    if ctx()?.auth.is_recent(&auth.session) {
        Ok(auth)
    } else {
        Err(AppError::ReauthRequired)
    }
}

#[cfg(feature = "ssr")]
use super::context::ctx;
#[cfg(feature = "ssr")]
use crate::session;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::{session, CONFIRM_PATH};
    use crate::{error::AppError, redirect::safe_next, server_fns::auth::ssr as sign_in};

    /// The context, once this attempt at the user's password is within the
    /// brute-force limits (as a sign-in attempt for the same account).
    pub async fn admitted(auth: &engine::Authenticated) -> Result<sign_in::Admitted, AppError> {
        let device = sign_in::device_cookie();
        sign_in::admit(&auth.user.username, device.as_deref()).await
    }

    /// How a form's outcome is answered: the page it was posted from, and
    /// where success goes.
    pub struct Form<'a> {
        page: &'a str,
        success: String,
    }

    impl<'a> Form<'a> {
        pub fn new(page: &'a str, success: Option<&str>) -> Self {
            Self {
                page,
                success: safe_next(success),
            }
        }

        /// On success, go to the success page (when `navigate`); on failure,
        /// answer the way the caller can show it: a plain form post is
        /// redirected back to its page with the error's code (or, when the
        /// password must be confirmed first, to the confirmation page,
        /// which returns to this one), a hydrated page gets the typed error
        /// with its status.
        pub fn finish(&self, result: Result<(), AppError>, navigate: bool) -> Result<(), AppError> {
            match &result {
                Ok(()) if navigate => leptos_axum::redirect(&self.success),
                Ok(()) => {}
                Err(err) if session::is_plain_form_post() => {
                    let back = match err {
                        AppError::ReauthRequired => {
                            format!("{CONFIRM_PATH}?next={}", encode(self.page))
                        }
                        AppError::Unauthorized => format!("/login?next={}", encode(self.page)),
                        err => {
                            let next = encode(&self.success);
                            format!("{}?error={}&next={next}", self.page, err.code())
                        }
                    };
                    leptos_axum::redirect(&back);
                }
                Err(err) => session::set_error_status(err),
            }
            result
        }
    }

    fn encode(path: &str) -> String {
        percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC).to_string()
    }
}
