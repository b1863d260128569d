//! The Leptos application: routes, pages, components and server functions.
//!
//! Compiled twice: with `ssr` into the server binary, and with `hydrate` into
//! the WASM bundle. Server-only code sits behind `#[cfg(feature = "ssr")]` at
//! module boundaries.

pub mod assets;
pub mod client_session;
pub mod components;
pub mod csrf;
pub mod error;
pub mod format;
pub mod guides;
pub mod pages;
pub mod redirect;
pub mod server_fns;
#[cfg(feature = "ssr")]
pub mod session;
pub mod session_clock;
#[cfg(feature = "hydrate")]
pub mod single_flight;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
    static_routes::StaticRoute,
    SsrMode,
};

use crate::{
    client_session::ClientSession,
    components::{auth_state::AuthVersion, idle_prompt::IdlePrompt, nav::SiteHeader},
    pages::{
        about::AboutPage,
        dashboard::DashboardPage,
        guides::{GuideIndexPage, GuidePage},
        home::HomePage,
        login::LoginPage,
        not_found::NotFound,
        sessions::SessionsPage,
        signup::SignupPage,
        status::StatusPage,
    },
};

/// Paths that need a signed-in user. The server's session layer redirects
/// anonymous requests for these to `/login?next=…` (303) before rendering,
/// so protected content is never sent, not even briefly.
pub const PROTECTED_PATHS: &[&str] = &["/dashboard", "/account"];

/// Whether `path` is, or is below, one of [`PROTECTED_PATHS`].
#[must_use]
pub fn requires_session(path: &str) -> bool {
    PROTECTED_PATHS.iter().any(|p| {
        path.strip_prefix(p)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    })
}

/// The HTML document around the app, rendered on the server only.
///
/// `token_storage` (`memory` or `local`) tells the browser app where to keep
/// access tokens; it is public configuration, so a meta tag carries it even
/// into prerendered files.
///
/// `assets` names the bundle's files (content-hashed in release builds);
/// the stylesheet is linked here, outside the hydrated app, so the browser
/// app never has to know its name.
pub fn shell(
    options: LeptosOptions,
    token_storage: &'static str,
    assets: std::sync::Arc<assets::AssetNames>,
) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <meta name="token-storage" content=token_storage />
                <link rel="icon" href="/favicon.svg" type="image/svg+xml" />
                <AutoReload options />
                <assets::BundleTags names=assets />
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
    AuthVersion::provide();
    ClientSession::provide();
    session_clock::SessionClock::provide();
    // Effects run only in the browser: mark the document once the WASM app
    // has taken over, for tests and for styling that needs interactivity.
    Effect::new(|_| {
        if let Some(root) = document().document_element() {
            let _ = root.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Title formatter=|page: String| format!("{page} · Leptos Sessions") />
        <Router>
            <a class="skip-link" href="#main">"Skip to content"</a>
            <SiteHeader />
            <IdlePrompt />
            <main id="main" class="container">
                <Routes fallback=NotFound>
                    <Route path=path!("/") view=HomePage ssr=SsrMode::Static(StaticRoute::new()) />
                    <Route path=path!("/about") view=AboutPage ssr=SsrMode::Static(StaticRoute::new()) />
                    <Route path=path!("/guides") view=GuideIndexPage ssr=SsrMode::Static(StaticRoute::new()) />
                    <Route
                        path=path!("/guides/:slug")
                        view=GuidePage
                        ssr=SsrMode::Static(
                            StaticRoute::new().prerender_params(|| async {
                                let mut params = leptos_router::static_routes::StaticParamsMap::new();
                                params.insert("slug", guides::GUIDES.iter().map(|(s, _)| (*s).to_owned()).collect());
                                params
                            }),
                        )
                    />
                    <Route path=path!("/status") view=StatusPage ssr=SsrMode::Async />
                    <Route path=path!("/login") view=LoginPage ssr=SsrMode::Async />
                    <Route path=path!("/signup") view=SignupPage ssr=SsrMode::Async />
                    <Route path=path!("/dashboard") view=DashboardPage ssr=SsrMode::Async />
                    <Route path=path!("/account/sessions") view=SessionsPage ssr=SsrMode::Async />
                </Routes>
            </main>
            <footer class="site-footer container">
                <p>"A Leptos template for session management done right."</p>
            </footer>
        </Router>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_matches_whole_segments() {
        assert!(requires_session("/dashboard"));
        assert!(requires_session("/account/sessions"));
        assert!(!requires_session("/dashboards"));
        assert!(!requires_session("/accounting"));
        assert!(!requires_session("/login"));
        assert!(!requires_session("/"));
    }
}
