//! The offer that follows adding or removing a credential: sign every
//! other session out too (ASVS 4.0.3 V3.3.3, ASVS 5 V7.4.3). A session an
//! intruder holds would otherwise outlive the owner's fix.

use leptos::{prelude::*, server_fn::ServerFn as _};

use crate::{
    components::in_place_form::InPlaceForm, csrf::CsrfField,
    server_fns::account::RevokeOtherSessions,
};

/// "Sign out every other session".
#[component]
pub fn SignOutOthersOffer() -> impl IntoView {
    view! {
        <div class="offer" data-testid="sign-out-others-offer">
            <p>"If someone else could have had access to your account, sign out every other session too."</p>
            <InPlaceForm
                action=RevokeOtherSessions::url().to_owned()
                class="inline-form".to_owned()
                error=None
                confirm=true
                id="offer-reauth".to_owned()
                done="Every other session has been signed out.".to_owned()
            >
                <CsrfField />
                <button type="submit" class="button secondary">"Sign out every other session"</button>
            </InPlaceForm>
        </div>
    }
}
