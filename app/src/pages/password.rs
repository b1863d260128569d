//! `/account/password` (recent authentication): set, change or remove the
//! password. A change signs every other device out, and this browser gets
//! a new session. The proof is the current password, or a confirmation in
//! this session (a passkey's stands in for it). After a change the page
//! lists the passkeys added lately: one an intruder added would survive
//! the new password.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{components::A, hooks::use_query_map};

use crate::{
    components::{
        form_error::{form_error, FormError},
        other_sessions::SignOutOthersOffer,
        reauth_prompt::ReauthPrompt,
    },
    csrf::CsrfField,
    format::utc,
    server_fns::{
        passkeys::{list_passkeys, PasskeyView, RemovePasskey},
        security::{password_state, ChangePassword, RemovePassword},
    },
};

/// How far back the page lists passkeys after a password change.
const RECENT_PASSKEYS_SECS: i64 = 30 * 24 * 3600;

/// The password form.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    let remove = ServerAction::<RemovePassword>::new();
    let query = use_query_map();
    let changed = move || query.read().get("changed").is_some();
    let removed = move || query.read().get("removed").is_some();
    let error = form_error(action);
    let remove_error = form_error(remove);
    let pending = action.pending();
    let auth = crate::components::auth_state::AuthVersion::get();
    let state = Resource::new(
        move || remove.version().get(),
        move |_| auth.unless_signed_out(password_state()),
    );
    // A passkey-only account, or a session that confirmed a credential
    // lately, needs no current password.
    let current = move || {
        Suspend::new(async move {
            match state.await {
                Ok(s) if !s.has_password || s.confirmed => view! {
                    <p class="muted small" data-testid="no-current-password">
                        {if s.has_password {
                            "You confirmed it's you a moment ago: no current password needed."
                        } else {
                            "Your account signs in with passkeys; this sets its first password."
                        }}
                    </p>
                }
                .into_any(),
                _ => view! {
                    <div class="field">
                        <label for="current-password">"Current password"</label>
                        <input id="current-password" name="current_password" type="password"
                            autocomplete="current-password" required maxlength="128" />
                    </div>
                }
                .into_any(),
            }
        })
    };
    let removal = move || {
        Suspend::new(async move {
            match state.await {
                Ok(s) if s.has_password && s.has_passkey => view! {
                    <details class="confirm-step" data-testid="remove-password">
                        <summary class="button secondary">"Remove my password"</summary>
                        <div class="confirm-body">
                            <p>"You will sign in with your passkeys only. Nothing to phish, nothing to leak."</p>
                            <ActionForm action=remove attr:class="form">
                                <CsrfField />
                                <FormError error=remove_error />
                                <button type="submit" class="button danger">"Yes, remove my password"</button>
                            </ActionForm>
                        </div>
                    </details>
                }
                .into_any(),
                _ => ().into_any(),
            }
        })
    };

    view! {
        <Title text="Change your password" />
        <section class="card auth-card">
            <h1>"Change your password"</h1>
            <Show when=changed>
                <p class="success" role="status" data-testid="password-changed">
                    "Your password has been changed. Every other device has been signed out."
                </p>
                <RecentPasskeys />
            </Show>
            <Show when=removed>
                <p class="success" role="status" data-testid="password-removed">
                    "Your password has been removed. Your passkeys sign you in."
                </p>
                <SignOutOthersOffer />
            </Show>
            <ActionForm action attr:class="form">
                <CsrfField />
                <Suspense fallback=|| ()>{current}</Suspense>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new_password" type="password" autocomplete="new-password"
                        required minlength="8" maxlength="128" aria-describedby="new-password-hint" />
                    <p id="new-password-hint" class="hint">
                        "8 to 128 characters, and hard to guess. Other devices will be signed out."
                    </p>
                </div>
                <FormError error />
                <button type="submit" class="button" disabled=move || pending.get()
                    aria-busy=move || pending.get().to_string()>
                    {move || if pending.get() { "Changing…" } else { "Change password" }}
                </button>
            </ActionForm>
            <ReauthPrompt action />
            <Suspense fallback=|| ()>{removal}</Suspense>
            <ReauthPrompt action=remove />
            <p class="muted"><A href="/dashboard">"Back to the dashboard"</A></p>
        </section>
    }
}

/// After a password change: the passkeys added in the last 30 days, each
/// with "Remove". One an intruder added would outlive the new password.
#[component]
fn RecentPasskeys() -> impl IntoView {
    let remove = ServerAction::<RemovePasskey>::new();
    let auth = crate::components::auth_state::AuthVersion::get();
    let passkeys = Resource::new(
        move || remove.version().get(),
        move |_| auth.unless_signed_out(list_passkeys()),
    );
    let error = form_error(remove);
    view! {
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                let Ok(page) = passkeys.await else { return ().into_any() };
                let now = page.now;
                let recent: Vec<PasskeyView> = page
                    .passkeys
                    .into_iter()
                    .filter(|p| now - p.created_at <= RECENT_PASSKEYS_SECS)
                    .collect();
                if recent.is_empty() {
                    return ().into_any();
                }
                view! {
                    <div class="recent-passkeys" data-testid="recent-passkeys">
                        <p>"Passkeys added in the last 30 days. Remove any you do not recognise:"</p>
                        <ul class="session-list">
                            {recent.into_iter().map(|p| {
                                let label = format!("Remove {}", p.name);
                                view! {
                                    <li class="session" data-testid="recent-passkey">
                                        <div class="session-main">
                                            <strong>{p.name.clone()}</strong>
                                            <div class="muted small">"Added " {utc(p.created_at)}</div>
                                        </div>
                                        <ActionForm action=remove attr:class="inline-form">
                                            <CsrfField />
                                            <input type="hidden" name="id" value=p.id />
                                            <button type="submit" class="button danger small"
                                                aria-label=label>"Remove"</button>
                                        </ActionForm>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <FormError error />
                    </div>
                }
                .into_any()
            })}
        </Suspense>
    }
}
