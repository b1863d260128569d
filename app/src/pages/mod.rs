//! One module per page.

pub mod about;
pub mod dashboard;
pub mod guides;
pub mod home;
pub mod login;
pub mod not_found;
pub mod sessions;
pub mod signup;
pub mod status;
