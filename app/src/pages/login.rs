//! `/login`: sign in. Works as a plain form without JavaScript, and as a
//! server action (no reload) once hydrated.

use leptos::{html::Input, prelude::*};
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    components::{
        auth_state::{AuthVersion, Outcome},
        form_error::{form_error, FormError},
        passkey::PasskeySignIn,
    },
    csrf::CsrfField,
    server_fns::auth::SignIn,
};

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let action = ServerAction::<SignIn>::new();
    AuthVersion::get().bump_on_success(action, Outcome::SignedIn);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let signed_out = move || query.read().get("signed_out").is_some();
    let deleted = move || query.read().get("deleted").is_some();
    let error = form_error(action);
    let pending = action.pending();
    let remember = NodeRef::<Input>::new();

    view! {
        <Title text="Sign in" />
        <section class="card auth-card">
            <h1>"Sign in"</h1>
            <Show when=signed_out>
                <p class="success" role="status">"You have been signed out."</p>
            </Show>
            <Show when=deleted>
                <p class="success" role="status" data-testid="account-deleted">
                    "Your account and everything stored with it have been deleted."
                </p>
            </Show>
            <ActionForm action attr:class="form">
                <CsrfField />
                <input type="hidden" name="next" value=next />
                <div class="field">
                    <label for="username">"User name or e-mail"</label>
                    <input id="username" name="username" type="text" autocomplete="username webauthn"
                        required maxlength="254" autocapitalize="none" spellcheck="false" />
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password"
                        autocomplete="current-password" required maxlength="128" />
                </div>
                <div class="field checkbox">
                    <input id="remember" name="remember" type="checkbox" value="on" node_ref=remember />
                    <label for="remember">"Keep me signed in for 30 days on this device"</label>
                </div>
                <FormError error />
                <button type="submit" class="button" disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
            <PasskeySignIn remember next=Signal::derive(next) />
            <p class="muted">"No account yet? " <A href="/signup">"Create one"</A></p>
        </section>
    }
}
