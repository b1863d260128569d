//! "Sign in with …": OpenID Connect providers, the authorization code flow
//! with PKCE (RFC 9700) and the ID token's checks (OpenID Connect Core
//! 3.1.3.7), on the `openidconnect` crate.
//!
//! - [`provider`]: one configured provider, its discovery document and
//!   signing keys (fetched once, the keys again when a token names one
//!   they lack);
//! - [`flow`]: a started sign-in (its `state`, `nonce`, PKCE verifier and
//!   what it is for), which the engine keeps in the session store under
//!   the hash of a token only the browser that started it holds, for
//!   [`FLOW_TTL`] and once; and the callback's checks, which end in a
//!   [`VerifiedIdentity`].
//!
//! What an identity then signs in to, links or confirms is the engine's
//! (`Auth::identity_*`): an identity is its issuer and subject, never its
//! email.

pub mod flow;
pub mod provider;

pub use flow::{Callback, Intent, VerifiedIdentity};
pub use provider::{ProviderConfig, Providers};

/// How long a started sign-in can be finished: time to type a password
/// and pass a second factor at the provider.
pub const FLOW_TTL: time::Duration = time::Duration::seconds(crate::cookie::FLOW_COOKIE_SECS);
