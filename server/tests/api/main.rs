//! HTTP-level tests against the real router and a real SQLite database.
//! One file per area; `helpers` spawns an app per test.

mod foundation;
mod helpers;
mod sessions;
mod static_pages;
mod tokens;
