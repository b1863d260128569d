//! The Leptos application: routes, pages, components and server functions.
//!
//! Compiled twice: with `ssr` into the server binary, and with `hydrate` into
//! the WASM bundle. In islands mode the server renders every page, and only
//! the `#[island]` components (and what they call) reach the bundle; the
//! pages themselves never run in the browser. Server-only code sits behind
//! `#[cfg(feature = "ssr")]` at module boundaries.

#![warn(missing_docs)]
// A page that erases a view holding an island (`into_any`) has its async
// render laid out here, deeper than the default limit allows.
#![recursion_limit = "256"]

pub mod assets;
pub mod client_session;
pub mod components;
pub mod csrf;
pub mod error;
#[cfg(feature = "hydrate")]
pub mod fetch;
pub mod format;
pub mod guides;
pub mod navigation;
#[cfg(feature = "hydrate")]
pub mod page_wide;
pub mod pages;
pub mod paths;
pub mod post;
#[cfg(feature = "hydrate")]
pub mod record;
pub mod redirect;
pub mod routes;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod session;
pub mod session_clock;
#[cfg(feature = "hydrate")]
pub mod single_flight;
pub mod webauthn;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::components::Router;

use crate::components::{idle_prompt::IdlePrompt, nav::SiteHeader};

/// The HTML document around the app, rendered on the server only.
///
/// `reload` is given while `cargo leptos watch` serves the site: the live
/// reload script's options (no other render needs them, and each one would
/// otherwise take a copy).
///
/// `token_storage` tells the browser app where to keep access tokens; it
/// is public configuration, so a meta tag carries it even into prerendered
/// files.
///
/// `assets` names the bundle's files (content-hashed in release builds);
/// the stylesheet is linked here, outside the hydrated app, so the browser
/// app never has to know its name.
pub fn shell(
    reload: Option<LeptosOptions>,
    token_storage: client_session::TokenStorage,
    assets: std::sync::Arc<assets::AssetNames>,
) -> impl IntoView {
    assets::provide(assets.clone());
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta
                    name="description"
                    content="A Leptos template for session management done right: server-rendered and prerendered pages, database-backed sessions, short-lived JWTs and passkeys."
                />
                <meta name="token-storage" content=token_storage.as_str() />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                {reload.map(|options| view! { <AutoReload options /> })}
                // Where `leptos_meta` writes the page's `<title>`.
                <MetaTags />
                <assets::BundleTags names=assets />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The root component: the layout around the route table
/// ([`routes::AppRoutes`]). Rendered on the server only; its islands (the
/// header's navigation, the idle prompt, and the pages' own) hydrate in
/// the browser.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();

    view! {
        <Title formatter=|page: String| format!("{page} · Leptos Sessions") />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <SiteHeader />
            <IdlePrompt />
            <main id="main" class="container">
                <routes::AppRoutes />
            </main>
            <footer class="site-footer container">
                <p>"A Leptos template for session management done right."</p>
            </footer>
        </Router>
    }
}
