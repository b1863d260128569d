//! `/account/passkeys` (session): the account's passkeys, with rename and
//! remove (plain POST forms that work without JavaScript), and "Add a
//! passkey" in a browser that can make one (a lazy island). After a
//! passkey is added or removed, the page offers to sign every other
//! session out.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        in_place_form::InPlaceForm, other_sessions::SignOutOthersOffer, passkey::AddPasskey,
        protected::signed_in,
    },
    csrf::CsrfField,
    format::utc,
    server_fns::passkeys::{list_passkeys, PasskeyView, RemovePasskey, RenamePasskey},
};

/// The passkey list.
#[component]
pub fn PasskeysPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let added = arg("added");
    let removed = arg("removed").is_some() && added.is_none();
    let error = arg("error");

    view! {
        <Title text="Your passkeys" />
        <section class="card">
            <h1>"Your passkeys"</h1>
            <p class="muted">
                "A passkey signs you in with your device's screen lock or a security key: "
                "nothing to type, nothing to phish, and nothing a stolen password list can reuse."
            </p>
            {added.map(|name| view! {
                <p class="success" role="status" data-testid="passkey-added">{format!("Added “{name}”.")}</p>
                <SignOutOthersOffer />
            })}
            {removed.then(|| view! {
                <p class="success" role="status" data-testid="passkey-removed">"The passkey was removed."</p>
                <SignOutOthersOffer />
            })}
            {signed_in(list_passkeys, move |page| {
                let only = page.passkeys.len() == 1 && !page.has_password;
                let error = error.clone();
                view! {
                    {if page.passkeys.is_empty() {
                        view! { <p data-testid="no-passkeys">"You have no passkeys yet."</p> }.into_any()
                    } else {
                        view! {
                            <ul class="session-list" data-testid="passkey-list">
                                {page.passkeys.into_iter().enumerate().map(|(i, p)| {
                                    passkey_item(p, only, error.clone().filter(|_| i == 0))
                                }).collect_view()}
                            </ul>
                        }.into_any()
                    }}
                    {only.then(|| view! {
                        <p class="muted small" data-testid="only-credential">
                            "This passkey is the only way into your account, so it cannot be removed. "
                            <a href="/account/password">"Set a password"</a>
                            " or add another passkey first."
                        </p>
                    })}
                    <div class="add-passkey" id="add-passkey" data-confirmed=page.can_add>
                        <div class="field">
                            <label for="passkey-name">"Name for a new passkey (optional)"</label>
                            <input id="passkey-name" type="text" maxlength="64" placeholder="e.g. Work laptop" />
                        </div>
                        <AddPasskey />
                        <noscript>
                            <p class="muted small">"Adding a passkey needs JavaScript."</p>
                        </noscript>
                    </div>
                }
            })}
            <p class="muted"><a href="/dashboard">"Back to the dashboard"</a></p>
        </section>
    }
}

fn passkey_item(p: PasskeyView, only: bool, error: Option<String>) -> impl IntoView {
    let field = format!("rename-{}", p.id);
    let (id, name) = (p.id.clone(), p.name.clone());
    let remove_label = format!("Remove {name}");
    let rename_label = format!("New name for {name}");
    view! {
        <li class="session" data-testid="passkey">
            <div class="session-main">
                <div class="session-title"><strong data-testid="passkey-name">{p.name.clone()}</strong></div>
                <div class="muted small">
                    "Added " {utc(p.created_at)} ". "
                    {match p.last_used_at {
                        Some(at) => format!("Last used {}.", utc(at)),
                        None => "Not used yet.".to_owned(),
                    }}
                </div>
                <InPlaceForm action=RenamePasskey::url().to_owned() class="inline-form rename-form".to_owned()
                    error=error>
                    <CsrfField />
                    <input type="hidden" name="id" value=p.id.clone() />
                    <label for=field.clone() class="visually-hidden">{rename_label}</label>
                    <input id=field type="text" name="name" required maxlength="64" value=name />
                    <button type="submit" class="button secondary small">"Rename"</button>
                </InPlaceForm>
            </div>
            {(!only).then(move || view! {
                <InPlaceForm action=RemovePasskey::url().to_owned() class="inline-form".to_owned()
                    error=None confirm=true id=format!("remove-{id}")>
                    <CsrfField />
                    <input type="hidden" name="id" value=id.clone() />
                    <button type="submit" class="button danger small"
                        aria-label=remove_label>"Remove"</button>
                </InPlaceForm>
            })}
        </li>
    }
}
