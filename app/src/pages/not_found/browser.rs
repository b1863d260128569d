//! The browser build's stand-in for `server.rs`: a client-side render sends
//! no response, so there is no status to set.

pub fn set_status() {}
