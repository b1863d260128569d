//! `/account/password` (recent authentication): set, change or remove the
//! password. A change signs every other device out, and this browser gets
//! a new session. The proof is the current password, or a confirmation in
//! this session (a passkey's stands in for it). After a change the page
//! lists the passkeys added lately: one an intruder added would survive
//! the new password.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        in_place_form::InPlaceForm, other_sessions::SignOutOthersOffer,
        password_field::CurrentPassword, protected::signed_in,
    },
    csrf::CsrfField,
    error::AppError,
    format::utc,
    server_fns::{
        passkeys::{list_passkeys, Passkeys, RemovePasskey},
        security::{password_state, ChangePassword, PasswordStatus, RemovePassword},
    },
};

/// How far back the page lists passkeys after a password change.
const RECENT_PASSKEYS_SECS: i64 = 30 * 24 * 3600;

async fn load() -> Result<(PasswordStatus, Passkeys), AppError> {
    Ok((password_state().await?, list_passkeys().await?))
}

/// The password form.
#[component]
pub fn PasswordPage() -> impl IntoView {
    let query = use_query_map();
    let arg = move |name: &str| query.read_untracked().get(name);
    let changed = arg("changed").is_some();
    let removed = arg("removed").is_some();
    let error = arg("error");

    view! {
        <Title text="Change your password" />
        <section class="card auth-card">
            <h1>"Change your password"</h1>
            {signed_in(load, move |(state, passkeys)| {
                let error = error.clone();
                // A passkey-only account, or a session that confirmed a
                // credential lately, needs no current password.
                let current = if !state.has_password || state.confirmed {
                    view! {
                        <p class="muted small" data-testid="no-current-password">
                            {if state.has_password {
                                "You confirmed it's you a moment ago: no current password needed."
                            } else {
                                "Your account signs in with passkeys; this sets its first password."
                            }}
                        </p>
                    }.into_any()
                } else {
                    view! {
                        <CurrentPassword id="current-password" name="current_password"
                            label="Current password" />
                    }.into_any()
                };
                view! {
                    {changed.then(|| view! {
                        <p class="success" role="status" data-testid="password-changed">
                            "Your password has been changed. Every other device has been signed out."
                        </p>
                        <RecentPasskeys passkeys=passkeys.clone() />
                    })}
                    {removed.then(|| view! {
                        <p class="success" role="status" data-testid="password-removed">
                            "Your password has been removed. Your passkeys sign you in."
                        </p>
                        <SignOutOthersOffer />
                    })}
                    <InPlaceForm action=ChangePassword::url().to_owned() class="form".to_owned()
                        error=error.clone() confirm=true>
                        <CsrfField />
                        {current}
                        <div class="field">
                            <label for="new-password">"New password"</label>
                            <input id="new-password" name="new_password" type="password" autocomplete="new-password"
                                required minlength="8" maxlength="128" aria-describedby="new-password-hint" />
                            <p id="new-password-hint" class="hint">
                                "8 to 128 characters, and hard to guess. Other devices will be signed out."
                            </p>
                        </div>
                        <button type="submit" class="button" data-pending="Changing…">"Change password"</button>
                    </InPlaceForm>
                    {(state.has_password && state.has_passkey).then(|| view! {
                        <details class="confirm-step" data-testid="remove-password">
                            <summary class="button secondary">"Remove my password"</summary>
                            <div class="confirm-body">
                                <p>"You will sign in with your passkeys only. Nothing to phish, nothing to leak."</p>
                                <InPlaceForm action=RemovePassword::url().to_owned() class="form".to_owned()
                                    error=None confirm=true id="remove-reauth".to_owned()>
                                    <CsrfField />
                                    <button type="submit" class="button danger">"Yes, remove my password"</button>
                                </InPlaceForm>
                            </div>
                        </details>
                    })}
                }
            })}
            <p class="muted"><a href="/dashboard">"Back to the dashboard"</a></p>
        </section>
    }
}

/// After a password change: the passkeys added in the last 30 days, each
/// with "Remove". One an intruder added would outlive the new password.
#[component]
fn RecentPasskeys(passkeys: Passkeys) -> impl IntoView {
    let now = passkeys.now;
    let recent: Vec<_> = passkeys
        .passkeys
        .into_iter()
        .filter(|p| now - p.created_at <= RECENT_PASSKEYS_SECS)
        .collect();
    (!recent.is_empty()).then(|| view! {
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
                            <InPlaceForm action=RemovePasskey::url().to_owned() class="inline-form".to_owned()
                                error=None confirm=true id=format!("recent-{}", p.id)>
                                <CsrfField />
                                <input type="hidden" name="id" value=p.id />
                                <button type="submit" class="button danger small"
                                    aria-label=label>"Remove"</button>
                            </InPlaceForm>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    })
}
