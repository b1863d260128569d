//! The browser's `fetch`, for the few requests the islands make themselves:
//! the refresh, the CSRF token, a form sent in place and `/api/me`. Written
//! on `web_sys` rather than on gloo-net, whose request builder, streamed
//! bodies and `http` types every page would load for these four calls.

use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

/// The request did not complete: the network failed, or the answer's body
/// could not be read or parsed. The caller says what that means for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the server could not be reached, or its answer could not be read")]
pub struct Failed;

impl From<JsValue> for Failed {
    fn from(_: JsValue) -> Self {
        Self
    }
}

/// A request to this site (same origin: the browser sends its cookies).
pub struct Request {
    url: String,
    init: web_sys::RequestInit,
    /// `None` only outside a browser's JS realm, where `send` fails anyway.
    headers: Option<web_sys::Headers>,
}

impl Request {
    /// A `GET` of `url`.
    #[must_use]
    pub fn get(url: &str) -> Self {
        Self::new("GET", url)
    }

    /// A `POST` to `url`, with no body until [`Request::body`] gives one.
    #[must_use]
    pub fn post(url: &str) -> Self {
        Self::new("POST", url)
    }

    fn new(method: &str, url: &str) -> Self {
        let init = web_sys::RequestInit::new();
        init.set_method(method);
        Self {
            url: url.to_owned(),
            init,
            headers: web_sys::Headers::new().ok(),
        }
    }

    /// Sets the header `name`. A name or value the browser refuses is
    /// dropped, and the server answers as it does without it.
    #[must_use]
    pub fn header(self, name: &str, value: &str) -> Self {
        if let Some(headers) = &self.headers {
            let _ = headers.set(name, value);
        }
        self
    }

    /// The body, sent as it is (the caller sets its `Content-Type`).
    #[must_use]
    pub fn body(self, body: &str) -> Self {
        self.init.set_body(&JsValue::from_str(body));
        self
    }

    /// Sends the request; any HTTP status is an answer.
    ///
    /// # Errors
    /// [`Failed`] when no answer came (offline, refused, aborted).
    pub async fn send(self) -> Result<Response, Failed> {
        let headers = self.headers.ok_or(Failed)?;
        self.init.set_headers(&headers);
        let window = web_sys::window().ok_or(Failed)?;
        let answer = JsFuture::from(window.fetch_with_str_and_init(&self.url, &self.init)).await?;
        Ok(Response(answer.dyn_into()?))
    }
}

/// The server's answer.
pub struct Response(web_sys::Response);

impl Response {
    /// The HTTP status.
    #[must_use]
    pub fn status(&self) -> u16 {
        self.0.status()
    }

    /// Whether the status is 2xx.
    #[must_use]
    pub fn ok(&self) -> bool {
        self.0.ok()
    }

    /// The header `name`, if the answer has it (and CORS lets the page
    /// read it, which on the same origin it does).
    #[must_use]
    pub fn header(&self, name: &str) -> Option<String> {
        self.0.headers().get(name).ok().flatten()
    }

    /// The body as text.
    ///
    /// # Errors
    /// [`Failed`] when the body could not be read.
    pub async fn text(self) -> Result<String, Failed> {
        JsFuture::from(self.0.text()?)
            .await?
            .as_string()
            .ok_or(Failed)
    }

    /// The body, a JSON object.
    ///
    /// # Errors
    /// [`Failed`] when the body could not be read or is not a JSON object.
    pub async fn json(self) -> Result<crate::record::Record, Failed> {
        crate::record::Record::parse(&self.text().await?).ok_or(Failed)
    }
}
