//! The server: wires the session engine, the Leptos app and axum together.
//!
//! - [`config`]: typed configuration, parsed and validated once at start-up.
//! - [`state`]: the shared state, and the part each layer takes.
//! - [`routes`]: the router, its layers and the non-Leptos endpoints.
//! - [`access`]: which pages need a session (from the app's route table).
//! - [`error`]: one error type for every request-time refusal.
//! - [`telemetry`]: structured logging.

pub mod access;
#[cfg(feature = "bench-bypass")]
pub mod bench_bypass;
pub mod client_ip;
pub mod config;
pub mod cookies;
pub mod csp;
pub mod csrf;
pub mod db;
pub mod error;
pub mod headers;
pub mod keys;
pub mod limits;
pub mod routes;
pub mod session_layer;
pub mod state;
pub mod static_pages;
pub mod tasks;
pub mod telemetry;

use std::net::SocketAddr;

use axum::serve::ListenerExt as _;
use tokio::net::TcpListener;

pub use crate::{config::Config, error::StartupError, state::AppState};

/// Builds everything, prerenders the static routes, then serves until
/// Ctrl-C or SIGTERM.
///
/// # Errors
/// Any start-up failure (database, migrations, binding the port).
pub async fn run(config: Config) -> Result<(), StartupError> {
    #[cfg(feature = "bench-bypass")]
    bench_bypass::guard(config.app_env)?;
    let listener = TcpListener::bind(config.leptos.site_addr)
        .await
        .map_err(|source| StartupError::Bind {
            addr: config.leptos.site_addr,
            source,
        })?;
    let (state, static_routes) = AppState::build(config).await?;
    static_routes.generate(&state.leptos).await;
    serve(listener, state).await
}

/// Serves `state`'s router on an already bound listener (tests bind port 0).
///
/// # Errors
/// An I/O error from the accept loop.
pub async fn serve(listener: TcpListener, state: AppState) -> Result<(), StartupError> {
    let addr = listener.local_addr().map_err(StartupError::Serve)?;
    let (stop_tasks, stopped) = tokio::sync::watch::channel(false);
    let purge = tokio::spawn(tasks::purge_expired_sessions(
        state.auth.clone(),
        state.throttle.clone(),
        state.config.cleanup_interval,
        stopped,
    ));
    let app = routes::router(state);
    tracing::info!(%addr, "listening on http://{addr}");

    // Nagle's algorithm delays the second write of a response by up to 40 ms
    // on kept-alive connections; responses here are small and latency-bound.
    let listener = listener.tap_io(|tcp| {
        if let Err(err) = tcp.set_nodelay(true) {
            tracing::warn!(error = %err, "could not set TCP_NODELAY");
        }
    });
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .map_err(StartupError::Serve)?;

    let _ = stop_tasks.send(true);
    let _ = purge.await;
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(err) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %err, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(err) => {
                tracing::error!(error = %err, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();

    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
