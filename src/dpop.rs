//! DPoP (RFC 9449): a refresh proves it comes from the browser that holds
//! the private key its session was bound to, so a refresh cookie copied
//! out of the browser (with its session cookie) mints nothing.
//!
//! The browser keeps a non-extractable P-256 key and signs a short proof
//! for each `POST /api/auth/refresh`. Here: the proof is checked ([`verify`]:
//! `typ`, ES256 only, a public `jwk`, the signature, `htm`/`htu`, `iat`
//! within [`MAX_SKEW`]), its `jti` refused if seen before ([`SeenProofs`],
//! shared across instances when the store can be), and its key's RFC 7638
//! thumbprint handed to [`crate::Auth::refresh`], which binds the session
//! to it on first use and refuses any other key after. Signature checks and
//! thumbprints are `jsonwebtoken`'s; only the rules of RFC 9449 are here.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use jsonwebtoken::{
    errors::ErrorKind,
    jwk::{AlgorithmParameters, EllipticCurve, ThumbprintHash},
    Algorithm, DecodingKey, Validation,
};
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::{once::UsedOnce, Error};

/// The request header that carries a proof.
pub const HEADER: &str = "dpop";

/// A proof's `typ`.
pub const PROOF_TYPE: &str = "dpop+jwt";

/// How far a proof's `iat` may be from the server's clock, either way.
pub const MAX_SKEW: Duration = Duration::seconds(60);

/// Longer proofs are refused unread (a P-256 proof is about 600 bytes).
const MAX_PROOF_LEN: usize = 2048;

/// Longest `jti` accepted (browsers send a UUID).
const MAX_JTI_LEN: usize = 128;

/// Why a proof was refused. Every variant is answered with the same 401;
/// the variant is for logs and tests.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Too long, not a JWS, or missing claims.
    #[error("malformed proof")]
    Malformed,
    /// `typ` other than `dpop+jwt`.
    #[error("not a DPoP proof")]
    Type,
    /// An algorithm other than ES256.
    #[error("algorithm not accepted")]
    Algorithm,
    /// No `jwk`, not a P-256 public key, or one with its private part.
    #[error("unusable key")]
    Key,
    /// The signature does not verify with the `jwk`.
    #[error("bad signature")]
    Signature,
    /// `htm` or `htu` name another request.
    #[error("proof for another request")]
    Target,
    /// `iat` further than [`MAX_SKEW`] from now.
    #[error("proof issued too far from now")]
    Time,
    /// This `jti` was seen before.
    #[error("proof replayed")]
    Replayed,
    /// Sent with an access token, but its `ath` is missing or is not that
    /// token's hash.
    #[error("proof for another access token")]
    AccessToken,
}

/// What a refresh proved about the key it was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyProof<'a> {
    /// No proof sent.
    Absent,
    /// A valid proof, not seen before, by the key with this thumbprint.
    Key(&'a str),
    /// A proof that failed [`verify`] or was replayed.
    Invalid,
}

/// A proof that verified: whose key, and which proof (for [`SeenProofs`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Proof {
    /// The key's RFC 7638 thumbprint (base64url SHA-256): `cnf.jkt`.
    pub jkt: String,
    jti: String,
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
}

/// Checks `proof` for a request of method `htm` to `htu` (scheme, host and
/// path; no query) at `now`, sent with `access_token` if it was (a request
/// to a resource: the proof's `ath` must be that token's hash, RFC 9449
/// §7). Does not check replay: see [`first_use`].
///
/// # Errors
/// [`ProofError`] for any rule it breaks.
pub fn verify(
    proof: &str,
    htm: &str,
    htu: &str,
    access_token: Option<&str>,
    now: OffsetDateTime,
) -> Result<Proof, ProofError> {
    if proof.is_empty() || proof.len() > MAX_PROOF_LEN {
        return Err(ProofError::Malformed);
    }
    let header = jsonwebtoken::decode_header(proof).map_err(|_| ProofError::Malformed)?;
    if header.typ.as_deref() != Some(PROOF_TYPE) {
        return Err(ProofError::Type);
    }
    if header.alg != Algorithm::ES256 {
        return Err(ProofError::Algorithm);
    }
    let jwk = header.jwk.ok_or(ProofError::Key)?;
    match &jwk.algorithm {
        AlgorithmParameters::EllipticCurve(ec) if ec.curve == EllipticCurve::P256 => {}
        _ => return Err(ProofError::Key),
    }
    // The parsed key drops unknown members, so look for a private part in
    // the header as sent: a proof must carry only the public key.
    if has_private_part(proof) {
        return Err(ProofError::Key);
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| ProofError::Key)?;
    let mut rules = Validation::new(Algorithm::ES256);
    rules.required_spec_claims.clear();
    rules.validate_exp = false;
    rules.validate_aud = false;
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &rules)
        .map_err(|err| match err.kind() {
            ErrorKind::InvalidSignature => ProofError::Signature,
            _ => ProofError::Malformed,
        })?
        .claims;
    if claims.jti.is_empty() || claims.jti.len() > MAX_JTI_LEN {
        return Err(ProofError::Malformed);
    }
    // RFC 9449 §4.3: compared without query and fragment.
    let target = claims.htu.split(['?', '#']).next().unwrap_or_default();
    if claims.htm != htm || target != htu {
        return Err(ProofError::Target);
    }
    if !within_skew(claims.iat, now) {
        return Err(ProofError::Time);
    }
    if let Some(token) = access_token {
        let expected = access_token_hash(token);
        let sent = claims.ath.as_deref().unwrap_or_default().as_bytes();
        if !bool::from(subtle::ConstantTimeEq::ct_eq(sent, expected.as_bytes())) {
            return Err(ProofError::AccessToken);
        }
    }
    let jkt = jwk
        .thumbprint(ThumbprintHash::SHA256)
        .map_err(|_| ProofError::Key)?;
    Ok(Proof {
        jkt,
        jti: claims.jti,
    })
}

/// Whether `iat` (any `i64` a client sends) is within [`MAX_SKEW`] of
/// `now`. Computed in `i128`: `iat - now` in `i64` overflows for values
/// near `i64::MIN`, which panicked in debug builds and wrapped into the
/// window in release ones.
fn within_skew(iat: i64, now: OffsetDateTime) -> bool {
    let skew = i128::from(iat) - i128::from(now.unix_timestamp());
    skew.abs() <= i128::from(MAX_SKEW.whole_seconds())
}

/// Whether the proof's header carries a `jwk` with a `d` member.
fn has_private_part(proof: &str) -> bool {
    let Some(header) = proof.split('.').next() else {
        return true;
    };
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(header) else {
        return true;
    };
    match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(header) => header["jwk"].get("d").is_some(),
        Err(_) => true,
    }
}

/// How long a proof's `jti` is remembered: as long as its `iat` can be
/// within [`MAX_SKEW`] of the clock.
pub const PROOF_LIFETIME: Duration = Duration::seconds(120);

/// Records `proof` as used at `now` in `seen` (shared across instances when
/// the store can be).
///
/// # Errors
/// [`ProofError::Replayed`] (as `Ok(Err(..))`) if it was used before;
/// [`Error::Storage`] if the shared store fails.
pub async fn first_use(
    seen: &UsedOnce,
    proof: &Proof,
    now: OffsetDateTime,
) -> Result<Result<(), ProofError>, Error> {
    let id: [u8; 32] = Sha256::new()
        .chain_update(proof.jkt.as_bytes())
        .chain_update(b".")
        .chain_update(proof.jti.as_bytes())
        .finalize()
        .into();
    Ok(if seen.first_use("dpop", id, PROOF_LIFETIME, now).await? {
        Ok(())
    } else {
        Err(ProofError::Replayed)
    })
}

/// RFC 9449's `ath`: the base64url SHA-256 of an access token, which a
/// proof sent with that token must carry.
#[must_use]
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{jwk::Jwk, EncodingKey, Header};
    use p256::{ecdsa::SigningKey, pkcs8::EncodePrivateKey as _};

    const HTU: &str = "https://app.test/api/auth/refresh";

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
    }

    /// A browser's key, signing proofs as the WASM client does.
    struct Key(SigningKey);

    impl Key {
        fn new() -> Self {
            Self(SigningKey::from_slice(&rand::random::<[u8; 32]>()).unwrap())
        }

        fn encoding(&self) -> EncodingKey {
            EncodingKey::from_ec_der(self.0.to_pkcs8_der().unwrap().as_bytes())
        }

        fn sign(&self, header: Header, claims: serde_json::Value) -> String {
            jsonwebtoken::encode(&header, &claims, &self.encoding()).unwrap()
        }

        fn header(&self) -> Header {
            let mut header = Header::new(Algorithm::ES256);
            header.typ = Some(PROOF_TYPE.into());
            let jwk = Jwk::from_encoding_key(&self.encoding(), Algorithm::ES256).unwrap();
            header.jwk = Some(Jwk {
                common: Default::default(),
                algorithm: jwk.algorithm,
            });
            header
        }

        fn proof(&self, jti: &str, iat: OffsetDateTime) -> String {
            self.sign(
                self.header(),
                serde_json::json!({
                    "jti": jti, "htm": "POST", "htu": HTU, "iat": iat.unix_timestamp(),
                }),
            )
        }
    }

    #[test]
    fn a_good_proof_names_its_key() {
        let key = Key::new();
        let a = verify(&key.proof("1", now()), "POST", HTU, None, now()).unwrap();
        let b = verify(&key.proof("2", now()), "POST", HTU, None, now()).unwrap();
        assert_eq!(a.jkt, b.jkt, "one key, one thumbprint");
        let other = verify(&Key::new().proof("1", now()), "POST", HTU, None, now()).unwrap();
        assert_ne!(a.jkt, other.jkt);
        assert_eq!(a.jkt.len(), 43, "base64url SHA-256");
    }

    #[test]
    fn proofs_for_other_requests_or_times_are_refused() {
        let key = Key::new();
        let proof = key.proof("1", now());
        assert_eq!(
            verify(&proof, "GET", HTU, None, now()),
            Err(ProofError::Target)
        );
        let elsewhere = "https://evil.test/api/auth/refresh";
        assert_eq!(
            verify(&proof, "POST", elsewhere, None, now()),
            Err(ProofError::Target)
        );
        let late = now() + Duration::seconds(61);
        assert_eq!(
            verify(&proof, "POST", HTU, None, late),
            Err(ProofError::Time)
        );
        let early = key.proof("2", now() + Duration::seconds(61));
        assert_eq!(
            verify(&early, "POST", HTU, None, now()),
            Err(ProofError::Time)
        );
        let edge = now() + Duration::seconds(60);
        assert!(
            verify(&proof, "POST", HTU, None, edge).is_ok(),
            "±60 s is in"
        );
    }

    #[test]
    fn a_forged_or_odd_proof_is_refused() {
        let (key, thief) = (Key::new(), Key::new());
        // The thief's signature over a header naming the victim's key.
        let forged = thief.sign(
            key.header(),
            serde_json::json!({"jti": "1", "htm": "POST", "htu": HTU, "iat": now().unix_timestamp()}),
        );
        assert_eq!(
            verify(&forged, "POST", HTU, None, now()),
            Err(ProofError::Signature)
        );

        let mut plain = key.header();
        plain.typ = Some("JWT".into());
        let wrong_type = key.sign(plain, serde_json::json!({}));
        assert_eq!(
            verify(&wrong_type, "POST", HTU, None, now()),
            Err(ProofError::Type)
        );

        let mut keyless = key.header();
        keyless.jwk = None;
        let claims = serde_json::json!({"jti": "1", "htm": "POST", "htu": HTU, "iat": now().unix_timestamp()});
        let keyless = key.sign(keyless, claims.clone());
        assert_eq!(
            verify(&keyless, "POST", HTU, None, now()),
            Err(ProofError::Key)
        );

        let no_jti = key.sign(
            key.header(),
            serde_json::json!({"htm": "POST", "htu": HTU, "iat": 0}),
        );
        assert_eq!(
            verify(&no_jti, "POST", HTU, None, now()),
            Err(ProofError::Malformed)
        );
        for junk in ["", "a.b.c", &"x".repeat(5000)] {
            assert_eq!(
                verify(junk, "POST", HTU, None, now()),
                Err(ProofError::Malformed)
            );
        }
        // A query on htu is ignored, as RFC 9449 says.
        let queried = key.sign(
            key.header(),
            serde_json::json!({"jti": "1", "htm": "POST", "htu": format!("{HTU}?x=1"), "iat": now().unix_timestamp()}),
        );
        assert!(verify(&queried, "POST", HTU, None, now()).is_ok());
    }

    #[test]
    fn a_proof_carrying_its_private_key_is_refused() {
        let key = Key::new();
        let good = key.proof("1", now());
        let (header, rest) = good.split_once('.').unwrap();
        let mut json: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).unwrap()).unwrap();
        json["jwk"]["d"] = "leaked".into();
        let header = URL_SAFE_NO_PAD.encode(json.to_string());
        let leaky = format!("{header}.{rest}");
        assert_eq!(
            verify(&leaky, "POST", HTU, None, now()),
            Err(ProofError::Key)
        );
    }

    #[test]
    fn extreme_issue_times_are_refused_not_wrapped() {
        let key = Key::new();
        let now_secs = now().unix_timestamp();
        // `i64::MIN + now` wrapped to a value within the window.
        for iat in [i64::MIN, i64::MIN + now_secs, i64::MIN + 1, i64::MAX, -1, 0] {
            let proof = key.sign(
                key.header(),
                serde_json::json!({"jti": "1", "htm": "POST", "htu": HTU, "iat": iat}),
            );
            assert_eq!(
                verify(&proof, "POST", HTU, None, now()),
                Err(ProofError::Time),
                "iat {iat}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn only_issue_times_within_the_skew_pass(iat in proptest::num::i64::ANY, offset in -120_i64..120) {
            // Any `iat`, and ones near now: accepted exactly when within
            // MAX_SKEW, never by overflow.
            let now = now();
            for iat in [iat, now.unix_timestamp() + offset] {
                let expected = (i128::from(iat) - i128::from(now.unix_timestamp())).abs() <= 60;
                proptest::prop_assert_eq!(within_skew(iat, now), expected, "iat {}", iat);
            }
        }
    }

    #[tokio::test]
    async fn a_proof_is_good_once() {
        let seen = UsedOnce::new(None);
        let key = Key::new();
        let proof = verify(&key.proof("1", now()), "POST", HTU, None, now()).unwrap();
        assert_eq!(first_use(&seen, &proof, now()).await.unwrap(), Ok(()));
        let again = now() + Duration::seconds(100);
        assert_eq!(
            first_use(&seen, &proof, again).await.unwrap(),
            Err(ProofError::Replayed)
        );
        let other = verify(&key.proof("2", now()), "POST", HTU, None, now()).unwrap();
        assert_eq!(first_use(&seen, &other, now()).await.unwrap(), Ok(()));
    }

    #[test]
    fn a_proof_sent_with_an_access_token_names_its_hash() {
        let key = Key::new();
        let proof = |ath: Option<&str>| {
            let mut claims = serde_json::json!({
                "jti": "1", "htm": "GET", "htu": HTU, "iat": now().unix_timestamp(),
            });
            if let Some(ath) = ath {
                claims["ath"] = ath.into();
            }
            key.sign(key.header(), claims)
        };
        let ath = access_token_hash("the.access.token");
        assert!(verify(
            &proof(Some(&ath)),
            "GET",
            HTU,
            Some("the.access.token"),
            now()
        )
        .is_ok());
        for wrong in [None, Some("x"), Some(access_token_hash("another").as_str())] {
            assert_eq!(
                verify(&proof(wrong), "GET", HTU, Some("the.access.token"), now()),
                Err(ProofError::AccessToken),
                "{wrong:?}"
            );
        }
    }
}
