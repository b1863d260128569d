//! Sign-in names and passwords: validation, normalisation and hashing.
//!
//! Passwords are hashed with Argon2id at the OWASP-recommended parameters
//! (19 MiB, 2 iterations, 1 lane: the crate's defaults). Verifying an unknown
//! user runs the same work against a dummy hash, so response time does not
//! reveal which accounts exist.

use std::sync::LazyLock;

use argon2::{
    password_hash::{phc::PasswordHash, PasswordHasher as _, PasswordVerifier as _},
    Argon2,
};

use crate::Error;

/// Shortest accepted password, in characters (NIST SP 800-63B).
pub const PASSWORD_MIN_CHARS: usize = 8;
/// Longest accepted password, in characters; bounds hashing work.
pub const PASSWORD_MAX_CHARS: usize = 128;
/// The weakest estimate accepted for a new password: zxcvbn's 3, "safely
/// unguessable" (about 10¹⁰ guesses), as its authors recommend.
const MIN_STRENGTH: zxcvbn::Score = zxcvbn::Score::Three;
/// Shortest sign-in name.
pub const USERNAME_MIN_LEN: usize = 3;
/// Longest sign-in name (long enough for an e-mail address).
pub const USERNAME_MAX_LEN: usize = 254;

/// A validated, normalised sign-in name: a user name or an e-mail address.
///
/// Normalisation trims and lower-cases; only ASCII letters, digits and
/// `. _ - + @` are accepted, which rules out look-alike Unicode names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates and normalises untrusted input.
    ///
    /// # Errors
    /// [`Error::InvalidUsername`] with a message fit for the sign-up form.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let trimmed = raw.trim();
        if trimmed.len() < USERNAME_MIN_LEN || trimmed.len() > USERNAME_MAX_LEN {
            return Err(Error::InvalidUsername(
                "User name must be between 3 and 254 characters.",
            ));
        }
        if !trimmed
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-+@".contains(&b))
        {
            return Err(Error::InvalidUsername(
                "User name may contain only letters, digits and . _ - + @",
            ));
        }
        Ok(Self(trimmed.to_ascii_lowercase()))
    }

    /// The normalised name.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password that passed the length rules. Redacted in `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    /// Checks the length rules (8–128 characters; no composition rules).
    ///
    /// # Errors
    /// [`Error::InvalidPassword`] with a message fit for the sign-up form.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let chars = raw.chars().count();
        if !(PASSWORD_MIN_CHARS..=PASSWORD_MAX_CHARS).contains(&chars) {
            return Err(Error::InvalidPassword(
                "Password must be between 8 and 128 characters.",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// As [`Password::parse`], for a password being chosen (sign-up, a
    /// change): also refuses one that is easy to guess, as zxcvbn estimates
    /// it (NIST SP 800-63B asks to check new passwords against common and
    /// context-specific ones). `context` holds words the password should not
    /// lean on, such as the user name.
    ///
    /// # Errors
    /// [`Error::InvalidPassword`] for the length, or [`Error::WeakPassword`]
    /// with the estimator's advice in words a person understands.
    pub fn parse_new(raw: &str, context: &[&str]) -> Result<Self, Error> {
        let password = Self::parse(raw)?;
        password.check_strength(context)?;
        Ok(password)
    }

    /// A new password's whole CPU work, for one hashing slot
    /// ([`crate::hashing`]): the strength estimate of
    /// [`Password::parse_new`] (which a crafted password can make take
    /// hundreds of milliseconds), then the hash.
    ///
    /// # Errors
    /// [`Error::WeakPassword`] as [`Password::parse_new`], or as
    /// [`Password::hash`].
    pub fn hash_new(&self, context: &[&str]) -> Result<String, Error> {
        self.check_strength(context)?;
        self.hash()
    }

    fn check_strength(&self, context: &[&str]) -> Result<(), Error> {
        let estimate = zxcvbn::zxcvbn(&self.0, context);
        if estimate.score() >= MIN_STRENGTH {
            return Ok(());
        }
        let advice = estimate
            .feedback()
            .map(ToString::to_string)
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty())
            .unwrap_or_else(|| "Add another word or two.".to_owned());
        Err(Error::WeakPassword(advice))
    }

    /// Hashes with Argon2id and a fresh random salt, as a PHC string.
    /// CPU-heavy (tens of milliseconds): call from a blocking thread.
    ///
    /// # Errors
    /// [`Error::Hashing`] if the hasher fails (out of memory).
    pub fn hash(&self) -> Result<String, Error> {
        Argon2::default()
            .hash_password(self.0.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| Error::Hashing(err.to_string()))
    }
}

impl std::fmt::Debug for Password {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A hash of a random password, made once, with the same parameters as real
/// hashes: verifying against it costs what a real verification costs.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| {
    let random = crate::token::SessionToken::generate();
    Argon2::default()
        .hash_password(random.expose().as_bytes())
        .map(|hash| hash.to_string())
        .unwrap_or_default()
});

/// Checks `password` against a stored PHC string, or against the dummy hash
/// when there is no such user (`stored == None`); the latter always fails.
/// CPU-heavy: call from a blocking thread.
#[must_use]
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    let (phc, real) = match stored {
        Some(phc) => (phc, true),
        None => (DUMMY_HASH.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let matches = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    matches && real
}

/// Forces the dummy hash to be computed now (at start-up) rather than on the
/// first unknown-user sign-in, whose timing would otherwise stand out.
pub fn warm_up() {
    LazyLock::force(&DUMMY_HASH);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_normalised() {
        assert_eq!(
            Username::parse("  Alice@Example.COM ").unwrap().as_str(),
            "alice@example.com"
        );
    }

    #[test]
    fn bad_usernames_are_refused() {
        for bad in [
            "",
            "ab",
            "a b c",
            "robert'); DROP TABLE users;--",
            "аlice",
            &"a".repeat(255),
            "<script>",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_passwords_must_be_hard_to_guess() {
        for weak in ["password1", "qwertyuiop", "abcd1234", "iloveyou2026"] {
            match Password::parse_new(weak, &[]) {
                Err(Error::WeakPassword(advice)) => assert!(!advice.is_empty(), "{weak}"),
                other => panic!("{weak} accepted: {other:?}"),
            }
        }
        assert!(matches!(
            Password::parse_new("alice.wonder2", &["alice.wonder"]),
            Err(Error::WeakPassword(_))
        ));
        Password::parse_new("correct horse battery", &["alice"]).unwrap();
        assert!(matches!(
            Password::parse_new("short", &[]),
            Err(Error::InvalidPassword(_))
        ));
    }

    #[test]
    fn password_length_counts_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
    }

    #[test]
    fn hashes_are_argon2id_and_verify() {
        let pw = Password::parse("correct horse battery").unwrap();
        let phc = pw.hash().unwrap();
        assert!(phc.starts_with("$argon2id$"));
        assert!(verify_password("correct horse battery", Some(&phc)));
        assert!(!verify_password("wrong password", Some(&phc)));
        assert_ne!(phc, pw.hash().unwrap(), "salted");
    }

    #[test]
    fn unknown_users_never_verify_and_corrupt_hashes_fail_closed() {
        assert!(!verify_password("anything at all", None));
        assert!(!verify_password(
            "anything at all",
            Some("not a phc string")
        ));
        assert!(format!("{:?}", Password::parse("secret-secret").unwrap()).contains("redacted"));
    }
}
