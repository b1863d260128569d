//! A sign-in with a provider, from the redirect to its callback.
//!
//! Starting one makes a random `state`, `nonce` and PKCE verifier (S256)
//! and sends the browser to the provider. The three are kept, with what
//! the sign-in is for ([`Intent`]), in a [`Flow`] that the engine stores
//! under the hash of a token set in the starting browser's cookie. The
//! callback takes the flow out (once, whatever it then finds) and refuses
//! anything but a callback for that provider with that `state`; then it
//! exchanges the code with the verifier and checks the ID token: its
//! signature with the provider's keys, `iss`, `aud`, `azp`, `exp`, the
//! `nonce`, `at_hash` when present, and for a confirmation how recently
//! the person signed in at the provider.

use openidconnect::{
    core::{CoreAuthPrompt, CoreAuthenticationFlow, CoreIdToken},
    AccessTokenHash, AuthorizationCode, ClaimsVerificationError, CsrfToken, Nonce,
    OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, Scope,
    SignatureVerificationError,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq as _;
use time::OffsetDateTime;

use super::provider::{Client, Provider, Providers};
use crate::Error;

/// How far the provider's clock may be from ours when its sign-in time is
/// compared with when the flow began.
const CLOCK_SKEW: time::Duration = time::Duration::minutes(1);

/// What a sign-in with a provider is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "for", rename_all = "snake_case")]
pub enum Intent {
    /// Signing in (an account is made for an identity not seen before).
    SignIn {
        /// Whether the session should outlive the browser.
        remember: bool,
    },
    /// Linking the identity to the account of the session that started it.
    Link {
        /// That session's id.
        session: String,
    },
    /// Proving the person again (step-up) in the session that started it,
    /// with an identity linked to its account; the provider is asked to
    /// make them sign in again.
    Confirm {
        /// That session's id.
        session: String,
    },
}

/// A started flow, as the engine stores it.
#[derive(Debug, Serialize, Deserialize)]
pub struct Flow {
    /// The provider's id: only its callback may finish the flow.
    pub provider: String,
    state: String,
    nonce: String,
    verifier: String,
    /// What it is for.
    pub intent: Intent,
    /// Where to go once signed in (checked by the web layer).
    pub next: Option<String>,
    /// The starting browser's device cookie: the callback comes from the
    /// provider's site, so a `SameSite=Strict` cookie does not come with it.
    pub device: Option<String>,
    /// When it began (Unix seconds).
    pub started_at: i64,
}

/// What the provider sent the browser back with (the callback's query).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Callback {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` the flow sent.
    pub state: Option<String>,
    /// An error code instead of a code (`access_denied`, …).
    pub error: Option<String>,
}

/// An identity whose ID token passed every check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedIdentity {
    /// The issuer (`iss`).
    pub issuer: String,
    /// The person at the issuer (`sub`).
    pub subject: String,
    /// The address the provider has for them, if it shared one.
    pub email: Option<String>,
    /// Whether the provider says it verified that address.
    pub email_verified: bool,
    /// Their name, if shared.
    pub name: Option<String>,
    /// The user name they prefer, if shared.
    pub preferred_username: Option<String>,
}

impl Flow {
    /// The flow as stored.
    ///
    /// # Errors
    /// An encoding failure (not expected).
    pub fn encode(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(|_| Error::Invalid("a flow does not encode"))
    }

    /// A stored flow; anything else is refused.
    ///
    /// # Errors
    /// [`Error::IdentityRejected`].
    pub fn decode(stored: &str) -> Result<Self, Error> {
        serde_json::from_str(stored).map_err(|_| Error::IdentityRejected)
    }
}

impl Providers {
    /// Starts a flow with provider `id`: the flow to keep, and the URL to
    /// send the browser to.
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown provider,
    /// [`Error::ProviderUnavailable`] while its discovery cannot be had.
    pub async fn begin(
        &self,
        id: &str,
        intent: Intent,
        next: Option<String>,
        device: Option<String>,
        now: OffsetDateTime,
    ) -> Result<(Flow, String), Error> {
        let provider = self.get(id).ok_or(Error::NotFound)?;
        let client = provider.client(provider.metadata(&self.http).await?);
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .set_pkce_challenge(challenge)
            .add_scopes(provider.config.scopes.iter().cloned().map(Scope::new));
        if matches!(intent, Intent::Confirm { .. }) {
            request = request
                .add_prompt(CoreAuthPrompt::Login)
                .set_max_age(std::time::Duration::ZERO);
        }
        let (url, state, nonce) = request.url();
        let flow = Flow {
            provider: id.to_owned(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            verifier: verifier.secret().clone(),
            intent,
            next,
            device,
            started_at: now.unix_timestamp(),
        };
        Ok((flow, url.to_string()))
    }

    /// Finishes `flow` with the callback that came to provider `id`'s
    /// path.
    ///
    /// # Errors
    /// [`Error::IdentityDeclined`] when the provider says the person did
    /// not sign in; [`Error::IdentityRejected`] for everything else that
    /// fails (the reason is logged); [`Error::ProviderUnavailable`].
    pub async fn finish(
        &self,
        id: &str,
        flow: &Flow,
        callback: &Callback,
        now: OffsetDateTime,
    ) -> Result<VerifiedIdentity, Error> {
        let refuse = |why: &str| {
            tracing::info!(provider = %id, why, "sign-in with a provider refused");
            Error::IdentityRejected
        };
        // Mix-up defence: only the provider the flow went to may end it.
        if flow.provider != id {
            return Err(refuse("the callback came to another provider's path"));
        }
        let provider = self.get(id).ok_or(Error::NotFound)?;
        // An error ends the flow and grants nothing, so it is believed
        // without its `state` (which some providers leave out of errors).
        if let Some(error) = &callback.error {
            tracing::info!(provider = %id, %error, "the provider answered with an error");
            return Err(match error.as_str() {
                "access_denied"
                | "login_required"
                | "consent_required"
                | "interaction_required"
                | "account_selection_required" => Error::IdentityDeclined,
                _ => Error::IdentityRejected,
            });
        }
        let state = callback.state.as_deref().unwrap_or_default();
        if !bool::from(state.as_bytes().ct_eq(flow.state.as_bytes())) {
            return Err(refuse("state does not match the flow"));
        }
        let code = callback
            .code
            .clone()
            .ok_or_else(|| refuse("no code in the callback"))?;
        let client = provider.client(provider.metadata(&self.http).await?);
        let response = client
            .exchange_code(AuthorizationCode::new(code))
            .map_err(|_| refuse("the provider has no token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(flow.verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|err| {
                tracing::info!(provider = %id, error = %err, "code exchange failed");
                Error::IdentityRejected
            })?;
        let id_token = response
            .extra_fields()
            .id_token()
            .ok_or_else(|| refuse("no ID token in the token response"))?;
        let access_token = response.access_token();
        match verify(&client, id_token, flow, access_token, now) {
            Err(Failure::UnknownKey) => match provider.refreshed_keys(&self.http).await {
                // The provider rotated its keys: check once more with the new set.
                Some(metadata) => {
                    let client = provider.client(metadata);
                    verify(&client, id_token, flow, access_token, now).map_err(|f| f.log(provider))
                }
                None => Err(Failure::UnknownKey.log(provider)),
            },
            other => other.map_err(|f| f.log(provider)),
        }
    }
}

/// Why an ID token was refused (logged, never shown).
enum Failure {
    UnknownKey,
    Claims(ClaimsVerificationError),
    AccessTokenHash,
    StaleSignIn,
}

impl Failure {
    fn log(self, provider: &Provider) -> Error {
        let why = match self {
            Self::UnknownKey => "signed with a key the provider does not publish".to_owned(),
            Self::Claims(err) => err.to_string(),
            Self::AccessTokenHash => "at_hash does not match the access token".to_owned(),
            Self::StaleSignIn => "the person did not sign in again at the provider".to_owned(),
        };
        tracing::info!(provider = %provider.config.id, %why, "ID token refused");
        Error::IdentityRejected
    }
}

/// Checks `id_token` against `client`'s keys and settings, the flow's
/// nonce, the access token it came with, and (for a confirmation) that the
/// person signed in at the provider after the flow began.
fn verify(
    client: &Client,
    id_token: &CoreIdToken,
    flow: &Flow,
    access_token: &openidconnect::AccessToken,
    now: OffsetDateTime,
) -> Result<VerifiedIdentity, Failure> {
    let at = chrono::DateTime::from_timestamp(now.unix_timestamp(), 0).unwrap_or_default();
    let verifier = client.id_token_verifier().set_time_fn(move || at);
    let claims = id_token
        .claims(&verifier, &Nonce::new(flow.nonce.clone()))
        .map_err(|err| match err {
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            ) => Failure::UnknownKey,
            err => Failure::Claims(err),
        })?;
    if let Some(expected) = claims.access_token_hash() {
        let actual = id_token
            .signing_alg()
            .ok()
            .zip(id_token.signing_key(&verifier).ok())
            .and_then(|(alg, key)| AccessTokenHash::from_token(access_token, alg, key).ok());
        if actual.as_ref() != Some(expected) {
            return Err(Failure::AccessTokenHash);
        }
    }
    if matches!(flow.intent, Intent::Confirm { .. }) {
        // `auth_time` (asked for with max_age=0); a provider that leaves it
        // out is held to the token's own issue time, which a prompt=login
        // request made after the flow began.
        let signed_in = claims.auth_time().unwrap_or_else(|| claims.issue_time());
        if signed_in.timestamp() < flow.started_at - CLOCK_SKEW.whole_seconds() {
            return Err(Failure::StaleSignIn);
        }
    }
    Ok(VerifiedIdentity {
        issuer: claims.issuer().as_str().to_owned(),
        subject: claims.subject().as_str().to_owned(),
        email: claims.email().map(|e| e.as_str().to_owned()),
        email_verified: claims.email_verified().unwrap_or(false),
        name: claims
            .name()
            .and_then(|n| n.get(None))
            .map(|n| n.as_str().to_owned()),
        preferred_username: claims.preferred_username().map(|u| u.as_str().to_owned()),
    })
}
