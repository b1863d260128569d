//! No browser, no passkeys (server rendering).

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
