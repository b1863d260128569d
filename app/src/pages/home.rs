//! `/`: the landing page, prerendered once (SSG). Its HTML is a file written
//! at start-up; what depends on the visitor is in its islands, which
//! hydrate in the browser: the session panel, and the two small controls
//! below.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::session_panel::SessionPanel;

/// The landing page.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Title text="Home" />
        <section class="hero">
            <h1>"Sessions done right, in every rendering mode"</h1>
            <p class="lead">
                "This page is a static file, prerendered once at start-up and served without touching the database. "
                "Server-rendered pages check a database-backed session on every request."
            </p>
            <HydrationStatus />
        </section>
        <SessionPanel />
        <HowItWorks />
    }
}

/// Says whether the page's islands have hydrated.
#[island]
fn HydrationStatus() -> impl IntoView {
    // `Effect`s run only in the browser, so this flips once the island's
    // WebAssembly has taken over the prerendered HTML.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <p class="hydration-status" data-testid="hydration-status">
            {move || {
                if hydrated.get() {
                    "Interactive: the WebAssembly islands have hydrated this page."
                } else {
                    "Static HTML: waiting for the WebAssembly islands to load…"
                }
            }}
        </p>
    }
}

/// "Show how it works": a disclosure button.
#[island]
fn HowItWorks() -> impl IntoView {
    let open = RwSignal::new(false);
    view! {
        <section class="card">
            <button
                type="button"
                class="button"
                aria-expanded=move || open.get().to_string()
                aria-controls="how-it-works"
                on:click=move |_| open.update(|open| *open = !*open)
            >
                {move || if open.get() { "Hide how it works" } else { "Show how it works" }}
            </button>
            <div id="how-it-works" hidden=move || !open.get()>
                <ol>
                    <li>"The server prerenders this route to an HTML file when it starts."</li>
                    <li>"The file is served as-is: no rendering and no database query per request."</li>
                    <li>"The browser loads the WebAssembly of the page's islands only (the header, this panel, this button), and hydrates them."</li>
                </ol>
            </div>
        </section>
    }
}
