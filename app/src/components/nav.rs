//! The site header: navigation and the signed-in state.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::{
    components::auth_state::AuthVersion,
    server_fns::auth::{current_viewer, Logout},
};

/// Header with the main links and, on the right, who is signed in.
#[component]
pub fn SiteHeader() -> impl IntoView {
    let version = AuthVersion::get();
    let current = Resource::new(move || version.track(), |_| current_viewer());
    let logout = ServerAction::<Logout>::new();
    version.bump_on_success(logout);

    view! {
        <header class="site-header">
            <nav class="nav" aria-label="Main">
                <A href="/" attr:class="brand">"Leptos Sessions"</A>
                <ul class="nav-links">
                    <li><A href="/status">"Status"</A></li>
                    <Transition fallback=|| view! { <li class="nav-muted">"…"</li> }>
                        {move || Suspend::new(async move {
                            match current.await {
                                Ok(Some(v)) => view! {
                                    <li><A href="/dashboard">"Dashboard"</A></li>
                                    <li><A href="/account/sessions">"Sessions"</A></li>
                                    <li class="nav-user" data-testid="nav-user">{v.display_name}</li>
                                    <li>
                                        <ActionForm action=logout attr:class="inline-form">
                                            <button type="submit" class="button secondary small">"Sign out"</button>
                                        </ActionForm>
                                    </li>
                                }.into_any(),
                                _ => view! {
                                    <li><A href="/login">"Sign in"</A></li>
                                    <li><A href="/signup" attr:class="button small">"Sign up"</A></li>
                                }.into_any(),
                            }
                        })}
                    </Transition>
                </ul>
            </nav>
        </header>
    }
}
