//! Server functions, one module per area. Each runs on the server only; the
//! WASM bundle gets a stub that calls it over HTTP.

pub mod status;

#[cfg(feature = "ssr")]
pub mod context;
