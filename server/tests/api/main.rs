//! HTTP-level tests against the real router and a real SQLite database.
//! One file per area; `helpers` spawns an app per test.

// Test code: panicking on a broken expectation is the point, and the test
// apps are serialised with a lock held on purpose (see `helpers`).
#![allow(clippy::unwrap_used, clippy::await_holding_lock)]

mod account;
mod attacks;
mod email;
mod foundation;
mod hardening;
mod helpers;
mod identities;
mod limits;
mod mailed_sign_in;
mod passkeys;
mod recovery;
mod sessions;
mod static_pages;
mod tokens;
