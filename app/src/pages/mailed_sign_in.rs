//! `/login/email` (public): "Email me a sign-in link". Asks for the
//! address the account confirmed, answers the same for any, then offers
//! the code form (`?sent=1`): the code works in this browser only.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::mail_forms::{AddressForm, CodeForm},
    server_fns::mailed_sign_in::{RequestSignInLink, SignInWithCode},
};

/// The request form, or the code form once asked.
#[component]
pub fn MailedSignInPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let sent = arg("sent").is_some();
    let error = arg("error");

    view! {
        <Title text="Sign in by email" />
        <section class="card auth-card">
            <h1>"Sign in by email"</h1>
            {if sent {
                view! {
                    <p class="success" role="status" data-testid="sign-in-link-sent">
                        "If an account has confirmed this address, we sent it a code and a link. Both work for 15 minutes, in this browser only."
                    </p>
                    <CodeForm action=SignInWithCode::url().to_owned() error=error
                        button="Sign in" pending="Signing in…" />
                }
                .into_any()
            } else {
                view! {
                    <p class="muted">"We will mail a code and a link to the address you confirmed on your account. No password needed."</p>
                    <AddressForm action=RequestSignInLink::url().to_owned() error=error
                        button="Email me a code" />
                }
                .into_any()
            }}
            <p class="muted"><a href="/login">"Back to sign in"</a></p>
        </section>
    }
}
