//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{extract::State, http::StatusCode, Json};
use engine::revocation::FeedState;
use serde_json::{json, Value};
use time::format_description::well_known::Rfc3339;

use crate::state::AppState;

/// `GET /healthz`: the process is up. Touches nothing else.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database (and the session store, when separate)
/// answer, so requests can be served.
/// Answers 503 otherwise, so a load balancer takes this instance out.
///
/// Its `revocations` detail says whether this instance hears revocations
/// made on the others (`live`), or is running on the fallback bounds
/// (`down`, since when): still ready, as those bounds are safe, but worth
/// an operator's look.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let (feed, feed_state) = state.auth.revocation_feed();
    let revocations = match feed_state {
        FeedState::Starting => json!({ "feed": feed, "state": "starting" }),
        FeedState::Live => json!({ "feed": feed, "state": "live" }),
        FeedState::Down { since, .. } => json!({
            "feed": feed,
            "state": "down",
            "since": since.format(&Rfc3339).unwrap_or_default(),
            "fallback": "revocations elsewhere reach this instance within SESSION_CACHE_TTL, \
                         their access tokens at their expiry",
        }),
    };
    // One round trip a second at most, however often the probe is asked.
    let auth = &state.auth;
    let ping = state
        .readiness
        .get(|| async { auth.ping().await.map_err(|err| err.to_string()) })
        .await;
    match ping {
        Ok(()) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "revocations": revocations })),
        ),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "unavailable",
                    "reason": "storage unreachable",
                    "revocations": revocations,
                })),
            )
        }
    }
}
