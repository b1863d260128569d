//! `/account/sessions` (protected): every active session of the user, with
//! revocation. All actions are POST forms that also work without JavaScript.
//! Signing other devices out needs a recent authentication, as signing out
//! everywhere does: a thief holding one session must not be able to sign
//! its owner out of the others.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{Redirect, A};

use crate::{
    components::{
        auth_state::{AuthVersion, Outcome},
        form_error::FormError,
        reauth_prompt::ReauthPrompt,
    },
    csrf::CsrfField,
    error::AppError,
    format::utc,
    server_fns::{
        account::{list_sessions, RevokeOtherSessions, RevokeSession, SignOutEverywhere},
        security::{password_state, reauth_status},
    },
};

/// The session list.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeSession>::new();
    let revoke_others = ServerAction::<RevokeOtherSessions>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let auth = AuthVersion::get();
    auth.bump_on_success(everywhere, Outcome::SignedOut);

    let sessions = Resource::new(
        move || (revoke.version().get(), revoke_others.version().get()),
        move |_| auth.unless_signed_out(list_sessions()),
    );
    // Whether the confirmation step must ask for the password (the last
    // proof of it is older than the re-authentication window).
    let recent = Resource::new(|| (), move |()| auth.unless_signed_out(reauth_status()));
    // Asked only when the confirmation is needed: a passkey-only account
    // has no password to type there.
    let password = Resource::new(
        || (),
        move |()| async move {
            if recent.await == Ok(true) {
                return Ok(true);
            }
            auth.unless_signed_out(password_state())
                .await
                .map(|state| state.has_password)
        },
    );
    let error = Signal::derive(move || {
        [
            revoke.value().get(),
            revoke_others.value().get(),
            everywhere.value().get(),
        ]
        .into_iter()
        .find_map(|v| v.and_then(Result::err))
    });

    view! {
        <Title text="Your sessions" />
        <section class="card">
            <h1>"Your sessions"</h1>
            <p class="muted">"Every device where you are signed in. Signing a device out takes effect on its next request."</p>
            <FormError error />
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(list) => view! {
                            <ul class="session-list" data-testid="session-list">
                                {list.into_iter().map(|s| view! {
                                    <li class="session" data-testid="session" data-current=s.current.to_string()>
                                        <div class="session-main">
                                            <div class="session-title">
                                                <strong>{s.device.clone()}</strong>
                                                {s.current.then(|| view! { <span class="badge">"This device"</span> })}
                                            </div>
                                            <div class="muted small">
                                                "Signed in " {utc(s.created_at)} " from "
                                                {s.ip_address.clone().unwrap_or_else(|| "an unknown address".into())}
                                            </div>
                                            <div class="muted small" data-testid="last-seen">
                                                "Last active " {utc(s.last_seen_at)} " from "
                                                {last_seen(&s)}
                                            </div>
                                        </div>
                                        {(!s.current).then(|| view! {
                                            <ActionForm action=revoke attr:class="inline-form">
                                                <CsrfField />
                                                <input type="hidden" name="id" value=s.id.clone() />
                                                <button type="submit" class="button secondary small"
                                                    aria-label=format!("Sign out {}", s.device)>"Sign out"</button>
                                            </ActionForm>
                                        })}
                                    </li>
                                }).collect_view()}
                            </ul>
                        }.into_any(),
                        Err(AppError::Unauthorized) => view! { <Redirect path="/login?next=/account/sessions" /> }.into_any(),
                        Err(err) => view! { <p class="error" role="alert">{err.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            <div class="actions">
                <ActionForm action=revoke_others attr:class="inline-form">
                    <CsrfField />
                    <button type="submit" class="button secondary">"Sign out all other sessions"</button>
                </ActionForm>
                // A confirmation step that needs no JavaScript.
                <details class="confirm-step" data-testid="sign-out-everywhere">
                    <summary class="button danger">"Sign out everywhere"</summary>
                    <div class="confirm-body">
                        <p>"Every device, this one included, will be signed out."</p>
                        <ActionForm action=everywhere attr:class="form">
                            <CsrfField />
                            <Suspense fallback=|| ()>
                                {move || Suspend::new(async move {
                                    if recent.await == Ok(true) {
                                        ().into_any()
                                    } else if password.await == Ok(false) {
                                        // No password to type: confirm with a passkey first.
                                        view! {
                                            <p><A href="/account/confirm?next=/account/sessions">"Confirm it's you with a passkey first"</A></p>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <div class="field">
                                                <label for="everywhere-password">"Your password, to confirm"</label>
                                                <input id="everywhere-password" name="password" type="password"
                                                    autocomplete="current-password" required maxlength="128" />
                                            </div>
                                        }.into_any()
                                    }
                                })}
                            </Suspense>
                            <button type="submit" class="button danger">"Yes, sign out everywhere"</button>
                        </ActionForm>
                    </div>
                </details>
            </div>
            <ReauthPrompt action=everywhere />
            <ReauthPrompt action=revoke id="revoke-reauth" />
            <ReauthPrompt action=revoke_others id="others-reauth" />
        </section>
    }
}

/// Where a session was last seen: the address and, when it changed since
/// the sign-in, the browser (a changed browser on one session is worth a
/// second look).
fn last_seen(s: &crate::server_fns::account::SessionView) -> String {
    let ip = s
        .last_ip_address
        .clone()
        .or_else(|| s.ip_address.clone())
        .unwrap_or_else(|| "an unknown address".into());
    match &s.last_device {
        Some(device) if *device != s.device => format!("{ip} ({device})"),
        _ => ip,
    }
}
