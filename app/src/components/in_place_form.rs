//! A form that works as a plain POST and, once hydrated, answers in place.
//!
//! Every form of the site posts to its server function. Without JavaScript
//! (or before hydration) that is an ordinary form post: the server answers
//! with a redirect to the next page, or back to the form with the error's
//! code (`?error=…`), or to `/account/confirm` when the action needs a
//! credential proved lately. [`InPlaceForm`] renders that form inside the
//! [`InPlace`] island, which improves on it once the page has hydrated:
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
//! The island takes no props: Leptos sends an island's props to the
//! browser as JSON, and decoding them would bring a JSON parser into every
//! page with a form. The form's options are attributes on the `<form>`
//! (`data-confirm`, `data-announce`, `data-reauth-id`, `data-done`), read
//! when it is sent, and the error a plain post came back with is rendered
//! by the server into the form's alert, which the island then writes to.
//! The form and its fields are the island's children: server-rendered
//! HTML, which the island never re-renders.

// `#[island]` derives an undocumented loader for a lazy island; the items
// here are documented.
#![allow(missing_docs)]

use leptos::{html, prelude::*};

use super::when::when;
use crate::error::AppError;

/// A form posting to the server function at `action`; see the module docs.
#[component]
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
    confirm: bool,
    /// The action ends this tab's session: tell the other tabs.
    #[prop(optional)]
    announce: bool,
    /// The prefix of the in-place confirmation's element ids.
    #[prop(optional)]
    id: Option<String>,
    /// On success, say this in place of the form instead of loading a page.
    #[prop(optional)]
    done: Option<String>,
    /// The fields and the submit button.
    children: Children,
) -> impl IntoView {
    let error = error
        .as_deref()
        .and_then(AppError::from_code)
        .map(|e| e.to_string());
    view! {
        <InPlace>
            <form method="post" action=action class=class data-confirm=confirm
                data-announce=announce data-reauth-id=id data-done=done>
                {children()}
                <p class="form-error" role="alert" aria-live="assertive" data-testid="form-error">
                    {error}
                </p>
            </form>
        </InPlace>
    }
}

/// The island around an [`InPlaceForm`]: sends its form in place, and
/// shows what comes of it.
#[island(lazy)]
pub fn InPlace(
    /// The form (as [`InPlaceForm`] renders it).
    children: Children,
) -> impl IntoView {
    let preloads = crate::assets::preload_island("in_place");
    // The confirmation's id prefix while asking for it.
    let asking = RwSignal::new(None::<String>);
    // The words that replace the form once it has done its work.
    let done = RwSignal::new(None::<String>);
    // The form last sent, and its body, to send again once confirmed.
    let last = StoredValue::new(None::<imp::Sent>);
    let on_submit = move |ev: leptos::ev::SubmitEvent| {
        if let Some(sent) = imp::take(&ev) {
            last.set_value(Some(sent.clone()));
            imp::send(sent, asking, done);
        }
    };
    let retry = Callback::new(move |()| {
        asking.set(None);
        if let Some(sent) = last.get_value() {
            imp::send(sent, asking, done);
        }
    });

    view! {
        <div class="in-place" on:submit=on_submit>{children()}</div>
        {when(move || done.with(Option::is_some), move || view! {
            <p class="success" role="status" data-testid="form-done">{done.get()}</p>
        })}
        {when(move || asking.with(Option::is_some), move || view! {
            <ConfirmInPlace
                id=asking.get_untracked().unwrap_or_default()
                confirmed=retry
                cancelled=Callback::new(move |()| asking.set(None))
            />
        })}
        {preloads}
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
    let passkeys = crate::components::passkey::use_supported();
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

    use leptos::prelude::*;
    use wasm_bindgen::JsCast as _;
    use web_sys::{HtmlButtonElement, HtmlFormElement};

    use crate::{client_session::ClientSession, error::AppError};

    /// A form sent in place, with its fields as they were sent. (The form
    /// is wrapped to be `Send` for Leptos' stored values: the browser app
    /// has one thread.)
    #[derive(Clone)]
    pub struct Sent {
        form: send_wrapper::SendWrapper<HtmlFormElement>,
        body: String,
    }

    /// The form `ev` submits, with its fields, to send in place; `None`
    /// leaves the post to the browser.
    pub fn take(ev: &leptos::ev::SubmitEvent) -> Option<Sent> {
        let form: HtmlFormElement = ev.target()?.dyn_into().ok()?;
        let body = encode(&form)?;
        ev.prevent_default();
        Some(Sent {
            form: send_wrapper::SendWrapper::new(form),
            body,
        })
    }

    /// Posts `sent` to its form's action, and shows what comes of it: the
    /// next page, the error in the form's alert, the confirmation
    /// (`asking`, for a form with `data-confirm`), or the form's
    /// `data-done` words in its place.
    pub fn send(sent: Sent, asking: RwSignal<Option<String>>, done: RwSignal<Option<String>>) {
        let Sent { form, body } = sent;
        let form = form.take();
        let url = form.get_attribute("action").unwrap_or_default();
        let button = submit_button(&form);
        let alert = form.query_selector(":scope > .form-error").ok().flatten();
        let say = move |text: Option<&str>| {
            if let Some(alert) = &alert {
                alert.set_text_content(text);
            }
        };
        busy(button.as_ref(), true);
        say(None);
        leptos::task::spawn_local(async move {
            let result = crate::post::post(&url, body).await;
            let words = form.get_attribute("data-done");
            match result {
                Ok(_) if words.is_some() => {
                    busy(button.as_ref(), false);
                    form.set_hidden(true);
                    done.set(words);
                }
                Ok(next) => {
                    if form.has_attribute("data-announce") {
                        ClientSession::get().announce();
                    }
                    match next {
                        Some(path) => crate::navigation::go(&path),
                        None => crate::navigation::reload(),
                    }
                    // The button stays busy until the next page replaces it.
                }
                Err(AppError::ReauthRequired) if form.has_attribute("data-confirm") => {
                    busy(button.as_ref(), false);
                    let id = form.get_attribute("data-reauth-id");
                    asking.set(Some(id.unwrap_or_else(|| "reauth".to_owned())));
                }
                Err(err) => {
                    busy(button.as_ref(), false);
                    say(Some(&err.to_string()));
                }
            }
        });
    }

    /// The form's fields, URL-encoded as a plain post sends them.
    pub fn encode(form: &HtmlFormElement) -> Option<String> {
        let data = web_sys::FormData::new_with_form(form).ok()?;
        let params = web_sys::UrlSearchParams::new_with_str_sequence_sequence(&data).ok()?;
        Some(params.to_string().into())
    }

    /// The form's submit button.
    fn submit_button(form: &HtmlFormElement) -> Option<HtmlButtonElement> {
        form.query_selector("button[type=submit]")
            .ok()
            .flatten()?
            .dyn_into()
            .ok()
    }

    /// Marks `button` working (disabled, `aria-busy`, and its
    /// `data-pending` words if it has some) or done.
    fn busy(button: Option<&HtmlButtonElement>, on: bool) {
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

    use leptos::{prelude::RwSignal, web_sys::HtmlFormElement};

    /// Nothing is sent on the server.
    #[derive(Clone)]
    pub struct Sent;

    pub fn take(_: &leptos::ev::SubmitEvent) -> Option<Sent> {
        None
    }

    pub fn send(_: Sent, _: RwSignal<Option<String>>, _: RwSignal<Option<String>>) {}

    pub fn encode(_: &HtmlFormElement) -> Option<String> {
        None
    }
}
