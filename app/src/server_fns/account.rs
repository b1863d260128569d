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
    let auth = ssr::authed()?;
    let ctx = ctx()?;
    let activity = ctx
        .auth
        .activity(auth.user.id, 10)
        .await
        .map_err(ssr::fail)?;
    let (events, notices) = (activity.events, activity.notices);
    Ok(Dashboard {
        display_name: auth.user.display_name.clone(),
        username: auth.user.username.clone(),
        session: ssr::view(&auth.session, Some(auth.session.id)),
        notices: notices.iter().map(ssr::notice_view).collect(),
        events: events
            .into_iter()
            .map(|e| EventView {
                description: e.kind.describe().to_owned(),
                ip_address: e.ip_address,
                at: e.created_at.unix_timestamp(),
            })
            .collect(),
        now: ctx.auth.now().unix_timestamp(),
    })
}

/// The user's active sessions, newest first; one query.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn list_sessions() -> Result<Vec<SessionView>, AppError> {
    let auth = ssr::authed()?;
    let sessions = ctx()?
        .auth
        .list_sessions(auth.user.id)
        .await
        .map_err(ssr::fail)?;
    Ok(sessions
        .iter()
        .map(|s| ssr::view(s, Some(auth.session.id)))
        .collect())
}

/// Dismisses one of the user's security notices.
///
/// # Errors
/// [`AppError::NotFound`] if it is not one of theirs (or already gone).
#[server(client = crate::csrf::CsrfClient)]
pub async fn dismiss_notice(id: String) -> Result<(), AppError> {
    let auth = ssr::authed()?;
    let id = id
        .parse::<i64>()
        .map_err(|_| ssr::fail(engine::Error::NotFound))?;
    ctx()?
        .auth
        .dismiss_notice(auth.user.id, id)
        .await
        .map_err(ssr::fail)?;
    if session::is_plain_form_post() {
        leptos_axum::redirect("/dashboard");
    }
    Ok(())
}

/// Signs out one of the user's other devices.
///
/// # Errors
/// [`AppError::NotFound`] if `id` is not one of the user's active sessions.
#[server(client = crate::csrf::CsrfClient)]
pub async fn revoke_session(id: String) -> Result<(), AppError> {
    let auth = ssr::authed()?;
    let id = id.parse::<engine::SessionId>().map_err(ssr::fail)?;
    if id == auth.session.id {
        // Revoking this device is a logout; the UI offers that instead.
        return super::auth::logout().await;
    }
    ctx()?
        .auth
        .revoke(&auth, id, &session::client_info())
        .await
        .map_err(ssr::fail)?;
    ssr::back_to_sessions();
    Ok(())
}

/// Signs out every other device, keeping this one.
///
/// # Errors
/// [`AppError::Unauthorized`] without a session.
#[server(client = crate::csrf::CsrfClient)]
pub async fn revoke_other_sessions() -> Result<(), AppError> {
    let auth = ssr::authed()?;
    ctx()?
        .auth
        .revoke_others(&auth, &session::client_info())
        .await
        .map_err(ssr::fail)?;
    ssr::back_to_sessions();
    Ok(())
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
pub async fn sign_out_everywhere(password: Option<String>) -> Result<(), AppError> {
    let recent = match password.filter(|p| !p.is_empty()) {
        Some(password) => super::security::confirm_with(&password).await,
        None => super::security::require_recent(),
    };
    let auth = match recent {
        Ok(auth) => auth,
        Err(err) => {
            let form = super::security::ssr::Form::new("/account/sessions", None);
            return form.finish(Err(err), false);
        }
    };
    let ctx = ctx()?;
    ctx.auth
        .revoke_all(&auth, &session::client_info())
        .await
        .map_err(ssr::fail)?;
    session::clear_session_cookies(&ctx.cookies);
    leptos_axum::redirect("/login?signed_out=1");
    Ok(())
}

#[cfg(feature = "ssr")]
use super::context::ctx;
#[cfg(feature = "ssr")]
use crate::session;

#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use super::{NoticeView, SessionView};
    use crate::{error::AppError, session};

    /// The request's session, or a 401.
    pub fn authed() -> Result<engine::Authenticated, AppError> {
        session::require().inspect_err(session::set_error_status)
    }

    /// Maps an engine error and sets the matching status.
    pub fn fail(err: engine::Error) -> AppError {
        let err = AppError::from(err);
        session::set_error_status(&err);
        err
    }

    /// Plain form posts land back on the session list.
    pub fn back_to_sessions() {
        if session::is_plain_form_post() {
            leptos_axum::redirect("/account/sessions");
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

    pub fn notice_view(stored: &engine::StoredNotice) -> NoticeView {
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
        };
        let source = match n.kind {
            NoticeKind::FailedSignIns => None,
            NoticeKind::NewDevice | NoticeKind::RefreshReuse => Some(match &n.ip_address {
                Some(ip) => format!("{} · {ip}", describe_device(n.user_agent.as_deref())),
                None => describe_device(n.user_agent.as_deref()),
            }),
        };
        NoticeView {
            id: stored.id.to_string(),
            message,
            source,
            at: n.created_at.unix_timestamp(),
        }
    }

    /// "Chrome on Linux", or a fallback for unknown agents.
    pub(crate) fn describe_device(user_agent: Option<&str>) -> String {
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
