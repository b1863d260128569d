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
    /// The client address at the last recorded activity (written with the
    /// throttled touch); `None` until then.
    pub last_ip_address: Option<String>,
    /// The `User-Agent` at the last recorded activity.
    pub last_user_agent: Option<String>,
    /// Set once signed out or revoked.
    pub revoked_at: Option<OffsetDateTime>,
    /// When the user last proved a credential in this session: at sign-in,
    /// and again at each confirmation before a sensitive action
    /// ([`crate::Auth::confirm`]).
    pub authenticated_at: OffsetDateTime,
    /// When the user last proved a credential *within* this session (a
    /// confirmation), as opposed to the sign-in that began it: adding a
    /// credential needs one, so a stolen session cannot add its own
    /// ([`crate::Auth::is_confirmed`]). `None` until the first.
    pub confirmed_at: Option<OffsetDateTime>,
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

/// An account as sign-in needs it: its password hash (`None` for an
/// account made with a passkey alone) and its credentials version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    /// The account.
    pub user: UserSummary,
    /// Argon2id PHC string, if the account has a password.
    pub password_hash: Option<String>,
    /// Moves on whenever the account's credentials change (a password set,
    /// changed or removed, a passkey removed) or its owner signs out
    /// everywhere. A sign-in checks it did not move while it ran, and a
    /// device cookie names the version it was issued at.
    pub credentials_version: i64,
}

/// Where a sign-in came from; stored with the session for the session list.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClientInfo {
    /// The client's IP address, as decided by the trusted-proxy setting.
    pub ip_address: Option<String>,
    /// The `User-Agent` header.
    pub user_agent: Option<String>,
    /// Whether this browser has signed in to the account before (it carries
    /// the account's device cookie, [`crate::device`]): a sign-in from any
    /// other browser gives its owner a [`NoticeKind::NewDevice`] notice.
    pub known_device: bool,
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
            known_device: false,
        }
    }

    /// The same client, known (or not) to the account it signs in to.
    #[must_use]
    pub fn with_known_device(self, known_device: bool) -> Self {
        Self {
            known_device,
            ..self
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
    /// A refresh without a proof from the session's bound key (DPoP): refused,
    /// the session left alone.
    RefreshUnbound,
    /// Failed sign-ins spent the account's budget: browsers it had not
    /// signed in from were refused for a while.
    SignInLocked,
    /// The user confirmed their password before a sensitive action.
    Confirmed,
    /// The password was changed; every other session was ended.
    PasswordChanged,
    /// A passkey was added to the account.
    PasskeyAdded,
    /// A passkey was removed from the account.
    PasskeyRemoved,
    /// A sign-in with a passkey.
    PasskeySignIn,
    /// The password was removed (the account signs in with its passkeys).
    PasswordRemoved,
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
            Self::RefreshUnbound => "refresh_unbound",
            Self::SignInLocked => "signin_locked",
            Self::Confirmed => "confirmed",
            Self::PasswordChanged => "password_changed",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
            Self::PasskeySignIn => "passkey_sign_in",
            Self::PasswordRemoved => "password_removed",
        }
    }

    /// Whether someone other than the owner can cause this event at will
    /// (a stranger's wrong passwords lock the account; a cookie thief's
    /// refreshes are refused): stored as one counted line per kind and
    /// day, so they never push the owner's own events off the list.
    #[must_use]
    pub fn is_grouped(self) -> bool {
        matches!(self, Self::SignInLocked | Self::RefreshUnbound)
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
            Self::RefreshUnbound,
            Self::SignInLocked,
            Self::Confirmed,
            Self::PasswordChanged,
            Self::PasskeyAdded,
            Self::PasskeyRemoved,
            Self::PasskeySignIn,
            Self::PasswordRemoved,
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
            Self::RefreshUnbound => "Refused a refresh from another device's key",
            Self::SignInLocked => {
                "Sign-in paused after repeated wrong passwords (browsers you had \
                 signed in from were not affected)"
            }
            Self::Confirmed => "Confirmed your password",
            Self::PasswordChanged => "Password changed; other devices were signed out",
            Self::PasskeyAdded => "Added a passkey",
            Self::PasskeyRemoved => "Removed a passkey",
            Self::PasskeySignIn => "Signed in with a passkey",
            Self::PasswordRemoved => "Removed the password; passkeys sign in",
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
    /// When (for a grouped kind, the latest of the day's).
    pub created_at: OffsetDateTime,
    /// How many times: 1, or more for a kind
    /// [`AuthEventKind::is_grouped`] on one day.
    pub count: u64,
}

/// What a security notice is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoticeKind {
    /// A sign-in from a browser this account had not signed in from.
    NewDevice,
    /// Wrong passwords were tried since the previous sign-in (`count`).
    FailedSignIns,
    /// A rotated refresh token was replayed, and its session ended.
    RefreshReuse,
    /// A password was set or changed.
    PasswordChanged,
    /// The password was removed.
    PasswordRemoved,
    /// A passkey was added.
    PasskeyAdded,
    /// A passkey was removed.
    PasskeyRemoved,
}

impl NoticeKind {
    /// Every kind, once.
    pub const ALL: [Self; 7] = [
        Self::NewDevice,
        Self::FailedSignIns,
        Self::RefreshReuse,
        Self::PasswordChanged,
        Self::PasswordRemoved,
        Self::PasskeyAdded,
        Self::PasskeyRemoved,
    ];

    /// Stable storage name.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NewDevice => "new_device",
            Self::FailedSignIns => "failed_sign_ins",
            Self::RefreshReuse => "refresh_reuse",
            Self::PasswordChanged => "password_changed",
            Self::PasswordRemoved => "password_removed",
            Self::PasskeyAdded => "passkey_added",
            Self::PasskeyRemoved => "passkey_removed",
        }
    }

    /// Parses a stored name.
    #[must_use]
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Something the account's owner should see on the dashboard until they
/// dismiss it (the event log keeps the history either way).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// What it is about.
    pub kind: NoticeKind,
    /// How many (failed sign-ins); 0 where no count applies.
    pub count: u64,
    /// Address of the client it concerns (the new browser, the replayer).
    pub ip_address: Option<String>,
    /// That client's `User-Agent`.
    pub user_agent: Option<String>,
    /// When.
    pub created_at: OffsetDateTime,
}

/// What the dashboard shows of an account's recent history.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Activity {
    /// Notices not yet dismissed, newest first.
    pub notices: Vec<StoredNotice>,
    /// Events, newest first, without failed sign-ins.
    pub events: Vec<AuthEvent>,
}

/// A stored notice, with the id that dismisses it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredNotice {
    /// Store-assigned, unique per deployment.
    pub id: i64,
    /// The notice.
    pub notice: Notice,
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
        for kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
        }
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
