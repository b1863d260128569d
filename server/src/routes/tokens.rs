//! Token endpoints: refresh (cookie in, JWT out), the stateless APIs that
//! verify a bearer JWT without touching the database, and the JWKS.
//!
//! None of these go through the session layer: refresh has its own cookie,
//! and the APIs trust only the token's signature and claims.

use app::{client_session::TokenResponse, session::ClientIp, session_clock::SessionTimes};
use axum::{
    extract::State,
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use engine::{jwt::AccessClaims, RefreshOutcome};
use serde_json::json;

use crate::{cookies::CookieValue, state::AppState};

/// `POST /api/auth/refresh`: rotates the refresh cookie and returns a fresh
/// access token for the database session behind it. Without a refresh
/// cookie: 204 (nobody is signed in). With a bad one: 401, cookie cleared.
pub async fn refresh(
    State(state): State<AppState>,
    ip: Option<Extension<ClientIp>>,
    headers: HeaderMap,
) -> Response {
    if let Err(throttled) = state.throttle.check_refresh(ip.map(|Extension(ip)| ip.0)) {
        let mut res = (
            StatusCode::TOO_MANY_REQUESTS,
            Json(json!({"error": "too_many_requests", "message": throttled.to_string()})),
        )
            .into_response();
        if let Ok(value) = HeaderValue::from_str(&throttled.retry_after_secs.to_string()) {
            res.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return res;
    }
    let cookies = &state.cookies;
    let raw = match crate::cookies::find(&headers, cookies.refresh_name()) {
        CookieValue::One(raw) => raw,
        // Not signed in is not an error: static pages ask on every load.
        CookieValue::Missing => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            no_store(&mut res);
            return res;
        }
        CookieValue::Ambiguous => {
            let mut res = unauthorized("refresh token sent more than once", None);
            crate::cookies::append(&mut res, &cookies.refresh_removal());
            return res;
        }
    };
    match state.auth.refresh(&raw).await {
        Ok(RefreshOutcome::Refreshed { auth, rotated }) => {
            let (token, claims) = match state.jwt.issue(&auth, state.auth.now()) {
                Ok(issued) => issued,
                Err(err) => {
                    tracing::error!(error = %err, "cannot sign access token");
                    return (
                        StatusCode::INTERNAL_SERVER_ERROR,
                        Json(json!({"error": "internal"})),
                    )
                        .into_response();
                }
            };
            let body = TokenResponse {
                access_token: token,
                token_type: "Bearer".to_owned(),
                expires_in: claims.exp - claims.iat,
                expires_at: claims.exp,
                name: claims.name,
                session_expires_at: auth.session.expires_at.unix_timestamp(),
                session_idle_expires_at: auth.session.idle_expires_at.unix_timestamp(),
            };
            let mut res = Json(body).into_response();
            let times = SessionTimes::of(&auth, state.auth.policy(), state.auth.now());
            crate::session_layer::insert_times(&mut res, &times);
            if let Some(next) = rotated {
                let persist = auth.session.persistent.then_some(auth.session.expires_at);
                crate::cookies::append(&mut res, &cookies.refresh_cookie(next.expose(), persist));
            }
            no_store(&mut res);
            res
        }
        Ok(RefreshOutcome::Invalid) => {
            let mut res = unauthorized("refresh token invalid, expired or revoked", None);
            crate::cookies::append(&mut res, &cookies.refresh_removal());
            res
        }
        Err(err) => {
            tracing::error!(error = %err, "refresh failed");
            let mut res = (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"error": "unavailable", "message": "Please try again in a moment."})),
            )
                .into_response();
            res.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            res
        }
    }
}

/// `GET /api/me`: who the bearer token says you are. No database access.
pub async fn me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match bearer_claims(&state, &headers) {
        Ok(c) => Json(json!({
            "user": { "id": c.sub, "name": c.name },
            "session": { "id": c.sid, "expires_at": c.session_exp },
            "token": { "issued_at": c.iat, "expires_at": c.exp, "id": c.jti },
        }))
        .into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `GET /api/validate-session`: whether the bearer token is valid, with its
/// claims. No database access: a revoked session's token stays valid until
/// its `exp` (minutes).
pub async fn validate_session(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match bearer_claims(&state, &headers) {
        Ok(c) => Json(json!({ "valid": true, "claims": c })).into_response(),
        Err(refused) => refused.into_response(),
    }
}

/// `GET /.well-known/jwks.json`: the public keys, for other services.
pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = Json(state.jwt.jwks().clone()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// Why a bearer request was refused (RFC 6750 error codes).
enum Refused {
    /// No usable `Authorization: Bearer` header.
    MissingToken,
    /// The token failed verification.
    InvalidToken,
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        match self {
            Self::MissingToken => {
                unauthorized("a bearer token is required", Some("invalid_request"))
            }
            Self::InvalidToken => unauthorized(
                "the access token is invalid or expired",
                Some("invalid_token"),
            ),
        }
    }
}

fn bearer_claims(state: &AppState, headers: &HeaderMap) -> Result<AccessClaims, Refused> {
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(Refused::MissingToken);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or(Refused::MissingToken)?;
    state.jwt.verify(token).map_err(|err| {
        tracing::debug!(error = %err, "bearer token refused");
        Refused::InvalidToken
    })
}

/// A 401 with `WWW-Authenticate` (RFC 6750) and a JSON body.
fn unauthorized(message: &'static str, error: Option<&'static str>) -> Response {
    let mut res = (
        StatusCode::UNAUTHORIZED,
        Json(json!({ "error": error.unwrap_or("unauthorized"), "message": message })),
    )
        .into_response();
    let challenge = match error {
        Some("invalid_token") => "Bearer error=\"invalid_token\"",
        Some(_) => "Bearer error=\"invalid_request\"",
        None => "Bearer",
    };
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static(challenge),
    );
    no_store(&mut res);
    res
}

fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}
