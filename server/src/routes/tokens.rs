//! Token endpoints: refresh (cookie in, JWT out), the stateless APIs that
//! verify an access JWT without touching the database (with its DPoP proof
//! when it is bound to a key), and the JWKS.
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
        // Never cleared on ambiguity: the other cookie may have been planted
        // by a sibling subdomain (which a removal here cannot reach), and
        // clearing would sign the real browser out for it.
        CookieValue::Ambiguous => {
            return Err(ServerError::Unauthenticated {
                challenge: Challenge::Bearer,
                message: "refresh token sent more than once",
            });
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
    let proof = proof_of(&state, req.headers(), "POST", REFRESH_PATH, None)
        .await
        .map_err(unavailable)?;
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
        // RFC 9449 §5: a token bound to a key is a DPoP token.
        token_type: if key.is_some() { "DPoP" } else { "Bearer" }.to_owned(),
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

/// The request's DPoP proof for `method` on `path` (sent with
/// `access_token`, for a resource): none, one that verified and was not
/// seen before, or why not. Its `htu` is `path` at the public origin (in
/// development, at the `Host` the browser used).
///
/// # Errors
/// The shared store of used proofs failed.
async fn proof_of(
    state: &AppState,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    access_token: Option<&str>,
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
    let htu = format!("{origin}{path}");
    let proof = match dpop::verify(value, method, &htu, access_token, now) {
        Ok(proof) => proof,
        Err(why) => return Ok(Err(why)),
    };
    Ok(dpop::first_use(&state.proofs, &proof, now)
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

/// `GET /api/me`: who the access token says you are. No database access.
///
/// # Errors
/// 401 without a valid access token (and, for a DPoP-bound one, its proof).
pub async fn me(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let c = access_claims(&state, &headers, "/api/me").await?;
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

/// `GET /api/validate-session`: whether the access token is valid, with
/// its claims. No database access: a revoked session's token is refused
/// through the in-memory deny-list the revocation feed keeps.
///
/// # Errors
/// 401 without a valid access token (and, for a DPoP-bound one, its proof).
pub async fn validate_session(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, ServerError> {
    let c = access_claims(&state, &headers, "/api/validate-session").await?;
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

/// The claims of the request's access token, sent as RFC 9449 §7 asks: a
/// token bound to a key (`cnf.jkt`) counts only as `Authorization: DPoP`,
/// with a `DPoP` proof of that key for this request whose `ath` is the
/// token's hash, so a copied token is useless without the browser's
/// non-extractable key; an unbound token is a bearer token (RFC 6750).
async fn access_claims(
    state: &AppState,
    headers: &HeaderMap,
    path: &str,
) -> Result<AccessClaims, ServerError> {
    let missing = ServerError::Unauthenticated {
        challenge: Challenge::InvalidRequest,
        message: "an access token is required",
    };
    let mut values = headers.get_all(header::AUTHORIZATION).iter();
    let (Some(value), None) = (values.next(), values.next()) else {
        return Err(missing);
    };
    let Some((scheme, token)) = value.to_str().ok().and_then(|v| v.split_once(' ')) else {
        return Err(missing);
    };
    let token = token.trim();
    let bound_scheme = if scheme.eq_ignore_ascii_case("bearer") {
        false
    } else if scheme.eq_ignore_ascii_case("dpop") {
        true
    } else {
        return Err(missing);
    };
    let claims = state.jwt.verify(token).map_err(|err| {
        tracing::debug!(error = %err, "access token refused");
        ServerError::Unauthenticated {
            challenge: Challenge::InvalidToken,
            message: "the access token is invalid or expired",
        }
    })?;
    let Some(bound) = claims.cnf.as_ref().map(|cnf| cnf.jkt.as_str()) else {
        return if bound_scheme {
            Err(ServerError::Unauthenticated {
                challenge: Challenge::DpopInvalidToken,
                message: "this access token is not bound to a key: send it as a bearer token",
            })
        } else {
            Ok(claims)
        };
    };
    if !bound_scheme {
        return Err(ServerError::Unauthenticated {
            challenge: Challenge::DpopInvalidToken,
            message: "this access token is bound to a key: send it as DPoP, with a proof",
        });
    }
    let unavailable = |source| ServerError::Unavailable {
        shape: Shape::Json,
        source,
    };
    match proof_of(state, headers, "GET", path, Some(token))
        .await
        .map_err(unavailable)?
    {
        Ok(Some(proof)) if proof.jkt == bound => Ok(claims),
        outcome => {
            tracing::debug!(?outcome, "DPoP proof for an access token refused");
            Err(ServerError::Unauthenticated {
                challenge: Challenge::InvalidDpopProof,
                message: "this access token needs a proof from the key it is bound to",
            })
        }
    }
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}
