//! `/revert-email?token=…` (public): where the link mailed to a replaced
//! address leads ("it was not me"). Its button puts the address back and
//! signs every device out; then a password reset through that address
//! gives the account back to its owner.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::in_place_form::InPlaceForm, csrf::CsrfField, error::AppError,
    server_fns::email::RevertEmail,
};

/// The button, or what came of pressing it.
#[component]
pub fn RevertEmailPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let reverted = arg("reverted").is_some();
    let error = arg("error").and_then(|code| AppError::from_code(&code));
    let token = arg("token").unwrap_or_default();

    let body = if reverted {
        view! {
            <p class="success" role="status" data-testid="email-reverted">
                "Your previous address is your account's again, and every device has been signed out."
            </p>
            <p>"Now choose a new password: " <a href="/forgot-password">"reset it through that address"</a> "."</p>
        }
        .into_any()
    } else if let Some(error) = error {
        view! { <p class="error" role="alert" data-testid="revert-error">{error.to_string()}</p> }
            .into_any()
    } else if token.is_empty() {
        view! {
            <p data-testid="revert-error">"This page undoes a change of address from the link we mailed. Open the link from the message."</p>
        }
        .into_any()
    } else {
        view! {
            <p class="muted">"If you did not change your account's email address, put this one back: every device signed in to the account will be signed out."</p>
            <InPlaceForm action=RevertEmail::url().to_owned() class="form".to_owned() error=None>
                <CsrfField />
                <input type="hidden" name="token" value=token />
                <button type="submit" class="button danger" data-pending="Restoring…">
                    "Put my address back and sign everyone out"
                </button>
            </InPlaceForm>
        }
        .into_any()
    };

    view! {
        <Title text="Undo a change of address" />
        <section class="card auth-card">
            <h1>"Undo a change of address"</h1>
            {body}
        </section>
    }
}
