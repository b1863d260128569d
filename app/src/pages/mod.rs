//! One module per page.

pub mod about;
pub mod confirm;
pub mod dashboard;
pub mod delete;
pub mod email;
pub mod forgot_password;
pub mod guides;
pub mod home;
pub mod link_sign_in;
pub mod login;
pub mod mailed_sign_in;
pub mod not_found;
pub mod passkeys;
pub mod password;
pub mod providers;
pub mod reset_password;
pub mod revert_email;
pub mod sessions;
pub mod signup;
pub mod status;
pub mod verify_email;
