//! The ceremonies in the browser: `…/start`, the browser's prompt,
//! `…/finish`. Each body is a [`Record`] whose members are the server
//! function's arguments ([`super::names`]), and each answer is read the
//! same way: the browser's own JSON, no parser in the chunk.

use leptos::{prelude::document, server_fn::ServerFn as _};
use wasm_bindgen::JsCast as _;

use super::{names, Failed};
use crate::{
    error::AppError,
    post::json,
    record::Record,
    server_fns::passkeys::{
        ConfirmFinish, ConfirmStart, LoginFinish, LoginStart, RegisterFinish, RegisterStart,
        SignupFinish, SignupStart,
    },
    webauthn::{self, Abort},
};

/// The value of the page's input `id` (a text field's text, or whether a
/// checkbox is ticked, as `"on"`).
fn field(id: &str) -> Option<String> {
    let input: web_sys::HtmlInputElement = document().get_element_by_id(id)?.dyn_into().ok()?;
    if input.type_() == "checkbox" {
        return input.checked().then(|| "on".to_owned());
    }
    Some(input.value()).filter(|v| !v.trim().is_empty())
}

/// Where the page was asked to go next (its `?next=`, as the server read
/// it to render the page; the server checks it again).
pub fn next_page() -> String {
    let search = document().location().and_then(|l| l.search().ok());
    search
        .and_then(|s| web_sys::UrlSearchParams::new_with_str(&s).ok())
        .and_then(|params| params.get(names::NEXT))
        .unwrap_or_default()
}

/// Whether the page says this session may add a passkey now (its
/// `#add-passkey` section's `data-confirmed`).
pub fn may_add() -> bool {
    document()
        .get_element_by_id("add-passkey")
        .is_some_and(|section| section.has_attribute("data-confirmed"))
}

/// The string member `name` of a server function's answer.
fn member(answer: Option<Record>, name: &str) -> Result<String, Failed> {
    answer
        .and_then(|a| a.string(name))
        .ok_or(Failed::Server(AppError::Transport))
}

/// The server's options, asked for with `body` at `url`.
async fn options(url: &str, body: &Record) -> Result<Record, Failed> {
    json(url, body)
        .await?
        .ok_or(Failed::Server(AppError::Transport))
}

/// One passkey sign-in (from the prompt, or with `autofill` from the
/// user-name field's suggestions): where to go next. "Keep me signed in"
/// is read once the person has picked a passkey (an autofill request
/// waits from the page's load, and the box may be ticked meanwhile).
pub async fn sign_in(autofill: Option<&Abort>) -> Result<String, Failed> {
    let options = options(LoginStart::url(), &Record::new()).await?;
    let credential = webauthn::get(&options, autofill).await?;
    let body = Record::new()
        .with_record(names::CREDENTIAL, &credential)
        .with(names::REMEMBER, field("remember").is_some())
        .with(names::NEXT, next_page());
    member(json(LoginFinish::url(), &body).await?, names::NEXT)
}

/// A new account with a passkey, named from the form's `#username`: where
/// to go next.
pub async fn sign_up() -> Result<String, Failed> {
    let name = field("username").unwrap_or_default();
    let start = Record::new().with(names::USERNAME, name);
    let options = options(SignupStart::url(), &start).await?;
    let credential = webauthn::create(&options).await?;
    let body = Record::new()
        .with_record(names::CREDENTIAL, &credential)
        .with(names::NEXT, next_page());
    member(json(SignupFinish::url(), &body).await?, names::NEXT)
}

/// One confirmation with a passkey.
pub async fn confirm() -> Result<(), Failed> {
    let options = options(ConfirmStart::url(), &Record::new()).await?;
    let credential = webauthn::get(&options, None).await?;
    let body = Record::new().with_record(names::CREDENTIAL, &credential);
    json(ConfirmFinish::url(), &body).await?;
    Ok(())
}

/// A passkey added to the account, named from the page's `#passkey-name`:
/// its name.
pub async fn add() -> Result<String, Failed> {
    let label = field("passkey-name");
    let options = options(RegisterStart::url(), &Record::new()).await?;
    let credential = webauthn::create(&options).await?;
    let mut body = Record::new().with_record(names::CREDENTIAL, &credential);
    if let Some(label) = label {
        body = body.with(names::NAME, label);
    }
    member(json(RegisterFinish::url(), &body).await?, names::NAME)
}
