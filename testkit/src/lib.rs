//! Test doubles shared by the engine's and the server's tests, as a crate
//! of their own (a dev-dependency) rather than files reached by relative
//! paths: a software passkey authenticator, and a browser's DPoP key.

#![allow(clippy::unwrap_used, clippy::expect_used)]

pub mod authenticator;
pub mod dpop_key;
