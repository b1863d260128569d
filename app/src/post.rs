//! Posting to a server function from an island, as a plain form would:
//! the URL-encoded fields, the CSRF header, and the answer read as the
//! server function writes it (the next page in `Location`, or the typed
//! error). The islands use this rather than the server-function client,
//! whose request and response machinery would be a large part of the
//! page's WebAssembly for a few posts.

use crate::error::AppError;

#[cfg(feature = "hydrate")]
/// Posts `body` (URL-encoded fields) to the server function at `url`:
/// `Ok` with the page the server names next, if any, or its error.
///
/// # Errors
/// The server function's [`AppError`], or [`AppError::Transport`] when
/// the server could not be reached or answered something else.
pub async fn post(url: &str, body: String) -> Result<Option<String>, AppError> {
    let mut request = crate::fetch::Request::post(url)
        .header("Accept", "application/json")
        .header("Content-Type", "application/x-www-form-urlencoded");
    if let Some(token) = crate::csrf::ensure_token().await {
        request = request.header(crate::csrf::HEADER, &token);
    }
    let res = request
        .body(&body)
        .send()
        .await
        .map_err(|_| AppError::Transport)?;
    crate::session_clock::observe_header(res.header(crate::session_clock::HEADER).as_deref());
    if res.ok() {
        // A server function's redirect, made for script: the path in
        // `Location` (a plain post would have had a 303).
        return Ok(res.header("location"));
    }
    let text = res.text().await.map_err(|_| AppError::Transport)?;
    Err(serde_json::from_str::<AppError>(&text).unwrap_or(AppError::Transport))
}

/// The server never posts.
///
/// # Errors
/// Always [`AppError::Transport`].
#[cfg(not(feature = "hydrate"))]
#[allow(clippy::unused_async)]
pub async fn post(_: &str, _: String) -> Result<Option<String>, AppError> {
    Err(AppError::Transport)
}
