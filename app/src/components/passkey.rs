//! The passkey buttons: sign in, sign up, confirm, and add one.
//!
//! Each appears only once the page has hydrated in a browser that can use
//! passkeys ([`crate::webauthn::supported`]); without JavaScript, or in a
//! browser without WebAuthn, the page is its password form alone. Each
//! runs one ceremony: `…/start`, the browser's prompt, `…/finish`, and
//! says plainly what went wrong when the person cancels or the server
//! refuses.

use leptos::{html::Input, prelude::*, task::spawn_local};
use leptos_router::hooks::use_navigate;

use crate::{
    components::auth_state::AuthVersion,
    error::AppError,
    server_fns::passkeys::{
        confirm_finish, confirm_start, login_finish, login_start, register_finish, register_start,
        signup_finish, signup_start, PasskeyView,
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

    /// Whether the component that owns it is still on the page (a flow
    /// resumes after awaits; the callbacks its parent gave it go with it).
    fn alive(self) -> bool {
        self.busy.try_get_untracked().is_some()
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

/// What to do once signed in: tell this tab and the others, then go to
/// the path given. Made in the component (it needs the router).
fn on_signed_in() -> impl Fn(String) + Clone + Send + Sync + 'static {
    let navigate = use_navigate();
    let auth = AuthVersion::get();
    move |to: String| {
        auth.observe(true);
        auth.bump();
        navigate(&to, Default::default());
    }
}

/// One passkey sign-in (from the prompt, or with `autofill` from the
/// user-name field's suggestions): where to go next. `choice` gives the
/// "keep me signed in" box and the next path, read once the person has
/// picked a passkey (an autofill request waits from the page's load, and
/// the box may be ticked meanwhile).
async fn sign_in(
    autofill: Option<&Abort>,
    choice: impl Fn() -> (bool, String),
) -> Result<String, Failed> {
    let options = login_start().await?;
    let credential = webauthn::get(&options, autofill).await?;
    let (remember, next) = choice();
    Ok(login_finish(credential, Some(remember), Some(next))
        .await?
        .next)
}

/// "Sign in with a passkey", and the same passkeys offered in the
/// user-name field's autofill (conditional mediation) while the page is
/// open. `remember` is the form's "keep me signed in" box.
#[component]
pub fn PasskeySignIn(
    /// The form's "keep me signed in" box, read when a passkey is picked.
    remember: NodeRef<Input>,
    /// Where to go once signed in.
    #[prop(into)]
    next: Signal<String>,
) -> impl IntoView {
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let go = on_signed_in();
    // Read after awaits, so the page may be gone by then: `try_`, which
    // says "not ticked" instead of panicking.
    let choice = move || {
        let ticked = remember
            .try_get_untracked()
            .flatten()
            .is_some_and(|el| el.checked());
        (ticked, next.try_get_untracked().unwrap_or_default())
    };
    let autofill = StoredValue::new(None::<Abort>);

    // Autofill: one pending request, withdrawn when the button is used or
    // the page is left (it would otherwise outlive the field it serves).
    let go_autofill = go.clone();
    Effect::new(move |_| {
        let go = go_autofill.clone();
        spawn_local(async move {
            if !webauthn::autofill_available().await {
                return;
            }
            let Some(abort) = Abort::new() else { return };
            if autofill.try_set_value(Some(abort.clone())).is_some() {
                return; // the page was left while the browser answered
            }
            match sign_in(Some(&abort), choice).await {
                Ok(to) => go(to),
                Err(err) => ceremony.message.set(say(&err)),
            }
        });
    });
    on_cleanup(move || {
        if let Some(Some(abort)) = autofill.try_get_value() {
            abort.abort();
        }
    });

    let click = move || {
        if let Some(abort) = autofill.get_value() {
            abort.abort();
        }
        let go = go.clone();
        ceremony.run(async move {
            go(sign_in(None, choice).await?);
            Ok(())
        });
    };
    view! {
        <Show when=move || supported.get()>
            <div class="passkey">
                {ceremony.view("passkey-sign-in", "Sign in with a passkey", "Waiting for your passkey…", click.clone())}
            </div>
        </Show>
    }
    .into_any()
}

/// "Create an account with a passkey": the name from the form's user-name
/// field, no password.
#[component]
pub fn PasskeySignUp(
    /// The form's user-name field.
    username: NodeRef<Input>,
    /// Where to go once signed up.
    #[prop(into)]
    next: Signal<String>,
) -> impl IntoView {
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let go = on_signed_in();
    let click = move || {
        let name = username
            .get_untracked()
            .map(|el| el.value())
            .unwrap_or_default();
        let go = go.clone();
        ceremony.run(async move {
            let options = signup_start(name).await?;
            let credential = webauthn::create(&options).await?;
            let next = next.try_get_untracked().unwrap_or_default();
            let done = signup_finish(credential, None, Some(next)).await?;
            go(done.next);
            Ok(())
        });
    };
    view! {
        <Show when=move || supported.get()>
            <div class="passkey">
                {ceremony.view("passkey-sign-up", "Create account with a passkey", "Waiting for your passkey…", click.clone())}
            </div>
        </Show>
    }
    .into_any()
}

/// "Confirm with a passkey", then `confirmed` if given (a prompt that
/// retries its action), else on to `next`.
#[component]
pub fn PasskeyConfirm(
    /// Where to go once confirmed, unless `confirmed` is given.
    #[prop(into)]
    next: Signal<String>,
    /// Runs once confirmed, instead of going to `next`.
    #[prop(optional)]
    confirmed: Option<Callback<()>>,
) -> impl IntoView {
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let navigate = use_navigate();
    let click = move || {
        let navigate = navigate.clone();
        ceremony.run(async move {
            let options = confirm_start().await?;
            let credential = webauthn::get(&options, None).await?;
            confirm_finish(credential).await?;
            match confirmed {
                Some(confirmed) => {
                    if ceremony.alive() {
                        confirmed.run(());
                    }
                }
                None => {
                    let to = crate::redirect::safe_next(next.try_get_untracked().as_deref());
                    navigate(&to, Default::default());
                }
            }
            Ok(())
        });
    };
    view! {
        <Show when=move || supported.get()>
            <div class="passkey">
                {ceremony.view("passkey-confirm", "Confirm with a passkey", "Waiting for your passkey…", click.clone())}
            </div>
        </Show>
    }
    .into_any()
}

/// "Add a passkey", named from `name`; `added` runs with the new one.
/// Adding a credential needs one confirmed within this session: without
/// it (`confirmed` says, or the server does), it goes to the confirmation
/// page, which returns here.
#[component]
pub fn AddPasskey(
    /// The field holding the new passkey's name.
    name: NodeRef<Input>,
    /// Runs with the passkey once added.
    added: Callback<PasskeyView>,
    /// Whether this session confirmed a credential lately.
    #[prop(into)]
    confirmed: Signal<bool>,
) -> impl IntoView {
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let navigate = use_navigate();
    let click = move || {
        let label = name
            .get_untracked()
            .map(|el| el.value())
            .filter(|v| !v.trim().is_empty());
        let navigate = navigate.clone();
        let confirm_first = move || {
            let to = format!(
                "{}?next={}",
                crate::server_fns::security::CONFIRM_PATH,
                crate::server_fns::passkeys::PASSKEYS_PATH
            );
            navigate(&to, Default::default());
        };
        if !confirmed.get_untracked() {
            confirm_first();
            return;
        }
        ceremony.run(async move {
            let options = match register_start().await {
                Err(AppError::ReauthRequired) => {
                    confirm_first();
                    return Ok(());
                }
                other => other?,
            };
            let credential = webauthn::create(&options).await?;
            let passkey = register_finish(credential, label).await?;
            if let Some(input) = name.try_get_untracked().flatten() {
                input.set_value("");
            }
            if ceremony.alive() {
                added.run(passkey);
            }
            Ok(())
        });
    };
    view! {
        <Show when=move || supported.get()>
            <div class="passkey">
                {ceremony.view("add-passkey", "Add a passkey", "Waiting for your passkey…", click.clone())}
            </div>
        </Show>
    }
    .into_any()
}
