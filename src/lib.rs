//! The session engine.
//!
//! Everything a web app needs to run server-side sessions safely, with no
//! knowledge of Leptos or any HTTP framework:
//!
//! - [`token`]: random session tokens, their parsing and their at-rest hash.
//!
//! The web layers (`app/`, `server/`) call into this crate; it never calls out.

pub mod token;

pub use token::{SessionToken, TokenHash};
