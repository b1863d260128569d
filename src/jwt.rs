//! Short-lived, stateless access tokens (JWT) for static pages and APIs.
//!
//! The database session is the source of truth; an access token is a signed
//! snapshot of it, valid for minutes. Verifying one needs no database.
//!
//! Hardening, after RFC 8725 and OWASP:
//! - one algorithm, EdDSA (Ed25519), pinned: the header's `alg` must match,
//!   so `none` (in any case) and HS256-with-the-public-key are refused;
//! - an explicit `typ` (`at+jwt`, RFC 9068) so other JWTs signed by the same
//!   keys cannot be replayed as access tokens;
//! - `kid` selects among *our* keys only; `jku`/`jwk`/`x5u` are ignored;
//! - `iss`, `aud`, `exp` and `nbf` are checked with a small leeway;
//! - oversized input is refused before any parsing.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use ed25519_dalek::{
    pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _},
    SigningKey,
};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::Rng as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{deny_list::DenyList, record::Authenticated};

pub use crate::policy::MAX_ACCESS_TTL;

/// The `typ` header of access tokens (RFC 9068).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";
/// Longest token accepted for verification, in bytes.
pub const MAX_TOKEN_LEN: usize = 2048;
/// Verified tokens remembered at most (each a few hundred bytes).
const VERIFIED_CAPACITY: usize = 10_000;

/// The claims of an access token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Subject: the user id.
    pub sub: String,
    /// The database session this token was minted from.
    pub sid: String,
    /// Issued at (Unix seconds).
    pub iat: i64,
    /// Not before (Unix seconds).
    pub nbf: i64,
    /// Expiry (Unix seconds).
    pub exp: i64,
    /// Unique token id.
    pub jti: String,
    /// Display name, so static pages need no second request.
    pub name: String,
    /// The session's absolute expiry (Unix seconds), for display.
    pub session_exp: i64,
    /// When the user last proved a credential in the session (Unix
    /// seconds; OpenID Connect's claim), so an API can demand recency.
    pub auth_time: i64,
    /// The client the token was minted for (RFC 9068): the browser app,
    /// through its refresh cookie.
    pub client_id: String,
    /// The DPoP key of the refresh that minted it (RFC 9449 §6.1), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// `cnf`: the key a token is bound to.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The key's RFC 7638 thumbprint.
    pub jkt: String,
}

/// Why a token was refused. Callers answer every variant with the same 401;
/// the variant is for logs and tests.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum JwtError {
    /// Too long, not three base64url parts, or bad JSON.
    #[error("malformed token")]
    Malformed,
    /// `alg` other than EdDSA.
    #[error("algorithm not allowed")]
    Algorithm,
    /// Missing or wrong `typ`.
    #[error("wrong token type")]
    Type,
    /// Missing or unknown `kid`.
    #[error("unknown signing key")]
    UnknownKey,
    /// Bad signature, or failed `iss`/`aud`/`exp`/`nbf` checks.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The session it was minted from has been revoked.
    #[error("session revoked")]
    Revoked,
    /// Signing failed (a broken key).
    #[error("cannot sign: {0}")]
    Signing(String),
}

/// One Ed25519 key pair with its id.
#[derive(Clone)]
pub struct KeyPair {
    kid: String,
    key: SigningKey,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyPair")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl KeyPair {
    /// A fresh key from the OS CSPRNG.
    #[must_use]
    pub fn generate() -> Self {
        let mut seed = [0u8; 32];
        rand::rng().fill_bytes(&mut seed);
        Self::from_signing_key(SigningKey::from_bytes(&seed))
    }

    fn from_signing_key(key: SigningKey) -> Self {
        // The kid is derived from the public key: stable and collision-free.
        let digest = Sha256::digest(key.verifying_key().as_bytes());
        let kid = URL_SAFE_NO_PAD.encode(&digest[..12]);
        Self { kid, key }
    }

    /// Loads a PKCS#8 PEM private key.
    ///
    /// # Errors
    /// [`JwtError::Signing`] if the PEM is not an Ed25519 private key.
    pub fn from_pem(pem: &str) -> Result<Self, JwtError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(Self::from_signing_key)
            .map_err(|err| JwtError::Signing(err.to_string()))
    }

    /// The private key as PKCS#8 PEM, for persisting.
    ///
    /// # Errors
    /// [`JwtError::Signing`] if encoding fails.
    pub fn to_pem(&self) -> Result<String, JwtError> {
        self.key
            .to_pkcs8_pem(ed25519_dalek::pkcs8::spki::der::pem::LineEnding::LF)
            .map(|pem| pem.to_string())
            .map_err(|err| JwtError::Signing(err.to_string()))
    }

    /// The key id.
    #[must_use]
    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn public_x(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.key.verifying_key().as_bytes())
    }
}

/// Issuer and audience, lifetime and leeway of access tokens.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JwtSettings {
    /// `iss`.
    pub issuer: String,
    /// `aud`.
    pub audience: String,
    /// `client_id` (RFC 9068).
    pub client_id: String,
    /// Lifetime of an access token.
    pub ttl: time::Duration,
    /// Clock-skew allowance for `exp` and `nbf`, in seconds.
    pub leeway_secs: u64,
}

/// Signs with the newest key; verifies with any key of the ring, so a
/// rotation signs nobody out. Keys are parsed once, here.
#[derive(Clone)]
pub struct Jwt {
    settings: JwtSettings,
    signer: (String, EncodingKey),
    verifiers: HashMap<String, DecodingKey>,
    jwks: serde_json::Value,
    validation: Validation,
    /// Tokens that passed every check, by the SHA-256 of their text, with
    /// their claims. A client repeats the same token until it expires, and
    /// the signature check (~50 µs) is the dearest part of a stateless
    /// call; a repeat costs a hash and a lookup instead. Only successes are
    /// kept, each only until its `exp` (plus the leeway, as for a fresh
    /// check), never past a restart (keys are per process).
    verified: Arc<Mutex<HashMap<[u8; 32], AccessClaims>>>,
    /// Sessions revoked lately: their tokens are refused even before `exp`.
    revoked: Arc<DenyList>,
}

impl std::fmt::Debug for Jwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Jwt")
            .field("settings", &self.settings)
            .field("signing_kid", &self.signer.0)
            .finish_non_exhaustive()
    }
}

impl Jwt {
    /// Builds the ring. `keys` is oldest first; the last one signs.
    ///
    /// # Errors
    /// [`JwtError::Signing`] if `keys` is empty or a key cannot be encoded.
    pub fn new(settings: JwtSettings, keys: &[KeyPair]) -> Result<Self, JwtError> {
        let newest = keys
            .last()
            .ok_or_else(|| JwtError::Signing("no signing key".into()))?;
        let der = newest
            .key
            .to_pkcs8_der()
            .map_err(|err| JwtError::Signing(err.to_string()))?;
        let signer = (newest.kid.clone(), EncodingKey::from_ed_der(der.as_bytes()));
        let verifiers = keys
            .iter()
            .map(|k| {
                (
                    k.kid.clone(),
                    DecodingKey::from_ed_der(k.key.verifying_key().as_bytes()),
                )
            })
            .collect();
        let jwks = serde_json::json!({
            "keys": keys.iter().rev().map(|k| serde_json::json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "use": "sig",
                "kid": k.kid,
                "x": k.public_x(),
            })).collect::<Vec<_>>()
        });

        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&settings.issuer]);
        validation.set_audience(&[&settings.audience]);
        validation.set_required_spec_claims(&["exp", "nbf", "iss", "aud", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = settings.leeway_secs;

        Ok(Self {
            settings,
            signer,
            verifiers,
            jwks,
            validation,
            verified: Arc::default(),
            revoked: Arc::default(),
        })
    }

    /// Refuses the tokens of the sessions in `revoked` (the engine's list,
    /// [`crate::Auth::revoked`]), from their revocation on.
    #[must_use]
    pub fn refusing(mut self, revoked: Arc<DenyList>) -> Self {
        self.revoked = revoked;
        self
    }

    /// The settings in force.
    #[must_use]
    pub fn settings(&self) -> &JwtSettings {
        &self.settings
    }

    /// The public keys as a JWK Set, for `/.well-known/jwks.json`.
    #[must_use]
    pub fn jwks(&self) -> &serde_json::Value {
        &self.jwks
    }

    /// Mints an access token for a validated session at `now`. Never
    /// outlives the session's own absolute expiry.
    ///
    /// # Errors
    /// [`JwtError::Signing`] if signing fails.
    pub fn issue(
        &self,
        auth: &Authenticated,
        now: OffsetDateTime,
    ) -> Result<(String, AccessClaims), JwtError> {
        self.issue_bound(auth, now, None)
    }

    /// As [`Jwt::issue`], bound to the DPoP key with thumbprint `jkt`
    /// (`cnf.jkt`) when there is one.
    ///
    /// # Errors
    /// [`JwtError::Signing`] if signing fails.
    pub fn issue_bound(
        &self,
        auth: &Authenticated,
        now: OffsetDateTime,
        jkt: Option<&str>,
    ) -> Result<(String, AccessClaims), JwtError> {
        let iat = now.unix_timestamp();
        let exp = (now + self.settings.ttl)
            .min(auth.session.expires_at)
            .unix_timestamp();
        let claims = AccessClaims {
            iss: self.settings.issuer.clone(),
            aud: self.settings.audience.clone(),
            sub: auth.user.id.to_string(),
            sid: auth.session.id.to_string(),
            iat,
            nbf: iat,
            exp,
            jti: uuid::Uuid::now_v7().to_string(),
            name: auth.user.display_name.clone(),
            session_exp: auth.session.expires_at.unix_timestamp(),
            auth_time: auth.session.authenticated_at.unix_timestamp(),
            client_id: self.settings.client_id.clone(),
            cnf: jkt.map(|jkt| Confirmation {
                jkt: jkt.to_owned(),
            }),
        };
        let mut header = Header::new(Algorithm::EdDSA);
        header.typ = Some(ACCESS_TOKEN_TYPE.to_owned());
        header.kid = Some(self.signer.0.clone());
        let token = jsonwebtoken::encode(&header, &claims, &self.signer.1)
            .map_err(|err| JwtError::Signing(err.to_string()))?;
        Ok((token, claims))
    }

    /// Verifies an untrusted token: size, header, signature and claims.
    ///
    /// # Errors
    /// The first check that failed; see [`JwtError`].
    pub fn verify(&self, token: &str) -> Result<AccessClaims, JwtError> {
        if token.is_empty() || token.len() > MAX_TOKEN_LEN {
            return Err(JwtError::Malformed);
        }
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let oldest_exp = self.oldest_acceptable_exp();
        let claims = match self.remembered(&digest, oldest_exp) {
            Some(claims) => claims,
            None => {
                let claims = self.verify_uncached(token)?;
                self.remember(digest, &claims, oldest_exp);
                claims
            }
        };
        if self.revoked.contains(&claims.sid) {
            return Err(JwtError::Revoked);
        }
        Ok(claims)
    }

    /// The smallest `exp` still accepted now: the same rule as the full
    /// check's (`exp` not before now minus the leeway).
    fn oldest_acceptable_exp(&self) -> i64 {
        let leeway = i64::try_from(self.validation.leeway).unwrap_or(i64::MAX);
        OffsetDateTime::now_utc()
            .unix_timestamp()
            .saturating_sub(leeway)
    }

    fn remembered(&self, digest: &[u8; 32], oldest_exp: i64) -> Option<AccessClaims> {
        let cache = self.verified.lock().ok()?;
        cache
            .get(digest)
            .filter(|claims| claims.exp >= oldest_exp)
            .cloned()
    }

    fn remember(&self, digest: [u8; 32], claims: &AccessClaims, oldest_exp: i64) {
        let Ok(mut cache) = self.verified.lock() else {
            return;
        };
        if cache.len() >= VERIFIED_CAPACITY {
            cache.retain(|_, c| c.exp >= oldest_exp);
            if cache.len() >= VERIFIED_CAPACITY {
                cache.clear();
            }
        }
        cache.insert(digest, claims.clone());
    }

    /// Every check, no memory.
    fn verify_uncached(&self, token: &str) -> Result<AccessClaims, JwtError> {
        let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Malformed)?;
        if header.alg != Algorithm::EdDSA {
            return Err(JwtError::Algorithm);
        }
        if header.typ.as_deref() != Some(ACCESS_TOKEN_TYPE) {
            return Err(JwtError::Type);
        }
        let key = header
            .kid
            .as_deref()
            .and_then(|kid| self.verifiers.get(kid))
            .ok_or(JwtError::UnknownKey)?;
        jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation)
            .map(|data| data.claims)
            .map_err(|err| JwtError::Invalid(err.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        id::{SessionId, UserId},
        record::{SessionRecord, UserSummary},
        token::SessionToken,
    };

    fn settings() -> JwtSettings {
        JwtSettings {
            issuer: "https://issuer.test".into(),
            client_id: "web".into(),
            audience: "leptos-sessions".into(),
            ttl: time::Duration::minutes(5),
            leeway_secs: 5,
        }
    }

    fn auth(now: OffsetDateTime) -> Authenticated {
        Authenticated {
            session: SessionRecord {
                id: SessionId::new(),
                user_id: UserId::new(),
                token_hash: SessionToken::generate().hash(),
                created_at: now,
                last_seen_at: now,
                idle_expires_at: now + time::Duration::minutes(30),
                expires_at: now + time::Duration::hours(8),
                persistent: false,
                ip_address: None,
                user_agent: None,
                last_ip_address: None,
                last_user_agent: None,
                revoked_at: None,
                authenticated_at: now - time::Duration::minutes(2),
                confirmed_at: None,
            },
            user: UserSummary {
                id: UserId::new(),
                username: "alice".into(),
                display_name: "alice".into(),
                created_at: now,
            },
        }
    }

    fn ring() -> (Jwt, KeyPair) {
        let key = KeyPair::generate();
        (
            Jwt::new(settings(), std::slice::from_ref(&key)).unwrap(),
            key,
        )
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }

    fn b64(v: &serde_json::Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    /// Re-signs `claims` under an arbitrary header with `key`.
    fn forge(header: Header, claims: &AccessClaims, key: &KeyPair) -> String {
        let der = key.key.to_pkcs8_der().unwrap();
        jsonwebtoken::encode(&header, claims, &EncodingKey::from_ed_der(der.as_bytes())).unwrap()
    }

    fn header(kid: &str) -> Header {
        let mut h = Header::new(Algorithm::EdDSA);
        h.typ = Some(ACCESS_TOKEN_TYPE.into());
        h.kid = Some(kid.into());
        h
    }

    #[test]
    fn a_fresh_token_verifies_and_carries_its_claims() {
        let (jwt, _) = ring();
        let a = auth(now());
        let (token, claims) = jwt.issue(&a, now()).unwrap();
        let verified = jwt.verify(&token).unwrap();
        assert_eq!(verified, claims);
        assert_eq!(verified.sid, a.session.id.to_string());
        assert_eq!(verified.exp - verified.iat, 300);
        assert_eq!(
            verified.iat - verified.auth_time,
            120,
            "auth_time is the session's"
        );
        let header = jsonwebtoken::decode_header(&token).unwrap();
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert!(header.kid.is_some());
    }

    #[test]
    fn a_revoked_sessions_tokens_are_refused_even_from_memory() {
        let revoked = Arc::new(DenyList::default());
        let (jwt, _) = ring();
        let jwt = jwt.refusing(Arc::clone(&revoked));
        let (a, b) = (auth(now()), auth(now()));
        let (token, _) = jwt.issue(&a, now()).unwrap();
        let (other, _) = jwt.issue(&b, now()).unwrap();
        jwt.verify(&token).unwrap();
        revoked.add([a.session.id], now());
        assert_eq!(jwt.verify(&token), Err(JwtError::Revoked));
        jwt.verify(&other).unwrap();
    }

    #[test]
    fn tokens_never_outlive_their_session() {
        let (jwt, _) = ring();
        let mut a = auth(now());
        a.session.expires_at = now() + time::Duration::seconds(60);
        let (_, claims) = jwt.issue(&a, now()).unwrap();
        assert!(claims.exp <= a.session.expires_at.unix_timestamp());
    }

    #[test]
    fn a_tampered_token_is_rejected() {
        let (jwt, _) = ring();
        let (token, mut claims) = jwt.issue(&auth(now()), now()).unwrap();
        let parts: Vec<&str> = token.split('.').collect();
        claims.sub = "someone-else".into();
        let tampered = format!(
            "{}.{}.{}",
            parts[0],
            b64(&serde_json::to_value(&claims).unwrap()),
            parts[2]
        );
        assert!(matches!(jwt.verify(&tampered), Err(JwtError::Invalid(_))));
        // A flipped signature byte, too.
        let mut sig = parts[2].to_owned();
        let last = if sig.ends_with('A') { 'B' } else { 'A' };
        sig.pop();
        sig.push(last);
        assert!(jwt
            .verify(&format!("{}.{}.{sig}", parts[0], parts[1]))
            .is_err());
    }

    #[test]
    fn alg_none_is_rejected_in_any_case() {
        let (jwt, key) = ring();
        let (token, _) = jwt.issue(&auth(now()), now()).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        for alg in ["none", "None", "NONE", "nOnE"] {
            let head = b64(&serde_json::json!({"alg": alg, "typ": "at+jwt", "kid": key.kid()}));
            for sig in ["", "AAAA"] {
                assert!(
                    jwt.verify(&format!("{head}.{payload}.{sig}")).is_err(),
                    "{alg}"
                );
            }
        }
    }

    #[test]
    fn hs256_signed_with_the_public_key_is_rejected() {
        let (jwt, key) = ring();
        let (_, claims) = jwt.issue(&auth(now()), now()).unwrap();
        let mut h = Header::new(Algorithm::HS256);
        h.typ = Some(ACCESS_TOKEN_TYPE.into());
        h.kid = Some(key.kid().into());
        for secret in [
            key.key.verifying_key().as_bytes().to_vec(),
            key.public_x().into_bytes(),
        ] {
            let forged =
                jsonwebtoken::encode(&h, &claims, &EncodingKey::from_secret(&secret)).unwrap();
            assert_eq!(jwt.verify(&forged), Err(JwtError::Algorithm));
        }
    }

    #[test]
    fn wrong_or_unknown_kid_is_rejected() {
        let (jwt, key) = ring();
        let (_, claims) = jwt.issue(&auth(now()), now()).unwrap();
        // Another of our keys' ids with this key's signature: wrong kid.
        let (other, _) = ring();
        let other_kid = other.signer.0.clone();
        let jwt2 = Jwt::new(settings(), &[KeyPair::generate(), key.clone()]).unwrap();
        let wrong_kid = jwt2
            .verifiers
            .keys()
            .find(|k| *k != key.kid())
            .unwrap()
            .clone();
        assert!(jwt2
            .verify(&forge(header(&wrong_kid), &claims, &key))
            .is_err());
        // A kid we do not know at all, or none.
        assert_eq!(
            jwt.verify(&forge(header(&other_kid), &claims, &key)),
            Err(JwtError::UnknownKey)
        );
        let mut no_kid = header("x");
        no_kid.kid = None;
        assert_eq!(
            jwt.verify(&forge(no_kid, &claims, &key)),
            Err(JwtError::UnknownKey)
        );
        // A key we never issued, with a kid of ours.
        let stranger = KeyPair::generate();
        assert!(jwt
            .verify(&forge(header(key.kid()), &claims, &stranger))
            .is_err());
    }

    #[test]
    fn a_repeated_token_is_answered_from_memory_until_it_expires() {
        let (jwt, _) = ring();
        let (token, claims) = jwt.issue(&auth(now()), now()).unwrap();
        assert_eq!(jwt.verify(&token).unwrap(), claims);
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        assert_eq!(
            jwt.remembered(&digest, jwt.oldest_acceptable_exp()),
            Some(claims.clone())
        );
        assert_eq!(jwt.verify(&token).unwrap(), claims, "from memory");
        // Past its exp (and the leeway), memory does not answer.
        assert_eq!(jwt.remembered(&digest, claims.exp + 1), None);
        // Failures are never remembered.
        let forged = format!("{token}x");
        assert!(jwt.verify(&forged).is_err());
        let digest: [u8; 32] = Sha256::digest(forged.as_bytes()).into();
        assert_eq!(jwt.remembered(&digest, i64::MIN), None);
    }

    #[test]
    fn expired_and_not_yet_valid_tokens_are_rejected() {
        let (jwt, _) = ring();
        let an_hour_ago = now() - time::Duration::hours(1);
        let (old, _) = jwt.issue(&auth(an_hour_ago), an_hour_ago).unwrap();
        assert!(matches!(jwt.verify(&old), Err(JwtError::Invalid(_))));

        let (jwt, key) = ring();
        let (_, mut claims) = jwt.issue(&auth(now()), now()).unwrap();
        claims.nbf = now().unix_timestamp() + 600;
        assert!(matches!(
            jwt.verify(&forge(header(key.kid()), &claims, &key)),
            Err(JwtError::Invalid(_))
        ));
        // Within the leeway is fine.
        claims.nbf = now().unix_timestamp() + 2;
        assert!(jwt.verify(&forge(header(key.kid()), &claims, &key)).is_ok());
    }

    #[test]
    fn wrong_audience_issuer_or_type_is_rejected() {
        let (jwt, key) = ring();
        let (_, claims) = jwt.issue(&auth(now()), now()).unwrap();
        let mut c = claims.clone();
        c.aud = "another-app".into();
        assert!(matches!(
            jwt.verify(&forge(header(key.kid()), &c, &key)),
            Err(JwtError::Invalid(_))
        ));
        let mut c = claims.clone();
        c.iss = "https://evil.example".into();
        assert!(matches!(
            jwt.verify(&forge(header(key.kid()), &c, &key)),
            Err(JwtError::Invalid(_))
        ));
        for typ in [None, Some("JWT"), Some("id+jwt")] {
            let mut h = header(key.kid());
            h.typ = typ.map(Into::into);
            assert_eq!(jwt.verify(&forge(h, &claims, &key)), Err(JwtError::Type));
        }
    }

    #[test]
    fn truncated_and_oversized_tokens_are_rejected() {
        let (jwt, _) = ring();
        let (token, _) = jwt.issue(&auth(now()), now()).unwrap();
        for cut in [1, 10, token.len() / 2, token.len() - 1] {
            assert!(jwt.verify(&token[..cut]).is_err(), "cut at {cut}");
        }
        assert_eq!(jwt.verify(""), Err(JwtError::Malformed));
        assert_eq!(
            jwt.verify(&"a".repeat(MAX_TOKEN_LEN + 1)),
            Err(JwtError::Malformed)
        );
        let padded = format!("{token}{}", "A".repeat(MAX_TOKEN_LEN));
        assert_eq!(jwt.verify(&padded), Err(JwtError::Malformed));
    }

    #[test]
    fn rotation_keeps_old_tokens_valid_and_signs_with_the_new_key() {
        let old = KeyPair::generate();
        let before = Jwt::new(settings(), std::slice::from_ref(&old)).unwrap();
        let (old_token, _) = before.issue(&auth(now()), now()).unwrap();

        let new = KeyPair::generate();
        let after = Jwt::new(settings(), &[old.clone(), new.clone()]).unwrap();
        assert!(
            after.verify(&old_token).is_ok(),
            "nobody is signed out by a rotation"
        );
        let (new_token, _) = after.issue(&auth(now()), now()).unwrap();
        let kid = jsonwebtoken::decode_header(&new_token)
            .unwrap()
            .kid
            .unwrap();
        assert_eq!(kid, new.kid());
        assert_eq!(after.jwks()["keys"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn keys_round_trip_through_pem() {
        let key = KeyPair::generate();
        let pem = key.to_pem().unwrap();
        assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert_eq!(KeyPair::from_pem(&pem).unwrap().kid(), key.kid());
        assert!(KeyPair::from_pem("not a key").is_err());
    }

    // Property tests: run longer with `PROPTEST_CASES=<n>`.
    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_verifies_or_panics(input in "\\PC{0,400}") {
            let (jwt, _) = ring();
            proptest::prop_assert!(jwt.verify(&input).is_err());
        }

        #[test]
        fn any_one_character_change_is_refused(pos in 0usize..2000, pick in 0usize..64) {
            let (jwt, _) = ring();
            let (token, _) = jwt.issue(&auth(now()), now()).unwrap();
            let pos = pos % token.len();
            let changed = crate::testing::change_one(&token, pos, pick);
            // The signature covers the exact text of header and payload, and
            // base64url is decoded strictly: no other spelling verifies.
            proptest::prop_assert!(jwt.verify(&changed).is_err());
        }
    }
}
