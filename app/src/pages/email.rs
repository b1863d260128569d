//! `/account/email` (session): the account's email address, whether it is
//! confirmed, and the forms to set it and to send its link again. Setting
//! it asks for a credential first when the last proof is not recent (in
//! place once hydrated, through `/account/confirm` without JavaScript).

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{in_place_form::InPlaceForm, mail_forms::CodeForm, protected::signed_in},
    csrf::CsrfField,
    server_fns::email::{email_state, EmailStatus, ResendVerification, SetEmail, VerifyEmailCode},
};

/// The email form.
#[component]
pub fn EmailPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let sent = arg("sent").is_some();
    let confirmed = arg("confirmed").is_some();
    // A plain post's error, for the form it came from: a code's, or the
    // address form's.
    let (code_error, error) = match arg("error") {
        Some(code) if code == "link_rejected" => (Some(code), None),
        other => (None, other),
    };

    view! {
        <Title text="Email address" />
        <section class="card auth-card">
            <h1>"Email address"</h1>
            {signed_in(email_state, move |state: EmailStatus| {
                let unverified = (state.address.is_some() && !state.verified) || state.pending.is_some();
                view! {
                    {sent.then(|| view! {
                        <p class="success" role="status" data-testid="email-sent">
                            "We sent a link to your address. Open it, or enter the code from the message below."
                        </p>
                    })}
                    {confirmed.then(|| view! {
                        <p class="success" role="status" data-testid="email-confirmed">
                            "Your email address is confirmed."
                        </p>
                    })}
                    <EmailState state=state.clone() />
                    {unverified.then(|| view! {
                        <CodeForm action=VerifyEmailCode::url().to_owned() error=code_error.clone()
                            button="Confirm with the code" pending="Confirming…" />
                        <InPlaceForm action=ResendVerification::url().to_owned()
                            class="inline-form".to_owned() error=None id="resend".to_owned()>
                            <CsrfField />
                            <button type="submit" class="button secondary" data-pending="Sending…">
                                "Send the link again"
                            </button>
                        </InPlaceForm>
                    })}
                    <InPlaceForm action=SetEmail::url().to_owned() class="form".to_owned()
                        error=error.clone() confirm=true id="set-email".to_owned()>
                        <CsrfField />
                        <div class="field">
                            <label for="email">
                                {if state.address.is_some() { "New email address" } else { "Email address" }}
                            </label>
                            <input id="email" name="email" type="email" autocomplete="email" required
                                maxlength="254" aria-describedby="email-hint" />
                            <p id="email-hint" class="hint">
                                "We send a link to confirm it. Until it is confirmed, it receives nothing else."
                            </p>
                        </div>
                        <button type="submit" class="button" data-pending="Sending…">"Send a confirmation link"</button>
                    </InPlaceForm>
                }
            })}
            <p class="muted"><a href="/dashboard">"Back to the dashboard"</a></p>
        </section>
    }
}

/// What the account's address is, and whether it is confirmed.
#[component]
fn EmailState(state: EmailStatus) -> impl IntoView {
    match state.address {
        None => view! {
            <p data-testid="email-state" data-state="none">
                "Your account has no email address. Add one to get your account back if you forget your password."
            </p>
        }
        .into_any(),
        Some(address) if state.verified => view! {
            <p data-testid="email-state" data-state="verified">
                <strong>{address.clone()}</strong> " is confirmed."
            </p>
            {state.pending.map(|pending| view! {
                <p data-testid="email-pending">
                    "Waiting for " <strong>{pending}</strong> " to be confirmed from the link we sent to it. Until then, "
                    {address} " stays your address."
                </p>
            })}
        }
        .into_any(),
        Some(address) => view! {
            <p data-testid="email-state" data-state="unverified">
                <strong>{address}</strong> " is not confirmed yet: open the link we sent to it, or enter its code below."
            </p>
        }
        .into_any(),
    }
}
