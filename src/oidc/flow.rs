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
        let client = provider.client(provider.metadata(&self.http, now).await?);
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
        let client = provider.client(provider.metadata(&self.http, now).await?);
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
            Err(Failure::UnknownKey) => match provider.refreshed_keys(&self.http, now).await {
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
#[derive(Debug)]
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

/// Whether the token's header has a `kid`.
fn names_a_key(id_token: &CoreIdToken) -> bool {
    use base64::Engine as _;
    let compact = id_token.to_string();
    let header = compact.split('.').next().unwrap_or_default();
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
        .is_some_and(|header| header.get("kid").is_some())
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
            // A provider that names no key (no `kid`) and rotated its one
            // key: the kept key fails the signature.
            ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::CryptoError(_),
            ) if !names_a_key(id_token) => Failure::UnknownKey,
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

#[cfg(test)]
mod tests {
    //! The ID token's checks, on tokens signed here with a key the
    //! "provider" publishes: what a real provider cannot be made to send
    //! (a forged signature, another issuer, a wrong `azp` or `at_hash`).
    //! The flow itself is tested against a real provider over HTTP.

    use jsonwebtoken::{jwk::Jwk, Algorithm, EncodingKey, Header};
    use openidconnect::{core::CoreJsonWebKeySet, AccessToken};
    use p256::pkcs8::EncodePrivateKey as _;
    use serde_json::{json, Value};

    use super::*;
    use crate::oidc::provider::{Provider, ProviderConfig};

    const ISSUER: &str = "https://id.example";
    const CLIENT: &str = "leptos-sessions";
    const NOW: i64 = 1_800_000_000;

    struct Signer {
        key: EncodingKey,
        jwk: Value,
    }

    impl Signer {
        fn new(kid: &str) -> Self {
            let secret = p256::ecdsa::SigningKey::from_slice(&[7; 32]).unwrap();
            let key = EncodingKey::from_ec_der(secret.to_pkcs8_der().unwrap().as_bytes());
            let mut jwk =
                serde_json::to_value(Jwk::from_encoding_key(&key, Algorithm::ES256).unwrap())
                    .unwrap();
            jwk["kid"] = kid.into();
            jwk["use"] = "sig".into();
            Self { key, jwk }
        }

        fn sign(&self, kid: &str, claims: &Value) -> CoreIdToken {
            let mut header = Header::new(Algorithm::ES256);
            header.kid = Some(kid.into());
            let jwt = jsonwebtoken::encode(&header, claims, &self.key).unwrap();
            serde_json::from_value(json!(jwt)).unwrap()
        }
    }

    fn client(signer: &Signer) -> Client {
        let config = ProviderConfig {
            id: "idp".into(),
            name: "IdP".into(),
            issuer: ISSUER.into(),
            client_id: CLIENT.into(),
            client_secret: Some("s".into()),
            scopes: vec![],
            trust_email: false,
        };
        let metadata: openidconnect::core::CoreProviderMetadata = serde_json::from_value(json!({
            "issuer": ISSUER,
            "authorization_endpoint": "https://id.example/authorize",
            "token_endpoint": "https://id.example/token",
            "jwks_uri": "https://id.example/jwks",
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        }))
        .unwrap();
        let keys: CoreJsonWebKeySet =
            serde_json::from_value(json!({"keys": [signer.jwk]})).unwrap();
        Provider::new(config, "https://app.example")
            .unwrap()
            .client(metadata.set_jwks(keys))
    }

    fn flow(intent: Intent) -> Flow {
        Flow {
            provider: "idp".into(),
            state: "s".into(),
            nonce: "n-1".into(),
            verifier: "v".into(),
            intent,
            next: None,
            device: None,
            started_at: NOW - 30,
        }
    }

    fn claims() -> Value {
        json!({
            "iss": ISSUER, "sub": "248289761001", "aud": CLIENT, "nonce": "n-1",
            "iat": NOW - 5, "exp": NOW + 300,
            "email": "jane@example.com", "email_verified": true, "name": "Jane",
        })
    }

    fn check(token: &CoreIdToken, intent: Intent) -> Result<VerifiedIdentity, Failure> {
        let signer = Signer::new("k1");
        let now = OffsetDateTime::from_unix_timestamp(NOW).unwrap();
        let access = AccessToken::new("access-token".into());
        verify(&client(&signer), token, &flow(intent), &access, now)
    }

    fn sign_in() -> Intent {
        Intent::SignIn { remember: false }
    }

    fn refused_by_claims(token: &CoreIdToken) -> String {
        match check(token, sign_in()) {
            Err(Failure::Claims(err)) => err.to_string(),
            other => panic!("expected a claims failure, got {other:?}"),
        }
    }

    #[test]
    fn a_good_token_gives_its_identity() {
        let identity = check(&Signer::new("k1").sign("k1", &claims()), sign_in()).unwrap();
        assert_eq!(identity.issuer, ISSUER);
        assert_eq!(identity.subject, "248289761001");
        assert_eq!(identity.email.as_deref(), Some("jane@example.com"));
        assert!(identity.email_verified);
        assert_eq!(identity.name.as_deref(), Some("Jane"));
    }

    #[test]
    fn a_forged_signature_is_refused() {
        let good: String = serde_json::from_value(
            serde_json::to_value(Signer::new("k1").sign("k1", &claims())).unwrap(),
        )
        .unwrap();
        let mut parts: Vec<String> = good.split('.').map(str::to_owned).collect();
        // Another subject in the payload, the signature kept.
        let mut forged = claims();
        forged["sub"] = "someone-else".into();
        parts[1] = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            forged.to_string(),
        );
        let token: CoreIdToken = serde_json::from_value(json!(parts.join("."))).unwrap();
        assert!(refused_by_claims(&token).contains("ignature"), "signature");
        // Signed by a key the provider does not publish, under its kid.
        let other = p256::ecdsa::SigningKey::from_slice(&[9; 32]).unwrap();
        let stranger = Signer {
            key: EncodingKey::from_ec_der(other.to_pkcs8_der().unwrap().as_bytes()),
            jwk: Value::Null,
        };
        refused_by_claims(&stranger.sign("k1", &claims()));
    }

    #[test]
    fn a_key_the_provider_does_not_publish_asks_for_its_keys_again() {
        let token = Signer::new("k1").sign("k2", &claims());
        assert!(matches!(check(&token, sign_in()), Err(Failure::UnknownKey)));
        assert!(names_a_key(&token));
    }

    #[test]
    fn another_issuer_audience_party_expiry_or_nonce_is_refused() {
        let cases: [(&str, Value); 6] = [
            ("iss", json!("https://evil.example")),
            ("aud", json!("another-app")),
            ("aud", json!([CLIENT, "another-app"])), // several audiences, no azp
            ("exp", json!(NOW - 1)),
            ("nonce", json!("n-2")),
            ("nonce", Value::Null),
        ];
        for (claim, value) in cases {
            let mut c = claims();
            if value.is_null() {
                c.as_object_mut().unwrap().remove(claim);
            } else {
                c[claim] = value.clone();
            }
            refused_by_claims(&Signer::new("k1").sign("k1", &c));
        }
        let mut c = claims();
        c["aud"] = json!([CLIENT, "another-app"]);
        c["azp"] = json!("another-app");
        refused_by_claims(&Signer::new("k1").sign("k1", &c));
        // Even named the authorized party, this client does not trust the
        // other audience (OpenID Connect Core 3.1.3.7, step 3).
        c["azp"] = json!(CLIENT);
        refused_by_claims(&Signer::new("k1").sign("k1", &c));
        c["aud"] = json!([CLIENT]);
        assert!(check(&Signer::new("k1").sign("k1", &c), sign_in()).is_ok());
    }

    #[test]
    fn at_hash_must_match_the_access_token() {
        let mut c = claims();
        c["at_hash"] = json!("AAAAAAAAAAAAAAAAAAAAAA");
        let token = Signer::new("k1").sign("k1", &c);
        assert!(matches!(
            check(&token, sign_in()),
            Err(Failure::AccessTokenHash)
        ));
        // The left half of SHA-256 of "access-token", base64url.
        let digest = <sha2::Sha256 as sha2::Digest>::digest(b"access-token");
        c["at_hash"] = json!(base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            &digest[..16]
        ));
        assert!(check(&Signer::new("k1").sign("k1", &c), sign_in()).is_ok());
    }

    #[test]
    fn a_confirmation_needs_a_sign_in_after_it_began() {
        let confirm = || Intent::Confirm {
            session: "s".into(),
        };
        let mut c = claims();
        c["auth_time"] = json!(NOW - 3600);
        let stale = Signer::new("k1").sign("k1", &c);
        assert!(matches!(
            check(&stale, confirm()),
            Err(Failure::StaleSignIn)
        ));
        // The same token signs in (no recency asked of a sign-in).
        assert!(check(&stale, sign_in()).is_ok());
        c["auth_time"] = json!(NOW - 10);
        assert!(check(&Signer::new("k1").sign("k1", &c), confirm()).is_ok());
        // No auth_time: the token's issue time stands in.
        let mut old = claims();
        old["iat"] = json!(NOW - 3600);
        assert!(matches!(
            check(&Signer::new("k1").sign("k1", &old), confirm()),
            Err(Failure::StaleSignIn)
        ));
    }
}
