//! The server build's stand-in for `browser.rs`: the same functions, doing
//! nothing. Prerendering and SSR never hold a token (the state stays
//! [`ClientState::Unknown`](super::ClientState::Unknown)), so the rendered
//! HTML matches the browser's first render.

use super::{ClientSession, TokenResponse};

pub fn shared() -> ClientSession {
    ClientSession::new()
}

pub fn start(_: ClientSession) {}

pub fn observe_server(_: ClientSession, _: Option<(String, i64)>) {}

pub fn announce(_: ClientSession) {}

pub async fn access_token(_: ClientSession) -> Option<String> {
    None
}

pub async fn refresh(_: ClientSession) -> Option<TokenResponse> {
    None
}

pub fn changed(_: ClientSession, _: bool) {}

pub async fn call_me(_: ClientSession) -> Result<String, String> {
    Err("only in the browser".into())
}
