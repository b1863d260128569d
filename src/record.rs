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

/// An enum of stable storage names, declared once: each variant with its
/// name, so the variant, its name, [`Self::ALL`] and the parser can never
/// disagree (a kind missing from a hand-kept list used to vanish from the
/// dashboard silently).
macro_rules! stored_names {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $stored:literal,)+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)+
        }

        impl $name {
            /// Every kind, once, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant,)+];

            /// Stable storage name.
            #[must_use]
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $stored,)+
                }
            }

            /// Parses a stored name; `None` for one this build does not know.
            #[must_use]
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|k| k.as_str() == s)
            }
        }
    };
}
pub(crate) use stored_names;

stored_names! {
    /// Kinds of recorded authentication events. (The words the dashboard
    /// shows for each are the app's.)
    pub enum AuthEventKind {
        /// An account was created.
        SignUp = "signup",
        /// A successful sign-in.
        SignIn = "signin",
        /// A failed sign-in for an existing account.
        SignInFailed = "signin_failed",
        /// The user signed out on this device.
        Logout = "logout",
        /// One session was revoked from the session list.
        Revoke = "revoke",
        /// All other sessions were revoked.
        RevokeOthers = "revoke_others",
        /// All sessions were revoked ("sign out everywhere").
        RevokeAll = "revoke_all",
        /// A session was presented after its expiry.
        Expired = "expired",
        /// A rotated refresh token was replayed; the session was revoked.
        RefreshReuse = "refresh_reuse",
        /// A refresh without a proof from the session's bound key (DPoP):
        /// refused, the session left alone.
        RefreshUnbound = "refresh_unbound",
        /// Failed sign-ins spent the account's budget: browsers it had not
        /// signed in from were refused for a while.
        SignInLocked = "signin_locked",
        /// The user confirmed a credential before a sensitive action.
        Confirmed = "confirmed",
        /// The password was set or changed; every other session was ended.
        PasswordChanged = "password_changed",
        /// A passkey was added to the account.
        PasskeyAdded = "passkey_added",
        /// A passkey was removed from the account.
        PasskeyRemoved = "passkey_removed",
        /// A sign-in with a passkey.
        PasskeySignIn = "passkey_sign_in",
        /// The password was removed (the account signs in with its passkeys).
        PasswordRemoved = "password_removed",
        /// An email address was set on the account (unverified).
        EmailAdded = "email_added",
        /// The account's email address was verified.
        EmailVerified = "email_verified",
        /// A password reset link was sent to the account's address.
        PasswordResetRequested = "password_reset_requested",
        /// The password was reset from a mailed link; every session ended.
        PasswordReset = "password_reset",
        /// The address was changed, confirmed from the new one.
        EmailChanged = "email_changed",
        /// A sign-in with a link or code mailed to the account.
        EmailSignIn = "email_sign_in",
        /// The old address took the account back after a change ("it was
        /// not me"); every session ended.
        EmailReverted = "email_reverted",
        /// A sign-in with an identity provider ("Sign in with …").
        IdentitySignIn = "identity_sign_in",
        /// An identity at a provider was linked to the account.
        IdentityLinked = "identity_linked",
        /// An identity at a provider was unlinked from the account.
        IdentityUnlinked = "identity_unlinked",
    }
}

impl AuthEventKind {
    /// Whether someone other than the owner can cause this event at will
    /// (a stranger's wrong passwords lock the account; a cookie thief's
    /// refreshes are refused): stored as one counted line per kind and
    /// day, so they never push the owner's own events off the list.
    #[must_use]
    pub fn is_grouped(self) -> bool {
        matches!(self, Self::SignInLocked | Self::RefreshUnbound)
    }

    /// Whether this is a successful sign-in (or sign-up): failed sign-ins
    /// are counted since the latest of these.
    #[must_use]
    pub fn is_sign_in(self) -> bool {
        matches!(
            self,
            Self::SignIn
                | Self::SignUp
                | Self::PasskeySignIn
                | Self::EmailSignIn
                | Self::IdentitySignIn
        )
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

stored_names! {
    /// What a security notice is about. (Its words are the app's.)
    pub enum NoticeKind {
        /// A sign-in from a browser this account had not signed in from.
        NewDevice = "new_device",
        /// Wrong passwords were tried since the previous sign-in (`count`).
        FailedSignIns = "failed_sign_ins",
        /// A rotated refresh token was replayed, and its session ended.
        RefreshReuse = "refresh_reuse",
        /// A password was set or changed.
        PasswordChanged = "password_changed",
        /// The password was removed.
        PasswordRemoved = "password_removed",
        /// A passkey was added.
        PasskeyAdded = "passkey_added",
        /// A passkey was removed.
        PasskeyRemoved = "passkey_removed",
        /// The password was reset from a link mailed to the account.
        PasswordReset = "password_reset",
        /// The account's address was changed.
        EmailChanged = "email_changed",
        /// A change of address was undone from the old address, and every
        /// session ended.
        EmailReverted = "email_reverted",
        /// An identity at a provider was linked: it signs in now.
        IdentityLinked = "identity_linked",
        /// An identity at a provider was unlinked.
        IdentityUnlinked = "identity_unlinked",
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
    fn every_kind_round_trips_through_its_storage_name() {
        for &kind in AuthEventKind::ALL {
            assert_eq!(AuthEventKind::parse(kind.as_str()), Some(kind));
        }
        for &kind in NoticeKind::ALL {
            assert_eq!(NoticeKind::parse(kind.as_str()), Some(kind));
        }
        let names: std::collections::HashSet<_> =
            AuthEventKind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(names.len(), AuthEventKind::ALL.len(), "names are distinct");
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
