//! System status: proves the SSR → server function → database path.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// What `/status` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusReport {
    /// The database backend in use.
    pub database: String,
    /// Number of applied schema migrations.
    pub migrations: i64,
    /// The version of this app.
    pub version: String,
}

/// Reads the database's migration state.
///
/// # Errors
/// A generic error if the database cannot be queried; the cause is logged.
#[server(client = crate::csrf::CsrfClient)]
pub async fn system_status() -> Result<StatusReport, AppError> {
    Reply::json("system_status")
        .run(async {
            let ctx = Require::nothing().check()?;
            let db = &ctx.db;
            let migrations = ctx
                .status
                .get(|| async { db.migrations_applied().await.map_err(|err| err.to_string()) })
                .await
                .map_err(|err| {
                    tracing::error!(error = %err, "status query failed");
                    AppError::Unavailable
                })?;
            Ok(StatusReport {
                database: ctx.db.backend().to_owned(),
                migrations,
                version: env!("CARGO_PKG_VERSION").to_owned(),
            })
        })
        .await
}

#[cfg(feature = "ssr")]
use super::{reply::Reply, require::Require};
