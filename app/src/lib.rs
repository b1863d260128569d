//! The Leptos application: routes, pages, components and server functions.
//!
//! Compiled twice: with `ssr` into the server binary, and with `hydrate` into
//! the WASM bundle. Server-only code sits behind `#[cfg(feature = "ssr")]` at
//! module boundaries.

pub mod pages;
pub mod server_fns;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes, A},
    static_routes::StaticRoute,
    SsrMode, StaticSegment,
};

use crate::pages::{home::HomePage, not_found::NotFound, status::StatusPage};

/// The HTML document around the app, rendered on the server only.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: layout and the route table.
///
/// Each route's `ssr` mode is part of the route contract:
/// - `SsrMode::Static` routes are prerendered to files at start-up and served
///   from disk; they learn about the session only after hydration.
/// - `SsrMode::Async` routes render on every request, after all their server
///   data has resolved, so the first HTML response is complete.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Stylesheet id="leptos" href="/pkg/leptos-sessions.css" />
        <Title formatter=|page: String| format!("{page} · Leptos Sessions") />
        <Router>
            <header class="site-header">
                <nav class="nav" aria-label="Main">
                    <A href="/" attr:class="brand">"Leptos Sessions"</A>
                    <ul class="nav-links">
                        <li><A href="/status">"Status"</A></li>
                    </ul>
                </nav>
            </header>
            <main id="main" class="container">
                <Routes fallback=NotFound>
                    <Route
                        path=StaticSegment("")
                        view=HomePage
                        ssr=SsrMode::Static(StaticRoute::new())
                    />
                    <Route path=StaticSegment("status") view=StatusPage ssr=SsrMode::Async />
                </Routes>
            </main>
            <footer class="site-footer container">
                <p>"A Leptos template for session management done right."</p>
            </footer>
        </Router>
    }
}
