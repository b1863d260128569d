//! `/login/link?token=…` (public): where a sign-in link leads. Its button
//! signs in (a mail scanner's GET does nothing), in the browser that asked
//! for the link only.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::in_place_form::InPlaceForm, csrf::CsrfField,
    server_fns::mailed_sign_in::SignInWithLink,
};

/// The sign-in button.
#[component]
pub fn LinkSignInPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let token = arg("token").unwrap_or_default();
    let error = arg("error");

    view! {
        <Title text="Sign in with your link" />
        <section class="card auth-card">
            <h1>"Sign in with your link"</h1>
            {if token.is_empty() {
                view! {
                    <p data-testid="link-error">
                        "This page signs you in from the link we mailed. Open the link from the message, or "
                        <a href="/login/email">"ask for a new one"</a> "."
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <InPlaceForm action=SignInWithLink::url().to_owned() class="form".to_owned() error=error>
                        <CsrfField />
                        <input type="hidden" name="token" value=token />
                        <button type="submit" class="button" data-pending="Signing in…">"Sign in"</button>
                    </InPlaceForm>
                    <p class="muted small"><a href="/login/email">"Ask for a new link"</a></p>
                }
                .into_any()
            }}
        </section>
    }
}
