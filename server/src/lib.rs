//! The server: wires the session engine, the Leptos app and axum together.
//!
//! - [`config`]: typed configuration, parsed and validated once at start-up.
//! - [`state`]: the shared state, and the part each layer takes.
//! - [`routes`]: the router, its layers and the non-Leptos endpoints.
//! - [`access`]: which pages need a session (from the app's route table).
//! - [`error`]: one error type for every request-time refusal.
//! - [`telemetry`]: structured logging.

// The app's page views are deeply nested types; laying out their async
// renders needs more than the default depth.
#![recursion_limit = "256"]

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
pub mod mailbox;
pub mod origin;
pub mod routes;
pub mod server_fn_errors;
pub mod session_layer;
pub mod smtp;
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
    let sweep = tokio::spawn(tasks::sweep_limiters(
        state.throttle.clone(),
        stopped.clone(),
    ));
    let discovery = (!state.auth.identity_providers().is_empty()).then(|| {
        tokio::spawn(tasks::discover_providers(
            state.auth.clone(),
            stopped.clone(),
        ))
    });
    let sender = state
        .smtp
        .clone()
        .map(|smtp| tokio::spawn(smtp::send_outbox(state.auth.clone(), smtp, stopped)));
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
    if let Some(discovery) = discovery {
        let _ = discovery.await;
    }
    if let Some(sender) = sender {
        let _ = sender.await;
    }
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
    //! No two modules import each other, directly or through others, in
    //! any of the three crates: each concept can be read (and changed)
    //! starting from the ones it builds on.

    use std::{
        collections::{BTreeMap, BTreeSet},
        path::{Path, PathBuf},
    };

    /// Every `.rs` file under `dir`.
    fn files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    /// A file's module, as its path from the crate root: `auth/sign_in`
    /// (`auth/mod.rs` is `auth`, `lib.rs` the root, ``).
    fn module_of(rel: &Path) -> Vec<String> {
        let mut parts: Vec<String> = rel
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        if matches!(
            parts.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            parts.pop();
        }
        parts
    }

    /// The paths named after `crate::`, `super::` or `self::` at `text`,
    /// with `{…}` groups expanded (`a::{b, c::d}` → `a::b`, `a::c::d`).
    fn paths(text: &str) -> Vec<Vec<String>> {
        fn segment(s: &str) -> (&str, &str) {
            let s = s.trim_start();
            let end = s
                .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                .unwrap_or(s.len());
            (&s[..end], &s[end..])
        }
        fn walk(text: &str, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
            let mut path = prefix.to_vec();
            let mut rest = text;
            loop {
                let trimmed = rest.trim_start();
                if let Some(group) = trimmed.strip_prefix('{') {
                    let mut at = text.len() - group.len();
                    loop {
                        at += walk(&text[at..], &path, out);
                        let tail = text[at..].trim_start();
                        let skipped = text.len() - at - tail.len();
                        at += skipped;
                        match tail.chars().next() {
                            Some(',') => at += 1,
                            Some('}') => return at + 1,
                            _ => return at,
                        }
                    }
                }
                let (name, after) = segment(trimmed);
                if name.is_empty() {
                    out.push(path);
                    return text.len() - trimmed.len();
                }
                path.push(name.to_owned());
                match after.strip_prefix("::") {
                    Some(more) => rest = more,
                    None => {
                        out.push(path);
                        return text.len() - after.len();
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(text, &[], &mut out);
        out
    }

    /// Module → the modules it names (never its own ancestors or
    /// descendants: a module and its parts are one concept).
    fn imports(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
        let mut found = Vec::new();
        files(root, &mut found);
        let modules: BTreeSet<Vec<String>> = found
            .iter()
            .map(|f| module_of(f.strip_prefix(root).unwrap()))
            .collect();
        let resolve = |path: Vec<String>| {
            (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|p| modules.contains(p))
        };
        let mut graph = BTreeMap::<String, BTreeSet<String>>::new();
        for file in &found {
            let rel = file.strip_prefix(root).unwrap();
            let module = module_of(rel);
            let source: String = std::fs::read_to_string(file)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let named = graph.entry(module.join("/")).or_default();
            for (anchor, base) in [
                ("crate::", Vec::new()),
                // `super` is the module's parent, whether it is a file
                // (`fns/auth.rs`) or a folder (`auth/mod.rs`).
                ("super::", module[..module.len().saturating_sub(1)].to_vec()),
            ] {
                for (at, _) in source.match_indices(anchor) {
                    // `foo_crate::` or `my_super::` are not anchors.
                    let before = source[..at].chars().next_back();
                    if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                        continue;
                    }
                    for path in paths(&source[at + anchor.len()..]) {
                        let mut full = base.clone();
                        let mut path = path.as_slice();
                        while path.first().map(String::as_str) == Some("super") {
                            full.pop();
                            path = &path[1..];
                        }
                        full.extend(path.iter().cloned());
                        let Some(target) = resolve(full) else {
                            continue;
                        };
                        let related = target.starts_with(&module) || module.starts_with(&target);
                        if !related {
                            named.insert(target.join("/"));
                        }
                    }
                }
            }
        }
        graph
    }

    /// Panics with the loop if `graph` has one.
    fn assert_no_loop(crate_name: &str, graph: &BTreeMap<String, BTreeSet<String>>) {
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
                !reaches(graph, module, module, &mut BTreeSet::new()),
                "{crate_name}: {module} imports itself through {:?}",
                graph[module]
            );
        }
    }

    #[test]
    fn the_modules_import_each_other_in_no_loop() {
        let here = Path::new(env!("CARGO_MANIFEST_DIR"));
        for (name, root) in [
            ("server", here.join("src")),
            ("engine", here.join("../src")),
            ("app", here.join("../app/src")),
        ] {
            let graph = imports(&root);
            assert!(graph.len() > 10, "{name}: {graph:?}");
            assert_no_loop(name, &graph);
        }
    }

    #[test]
    fn a_loop_is_found_however_it_is_written() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let path = dir.path().join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        };
        write("lib.rs", "pub mod fns; pub mod other;");
        write("fns/mod.rs", "pub mod auth; pub mod security;");
        write("fns/auth.rs", "use super::security::Form;");
        write(
            "fns/security.rs",
            "use crate::{other::X, fns::{auth::{admit, Admitted}}};",
        );
        write("other.rs", "// crate::fns is only mentioned");
        let graph = imports(dir.path());
        assert_eq!(
            graph["fns/auth"],
            BTreeSet::from(["fns/security".to_owned()])
        );
        assert_eq!(
            graph["fns/security"],
            BTreeSet::from(["fns/auth".to_owned(), "other".to_owned()])
        );
        assert!(graph["other"].is_empty(), "comments do not count");
        let found = std::panic::catch_unwind(|| assert_no_loop("test", &graph));
        assert!(found.is_err(), "fns/auth <-> fns/security");
    }
}
