//! `/signup`: create an account (and sign it in).

use leptos::{html::Input, prelude::*};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    components::{
        auth_state::{AuthVersion, Outcome},
        form_error::{form_error, FormError},
        passkey::PasskeySignUp,
    },
    csrf::CsrfField,
    server_fns::auth::SignUp,
};

/// The sign-up form.
#[component]
pub fn SignupPage() -> impl IntoView {
    let action = ServerAction::<SignUp>::new();
    AuthVersion::get().bump_on_success(action, Outcome::SignedIn);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = form_error(action);
    let pending = action.pending();
    let username = NodeRef::<Input>::new();

    view! {
        <Title text="Create an account" />
        <section class="card auth-card">
            <h1>"Create an account"</h1>
            <ActionForm action attr:class="form">
                <CsrfField />
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="username">"User name or e-mail"</label>
                    <input id="username" name="username" type="text" autocomplete="username"
                        required minlength="3" maxlength="254" autocapitalize="none" spellcheck="false"
                        aria-describedby="username-hint" node_ref=username />
                    <p id="username-hint" class="hint">"Letters, digits and . _ - + @ (3–254 characters)."</p>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="new-password"
                        required minlength="8" maxlength="128" aria-describedby="password-hint" />
                    <p id="password-hint" class="hint">"8 to 128 characters, and hard to guess: a few unrelated words work well."</p>
                </div>
                <FormError error />
                <button type="submit" class="button" disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Creating account…" } else { "Create account" }}
                </button>
            </ActionForm>
            <PasskeySignUp username next=Signal::derive(next) />
            <p class="muted">"Already have an account? " <A href="/login">"Sign in"</A></p>
        </section>
    }
}
