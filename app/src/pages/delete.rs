//! `/account/delete` (recent authentication): delete the account and
//! everything stored of it, once the user has typed their name.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{in_place_form::InPlaceForm, protected::signed_in},
    csrf::CsrfField,
    server_fns::{auth::current_viewer, security::DeleteAccount},
};

/// The deletion form.
#[component]
pub fn DeleteAccountPage() -> impl IntoView {
    let query = use_query_map();
    let error = query.read_untracked().get("error");

    view! {
        <Title text="Delete your account" />
        <section class="card auth-card">
            <h1>"Delete your account"</h1>
            <p>"This deletes your account, signs out every device and erases your sign-in history. It cannot be undone."</p>
            {signed_in(current_viewer, move |viewer| {
                let name = viewer.map(|v| v.display_name).unwrap_or_default();
                view! {
                    <InPlaceForm action=DeleteAccount::url().to_owned() class="form".to_owned()
                        error=error.clone() confirm=true announce=true>
                        <CsrfField />
                        <div class="field">
                            <label for="confirm-username">
                                "To confirm, type your user name: "
                                <strong data-testid="delete-username">{name}</strong>
                            </label>
                            <input id="confirm-username" name="username" type="text" required maxlength="254"
                                autocomplete="off" autocapitalize="none" spellcheck="false" />
                        </div>
                        <button type="submit" class="button danger" data-pending="Deleting…">"Delete my account"</button>
                    </InPlaceForm>
                }
            })}
            <p class="muted"><a href="/dashboard">"Keep my account"</a></p>
        </section>
    }
}
