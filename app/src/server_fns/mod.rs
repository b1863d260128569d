//! Server functions, one module per area. Each runs on the server only; the
//! WASM bundle gets a stub that calls it over HTTP (always POST).

pub mod account;
pub mod auth;
pub mod passkeys;
pub mod security;
pub mod status;

#[cfg(feature = "ssr")]
pub mod context;
