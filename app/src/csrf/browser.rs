//! The browser half of the CSRF token: reading the cookie and fetching a
//! token when there is none. Only in the WASM build; the server build
//! compiles the no-op twin (`server.rs`) with the same signatures instead.

use wasm_bindgen::JsCast as _;

use super::{COOKIE_NAMES, TOKEN_PATH};

/// The CSRF cookie's value.
pub fn header_value() -> Option<String> {
    let cookies = web_sys::window()?
        .document()?
        .dyn_into::<web_sys::HtmlDocument>()
        .ok()?
        .cookie()
        .ok()?;
    COOKIE_NAMES.iter().find_map(|name| {
        cookies.split(';').find_map(|pair| {
            let (k, v) = pair.trim().split_once('=')?;
            (k == *name && !v.is_empty()).then(|| v.to_owned())
        })
    })
}

/// Asks the server for a token (which also sets the cookie), one request at
/// a time: every fetch mints a different token and the cookie keeps the
/// last one, so two overlapping fetches (after a logout, the header's
/// re-check and a form both need one) would leave one caller sending a
/// token the cookie no longer matches. Callers arriving while a fetch is
/// in flight share its answer.
pub async fn fetch_token() -> Option<String> {
    thread_local! {
        static FETCH: crate::single_flight::Slot<Option<String>> =
            const { crate::single_flight::Slot::new() };
    }

    crate::single_flight::join(&FETCH, || async {
        let res = crate::fetch::Request::get(TOKEN_PATH).send().await.ok()?;
        res.json().await.ok()?.string("token")
    })
    .await
}
