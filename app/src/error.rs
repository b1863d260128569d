//! The error type of every server function: serialisable, and with messages
//! written for the person using the site. Internals (SQL, paths, stack
//! traces) are logged on the server and never put in an `AppError`.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

/// The advice shown for a weak password carried through a redirect (a form
/// posted without JavaScript), where the estimator's own words are not.
const WEAK_ADVICE: &str = "Use a few words together, and avoid common phrases, names and dates.";

/// What went wrong, as the user may be told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    /// Unknown user or wrong password (deliberately indistinguishable).
    #[error("Invalid user name or password.")]
    InvalidCredentials,
    /// The sign-up name does not meet the rules.
    #[error("User name must be 3–254 characters: letters, digits and . _ - + @ only.")]
    InvalidUsername,
    /// The password does not meet the rules.
    #[error("Password must be between 8 and 128 characters.")]
    InvalidPassword,
    /// A new password that is easy to guess, with the estimator's advice.
    #[error("This password is easy to guess. {0}")]
    WeakPassword(String),
    /// The password given to confirm an action is not the user's.
    #[error("That is not your current password.")]
    WrongPassword,
    /// A sensitive action needs the password again: the last proof is older
    /// than the re-authentication window.
    #[error("For your security, please confirm your password to continue.")]
    ReauthRequired,
    /// The typed confirmation (the user name, to delete an account) does
    /// not match.
    #[error("Type your user name exactly as shown to confirm.")]
    ConfirmationMismatch,
    /// The sign-up name is taken.
    #[error("That user name is already taken.")]
    UsernameTaken,
    /// The CSRF check failed: a stale page, or a request from elsewhere.
    #[error("This page has expired or the request did not come from this site. Reload the page and try again.")]
    StaleForm,
    /// The email address is not one.
    #[error("Enter an email address like name@example.com.")]
    InvalidEmail,
    /// The address is verified on another account (said only to whoever
    /// opened the link mailed to it).
    #[error("This address is already confirmed on another account.")]
    EmailTaken,
    /// A link from a mail that does not work (any more).
    #[error("This link has expired or has been used. Ask for a new one.")]
    LinkRejected,
    /// A sign-in link opened in another browser than the one that asked.
    #[error("This link signs in only in the browser where you asked for it. Open it there, or enter the code from the message there.")]
    OtherBrowser,
    /// The address has received its share of mail for now.
    #[error("We sent a message to this address moments ago. Please check your inbox, or try again in a few minutes.")]
    TooManyMails,
    /// A sign-in with an identity provider that did not verify (no flow in
    /// this browser, a used or forged one, a token that failed a check).
    #[error("That sign-in could not be completed. Please try again.")]
    IdentityFailed,
    /// The person cancelled at the provider, or it refused them.
    #[error("The sign-in was cancelled at the provider. Nothing was changed.")]
    IdentityDeclined,
    /// The identity is linked to another account already.
    #[error("That account at the provider is already linked to an account here.")]
    IdentityTaken,
    /// A new identity whose verified address is an account's here.
    #[error("An account here already uses that address. Sign in to it another way, then link the provider from your account page.")]
    IdentityAddressInUse,
    /// The identity is not linked to the signed-in account.
    #[error("That account at the provider is not linked to yours.")]
    IdentityNotLinked,
    /// The provider's discovery or keys cannot be fetched right now.
    #[error("The sign-in provider cannot be reached right now. Please try again in a minute, or sign in another way.")]
    ProviderUnavailable,
    /// A brute-force limit was hit; `Retry-After` says for how long.
    #[error("Too many attempts. Please wait a minute, then try again.")]
    TooManyAttempts,
    /// No valid session.
    #[error("Please sign in to continue.")]
    Unauthorized,
    /// The thing does not exist, or is not the caller's.
    #[error("That session no longer exists.")]
    NotFound,
    /// A passkey ceremony that did not verify (or expired, or was used).
    #[error("That passkey could not be verified. Please try again, or sign in another way.")]
    PasskeyFailed,
    /// The passkey is registered already.
    #[error("This passkey is already registered.")]
    PasskeyTaken,
    /// The passkey to rename or remove is not there (or not the caller's),
    /// or the account has none to confirm with.
    #[error("That passkey no longer exists.")]
    NoPasskey,
    /// Removing it would leave the account with no way to sign in.
    #[error("This is the only way to sign in to your account: add a password or another passkey before removing it.")]
    LastCredential,
    /// Too many sign-ins are being checked at once; `Retry-After` says when
    /// to try again.
    #[error("The server is busy checking other sign-ins. Please try again in a few seconds.")]
    Busy,
    /// The database or session store is unreachable.
    #[error("The service is temporarily unavailable. Please try again in a moment.")]
    Unavailable,
    /// Anything else; details are in the server log.
    #[error("Something went wrong. Please try again.")]
    Internal,
    /// The request itself was malformed (a body that is not the JSON or
    /// form the endpoint takes, a missing field).
    #[error("The request was not understood. Reload the page and try again.")]
    BadRequest,
    /// The server function machinery itself failed (network, encoding).
    #[error("The request could not be completed. Check your connection and try again.")]
    Transport,
}

impl AppError {
    /// A short, stable code, used to carry the error through a redirect when
    /// a form was posted without JavaScript (`/login?error=invalid_credentials`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCredentials => "invalid_credentials",
            Self::InvalidUsername => "invalid_username",
            Self::InvalidPassword => "invalid_password",
            Self::WeakPassword(_) => "weak_password",
            Self::WrongPassword => "wrong_password",
            Self::ReauthRequired => "reauth_required",
            Self::ConfirmationMismatch => "confirmation_mismatch",
            Self::UsernameTaken => "username_taken",
            Self::StaleForm => "stale_form",
            Self::TooManyAttempts => "too_many_attempts",
            Self::InvalidEmail => "invalid_email",
            Self::EmailTaken => "email_taken",
            Self::LinkRejected => "link_rejected",
            Self::TooManyMails => "too_many_mails",
            Self::OtherBrowser => "other_browser",
            Self::IdentityFailed => "identity_failed",
            Self::IdentityDeclined => "identity_declined",
            Self::IdentityTaken => "identity_taken",
            Self::IdentityAddressInUse => "identity_address_in_use",
            Self::IdentityNotLinked => "identity_not_linked",
            Self::ProviderUnavailable => "provider_unavailable",
            Self::Unauthorized => "unauthorized",
            Self::NotFound => "not_found",
            Self::PasskeyFailed => "passkey_failed",
            Self::PasskeyTaken => "passkey_taken",
            Self::NoPasskey => "no_passkey",
            Self::LastCredential => "last_credential",
            Self::Busy => "busy",
            Self::Unavailable => "unavailable",
            Self::Internal => "internal",
            Self::BadRequest => "bad_request",
            Self::Transport => "transport",
        }
    }

    /// Every error, once (the weak-password one with generic advice, as
    /// it is carried by its code alone).
    #[must_use]
    pub fn all() -> [Self; 32] {
        [
            Self::InvalidCredentials,
            Self::InvalidUsername,
            Self::InvalidPassword,
            Self::WeakPassword(WEAK_ADVICE.to_owned()),
            Self::WrongPassword,
            Self::ReauthRequired,
            Self::ConfirmationMismatch,
            Self::UsernameTaken,
            Self::StaleForm,
            Self::TooManyAttempts,
            Self::Unauthorized,
            Self::NotFound,
            Self::PasskeyFailed,
            Self::PasskeyTaken,
            Self::NoPasskey,
            Self::LastCredential,
            Self::Busy,
            Self::Unavailable,
            Self::Internal,
            Self::BadRequest,
            Self::Transport,
            Self::InvalidEmail,
            Self::EmailTaken,
            Self::LinkRejected,
            Self::TooManyMails,
            Self::OtherBrowser,
            Self::IdentityFailed,
            Self::IdentityDeclined,
            Self::IdentityTaken,
            Self::IdentityAddressInUse,
            Self::IdentityNotLinked,
            Self::ProviderUnavailable,
        ]
    }

    /// The error for a code from a URL; unknown codes yield `None`, so no
    /// attacker-chosen text is ever shown.
    #[must_use]
    pub fn from_code(code: &str) -> Option<Self> {
        Self::all().into_iter().find(|e| e.code() == code)
    }

    /// The error serde names `variant` (its default, "externally tagged"
    /// form: the variant's name, with the text of one that holds one), for
    /// the browser, which reads it without a JSON deserialiser of its own.
    /// `None` for a name or a text that is not one of ours.
    #[must_use]
    pub fn from_variant(variant: &str, text: Option<String>) -> Option<Self> {
        let pascal = variant.starts_with(|c: char| c.is_ascii_uppercase())
            && variant.chars().all(|c| c.is_ascii_alphanumeric());
        if !pascal {
            return None;
        }
        let mut code = String::with_capacity(variant.len() + 4);
        for (i, c) in variant.chars().enumerate() {
            if c.is_ascii_uppercase() && i > 0 {
                code.push('_');
            }
            code.push(c.to_ascii_lowercase());
        }
        match (Self::from_code(&code)?, text) {
            (Self::WeakPassword(_), Some(advice)) => Some(Self::WeakPassword(advice)),
            (Self::WeakPassword(_), None) | (_, Some(_)) => None,
            (error, None) => Some(error),
        }
    }

    /// The HTTP status for this error.
    #[must_use]
    pub fn status(&self) -> u16 {
        match self {
            Self::InvalidCredentials | Self::Unauthorized | Self::PasskeyFailed => 401,
            Self::InvalidUsername
            | Self::InvalidPassword
            | Self::WeakPassword(_)
            | Self::ConfirmationMismatch
            | Self::InvalidEmail
            | Self::LinkRejected
            | Self::OtherBrowser
            | Self::IdentityFailed
            | Self::IdentityDeclined
            | Self::BadRequest
            | Self::Transport => 400,
            // RFC 9470 answers step-up with 401; 403 keeps a session that
            // exists from reading as signed out.
            Self::WrongPassword | Self::ReauthRequired | Self::IdentityNotLinked => 403,
            Self::UsernameTaken
            | Self::PasskeyTaken
            | Self::LastCredential
            | Self::EmailTaken
            | Self::IdentityTaken
            | Self::IdentityAddressInUse => 409,
            Self::StaleForm => 403,
            Self::TooManyAttempts | Self::TooManyMails => 429,
            Self::NotFound | Self::NoPasskey => 404,
            Self::Busy | Self::Unavailable | Self::ProviderUnavailable => 503,
            Self::Internal => 500,
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    /// What the server function machinery reports: on the server, a
    /// request it could not decode (arguments, body) is the caller's
    /// mistake (400, [`AppError::BadRequest`]); in the browser, anything it
    /// reports is the way there or back ([`AppError::Transport`]).
    fn from_server_fn_error(err: ServerFnErrorErr) -> Self {
        match err {
            ServerFnErrorErr::Args(_)
            | ServerFnErrorErr::MissingArg(_)
            | ServerFnErrorErr::Deserialization(_) => Self::BadRequest,
            _ => Self::Transport,
        }
    }
}

#[cfg(feature = "ssr")]
impl From<engine::Error> for AppError {
    fn from(err: engine::Error) -> Self {
        use engine::Error as E;
        match err {
            E::InvalidCredentials => Self::InvalidCredentials,
            E::UsernameTaken => Self::UsernameTaken,
            E::NotFound | E::InvalidId => Self::NotFound,
            // The same prompt as a stale sign-in: confirm, then retry.
            E::ConfirmationRequired => Self::ReauthRequired,
            // The password used is no longer the account's.
            E::CredentialsChanged => Self::InvalidCredentials,
            E::PasskeyRejected => Self::PasskeyFailed,
            E::PasskeyTaken => Self::PasskeyTaken,
            E::LastCredential => Self::LastCredential,
            E::InvalidUsername(_) => Self::InvalidUsername,
            E::InvalidPassword(_) => Self::InvalidPassword,
            E::WeakPassword(advice) => Self::WeakPassword(advice),
            E::InvalidEmail(_) => Self::InvalidEmail,
            E::EmailTaken => Self::EmailTaken,
            E::LinkRejected => Self::LinkRejected,
            E::TooManyMails => Self::TooManyMails,
            E::OtherBrowser => Self::OtherBrowser,
            E::IdentityRejected => Self::IdentityFailed,
            E::IdentityDeclined => Self::IdentityDeclined,
            E::IdentityTaken => Self::IdentityTaken,
            E::IdentityAddressInUse => Self::IdentityAddressInUse,
            E::IdentityNotLinked => Self::IdentityNotLinked,
            E::ProviderUnavailable => Self::ProviderUnavailable,
            E::Invalid(detail) => {
                tracing::error!(error = %detail, "invalid engine setting");
                Self::Internal
            }
            E::Busy => {
                tracing::debug!("password hashing queue full: sign-in refused with 503");
                Self::Busy
            }
            E::Storage(ref detail) => {
                tracing::error!(error = %detail, "storage failure");
                Self::Unavailable
            }
            E::Hashing(ref detail) => {
                tracing::error!(error = %detail, "hashing failure");
                Self::Internal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_round_trips_through_its_code_and_unknown_codes_are_ignored() {
        // Exhaustive, so a new variant does not compile until it is here;
        // then `all()` must hold it for the count to match.
        fn position(e: &AppError) -> usize {
            use AppError as E;
            match e {
                E::InvalidCredentials => 0,
                E::InvalidUsername => 1,
                E::InvalidPassword => 2,
                E::WeakPassword(_) => 3,
                E::WrongPassword => 4,
                E::ReauthRequired => 5,
                E::ConfirmationMismatch => 6,
                E::UsernameTaken => 7,
                E::StaleForm => 8,
                E::TooManyAttempts => 9,
                E::Unauthorized => 10,
                E::NotFound => 11,
                E::PasskeyFailed => 12,
                E::PasskeyTaken => 13,
                E::NoPasskey => 14,
                E::LastCredential => 15,
                E::Busy => 16,
                E::Unavailable => 17,
                E::Internal => 18,
                E::BadRequest => 19,
                E::Transport => 20,
                E::InvalidEmail => 21,
                E::EmailTaken => 22,
                E::LinkRejected => 23,
                E::TooManyMails => 24,
                E::OtherBrowser => 25,
                E::IdentityFailed => 26,
                E::IdentityDeclined => 27,
                E::IdentityTaken => 28,
                E::IdentityAddressInUse => 29,
                E::IdentityNotLinked => 30,
                E::ProviderUnavailable => 31,
            }
        }
        let all = AppError::all();
        let positions: std::collections::BTreeSet<_> = all.iter().map(position).collect();
        assert_eq!(
            positions,
            (0..all.len()).collect(),
            "all() holds every variant once"
        );
        for e in all {
            assert_eq!(AppError::from_code(e.code()), Some(e.clone()), "{e:?}");
            assert!((400..600).contains(&e.status()), "{e:?}");
            assert!(!e.to_string().is_empty());
        }
        assert_eq!(AppError::from_code("<script>alert(1)</script>"), None);
    }

    /// The browser reads a server function's error by its variant's name
    /// (`from_variant`), the server writes it with serde: every error,
    /// the weak password's own advice included, must come back as itself.
    #[test]
    fn every_error_serde_writes_is_read_back_by_its_variant() {
        let mut all = AppError::all().to_vec();
        all.push(AppError::WeakPassword("Add another word or two.".into()));
        for e in all {
            let written = serde_json::to_value(&e).expect("an error serialises");
            let (variant, text) = match written {
                serde_json::Value::String(variant) => (variant, None),
                serde_json::Value::Object(members) => {
                    let (variant, text) = members.into_iter().next().expect("one member");
                    (variant, text.as_str().map(str::to_owned))
                }
                other => panic!("{e:?} is written as {other}"),
            };
            assert_eq!(
                AppError::from_variant(&variant, text),
                Some(e.clone()),
                "{e:?}"
            );
        }
        for (variant, text) in [
            ("NoSuchError", None),
            ("WeakPassword", None),
            ("InvalidCredentials", Some("text".to_owned())),
            ("invalid_credentials", None),
        ] {
            assert_eq!(
                AppError::from_variant(variant, text.clone()),
                None,
                "{variant} {text:?}"
            );
        }
    }
}
