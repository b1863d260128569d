//! Liveness and readiness probes for load balancers and orchestrators.

use axum::{extract::State, http::StatusCode, Json};
use serde_json::{json, Value};

use crate::state::AppState;

/// `GET /healthz`: the process is up. Touches nothing else.
pub async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: the database (and the session store, when separate)
/// answer, so requests can be served.
/// Answers 503 otherwise, so a load balancer takes this instance out.
pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.auth.ping().await {
        Ok(()) => (StatusCode::OK, Json(json!({ "status": "ready" }))),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "reason": "storage unreachable" })),
            )
        }
    }
}
