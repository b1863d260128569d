//! Server entry point: configuration, telemetry, then [`server::run`].

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    // A missing `.env` is normal; anything in it only fills unset variables.
    let _ = dotenvy::dotenv();

    let config = match server::config::Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("configuration error: {err}");
            return ExitCode::FAILURE;
        }
    };
    server::telemetry::init(config.log_format);

    match server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "server stopped with an error");
            ExitCode::FAILURE
        }
    }
}
