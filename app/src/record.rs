//! The few small JSON records the eager islands read and write (the
//! refresh's answer, the CSRF token's, what the tab and the browser keep in
//! storage), through the browser's own `JSON` and `Storage`.
//!
//! The passkey ceremonies send and read theirs the same way (the server's
//! options and the browser's credential are objects the browser converts).
//!
//! So the bundle carries no JSON parser of its own: a `serde_json`
//! deserialiser links the parser, float parsing and serde's
//! float-formatting error messages, for records of a handful of strings
//! and integers. No island takes props either, since Leptos decodes an
//! island's props with `serde_json`.

use js_sys::{Object, Reflect, JSON};
use wasm_bindgen::{JsCast as _, JsValue};

/// A JSON object: its members read and set by name.
#[derive(Clone, Debug)]
pub struct Record(Object);

impl Default for Record {
    fn default() -> Self {
        Self::new()
    }
}

impl Record {
    /// An empty object.
    #[must_use]
    pub fn new() -> Self {
        Self(Object::new())
    }

    /// `text` parsed, if it is a JSON object.
    #[must_use]
    pub fn parse(text: &str) -> Option<Self> {
        Self::of(JSON::parse(text).ok()?)
    }

    /// `value` if it is an object (not `null`, not an array).
    #[must_use]
    pub fn of(value: JsValue) -> Option<Self> {
        (value.is_object() && !js_sys::Array::is_array(&value))
            .then(|| Self(value.unchecked_into()))
    }

    /// The JSON text.
    #[must_use]
    pub fn to_json(&self) -> Option<String> {
        JSON::stringify(&self.0).ok()?.as_string()
    }

    /// The member `name`, if present.
    fn member(&self, name: &str) -> Option<JsValue> {
        Reflect::get(&self.0, &name.into())
            .ok()
            .filter(|v| !v.is_undefined())
    }

    /// The string member `name`.
    #[must_use]
    pub fn string(&self, name: &str) -> Option<String> {
        self.member(name)?.as_string()
    }

    /// The number member `name`.
    #[must_use]
    pub fn number(&self, name: &str) -> Option<f64> {
        self.member(name)?.as_f64().filter(|n| n.is_finite())
    }

    /// The number member `name`, if it is a whole number (JSON's integers
    /// are exact up to 2⁵³, far beyond any time or count kept here).
    #[must_use]
    pub fn integer(&self, name: &str) -> Option<i64> {
        let n = self.number(name)?;
        (n.fract() == 0.0 && n.abs() <= 9_007_199_254_740_992.0).then_some(n as i64)
    }

    /// The object member `name`.
    #[must_use]
    pub fn record(&self, name: &str) -> Option<Self> {
        Self::of(self.member(name)?)
    }

    /// Sets the member `name` to `value`.
    #[must_use]
    pub fn with(self, name: &str, value: impl Into<JsValue>) -> Self {
        let _ = Reflect::set(&self.0, &name.into(), &value.into());
        self
    }

    /// Sets the member `name` to the integer `value`.
    #[must_use]
    pub fn with_integer(self, name: &str, value: i64) -> Self {
        self.with(name, value as f64)
    }

    /// Sets the member `name` to the object `value`.
    #[must_use]
    pub fn with_record(self, name: &str, value: &Self) -> Self {
        self.with(name, value.0.clone())
    }
}

/// A value of an enum as serde writes it by default ("externally
/// tagged"): `"Name"` for a variant without data, `{"Name": "text"}` for
/// one holding a string. `None` for anything else.
#[must_use]
pub fn tagged(text: &str) -> Option<(String, Option<String>)> {
    let value = JSON::parse(text).ok()?;
    if let Some(name) = value.as_string() {
        return Some((name, None));
    }
    let record = Record::of(value)?;
    let names = Object::keys(&record.0);
    if names.length() != 1 {
        return None;
    }
    let name = names.get(0).as_string()?;
    let text = record.string(&name)?;
    Some((name, Some(text)))
}

impl AsRef<Object> for Record {
    /// The object itself, for a browser API that takes one.
    fn as_ref(&self) -> &Object {
        &self.0
    }
}

/// One of the browser's two storages.
#[derive(Clone, Copy, Debug)]
pub enum Kept {
    /// `localStorage`: this origin's, across tabs and restarts.
    Local,
    /// `sessionStorage`: this tab's, until it closes.
    Tab,
}

impl Kept {
    fn storage(self) -> Option<web_sys::Storage> {
        let window = web_sys::window()?;
        match self {
            Self::Local => window.local_storage(),
            Self::Tab => window.session_storage(),
        }
        .ok()
        .flatten()
    }

    /// The record kept under `key`, if there is one that parses.
    #[must_use]
    pub fn get(self, key: &str) -> Option<Record> {
        Record::parse(&self.storage()?.get_item(key).ok()??)
    }

    /// Keeps `record` under `key`; a storage that is full or refused (a
    /// private window's quota) keeps nothing, as if it had been cleared.
    pub fn set(self, key: &str, record: &Record) {
        if let (Some(storage), Some(text)) = (self.storage(), record.to_json()) {
            let _ = storage.set_item(key, &text);
        }
    }

    /// Forgets what is kept under `key`.
    pub fn delete(self, key: &str) {
        if let Some(storage) = self.storage() {
            let _ = storage.remove_item(key);
        }
    }
}
