//! Structured logging through `tracing`.
//!
//! `RUST_LOG` filters (default: `info` for this app, `warn` for the rest).
//! Spans name the matched route, never the raw URI, so tokens that a client
//! wrongly put in a query string do not reach the logs.

use serde::Deserialize;
use tracing_subscriber::{fmt, layer::SubscriberExt as _, util::SubscriberInitExt as _, EnvFilter};

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human-readable, for a terminal.
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

impl LogFormat {
    /// The format when `LOG_FORMAT` is unset: JSON in production.
    #[must_use]
    pub fn default_for(production: bool) -> Self {
        if production {
            Self::Json
        } else {
            Self::Pretty
        }
    }
}

const DEFAULT_FILTER: &str = "warn,server=info,app=info,engine=info,tower_http=info";

/// Installs the global subscriber. Safe to call more than once (tests):
/// later calls are ignored.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let registry = tracing_subscriber::registry().with(filter);
    let _ = match format {
        LogFormat::Pretty => registry.with(fmt::layer().compact()).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(false),
            )
            .try_init(),
    };
}
