//! Server entry point: configuration, telemetry, then [`server::run`].

use std::process::ExitCode;

/// mimalloc instead of the system allocator: with glibc, each password hash
/// (19 MiB) could stay behind in a different thread's arena, and a burst of
/// sign-ups grew the process by hundreds of MB (see BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
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
            return match server::keys::generate(&config.keys_dir) {
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
            eprintln!("unknown command {other:?}; expected `serve` (default) or `generate-key`");
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
