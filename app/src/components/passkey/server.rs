//! No ceremonies on the server: each starts from a button in the browser.

#![allow(clippy::unused_async)]

use super::Failed;
use crate::webauthn::{Abort, Failure};

fn unsupported<T>() -> Result<T, Failed> {
    Err(Failed::Browser(Failure::Unsupported))
}

pub fn next_page() -> String {
    String::new()
}

pub fn may_add() -> bool {
    false
}

pub async fn sign_in(_: Option<&Abort>) -> Result<String, Failed> {
    unsupported()
}

pub async fn sign_up() -> Result<String, Failed> {
    unsupported()
}

pub async fn confirm() -> Result<(), Failed> {
    unsupported()
}

pub async fn add() -> Result<String, Failed> {
    unsupported()
}
