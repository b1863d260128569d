//! Server entry point: configuration, telemetry, then [`server::run`].

// As in the library: a release build inlines the page views' async
// renders into this crate, and laying them out needs more than the
// default depth.
#![recursion_limit = "256"]

use std::process::ExitCode;

/// mimalloc instead of the system allocator: with glibc, each password hash
/// (19 MiB) could stay behind in a different thread's arena, and a burst of
/// sign-ups grew the process by hundreds of MB (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in `mimalloc.h` (a stable public enum; the sys
/// crate has no constant for it).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Hands freed memory back to the system at once instead of after mimalloc's
/// default second: a burst of password hashes or renders then leaves no
/// resident memory behind. Measured: 22 MB at start instead of 39 MB, same
/// throughput (BENCHMARKS.md). `MIMALLOC_PURGE_DELAY` still overrides it.
fn return_freed_memory_promptly() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option, which mimalloc allows at any time
        // from any thread; the value 0 ("purge immediately") is documented.
        #[allow(unsafe_code)]
        unsafe {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0);
        }
    }
}

fn main() -> ExitCode {
    return_freed_memory_promptly();
    // File reads and password hashes run on blocking threads. A small pool
    // bounds the threads (and their memory) under many connections: work
    // beyond it waits in a queue.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build();
    match runtime {
        Ok(runtime) => runtime.block_on(start()),
        Err(err) => {
            eprintln!("cannot start the async runtime: {err}");
            ExitCode::FAILURE
        }
    }
}

async fn start() -> ExitCode {
    // A missing `.env` is normal; anything in it only fills unset variables.
    let _ = dotenvy::dotenv();

    let command = std::env::args().nth(1);
    if command.as_deref() == Some("routes") {
        // The route table as JSON, for the end-to-end suite's page lists.
        println!("{}", server::routes::table_json());
        return ExitCode::SUCCESS;
    }
    let config = match server::config::Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::FAILURE;
        }
    };
    server::telemetry::init(config.log_format);

    match command.as_deref() {
        None | Some("serve") => {}
        Some("generate-key") => {
            // Key rotation: add a key; after a restart it signs, and older
            // keys keep verifying the tokens they signed.
            return match server::keys::generate(&config.env.jwt_keys_dir) {
                Ok(path) => {
                    println!("{}", path.display());
                    ExitCode::SUCCESS
                }
                Err(err) => {
                    eprintln!("{err}");
                    ExitCode::FAILURE
                }
            };
        }
        Some(other) => {
            eprintln!(
                "unknown command {other:?}; expected `serve` (default), `generate-key` or `routes`"
            );
            return ExitCode::from(2);
        }
    }

    match server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}
