//! Getting an account back by email: asking for a reset link, and setting
//! a new password from it.
//!
//! The request's answer is the same for every well-formed address (the
//! lookup runs after it, `engine::Auth::request_password_reset`). The
//! reset needs only the link: it ends every session of the account and
//! signs this browser in. Both forms work without JavaScript.

use leptos::prelude::*;

use crate::error::AppError;

/// Mails a reset link to the address if an account has confirmed it.
///
/// # Errors
/// [`AppError::InvalidEmail`] for what is not an address,
/// [`AppError::TooManyAttempts`] past the caller's budget; never whether
/// an account exists.
#[server(client = crate::csrf::CsrfClient)]
pub async fn request_password_reset(
    /// The address the account confirmed.
    email: String,
) -> Result<(), AppError> {
    Reply::form("request_password_reset", FORGOT_PASSWORD)
        .then(Some(REQUESTED))
        .run(async {
            let ctx = Require::link_holder().check().await?;
            ctx.auth
                .request_password_reset(&email, session::client_info())?;
            Ok(())
        })
        .await
}

/// Sets a new password from a reset link: every session of the account
/// ends, and this browser is signed in with a new one.
///
/// # Errors
/// [`AppError::LinkRejected`] for a link that does not work (any more),
/// [`AppError::InvalidPassword`] or [`AppError::WeakPassword`] (the link
/// still works), [`AppError::TooManyAttempts`], or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn reset_password(
    /// The token from the link.
    token: String,
    /// The password wanted.
    new_password: String,
) -> Result<(), AppError> {
    Reply::form("reset_password", RESET_PASSWORD)
        .then(Some(DONE))
        .keep("token", &token)
        .run(async {
            let ctx = Require::link_holder().check().await?;
            let new = ctx
                .auth
                .reset_password(&token, &new_password, session::client_info())
                .await?;
            complete_sign_in(&ctx, &new);
            Ok(())
        })
        .await
}

#[cfg(feature = "ssr")]
use super::{completion::complete_sign_in, reply::Reply, require::Require};
#[cfg(feature = "ssr")]
use crate::{
    paths::{FORGOT_PASSWORD, RESET_PASSWORD},
    session,
};

/// Where asking leads, whatever the address.
#[cfg(feature = "ssr")]
const REQUESTED: &str = "/forgot-password?sent=1";

/// Where a reset leads: signed in, with the news.
#[cfg(feature = "ssr")]
const DONE: &str = "/dashboard?reset=1";
