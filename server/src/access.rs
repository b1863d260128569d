//! Which routes need what, read once at start-up from the app's route table
//! (`app::routes::ACCESS`) and the router's route list.
//!
//! Every page the router serves must have a declared access, or the server
//! does not start: a page added without one would otherwise be served to
//! anyone, with only its server function's 401 behind it. Nor does it
//! start with a protected page the router prerenders (the route table
//! refuses such a line as it compiles; this catches a `<Route>` written
//! outside it).

use std::collections::{HashMap, HashSet};

use app::routes::Access;
use leptos_axum::AxumRouteListing;
use leptos_router::SsrMode;

use crate::error::StartupError;

/// How the session layer treats a matched route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Page {
    /// Prerendered: served as a file, the session layer does nothing.
    Prerendered,
    /// Rendered per request, open to whoever `Access` allows.
    Rendered(Access),
}

/// Each page route (axum syntax, `/guides/{slug}`) and how it is treated.
#[derive(Clone, Debug, Default)]
pub struct RouteAccess(HashMap<String, Page>);

impl RouteAccess {
    /// Pairs the router's routes with their declared access.
    ///
    /// # Errors
    /// [`StartupError::Undeclared`] for a route with no declared access,
    /// [`StartupError::PrerenderedButProtected`] for a prerendered route
    /// that needs a session.
    pub fn new(routes: &[AxumRouteListing]) -> Result<Self, StartupError> {
        let mut pages = HashMap::new();
        for route in routes {
            let access = app::routes::access(route.path())
                .ok_or_else(|| StartupError::Undeclared(route.path().to_owned()))?;
            let page = match route.mode() {
                SsrMode::Static(_) if access == Access::Public => Page::Prerendered,
                SsrMode::Static(_) => {
                    return Err(StartupError::PrerenderedButProtected(
                        route.path().to_owned(),
                    ))
                }
                _ => Page::Rendered(access),
            };
            pages.insert(route.path().to_owned(), page);
        }
        Ok(Self(pages))
    }

    /// How the route `matched` (axum's `MatchedPath`) is treated; `None`
    /// for routes that are not pages (server functions).
    #[must_use]
    pub fn of(&self, matched: &str) -> Option<Page> {
        self.0.get(matched).copied()
    }

    /// The prerendered routes' patterns.
    #[must_use]
    pub fn prerendered(&self) -> HashSet<String> {
        self.0
            .iter()
            .filter(|(_, page)| **page == Page::Prerendered)
            .map(|(path, _)| path.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn listing(path: &str, mode: SsrMode) -> AxumRouteListing {
        AxumRouteListing::new(
            path.to_owned(),
            mode,
            [leptos_router::Method::Get],
            Vec::new(),
        )
    }

    #[tokio::test]
    async fn every_route_of_the_app_declares_its_access() {
        let routes = leptos_axum::generate_route_list(app::App);
        assert!(routes.len() >= app::routes::PAGES.len(), "{routes:?}");
        let access = RouteAccess::new(&routes).unwrap();
        assert_eq!(
            access.of("/dashboard"),
            Some(Page::Rendered(Access::Session))
        );
        assert_eq!(
            access.of("/account/sessions"),
            Some(Page::Rendered(Access::Session))
        );
        assert_eq!(access.of("/login"), Some(Page::Rendered(Access::Public)));
        assert_eq!(access.of("/guides/{slug}"), Some(Page::Prerendered));
        assert!(access.prerendered().contains("/"));
    }

    #[test]
    fn routes_without_declared_access_refuse_to_start() {
        let routes = [
            listing("/login", SsrMode::Async),
            listing("/billing", SsrMode::Async),
        ];
        let err = RouteAccess::new(&routes).unwrap_err().to_string();
        assert!(err.contains("/billing"), "{err}");
    }

    #[test]
    fn a_prerendered_protected_route_refuses_to_start() {
        let routes = [listing(
            "/dashboard",
            SsrMode::Static(leptos_router::static_routes::StaticRoute::new()),
        )];
        let err = RouteAccess::new(&routes).unwrap_err();
        assert!(
            matches!(err, StartupError::PrerenderedButProtected(ref path) if path == "/dashboard"),
            "{err}"
        );
    }
}
