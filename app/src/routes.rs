//! The route table: every page's path, who may open it, and how it renders,
//! declared once.
//!
//! [`route_table!`] turns each line into both a `<Route>` of the Leptos
//! router ([`AppRoutes`]) and an entry of [`PAGES`], which the server's
//! session layer reads: a page cannot exist without a declared [`Access`],
//! and the two can never disagree. The server also refuses to start if the
//! router lists a path that [`PAGES`] does not (a `<Route>` written by
//! hand outside the table), and the end-to-end suite takes its page lists
//! from [`PAGES`] (`server --routes`), so a new page cannot miss the axe,
//! CSP and bundle checks.
//!
//! A line that contradicts itself does not compile: a page that needs a
//! session cannot be prerendered (a file rendered for no one, served
//! without the session layer), see [`contradiction`].
//!
//! Pages render on the server only (islands: only `#[island]` components
//! reach the browser), so access is enforced there, before rendering: the
//! session layer answers 303 to the sign-in or confirmation page. Server
//! functions are not pages: each states what it requires
//! (`server_fns::require`).

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
    email::EmailPage,
    forgot_password::ForgotPasswordPage,
    guides::{GuideIndexPage, GuidePage},
    home::HomePage,
    link_sign_in::LinkSignInPage,
    login::LoginPage,
    mailed_sign_in::MailedSignInPage,
    not_found::NotFound,
    passkeys::PasskeysPage,
    password::PasswordPage,
    providers::ProvidersPage,
    reset_password::ResetPasswordPage,
    revert_email::RevertEmailPage,
    sessions::SessionsPage,
    signup::SignupPage,
    status::StatusPage,
    verify_email::VerifyEmailPage,
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
    /// answers 303 to `/account/confirm?next=…`.
    RecentAuthentication,
}

impl Access {
    /// Its name in `server --routes`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Public => "public",
            Self::Session => "session",
            Self::RecentAuthentication => "recent",
        }
    }
}

/// How a page renders.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Render {
    /// To a file at start-up (one per parameter set), served from memory
    /// without the session layer; the browser learns the session itself.
    Prerendered,
    /// On every request, once its data has resolved, behind the session
    /// layer.
    PerRequest,
}

/// One line of the route table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// The router's path (`/guides/:slug`).
    pub path: &'static str,
    /// Who may open it.
    pub access: Access,
    /// How it renders.
    pub render: Render,
}

/// Declares the routes: `path => View, Access, Prerendered;` (or
/// `Prerendered(params)` for a path with parameters) or
/// `path => View, Access, PerRequest;`.
macro_rules! route_table {
    ($($path:tt => $view:ident, $access:ident, $render:ident $(($params:expr))?;)+) => {
        /// Every page: its path, its access and how it renders.
        pub const PAGES: &[Page] = &[$(Page {
            path: $path,
            access: Access::$access,
            render: Render::$render,
        }),+];

        // A contradictory line stops the build, naming the page.
        const _: () = if let Some(path) = contradiction(PAGES) {
            panic!("{}", path);
        };

        /// The router's routes, from the same table.
        #[component]
        pub fn AppRoutes() -> impl IntoView {
            view! {
                <Routes fallback=NotFound>
                    $(<Route path=path!($path) view=$view ssr=route_table!(@mode $render $(($params))?) />)+
                </Routes>
            }
        }
    };
    (@mode Prerendered) => { SsrMode::Static(StaticRoute::new()) };
    (@mode Prerendered($params:expr)) => { SsrMode::Static($params) };
    (@mode PerRequest) => { SsrMode::Async };
}

/// The first page of `pages` that needs a session but is prerendered: a
/// file rendered for no one and served without the session layer, which
/// would leave it unprotected. `const`, so the table is checked as it
/// compiles.
#[must_use]
pub const fn contradiction(pages: &[Page]) -> Option<&'static str> {
    let mut i = 0;
    while i < pages.len() {
        let page = pages[i];
        let public = matches!(page.access, Access::Public);
        if !public && matches!(page.render, Render::Prerendered) {
            return Some(page.path);
        }
        i += 1;
    }
    None
}

// Prerendered pages are files written at start-up and served from memory;
// they learn about the session only in the browser. Pages rendered per
// request render after all their server data has resolved
// (`SsrMode::Async`), so the first HTML response is complete.
route_table! {
    "/" => HomePage, Public, Prerendered;
    "/about" => AboutPage, Public, Prerendered;
    "/guides" => GuideIndexPage, Public, Prerendered;
    "/guides/:slug" => GuidePage, Public, Prerendered(guide_params());
    "/status" => StatusPage, Public, PerRequest;
    "/login" => LoginPage, Public, PerRequest;
    "/login/email" => MailedSignInPage, Public, PerRequest;
    "/login/link" => LinkSignInPage, Public, PerRequest;
    "/signup" => SignupPage, Public, PerRequest;
    "/verify-email" => VerifyEmailPage, Public, PerRequest;
    "/revert-email" => RevertEmailPage, Public, PerRequest;
    "/forgot-password" => ForgotPasswordPage, Public, PerRequest;
    "/reset-password" => ResetPasswordPage, Public, PerRequest;
    "/dashboard" => DashboardPage, Session, PerRequest;
    "/account/sessions" => SessionsPage, Session, PerRequest;
    "/account/confirm" => ConfirmPage, Session, PerRequest;
    "/account/passkeys" => PasskeysPage, Session, PerRequest;
    "/account/email" => EmailPage, Session, PerRequest;
    "/account/providers" => ProvidersPage, Session, PerRequest;
    "/account/password" => PasswordPage, RecentAuthentication, PerRequest;
    "/account/delete" => DeleteAccountPage, RecentAuthentication, PerRequest;
}

/// A path that `page` answers: its own, or with its parameters filled in
/// with the first value the prerenderer knows (the end-to-end suite visits
/// it).
#[must_use]
pub fn example(page: &Page) -> String {
    let first_guide = crate::guides::GUIDES.first().map_or("", |(slug, _)| *slug);
    page.path.replace(":slug", first_guide)
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
    PAGES
        .iter()
        .find(|page| same(page.path))
        .map(|page| page.access)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A link the engine mails opens a public page of the table: it may be
    /// opened signed out, on any device.
    #[cfg(feature = "ssr")]
    #[test]
    fn every_mailed_link_opens_a_public_page() {
        let links = [
            engine::auth::VERIFY_PATH,
            engine::auth::RESET_PATH,
            engine::auth::REVERT_PATH,
            engine::auth::SIGN_IN_PATH,
        ];
        for link in links {
            let path = link.split('?').next().unwrap_or_default();
            assert_eq!(access(path), Some(Access::Public), "{link}");
        }
        let pages = [
            crate::paths::VERIFY_EMAIL,
            crate::paths::RESET_PASSWORD,
            crate::paths::REVERT_EMAIL,
            crate::paths::LINK_SIGN_IN,
            crate::paths::MAILED_SIGN_IN,
        ];
        for page in pages {
            assert_eq!(access(page), Some(Access::Public), "{page}");
        }
    }

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
        let mut paths: Vec<_> = PAGES.iter().map(|p| p.path).collect();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), PAGES.len());
    }

    #[test]
    fn a_page_that_needs_a_session_cannot_be_prerendered() {
        let page = |path, access, render| Page {
            path,
            access,
            render,
        };
        assert_eq!(contradiction(PAGES), None);
        assert_eq!(
            contradiction(&[
                page("/", Access::Public, Render::Prerendered),
                page("/billing", Access::Session, Render::Prerendered),
            ]),
            Some("/billing")
        );
        assert_eq!(
            contradiction(&[page(
                "/x",
                Access::RecentAuthentication,
                Render::Prerendered
            )]),
            Some("/x")
        );
        assert_eq!(
            contradiction(&[page("/x", Access::Session, Render::PerRequest)]),
            None
        );
    }
}
