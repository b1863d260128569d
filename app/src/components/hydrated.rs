//! `hydrated()`: whether the island has hydrated, for an island whose
//! shape depends on page-wide state.
//!
//! A lazy island hydrates once its chunk has loaded, and by then the state
//! it shares with the page (the browser session, the session clock) may
//! have moved on from what the server rendered: the header's island may
//! already know who is signed in. Hydrating another branch than the one
//! in the HTML fails, so such an island renders the server's view until
//! this turns true, then follows the state.

use leptos::prelude::*;

/// `false` until the calling island has hydrated (effects run only in the
/// browser, after hydration), then `true`.
pub fn hydrated() -> ReadSignal<bool> {
    let (hydrated, set) = signal(false);
    Effect::new(move |_| set.set(true));
    hydrated
}
