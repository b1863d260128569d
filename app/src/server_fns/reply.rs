//! How every server function answers, in one place.
//!
//! A function's body runs inside [`Reply::run`], which
//! - gives it a span named for the function (the request's own span,
//!   outside, names its route), so its log lines say where they come from
//!   and never carry its arguments (passwords, tokens);
//! - keeps the answer out of caches (`no-store`): every answer is about
//!   one person or one moment;
//! - answers a plain HTML form post (no JavaScript) with a redirect: to the
//!   success page, or back to the form with the error's code (to the
//!   confirmation page when a credential must be proved first, to the
//!   sign-in page without a session), while the hydrated app gets the
//!   typed error as JSON.
//!
//! The error's HTTP status is set by the server for every server function
//! from the error itself (`server/src/server_fn_errors.rs`), so no function
//! sets one by hand and none can forget to.

use std::future::Future;

use tracing::Instrument as _;

use crate::{
    error::AppError,
    paths::{CONFIRM, LOGIN},
    redirect::{encoded, safe_next, via},
    session,
};

/// How a server function answers; see the module docs.
#[derive(Clone, Debug)]
pub struct Reply {
    name: &'static str,
    /// The form page a plain post returns to on failure.
    page: Option<&'static str>,
    /// Where success goes, and whether script goes there too.
    success: Option<(String, Navigate)>,
    /// A query parameter the form page needs back after a failed plain
    /// post (`token=…` for the page a mailed link opened).
    kept: Option<String>,
}

/// Who follows a success redirect.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Navigate {
    /// The hydrated app too (it follows a server function's redirect).
    Always,
    /// A plain form post only; the hydrated app stays on its page.
    PlainOnly,
}

impl Reply {
    /// A function called from script only (data, the passkey ceremonies):
    /// errors come back as JSON, success as its value.
    #[must_use]
    pub fn json(name: &'static str) -> Self {
        Self {
            name,
            page: None,
            success: None,
            kept: None,
        }
    }

    /// A form on `page`, which works without JavaScript too.
    #[must_use]
    pub fn form(name: &'static str, page: &'static str) -> Self {
        Self {
            page: Some(page),
            ..Self::json(name)
        }
    }

    /// On success, go to `path` (a local path; anything else goes to the
    /// dashboard), with or without JavaScript.
    #[must_use]
    pub fn then(mut self, path: Option<&str>) -> Self {
        self.success = Some((safe_next(path), Navigate::Always));
        self
    }

    /// On success, a plain form post goes to `path`; the hydrated app
    /// stays where it is (it updates in place).
    #[must_use]
    pub fn then_reload(mut self, path: &str) -> Self {
        self.success = Some((safe_next(Some(path)), Navigate::PlainOnly));
        self
    }

    /// After a failed plain post, the form page gets `name=value` back
    /// with the error (the token of the link that opened it).
    #[must_use]
    pub fn keep(mut self, name: &str, value: &str) -> Self {
        self.kept = Some(format!("{name}={}", encoded(value)));
        self
    }

    /// Runs the function's `body` and answers its outcome.
    ///
    /// # Errors
    /// The body's error, as it came.
    pub async fn run<T>(
        self,
        body: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let span = tracing::info_span!("server_fn", name = self.name);
        let result = body.instrument(span.clone()).await;
        let _entered = span.enter();
        session::set_header(http::header::CACHE_CONTROL, "no-store");
        let plain = session::is_plain_form_post();
        match &result {
            Ok(_) => match &self.success {
                Some((path, how)) if plain || *how == Navigate::Always => {
                    leptos_axum::redirect(path);
                }
                _ => {}
            },
            Err(err) => {
                tracing::debug!(error = err.code(), "refused");
                if let (true, Some(page)) = (plain, self.page) {
                    let success = self.success.as_ref().map(|(path, _)| path.as_str());
                    let back = back_to(page, success, err);
                    match &self.kept {
                        Some(kept) if back.starts_with(&format!("{page}?")) => {
                            leptos_axum::redirect(&format!("{back}&{kept}"));
                        }
                        _ => leptos_axum::redirect(&back),
                    }
                }
            }
        }
        result
    }
}

/// Where a plain form post that failed with `err` goes from `page`: the
/// confirmation page (returning to `page`) when a credential must be proved
/// first, the sign-in page without a session, else `page` with the error's
/// code (and where success would have gone, for the form's `next`).
#[must_use]
pub fn back_to(page: &str, success: Option<&str>, err: &AppError) -> String {
    match err {
        AppError::ReauthRequired => via(CONFIRM, page),
        AppError::Unauthorized => via(LOGIN, page),
        err => match success {
            Some(next) => format!("{page}?error={}&next={}", err.code(), encoded(next)),
            None => format!("{page}?error={}", err.code()),
        },
    }
}

/// A credential endpoint's refusal made before its function runs (the
/// server's gate: a full hashing queue, a spent budget), answered as the
/// function itself would: a plain form post from `page` goes back to it
/// with the error's code, script gets the typed error as JSON with its
/// status. Both say when to try again and are never cached.
#[must_use]
pub fn refusal(
    headers: &http::HeaderMap,
    page: Option<&str>,
    err: &AppError,
    retry_after_secs: u64,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    use http::{header, HeaderValue, StatusCode};
    let mut res = match page.filter(|_| session::accepts_html(headers)) {
        Some(page) => axum::response::Redirect::to(&back_to(page, None, err)).into_response(),
        None => {
            let status =
                StatusCode::from_u16(err.status()).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let body = serde_json::to_string(err).unwrap_or_default();
            (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
        }
    };
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
