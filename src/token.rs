//! Session tokens: generation, parsing and hashing.
//!
//! A session token is 256 bits from the operating system's CSPRNG, far above
//! OWASP's 64-bit minimum, encoded as unpadded base64url (43 characters) so it
//! fits a cookie value without escaping.
//!
//! The raw token only ever exists in the client's cookie and, briefly, in
//! memory while a request is served. The database stores [`TokenHash`], the
//! SHA-256 of the token: a leaked table cannot be replayed as cookies. A plain
//! (unsalted, fast) hash is right here because the input already has 256 bits
//! of entropy; password-style stretching would only slow every request.

use std::fmt;

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use rand::Rng as _;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Raw token length in bytes (256 bits).
const TOKEN_BYTES: usize = 32;
/// Length of the base64url (no padding) encoding of [`TOKEN_BYTES`].
pub const TOKEN_ENCODED_LEN: usize = 43;

/// A raw session token as handed to (and received from) the client.
///
/// Deliberately has no `Display` and a redacting `Debug`, so it cannot end up
/// in a log line or an error page by accident.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionToken(String);

impl SessionToken {
    /// Generates a fresh token from the OS CSPRNG.
    #[must_use]
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Parses an untrusted value (a cookie, a form field).
    ///
    /// Accepts exactly the shape [`SessionToken::generate`] produces, so
    /// oversized or malformed input is rejected before any hashing or
    /// database work. Returns `None` for anything else: callers treat every
    /// rejection the same way ("no session").
    #[must_use]
    pub fn parse(raw: &str) -> Option<Self> {
        if raw.len() != TOKEN_ENCODED_LEN {
            return None;
        }
        let decoded = URL_SAFE_NO_PAD.decode(raw).ok()?;
        // Re-encoding guards against non-canonical trailing bits, so one
        // token has exactly one accepted spelling.
        (decoded.len() == TOKEN_BYTES && URL_SAFE_NO_PAD.encode(&decoded) == raw)
            .then(|| Self(raw.to_owned()))
    }

    /// The value to put in the cookie.
    #[must_use]
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The at-rest form of this token.
    #[must_use]
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.0.as_bytes()).into())
    }
}

impl fmt::Debug for SessionToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionToken(<redacted>)")
    }
}

/// SHA-256 of a [`SessionToken`]: what the database stores and looks up.
#[derive(Clone, Copy, Eq)]
pub struct TokenHash([u8; 32]);

impl TokenHash {
    /// Rebuilds a hash read back from storage.
    #[must_use]
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// Rebuilds a hash from a stored byte slice; `None` if it is not 32 bytes.
    #[must_use]
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// The raw digest, for storage.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A short, non-reversible label for logs and the UI: the first 8 hex
    /// characters of the hash. Never log the token or the full hash.
    #[must_use]
    pub fn short(&self) -> String {
        self.0[..4].iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// Constant-time comparison: equality of secrets must not leak timing.
impl PartialEq for TokenHash {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", self.short())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_have_the_documented_shape_and_are_unique() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_eq!(a.expose().len(), TOKEN_ENCODED_LEN);
        assert_ne!(a, b);
        assert_ne!(a.hash(), b.hash());
    }

    #[test]
    fn a_generated_token_parses_back_to_itself() {
        let token = SessionToken::generate();
        assert_eq!(SessionToken::parse(token.expose()), Some(token));
    }

    #[test]
    fn malformed_tokens_are_rejected() {
        let good = SessionToken::generate();
        let cases = [
            String::new(),
            "a".repeat(TOKEN_ENCODED_LEN - 1),
            "a".repeat(TOKEN_ENCODED_LEN + 1),
            "a".repeat(10_000),
            format!("{}=", &good.expose()[..TOKEN_ENCODED_LEN - 1]),
            "!".repeat(TOKEN_ENCODED_LEN),
            "é".repeat(TOKEN_ENCODED_LEN),
            // Standard (not url-safe) alphabet.
            "+".repeat(TOKEN_ENCODED_LEN),
        ];
        for case in cases {
            assert_eq!(SessionToken::parse(&case), None, "accepted {case:?}");
        }
    }

    #[test]
    fn non_canonical_trailing_bits_are_rejected() {
        // 43 base64url chars carry 258 bits; the last char's low 2 bits must be 0.
        let token = SessionToken::generate();
        let mut s = token.expose().to_owned();
        let last = s.pop().unwrap_or('A');
        let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let idx = alphabet.find(last).unwrap_or(0);
        let tweaked = alphabet.as_bytes()[idx ^ 1] as char;
        s.push(tweaked);
        assert_eq!(SessionToken::parse(&s), None);
    }

    #[test]
    fn hash_is_sha256_of_the_encoded_token() {
        let token = SessionToken::parse("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA").unwrap();
        // sha256("A" * 43)
        let expected = Sha256::digest("A".repeat(43).as_bytes());
        assert_eq!(token.hash().as_bytes()[..], expected[..]);
    }

    #[test]
    fn debug_output_never_contains_the_secret() {
        let token = SessionToken::generate();
        let shown = format!("{token:?} {:?}", token.hash());
        assert!(!shown.contains(token.expose()));
        assert_eq!(token.hash().short().len(), 8);
    }

    #[test]
    fn hash_round_trips_through_storage_bytes() {
        let hash = SessionToken::generate().hash();
        assert_eq!(TokenHash::from_slice(hash.as_bytes()), Some(hash));
        assert_eq!(TokenHash::from_slice(&[0u8; 31]), None);
    }

    // Property tests: run longer with `PROPTEST_CASES=<n>`.
    proptest::proptest! {
        #[test]
        fn parse_accepts_exactly_one_spelling_of_a_token(input in "\\PC{0,80}|[A-Za-z0-9_-]{43}") {
            if let Some(token) = SessionToken::parse(&input) {
                proptest::prop_assert_eq!(token.expose(), input.as_str());
                proptest::prop_assert_eq!(input.len(), TOKEN_ENCODED_LEN);
                let bytes = URL_SAFE_NO_PAD.decode(&input).unwrap();
                proptest::prop_assert_eq!(URL_SAFE_NO_PAD.encode(bytes), input);
            }
        }
    }
}
