//! The site header: navigation and the signed-in state.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    client_session::{ClientSession, ClientState},
    components::auth_state::{AuthVersion, Outcome},
    csrf::CsrfField,
    server_fns::auth::{current_viewer, Logout},
    session_clock::SessionClock,
};

/// Header with the main links and, on the right, who is signed in.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let version = AuthVersion::get();
    let current = Resource::new(move || version.track(), |_| current_viewer());
    let logout = ServerAction::<Logout>::new();
    version.bump_on_success(logout, Outcome::SignedOut);
    let client = ClientSession::get();
    let clock = SessionClock::get();
    // Where the server could not say (prerendered pages, or anonymous SSR
    // pages), ask in the browser. Effects run only after hydration.
    Effect::new(move |_| match current.get() {
        Some(Ok(Some(viewer))) => {
            version.observe(true);
            clock.observe(viewer.times);
        }
        Some(Ok(None)) => {
            version.observe(false);
            clock.clear();
            client.start();
        }
        _ => {}
    });

    // A static page's header starts out "signed out" (the server rendered
    // it for no one); once the browser learns the session, the protected
    // pages its links lead to must not be refused as signed out.
    Effect::new(move |_| {
        if matches!(client.state(), ClientState::SignedIn { .. }) {
            version.observe(true);
        }
    });

    view! {
        <header class="site-header">
            <nav class="nav" aria-label="Main">
                <A href="/" attr:class="brand">"Leptos Sessions"</A>
                <ul class="nav-links">
                    <li><A href="/about">"How it works"</A></li>
                    <li><A href="/guides">"Guides"</A></li>
                    <li><A href="/status">"Status"</A></li>
                    <Transition fallback=|| view! { <li class="nav-muted">"…"</li> }>
                        {move || Suspend::new(async move {
                            // SSR pages know from the server; static pages
                            // learn it in the browser (see `ClientSession`).
                            let from_server = current.await.ok().flatten().map(|v| v.display_name);
                            move || {
                                let name = from_server.clone().or_else(|| match client.state() {
                                    ClientState::SignedIn { name, .. } => Some(name),
                                    _ => None,
                                });
                                match name {
                                    Some(name) => view! {
                                        <li><A href="/dashboard">"Dashboard"</A></li>
                                        <li><A href="/account/sessions">"Sessions"</A></li>
                                        <li class="nav-user" data-testid="nav-user">{name}</li>
                                        <li>
                                            <ActionForm action=logout attr:class="inline-form">
                                                <CsrfField />
                                                <button type="submit" class="button secondary small">"Sign out"</button>
                                            </ActionForm>
                                        </li>
                                    }.into_any(),
                                    None => view! {
                                        <li><A href="/login">"Sign in"</A></li>
                                        <li><A href="/signup" attr:class="button small">"Sign up"</A></li>
                                    }.into_any(),
                                }
                            }
                        })}
                    </Transition>
                </ul>
            </nav>
        </header>
    }
}
