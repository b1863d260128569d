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
