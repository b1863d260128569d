//! `/account/confirm?next=…` (session): asks for the password again before
//! a sensitive action, then returns to `next`. A plain form, so it works
//! without JavaScript; the server sends a page here (303) when its action
//! needs a recent authentication that the session no longer has.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        form_error::{form_error, FormError},
        passkey::PasskeyConfirm,
    },
    csrf::CsrfField,
    server_fns::security::ConfirmPassword,
};

/// The confirmation form.
#[component]
pub fn ConfirmPage() -> impl IntoView {
    let action = ServerAction::<ConfirmPassword>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = form_error(action);
    let pending = action.pending();

    view! {
        <Title text="Confirm it's you" />
        <section class="card auth-card">
            <h1>"Confirm it's you"</h1>
            <p class="muted">"This action changes how you sign in, or signs you out. Enter your password, or use a passkey, to continue."</p>
            <ActionForm action attr:class="form">
                <CsrfField />
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="confirm-password">"Password"</label>
                    <input id="confirm-password" name="password" type="password"
                        autocomplete="current-password" required maxlength="128" />
                </div>
                <FormError error />
                <button type="submit" class="button" disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Checking…" } else { "Continue" }}
                </button>
            </ActionForm>
            <PasskeyConfirm next=Signal::derive(next) />
        </section>
    }
}
