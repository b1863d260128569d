//! Token endpoints: refresh (cookie in, JWT out), the stateless APIs that
//! verify a bearer JWT without touching the database, and the JWKS.
//!
//! None of these go through the session layer: refresh has its own cookie,
//! and the APIs trust only the token's signature and claims.

use std::sync::Arc;

use app::{client_session::TokenResponse, session::ClientIp, session_clock::SessionTimes};
use axum::{
    extract::{Request, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Extension, Json,
};
use engine::{
    dpop::{self, KeyProof},
    jwt::{AccessClaims, Jwt},
    ClientInfo, RefreshOutcome, SessionToken,
};
use serde_json::json;

use crate::{
    cookies::{CookieValue, RequestCookies},
    error::{Challenge, ServerError, Shape},
    state::AppState,
};

/// `POST /api/auth/refresh`: rotates the refresh cookie and returns a fresh
/// access token for the database session behind it. Without a refresh
/// cookie: 204 (nobody is signed in). With a bad one, or one that arrives
/// without its own session's cookie: 401, refresh cookie cleared.
///
/// # Errors
/// 429 past the refresh rate limit, 503 when the store does not answer,
/// 500 if the token cannot be signed.
pub async fn refresh(
    State(state): State<AppState>,
    ip: Option<Extension<ClientIp>>,
    req: Request,
) -> Result<Response, ServerError> {
    let cookies = &state.cookies;
    let sent = RequestCookies::of(&req, cookies);
    let raw = match sent.refresh {
        CookieValue::One(raw) => raw,
        // Not signed in is not an error: static pages ask on every load.
        // Nothing to rotate, so no limit to count against (no bucket).
        CookieValue::Missing => return Ok(no_store(StatusCode::NO_CONTENT.into_response())),
        CookieValue::Ambiguous => {
            return Ok(refused(cookies, "refresh token sent more than once"));
        }
    };
    let ip = ip.map(|Extension(ip)| ip.0);
    state
        .throttle
        .check_refresh(ip)
        .await
        .map_err(ServerError::Throttled)?;
    // Who presented it: a replayed token's event names the replayer.
    let user_agent = req.headers().get(header::USER_AGENT);
    let client = ClientInfo::new(
        ip.map(|ip| ip.to_string()),
        user_agent.and_then(|v| v.to_str().ok()),
    );
    let unavailable = |source| ServerError::Unavailable {
        shape: Shape::Json,
        source,
    };
    let proof = proof_of(&state, req.headers()).await.map_err(unavailable)?;
    let key = match &proof {
        Ok(Some(proof)) => KeyProof::Key(&proof.jkt),
        Ok(None) => KeyProof::Absent,
        Err(why) => {
            tracing::debug!(refusal = %why, "DPoP proof refused");
            KeyProof::Invalid
        }
    };
    let session = sent.session.token().map(SessionToken::expose);
    let outcome = state
        .auth
        .refresh(&raw, session, key, &client)
        .await
        .map_err(unavailable)?;
    let (auth, rotated, key) = match outcome {
        RefreshOutcome::Refreshed { auth, rotated, key } => (auth, rotated, key),
        RefreshOutcome::Invalid => {
            return Ok(refused(
                cookies,
                "refresh token invalid, expired or revoked",
            ));
        }
        // The cookie stays: it may be the real browser's, whose key is
        // the one that counts.
        RefreshOutcome::Unbound => {
            return Err(ServerError::Unauthenticated {
                challenge: Challenge::InvalidDpopProof,
                message: "this session refreshes only with a proof from its own key",
            });
        }
    };
    let (token, claims) = state
        .jwt
        .issue_bound(&auth, state.auth.now(), key.as_deref())
        .map_err(|err| ServerError::Internal(err.into()))?;
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
    Ok(no_store(res))
}

/// The request's DPoP proof: none, one that verified and was not seen
/// before, or why not. Its `htu` is this endpoint at the public origin (in
/// development, at the `Host` the browser used).
///
/// # Errors
/// The shared store of used proofs failed.
async fn proof_of(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Result<Option<dpop::Proof>, dpop::ProofError>, engine::Error> {
    let mut values = headers.get_all(dpop::HEADER).iter();
    let value = match (values.next(), values.next()) {
        (None, _) => return Ok(Ok(None)),
        (Some(value), None) => value.to_str().unwrap_or_default(),
        (Some(_), Some(_)) => return Ok(Err(dpop::ProofError::Malformed)),
    };
    let origin = match &state.config.env.public_url {
        Some(origin) => origin.as_str().to_owned(),
        None => {
            let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
            format!("http://{}", host.unwrap_or_default())
        }
    };
    let now = state.auth.now();
    let proof = match dpop::verify(value, "POST", &format!("{origin}{REFRESH_PATH}"), now) {
        Ok(proof) => proof,
        Err(why) => return Ok(Err(why)),
    };
    Ok(state
        .proofs
        .first_use(&proof, now)
        .await?
        .map(|()| Some(proof)))
}

/// Where the refresh endpoint is (the `htu` its proofs name).
pub const REFRESH_PATH: &str = "/api/auth/refresh";

/// A 401 for an unusable refresh cookie, which it clears.
fn refused(cookies: &engine::CookiePolicy, message: &'static str) -> Response {
    let mut res = ServerError::Unauthenticated {
        challenge: Challenge::Bearer,
        message,
    }
    .into_response();
    crate::cookies::append(&mut res, &cookies.refresh_removal());
    res
}

/// `GET /api/me`: who the bearer token says you are. No database access.
///
/// # Errors
/// 401 without a valid bearer token.
pub async fn me(State(jwt): State<Arc<Jwt>>, headers: HeaderMap) -> Result<Response, ServerError> {
    let c = bearer_claims(&jwt, &headers)?;
    // Per token, and about a person: never stored by any cache.
    Ok(no_store(
        Json(json!({
            "user": { "id": c.sub, "name": c.name },
            "session": { "id": c.sid, "expires_at": c.session_exp },
            "token": { "issued_at": c.iat, "expires_at": c.exp, "id": c.jti },
        }))
        .into_response(),
    ))
}

/// `GET /api/validate-session`: whether the bearer token is valid, with its
/// claims. No database access: a revoked session's token is refused through
/// the in-memory deny-list the revocation feed keeps.
///
/// # Errors
/// 401 without a valid bearer token.
pub async fn validate_session(
    State(jwt): State<Arc<Jwt>>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let c = bearer_claims(&jwt, &headers)?;
    Ok(no_store(
        Json(json!({ "valid": true, "claims": c })).into_response(),
    ))
}

/// `GET /.well-known/jwks.json`: the public keys, for other services.
pub async fn jwks(State(jwt): State<Arc<Jwt>>) -> Response {
    let mut res = Json(jwt.jwks().clone()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

/// The claims of the request's bearer token (RFC 6750).
fn bearer_claims(jwt: &Jwt, headers: &HeaderMap) -> Result<AccessClaims, ServerError> {
    let missing = ServerError::Unauthenticated {
        challenge: Challenge::InvalidRequest,
        message: "a bearer token is required",
    };
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(missing);
    };
    let Some(token) = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
    else {
        return Err(missing);
    };
    jwt.verify(token).map_err(|err| {
        tracing::debug!(error = %err, "bearer token refused");
        ServerError::Unauthenticated {
            challenge: Challenge::InvalidToken,
            message: "the access token is invalid or expired",
        }
    })
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
