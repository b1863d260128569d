//! Every server function's error answers with that error's own status.
//!
//! The server-function machinery answers any error with 500 unless the
//! function set another status on its way out; an error raised before the
//! function runs (a body it cannot decode, a field missing) has no way to.
//! This layer reads the typed error from such an answer (`AppError`, as
//! JSON, marked by the machinery's error header) and gives the response
//! the status the error names (`AppError::status`): a malformed body is a
//! 400, a function that forgot to set its 401 still answers 401. Only
//! error answers left at 500 are read, so a redirect or a status a
//! function chose stays as it is.

use axum::{
    body::Body,
    extract::Request,
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::Response,
};
use leptos::server_fn::error::SERVER_FN_ERROR_HEADER;

use app::{error::AppError, session::BUSY_RETRY_AFTER_SECS};

/// Largest error body read (an `AppError` is a few hundred bytes).
const MAX_ERROR_BYTES: usize = 16 * 1024;

/// The middleware; install as a route layer on the server functions.
pub async fn error_status(req: Request, next: Next) -> Response {
    let res = next.run(req).await;
    if res.status() != StatusCode::INTERNAL_SERVER_ERROR
        || !res.headers().contains_key(SERVER_FN_ERROR_HEADER)
    {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_ERROR_BYTES).await else {
        return Response::from_parts(parts, Body::empty());
    };
    if let Ok(err) = serde_json::from_slice::<AppError>(&bytes) {
        if let Ok(status) = StatusCode::from_u16(err.status()) {
            parts.status = status;
        }
        if err == AppError::Busy {
            parts.headers.insert(
                header::RETRY_AFTER,
                HeaderValue::from(BUSY_RETRY_AFTER_SECS),
            );
        }
    }
    Response::from_parts(parts, Body::from(bytes))
}
