//! `/login`: sign in. A plain form (it works without JavaScript), which
//! the page's island sends in place once hydrated; passkeys beside it.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        in_place_form::InPlaceForm, passkey::PasskeySignIn, password_field::CurrentPassword,
        provider_links::ProviderLinks,
    },
    csrf::CsrfField,
    server_fns::auth::SignIn,
};

/// The sign-in form.
#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let next = arg("next").unwrap_or_default();
    let field = next.clone();

    view! {
        <Title text="Sign in" />
        <section class="card auth-card">
            <h1>"Sign in"</h1>
            {arg("signed_out").map(|_| view! {
                <p class="success" role="status">"You have been signed out."</p>
            })}
            {arg("ended").map(|_| view! {
                <p class="success" role="status" data-testid="idle-ended">
                    "You were signed out after a period of inactivity."
                </p>
            })}
            {arg("deleted").map(|_| view! {
                <p class="success" role="status" data-testid="account-deleted">
                    "Your account and everything stored with it have been deleted."
                </p>
            })}
            <InPlaceForm action=SignIn::url().to_owned() class="form".to_owned() error=arg("error")>
                <CsrfField />
                <input type="hidden" name="next" value=field />
                <div class="field">
                    <label for="username">"User name or e-mail"</label>
                    <input id="username" name="username" type="text" autocomplete="username webauthn"
                        required maxlength="254" autocapitalize="none" spellcheck="false" />
                </div>
                <CurrentPassword id="password" name="password" label="Password" />
                <div class="field checkbox">
                    <input id="remember" name="remember" type="checkbox" value="on" />
                    <label for="remember">"Keep me signed in for 30 days on this device"</label>
                </div>
                <button type="submit" class="button" data-pending="Signing in…">"Sign in"</button>
            </InPlaceForm>
            <p class="small">
                <a href="/forgot-password">"Forgot your password?"</a>
                " · "
                <a href="/login/email">"Email me a sign-in code"</a>
            </p>
            <PasskeySignIn />
            <ProviderLinks next />
            <p class="muted">"No account yet? " <a href="/signup">"Create one"</a></p>
        </section>
    }
}
