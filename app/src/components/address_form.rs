//! The one-field form that asks for an email address to mail something to
//! (a reset link, a sign-in code): the server answers it the same way for
//! any address, so it is the same form wherever it is.

use leptos::prelude::*;

use crate::{components::in_place_form::InPlaceForm, csrf::CsrfField};

/// The address form posting to `action`, with `button` as its button.
#[component]
pub fn AddressForm(
    /// The server function's URL.
    action: String,
    /// The error a plain post came back with (`?error=`).
    error: Option<String>,
    /// What the button says.
    button: &'static str,
) -> impl IntoView {
    view! {
        <InPlaceForm action=action class="form".to_owned() error=error>
            <CsrfField />
            <div class="field">
                <label for="email">"Email address"</label>
                <input id="email" name="email" type="email" autocomplete="email" required maxlength="254" />
            </div>
            <button type="submit" class="button" data-pending="Sending…">{button}</button>
        </InPlaceForm>
    }
}
