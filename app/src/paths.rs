//! The paths of pages that server functions send people to, named once
//! (the route table in `routes.rs` declares the same paths).

/// The sign-in page; `?next=` says where to go afterwards.
pub const LOGIN: &str = "/login";

/// Where a credential is confirmed; `?next=` says where to go afterwards.
pub const CONFIRM: &str = "/account/confirm";

/// The passkey list.
pub const PASSKEYS: &str = "/account/passkeys";

/// The password page.
pub const PASSWORD: &str = "/account/password";

/// The account's email address.
pub const EMAIL: &str = "/account/email";

/// Where a verification link leads (`?token=`).
pub const VERIFY_EMAIL: &str = "/verify-email";

/// Where the link that undoes a change of address leads (`?token=`).
pub const REVERT_EMAIL: &str = "/revert-email";

/// Where a sign-in link and code are asked for (`?sent=1`: the code form).
pub const MAILED_SIGN_IN: &str = "/login/email";

/// Where a sign-in link leads (`?token=`).
pub const LINK_SIGN_IN: &str = "/login/link";

/// Where a password reset is asked for.
pub const FORGOT_PASSWORD: &str = "/forgot-password";

/// Where a reset link leads (`?token=`).
pub const RESET_PASSWORD: &str = "/reset-password";

/// The account's identities at sign-in providers.
pub const PROVIDERS: &str = "/account/providers";

/// The session list.
pub const SESSIONS: &str = "/account/sessions";
