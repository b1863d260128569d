//! What server functions and SSR components may use, provided by the server
//! binary as Leptos context on every request.

use leptos::prelude::*;

use crate::error::AppError;

/// Shared, cheaply clonable dependencies of server functions.
#[derive(Clone, Debug)]
pub struct ServerContext {
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
