//! The 404 status of [`super::NotFound`]: server-only, as only the server
//! sends a status. The browser build compiles the no-op twin (`browser.rs`).

use leptos::prelude::*;

/// Makes this response a 404.
pub fn set_status() {
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
}
