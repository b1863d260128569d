//! `/`: the landing page, prerendered once (SSG) and hydrated in the browser.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::session_panel::SessionPanel;

/// The landing page. Its HTML is a file written at start-up; everything that
/// depends on the visitor happens after hydration.
#[component]
pub fn HomePage() -> impl IntoView {
    // `Effect`s run only in the browser, so this flips once the WASM has
    // taken over the prerendered HTML.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));

    let details_open = RwSignal::new(false);

    view! {
        <Title text="Home" />
        <section class="hero">
            <h1>"Sessions done right, in every rendering mode"</h1>
            <p class="lead">
                "This page is a static file, prerendered once at start-up and served without touching the database. "
                "Server-rendered pages check a database-backed session on every request."
            </p>
            <p class="hydration-status" data-testid="hydration-status">
                {move || {
                    if hydrated.get() {
                        "Interactive: the WebAssembly app has hydrated this page."
                    } else {
                        "Static HTML: waiting for the WebAssembly app to load…"
                    }
                }}
            </p>
        </section>
        <SessionPanel />
        <section class="card">
            <button
                type="button"
                class="button"
                aria-expanded=move || details_open.get().to_string()
                aria-controls="how-it-works"
                on:click=move |_| details_open.update(|open| *open = !*open)
            >
                {move || if details_open.get() { "Hide how it works" } else { "Show how it works" }}
            </button>
            <div id="how-it-works" hidden=move || !details_open.get()>
                <ol>
                    <li>"The server prerenders this route to an HTML file when it starts."</li>
                    <li>"The file is served as-is: no rendering and no database query per request."</li>
                    <li>"The browser loads the WebAssembly bundle, which hydrates the page and makes it interactive."</li>
                </ol>
            </div>
        </section>
    }
}
