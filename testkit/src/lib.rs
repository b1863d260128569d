//! Test doubles shared by the engine's and the server's tests, as a crate
//! of their own (a dev-dependency) rather than files reached by relative
//! paths: a software passkey authenticator, a browser's DPoP key, and a
//! real OpenID provider to sign in with.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod authenticator;
pub mod dpop_key;
pub mod oidc_provider;
