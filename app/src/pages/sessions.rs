//! `/account/sessions` (protected): every active session of the user, with
//! revocation. All actions are POST forms that also work without JavaScript.
//! Signing other devices out needs a recent authentication, as signing out
//! everywhere does: a thief holding one session must not be able to sign
//! its owner out of the others.

use leptos::{prelude::*, server_fn::ServerFn as _};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::{
    components::{
        in_place_form::InPlaceForm, password_field::CurrentPassword, protected::signed_in,
    },
    csrf::CsrfField,
    error::AppError,
    format::utc,
    server_fns::{
        account::{
            list_sessions, RevokeOtherSessions, RevokeSession, SessionView, SignOutEverywhere,
        },
        security::{password_state, reauth_status},
    },
};

/// What the page needs: the sessions, whether the last confirmation is
/// recent, and whether the account has a password to confirm with.
async fn load() -> Result<(Vec<SessionView>, bool, bool), AppError> {
    let sessions = list_sessions().await?;
    let recent = reauth_status().await?;
    let has_password = recent || password_state().await?.has_password;
    Ok((sessions, recent, has_password))
}

/// The session list.
#[component]
pub fn SessionsPage() -> impl IntoView {
    let query = use_query_map();
    let error = query.read_untracked().get("error");

    view! {
        <Title text="Your sessions" />
        <section class="card">
            <h1>"Your sessions"</h1>
            <p class="muted">"Every device where you are signed in. Signing a device out takes effect on its next request."</p>
            {signed_in(load, move |(list, recent, has_password)| {
                let error = error.clone();
                view! {
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
                                    <InPlaceForm action=RevokeSession::url().to_owned() class="inline-form".to_owned()
                                        error=None confirm=true id=format!("revoke-{}", s.id)>
                                        <CsrfField />
                                        <input type="hidden" name="id" value=s.id.clone() />
                                        <button type="submit" class="button secondary small"
                                            aria-label=format!("Sign out {}", s.device)>"Sign out"</button>
                                    </InPlaceForm>
                                })}
                            </li>
                        }).collect_view()}
                    </ul>
                    <div class="actions">
                        <InPlaceForm action=RevokeOtherSessions::url().to_owned() class="inline-form".to_owned()
                            error=error.clone() confirm=true id="others-reauth".to_owned()>
                            <CsrfField />
                            <button type="submit" class="button secondary">"Sign out all other sessions"</button>
                        </InPlaceForm>
                        // A confirmation step that needs no JavaScript.
                        <details class="confirm-step" data-testid="sign-out-everywhere">
                            <summary class="button danger">"Sign out everywhere"</summary>
                            <div class="confirm-body">
                                <p>"Every device, this one included, will be signed out."</p>
                                <InPlaceForm action=SignOutEverywhere::url().to_owned() class="form".to_owned()
                                    error=None confirm=true announce=true>
                                    <CsrfField />
                                    {if recent {
                                        ().into_any()
                                    } else if !has_password {
                                        // No password to type: confirm with a passkey first.
                                        view! {
                                            <p><a href="/account/confirm?next=/account/sessions">"Confirm it's you with a passkey first"</a></p>
                                        }.into_any()
                                    } else {
                                        view! {
                                            <CurrentPassword id="everywhere-password" name="password"
                                                label="Your password, to confirm" />
                                        }.into_any()
                                    }}
                                    <button type="submit" class="button danger">"Yes, sign out everywhere"</button>
                                </InPlaceForm>
                            </div>
                        </details>
                    </div>
                }
            })}
        </section>
    }
}

/// Where a session was last seen: the address and, when it changed since
/// the sign-in, the browser (a changed browser on one session is worth a
/// second look).
fn last_seen(s: &SessionView) -> String {
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
