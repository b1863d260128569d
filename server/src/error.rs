//! Start-up errors. Request-time errors are handled where they occur and
//! never carry internals to the client.

use std::net::SocketAddr;

/// Why the server could not start (or stopped serving).
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The configuration was rejected.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// The database could not be opened or created.
    #[error("cannot open the database: {0}")]
    Database(#[source] sqlx::Error),
    /// The session engine rejected its settings.
    #[error("session engine: {0}")]
    Engine(String),
    /// Signing keys are missing or unreadable.
    #[error("signing keys: {0}")]
    Keys(String),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Creating the data directory failed.
    #[error("cannot create data directory {path}: {source}")]
    DataDir {
        /// The directory.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The listening address is taken or not allowed.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The accept loop failed.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}
