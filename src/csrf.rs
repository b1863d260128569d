//! CSRF tokens: signed with a server secret and bound to a session.
//!
//! The second of three CSRF layers (the first rejects cross-site requests by
//! `Sec-Fetch-Site`/`Origin`; the third is POST-only server functions). A
//! token is `<nonce>.<mac>`, both unpadded base64url, where
//!
//! ```text
//! mac = HMAC-SHA256(secret, "csrf-v1" | binding | nonce)
//! ```
//!
//! and the binding is either the SHA-256 of the request's session token, or
//! the fixed pre-session marker for visitors who are not signed in (login
//! CSRF). Consequences:
//!
//! - nobody without the secret can mint a token;
//! - a token from another session, or from before sign-in, does not verify,
//!   because the session token changes on every sign-in;
//! - a pre-session token alone proves nothing (anyone can get one), so the
//!   caller must also check it equals the CSRF cookie, which a cross-site page
//!   can neither read nor set (`__Host-`, `SameSite=Strict`): the "signed
//!   double-submit cookie" pattern.

use std::fmt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::Mac as _;
use rand::Rng as _;
use subtle::ConstantTimeEq as _;

use crate::token::SessionToken;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Bytes of randomness per token.
const NONCE_BYTES: usize = 16;
/// Length of an encoded token: 22 (nonce) + 1 + 43 (MAC).
pub const CSRF_TOKEN_LEN: usize = 66;
/// Shortest accepted secret, in bytes.
pub const MIN_SECRET_BYTES: usize = 32;
/// Domain separation, so the MAC can never collide with another use of the
/// same key.
const CONTEXT: &[u8] = b"csrf-v1";

/// What a token is bound to.
#[derive(Clone, Copy, Debug)]
pub enum Binding<'a> {
    /// The session whose token the request carries.
    Session(&'a SessionToken),
    /// No session yet: sign-in and sign-up forms.
    PreSession,
}

/// The secret that signs CSRF tokens. Every instance must share it.
#[derive(Clone)]
pub struct CsrfKey {
    bytes: [u8; 32],
    /// HMAC with the key already absorbed: each MAC clones it instead of
    /// hashing the key's two padded blocks again.
    keyed: HmacSha256,
}

/// Why a secret was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the CSRF secret must be at least {MIN_SECRET_BYTES} bytes of base64url, hex or raw text with no long repeats")]
pub struct WeakSecret;

impl CsrfKey {
    /// A fresh random key (development; production loads a configured one).
    #[must_use]
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        Self::from_bytes(key)
    }

    /// Derives the key from configured secret material.
    ///
    /// # Errors
    /// [`WeakSecret`] when it is shorter than [`MIN_SECRET_BYTES`] or made of
    /// too few distinct bytes (`aaaa…`, `0000…`, `changeme` repeated).
    pub fn from_secret(secret: &[u8]) -> Result<Self, WeakSecret> {
        let distinct = {
            let mut seen = [false; 256];
            secret.iter().for_each(|b| seen[usize::from(*b)] = true);
            seen.iter().filter(|s| **s).count()
        };
        if secret.len() < MIN_SECRET_BYTES || distinct < 12 {
            return Err(WeakSecret);
        }
        // Any length in, one fixed-size key out.
        let mut mac =
            <HmacSha256 as hmac::KeyInit>::new_from_slice(b"csrf-key").map_err(|_| WeakSecret)?;
        mac.update(secret);
        Ok(Self::from_bytes(mac.finalize().into_bytes().into()))
    }

    /// The key's bytes, for persisting a generated development key.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.bytes
    }

    /// Restores a key written with [`CsrfKey::as_bytes`].
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self {
            bytes,
            keyed: keyed(&bytes),
        }
    }

    /// A new token for `binding`.
    #[must_use]
    pub fn issue(&self, binding: Binding<'_>) -> String {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = URL_SAFE_NO_PAD.encode(self.mac(binding, &nonce));
        format!("{nonce}.{mac}")
    }

    /// Whether `presented` was issued by this key for `binding`.
    ///
    /// Malformed input of any size is rejected before any hashing; the MAC
    /// comparison is constant-time.
    #[must_use]
    pub fn verify(&self, binding: Binding<'_>, presented: &str) -> bool {
        if presented.len() != CSRF_TOKEN_LEN {
            return false;
        }
        let Some((nonce, mac)) = presented.split_once('.') else {
            return false;
        };
        let Ok(mac) = URL_SAFE_NO_PAD.decode(mac) else {
            return false;
        };
        nonce.len() == 22
            && URL_SAFE_NO_PAD.decode(nonce).is_ok()
            && bool::from(self.mac(binding, nonce).as_slice().ct_eq(&mac))
    }

    fn mac(&self, binding: Binding<'_>, nonce: &str) -> [u8; 32] {
        let mut mac = self.keyed.clone();
        mac.update(CONTEXT);
        match binding {
            Binding::Session(token) => {
                mac.update(b"|s|");
                mac.update(token.hash().as_bytes());
            }
            Binding::PreSession => mac.update(b"|p|"),
        }
        mac.update(b"|");
        mac.update(nonce.as_bytes());
        mac.finalize().into_bytes().into()
    }
}

/// HMAC-SHA256 keyed with `key`. A key shorter than SHA-256's 64-byte block
/// is zero-padded to it (RFC 2104, section 2), so the padded block is the
/// same key, and `KeyInit::new` takes it without a fallible length check.
fn keyed(key: &[u8; 32]) -> HmacSha256 {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <HmacSha256 as hmac::KeyInit>::new(&block.into())
}

impl fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CsrfKey(<redacted>)")
    }
}

/// Constant-time equality of a presented token and the cookie's copy.
#[must_use]
pub fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_padded_key_is_the_same_hmac_key() {
        let key = CsrfKey::generate();
        let mut direct =
            <HmacSha256 as hmac::KeyInit>::new_from_slice(key.as_bytes()).expect("any length");
        direct.update(b"message");
        let mut padded = key.keyed.clone();
        padded.update(b"message");
        assert_eq!(
            direct.finalize().into_bytes(),
            padded.finalize().into_bytes()
        );
    }

    #[test]
    fn a_token_verifies_only_for_its_own_binding_and_key() {
        let key = CsrfKey::generate();
        let mine = SessionToken::generate();
        let theirs = SessionToken::generate();
        let token = key.issue(Binding::Session(&mine));
        assert_eq!(token.len(), CSRF_TOKEN_LEN);
        assert!(key.verify(Binding::Session(&mine), &token));
        assert!(
            !key.verify(Binding::Session(&theirs), &token),
            "other session"
        );
        assert!(!key.verify(Binding::PreSession, &token), "pre-session");
        assert!(
            !CsrfKey::generate().verify(Binding::Session(&mine), &token),
            "other key"
        );

        let pre = key.issue(Binding::PreSession);
        assert!(key.verify(Binding::PreSession, &pre));
        assert!(
            !key.verify(Binding::Session(&mine), &pre),
            "token from before sign-in"
        );
    }

    #[test]
    fn tampered_and_malformed_tokens_are_refused() {
        let key = CsrfKey::generate();
        let token = key.issue(Binding::PreSession);
        let mut flipped = token.clone().into_bytes();
        let last = flipped.len() - 2;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        let flipped = String::from_utf8(flipped).unwrap();
        for bad in [
            "",
            ".",
            flipped.as_str(),
            &token[..CSRF_TOKEN_LEN - 1],
            &format!("{token}A"),
            &token.replace('.', "!"),
            &"A".repeat(CSRF_TOKEN_LEN),
            &"é".repeat(33),
        ] {
            assert!(!key.verify(Binding::PreSession, bad), "{bad:?}");
        }
    }

    #[test]
    fn weak_secrets_are_refused() {
        assert_eq!(CsrfKey::from_secret(b"short").err(), Some(WeakSecret));
        assert!(CsrfKey::from_secret(&[b'a'; 64]).is_err());
        assert!(CsrfKey::from_secret(b"changemechangemechangemechangeme").is_err());
        let good = CsrfKey::from_secret(b"Zr4K9vQx2LmN8pT1wY6cH3jB5dF7gS0a").unwrap();
        let again = CsrfKey::from_secret(b"Zr4K9vQx2LmN8pT1wY6cH3jB5dF7gS0a").unwrap();
        let token = good.issue(Binding::PreSession);
        assert!(
            again.verify(Binding::PreSession, &token),
            "same secret, same key"
        );
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", CsrfKey::generate()), "CsrfKey(<redacted>)");
    }

    // Property tests: run longer with `PROPTEST_CASES=<n>`.
    proptest::proptest! {
        #[test]
        fn arbitrary_input_never_verifies(input in "\\PC{0,120}") {
            let key = CsrfKey::generate();
            let session = SessionToken::generate();
            proptest::prop_assert!(!key.verify(Binding::PreSession, &input));
            proptest::prop_assert!(!key.verify(Binding::Session(&session), &input));
        }

        #[test]
        fn any_one_character_change_is_refused(pos in 0usize..CSRF_TOKEN_LEN, pick in 0usize..64) {
            let key = CsrfKey::generate();
            let token = key.issue(Binding::PreSession);
            let changed = crate::testing::change_one(&token, pos, pick);
            // The MAC covers the nonce's exact text, and the MAC itself is
            // decoded strictly: no other spelling verifies.
            proptest::prop_assert!(!key.verify(Binding::PreSession, &changed));
        }
    }
}
