//! `/account/confirm?next=…` (session): asks for the password (or a
//! passkey) again before a sensitive action, then returns to `next`. A
//! plain form, so it works without JavaScript; the server sends a page
//! here (303) when its action needs a recent authentication that the
//! session no longer has.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        in_place_form::InPlaceForm, passkey::PasskeyConfirm, password_field::CurrentPassword,
        provider_links::ProviderConfirm,
    },
    csrf::CsrfField,
    server_fns::security::ConfirmPassword,
};

/// The confirmation form.
#[component]
pub fn ConfirmPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let next = arg("next").unwrap_or_default();
    let field = next.clone();

    view! {
        <Title text="Confirm it's you" />
        <section class="card auth-card">
            <h1>"Confirm it's you"</h1>
            <p class="muted">"This action changes how you sign in, or signs you out. Enter your password, or use a passkey, to continue."</p>
            <InPlaceForm action=ConfirmPassword::url().to_owned() class="form".to_owned() error=arg("error")>
                <CsrfField />
                <input type="hidden" name="next" value=field />
                <CurrentPassword id="confirm-password" name="password" label="Password" />
                <button type="submit" class="button" data-pending="Checking…">"Continue"</button>
            </InPlaceForm>
            <PasskeyConfirm />
            <ProviderConfirm next />
        </section>
    }
}
