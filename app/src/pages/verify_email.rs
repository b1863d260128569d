//! `/verify-email?token=…` (public): where a verification link leads. The
//! page shows a button that posts the token: mail scanners follow links
//! with GET, and a GET here changes nothing. The link may be opened on any
//! device, signed in or not.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::in_place_form::InPlaceForm, csrf::CsrfField, error::AppError,
    server_fns::email::VerifyEmail,
};

/// The confirmation button, or what came of pressing it.
#[component]
pub fn VerifyEmailPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let verified = arg("verified").is_some();
    let error = arg("error").and_then(|code| AppError::from_code(&code));
    let token = arg("token").unwrap_or_default();

    let body = if verified {
        view! {
            <p class="success" role="status" data-testid="email-verified">
                "Your email address is confirmed."
            </p>
            <p><a href="/account/email">"See your email address"</a></p>
        }
        .into_any()
    } else if let Some(error) = error {
        view! {
            <p class="error" role="alert" data-testid="verify-error">{error.to_string()}</p>
            <p><a href="/account/email">"Go to your email address"</a></p>
        }
        .into_any()
    } else if token.is_empty() {
        view! {
            <p data-testid="verify-error">"This page confirms an email address from the link we mailed. Open the link from the message."</p>
        }
        .into_any()
    } else {
        view! {
            <p class="muted">"Confirm that this address is yours, to get your account back by email if you ever need to."</p>
            <InPlaceForm action=VerifyEmail::url().to_owned() class="form".to_owned() error=None>
                <CsrfField />
                <input type="hidden" name="token" value=token />
                <button type="submit" class="button" data-pending="Confirming…">"Confirm my email address"</button>
            </InPlaceForm>
        }
        .into_any()
    };

    view! {
        <Title text="Confirm your email address" />
        <section class="card auth-card">
            <h1>"Confirm your email address"</h1>
            {body}
        </section>
    }
}
