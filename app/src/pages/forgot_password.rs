//! `/forgot-password` (public): asks for the address the account
//! confirmed, and answers the same whether or not one has it.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{components::mail_forms::AddressForm, server_fns::recovery::RequestPasswordReset};

/// The request form, or its answer.
#[component]
pub fn ForgotPasswordPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let sent = arg("sent").is_some();

    view! {
        <Title text="Forgot your password?" />
        <section class="card auth-card">
            <h1>"Forgot your password?"</h1>
            {if sent {
                view! {
                    <p class="success" role="status" data-testid="reset-requested">
                        "If an account has confirmed this address, we sent a link to it. It works for 15 minutes."
                    </p>
                    <p class="muted">"Nothing arrived? Check your spam folder, or ask again in a few minutes."</p>
                }
                .into_any()
            } else {
                view! {
                    <p class="muted">"Enter the email address you confirmed on your account. We will send you a link to choose a new password."</p>
                    <AddressForm action=RequestPasswordReset::url().to_owned() error=arg("error")
                        button="Send me a link" />
                }
                .into_any()
            }}
            <p class="muted"><a href="/login">"Back to sign in"</a></p>
        </section>
    }
}
