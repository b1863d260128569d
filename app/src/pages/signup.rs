//! `/signup`: create an account (and sign it in). A plain form, sent in
//! place once hydrated; a passkey instead of a password beside it.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        in_place_form::InPlaceForm, passkey::PasskeySignUp, provider_links::ProviderLinks,
    },
    csrf::CsrfField,
    server_fns::auth::SignUp,
};

/// The sign-up form.
#[component]
pub fn SignupPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let next = arg("next").unwrap_or_default();
    let field = next.clone();

    view! {
        <Title text="Create an account" />
        <section class="card auth-card">
            <h1>"Create an account"</h1>
            <InPlaceForm action=SignUp::url().to_owned() class="form".to_owned() error=arg("error")>
                <CsrfField />
                <input type="hidden" name="next" value=field />
                <div class="field">
                    <label for="username">"User name or e-mail"</label>
                    <input id="username" name="username" type="text" autocomplete="username"
                        required minlength="3" maxlength="254" autocapitalize="none" spellcheck="false"
                        aria-describedby="username-hint" />
                    <p id="username-hint" class="hint">"Letters, digits and . _ - + @ (3–254 characters)."</p>
                </div>
                <div class="field">
                    <label for="email">"Email address " <span class="muted">"(optional)"</span></label>
                    <input id="email" name="email" type="email" autocomplete="email" maxlength="254"
                        aria-describedby="email-hint" />
                    <p id="email-hint" class="hint">"To get your account back if you forget your password. We send a link to confirm it."</p>
                </div>
                <div class="field">
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" autocomplete="new-password"
                        required minlength="8" maxlength="128" aria-describedby="password-hint" />
                    <p id="password-hint" class="hint">"8 to 128 characters, and hard to guess: a few unrelated words work well."</p>
                </div>
                <button type="submit" class="button" data-pending="Creating account…">"Create account"</button>
            </InPlaceForm>
            <PasskeySignUp />
            <ProviderLinks next="" />
            <p class="muted">"Already have an account? " <a href="/login">"Sign in"</a></p>
        </section>
    }
}
