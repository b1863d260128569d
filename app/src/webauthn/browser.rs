//! The browser's WebAuthn API through `js_sys::Reflect`: a handful of
//! dynamic calls rather than generated bindings.

use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::Failure;
use crate::record::Record;

/// An `AbortController`, to withdraw an autofill request when the person
/// picks another way. (Wrapped to be `Send` for Leptos' stored values:
/// the browser app has one thread.)
#[derive(Clone, Debug)]
pub struct Abort(send_wrapper::SendWrapper<web_sys::AbortController>);

impl Abort {
    /// A new controller (`None` where the browser has none).
    #[must_use]
    pub fn new() -> Option<Self> {
        web_sys::AbortController::new()
            .ok()
            .map(|c| Self(send_wrapper::SendWrapper::new(c)))
    }

    /// Withdraws the request it was given to.
    pub fn abort(&self) {
        self.0.abort();
    }
}

fn prop(target: &JsValue, key: &str) -> Result<JsValue, JsValue> {
    Reflect::get(target, &JsValue::from_str(key))
}

fn call(target: &JsValue, method: &str, args: &[&JsValue]) -> Result<JsValue, JsValue> {
    let f: Function = prop(target, method)?.dyn_into()?;
    match args {
        [] => f.call0(target),
        [a] => f.call1(target, a),
        _ => Err(JsValue::from_str("unsupported arity")),
    }
}

fn public_key_credential() -> Option<JsValue> {
    let window = web_sys::window()?;
    prop(&window, "PublicKeyCredential")
        .ok()
        .filter(|v| !v.is_undefined())
}

fn credentials() -> Result<JsValue, JsValue> {
    let window = web_sys::window().ok_or_else(|| JsValue::from_str("no window"))?;
    prop(&prop(&window, "navigator")?, "credentials")
}

pub fn supported() -> bool {
    // WebAuthn scopes passkeys to a domain: on an address (the dev server
    // opened as 127.0.0.1) every ceremony would fail, so none is offered.
    let on_address = web_sys::window()
        .and_then(|w| w.location().hostname().ok())
        .is_some_and(|host| {
            host.trim_matches(['[', ']'])
                .parse::<std::net::IpAddr>()
                .is_ok()
        });
    !on_address
        && public_key_credential().is_some_and(|pkc| {
            [
                "parseCreationOptionsFromJSON",
                "parseRequestOptionsFromJSON",
            ]
            .iter()
            .all(|name| prop(&pkc, name).is_ok_and(|f| f.is_function()))
        })
}

pub async fn autofill_available() -> bool {
    let Some(pkc) = public_key_credential().filter(|_| supported()) else {
        return false;
    };
    let Ok(promise) = call(&pkc, "isConditionalMediationAvailable", &[]) else {
        return false;
    };
    match promise.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|v| v.as_bool())
            .unwrap_or(false),
        Err(_) => false,
    }
}

/// The browser's rejection as a [`Failure`], by the `DOMException`'s name.
fn failure(err: JsValue) -> Failure {
    let name = prop(&err, "name").ok().and_then(|n| n.as_string());
    match name.as_deref() {
        Some("NotAllowedError") => Failure::Cancelled,
        Some("AbortError") => Failure::Aborted,
        Some("InvalidStateError") => Failure::AlreadyRegistered,
        _ => Failure::Browser(
            prop(&err, "message")
                .ok()
                .and_then(|m| m.as_string())
                .unwrap_or_default(),
        ),
    }
}

/// `{publicKey: PublicKeyCredential.<parse>(options.publicKey)}`.
fn options_of(options: &Record, parse: &str) -> Result<Object, Failure> {
    let pkc = public_key_credential().ok_or(Failure::Unsupported)?;
    let public_key = options
        .record("publicKey")
        .ok_or_else(|| Failure::Browser("no publicKey in the options".to_owned()))?;
    let parsed = call(&pkc, parse, &[public_key.as_ref()]).map_err(failure)?;
    let arg = Object::new();
    Reflect::set(&arg, &JsValue::from_str("publicKey"), &parsed).map_err(failure)?;
    Ok(arg)
}

async fn run(method: &str, arg: &Object) -> Result<Record, Failure> {
    let promise = call(&credentials().map_err(failure)?, method, &[arg]).map_err(failure)?;
    let promise: Promise = promise.dyn_into().map_err(failure)?;
    let credential = JsFuture::from(promise).await.map_err(failure)?;
    if credential.is_null() || credential.is_undefined() {
        return Err(Failure::Cancelled);
    }
    let json = call(&credential, "toJSON", &[]).map_err(failure)?;
    Record::of(json).ok_or_else(|| Failure::Browser("toJSON gave no object".to_owned()))
}

pub async fn create(options: &Record) -> Result<Record, Failure> {
    let arg = options_of(options, "parseCreationOptionsFromJSON")?;
    run("create", &arg).await
}

pub async fn get(options: &Record, autofill: Option<&super::Abort>) -> Result<Record, Failure> {
    let arg = options_of(options, "parseRequestOptionsFromJSON")?;
    if let Some(abort) = autofill {
        let set = |key: &str, value: &JsValue| Reflect::set(&arg, &JsValue::from_str(key), value);
        set("mediation", &JsValue::from_str("conditional")).map_err(failure)?;
        set("signal", &abort.0.signal()).map_err(failure)?;
    }
    run("get", &arg).await
}
