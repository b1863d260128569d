//! The offer that follows adding or removing a credential: sign every
//! other session out too (ASVS 4.0.3 V3.3.3, ASVS 5 V7.4.3). A session an
//! intruder holds would otherwise outlive the owner's fix.

use leptos::prelude::*;

use crate::{
    components::{form_error::FormError, reauth_prompt::ReauthPrompt},
    csrf::CsrfField,
    server_fns::account::RevokeOtherSessions,
};

/// "Sign out every other session", with its outcome.
#[component]
pub fn SignOutOthersOffer() -> impl IntoView {
    let action = ServerAction::<RevokeOtherSessions>::new();
    let error = Signal::derive(move || action.value().get().and_then(Result::err));
    let done = move || matches!(action.value().get(), Some(Ok(())));
    view! {
        <div class="offer" data-testid="sign-out-others-offer">
            <Show
                when=done
                fallback=move || view! {
                    <p>"If someone else could have had access to your account, sign out every other session too."</p>
                    <ActionForm action attr:class="inline-form">
                        <CsrfField />
                        <button type="submit" class="button secondary">"Sign out every other session"</button>
                    </ActionForm>
                    <FormError error />
                }
            >
                <p class="success" role="status" data-testid="others-signed-out">
                    "Every other session has been signed out."
                </p>
            </Show>
            <ReauthPrompt action id="offer-reauth" />
        </div>
    }
}
