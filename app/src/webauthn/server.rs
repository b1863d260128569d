//! No browser, no passkeys (server rendering).

use serde_json::Value;

use super::Failure;

/// Stands for the browser's `AbortController`.
#[derive(Clone, Debug, Default)]
pub struct Abort;

impl Abort {
    /// Nothing to abort on the server.
    #[must_use]
    pub fn new() -> Option<Self> {
        None
    }

    /// Nothing to abort on the server.
    pub fn abort(&self) {}
}

pub fn supported() -> bool {
    false
}

pub async fn autofill_available() -> bool {
    false
}

pub async fn create(_: &Value) -> Result<Value, Failure> {
    Err(Failure::Unsupported)
}

pub async fn get(_: &Value, _: Option<&Abort>) -> Result<Value, Failure> {
    Err(Failure::Unsupported)
}
