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
//! own that only a page offering it loads. The in-place confirmation of
//! other forms reaches the same ceremony through a lazy function
//! ([`confirm_ceremony`]), loaded when its button is pressed.
//!
//! The islands take no props (Leptos would send them as JSON, and decode
//! them with a JSON parser in every chunk). What a button needs is the
//! page's own: the user name, "keep me signed in" and the passkey's name
//! from their fields, where to go next from the page's `?next=`, whether
//! the session may add a passkey from the section's `data-confirmed`. The
//! calls go through [`crate::post::json`], with bodies and answers the
//! browser's own JSON reads and writes (`passkey/browser.rs`), not the
//! server functions' own client and `serde_json`.

// `#[island]` derives an undocumented loader for a lazy island; the items
// here are documented.
#![allow(missing_docs)]

use leptos::{prelude::*, task::spawn_local};

use super::when::when;
use crate::{
    error::AppError,
    navigation,
    webauthn::{self, Abort, Failure},
};

#[cfg(feature = "hydrate")]
#[path = "passkey/browser.rs"]
mod flows;
#[cfg(not(feature = "hydrate"))]
#[path = "passkey/server.rs"]
mod flows;

/// The members of the ceremonies' JSON bodies and answers: the server
/// functions' argument and field names (a test checks them against the
/// structs `#[server]` makes).
#[cfg(any(feature = "hydrate", test))]
mod names {
    pub const CREDENTIAL: &str = "credential";
    pub const REMEMBER: &str = "remember";
    pub const NEXT: &str = "next";
    pub const NAME: &str = "name";
    pub const USERNAME: &str = "username";
}

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
/// in the browser), so the server renders none. The in-place
/// confirmation offers its passkey button by it too.
pub fn use_supported() -> ReadSignal<bool> {
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

/// "Sign in with a passkey", and the same passkeys offered in the
/// user-name field's autofill (conditional mediation) while the page is
/// open.
#[island(lazy)]
pub fn PasskeySignIn() -> impl IntoView {
    let preloads = crate::assets::preload_island("passkey_sign_in");
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let autofill = StoredValue::new(None::<Abort>);

    // Autofill: one pending request, withdrawn when the button is used.
    Effect::new(move |_| {
        spawn_local(async move {
            if !webauthn::autofill_available().await {
                return;
            }
            let Some(abort) = Abort::new() else { return };
            autofill.set_value(Some(abort.clone()));
            match flows::sign_in(Some(&abort)).await {
                Ok(to) => navigation::go(&to),
                Err(err) => ceremony.message.set(say(&err)),
            }
        });
    });

    let click = move || {
        if let Some(abort) = autofill.get_value() {
            abort.abort();
        }
        ceremony.run(async move {
            navigation::go(&flows::sign_in(None).await?);
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("passkey-sign-in", "Sign in with a passkey", "Waiting for your passkey…", click)}
            </div>
        })}
        {preloads}
    }
}

/// "Create an account with a passkey": the name from the form's user-name
/// field (`#username`), no password.
#[island(lazy)]
pub fn PasskeySignUp() -> impl IntoView {
    let preloads = crate::assets::preload_island("passkey_sign_up");
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let click = move || {
        ceremony.run(async move {
            navigation::go(&flows::sign_up().await?);
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("passkey-sign-up", "Create account with a passkey", "Waiting for your passkey…", click)}
            </div>
        })}
        {preloads}
    }
}

/// One confirmation with a passkey; the message to show if it failed
/// (`None`: nothing to say). A lazy function: the in-place confirmation of
/// every form loads it only when its passkey button is pressed.
#[lazy]
pub async fn confirm_ceremony() -> Result<(), Option<String>> {
    flows::confirm().await.map_err(|err| say(&err))
}

/// "Confirm with a passkey", then on to the page's `?next=`.
#[island(lazy)]
pub fn PasskeyConfirm() -> impl IntoView {
    let preloads = crate::assets::preload_island("passkey_confirm");
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let click = move || {
        ceremony.run(async move {
            flows::confirm().await?;
            navigation::go(&crate::redirect::safe_next(Some(&flows::next_page())));
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("passkey-confirm", "Confirm with a passkey", "Waiting for your passkey…", click)}
            </div>
        })}
        {preloads}
    }
}

/// "Add a passkey", named from the page's `#passkey-name` field; then the
/// page again, saying which was added. Adding a credential needs one
/// confirmed within this session: without it (the section's
/// `data-confirmed` says, or the server does), it goes to the confirmation
/// page, which returns here.
#[island(lazy)]
pub fn AddPasskey() -> impl IntoView {
    let preloads = crate::assets::preload_island("add_passkey");
    use crate::paths::{CONFIRM, PASSKEYS};
    let supported = use_supported();
    let ceremony = Ceremony::new();
    let confirm_first = || navigation::go(&format!("{CONFIRM}?next={PASSKEYS}"));
    let click = move || {
        if !flows::may_add() {
            confirm_first();
            return;
        }
        ceremony.run(async move {
            match flows::add().await {
                Err(Failed::Server(AppError::ReauthRequired)) => confirm_first(),
                added => {
                    let name = percent_encode(&added?);
                    navigation::go(&format!("{PASSKEYS}?added={name}"));
                }
            }
            Ok(())
        });
    };
    view! {
        {when(move || supported.get(), move || view! {
            <div class="passkey">
                {ceremony.view("add-passkey", "Add a passkey", "Waiting for your passkey…", click)}
            </div>
        })}
        {preloads}
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

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::names::{CREDENTIAL, NAME, NEXT, REMEMBER, USERNAME};
    use crate::server_fns::passkeys::{
        ConfirmFinish, LoginFinish, PasskeyView, RegisterFinish, SignupFinish, SignupStart,
    };

    /// The member names of `value`'s JSON, sorted.
    fn members(value: impl serde::Serialize) -> Vec<String> {
        let Value::Object(members) = serde_json::to_value(value).expect("serialises") else {
            panic!("not an object");
        };
        let mut names: Vec<String> = members.keys().cloned().collect();
        names.sort();
        names
    }

    fn sorted(names: &[&str]) -> Vec<String> {
        let mut names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        names.sort();
        names
    }

    #[test]
    fn the_bodies_the_browser_writes_name_the_server_functions_arguments() {
        let credential = json!({});
        assert_eq!(
            members(LoginFinish {
                credential: credential.clone(),
                remember: None,
                next: None
            }),
            sorted(&[CREDENTIAL, REMEMBER, NEXT])
        );
        assert_eq!(
            members(SignupStart {
                username: String::new()
            }),
            sorted(&[USERNAME])
        );
        assert_eq!(
            members(SignupFinish {
                credential: credential.clone(),
                name: None,
                next: None
            }),
            sorted(&[CREDENTIAL, NAME, NEXT])
        );
        assert_eq!(
            members(RegisterFinish {
                credential: credential.clone(),
                name: None
            }),
            sorted(&[CREDENTIAL, NAME])
        );
        assert_eq!(members(ConfirmFinish { credential }), sorted(&[CREDENTIAL]));
    }

    #[test]
    fn the_answers_the_browser_reads_have_the_members_it_reads() {
        let signed_in = serde_json::to_value(crate::server_fns::passkeys::SignedIn {
            next: "/dashboard".to_owned(),
        })
        .expect("serialises");
        assert_eq!(signed_in[NEXT], "/dashboard");
        let value = serde_json::to_value(PasskeyView {
            id: "1".to_owned(),
            name: "Laptop".to_owned(),
            created_at: 0,
            last_used_at: None,
        })
        .expect("serialises");
        assert!(value.get(NAME).is_some_and(Value::is_string));
    }
}
