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
pub mod credential_gate;
pub mod csp;
pub mod csrf;
pub mod db;
pub mod error;
pub mod headers;
pub mod keys;
pub mod limits;
pub mod origin;
pub mod routes;
pub mod server_fn_errors;
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
    bench_bypass::guard(config.env.app_env)?;
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
    let env = &state.config.env;
    let purge = tokio::spawn(tasks::purge_expired_sessions(
        state.auth.clone(),
        (env.session_cleanup_interval, env.auth_events_retention),
        stopped.clone(),
    ));
    let follow = tokio::spawn(tasks::follow_revocations(
        state.auth.clone(),
        stopped.clone(),
    ));
    let sweep = tokio::spawn(tasks::sweep_limiters(state.throttle.clone(), stopped));
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
    let _ = tokio::join!(purge, follow, sweep);
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

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    /// The top-level modules each module of this crate names with `crate::…`.
    fn imports() -> BTreeMap<String, BTreeSet<String>> {
        fn walk(dir: &std::path::Path, files: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                if path.is_dir() {
                    walk(&path, files);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        walk(&root, &mut files);
        let mut graph = BTreeMap::<String, BTreeSet<String>>::new();
        for file in files {
            let rel = file.strip_prefix(&root).unwrap();
            let module = rel.iter().next().unwrap().to_string_lossy();
            let module = module.trim_end_matches(".rs").to_owned();
            if module == "lib" || module == "main" {
                continue;
            }
            let source = std::fs::read_to_string(&file).unwrap();
            let named = graph.entry(module.clone()).or_default();
            for (at, _) in source.match_indices("crate::") {
                named.extend(first_segments(&source[at + "crate::".len()..]));
            }
            named.remove(&module);
        }
        graph
    }

    /// The first path segment of `a::b` or of each entry of `{a::b, c}`.
    fn first_segments(path: &str) -> Vec<String> {
        let ident = |s: &str| -> String {
            s.trim_start()
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect()
        };
        let Some(inner) = path.strip_prefix('{') else {
            return vec![ident(path)];
        };
        let (mut depth, mut entries, mut start) = (0, Vec::new(), 0);
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    entries.push(ident(&inner[start..i]));
                    break;
                }
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    entries.push(ident(&inner[start..i]));
                    start = i + 1;
                }
                _ => {}
            }
        }
        entries.retain(|e| !e.is_empty());
        entries
    }

    /// No two modules import each other, directly or through others: each
    /// concept can be read (and changed) starting from the ones it builds on.
    #[test]
    fn the_modules_import_each_other_in_no_loop() {
        let graph = imports();
        assert!(graph.len() > 10, "{graph:?}");
        fn reaches(
            graph: &BTreeMap<String, BTreeSet<String>>,
            from: &str,
            to: &str,
            seen: &mut BTreeSet<String>,
        ) -> bool {
            graph.get(from).into_iter().flatten().any(|next| {
                next == to || (seen.insert(next.clone()) && reaches(graph, next, to, seen))
            })
        }
        for module in graph.keys() {
            assert!(
                !reaches(&graph, module, module, &mut BTreeSet::new()),
                "{module} imports itself through {:?}",
                graph[module]
            );
        }
    }
}
