//! The site header: the brand, the main links and who is signed in.
//!
//! The whole navigation is one island ([`SiteNav`]): its links depend on
//! the session, and so does its right-hand side (the name and "Sign out",
//! or "Sign in" and "Sign up"). A server-rendered page tells it the
//! visitor the session layer validated, so it shows the right state at
//! once and asks nothing; a prerendered page, rendered for no one, tells
//! it [`Visitor::Unknown`], and the island asks in the browser
//! ([`ClientSession::start`]).
//!
//! The visitor travels in the header's attributes, not as the island's
//! props: Leptos decodes an island's props with `serde_json`, which every
//! page would then load for these three fields (`app/src/record.rs`).
//!
//! On a phone the links (and the signed-in name) fold into a "Menu"
//! disclosure (`<details>`, which works before hydration and without
//! JavaScript), so the header stays one row.

// `#[island]` derives an undocumented type for the props it sends to the
// browser (and a loader for a lazy island); the items here are documented.
#![allow(missing_docs)]

use leptos::{either::Either, prelude::*, server_fn::ServerFn as _};

use crate::{
    client_session::{ClientSession, ClientState},
    csrf::CsrfField,
    server_fns::auth::Logout,
    session_clock::{SessionClock, SessionTimes},
};

/// Who the server knows is visiting, as the header island gets it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visitor {
    /// A prerendered page: the browser finds out.
    Unknown,
    /// The session layer found no valid session.
    Anonymous,
    /// Signed in, with the session's times (for the idle prompt).
    SignedIn {
        /// Name to display.
        name: String,
        /// When the session ends.
        times: SessionTimes,
    },
}

impl Visitor {
    /// This request's visitor, as the session layer resolved it.
    #[cfg(feature = "ssr")]
    #[must_use]
    pub fn of_request() -> Self {
        use crate::session::{with_parts, RequestSession};
        let ctx = use_context::<crate::server_fns::context::ServerContext>();
        // Prerendering runs with a mock request the session layer never
        // saw: nobody to speak of.
        with_parts(
            |parts| match (parts.extensions.get::<RequestSession>(), &ctx) {
                (None, _) => Self::Unknown,
                (Some(RequestSession(None)), _) | (Some(_), None) => Self::Anonymous,
                (Some(RequestSession(Some(auth))), Some(ctx)) => Self::SignedIn {
                    name: auth.user.display_name.clone(),
                    times: SessionTimes::of(auth, ctx.auth.policy(), ctx.auth.now()),
                },
            },
        )
        .unwrap_or(Self::Unknown)
    }

    /// In the browser: what the server wrote in the header's attributes
    /// ([`SiteHeader`]).
    #[cfg(not(feature = "ssr"))]
    #[must_use]
    pub fn of_request() -> Self {
        let header = document()
            .query_selector("header.site-header")
            .ok()
            .flatten();
        let read = |name: &str| header.as_ref().and_then(|h| h.get_attribute(name));
        Self::from_attributes(
            read("data-visitor").as_deref(),
            read("data-visitor-name"),
            read("data-session-times").as_deref(),
        )
    }

    /// The header's attributes that carry it: its kind, the name and the
    /// session's times ([`SessionTimes::to_header`]'s format) when signed in.
    fn attributes(&self) -> (&'static str, Option<String>, Option<String>) {
        match self {
            Self::Unknown => ("unknown", None, None),
            Self::Anonymous => ("anonymous", None, None),
            Self::SignedIn { name, times } => {
                ("signed-in", Some(name.clone()), Some(times.to_header()))
            }
        }
    }

    /// [`Self::attributes`]' inverse; [`Visitor::Unknown`] (the browser
    /// asks) for anything else.
    #[cfg_attr(feature = "ssr", allow(dead_code))]
    fn from_attributes(kind: Option<&str>, name: Option<String>, times: Option<&str>) -> Self {
        match (kind, name, times.and_then(SessionTimes::from_header)) {
            (Some("anonymous"), _, _) => Self::Anonymous,
            (Some("signed-in"), Some(name), Some(times)) => Self::SignedIn { name, times },
            _ => Self::Unknown,
        }
    }
}

/// The header around the navigation island, with the visitor in its
/// attributes for the island to read.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let (kind, name, times) = Visitor::of_request().attributes();
    view! {
        <header class="site-header" data-visitor=kind data-visitor-name=name data-session-times=times>
            <SiteNav />
        </header>
    }
}

/// The navigation: links, and who is signed in.
#[island]
pub fn SiteNav() -> impl IntoView {
    // On the server, from the session layer; in the browser, from the
    // header the server rendered.
    let visitor = Visitor::of_request();
    let client = ClientSession::get();
    let clock = SessionClock::get();
    // Effects run only in the browser, after hydration.
    let seen = visitor.clone();
    Effect::new(move |_| match &seen {
        Visitor::Unknown => client.start(),
        Visitor::Anonymous => client.observe_server(None),
        Visitor::SignedIn { name, times } => {
            clock.observe(*times);
            client.observe_server(Some((name.clone(), times.expires_at)));
        }
    });
    // Before hydration (and on the server), what the server said; then
    // what the browser knows, which follows other tabs.
    let name = Memo::new(move |_| match client.state() {
        ClientState::SignedIn { name, .. } => Some(name),
        ClientState::SignedOut => None,
        ClientState::Unknown => match &visitor {
            Visitor::SignedIn { name, .. } => Some(name.clone()),
            _ => None,
        },
    });
    let links = move || links(name.get().is_some());

    view! {
        <nav class="nav" aria-label="Main">
            <a href="/" class="brand">"Leptos Sessions"</a>
            <ul class="nav-links">{links}</ul>
            <details class="nav-menu">
                <summary class="button secondary small">"Menu"</summary>
                <ul class="nav-menu-links">
                    {move || name.get().map(|name| view! {
                        <li class="nav-menu-user">"Signed in as " <strong>{name}</strong></li>
                    })}
                    {links}
                </ul>
            </details>
            <div class="nav-session">
                // `Either`, not `into_any`: a type-erased view costs the
                // bundle every way of rendering it.
                {move || match name.get() {
                    Some(name) => Either::Left(view! {
                        <span class="nav-user" data-testid="nav-user">{name}</span>
                        <SignOut />
                    }),
                    None => Either::Right(view! {
                        <a href="/login" class="nav-plain">"Sign in"</a>
                        <a href="/signup" class="button small">"Sign up"</a>
                    }),
                }}
            </div>
        </nav>
    }
}

/// The main links; the account's too when signed in.
fn links(signed_in: bool) -> impl IntoView {
    view! {
        <li><a href="/about">"How it works"</a></li>
        <li><a href="/guides">"Guides"</a></li>
        <li><a href="/status">"Status"</a></li>
        {signed_in.then(|| view! {
            <li><a href="/dashboard">"Dashboard"</a></li>
            <li><a href="/account/sessions">"Sessions"</a></li>
        })}
    }
}

/// "Sign out": a plain POST form, which the island sends itself once
/// hydrated so that it can tell the other tabs first.
#[component]
fn SignOut() -> impl IntoView {
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        leptos::task::spawn_local(async move {
            let ended = crate::post::post(Logout::url(), String::new()).await;
            if ended.is_ok() {
                ClientSession::get().announce();
            }
            crate::navigation::go("/login?signed_out=1");
        });
    };
    view! {
        <form method="post" action=Logout::url() class="inline-form" on:submit=on_submit>
            <CsrfField />
            <button type="submit" class="button secondary small">"Sign out"</button>
        </form>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the server writes in the header is what the island reads back;
    /// anything else leaves the browser to ask.
    #[test]
    fn the_visitor_round_trips_through_the_headers_attributes() {
        let times = SessionTimes {
            last_seen_at: 1_700_000_000,
            idle_expires_at: 1_700_001_800,
            expires_at: 1_700_086_400,
            warn_before: 120,
            now: 1_700_000_005,
        };
        for visitor in [
            Visitor::Unknown,
            Visitor::Anonymous,
            Visitor::SignedIn {
                name: "Ada \"<b>\" Lovelace".into(),
                times,
            },
        ] {
            let (kind, name, written) = visitor.attributes();
            assert_eq!(
                Visitor::from_attributes(Some(kind), name, written.as_deref()),
                visitor
            );
        }
        for (kind, name, times) in [
            (None, None, None),
            (Some("signed-in"), Some("ada".to_owned()), None),
            (
                Some("signed-in"),
                None,
                Some("seen=1, idle=2, absolute=3, warn=4, now=5"),
            ),
            (Some("signed-in"), Some("ada".to_owned()), Some("seen=1")),
            (Some("admin"), Some("ada".to_owned()), None),
        ] {
            assert_eq!(
                Visitor::from_attributes(kind, name, times),
                Visitor::Unknown
            );
        }
    }
}
