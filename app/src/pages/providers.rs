//! `/account/providers` (session): the identities at sign-in providers
//! linked to the account, with "unlink" (refused for the account's last
//! way to sign in), and a "link" button per configured provider. Plain
//! forms: linking leaves for the provider and comes back here.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::protected::signed_in,
    csrf::CsrfField,
    format::utc,
    server_fns::identities::{list_identities, IdentitiesPage, LinkIdentity, UnlinkIdentity},
};

/// The linked identities.
#[component]
pub fn ProvidersPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let linked = arg("linked").is_some();
    let unlinked = arg("unlinked").is_some();
    let error = arg("error").and_then(|code| crate::error::AppError::from_code(&code));

    view! {
        <Title text="Sign-in providers" />
        <section class="card">
            <h1>"Sign-in providers"</h1>
            <p class="muted">
                "Sign in with an account you already have elsewhere. "
                "An account there is linked by its provider's own id for you, never by its email address."
            </p>
            {linked.then(|| view! {
                <p class="success" role="status" data-testid="identity-linked">"The account was linked."</p>
            })}
            {unlinked.then(|| view! {
                <p class="success" role="status" data-testid="identity-unlinked">"The account was unlinked."</p>
            })}
            {error.map(|err| view! {
                <p class="error" role="alert" data-testid="identity-error">{err.to_string()}</p>
            })}
            {signed_in(list_identities, move |page: IdentitiesPage| view! {
                <IdentityList page />
            })}
            <p class="muted"><a href="/dashboard">"Back to the dashboard"</a></p>
        </section>
    }
}

#[component]
fn IdentityList(page: IdentitiesPage) -> impl IntoView {
    let linked = if page.linked.is_empty() {
        view! { <p data-testid="no-identities">"No provider is linked to your account."</p> }
            .into_any()
    } else {
        view! {
            <ul class="session-list" data-testid="identity-list">
                {page.linked.into_iter().map(|i| {
                    let label = format!("Unlink {} ({})", i.provider, i.label);
                    view! {
                        <li class="session" data-testid="identity">
                            <div class="session-main">
                                <div class="session-title">
                                    <strong>{i.provider.clone()}</strong> " · " {i.label.clone()}
                                </div>
                                <div class="muted small">"Linked " {utc(i.created_at)} "."</div>
                            </div>
                            <form method="post" action=UnlinkIdentity::url() class="inline-form">
                                <CsrfField />
                                <input type="hidden" name="issuer" value=i.issuer />
                                <input type="hidden" name="subject" value=i.subject />
                                <button type="submit" class="button danger small" aria-label=label>"Unlink"</button>
                            </form>
                        </li>
                    }
                }).collect_view()}
            </ul>
        }.into_any()
    };
    let buttons = (!page.providers.is_empty()).then(|| view! {
        <div class="provider-buttons">
            {page.providers.into_iter().map(|p| view! {
                <form method="post" action=LinkIdentity::url() class="inline-form">
                    <CsrfField />
                    <input type="hidden" name="provider" value=p.id.clone() />
                    <button type="submit" class="button secondary" data-testid=format!("link-{}", p.id)>
                        "Link " {p.name}
                    </button>
                </form>
            }).collect_view()}
        </div>
    });
    view! {
        {linked}
        {buttons}
    }
}
