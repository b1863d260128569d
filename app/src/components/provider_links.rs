//! "Sign in with …" links, one per configured provider (nothing when none
//! is): plain links, so they work without JavaScript.
//!
//! The sign-in links come from the configuration, read as the server
//! renders. The confirmation's list is the account's, so it is one
//! `Suspend` awaiting its server function, not a closure making one: the
//! renderer would call a closure three times per request (`protected.rs`
//! says why).

use leptos::prelude::*;

use crate::server_fns::identities::ProviderButton;

/// The providers' sign-in links, going to `next` once signed in.
#[component]
pub fn ProviderLinks(
    /// Where to go once signed in.
    #[prop(into)]
    next: String,
) -> impl IntoView {
    let list = sign_in_providers();
    (!list.is_empty()).then(move || view! {
        <div class="provider-buttons" data-testid="provider-links">
            {list.into_iter().map(|p| {
                let href = p.start_url(&next);
                view! {
                    <a class="button secondary" href=href data-testid=format!("provider-{}", p.id)>
                        "Sign in with " {p.name}
                    </a>
                }
            }).collect_view()}
        </div>
    })
}

/// The configured providers.
#[cfg(feature = "ssr")]
fn sign_in_providers() -> Vec<ProviderButton> {
    crate::server_fns::identities::sign_in_providers()
}

/// Pages render on the server only.
#[cfg(not(feature = "ssr"))]
fn sign_in_providers() -> Vec<ProviderButton> {
    Vec::new()
}

/// "Confirm with …" buttons, one per configured provider linked to the
/// account, that prove the person again there and go to `next`.
#[component]
pub fn ProviderConfirm(
    /// Where to go once confirmed.
    #[prop(into)]
    next: String,
) -> impl IntoView {
    use crate::{
        csrf::CsrfField,
        server_fns::identities::{list_identities, ConfirmWithIdentity},
    };
    use leptos::server_fn::ServerFn as _;
    let identities = list_identities();
    view! {
        <Suspense fallback=|| ()>
            {Suspend::new(async move {
                let page = identities.await.ok()?;
                let mut linked: Vec<(String, String)> = page
                    .linked
                    .into_iter()
                    .filter_map(|i| Some((i.provider_id?, i.provider)))
                    .collect();
                linked.dedup();
                (!linked.is_empty()).then(|| view! {
                    <div class="provider-buttons">
                        {linked.into_iter().map(|(id, name)| view! {
                            <form method="post" action=ConfirmWithIdentity::url() class="inline-form">
                                <CsrfField />
                                <input type="hidden" name="provider" value=id.clone() />
                                <input type="hidden" name="next" value=next.clone() />
                                <button type="submit" class="button secondary" data-testid=format!("confirm-{id}")>
                                    "Confirm with " {name}
                                </button>
                            </form>
                        }).collect_view()}
                    </div>
                })
            })}
        </Suspense>
    }
}
