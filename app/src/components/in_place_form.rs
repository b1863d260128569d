//! A form that works as a plain POST and, once hydrated, answers in place.
//!
//! Every form of the site posts to its server function. Without JavaScript
//! (or before hydration) that is an ordinary form post: the server answers
//! with a redirect to the next page, or back to the form with the error's
//! code (`?error=…`), or to `/account/confirm` when the action needs a
//! credential proved lately. [`InPlaceForm`] is the island that improves
//! on it once the page has hydrated:
//!
//! - the button says it is working, and cannot be pressed twice;
//! - an error is shown at once, with what was typed still there;
//! - an action that needs a recent authentication asks for the password
//!   (or a passkey) in place, then is sent again as it was
//!   (`confirm`);
//! - success loads the page the server names, or this page again, or
//!   (`done`) says so in place;
//! - a sign-out is announced to the other tabs first (`announce`).
//!
//! Its fields are the island's children: server-rendered HTML, which this
//! island never re-renders (only the form around them and the error below
//! them are its own).

// `#[island]` derives an undocumented type for the props it sends to the
// browser (and a loader for a lazy island); the items here are documented.
#![allow(missing_docs)]

use leptos::{html, prelude::*};

use super::when::when;
use crate::{client_session::ClientSession, error::AppError};

/// A form posting to the server function at `action`; see the module docs.
#[island(lazy)]
pub fn InPlaceForm(
    /// The server function's URL (`ServerFn::url()`).
    action: String,
    /// The form's class.
    #[prop(optional)]
    class: Option<String>,
    /// The error a plain post came back with (`?error=`), by its code.
    error: Option<String>,
    /// Ask for a credential in place when the action needs a recent one.
    #[prop(optional)]
    confirm: Option<bool>,
    /// The action ends this tab's session: tell the other tabs.
    #[prop(optional)]
    announce: Option<bool>,
    /// The prefix of the in-place confirmation's element ids.
    #[prop(optional)]
    id: Option<String>,
    /// On success, say this in place of the form instead of loading a page.
    #[prop(optional)]
    done: Option<String>,
    /// The fields and the submit button.
    children: Children,
) -> impl IntoView {
    crate::assets::preload_island("in_place_form");
    let (confirm, announce) = (confirm.unwrap_or(false), announce.unwrap_or(false));
    let form = NodeRef::<html::Form>::new();
    let error = RwSignal::new(error.as_deref().and_then(AppError::from_code));
    let asking = RwSignal::new(false);
    let finished = RwSignal::new(false);
    let stays = done.is_some();
    // The last body sent, to send again once confirmed.
    let last = StoredValue::new(None::<String>);
    let url = action.clone();
    let send = Callback::new(move |body: String| {
        let url = url.clone();
        let button = form.get_untracked().and_then(|f| imp::submit_button(&f));
        imp::busy(button.as_ref(), true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::post::post(&url, body).await {
                Ok(_) if stays => {
                    imp::busy(button.as_ref(), false);
                    finished.set(true);
                }
                Ok(next) => {
                    if announce {
                        ClientSession::get().announce();
                    }
                    match next {
                        Some(path) => crate::navigation::go(&path),
                        None => crate::navigation::reload(),
                    }
                    // The button stays busy until the next page replaces it.
                }
                Err(AppError::ReauthRequired) if confirm => {
                    imp::busy(button.as_ref(), false);
                    asking.set(true);
                }
                Err(err) => {
                    imp::busy(button.as_ref(), false);
                    error.set(Some(err));
                }
            }
        });
    });
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        let Some(body) = form.get_untracked().and_then(|f| imp::encode(&f)) else {
            return; // let the browser post it
        };
        ev.prevent_default();
        last.set_value(Some(body.clone()));
        send.run(body);
    };
    let retry = Callback::new(move |()| {
        asking.set(false);
        if let Some(body) = last.get_value() {
            send.run(body);
        }
    });
    let id = id.unwrap_or_else(|| "reauth".to_owned());

    view! {
        <form method="post" action=action class=class node_ref=form on:submit=on_submit
            hidden=move || finished.get()>
            {children()}
            <p class="form-error" role="alert" aria-live="assertive" data-testid="form-error">
                {move || error.get().map(|e| e.to_string())}
            </p>
        </form>
        {done.map(|done| view! {
            {when(move || finished.get(), move || view! {
                <p class="success" role="status" data-testid="form-done">{done.clone()}</p>
            })}
        })}
        {when(move || asking.get(), move || view! {
            <ConfirmInPlace
                id=id.clone()
                confirmed=retry
                cancelled=Callback::new(move |()| asking.set(false))
            />
        })}
    }
}

/// The in-place confirmation: the password, or a passkey.
///
/// The password goes as the confirmation page's own form would post it
/// (`post`), not through the server function's client: that client is
/// the larger part of this island's code, and every form's page loads it.
#[component]
fn ConfirmInPlace(id: String, confirmed: Callback<()>, cancelled: Callback<()>) -> impl IntoView {
    use crate::server_fns::security::ConfirmPassword;
    use leptos::server_fn::ServerFn as _;

    let password = NodeRef::<html::Input>::new();
    password.on_load(|el| {
        let _ = el.focus();
    });
    let form = NodeRef::<html::Form>::new();
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(body) = form.get_untracked().and_then(|f| imp::encode(&f)) else {
            return;
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::post::post(ConfirmPassword::url(), body).await {
                Ok(_) => confirmed.run(()),
                Err(err) => error.set(Some(err.to_string())),
            }
            busy.set(false);
        });
    };
    let with_passkey = move |_| {
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match crate::components::passkey::confirm_ceremony().await {
                Ok(()) => confirmed.run(()),
                Err(message) => error.set(message),
            }
            busy.set(false);
        });
    };
    let passkeys = RwSignal::new(false);
    Effect::new(move |_| passkeys.set(crate::webauthn::supported()));
    let field = format!("{id}-password");

    view! {
        <div class="reauth" role="group" aria-labelledby=format!("{id}-title") data-testid="reauth-prompt">
            <h2 id=format!("{id}-title")>"Confirm it's you"</h2>
            <p class="muted">"Enter your password, or use a passkey, to continue. We will then finish what you asked."</p>
            <form class="form" node_ref=form on:submit=on_submit>
                <div class="field">
                    <label for=field.clone()>"Password"</label>
                    <input id=field name="password" type="password" node_ref=password
                        autocomplete="current-password" required maxlength="128" />
                </div>
                <p class="form-error" role="alert" aria-live="assertive">{move || error.get()}</p>
                <div class="actions">
                    <button type="submit" class="button" disabled=move || busy.get()>"Confirm"</button>
                    <button type="button" class="button secondary"
                        on:click=move |_| cancelled.run(())>"Cancel"</button>
                </div>
            </form>
            {when(move || passkeys.get(), move || view! {
                <div class="passkey">
                    <button type="button" class="button secondary passkey-button" data-testid="passkey-confirm"
                        disabled=move || busy.get() on:click=with_passkey>
                        "Confirm with a passkey"
                    </button>
                </div>
            })}
        </div>
    }
}

#[cfg(feature = "hydrate")]
mod imp {
    //! The browser's side: the form's body, its button, and the post.

    use wasm_bindgen::JsCast as _;

    /// The form's fields, URL-encoded as a plain post sends them.
    pub fn encode(form: &web_sys::HtmlFormElement) -> Option<String> {
        let data = web_sys::FormData::new_with_form(form).ok()?;
        let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
        Some(params.to_string().into())
    }

    /// The form's submit button.
    pub fn submit_button(form: &web_sys::HtmlFormElement) -> Option<web_sys::HtmlButtonElement> {
        form.query_selector("button[type=submit]")
            .ok()
            .flatten()?
            .dyn_into()
            .ok()
    }

    /// Marks `button` working (disabled, `aria-busy`, and its
    /// `data-pending` words if it has some) or done.
    pub fn busy(button: Option<&web_sys::HtmlButtonElement>, on: bool) {
        let Some(button) = button else { return };
        button.set_disabled(on);
        let _ = button.set_attribute("aria-busy", if on { "true" } else { "false" });
        if let Some(pending) = button.get_attribute("data-pending") {
            if on {
                let idle = button.text_content().unwrap_or_default();
                let _ = button.set_attribute("data-idle", &idle);
                button.set_text_content(Some(&pending));
            } else if let Some(idle) = button.get_attribute("data-idle") {
                button.set_text_content(Some(&idle));
            }
        }
    }
}

#[cfg(not(feature = "hydrate"))]
mod imp {
    //! The server never submits a form.

    use leptos::web_sys::{HtmlButtonElement, HtmlFormElement};

    pub fn encode(_: &HtmlFormElement) -> Option<String> {
        None
    }

    pub fn submit_button(_: &HtmlFormElement) -> Option<HtmlButtonElement> {
        None
    }

    pub fn busy(_: Option<&HtmlButtonElement>, _: bool) {}
}
