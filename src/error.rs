//! The engine's error type.

/// Errors from the session engine.
///
/// Messages are safe to log but are not meant for end users: the web layer
/// maps each variant to its own user-facing text and status code.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Unknown user or wrong password: deliberately one variant, so callers
    /// cannot tell the two apart.
    #[error("invalid user name or password")]
    InvalidCredentials,
    /// The user name is already registered.
    #[error("user name already taken")]
    UsernameTaken,
    /// A sign-up name that breaks the rules; the message says which.
    #[error("{0}")]
    InvalidUsername(&'static str),
    /// A password that breaks the rules; the message says which.
    #[error("{0}")]
    InvalidPassword(&'static str),
    /// A new password that is too easy to guess; the message is advice for
    /// the person choosing it.
    #[error("{0}")]
    WeakPassword(String),
    /// A setting failed validation; the message says what is expected.
    #[error("{0}")]
    Invalid(&'static str),
    /// A malformed identifier.
    #[error("invalid identifier")]
    InvalidId,
    /// A passkey ceremony that did not verify: an unknown, expired or
    /// already used ceremony, a foreign origin, a bad signature, an unknown
    /// credential or one whose counter went back. One variant, so a caller
    /// learns nothing of which (the detail is logged).
    #[error("passkey not verified")]
    PasskeyRejected,
    /// This passkey is registered already (to this or another account).
    #[error("passkey already registered")]
    PasskeyTaken,
    /// The last credential of an account without a password cannot go.
    #[error("last credential")]
    LastCredential,
    /// The session or account does not exist or is not the caller's.
    #[error("not found")]
    NotFound,
    /// The act needs a credential proved again within this session (a
    /// confirmation), not only the sign-in that began it: adding a
    /// credential, changing the password without the current one,
    /// dismissing a notice raised since the session began.
    #[error("a fresh credential proof is needed")]
    ConfirmationRequired,
    /// The account's credentials changed (or the account was deleted)
    /// while this sign-in ran: the session it made is ended.
    #[error("the account's credentials changed during the sign-in")]
    CredentialsChanged,
    /// An email address that breaks the rules; the message says which.
    #[error("{0}")]
    InvalidEmail(&'static str),
    /// The address is verified on another account already (said only to
    /// whoever opened the link sent to it).
    #[error("email address in use")]
    EmailTaken,
    /// A link from a mail that is unknown, used, expired, for another
    /// purpose, or for an address the account no longer has. One variant,
    /// so its holder learns nothing of which.
    #[error("link not valid")]
    LinkRejected,
    /// A sign-in link opened in another browser than the one that asked
    /// for it: it signs in only there (or with its code, there).
    #[error("link opened in another browser")]
    OtherBrowser,
    /// The address has received its share of mail for now
    /// ([`crate::email::mail::over_limit`]).
    #[error("too many messages to this address")]
    TooManyMails,
    /// A sign-in with an identity provider that did not verify: no flow
    /// in this browser (or a used or expired one), a wrong `state`, a code
    /// the provider would not exchange, an ID token that failed a check.
    /// One variant, so the caller learns nothing of which (the detail is
    /// logged).
    #[error("identity provider sign-in not verified")]
    IdentityRejected,
    /// The provider answered that the person did not sign in (they
    /// cancelled, or it refused them).
    #[error("identity provider sign-in declined")]
    IdentityDeclined,
    /// The identity is linked to an account already (another one, when
    /// linking).
    #[error("identity already linked")]
    IdentityTaken,
    /// A new identity whose verified address is an account's: it is not
    /// linked without that account's proof (sign in, then link).
    #[error("identity's address belongs to an account")]
    IdentityAddressInUse,
    /// A confirmation with an identity that is not linked to the account.
    #[error("identity not linked to this account")]
    IdentityNotLinked,
    /// The provider's discovery document or keys could not be fetched
    /// (yet): try again shortly.
    #[error("identity provider unavailable")]
    ProviderUnavailable,
    /// The storage backend failed or is unreachable.
    #[error("storage error: {0}")]
    Storage(String),
    /// Too many password checks are running or waiting: try again shortly.
    #[error("too many sign-ins at once")]
    Busy,
    /// Password hashing failed (out of memory, or a corrupt stored hash).
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

impl Error {
    /// Wraps a backend error, keeping its message for the logs only.
    pub fn storage(err: impl std::fmt::Display) -> Self {
        Self::Storage(err.to_string())
    }
}

#[cfg(any(feature = "sqlite", feature = "postgres"))]
impl From<sqlx::Error> for Error {
    fn from(err: sqlx::Error) -> Self {
        Self::storage(err)
    }
}
