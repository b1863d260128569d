//! An email address: checked once, kept as typed, looked up by its key.
//!
//! The syntax check is the `email_address` crate's (RFC 5321/5322), with
//! limits of our own: a domain name with a dot (no literal), at most 254 characters (RFC 5321's path limit
//! less its brackets) and no display name (`Name <a@b>`): a form field
//! holds an address only. The key lower-cases the whole address: mail
//! providers treat the local part case-insensitively in practice, and one
//! account per inbox matters more than the rare server that does not.

use email_address::Options;

use crate::Error;

/// Longest address accepted (RFC 5321, 4.5.3.1.3).
pub const MAX_LEN: usize = 254;

/// A checked email address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EmailAddress {
    address: String,
    key: String,
}

impl EmailAddress {
    /// Checks an address typed in a form (surrounding spaces ignored).
    ///
    /// # Errors
    /// [`Error::InvalidEmail`], saying what is wrong.
    pub fn parse(raw: &str) -> Result<Self, Error> {
        let address = raw.trim();
        if address.is_empty() {
            return Err(Error::InvalidEmail("enter an email address"));
        }
        if address.chars().count() > MAX_LEN {
            return Err(Error::InvalidEmail(
                "an email address has at most 254 characters",
            ));
        }
        let options = Options {
            minimum_sub_domains: 2,
            allow_domain_literal: false,
            allow_display_text: false,
            ..Options::default()
        };
        email_address::EmailAddress::parse_with_options(address, options)
            .map_err(|_| Error::InvalidEmail("that is not an email address (name@example.com)"))?;
        Ok(Self::trusted(address))
    }

    /// An address read back from storage, where only checked ones are
    /// written.
    #[must_use]
    pub fn trusted(address: &str) -> Self {
        Self {
            address: address.to_owned(),
            key: address.to_lowercase(),
        }
    }

    /// As typed.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.address
    }

    /// The lookup key: unique among verified addresses.
    #[must_use]
    pub fn key(&self) -> &str {
        &self.key
    }
}

impl std::fmt::Display for EmailAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.address)
    }
}

#[cfg(test)]
mod tests {
    use super::EmailAddress;

    #[test]
    fn an_address_keeps_its_case_and_keys_in_lower_case() {
        let address = EmailAddress::parse("  Ada.Lovelace@Example.ORG ").expect("valid");
        assert_eq!(address.as_str(), "Ada.Lovelace@Example.ORG");
        assert_eq!(address.key(), "ada.lovelace@example.org");
    }

    #[test]
    fn what_is_not_an_address_is_refused_with_a_reason() {
        let long = format!("{}@example.com", "a".repeat(250));
        for raw in [
            "",
            "   ",
            "ada",
            "ada@",
            "@example.com",
            "ada@@example.com",
            "Ada <ada@example.com>",
            "ada@example",
            "ada@exa mple.com",
            long.as_str(),
        ] {
            let err = EmailAddress::parse(raw).expect_err(raw);
            assert!(!err.to_string().is_empty(), "{raw}");
        }
        assert!(
            EmailAddress::parse("ada@[192.0.2.1]").is_err(),
            "no domain literal"
        );
        assert!(EmailAddress::parse("ada+tag@mail.example.co.uk").is_ok());
    }
}
