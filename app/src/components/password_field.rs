//! The field where a person types a password they already have: one
//! markup, so every form offers the browser's saved password the same way
//! and takes no more than the server accepts.

use leptos::prelude::*;

/// A labelled `current-password` input named `name`.
#[component]
pub fn CurrentPassword(
    /// The input's id (the label points at it).
    id: &'static str,
    /// The form field's name, as the server function takes it.
    name: &'static str,
    /// The label's words.
    label: &'static str,
) -> impl IntoView {
    view! {
        <div class="field">
            <label for=id>{label}</label>
            <input id=id name=name type="password"
                autocomplete="current-password" required maxlength="128" />
        </div>
    }
}
