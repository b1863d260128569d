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

#[cfg(test)]
mod tests {
    use axum::{body::Body, http::Request, routing::post, Router};
    use tower::ServiceExt as _;

    use super::*;

    /// A server function's error as the machinery answers it: 500, its
    /// header, the typed error as JSON.
    fn machinery_error(err: &AppError) -> Response {
        Response::builder()
            .status(StatusCode::INTERNAL_SERVER_ERROR)
            .header(SERVER_FN_ERROR_HEADER, "/api/some_fn")
            .body(Body::from(serde_json::to_string(err).unwrap()))
            .unwrap()
    }

    async fn through_the_layer(res: fn() -> Response) -> Response {
        let app = Router::new()
            .route("/api/some_fn", post(move || async move { res() }))
            .route_layer(axum::middleware::from_fn(error_status));
        let req = Request::post("/api/some_fn").body(Body::empty()).unwrap();
        app.oneshot(req).await.unwrap()
    }

    #[tokio::test]
    async fn an_error_left_at_500_gets_its_own_status() {
        let res = through_the_layer(|| machinery_error(&AppError::Unauthorized)).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let res = through_the_layer(|| machinery_error(&AppError::BadRequest)).await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = through_the_layer(|| machinery_error(&AppError::Busy)).await;
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(res.headers()[header::RETRY_AFTER], "2");
        let res = through_the_layer(|| machinery_error(&AppError::Internal)).await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(res.into_body(), 1024).await.unwrap();
        assert_eq!(&body[..], br#""Internal""#, "the body passes unchanged");
    }

    #[tokio::test]
    async fn a_status_or_redirect_a_function_chose_stays() {
        let res = through_the_layer(|| {
            let mut res = machinery_error(&AppError::Unauthorized);
            *res.status_mut() = StatusCode::FOUND;
            res
        })
        .await;
        assert_eq!(res.status(), StatusCode::FOUND);
        let res = through_the_layer(|| {
            Response::builder()
                .status(StatusCode::INTERNAL_SERVER_ERROR)
                .body(Body::from("not a server function's"))
                .unwrap()
        })
        .await;
        assert_eq!(res.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }
}
