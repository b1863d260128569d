//! Fallback for unknown paths.

use leptos::prelude::*;
use leptos_meta::Title;

#[cfg(feature = "ssr")]
#[path = "not_found/server.rs"]
mod imp;
#[cfg(not(feature = "ssr"))]
#[path = "not_found/browser.rs"]
mod imp;

/// Rendered for any path no route matches. The server turns it into a 404.
#[component]
pub fn NotFound() -> impl IntoView {
    imp::set_status();

    view! {
        <Title text="Not found" />
        <section class="card">
            <h1>"Page not found"</h1>
            <p>"There is nothing at this address. " <a href="/">"Go to the home page"</a> "."</p>
        </section>
    }
}
