//! Reusable components.

pub mod auth_state;
pub mod form_error;
pub mod idle_prompt;
pub mod nav;
pub mod other_sessions;
pub mod passkey;
pub mod reauth_prompt;
pub mod session_panel;
