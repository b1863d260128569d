//! Signing in with a link or a code sent by email: asking for them, and
//! using either. Both are bound to the browser that asked, by a cookie
//! this layer sets when it asks (`engine::Auth::request_sign_in_link`).
//! Every form works without JavaScript.

use leptos::prelude::*;

use crate::error::AppError;

/// Mails a sign-in link and code to the address if an account has
/// confirmed it; the answer is the same for every address.
///
/// # Errors
/// [`AppError::InvalidEmail`], [`AppError::TooManyAttempts`]; never
/// whether an account exists.
#[server(client = crate::csrf::CsrfClient)]
pub async fn request_sign_in_link(
    /// The address the account confirmed.
    email: String,
) -> Result<(), AppError> {
    Reply::form("request_sign_in_link", MAILED_SIGN_IN)
        .then(Some(SENT))
        .run(async {
            let ctx = Require::link_holder().check().await?;
            // This browser's binding: the one it has, or a new one.
            let name = ctx.cookies.sign_in_name();
            let binding = session::request_cookie(name)
                .filter(|value| engine::SessionToken::parse(value).is_some())
                .unwrap_or_else(|| engine::SessionToken::generate().expose().to_owned());
            session::set_cookie(&ctx.cookies.sign_in_cookie(&binding));
            ctx.auth
                .request_sign_in_link(&email, &binding, session::client_info())?;
            Ok(())
        })
        .await
}

/// Signs in with the mailed link, in the browser that asked for it.
///
/// # Errors
/// [`AppError::OtherBrowser`] in another browser, [`AppError::LinkRejected`]
/// for a link that does not work (any more), [`AppError::TooManyAttempts`],
/// or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn sign_in_with_link(
    /// The token from the link.
    token: String,
) -> Result<(), AppError> {
    Reply::form("sign_in_with_link", LINK_SIGN_IN)
        .then(Some(crate::redirect::DEFAULT_NEXT))
        .keep("token", &token)
        .run(async {
            let ctx = Require::link_holder().check().await?;
            let binding = session::request_cookie(ctx.cookies.sign_in_name());
            let new = ctx
                .auth
                .sign_in_with_link(&token, binding.as_deref(), session::client_info())
                .await?;
            finish(&ctx, &new);
            Ok(())
        })
        .await
}

/// Signs in with the mailed code, in the browser that asked for it.
///
/// # Errors
/// [`AppError::LinkRejected`] for a wrong, used or expired code (five
/// wrong ones end it), [`AppError::TooManyAttempts`], or an unavailable
/// store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn sign_in_with_code(
    /// The six digits from the message.
    code: String,
) -> Result<(), AppError> {
    Reply::form("sign_in_with_code", MAILED_SIGN_IN)
        .then(Some(crate::redirect::DEFAULT_NEXT))
        // Back to the code form, not the address form.
        .keep("sent", "1")
        .run(async {
            let ctx = Require::link_holder().check().await?;
            let binding = session::request_cookie(ctx.cookies.sign_in_name());
            let new = ctx
                .auth
                .sign_in_with_code(&code, binding.as_deref(), session::client_info())
                .await?;
            finish(&ctx, &new);
            Ok(())
        })
        .await
}

/// Completes the sign-in, and forgets this browser's binding (used).
#[cfg(feature = "ssr")]
fn finish(ctx: &super::context::ServerContext, new: &engine::NewSession) {
    complete_sign_in(ctx, new);
    session::set_cookie(&ctx.cookies.sign_in_removal());
}

#[cfg(feature = "ssr")]
use super::{completion::complete_sign_in, reply::Reply, require::Require};
#[cfg(feature = "ssr")]
use crate::{
    paths::{LINK_SIGN_IN, MAILED_SIGN_IN},
    session,
};

/// Where asking leads: the code form.
#[cfg(feature = "ssr")]
const SENT: &str = "/login/email?sent=1";
