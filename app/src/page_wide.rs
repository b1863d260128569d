//! State that every island of a page shares (the session the browser
//! knows, the session's clock).
//!
//! Islands hydrate one by one, each under an owner of its own, and none
//! sees the contexts of the server-rendered app around it. What they share
//! is therefore made once per page, under an owner that lives as long as
//! the page, and reached through a `thread_local` (the page's WebAssembly
//! runs on one thread). Browser-only: a server render makes its own,
//! short-lived copies instead.

use leptos::prelude::Owner;

/// Runs `make` under an owner that is never dropped, so the signals it
/// creates outlive every island that reads them.
pub fn for_the_page<T>(make: impl FnOnce() -> T) -> T {
    let owner = Owner::new_root(None);
    let value = owner.with(make);
    std::mem::forget(owner);
    value
}
