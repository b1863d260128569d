//! `navigator.credentials` for passkeys, as the browser app calls it.
//!
//! The server's options and the browser's credential stay JSON objects:
//! the browser's own `PublicKeyCredential.parse…OptionsFromJSON` and
//! `credential.toJSON()` convert them (WebAuthn Level 3), so the bundle
//! carries no WebAuthn types, only a few dynamic calls. A browser without
//! those methods is treated as having no passkeys; the password forms
//! remain. On the server (and before hydration) nothing is supported.

#[cfg(feature = "hydrate")]
#[path = "webauthn/browser.rs"]
mod imp;
#[cfg(not(feature = "hydrate"))]
#[path = "webauthn/server.rs"]
mod imp;

pub use imp::Abort;

/// Why a ceremony did not produce a credential.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The person closed the prompt, or it timed out.
    Cancelled,
    /// The page cancelled it (another ceremony took its place).
    Aborted,
    /// This authenticator already holds a passkey for the account.
    AlreadyRegistered,
    /// No passkeys in this browser.
    Unsupported,
    /// Anything else the browser refused, with its message (for the log).
    Browser(String),
}

impl Failure {
    /// What to tell the person; `None` when there is nothing to say.
    #[must_use]
    pub fn message(&self) -> Option<&'static str> {
        match self {
            Self::Cancelled => {
                Some("The passkey prompt was closed before it finished. Nothing was changed.")
            }
            Self::Aborted => None,
            Self::AlreadyRegistered => Some("This device already has a passkey for your account."),
            Self::Unsupported => {
                Some("This browser cannot use passkeys. Use your password instead.")
            }
            Self::Browser(_) => {
                Some("Your browser could not complete the passkey request. Please try again.")
            }
        }
    }
}

/// Whether this browser can create and use passkeys.
#[must_use]
pub fn supported() -> bool {
    imp::supported()
}

/// Whether the browser can offer passkeys in a user-name field's autofill
/// (conditional mediation).
pub async fn autofill_available() -> bool {
    imp::autofill_available().await
}

/// `navigator.credentials.create` with the server's `{"publicKey": …}`;
/// the new credential's JSON.
///
/// # Errors
/// A [`Failure`].
#[cfg(feature = "hydrate")]
pub async fn create(options: &crate::record::Record) -> Result<crate::record::Record, Failure> {
    imp::create(options).await
}

/// `navigator.credentials.get` with the server's `{"publicKey": …}`: a
/// prompt, or with `autofill` the user-name field's suggestions (until
/// `autofill` is aborted); the assertion's JSON.
///
/// # Errors
/// A [`Failure`].
#[cfg(feature = "hydrate")]
pub async fn get(
    options: &crate::record::Record,
    autofill: Option<&Abort>,
) -> Result<crate::record::Record, Failure> {
    imp::get(options, autofill).await
}
