//! `/account/passkeys` (session): the account's passkeys, with rename and
//! remove (plain POST forms that work without JavaScript), and "Add a
//! passkey" once hydrated in a browser that can make one. After a passkey
//! is added or removed, the page offers to sign every other session out.

use leptos::{html::Input, prelude::*};
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

use crate::{
    components::{form_error::FormError, other_sessions::SignOutOthersOffer, passkey::AddPasskey},
    csrf::CsrfField,
    error::AppError,
    format::utc,
    server_fns::{
        passkeys::{list_passkeys, PasskeyView, RemovePasskey, RenamePasskey, PASSKEYS_PATH},
        security::CONFIRM_PATH,
    },
};

/// The passkey list.
#[component]
pub fn PasskeysPage() -> impl IntoView {
    let rename = ServerAction::<RenamePasskey>::new();
    let remove = ServerAction::<RemovePasskey>::new();
    let added = RwSignal::new(0_u32);
    let auth = crate::components::auth_state::AuthVersion::get();
    let passkeys = Resource::new(
        move || (rename.version().get(), remove.version().get(), added.get()),
        move |_| auth.unless_signed_out(list_passkeys()),
    );
    let just_added = RwSignal::new(None::<String>);
    let on_added = Callback::new(move |passkey: PasskeyView| {
        just_added.set(Some(passkey.name));
        added.update(|n| *n += 1);
    });
    let query = leptos_router::hooks::use_query_map();
    // Removing needs a recent authentication: past the window, confirm
    // (with a passkey or the password) and come back.
    let navigate = leptos_router::hooks::use_navigate();
    Effect::new(move |_| {
        if matches!(remove.value().get(), Some(Err(AppError::ReauthRequired))) {
            let to = format!("{CONFIRM_PATH}?next={PASSKEYS_PATH}");
            navigate(&to, Default::default());
        }
    });
    let error = Signal::derive(move || {
        [rename.value().get(), remove.value().get()]
            .into_iter()
            .find_map(|v| v.and_then(Result::err))
            .or_else(|| {
                query
                    .read()
                    .get("error")
                    .and_then(|c| AppError::from_code(&c))
            })
    });
    let name = NodeRef::<Input>::new();
    // Whether the session confirmed a credential lately (adding one needs
    // it; until the list has loaded, the server's answer decides).
    let can_add = Signal::derive(move || {
        passkeys
            .get()
            .and_then(Result::ok)
            .is_none_or(|page| page.can_add)
    });

    view! {
        <Title text="Your passkeys" />
        <section class="card">
            <h1>"Your passkeys"</h1>
            <p class="muted">
                "A passkey signs you in with your device's screen lock or a security key: "
                "nothing to type, nothing to phish, and nothing a stolen password list can reuse."
            </p>
            <FormError error />
            {move || just_added.get().map(|n| view! {
                <p class="success" role="status" data-testid="passkey-added">{format!("Added “{n}”.")}</p>
                <SignOutOthersOffer />
            })}
            <Show when=move || query.read().get("removed").is_some() && just_added.get().is_none()>
                <p class="success" role="status" data-testid="passkey-removed">"The passkey was removed."</p>
                <SignOutOthersOffer />
            </Show>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match passkeys.await {
                        Ok(page) if page.passkeys.is_empty() => view! {
                            <p data-testid="no-passkeys">"You have no passkeys yet."</p>
                        }.into_any(),
                        Ok(page) => {
                            let only = page.passkeys.len() == 1 && !page.has_password;
                            view! {
                                <ul class="session-list" data-testid="passkey-list">
                                    {page.passkeys.into_iter().map(|p| passkey_item(p, only, rename, remove)).collect_view()}
                                </ul>
                                {only.then(|| view! {
                                    <p class="muted small" data-testid="only-credential">
                                        "This passkey is the only way into your account, so it cannot be removed. "
                                        <A href="/account/password">"Set a password"</A>
                                        " or add another passkey first."
                                    </p>
                                })}
                            }.into_any()
                        }
                        Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/account/passkeys" /> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <div class="add-passkey">
                <div class="field">
                    <label for="passkey-name">"Name for a new passkey (optional)"</label>
                    <input id="passkey-name" type="text" maxlength="64" placeholder="e.g. Work laptop" node_ref=name />
                </div>
                <AddPasskey name added=on_added confirmed=can_add />
                <noscript>
                    <p class="muted small">"Adding a passkey needs JavaScript."</p>
                </noscript>
            </div>
            <p class="muted"><A href="/dashboard">"Back to the dashboard"</A></p>
        </section>
    }
}

fn passkey_item(
    p: PasskeyView,
    only: bool,
    rename: ServerAction<RenamePasskey>,
    remove: ServerAction<RemovePasskey>,
) -> impl IntoView {
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
                <ActionForm action=rename attr:class="inline-form rename-form">
                    <CsrfField />
                    <input type="hidden" name="id" value=p.id.clone() />
                    <label for=field.clone() class="visually-hidden">{rename_label}</label>
                    <input id=field type="text" name="name" required maxlength="64" value=name />
                    <button type="submit" class="button secondary small">"Rename"</button>
                </ActionForm>
            </div>
            {(!only).then(move || view! {
                <ActionForm action=remove attr:class="inline-form">
                    <CsrfField />
                    <input type="hidden" name="id" value=id />
                    <button type="submit" class="button danger small"
                        aria-label=remove_label>"Remove"</button>
                </ActionForm>
            })}
        </li>
    }
}
