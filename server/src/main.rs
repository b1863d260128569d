//! Server entry point: configuration, telemetry, then [`server::run`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
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
