//! Passkeys: the WebAuthn ceremonies under `/api/passkeys`, and the
//! account's list of passkeys.
//!
//! Each ceremony is two JSON calls, in WebAuthn's standard shapes as
//! `webauthn-rs` serialises them (binary fields base64url): `…/start`
//! answers `{"publicKey": …}` for `navigator.credentials`, and sets a
//! ceremony cookie (HttpOnly, `SameSite=Strict`, path `/api/passkeys`, five
//! minutes) naming the state the server keeps; `…/finish` takes the
//! browser's credential (its `toJSON()`) as `credential`. Like every POST,
//! they pass the CSRF layer. The credential stays opaque JSON in the
//! browser, so the WASM bundle carries none of WebAuthn's types.
//!
//! | call | needs | body of `finish` | answers |
//! |---|---|---|---|
//! | `register` | a credential confirmed in this session (at `start`) | `credential`, `name?` | 201, the passkey |
//! | `signup` | nothing (`start` takes `username`) | `credential`, `name?` | 200, where to go |
//! | `login` | nothing | `credential`, `remember?`, `next?` | 200, where to go |
//! | `confirm` | a session | `credential` | 200 |
//!
//! A sign-in or sign-up this way ends exactly as the password form's does
//! (`completion::complete_sign_in`), and a failed assertion counts against
//! the same limits as a wrong password.

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::AppError;

/// One passkey, as `/account/passkeys` lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PasskeyView {
    /// For the rename and remove forms.
    pub id: String,
    /// What its owner calls it.
    pub name: String,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds; `None` if never used to sign in or confirm.
    pub last_used_at: Option<i64>,
}

/// The account's passkeys, and whether it has a password besides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passkeys {
    /// Oldest first.
    pub passkeys: Vec<PasskeyView>,
    /// Whether the account has a password (if not, its last passkey
    /// cannot be removed).
    pub has_password: bool,
    /// The server's time (Unix seconds), for "added lately".
    pub now: i64,
    /// Whether this session may add one now (it confirmed a credential
    /// within itself lately); if not, adding asks for a confirmation first.
    pub can_add: bool,
}

/// Where a browser goes once signed in.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedIn {
    /// A local path.
    pub next: String,
}

/// Starts adding a passkey to the signed-in account. Adding a credential
/// needs one proved within this session (a confirmation), not only the
/// sign-in that began it.
///
/// # Errors
/// [`AppError::Unauthorized`], [`AppError::ReauthRequired`] without a
/// confirmation in the re-authentication window, or an unavailable store.
#[server(prefix = "/api/passkeys", endpoint = "register/start", input = Json, client = crate::csrf::CsrfClient)]
pub async fn register_start() -> Result<Value, AppError> {
    Reply::json("register_start")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let started = ctx.auth.passkey_registration_start(&auth).await?;
            ssr::started(&ctx, &started)
        })
        .await
}

/// Finishes adding a passkey; answers 201 with it.
///
/// # Errors
/// [`AppError::Unauthorized`], [`AppError::PasskeyFailed`] or
/// [`AppError::PasskeyTaken`].
#[server(prefix = "/api/passkeys", endpoint = "register/finish", input = Json, client = crate::csrf::CsrfClient)]
pub async fn register_finish(
    /// The browser's answer (`PublicKeyCredential.toJSON()`).
    credential: Value,
    /// What to call the passkey (else its authenticator's name).
    name: Option<String>,
) -> Result<PasskeyView, AppError> {
    Reply::json("register_finish")
        .run(async {
            // The confirmation was checked when the ceremony started (bound
            // to this account, for five minutes): a slow fingerprint must
            // not lose it.
            let Signed { ctx, auth } = Require::session().check()?;
            let token = ssr::take_ceremony(&ctx)?;
            let credential = ssr::parse(credential)?;
            let client = session::client_info();
            let name = ssr::name_or_device(name, &client);
            let record = ctx
                .auth
                .passkey_registration_finish(&auth, &token, &credential, Some(&name), &client)
                .await?;
            session::set_status(http::StatusCode::CREATED);
            Ok(ssr::view(&record))
        })
        .await
}

/// Starts creating an account with a passkey and no password.
///
/// # Errors
/// [`AppError::InvalidUsername`], [`AppError::UsernameTaken`],
/// [`AppError::TooManyAttempts`], or an unavailable store.
#[server(prefix = "/api/passkeys", endpoint = "signup/start", input = Json, client = crate::csrf::CsrfClient)]
pub async fn signup_start(
    /// The sign-in name asked for.
    username: String,
) -> Result<Value, AppError> {
    Reply::json("signup_start")
        .run(async {
            let attempt = Require::credential_attempt(&username).check().await?;
            let started = attempt.ctx.auth.passkey_sign_up_start(&username).await?;
            ssr::started(&attempt.ctx, &started)
        })
        .await
}

/// Finishes a passkey sign-up: the account exists and is signed in.
///
/// # Errors
/// [`AppError::PasskeyFailed`], [`AppError::UsernameTaken`] if the name
/// was taken meanwhile, or an unavailable store.
#[server(prefix = "/api/passkeys", endpoint = "signup/finish", input = Json, client = crate::csrf::CsrfClient)]
pub async fn signup_finish(
    /// The browser's answer (`PublicKeyCredential.toJSON()`).
    credential: Value,
    /// What to call the passkey.
    name: Option<String>,
    /// Where to go once signed up (a local path).
    next: Option<String>,
) -> Result<SignedIn, AppError> {
    Reply::json("signup_finish")
        .run(async {
            let ctx = Require::nothing().check()?;
            let token = ssr::take_ceremony(&ctx)?;
            let credential = ssr::parse(credential)?;
            let client = session::client_info();
            let name = ssr::name_or_device(name, &client);
            let new = ctx
                .auth
                .passkey_sign_up_finish(&token, &credential, Some(&name), client)
                .await?;
            Ok(ssr::signed_in(&ctx, &new, next.as_deref()))
        })
        .await
}

/// Starts a sign-in with a passkey the browser offers (no user name).
/// Stores nothing: the ceremony's signed state is its cookie. (Each start
/// counts against the address's budget of starts, at the server's gate;
/// the attempt counts against the account's at `finish`.)
///
/// # Errors
/// An encoding failure.
#[server(prefix = "/api/passkeys", endpoint = "login/start", input = Json, client = crate::csrf::CsrfClient)]
pub async fn login_start() -> Result<Value, AppError> {
    Reply::json("login_start")
        .run(async {
            let ctx = Require::nothing().check()?;
            let started = ctx.auth.passkey_sign_in_start()?;
            ssr::started(&ctx, &started)
        })
        .await
}

/// Finishes a passkey sign-in: a new session, as the password form makes.
///
/// # Errors
/// [`AppError::PasskeyFailed`] (counted as a wrong password),
/// [`AppError::TooManyAttempts`], or an unavailable store.
#[server(prefix = "/api/passkeys", endpoint = "login/finish", input = Json, client = crate::csrf::CsrfClient)]
pub async fn login_finish(
    /// The browser's answer (`PublicKeyCredential.toJSON()`).
    credential: Value,
    /// Keep this browser signed in after it closes.
    remember: Option<bool>,
    /// Where to go once signed in (a local path).
    next: Option<String>,
) -> Result<SignedIn, AppError> {
    Reply::json("login_finish")
        .run(async {
            let ctx = Require::nothing().check()?;
            let token = ssr::take_ceremony(&ctx)?;
            // The passkey and its account are read once, for the limits and
            // for the verification.
            let claim = ctx.auth.passkey_claim(ssr::parse(credential)?).await?;
            let username = claim.account().map(|user| user.username.as_str());
            // The account's lock when the credential names one, else the
            // address's budget alone.
            let attempt = match username {
                Some(name) => Require::credential_attempt(name).check().await?,
                None => Attempt::address_only().await?,
            };
            let client = session::client_info().with_known_device(attempt.known_device());
            let remember = remember.unwrap_or(false);
            match attempt
                .ctx
                .auth
                .passkey_sign_in_finish(&token, &claim, remember, client)
                .await
            {
                Ok(new) => Ok(ssr::signed_in(&attempt.ctx, &new, next.as_deref())),
                Err(err) => {
                    if let Some(name) = username {
                        attempt.count_failure(name).await;
                    }
                    Err(err.into())
                }
            }
        })
        .await
}

/// Starts confirming a sensitive action with a passkey.
///
/// # Errors
/// [`AppError::Unauthorized`], [`AppError::NoPasskey`] if the account has
/// none, or an unavailable store.
#[server(prefix = "/api/passkeys", endpoint = "confirm/start", input = Json, client = crate::csrf::CsrfClient)]
pub async fn confirm_start() -> Result<Value, AppError> {
    Reply::json("confirm_start")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            match ctx.auth.passkey_confirm_start(&auth).await {
                Ok(started) => ssr::started(&ctx, &started),
                Err(engine::Error::NotFound) => Err(AppError::NoPasskey),
                Err(err) => Err(err.into()),
            }
        })
        .await
}

/// Finishes a confirmation: the session counts as recently authenticated.
///
/// # Errors
/// [`AppError::PasskeyFailed`] (counted as a wrong password),
/// [`AppError::TooManyAttempts`] while the account is locked, or an
/// unavailable store.
#[server(prefix = "/api/passkeys", endpoint = "confirm/finish", input = Json, client = crate::csrf::CsrfClient)]
pub async fn confirm_finish(
    /// The browser's answer (`PublicKeyCredential.toJSON()`).
    credential: Value,
) -> Result<(), AppError> {
    Reply::json("confirm_finish")
        .run(async {
            let Signed { auth, .. } = Require::session().check()?;
            let name = &auth.user.username;
            let attempt = Require::credential_attempt(name).check().await?;
            let token = ssr::take_ceremony(&attempt.ctx)?;
            let credential = ssr::parse(credential)?;
            let client = session::client_info();
            match attempt
                .ctx
                .auth
                .passkey_confirm_finish(&auth, &token, &credential, &client)
                .await
            {
                Ok(()) => Ok(()),
                Err(err) => {
                    if matches!(err, engine::Error::PasskeyRejected) {
                        attempt.count_failure(name).await;
                    }
                    Err(err.into())
                }
            }
        })
        .await
}

/// The signed-in user's passkeys.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session, or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn list_passkeys() -> Result<Passkeys, AppError> {
    Reply::json("list_passkeys")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let (passkeys, has_password) = futures::future::join(
                ctx.auth.passkeys(auth.user.id),
                ctx.auth.has_password(&auth.user),
            )
            .await;
            Ok(Passkeys {
                passkeys: passkeys?.iter().map(ssr::view).collect(),
                has_password: has_password?,
                now: ctx.auth.now().unix_timestamp(),
                can_add: ctx.auth.is_confirmed(&auth.session),
            })
        })
        .await
}

/// Renames one of the user's passkeys (a form; works without JavaScript).
///
/// # Errors
/// [`AppError::Unauthorized`], [`AppError::NoPasskey`], or an unavailable
/// store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn rename_passkey(
    /// The passkey's id.
    id: String,
    /// Its new name.
    name: String,
) -> Result<(), AppError> {
    Reply::form("rename_passkey", PASSKEYS_PATH)
        .then(Some(PASSKEYS_PATH))
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            match ctx.auth.rename_passkey(auth.user.id, &id, &name).await {
                Err(engine::Error::NotFound) => Err(AppError::NoPasskey),
                other => Ok(other?),
            }
        })
        .await
}

/// Removes one of the user's passkeys, after a recent authentication;
/// never the last credential of an account without a password. Goes to the
/// passkey list, which offers to sign the other sessions out.
///
/// # Errors
/// [`AppError::ReauthRequired`], [`AppError::NoPasskey`],
/// [`AppError::LastCredential`], or an unavailable store.
#[server(client = crate::csrf::CsrfClient)]
pub async fn remove_passkey(
    /// The passkey's id.
    id: String,
) -> Result<(), AppError> {
    Reply::form("remove_passkey", PASSKEYS_PATH)
        .then(Some(REMOVED_PATH))
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            let client = session::client_info();
            match ctx.auth.remove_passkey(&auth, &id, &client).await {
                Err(engine::Error::NotFound) => Err(AppError::NoPasskey),
                other => Ok(other?),
            }
        })
        .await
}

pub use crate::paths::PASSKEYS as PASSKEYS_PATH;

/// Where a removal lands.
#[cfg(feature = "ssr")]
const REMOVED_PATH: &str = "/account/passkeys?removed=1";

#[cfg(feature = "ssr")]
use super::{
    reply::Reply,
    require::{Attempt, Require, Signed},
};
#[cfg(feature = "ssr")]
use crate::session;

#[cfg(feature = "ssr")]
mod ssr {
    use serde_json::Value;

    use super::{PasskeyView, SignedIn};
    use crate::{
        error::AppError,
        server_fns::{completion::complete_sign_in, context::ServerContext},
        session,
    };

    /// The options of a started ceremony, its cookie set.
    pub fn started<T: serde::Serialize>(
        ctx: &ServerContext,
        started: &engine::auth::Started<T>,
    ) -> Result<Value, AppError> {
        session::set_cookie(&ctx.cookies.ceremony_cookie(&started.token));
        serde_json::to_value(&started.options).map_err(|err| {
            tracing::error!(error = %err, "could not serialise passkey options");
            AppError::Internal
        })
    }

    /// The ceremony this browser started (its cookie, now cleared: a
    /// ceremony is finished once, whatever the outcome). A cookie sent
    /// twice (one planted by a sibling subdomain) counts as none and is
    /// not cleared: the removal could not reach the planted one.
    pub fn take_ceremony(ctx: &ServerContext) -> Result<String, AppError> {
        let token = session::request_cookie(ctx.cookies.ceremony_name());
        if token.is_some() {
            session::set_cookie(&ctx.cookies.ceremony_removal());
        }
        token.ok_or(AppError::PasskeyFailed)
    }

    /// The browser's credential in `webauthn-rs`'s shape.
    pub fn parse<T: serde::de::DeserializeOwned>(credential: Value) -> Result<T, AppError> {
        serde_json::from_value(credential).map_err(|err| {
            tracing::info!(error = %err, "malformed passkey credential");
            AppError::PasskeyFailed
        })
    }

    /// Ends a passkey sign-in or sign-up as the password form's ends, and
    /// says where to go.
    pub fn signed_in(
        ctx: &ServerContext,
        new: &engine::NewSession,
        next: Option<&str>,
    ) -> SignedIn {
        complete_sign_in(ctx, new);
        SignedIn {
            next: crate::redirect::safe_next(next),
        }
    }

    /// The name given, else the browser it is made in ("Chrome on Linux"):
    /// a default its owner recognises in the list.
    pub fn name_or_device(name: Option<String>, client: &engine::ClientInfo) -> String {
        name.filter(|n| !n.trim().is_empty()).unwrap_or_else(|| {
            crate::server_fns::account::ssr::describe_device(client.user_agent.as_deref())
        })
    }

    pub fn view(record: &engine::store::PasskeyRecord) -> PasskeyView {
        PasskeyView {
            id: record.id.clone(),
            name: record.name.clone(),
            created_at: record.created_at.unix_timestamp(),
            last_used_at: record
                .last_used_at
                .map(time::OffsetDateTime::unix_timestamp),
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn an_unnamed_passkey_is_named_for_its_browser() {
        let chrome = engine::ClientInfo::new(
            None,
            Some("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"),
        );
        assert_eq!(super::ssr::name_or_device(None, &chrome), "Chrome on Linux");
        assert_eq!(
            super::ssr::name_or_device(Some("  ".into()), &chrome),
            "Chrome on Linux"
        );
        assert_eq!(
            super::ssr::name_or_device(Some("Desk".into()), &chrome),
            "Desk"
        );
    }
}
