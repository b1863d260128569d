//! One-time links sent by mail.
//!
//! The token in the link is 256 bits from the OS CSPRNG (a
//! [`SessionToken`]: the same shape, parser and at-rest hash), so a leaked
//! table holds nothing that opens a link. Each stored link is bound to its
//! purpose, its account and the address it was sent to, expires, is taken
//! (deleted) by its one use, and ends the older links of the same account
//! and purpose when it is issued.

use time::{Duration, OffsetDateTime};

use crate::{id::UserId, record::stored_names, token::TokenHash, SessionToken};

use super::EmailAddress;

stored_names! {
    /// What a link is for: a link made for one purpose does nothing for
    /// another.
    pub enum LinkPurpose {
        /// Proves the account's owner reads the address.
        Verify = "verify",
        /// Opens the page that sets a new password (the password is
        /// forgotten).
        Reset = "reset",
        /// Sent to the address a change replaced: puts it back and signs
        /// every device out ("it was not me").
        Revert = "revert",
        /// Signs in the browser that asked for it (with its code, or
        /// opened there).
        SignIn = "sign_in",
    }
}

impl LinkPurpose {
    /// How long a link works: a verification waits a day for its mail to
    /// be read; a link that stands in for the password works for 15
    /// minutes (OWASP's Forgot Password cheat sheet).
    #[must_use]
    pub fn lifetime(self) -> Duration {
        match self {
            Self::Verify => Duration::hours(24),
            Self::Reset | Self::SignIn => Duration::minutes(15),
            // Long enough for an owner who reads mail weekly; it can only
            // give the address back to where the link was sent.
            Self::Revert => Duration::days(7),
        }
    }
}

/// A link about to be stored and mailed.
#[derive(Clone, Debug)]
pub struct NewLink {
    /// What it is for.
    pub purpose: LinkPurpose,
    /// Whose.
    pub user_id: UserId,
    /// Where it is sent.
    pub address: EmailAddress,
    /// The token's hash: the token itself goes into the mail only.
    pub token_hash: TokenHash,
    /// When it was made.
    pub created_at: OffsetDateTime,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// The browser it is for: the hash of its cookie (sign-in links).
    pub binding: Option<TokenHash>,
    /// The hash of its code ([`code_hash`]), for that browser.
    pub code_hash: Option<TokenHash>,
}

/// Wrong codes a sign-in link survives; the next one ends it.
pub const CODE_ATTEMPTS: i64 = 5;

/// A code's at-rest form: bound to the browser it is for, so a code is
/// worth nothing without that browser's cookie.
#[must_use]
pub fn code_hash(binding: &TokenHash, code: &str) -> TokenHash {
    use sha2::Digest as _;
    let mut hasher = sha2::Sha256::new();
    hasher.update(binding.as_bytes());
    hasher.update(code.as_bytes());
    TokenHash::from_bytes(hasher.finalize().into())
}

/// The binding of a verification code: the account it was sent for, so it
/// works only in a session of that account (typed on its email page).
#[must_use]
pub fn account_binding(user: UserId) -> TokenHash {
    use sha2::Digest as _;
    TokenHash::from_bytes(sha2::Sha256::digest(format!("account:{user}")).into())
}

/// Whether `code` has the shape of one: six digits (surrounding spaces
/// and a middle space, as people type them, are ignored).
#[must_use]
pub fn parse_code(code: &str) -> Option<String> {
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    (digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

impl NewLink {
    /// Binds the link to the browser whose cookie hashes to `binding`, and
    /// gives it a six-digit code for that browser; returns the code.
    #[must_use]
    pub fn with_code(mut self, binding: TokenHash) -> (Self, String) {
        let code = format!("{:06}", rand::random_range(0..1_000_000));
        self.code_hash = Some(code_hash(&binding, &code));
        self.binding = Some(binding);
        (self, code)
    }

    /// A new link for `purpose`, and the token to put in the mail.
    #[must_use]
    pub fn issue(
        purpose: LinkPurpose,
        user_id: UserId,
        address: EmailAddress,
        now: OffsetDateTime,
    ) -> (Self, SessionToken) {
        let token = SessionToken::generate();
        let link = Self {
            purpose,
            user_id,
            address,
            token_hash: token.hash(),
            created_at: now,
            expires_at: now + purpose.lifetime(),
            binding: None,
            code_hash: None,
        };
        (link, token)
    }
}

/// A stored link, as taken by its use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkRecord {
    /// What it is for.
    pub purpose: LinkPurpose,
    /// Whose.
    pub user_id: UserId,
    /// The address it was sent to.
    pub address: EmailAddress,
    /// When it stops working.
    pub expires_at: OffsetDateTime,
    /// The browser it is for, if it is bound to one.
    pub binding: Option<TokenHash>,
}

impl LinkRecord {
    /// Whether it still works at `now`.
    #[must_use]
    pub fn is_live(&self, now: OffsetDateTime) -> bool {
        now < self.expires_at
    }
}

#[cfg(test)]
mod tests {
    use time::OffsetDateTime;

    use super::{LinkPurpose, NewLink};
    use crate::{email::EmailAddress, id::UserId};

    /// The lifetimes the pages, the mails and the guide state.
    #[test]
    fn each_purpose_lives_as_long_as_its_mail_says() {
        use time::Duration;
        let lifetimes: Vec<_> = LinkPurpose::ALL
            .iter()
            .map(|p| (*p, p.lifetime()))
            .collect();
        assert_eq!(
            lifetimes,
            [
                (LinkPurpose::Verify, Duration::hours(24)),
                (LinkPurpose::Reset, Duration::minutes(15)),
                (LinkPurpose::Revert, Duration::days(7)),
                (LinkPurpose::SignIn, Duration::minutes(15)),
            ]
        );
    }

    #[test]
    fn codes_are_six_digits_as_typed_and_bound_to_their_binding() {
        use super::{code_hash, parse_code};
        assert_eq!(parse_code(" 123 456 ").as_deref(), Some("123456"));
        for bad in ["12345", "1234567", "12a456", ""] {
            assert_eq!(parse_code(bad), None, "{bad}");
        }
        let (a, b) = (
            crate::SessionToken::generate().hash(),
            crate::SessionToken::generate().hash(),
        );
        assert_ne!(code_hash(&a, "123456"), code_hash(&b, "123456"));
        let (link, code) = NewLink::issue(
            LinkPurpose::SignIn,
            UserId::new(),
            EmailAddress::trusted("ada@example.com"),
            OffsetDateTime::UNIX_EPOCH,
        )
        .0
        .with_code(a);
        assert_eq!(parse_code(&code).as_deref(), Some(code.as_str()));
        assert_eq!(link.code_hash, Some(code_hash(&a, &code)));
        assert_eq!(link.binding, Some(a));
    }

    #[test]
    fn a_link_is_stored_as_the_hash_of_the_token_it_mails() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let address = EmailAddress::trusted("ada@example.com");
        let (link, token) = NewLink::issue(LinkPurpose::Verify, UserId::new(), address, now);
        assert_eq!(link.token_hash, token.hash());
        assert_eq!(link.expires_at - now, LinkPurpose::Verify.lifetime());
        let (_, other) = NewLink::issue(LinkPurpose::Verify, UserId::new(), link.address, now);
        assert_ne!(token, other);
    }
}
