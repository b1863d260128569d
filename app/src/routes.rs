//! The route table: every page's path, who may open it, and how it renders,
//! declared once.
//!
//! [`route_table!`] turns each line into both a `<Route>` of the Leptos
//! router ([`AppRoutes`]) and an entry of [`ACCESS`], which the server's
//! session layer reads: a page cannot exist without a declared [`Access`],
//! and the two can never disagree. The server also refuses to start if the
//! router lists a path that [`ACCESS`] does not (a `<Route>` written by
//! hand outside the table).
//!
//! Server functions are not pages: each checks the session it needs itself
//! (`session::require`).

use leptos::prelude::*;
use leptos_router::{
    components::{Route, Routes},
    path,
    static_routes::StaticRoute,
    SsrMode,
};

use crate::pages::{
    about::AboutPage,
    confirm::ConfirmPage,
    dashboard::DashboardPage,
    delete::DeleteAccountPage,
    guides::{GuideIndexPage, GuidePage},
    home::HomePage,
    login::LoginPage,
    not_found::NotFound,
    passkeys::PasskeysPage,
    password::PasswordPage,
    sessions::SessionsPage,
    signup::SignupPage,
    status::StatusPage,
};

/// Who may open a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone.
    Public,
    /// A signed-in user. Anonymous requests get a 303 to `/login?next=…`
    /// from the server before anything is rendered, so protected content is
    /// never sent, not even briefly.
    Session,
    /// A signed-in user who proved a credential within the
    /// re-authentication window (`REAUTH_WINDOW`): otherwise the server
    /// answers 303 to `/account/confirm?next=…`, and a client-side
    /// navigation goes there too ([`RecentGate`]).
    RecentAuthentication,
}

/// Declares the routes: `path => View, Access, ssr mode;`, or
/// `path => View in Chunk, Access, ssr mode;` for a page whose code is
/// loaded on demand (see "Lazy pages" below).
macro_rules! route_table {
    ($($path:tt => $view:ident $(in $chunk:ident)?, $access:ident, $ssr:expr;)+) => {
        /// Every page's path (the router's `:param` syntax) and its access.
        pub const ACCESS: &[(&str, Access)] = &[$(($path, Access::$access)),+];

        /// The pages whose code is a chunk of its own, by path.
        pub const LAZY: &[&str] = &[$($(route_table!(@path $path $chunk),)?)+];

        $($(lazy_page!($chunk, $view, $access);)?)+

        /// The router's routes, from the same table.
        #[component]
        pub fn AppRoutes() -> impl IntoView {
            view! {
                <Routes fallback=NotFound>
                    $(<Route path=path!($path) view={route_view!($view $(in $chunk)?, $access)} ssr=$ssr />)+
                </Routes>
            }
        }
    };
    (@path $path:tt $chunk:ident) => { $path };
}

/// A route's view: the page itself, or the chunk that loads it.
macro_rules! route_view {
    ($view:ident, $access:ident) => {
        move || guard(Access::$access, $view)
    };
    ($view:ident in $chunk:ident, $access:ident) => {
        leptos_router::Lazy::<$chunk>::new()
    };
}

/// A lazy page: `#[lazy_route]` makes its view a split point, so the build
/// (`cargo leptos build --split`) moves the page's code, and everything
/// only it uses, into a WebAssembly chunk fetched when the page is first
/// shown (or hydrated: the server names the chunk in a preload link).
macro_rules! lazy_page {
    ($chunk:ident, $view:ident, $access:ident) => {
        #[doc = concat!("The chunk holding [`", stringify!($view), "`].")]
        pub struct $chunk;

        #[leptos_router::lazy_route]
        impl leptos_router::LazyRoute for $chunk {
            fn data() -> Self {
                Self
            }

            fn view(_this: Self) -> AnyView {
                #[cfg(feature = "ssr")]
                crate::assets::preload_chunks();
                guard(Access::$access, $view)
            }
        }
    };
}

// `SsrMode::Static` routes are prerendered to files at start-up and served
// from memory; they learn about the session only after hydration.
// `SsrMode::Async` routes render on every request, after all their server
// data has resolved, so the first HTML response is complete.
//
// Lazy pages: every page but the home and about pages lives
// in its own chunk, so the first load of `/` carries the framework, the
// shell (header, session client, idle prompt) and the home page only, and
// a new page adds its own chunk rather than bytes to everyone's first load.
route_table! {
    "/" => HomePage, Public, SsrMode::Static(StaticRoute::new());
    "/about" => AboutPage, Public, SsrMode::Static(StaticRoute::new());
    "/guides" => GuideIndexPage in GuideIndexChunk, Public, SsrMode::Static(StaticRoute::new());
    "/guides/:slug" => GuidePage in GuideChunk, Public, SsrMode::Static(guide_params());
    "/status" => StatusPage in StatusChunk, Public, SsrMode::Async;
    "/login" => LoginPage in LoginChunk, Public, SsrMode::Async;
    "/signup" => SignupPage in SignupChunk, Public, SsrMode::Async;
    "/dashboard" => DashboardPage in DashboardChunk, Session, SsrMode::Async;
    "/account/sessions" => SessionsPage in SessionsChunk, Session, SsrMode::Async;
    "/account/confirm" => ConfirmPage in ConfirmChunk, Session, SsrMode::Async;
    "/account/passkeys" => PasskeysPage in PasskeysChunk, Session, SsrMode::Async;
    "/account/password" => PasswordPage in PasswordChunk, RecentAuthentication, SsrMode::Async;
    "/account/delete" => DeleteAccountPage in DeleteAccountChunk, RecentAuthentication, SsrMode::Async;
}

/// A page as its access needs it rendered: behind [`RecentGate`] when it
/// needs a recent authentication.
fn guard<V: IntoView + 'static>(access: Access, page: fn() -> V) -> AnyView {
    match access {
        Access::RecentAuthentication => view! { <RecentGate page /> }.into_any(),
        Access::Public | Access::Session => page().into_any(),
    }
}

/// Renders `page` once the server confirms the session's authentication is
/// recent, and sends the browser to confirm it (or to sign in) otherwise.
/// On the server the session layer has already checked it, so this
/// resolves at once; after a client-side navigation it is the check.
#[component]
fn RecentGate<V: IntoView + 'static>(page: fn() -> V) -> impl IntoView {
    use crate::{error::AppError, server_fns::security::reauth_status};
    use leptos_router::{components::Redirect, hooks::use_location};

    let status = Resource::new(|| (), |()| reauth_status());
    let here = use_location();
    // The gated routes' paths are fixed and plain, and a pathname comes
    // percent-encoded: it needs no more encoding as a query value.
    let to = move |base: &str| format!("{base}?next={}", here.pathname.get_untracked());
    view! {
        <Suspense fallback=|| view! { <p>"Loading…"</p> }>
            {move || Suspend::new(async move {
                match status.await {
                    Ok(true) => page().into_any(),
                    Ok(false) => view! { <Redirect path=to(crate::server_fns::security::CONFIRM_PATH) /> }.into_any(),
                    Err(AppError::Unauthorized) => view! { <Redirect path=to("/login") /> }.into_any(),
                    Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                }
            })}
        </Suspense>
    }
}

/// Prerenders one page per guide.
fn guide_params() -> StaticRoute {
    StaticRoute::new().prerender_params(|| async {
        let mut params = leptos_router::static_routes::StaticParamsMap::new();
        params.insert(
            "slug",
            crate::guides::GUIDES
                .iter()
                .map(|(s, _)| (*s).to_owned())
                .collect(),
        );
        params
    })
}

/// The access declared for a route pattern, in the router's syntax
/// (`/guides/:slug`) or axum's (`/guides/{slug}`); `None` when the table
/// has no such route.
#[must_use]
pub fn access(pattern: &str) -> Option<Access> {
    let same = |declared: &str| {
        let mut a = declared.split('/');
        let mut b = pattern.split('/');
        loop {
            match (a.next(), b.next()) {
                (None, None) => return true,
                (Some(x), Some(y)) if x == y => {}
                (Some(x), Some(y))
                    if x.strip_prefix(':').is_some_and(|name| {
                        y.strip_prefix('{').and_then(|r| r.strip_suffix('}')) == Some(name)
                    }) => {}
                _ => return false,
            }
        }
    };
    ACCESS
        .iter()
        .find(|(declared, _)| same(declared))
        .map(|(_, access)| *access)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protection_matches_whole_routes() {
        assert_eq!(access("/dashboard"), Some(Access::Session));
        assert_eq!(access("/account/sessions"), Some(Access::Session));
        assert_eq!(access("/account/passkeys"), Some(Access::Session));
        assert_eq!(
            access("/account/password"),
            Some(Access::RecentAuthentication)
        );
        assert_eq!(
            access("/account/delete"),
            Some(Access::RecentAuthentication)
        );
        assert_eq!(access("/dashboards"), None);
        assert_eq!(access("/accounting"), None);
        assert_eq!(access("/login"), Some(Access::Public));
        assert_eq!(access("/"), Some(Access::Public));
    }

    #[test]
    fn both_route_syntaxes_name_the_same_route() {
        assert_eq!(access("/guides/:slug"), Some(Access::Public));
        assert_eq!(access("/guides/{slug}"), Some(Access::Public));
        assert_eq!(access("/guides/{other}"), None);
        assert_eq!(access("/guides/tokens"), None, "a path is not a pattern");
    }

    #[test]
    fn every_route_is_declared_once() {
        let mut paths: Vec<_> = ACCESS.iter().map(|(p, _)| *p).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), ACCESS.len());
    }

    #[test]
    fn a_page_is_a_chunk_of_its_own_unless_it_is_the_first_load() {
        // Only the pages a visitor lands on first stay in the main bundle
        // (they are prerendered and small); a new page must be declared
        // `in SomeChunk`, or it adds its code to everyone's first load.
        let eager: Vec<_> = ACCESS
            .iter()
            .map(|(path, _)| *path)
            .filter(|path| !LAZY.contains(path))
            .collect();
        assert_eq!(eager, ["/", "/about"]);
        assert!(LAZY.contains(&"/dashboard") && LAZY.contains(&"/guides/:slug"));
    }
}
