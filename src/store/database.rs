//! The SQL database, whichever backend opened it.
//!
//! `sqlite://…` (the default, no set-up) or `postgres://…` (several server
//! instances sharing one database). Both run the same queries
//! (`sql/mod.rs`) and keep their own migrations under `migrations/`. What
//! the server asks of the database beyond the stores (its name, the
//! migrations applied, closing it) is the [`SqlDatabase`] trait, which
//! each backend implements in its own module: nothing here names one.

use std::{any::Any, sync::Arc, time::Duration};

use async_trait::async_trait;

use crate::Error;

/// Pool settings, the same for every backend.
#[derive(Clone, Copy, Debug)]
pub struct PoolSettings {
    /// Most connections held at once.
    pub max_connections: u32,
    /// How long a request waits for a connection before failing (503)
    /// instead of hanging.
    pub acquire_timeout: Duration,
}

/// An open SQL database, as the server sees it beyond its stores.
#[async_trait]
pub trait SqlDatabase: Send + Sync + std::fmt::Debug + 'static {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// How many migrations have been applied.
    ///
    /// # Errors
    /// [`Error::Storage`] when the database does not answer.
    async fn migrations_applied(&self) -> Result<i64, Error>;

    /// Closes every connection (shutdown, and tests of a lost database).
    async fn close(&self);

    /// The backend's own value (its pool), for tests and tools.
    fn as_any(&self) -> &dyn Any;
}

/// The opened SQL database; cheap to clone.
#[derive(Clone, Debug)]
pub struct Database(Arc<dyn SqlDatabase>);

impl Database {
    /// Wraps a backend's database.
    #[must_use]
    pub fn new(db: impl SqlDatabase) -> Self {
        Self(Arc::new(db))
    }

    /// `sqlite` or `postgres`.
    #[must_use]
    pub fn backend(&self) -> &'static str {
        self.0.backend()
    }

    /// How many migrations have been applied.
    ///
    /// # Errors
    /// [`Error::Storage`] when the database does not answer.
    pub async fn migrations_applied(&self) -> Result<i64, Error> {
        self.0.migrations_applied().await
    }

    /// Closes every connection.
    pub async fn close(&self) {
        self.0.close().await;
    }

    /// The backend's own value, if it is a `T` (such as
    /// `engine::store::sqlite::SqliteDatabase`).
    #[must_use]
    pub fn downcast<T: 'static>(&self) -> Option<&T> {
        self.0.as_any().downcast_ref()
    }
}

/// `url` with any password hidden, for an error message about it
/// (`postgres://***@host/db`).
#[must_use]
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            format!("{}://***{}", &url[..scheme_end], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn redact_hides_the_password_only() {
        let shown = redact("postgres://app:s3cret@db.internal:5432/app");
        assert_eq!(shown, "postgres://***@db.internal:5432/app");
        assert_eq!(redact("sqlite://data/app.db"), "sqlite://data/app.db");
        assert_eq!(redact("redis://:pw@h:6379"), "redis://***@h:6379");
    }
}
