//! `/account/password` (recent authentication): change the password. Every
//! other device is signed out; this browser gets a new session.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    components::{
        form_error::{form_error, FormError},
        reauth_prompt::ReauthPrompt,
    },
    csrf::CsrfField,
    server_fns::security::{has_password, ChangePassword},
};

/// The password form.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let query = use_query_map();
    let changed = move || query.read().get("changed").is_some();
    let error = form_error(action);
    let pending = action.pending();
    // An account made with a passkey sets its first password here, with
    // no current one to give.
    let existing = Resource::new(|| (), |()| has_password());
    let current = move || {
        Suspend::new(async move {
            if existing.await == Ok(false) {
                view! { <input type="hidden" name="current_password" value="" /> }.into_any()
            } else {
                view! {
                    <div class="field">
                        <label for="current-password">"Current password"</label>
                        <input id="current-password" name="current_password" type="password"
                            autocomplete="current-password" required maxlength="128" />
                    </div>
                }
                .into_any()
            }
        })
    };

    view! {
        <Title text="Change your password" />
        <section class="card auth-card">
            <h1>"Change your password"</h1>
            <Show when=changed>
                <p class="success" role="status" data-testid="password-changed">
                    "Your password has been changed. Every other device has been signed out."
                </p>
            </Show>
            <ActionForm action attr:class="form">
                <CsrfField />
                <Suspense fallback=|| ()>{current}</Suspense>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new_password" type="password" autocomplete="new-password"
                        required minlength="8" maxlength="128" aria-describedby="new-password-hint" />
                    <p id="new-password-hint" class="hint">
                        "8 to 128 characters, and hard to guess. Other devices will be signed out."
                    </p>
                </div>
                <FormError error />
                <button type="submit" class="button" disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Changing…" } else { "Change password" }}
                </button>
            </ActionForm>
            <ReauthPrompt action />
            <p class="muted"><A href="/dashboard">"Back to the dashboard"</A></p>
        </section>
    }
}
