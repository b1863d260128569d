//! What server functions and SSR components may use, provided by the server
//! binary as Leptos context on every request.

use leptos::prelude::*;

use crate::error::AppError;

/// The dependencies of server functions, behind one `Arc`: the context is
/// cloned at every `use_context`, several times per request, and the
/// engine alone is a dozen shared handles.
#[derive(Clone, Debug)]
pub struct ServerContext(std::sync::Arc<Services>);

impl ServerContext {
    /// Shares `services` with every request.
    #[must_use]
    pub fn new(services: Services) -> Self {
        Self(std::sync::Arc::new(services))
    }
}

impl std::ops::Deref for ServerContext {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.0
    }
}

/// What [`ServerContext`] holds.
#[derive(Debug)]
pub struct Services {
    /// The session engine.
    pub auth: engine::Auth,
    /// The session cookie's policy.
    pub cookies: engine::CookiePolicy,
    /// Signs the CSRF tokens handed out at sign-in.
    pub csrf: engine::csrf::CsrfKey,
    /// Recognises browsers that signed in to an account before.
    pub device: engine::device::DeviceKey,
    /// Brute-force limits for sign-in and sign-up.
    pub throttle: std::sync::Arc<engine::throttle::Throttle>,
    /// The application database.
    pub db: engine::store::database::Database,
    /// The status page's last database read, reused for a moment (the page
    /// is public).
    pub status: std::sync::Arc<engine::recent::Recent<Result<i64, String>>>,
}

/// The request's [`ServerContext`].
///
/// # Errors
/// Fails only if the server forgot to provide the context, which is a wiring
/// bug; the message shown to the user stays generic.
pub fn ctx() -> Result<ServerContext, AppError> {
    use_context::<ServerContext>().ok_or_else(|| {
        tracing::error!("ServerContext missing from Leptos context");
        AppError::Internal
    })
}
