//! `/reset-password?token=…` (public): where a reset link leads. A form for
//! the new password; the link is used up only when a good one is sent, so
//! a mail scanner's GET, or a weak first choice, costs nothing.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::in_place_form::InPlaceForm, csrf::CsrfField, error::AppError,
    server_fns::recovery::ResetPassword,
};

/// The new-password form.
#[component]
pub fn ResetPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let token = arg("token").unwrap_or_default();
    let error = arg("error");

    view! {
        <Title text="Choose a new password" />
        <section class="card auth-card">
            <h1>"Choose a new password"</h1>
            {if token.is_empty() && error.is_some() {
                let message = error.as_deref().and_then(AppError::from_code).map(|e| e.to_string());
                view! {
                    <p class="error" role="alert" data-testid="reset-error">{message}</p>
                    <p><a href="/forgot-password">"Ask for a new link"</a></p>
                }
                .into_any()
            } else if token.is_empty() {
                view! {
                    <p data-testid="reset-error">
                        "This page sets a new password from the link we mailed. Open the link from the message, or "
                        <a href="/forgot-password">"ask for a new one"</a> "."
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <p class="muted">"Every device signed in to your account will be signed out; this one will be signed in."</p>
                    <InPlaceForm action=ResetPassword::url().to_owned() class="form".to_owned() error=error>
                        <CsrfField />
                        <input type="hidden" name="token" value=token />
                        <div class="field">
                            <label for="new-password">"New password"</label>
                            <input id="new-password" name="new_password" type="password" autocomplete="new-password"
                                required minlength="8" maxlength="128" aria-describedby="new-password-hint" />
                            <p id="new-password-hint" class="hint">"8 to 128 characters, and hard to guess: a few unrelated words work well."</p>
                        </div>
                        <button type="submit" class="button" data-pending="Saving…">"Set the new password"</button>
                    </InPlaceForm>
                    <p class="muted small"><a href="/forgot-password">"Ask for a new link"</a></p>
                }
                .into_any()
            }}
        </section>
    }
}
