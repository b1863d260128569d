//! The end of every sign-in, whatever proved it (a password, a passkey, a
//! mailed link or code, a sign-in provider):
//! the session the browser came with is dropped, the new session's cookies
//! are set (its token, its first refresh token, a CSRF token bound to it,
//! and this browser's device token renewed for the account), the session
//! layer is told, and the answer is kept out of caches.
//!
//! A password change and "sign out everywhere" renew the device token too:
//! they moved the account's credentials version, which ended every device
//! token issued before.

use super::{context::ServerContext, require::device_cookie};
use crate::session;

/// Completes a sign-in (or sign-up) with its new session `new` (its
/// cookies persistent when it is a remember-me session).
pub fn complete_sign_in(ctx: &ServerContext, new: &engine::NewSession) {
    complete_sign_in_carrying(ctx, new, None);
}

/// [`complete_sign_in`] for a request that comes back from another site
/// (a provider's redirect), which the `SameSite=Strict` device cookie does
/// not come with: `device` is the one the browser had when it left.
pub fn complete_sign_in_carrying(
    ctx: &ServerContext,
    new: &engine::NewSession,
    device: Option<&str>,
) {
    if let Some(previous) = session::current() {
        // Fire-and-forget: the old session must not outlive the new one,
        // but a failure here must not fail the sign-in.
        let auth = ctx.auth.clone();
        let client = session::client_info();
        leptos::task::spawn(async move {
            if let Err(err) = auth.logout(&previous, &client).await {
                tracing::warn!(error = %err, "could not end the previous session");
            }
        });
    }
    set_session_cookies(ctx, new, device);
    session::set_header(http::header::CACHE_CONTROL, "no-store");
}

/// Sets the cookies of `new`, a session that replaces this browser's (a
/// sign-in, or a password change): its token, its first refresh token, a
/// CSRF token bound to it (the previous one no longer verifies), persistent
/// until the session's end when it is a remember-me one; renews the
/// device token; tells the session layer.
pub fn replace_session(ctx: &ServerContext, new: &engine::NewSession) {
    set_session_cookies(ctx, new, None);
}

/// [`replace_session`], renewing the device cookie from `carried` when the
/// request came without one.
fn set_session_cookies(ctx: &ServerContext, new: &engine::NewSession, carried: Option<&str>) {
    let persist = new
        .auth
        .session
        .persistent
        .then_some(new.auth.session.expires_at);
    session::set_cookie(&ctx.cookies.session_cookie(new.token.expose(), persist));
    session::set_cookie(&ctx.cookies.refresh_cookie(new.refresh.expose(), persist));
    let csrf = ctx.csrf.issue(engine::csrf::Binding::Session(&new.token));
    session::set_cookie(&ctx.cookies.csrf_cookie(&csrf, persist));
    let held = device_cookie(ctx).or_else(|| carried.map(str::to_owned));
    renew_device_cookie_from(
        ctx,
        new.auth.user.id,
        new.credentials_version,
        held.as_deref(),
    );
    session::record_change(session::SessionChange::SignedIn);
}

/// This browser's device cookie, with a new token for `user` at
/// credentials `version` first, then the tokens it held for other accounts.
pub fn renew_device_cookie(ctx: &ServerContext, user: engine::UserId, version: i64) {
    renew_device_cookie_from(ctx, user, version, device_cookie(ctx).as_deref());
}

fn renew_device_cookie_from(
    ctx: &ServerContext,
    user: engine::UserId,
    version: i64,
    held: Option<&str>,
) {
    let value = ctx.device.remember(user, version, ctx.auth.now(), held);
    session::set_cookie(&ctx.cookies.device_cookie(&value));
}
