//! Calling a server function from an island: as a plain form would post
//! it (`post`: the URL-encoded fields, the next page in `Location`), or
//! with its arguments as JSON for one that takes JSON (`json`); with the
//! CSRF header, and the server function's typed error. The islands use
//! these rather than the server-function client, whose request and
//! response machinery (and gloo-net under it) would be a large part of
//! the page's WebAssembly for a few calls, and whose JSON goes through
//! `serde_json`: here it is the browser's own (`record.rs`).

use crate::error::AppError;

#[cfg(feature = "hydrate")]
/// Posts `body` (URL-encoded fields) to the server function at `url`:
/// `Ok` with the page the server names next, if any, or its error.
///
/// # Errors
/// The server function's [`AppError`], or [`AppError::Transport`] when
/// the server could not be reached or answered something else.
pub async fn post(url: &str, body: String) -> Result<Option<String>, AppError> {
    let res = send(url, "application/x-www-form-urlencoded", &body).await?;
    // A server function's redirect, made for script: the path in
    // `Location` (a plain post would have had a 303).
    Ok(res.header("location"))
}

#[cfg(feature = "hydrate")]
/// Calls the server function at `url` that takes JSON (`input = Json`)
/// with `args`, an object whose members are its arguments: its answer if
/// that is an object (`None` for a function that returns nothing), or its
/// error.
///
/// # Errors
/// The server function's [`AppError`], or [`AppError::Transport`] when
/// the server could not be reached or answered something else.
pub async fn json(
    url: &str,
    args: &crate::record::Record,
) -> Result<Option<crate::record::Record>, AppError> {
    let body = args.to_json().ok_or(AppError::Transport)?;
    let res = send(url, "application/json", &body).await?;
    let text = res.text().await.map_err(|_| AppError::Transport)?;
    Ok(crate::record::Record::parse(&text))
}

/// Sends `body` to `url` with the CSRF header and notes the session times
/// the answer reports: the answer if it is a success, else its error.
#[cfg(feature = "hydrate")]
async fn send(
    url: &str,
    content_type: &str,
    body: &str,
) -> Result<crate::fetch::Response, AppError> {
    let mut request = crate::fetch::Request::post(url)
        .header("Accept", "application/json")
        .header("Content-Type", content_type);
    if let Some(token) = crate::csrf::ensure_token().await {
        request = request.header(crate::csrf::HEADER, &token);
    }
    let res = request
        .body(body)
        .send()
        .await
        .map_err(|_| AppError::Transport)?;
    crate::session_clock::observe_header(res.header(crate::session_clock::HEADER).as_deref());
    if res.ok() {
        return Ok(res);
    }
    let text = res.text().await.map_err(|_| AppError::Transport)?;
    // Read without `serde_json`: the eager islands' sign-out posts too.
    Err(crate::record::tagged(&text)
        .and_then(|(variant, text)| AppError::from_variant(&variant, text))
        .unwrap_or(AppError::Transport))
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
