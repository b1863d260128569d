//! The account's email address: its state, setting it, sending its link
//! again, and verifying it from the link.
//!
//! Setting an address needs a recent credential proof (it is how the
//! account will be recovered). Verifying needs only the link: it may be
//! opened on another device, signed in or not. The link's page posts the
//! token (a mail scanner's GET changes nothing). Every form works without
//! JavaScript.

use leptos::prelude::*;

use crate::error::AppError;

/// The account's address, for the email page.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct EmailStatus {
    /// The address as typed; `None` if the account has none.
    pub address: Option<String>,
    /// Whether its owner has confirmed it from the link.
    pub verified: bool,
    /// The address a change waits to confirm (the confirmed one stays
    /// until then).
    pub pending: Option<String>,
}

/// The account's address and whether it is verified.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn email_state() -> Result<EmailStatus, AppError> {
    Reply::json("email_state")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let (email, pending) =
                futures::future::join(ctx.auth.email(&auth), ctx.auth.pending_email(&auth)).await;
            let email = email?;
            Ok(EmailStatus {
                verified: email.as_ref().is_some_and(|e| e.verified_at.is_some()),
                address: email.map(|e| e.address.to_string()),
                pending: pending?.map(|p| p.to_string()),
            })
        })
        .await
}

/// Sets the account's address (unverified) and mails it a link.
///
/// # Errors
/// [`AppError::ReauthRequired`] past the re-authentication window,
/// [`AppError::InvalidEmail`], [`AppError::TooManyMails`], or an
/// unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn set_email(
    /// The address wanted.
    email: String,
) -> Result<(), AppError> {
    Reply::form("set_email", EMAIL)
        .then(Some(SENT))
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            ctx.auth
                .set_email(&auth, &email, &session::client_info())
                .await?;
            Ok(())
        })
        .await
}

/// Mails the account's unverified address a new link.
///
/// # Errors
/// [`AppError::NotFound`] with nothing to verify,
/// [`AppError::TooManyMails`], or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn resend_verification() -> Result<(), AppError> {
    Reply::form("resend_verification", EMAIL)
        .then(Some(SENT))
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            if ctx.auth.resend_verification(&auth).await? {
                Ok(())
            } else {
                Err(AppError::NotFound)
            }
        })
        .await
}

/// Verifies the waiting address with the code mailed with its link, typed
/// in this session (the link opened on another device, say).
///
/// # Errors
/// [`AppError::LinkRejected`] for a wrong, used or expired code (five
/// wrong ones end it), [`AppError::EmailTaken`], or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn verify_email_code(
    /// The six digits from the message.
    code: String,
) -> Result<(), AppError> {
    Reply::form("verify_email_code", EMAIL)
        .then(Some(CONFIRMED))
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            ctx.auth
                .verify_email_code(&auth, &code, &session::client_info())
                .await?;
            Ok(())
        })
        .await
}

/// Puts back the address a change replaced, from the link mailed to it:
/// every device is signed out.
///
/// # Errors
/// [`AppError::LinkRejected`] for a link that does not work (any more),
/// [`AppError::EmailTaken`], [`AppError::TooManyAttempts`], or an
/// unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn revert_email(
    /// The token from the link.
    token: String,
) -> Result<(), AppError> {
    Reply::form("revert_email", REVERT_EMAIL)
        .then(Some(REVERTED))
        .run(async {
            let ctx = Require::link_holder().check().await?;
            ctx.auth
                .revert_email(&token, &session::client_info())
                .await?;
            // This browser's session, if any, ended with the others.
            session::clear_session_cookies(&ctx.cookies);
            Ok(())
        })
        .await
}

/// Verifies the address the link was mailed to.
///
/// # Errors
/// [`AppError::LinkRejected`] for a link that does not work (any more),
/// [`AppError::EmailTaken`] if another account verified the address
/// first, [`AppError::TooManyAttempts`] past the address's budget, or an
/// unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn verify_email(
    /// The token from the link.
    token: String,
) -> Result<(), AppError> {
    Reply::form("verify_email", VERIFY_EMAIL)
        .then(Some(VERIFIED))
        .run(async {
            let ctx = Require::link_holder().check().await?;
            ctx.auth
                .verify_email(&token, &session::client_info())
                .await?;
            Ok(())
        })
        .await
}

#[cfg(feature = "ssr")]
use super::{
    reply::Reply,
    require::{Require, Signed},
};
#[cfg(feature = "ssr")]
use crate::{
    paths::{EMAIL, REVERT_EMAIL, VERIFY_EMAIL},
    session,
};

/// Where setting or resending leads: the email page, saying a link went.
#[cfg(feature = "ssr")]
const SENT: &str = "/account/email?sent=1";

/// Where a code typed on the email page leads.
#[cfg(feature = "ssr")]
const CONFIRMED: &str = "/account/email?confirmed=1";

/// Where a verified link leads.
#[cfg(feature = "ssr")]
const VERIFIED: &str = "/verify-email?verified=1";

/// Where an undone change leads.
#[cfg(feature = "ssr")]
const REVERTED: &str = "/revert-email?reverted=1";
