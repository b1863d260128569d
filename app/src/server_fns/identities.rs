//! "Sign in with …": starting a sign-in with an OpenID Connect provider,
//! its callback, and the account's linked identities (link, unlink,
//! confirm with one). Every step is a link or a plain form followed by
//! redirects: none needs JavaScript.
//!
//! | function | method, path | requires |
//! |---|---|---|
//! | [`start_identity_sign_in`] | GET `/auth/oidc/start?provider=` | the address's budget |
//! | [`identity_callback`] | GET `/auth/oidc/{provider}/callback` (the server maps it here) | the address's budget |
//! | [`link_identity`] | POST form | a recent credential proof |
//! | [`confirm_with_identity`] | POST form | a session |
//! | [`unlink_identity`] | POST form | a recent credential proof |
//!
//! The flow is bound to the browser that started it by an `HttpOnly`,
//! `SameSite=Lax` cookie; the engine keeps its `state`, `nonce` and PKCE
//! verifier under the cookie's hash, once (`engine::oidc`).

use leptos::{prelude::*, server_fn::codec::GetUrl};
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// Where the callback server function answers; the server maps each
/// provider's own callback path (`/auth/oidc/{provider}/callback`) here.
pub const CALLBACK_PATH: &str = "/auth/oidc/callback";

/// A provider one can sign in with.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderButton {
    /// Its id, for the start link.
    pub id: String,
    /// What the button names.
    pub name: String,
}

impl ProviderButton {
    /// The link that starts a sign-in with it, then goes to `next`.
    #[must_use]
    pub fn start_url(&self, next: &str) -> String {
        use crate::redirect::encoded;
        let mut url = format!("/auth/oidc/start?provider={}", encoded(&self.id));
        if !next.is_empty() {
            url.push_str("&next=");
            url.push_str(&encoded(next));
        }
        url
    }
}

/// One linked identity, as the account page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityView {
    /// The configured provider's name, or its issuer if it is no longer
    /// configured.
    pub provider: String,
    /// The configured provider's id (`None` if it is no longer configured).
    pub provider_id: Option<String>,
    /// The issuer, for the unlink form.
    pub issuer: String,
    /// The subject, for the unlink form.
    pub subject: String,
    /// What the provider called the person.
    pub label: String,
    /// Unix seconds.
    pub created_at: i64,
}

/// The account page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentitiesPage {
    /// The linked identities, oldest first.
    pub linked: Vec<IdentityView>,
    /// Every configured provider (one may be linked more than once, with
    /// different accounts there).
    pub providers: Vec<ProviderButton>,
}

/// The providers one can sign in with (none when none is configured), for
/// the pages the server renders: read from the configuration in place,
/// with no server function and no `Suspense` to wait for it.
#[cfg(feature = "ssr")]
#[must_use]
pub fn sign_in_providers() -> Vec<ProviderButton> {
    super::context::ctx()
        .map(|ctx| buttons(&ctx))
        .unwrap_or_default()
}

/// Starts a sign-in with `provider`: sets this browser's flow cookie and
/// sends it to the provider.
///
/// # Errors
/// [`AppError::IdentityFailed`] for an unknown provider,
/// [`AppError::ProviderUnavailable`], [`AppError::TooManyAttempts`].
#[server(prefix = "/auth/oidc", endpoint = "start", input = GetUrl)]
pub async fn start_identity_sign_in(
    /// The provider's id.
    provider: String,
    /// Where to go once signed in.
    next: Option<String>,
    /// "on" to stay signed in.
    remember: Option<String>,
) -> Result<(), AppError> {
    Reply::form("start_identity_sign_in", LOGIN)
        .run(async {
            let ctx = Require::link_holder().check().await?;
            let intent = engine::oidc::Intent::SignIn {
                remember: remember.is_some_and(|v| v == "on" || v == "true"),
            };
            start(&ctx, &provider, intent, next).await
        })
        .await
}

/// Where a provider sends the browser back: finishes the flow this
/// browser started (a sign-in, a link or a confirmation) and goes on.
///
/// # Errors
/// [`AppError::IdentityFailed`] for anything that does not verify,
/// [`AppError::IdentityDeclined`], [`AppError::IdentityTaken`],
/// [`AppError::IdentityAddressInUse`], [`AppError::IdentityNotLinked`],
/// [`AppError::ProviderUnavailable`], [`AppError::TooManyAttempts`].
#[server(prefix = "/auth/oidc", endpoint = "callback", input = GetUrl)]
pub async fn identity_callback(
    /// The provider whose callback path this came to.
    provider: String,
    /// The authorization code.
    code: Option<String>,
    /// The flow's `state`.
    state: Option<String>,
    /// The provider's error code instead of a code.
    error: Option<String>,
) -> Result<(), AppError> {
    // A failure goes back to where the flow began: the sign-in page, or
    // the account's providers when signed in (a link or confirmation).
    let page = if session::current().is_some() {
        PROVIDERS
    } else {
        LOGIN
    };
    Reply::form("identity_callback", page)
        .run(async {
            let ctx = Require::link_holder().check().await?;
            let flow = session::request_cookie(ctx.cookies.flow_name());
            // Used up, whatever happens next.
            session::set_cookie(&ctx.cookies.flow_removal());
            let current = session::current();
            let callback = engine::oidc::Callback { code, state, error };
            let finished = ctx
                .auth
                .identity_finish(
                    &provider,
                    flow.as_deref(),
                    &callback,
                    current.as_ref(),
                    session::client_info(),
                    &ctx.device,
                )
                .await?;
            let next = finished.next.as_deref();
            let target = match &finished.outcome {
                engine::auth::IdentityOutcome::SignedIn {
                    session: new,
                    created,
                } => {
                    complete_sign_in_carrying(&ctx, new, finished.device.as_deref());
                    if *created {
                        crate::redirect::DEFAULT_NEXT.to_owned()
                    } else {
                        safe_next(next)
                    }
                }
                engine::auth::IdentityOutcome::Linked => format!("{PROVIDERS}?linked=1"),
                engine::auth::IdentityOutcome::Confirmed => safe_next(next),
            };
            leptos_axum::redirect(&target);
            Ok(())
        })
        .await
}

/// Links an identity at `provider` to the signed-in account: sends the
/// browser to the provider, back to the account's providers.
///
/// # Errors
/// [`AppError::ReauthRequired`] without a recent credential proof,
/// [`AppError::NotFound`], [`AppError::ProviderUnavailable`].
#[server(client = crate::csrf::CsrfClient)]
pub async fn link_identity(
    /// The provider's id.
    provider: String,
) -> Result<(), AppError> {
    Reply::form("link_identity", PROVIDERS)
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            let intent = engine::oidc::Intent::Link {
                session: auth.session.id.to_string(),
            };
            start(&ctx, &provider, intent, None).await
        })
        .await
}

/// Proves the signed-in person again with a linked identity at `provider`
/// (the provider is asked to sign them in again), then goes to `next`.
///
/// # Errors
/// [`AppError::Unauthorized`], [`AppError::NotFound`],
/// [`AppError::ProviderUnavailable`].
#[server(client = crate::csrf::CsrfClient)]
pub async fn confirm_with_identity(
    /// The provider's id.
    provider: String,
    /// Where to go once confirmed.
    next: Option<String>,
) -> Result<(), AppError> {
    Reply::form("confirm_with_identity", CONFIRM)
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let intent = engine::oidc::Intent::Confirm {
                session: auth.session.id.to_string(),
            };
            start(&ctx, &provider, intent, next).await
        })
        .await
}

/// Unlinks an identity from the signed-in account, unless it is the
/// account's last way to sign in.
///
/// # Errors
/// [`AppError::ReauthRequired`], [`AppError::IdentityNotLinked`],
/// [`AppError::LastCredential`].
#[server(client = crate::csrf::CsrfClient)]
pub async fn unlink_identity(
    /// The identity's issuer.
    issuer: String,
    /// The identity's subject.
    subject: String,
) -> Result<(), AppError> {
    Reply::form("unlink_identity", PROVIDERS)
        .then_reload(&format!("{PROVIDERS}?unlinked=1"))
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            match ctx
                .auth
                .unlink_identity(&auth, &issuer, &subject, &session::client_info())
                .await
            {
                Err(engine::Error::NotFound) => Err(AppError::IdentityNotLinked),
                other => Ok(other?),
            }
        })
        .await
}

/// The account's identities and the configured providers.
///
/// # Errors
/// [`AppError::Unauthorized`], or an unavailable store.
#[server]
pub async fn list_identities() -> Result<IdentitiesPage, AppError> {
    Reply::json("list_identities")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let providers = ctx.auth.identity_providers();
            let linked = ctx
                .auth
                .identities(auth.user.id)
                .await?
                .into_iter()
                .map(|i| {
                    let configured = providers.of_issuer(&i.issuer);
                    IdentityView {
                        provider: configured
                            .map_or(i.issuer.as_str(), |(_, name)| name)
                            .to_owned(),
                        provider_id: configured.map(|(id, _)| id.to_owned()),
                        label: i.label,
                        created_at: i.created_at.unix_timestamp(),
                        issuer: i.issuer,
                        subject: i.subject,
                    }
                })
                .collect();
            Ok(IdentitiesPage {
                linked,
                providers: buttons(&ctx),
            })
        })
        .await
}

#[cfg(feature = "ssr")]
use super::{
    completion::complete_sign_in_carrying,
    context::ServerContext,
    reply::Reply,
    require::{device_cookie, Require, Signed},
};
#[cfg(feature = "ssr")]
use crate::{
    paths::{CONFIRM, LOGIN, PROVIDERS},
    redirect::safe_next,
    session,
};

/// The configured providers as buttons.
#[cfg(feature = "ssr")]
fn buttons(ctx: &ServerContext) -> Vec<ProviderButton> {
    ctx.auth
        .identity_providers()
        .listed()
        .into_iter()
        .map(|(id, name)| ProviderButton { id, name })
        .collect()
}

/// Starts a flow for `intent`: this browser's flow cookie, and a redirect
/// to the provider.
#[cfg(feature = "ssr")]
async fn start(
    ctx: &ServerContext,
    provider: &str,
    intent: engine::oidc::Intent,
    next: Option<String>,
) -> Result<(), AppError> {
    let next = next.filter(|n| !n.is_empty()).map(|n| safe_next(Some(&n)));
    let (token, url) = ctx
        .auth
        .identity_start(provider, intent, next, device_cookie(ctx))
        .await
        .map_err(|err| match err {
            // No such provider (a stale link, or none configured).
            engine::Error::NotFound => AppError::IdentityFailed,
            err => err.into(),
        })?;
    session::set_cookie(&ctx.cookies.flow_cookie(token.expose()));
    leptos_axum::redirect(&url);
    Ok(())
}
