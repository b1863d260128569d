//! The passkey buttons: sign in, sign up, confirm, and add one.
//!
//! Each appears only once the page has hydrated in a browser that can use
//! passkeys ([`crate::webauthn::supported`]); without JavaScript, or in a
//! browser without WebAuthn, the page is its password form alone. Each
//! runs one ceremony: `…/start`, the browser's prompt, `…/finish`, and
//! says plainly what went wrong when the person cancels or the server
//! refuses, then loads the next page.
//!
//! Each is a lazy island (`#[island(lazy)]`): its code, with the WebAuthn
//! bridge and the ceremonies' server calls, is a WebAssembly chunk of its
//! own that only a page offering it loads. The calls go through
//! [`crate::post::json`], not the server functions' own client, which
//! would bring its HTTP machinery into every one of those chunks. The
//! in-place confirmation of other forms reaches the same ceremony through
//! a lazy function ([`confirm_ceremony`]), loaded when its button is
//! pressed. The fields a button reads (the user name, "keep me signed
//! in", the passkey's name) are the page's own, found by their ids.

// `#[island]` derives an undocumented type for the props it sends to the
// browser (and a loader for a lazy island); the items here are documented.
#![allow(missing_docs)]

use leptos::{prelude::*, task::spawn_local};

use super::when::when;
use crate::{
    error::AppError,
    navigation,
    post::json,
    server_fns::passkeys::{
        ConfirmFinish, ConfirmStart, LoginFinish, LoginStart, RegisterFinish, RegisterStart,
        SignupFinish, SignupStart,
    },
    webauthn::{self, Abort, Failure},
};

/// A ceremony's failure, as the person is told it (`None`: say nothing).
fn say(err: &Failed) -> Option<String> {
    match err {
        Failed::Browser(failure) => failure.message().map(str::to_owned),
        Failed::Server(err) => Some(err.to_string()),
    }
}

/// Where a ceremony failed.
#[derive(Clone, Debug)]
enum Failed {
    Browser(Failure),
    Server(AppError),
}

impl From<Failure> for Failed {
    fn from(f: Failure) -> Self {
        Self::Browser(f)
    }
}

impl From<AppError> for Failed {
    fn from(e: AppError) -> Self {
        Self::Server(e)
    }
}

/// Whether to show passkey buttons: set once hydrated (effects run only
/// in the browser), so the server renders none.
fn use_supported() -> ReadSignal<bool> {
    let (supported, set) = signal(false);
    Effect::new(move |_| set.set(webauthn::supported()));
    supported
}

/// A ceremony's state for its button: busy, and the message to show.
#[derive(Clone, Copy)]
struct Ceremony {
    busy: RwSignal<bool>,
    message: RwSignal<Option<String>>,
}

impl Ceremony {
    fn new() -> Self {
        Self {
            busy: RwSignal::new(false),
            message: RwSignal::new(None),
        }
    }

    /// Runs `flow` unless one is running; its error becomes the message.
    fn run<F>(self, flow: F)
    where
        F: std::future::Future<Output = Result<(), Failed>> + 'static,
    {
        if self.busy.get_untracked() {
            return;
        }
        self.busy.set(true);
        self.message.set(None);
        spawn_local(async move {
            if let Err(err) = flow.await {
                if let Failed::Browser(Failure::Browser(detail)) = &err {
                    leptos::logging::log!("passkey request failed: {detail}");
                }
                self.message.set(say(&err));
            }
            self.busy.set(false);
        });
    }

    fn view(
        self,
        id: &'static str,
        label: &'static str,
        working: &'static str,
        click: impl Fn() + Clone + Send + Sync + 'static,
    ) -> impl IntoView {
        let busy = self.busy;
        view! {
            <button type="button" class="button secondary passkey-button" data-testid=id
                on:click=move |_| click()
                disabled=move || busy.get() aria-busy=move || busy.get().to_string()>
                {move || if busy.get() { working } else { label }}
            </button>
            // Inserted with its message (an alert is announced when it
            // appears), so a page has no second empty alert beside its
            // form's own.
            {move || self.message.get().map(|message| view! {
                <p class="form-error" role="alert" data-testid=format!("{id}-error")>{message}</p>
            })}
        }
    }
}

/// The value of the page's input `id` (a text field's text, or whether a
/// checkbox is ticked, as `"on"`).
#[cfg(feature = "hydrate")]
fn field(id: &str) -> Option<String> {
    use wasm_bindgen::JsCast as _;
    let input: web_sys::HtmlInputElement = document().get_element_by_id(id)?.dyn_into().ok()?;
    if input.type_() == "checkbox" {
        return input.checked().then(|| "on".to_owned());
    }
    Some(input.value()).filter(|v| !v.trim().is_empty())
}

/// On the server there is no page to read (a ceremony only runs in the
/// browser).
#[cfg(not(feature = "hydrate"))]
fn field(_id: &str) -> Option<String> {
    None
}

/// One passkey sign-in (from the prompt, or with `autofill` from the
/// user-name field's suggestions): where to go next. "Keep me signed in"
/// is read once the person has picked a passkey (an autofill request
/// waits from the page's load, and the box may be ticked meanwhile).
async fn sign_in(autofill: Option<&Abort>, next: String) -> Result<String, Failed> {
    let options = json(LoginStart {}).await?;
    let credential = webauthn::get(&options, autofill).await?;
    let remember = field("remember").is_some();
    let done = json(LoginFinish {
        credential,
        remember: Some(remember),
        next: Some(next),
    })
    .await?;
    Ok(done.next)
}

/// "Sign in with a passkey", and the same passkeys offered in the
/// user-name field's autofill (conditional mediation) while the page is
/// open.
#[island(lazy)]
pub fn PasskeySignIn(
    /// Where to go once signed in.
    next: String,
) -> impl IntoView {
    crate::assets::preload_island("passkey_sign_in");
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let autofill = StoredValue::new(None::<Abort>);

    // Autofill: one pending request, withdrawn when the button is used.
    let autofill_next = next.clone();
    Effect::new(move |_| {
        let next = autofill_next.clone();
        spawn_local(async move {
            if !webauthn::autofill_available().await {
                return;
            }
            let Some(abort) = Abort::new() else { return };
            autofill.set_value(Some(abort.clone()));
            match sign_in(Some(&abort), next).await {
                Ok(to) => navigation::go(&to),
                Err(err) => ceremony.message.set(say(&err)),
            }
        });
    });

    let click = move || {
        if let Some(abort) = autofill.get_value() {
            abort.abort();
        }
        let next = next.clone();
        ceremony.run(async move {
            navigation::go(&sign_in(None, next).await?);
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("passkey-sign-in", "Sign in with a passkey", "Waiting for your passkey…", click.clone())}
            </div>
        })}
    }
}

/// "Create an account with a passkey": the name from the form's user-name
/// field (`#username`), no password.
#[island(lazy)]
pub fn PasskeySignUp(
    /// Where to go once signed up.
    next: String,
) -> impl IntoView {
    crate::assets::preload_island("passkey_sign_up");
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let click = move || {
        let name = field("username").unwrap_or_default();
        let next = next.clone();
        ceremony.run(async move {
            let options = json(SignupStart { username: name }).await?;
            let credential = webauthn::create(&options).await?;
            let done = json(SignupFinish {
                credential,
                name: None,
                next: Some(next),
            })
            .await?;
            navigation::go(&done.next);
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("passkey-sign-up", "Create account with a passkey", "Waiting for your passkey…", click.clone())}
            </div>
        })}
    }
}

/// One confirmation with a passkey; the message to show if it failed
/// (`None`: nothing to say). A lazy function: the in-place confirmation of
/// every form loads it only when its passkey button is pressed.
#[lazy]
pub async fn confirm_ceremony() -> Result<(), Option<String>> {
    let run = async {
        let options = json(ConfirmStart {}).await?;
        let credential = webauthn::get(&options, None).await?;
        json(ConfirmFinish { credential }).await?;
        Ok::<(), Failed>(())
    };
    run.await.map_err(|err| say(&err))
}

/// "Confirm with a passkey", then on to `next`.
#[island(lazy)]
pub fn PasskeyConfirm(
    /// Where to go once confirmed (a local path).
    next: String,
) -> impl IntoView {
    crate::assets::preload_island("passkey_confirm");
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let click = move || {
        let next = next.clone();
        ceremony.run(async move {
            let options = json(ConfirmStart {}).await?;
            let credential = webauthn::get(&options, None).await?;
            json(ConfirmFinish { credential }).await?;
            navigation::go(&crate::redirect::safe_next(Some(&next)));
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("passkey-confirm", "Confirm with a passkey", "Waiting for your passkey…", click.clone())}
            </div>
        })}
    }
}

/// "Add a passkey", named from the page's `#passkey-name` field; then the
/// page again, saying which was added. Adding a credential needs one
/// confirmed within this session: without it (`confirmed` says, or the
/// server does), it goes to the confirmation page, which returns here.
#[island(lazy)]
pub fn AddPasskey(
    /// Whether this session confirmed a credential lately.
    confirmed: bool,
) -> impl IntoView {
    crate::assets::preload_island("add_passkey");
    use crate::paths::{CONFIRM, PASSKEYS};
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let confirm_first = || navigation::go(&format!("{CONFIRM}?next={PASSKEYS}"));
    let click = move || {
        if !confirmed {
            confirm_first();
            return;
        }
        let label = field("passkey-name");
        ceremony.run(async move {
            let options = match json(RegisterStart {}).await {
                Err(AppError::ReauthRequired) => {
                    confirm_first();
                    return Ok(());
                }
                other => other?,
            };
            let credential = webauthn::create(&options).await?;
            let passkey = json(RegisterFinish {
                credential,
                name: label,
            })
            .await?;
            let name = percent_encode(&passkey.name);
            navigation::go(&format!("{PASSKEYS}?added={name}"));
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("add-passkey", "Add a passkey", "Waiting for your passkey…", click)}
            </div>
        })}
    }
}

/// `text` as a URL query value.
#[cfg(feature = "hydrate")]
fn percent_encode(text: &str) -> String {
    js_sys::encode_uri_component(text).into()
}

/// `text` as a URL query value (only the browser navigates).
#[cfg(not(feature = "hydrate"))]
fn percent_encode(text: &str) -> String {
    text.to_owned()
}
