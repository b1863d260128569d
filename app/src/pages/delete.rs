//! `/account/delete` (recent authentication): delete the account and
//! everything stored of it, once the user has typed their name.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

use crate::{
    components::{
        auth_state::{AuthVersion, Outcome},
        form_error::{form_error, FormError},
        reauth_prompt::ReauthPrompt,
    },
    csrf::CsrfField,
    server_fns::{auth::current_viewer, security::DeleteAccount},
};

/// The deletion form.
#[component]
pub fn DeleteAccountPage() -> impl IntoView {
    let action = ServerAction::<DeleteAccount>::new();
    AuthVersion::get().bump_on_success(action, Outcome::SignedOut);
    let viewer = Resource::new(|| (), |()| current_viewer());
    let error = form_error(action);
    let pending = action.pending();
    let name = move || {
        viewer
            .get()
            .and_then(Result::ok)
            .flatten()
            .map(|v| v.display_name)
            .unwrap_or_default()
    };

    view! {
        <Title text="Delete your account" />
        <section class="card auth-card">
            <h1>"Delete your account"</h1>
            <p>"This deletes your account, signs out every device and erases your sign-in history. It cannot be undone."</p>
            <ActionForm action attr:class="form">
                <CsrfField />
                <div class="field">
                    <label for="confirm-username">
                        "To confirm, type your user name: "
                        <Suspense fallback=|| ()><strong data-testid="delete-username">{name}</strong></Suspense>
                    </label>
                    <input id="confirm-username" name="username" type="text" required maxlength="254"
                        autocomplete="off" autocapitalize="none" spellcheck="false" />
                </div>
                <FormError error />
                <button type="submit" class="button danger" disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Deleting…" } else { "Delete my account" }}
                </button>
            </ActionForm>
            <ReauthPrompt action />
            <p class="muted"><A href="/dashboard">"Keep my account"</A></p>
        </section>
    }
}
