//! What the engine stores and hands back.

use time::OffsetDateTime;

use crate::{id::SessionId, id::UserId, token::TokenHash};

/// One server-side session, as stored. Holds the token's hash, never the
/// token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SessionRecord {
    /// Public id (for lists and revocation).
    pub id: SessionId,
    /// The owner.
    pub user_id: UserId,
    /// SHA-256 of the session token.
    pub token_hash: TokenHash,
    /// When the session was created (at sign-in).
    pub created_at: OffsetDateTime,
    /// Last recorded activity (written at most once per touch interval).
    pub last_seen_at: OffsetDateTime,
    /// Sliding idle expiry.
    pub idle_expires_at: OffsetDateTime,
    /// Absolute expiry; never moves.
    pub expires_at: OffsetDateTime,
    /// "Remember me": persistent cookie and longer limits.
    pub persistent: bool,
    /// The client address at sign-in.
    pub ip_address: Option<String>,
    /// The client's `User-Agent` at sign-in, truncated.
    pub user_agent: Option<String>,
    /// Set once signed out or revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// When the user last proved a credential in this session: at sign-in,
    /// and again at each confirmation before a sensitive action
    /// ([`crate::Auth::confirm`]).
    pub authenticated_at: OffsetDateTime,
}

impl SessionRecord {
    /// Whether the session may be used at `now`.
    #[must_use]
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.revoked_at.is_none() && now < self.idle_expires_at && now < self.expires_at
    }
}

/// A user as the session layer needs it: no password hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserSummary {
    /// The user's id.
    pub id: UserId,
    /// The normalised sign-in name.
    pub username: String,
    /// The name as typed at sign-up.
    pub display_name: String,
    /// When the account was created.
    pub created_at: OffsetDateTime,
}

/// A validated session and its user: what a request carries once the
/// session layer has checked its cookie.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authenticated {
    /// The session, with its expiry as of this request.
    pub session: SessionRecord,
    /// Its owner.
    pub user: UserSummary,
}

/// Where a sign-in came from; stored with the session for the session list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's IP address, as decided by the trusted-proxy setting.
    pub ip_address: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
}

/// Longest `User-Agent` kept; longer values are cut (at a char boundary).
pub const MAX_USER_AGENT_LEN: usize = 512;

impl ClientInfo {
    /// Builds client info from untrusted header values, bounded in size.
    #[must_use]
    pub fn new(ip_address: Option<String>, user_agent: Option<&str>) -> Self {
        let user_agent = user_agent.map(|ua| {
            let mut end = ua.len().min(MAX_USER_AGENT_LEN);
            while !ua.is_char_boundary(end) {
                end -= 1;
            }
            ua[..end].to_owned()
        });
        Self {
            ip_address,
            user_agent,
        }
    }
}

/// Kinds of recorded authentication events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthEventKind {
    /// An account was created.
    SignUp,
    /// A successful sign-in.
    SignIn,
    /// A failed sign-in for an existing account.
    SignInFailed,
    /// The user signed out on this device.
    Logout,
    /// One session was revoked from the session list.
    Revoke,
    /// All other sessions were revoked.
    RevokeOthers,
    /// All sessions were revoked ("sign out everywhere").
    RevokeAll,
    /// A session was presented after its expiry.
    Expired,
    /// A rotated refresh token was replayed; the session was revoked.
    RefreshReuse,
    /// Failed sign-ins spent the account's budget: browsers it had not
    /// signed in from were refused for a while.
    SignInLocked,
    /// The user confirmed their password before a sensitive action.
    Confirmed,
    /// The password was changed; every other session was ended.
    PasswordChanged,
}

impl AuthEventKind {
    /// Stable storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::SignUp => "signup",
            Self::SignIn => "signin",
            Self::SignInFailed => "signin_failed",
            Self::Logout => "logout",
            Self::Revoke => "revoke",
            Self::RevokeOthers => "revoke_others",
            Self::RevokeAll => "revoke_all",
            Self::Expired => "expired",
            Self::RefreshReuse => "refresh_reuse",
            Self::SignInLocked => "signin_locked",
            Self::Confirmed => "confirmed",
            Self::PasswordChanged => "password_changed",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        [
            Self::SignUp,
            Self::SignIn,
            Self::SignInFailed,
            Self::Logout,
            Self::Revoke,
            Self::RevokeOthers,
            Self::RevokeAll,
            Self::Expired,
            Self::RefreshReuse,
            Self::SignInLocked,
            Self::Confirmed,
            Self::PasswordChanged,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// A short sentence for the UI.
    #[must_use]
    pub fn describe(self) -> &'static str {
        match self {
            Self::SignUp => "Account created",
            Self::SignIn => "Signed in",
            Self::SignInFailed => "Failed sign-in attempt",
            Self::Logout => "Signed out",
            Self::Revoke => "Signed out a device",
            Self::RevokeOthers => "Signed out all other devices",
            Self::RevokeAll => "Signed out everywhere",
            Self::Expired => "Session expired",
            Self::RefreshReuse => "Session ended: a refresh token was reused",
            Self::SignInLocked => {
                "Sign-in paused after repeated wrong passwords (browsers you had \
                 signed in from were not affected)"
            }
            Self::Confirmed => "Confirmed your password",
            Self::PasswordChanged => "Password changed; other devices were signed out",
        }
    }
}

/// A recorded authentication event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthEvent {
    /// What happened.
    pub kind: AuthEventKind,
    /// Short hash prefix of the session involved, if any.
    pub session_ref: Option<String>,
    /// Client address.
    pub ip_address: Option<String>,
    /// Client `User-Agent`.
    pub user_agent: Option<String>,
    /// When.
    pub created_at: OffsetDateTime,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_kinds_round_trip_through_storage_names() {
        for kind in [
            AuthEventKind::SignIn,
            AuthEventKind::RefreshReuse,
            AuthEventKind::RevokeAll,
        ] {
            assert_eq!(AuthEventKind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(AuthEventKind::parse("drop table"), None);
    }

    #[test]
    fn user_agent_is_bounded_at_a_char_boundary() {
        let ua = "é".repeat(1000);
        let info = ClientInfo::new(None, Some(&ua));
        let kept = info.user_agent.unwrap();
        assert!(kept.len() <= MAX_USER_AGENT_LEN);
        assert!(kept.chars().all(|c| c == 'é'));
    }
}
