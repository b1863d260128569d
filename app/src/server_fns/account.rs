//! The signed-in user's account: dashboard data and its security notices,
//! the session list and revocation.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;

/// One session, as the UI shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionView {
    /// Public session id (for revocation forms).
    pub id: String,
    /// Browser and OS, read from the User-Agent.
    pub device: String,
    /// Client IP at sign-in.
    pub ip_address: Option<String>,
    /// Client IP at the last recorded activity.
    pub last_ip_address: Option<String>,
    /// Browser and OS at the last recorded activity, when known.
    pub last_device: Option<String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub last_seen_at: i64,
    /// Unix seconds.
    pub idle_expires_at: i64,
    /// Unix seconds.
    pub expires_at: i64,
    /// "Remember me".
    pub persistent: bool,
    /// Whether this is the session making the request.
    pub current: bool,
}

/// One auth event, as the dashboard shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventView {
    /// What happened, in words.
    pub description: String,
    /// How many times that day (events someone else can cause are one
    /// counted line per day); 1 otherwise.
    pub count: u64,
    /// Client IP, if known.
    pub ip_address: Option<String>,
    /// Unix seconds.
    pub at: i64,
}

/// A security notice, as the dashboard shows it until dismissed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoticeView {
    /// For the dismiss form.
    pub id: String,
    /// What happened, in words.
    pub message: String,
    /// Where from (device and address), when known.
    pub source: Option<String>,
    /// Unix seconds.
    pub at: i64,
    /// Whether this session may dismiss it as it is; if not, dismissing
    /// asks for a credential first (the notice was raised since this
    /// session began, and it has not proved one since).
    pub dismissable: bool,
}

/// Everything `/dashboard` shows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// Display name.
    pub display_name: String,
    /// Normalised sign-in name.
    pub username: String,
    /// The current session.
    pub session: SessionView,
    /// Security notices not yet dismissed, newest first.
    pub notices: Vec<NoticeView>,
    /// Recent auth events, newest first.
    pub events: Vec<EventView>,
    /// Whether the site has sign-in providers (the account menu then links
    /// their page).
    pub providers: bool,
    /// Server time when rendered (Unix seconds), for countdowns.
    pub now: i64,
}

/// The dashboard's data, from the already-validated session plus one
/// query (the notices and the events together: `Auth::activity`).
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn load_dashboard() -> Result<Dashboard, AppError> {
    Reply::json("load_dashboard")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let activity = ctx.auth.activity(auth.user.id, 10).await?;
            Ok(Dashboard {
                display_name: auth.user.display_name.clone(),
                username: auth.user.username.clone(),
                session: ssr::view(&auth.session, Some(auth.session.id)),
                notices: activity
                    .notices
                    .iter()
                    .map(|n| ssr::notice_view(&auth, n))
                    .collect(),
                events: activity.events.into_iter().map(ssr::event_view).collect(),
                providers: !ctx.auth.identity_providers().is_empty(),
                now: ctx.auth.now().unix_timestamp(),
            })
        })
        .await
}

/// The user's active sessions, newest first; one query.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    Reply::json("list_sessions")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let sessions = ctx.auth.list_sessions(auth.user.id).await?;
            Ok(sessions
                .iter()
                .map(|s| ssr::view(s, Some(auth.session.id)))
                .collect())
        })
        .await
}

/// Dismisses one of the user's security notices. A notice raised since
/// this session last proved a credential needs one proved again first
/// (whoever caused it must not be able to erase it).
///
/// # Errors
/// [`AppError::NotFound`] if it is not one of theirs (or already gone),
/// [`AppError::ReauthRequired`] when a confirmation must come first.
#[server(client = crate::csrf::CsrfClient)]
pub async fn dismiss_notice(
    /// The notice's id.
    id: String,
) -> Result<(), AppError> {
    Reply::form("dismiss_notice", "/dashboard")
        .then_reload("/dashboard")
        .run(async {
            let Signed { ctx, auth } = Require::session().check()?;
            let id = id.parse::<i64>().map_err(|_| AppError::NotFound)?;
            Ok(ctx.auth.dismiss_notice(&auth, id).await?)
        })
        .await
}

/// Signs out one of the user's other devices, after a recent
/// authentication (else a thief holding one session could sign its owner
/// out of the others). The current session's id signs this browser out.
///
/// # Errors
/// [`AppError::NotFound`] if `id` is not one of the user's active sessions,
/// [`AppError::ReauthRequired`] past the re-authentication window.
#[server(client = crate::csrf::CsrfClient)]
pub async fn revoke_session(
    /// The session's id (never its token).
    id: String,
) -> Result<(), AppError> {
    let current = session::current().map(|auth| auth.session.id);
    if current.is_some() && id.parse().ok() == current {
        // Revoking this device is a logout (which needs no step-up); the
        // UI offers that instead.
        return Reply::json("revoke_session")
            .then(Some("/login?signed_out=1"))
            .run(super::auth::sign_out())
            .await;
    }
    Reply::form("revoke_session", SESSIONS)
        .then_reload(SESSIONS)
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            let id = id
                .parse::<engine::SessionId>()
                .map_err(|_| AppError::NotFound)?;
            Ok(ctx.auth.revoke(&auth, id, &session::client_info()).await?)
        })
        .await
}

/// Signs out every other device, keeping this one, after a recent
/// authentication.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session,
/// [`AppError::ReauthRequired`] past the re-authentication window.
#[server(client = crate::csrf::CsrfClient)]
pub async fn revoke_other_sessions() -> Result<(), AppError> {
    Reply::form("revoke_other_sessions", SESSIONS)
        .then_reload(SESSIONS)
        .run(async {
            let Signed { ctx, auth } = Require::recent().check()?;
            ctx.auth
                .revoke_others(&auth, &session::client_info())
                .await?;
            Ok(())
        })
        .await
}

/// Signs out every device, this one included. Needs a recent
/// authentication: one click would otherwise let whoever holds a stolen
/// session sign its owner out of every device. A `password` sent with it
/// (the confirmation step asks for one when the last proof is old)
/// confirms first.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session,
/// [`AppError::ReauthRequired`] past the re-authentication window without
/// a password, [`AppError::WrongPassword`] with a wrong one.
#[server(client = crate::csrf::CsrfClient)]
pub async fn sign_out_everywhere(
    /// The password, when the last confirmation is too old.
    password: Option<String>,
) -> Result<(), AppError> {
    Reply::form("sign_out_everywhere", SESSIONS)
        .then(Some("/login?signed_out=1"))
        .run(async {
            let auth = match password.filter(|p| !p.is_empty()) {
                Some(password) => super::security::confirm_with(&password).await?,
                None => Require::recent().check()?.auth,
            };
            let ctx = Require::nothing().check()?;
            let (_, version) = ctx.auth.revoke_all(&auth, &session::client_info()).await?;
            session::clear_session_cookies(&ctx.cookies);
            // The new credentials version ended every device cookie; this
            // browser, which just proved a credential, keeps its exemption
            // from lockouts.
            renew_device_cookie(&ctx, auth.user.id, version);
            Ok(())
        })
        .await
}

#[cfg(feature = "ssr")]
use super::{
    completion::renew_device_cookie,
    reply::Reply,
    require::{Require, Signed},
};
#[cfg(feature = "ssr")]
use crate::{paths::SESSIONS, session};

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::{EventView, NoticeView, SessionView};

    pub fn event_view(e: engine::AuthEvent) -> EventView {
        EventView {
            description: describe_event(e.kind).to_owned(),
            count: e.count,
            ip_address: e.ip_address,
            at: e.created_at.unix_timestamp(),
        }
    }

    pub fn view(s: &engine::SessionRecord, current: Option<engine::SessionId>) -> SessionView {
        SessionView {
            id: s.id.to_string(),
            device: describe_device(s.user_agent.as_deref()),
            ip_address: s.ip_address.clone(),
            last_ip_address: s.last_ip_address.clone(),
            last_device: s
                .last_user_agent
                .as_deref()
                .map(|ua| describe_device(Some(ua))),
            created_at: s.created_at.unix_timestamp(),
            last_seen_at: s.last_seen_at.unix_timestamp(),
            idle_expires_at: s.idle_expires_at.unix_timestamp(),
            expires_at: s.expires_at.unix_timestamp(),
            persistent: s.persistent,
            current: current == Some(s.id),
        }
    }

    pub fn notice_view(auth: &engine::Authenticated, stored: &engine::StoredNotice) -> NoticeView {
        use engine::NoticeKind;
        let n = &stored.notice;
        let message = match n.kind {
            NoticeKind::NewDevice => {
                "New sign-in from a browser you had not used with this account. \
                 If it was not you, change your password."
                    .to_owned()
            }
            NoticeKind::FailedSignIns if n.count == 1 => {
                "1 failed sign-in attempt since your previous sign-in.".to_owned()
            }
            NoticeKind::FailedSignIns => {
                format!(
                    "{} failed sign-in attempts since your previous sign-in.",
                    n.count
                )
            }
            NoticeKind::RefreshReuse => "A copy of a session's token was used after the \
                 session had moved on: that session was signed out. If you did not \
                 expect it, change your password."
                .to_owned(),
            NoticeKind::PasswordChanged => "Your password was set or changed, and every \
                 other device was signed out. If it was not you, reset it and check your \
                 passkeys."
                .to_owned(),
            NoticeKind::PasswordRemoved => "Your password was removed: your passkeys sign \
                 you in. If it was not you, set a new password and check your passkeys."
                .to_owned(),
            NoticeKind::PasskeyAdded => "A passkey was added to your account. If it was not \
                 you, remove it and sign out your other sessions."
                .to_owned(),
            NoticeKind::PasswordReset => "Your password was reset from a link mailed to your \
                 address, and every device was signed out. If it was not you, your mailbox may \
                 be in someone else's hands: secure it, then reset your password again."
                .to_owned(),
            NoticeKind::EmailChanged => "Your email address was changed. The previous address \
                 was told, with a link to put it back."
                .to_owned(),
            NoticeKind::EmailReverted => "A change of your email address was undone from the \
                 previous address, and every device was signed out. If it was not you, \
                 secure that mailbox and reset your password."
                .to_owned(),
            NoticeKind::PasskeyRemoved => "A passkey was removed from your account. If it was \
                 not you, change your password and sign out your other sessions."
                .to_owned(),
            NoticeKind::IdentityLinked => "An account at a sign-in provider was linked to \
                 yours: it signs you in now. If it was not you, unlink it and sign out your \
                 other sessions."
                .to_owned(),
            NoticeKind::IdentityUnlinked => "An account at a sign-in provider was unlinked \
                 from yours. If it was not you, change your password and sign out your other \
                 sessions."
                .to_owned(),
        };
        let source = match n.kind {
            NoticeKind::FailedSignIns => None,
            _ => Some(match &n.ip_address {
                Some(ip) => format!("{} · {ip}", describe_device(n.user_agent.as_deref())),
                None => describe_device(n.user_agent.as_deref()),
            }),
        };
        NoticeView {
            id: stored.id.to_string(),
            message,
            source,
            at: n.created_at.unix_timestamp(),
            dismissable: engine::Auth::may_dismiss(auth, n),
        }
    }

    /// What the dashboard says of an event. Every kind has its words: a new
    /// one does not compile until it has them.
    pub fn describe_event(kind: engine::AuthEventKind) -> &'static str {
        use engine::AuthEventKind as K;
        match kind {
            K::SignUp => "Account created",
            K::SignIn => "Signed in",
            K::SignInFailed => "Failed sign-in attempt",
            K::Logout => "Signed out",
            K::Revoke => "Signed out a device",
            K::RevokeOthers => "Signed out all other devices",
            K::RevokeAll => "Signed out everywhere",
            K::Expired => "Session expired",
            K::RefreshReuse => "Session ended: a refresh token was reused",
            K::RefreshUnbound => "Refused a refresh from another device's key",
            K::SignInLocked => {
                "Sign-in paused after repeated wrong passwords (browsers you had \
                 signed in from were not affected)"
            }
            K::Confirmed => "Confirmed it's you",
            K::PasswordChanged => "Password changed; other devices were signed out",
            K::PasskeyAdded => "Added a passkey",
            K::PasskeyRemoved => "Removed a passkey",
            K::PasskeySignIn => "Signed in with a passkey",
            K::PasswordRemoved => "Removed the password; passkeys sign in",
            K::EmailAdded => "Set an email address; a confirmation link was sent",
            K::EmailVerified => "Confirmed the email address",
            K::PasswordResetRequested => "A password reset link was mailed to you",
            K::PasswordReset => "Password reset from a mailed link; every device was signed out",
            K::EmailChanged => "Changed the email address (confirmed from the new one)",
            K::EmailSignIn => "Signed in with a link or code sent by email",
            K::EmailReverted => "Put the previous email address back; every device was signed out",
            K::IdentitySignIn => "Signed in with a sign-in provider",
            K::IdentityLinked => "Linked a sign-in provider",
            K::IdentityUnlinked => "Unlinked a sign-in provider",
        }
    }

    /// "Chrome on Linux", or a fallback for unknown agents, remembered for
    /// the process ([`Devices`]).
    pub(crate) fn describe_device(user_agent: Option<&str>) -> String {
        static DEVICES: std::sync::LazyLock<Devices> = std::sync::LazyLock::new(Devices::default);
        DEVICES.describe(user_agent)
    }

    /// The device names of the agents seen: parsing a browser's agent takes
    /// a few microseconds, paid on every render for every session and
    /// notice a page lists, and a site sees few distinct agents. At most
    /// [`Devices::MOST`] agents of at most [`Devices::LONGEST`] bytes are
    /// kept, and the memo starts again empty when full, so odd agents
    /// cannot grow it.
    #[derive(Default)]
    pub(crate) struct Devices(std::sync::Mutex<std::collections::HashMap<String, String>>);

    impl Devices {
        pub(crate) const MOST: usize = 512;
        /// Browsers send about 150 bytes.
        const LONGEST: usize = 512;

        pub(crate) fn describe(&self, user_agent: Option<&str>) -> String {
            let Some(agent) = user_agent.filter(|a| a.len() <= Self::LONGEST) else {
                return parse_device(user_agent);
            };
            if let Some(known) = self.0.lock().ok().and_then(|memo| memo.get(agent).cloned()) {
                return known;
            }
            let device = parse_device(Some(agent));
            if let Ok(mut memo) = self.0.lock() {
                if memo.len() >= Self::MOST {
                    memo.clear();
                }
                memo.insert(agent.to_owned(), device.clone());
            }
            device
        }

        #[cfg(test)]
        pub(crate) fn len(&self) -> usize {
            self.0.lock().map_or(0, |memo| memo.len())
        }
    }

    fn parse_device(user_agent: Option<&str>) -> String {
        let parsed = user_agent.and_then(|ua| woothee::parser::Parser::new().parse(ua));
        match parsed {
            Some(r) if r.name != "UNKNOWN" && r.os != "UNKNOWN" => {
                format!("{} on {}", r.name, r.os)
            }
            Some(r) if r.name != "UNKNOWN" => r.name.to_owned(),
            _ => "Unknown device".to_owned(),
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    #[test]
    fn every_event_and_notice_kind_has_its_own_words() {
        let words: std::collections::HashSet<_> = engine::AuthEventKind::ALL
            .iter()
            .map(|&k| super::ssr::describe_event(k))
            .collect();
        assert_eq!(words.len(), engine::AuthEventKind::ALL.len(), "{words:?}");
        assert!(words.iter().all(|w| !w.is_empty()));
    }

    /// The memo answers as the parser does, and stays bounded.
    #[test]
    fn a_device_is_described_the_same_remembered_or_not() {
        use super::ssr::Devices;
        const CHROME: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 \
                              (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        let devices = Devices::default();
        for _ in 0..2 {
            assert_eq!(devices.describe(Some(CHROME)), "Chrome on Linux");
            assert_eq!(devices.describe(None), "Unknown device");
            assert_eq!(devices.describe(Some("")), "Unknown device");
        }
        assert_eq!(devices.len(), 2, "the two agents, once each");
        let long = format!("{CHROME} {}", "x".repeat(600));
        assert_eq!(devices.describe(Some(&long)), "Chrome on Linux");
        assert_eq!(devices.len(), 2, "a long agent is not kept");
        for i in 0..Devices::MOST * 2 {
            devices.describe(Some(&format!("agent {i}")));
            assert!(devices.len() <= Devices::MOST);
        }
        assert_eq!(devices.describe(Some(CHROME)), "Chrome on Linux");
    }
}
