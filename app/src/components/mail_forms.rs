//! The two one-field forms of the email flows: the address to mail
//! something to (a reset link, a sign-in code), answered the same way for
//! any address, and the six-digit code a message brought. Each is the same
//! form wherever it is.

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

/// The code form posting to `action`: six digits (a space in the middle
/// is allowed, as people type them), offered to the browser's one-time
/// code autofill.
#[component]
pub fn CodeForm(
    /// The server function's URL.
    action: String,
    /// The error a plain post came back with (`?error=`).
    error: Option<String>,
    /// What the button says.
    button: &'static str,
    /// What the button says while the code is checked.
    pending: &'static str,
) -> impl IntoView {
    view! {
        <InPlaceForm action=action class="form".to_owned() error=error id="code".to_owned()>
            <CsrfField />
            <div class="field">
                <label for="code">"Code from the message"</label>
                <input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code"
                    required minlength="6" maxlength="7" pattern="[0-9 ]{6,7}" />
            </div>
            <button type="submit" class="button" data-pending=pending>{button}</button>
        </InPlaceForm>
    }
}
