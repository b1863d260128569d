//! The server's errors: [`ServerError`] for a request that cannot be served
//! as asked, [`StartupError`] for a server that cannot start.
//!
//! Every handler and middleware returns `Result<_, ServerError>` and uses
//! `?`; the answer for each case (status, body, headers) is decided here
//! once. Bodies say what a person or client can do about it and never carry
//! internals: the underlying error is logged, not sent.

use std::net::SocketAddr;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

/// How an answer is written: JSON for the browser app and API clients,
/// plain text for a browser showing the answer as a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// `application/json`.
    Json,
    /// `text/plain`.
    Text,
}

/// The RFC 6750 challenge of a 401.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Challenge {
    /// `Bearer`: the credential (a refresh cookie) is not usable.
    Bearer,
    /// `Bearer error="invalid_request"`: no usable credential was sent.
    InvalidRequest,
    /// `Bearer error="invalid_token"`: the token failed verification.
    InvalidToken,
    /// `DPoP error="invalid_dpop_proof"` (RFC 9449 §7.1): the refresh lacks
    /// a valid proof from the key its session is bound to.
    InvalidDpopProof,
    /// `DPoP error="invalid_token"` (RFC 9449 §7.1): a token bound to a key,
    /// sent as a bearer token (or an unbound one sent as DPoP).
    DpopInvalidToken,
}

/// A request that cannot be served as asked.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// 401 with a `WWW-Authenticate` challenge and a JSON body.
    #[error("unauthenticated: {message}")]
    Unauthenticated {
        /// Which challenge.
        challenge: Challenge,
        /// What was wrong, for the client's developer.
        message: &'static str,
    },
    /// 403: another site sent this state-changing request.
    #[error("cross-site request refused")]
    CrossSite(Shape),
    /// 403: no CSRF token, or one not valid for this session.
    #[error("missing or invalid CSRF token")]
    BadCsrfToken(Shape),
    /// 413: the body is larger than this endpoint reads.
    #[error("request body too large")]
    TooLarge,
    /// 429 with `Retry-After`.
    #[error("throttled for {}s", .0.retry_after_secs)]
    Throttled(engine::throttle::Throttled),
    /// 503 with `Retry-After`: a store did not answer.
    #[error("unavailable: {source}")]
    Unavailable {
        /// How to answer.
        shape: Shape,
        /// Why (logged, never sent).
        source: engine::Error,
    },
    /// 500: a bug or a broken invariant (logged, never sent).
    #[error("internal error: {0}")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// What a stale or forged form's caller is told (the hydrated app shows the
/// server-function error's message next to the form).
const STALE_FORM: &str = "This page has expired or the request did not come from this site. Reload the page and try again.";

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        match &self {
            Self::Unavailable { source, .. } => {
                tracing::error!(error = %source, "store unavailable")
            }
            Self::Internal(source) => tracing::error!(error = %source, "internal error"),
            Self::CrossSite(_) | Self::BadCsrfToken(_) | Self::TooLarge => {
                // Anyone can cause these: at most a line a second.
                static WARNED: engine::log_budget::LogBudget = engine::log_budget::LogBudget::new();
                if let Some(left_out) = WARNED.allow() {
                    tracing::warn!(refusal = %self, left_out, "refused a state-changing request");
                }
            }
            _ => {}
        }
        let mut res = match self {
            Self::Unauthenticated { challenge, message } => {
                let (error, value) = match challenge {
                    Challenge::Bearer => ("unauthorized", "Bearer"),
                    Challenge::InvalidRequest => {
                        ("invalid_request", "Bearer error=\"invalid_request\"")
                    }
                    Challenge::InvalidToken => ("invalid_token", "Bearer error=\"invalid_token\""),
                    Challenge::InvalidDpopProof => (
                        "invalid_dpop_proof",
                        "DPoP algs=\"ES256\", error=\"invalid_dpop_proof\"",
                    ),
                    Challenge::DpopInvalidToken => (
                        "invalid_token",
                        "DPoP algs=\"ES256\", error=\"invalid_token\"",
                    ),
                };
                let mut res = (
                    StatusCode::UNAUTHORIZED,
                    Json(json!({ "error": error, "message": message })),
                )
                    .into_response();
                res.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
                res
            }
            Self::CrossSite(shape) => forbidden(
                shape,
                "This request came from another site and was refused.",
            ),
            Self::BadCsrfToken(shape) => forbidden(shape, STALE_FORM),
            Self::TooLarge => {
                (StatusCode::PAYLOAD_TOO_LARGE, "The request is too large.").into_response()
            }
            Self::Throttled(throttled) => {
                let mut res = (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"error": "too_many_requests", "message": throttled.to_string()})),
                )
                    .into_response();
                res.headers_mut().insert(
                    header::RETRY_AFTER,
                    HeaderValue::from(throttled.retry_after_secs),
                );
                return res;
            }
            Self::Unavailable { shape, .. } => {
                let mut res = match shape {
                    Shape::Json => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        Json(json!({"error": "unavailable", "message": "Please try again in a moment."})),
                    )
                        .into_response(),
                    Shape::Text => (
                        StatusCode::SERVICE_UNAVAILABLE,
                        "The service is temporarily unavailable. Please try again in a moment.",
                    )
                        .into_response(),
                };
                res.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
                return res;
            }
            Self::Internal(_) => {
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"error": "internal"})),
                )
                    .into_response()
            }
        };
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        res
    }
}

/// A 403, in the server-function error format for the hydrated app (so its
/// form shows the message) or as plain text.
fn forbidden(shape: Shape, message: &'static str) -> Response {
    match shape {
        Shape::Text => (StatusCode::FORBIDDEN, message).into_response(),
        Shape::Json => {
            let body = serde_json::to_string(&app::error::AppError::StaleForm).unwrap_or_default();
            (
                StatusCode::FORBIDDEN,
                [(header::CONTENT_TYPE, "application/json")],
                body,
            )
                .into_response()
        }
    }
}

/// Why the server could not start (or stopped serving).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The configuration was rejected.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The stores could not be opened.
    #[error(transparent)]
    Storage(#[from] engine::store::OpenError),
    /// The session engine rejected its settings.
    #[error("session engine: {0}")]
    Engine(#[source] engine::Error),
    /// A key file cannot be read, written or understood.
    #[error("signing keys: {}: {source}", path.display())]
    Keys {
        /// The file or folder.
        path: std::path::PathBuf,
        /// What went wrong.
        #[source]
        source: KeyProblem,
    },
    /// Production needs a signing key and the folder has none.
    #[error(
        "signing keys: no signing key in {}: create one with `server generate-key` \
         (or copy the shared keys of your other instances there)",
        .0.display()
    )]
    NoSigningKey(std::path::PathBuf),
    /// A route of the app declares no access rule.
    #[error("route {0} declares no access (public or session) in app::routes")]
    Undeclared(String),
    /// A route that needs a session is prerendered: its file would be
    /// served to anyone, without the session layer.
    #[error("route {0} needs a session but is prerendered: render it per request")]
    PrerenderedButProtected(String),
    /// The SMTP settings cannot be used.
    #[error("mail: {0}")]
    Mail(String),
    /// This build refuses to run here (the bench-only build).
    #[error("{0}")]
    Refused(&'static str),
    /// Creating the data directory failed.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The listening address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The accept loop failed.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// What was wrong with a key file.
#[derive(Debug, thiserror::Error)]
pub enum KeyProblem {
    /// Reading or writing it failed.
    #[error(transparent)]
    Io(#[from] std::io::Error),
    /// Its content is not a usable key.
    #[error(transparent)]
    Key(#[from] engine::jwt::JwtError),
    /// The CSRF secret file does not hold a 32-byte secret.
    #[error("not a CSRF secret")]
    NotACsrfSecret,
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(res: Response) -> String {
        let bytes = axum::body::to_bytes(res.into_body(), 4096).await.unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn internals_never_reach_the_client() {
        let secret = "connection refused at 10.0.0.7:5432";
        for err in [
            ServerError::Unavailable {
                shape: Shape::Json,
                source: engine::Error::Storage(secret.to_owned()),
            },
            ServerError::Unavailable {
                shape: Shape::Text,
                source: engine::Error::Storage(secret.to_owned()),
            },
            ServerError::Internal(engine::Error::Storage(secret.to_owned()).into()),
        ] {
            let res = err.into_response();
            assert!(res.status().is_server_error());
            assert!(!body(res).await.contains("10.0.0.7"));
        }
    }

    #[tokio::test]
    async fn each_refusal_keeps_its_status_and_headers() {
        let res = ServerError::Unauthenticated {
            challenge: Challenge::InvalidToken,
            message: "the access token is invalid or expired",
        }
        .into_response();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(
            res.headers()[header::WWW_AUTHENTICATE],
            "Bearer error=\"invalid_token\""
        );
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");

        let res = ServerError::Throttled(engine::throttle::Throttled {
            retry_after_secs: 7,
        })
        .into_response();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(res.headers()[header::RETRY_AFTER], "7");

        let res = ServerError::BadCsrfToken(Shape::Json).into_response();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
        assert_eq!(res.headers()[header::CACHE_CONTROL], "no-store");
    }
}
