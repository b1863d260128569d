//! The session hash `s:{id}`: its fields, written and read in one place.

use std::collections::HashMap;

use time::OffsetDateTime;

use super::{hex, ts, unhex};
use crate::{
    id::UserId,
    record::{Authenticated, SessionRecord, UserSummary},
    Error,
};

/// The fields of a new session's hash: the session and a copy of its
/// user's summary (one read then validates a request). Read back by
/// [`authenticated`]; a field `None` leaves out is absent.
pub(super) fn fields(s: &SessionRecord, user: UserSummary) -> Vec<(&'static str, String)> {
    let mut fields: Vec<(&str, String)> = vec![
        ("user_id", s.user_id.to_string()),
        ("token_hash", hex(&s.token_hash)),
        ("created_at", ts(s.created_at).to_string()),
        ("last_seen_at", ts(s.last_seen_at).to_string()),
        ("idle_expires_at", ts(s.idle_expires_at).to_string()),
        ("expires_at", ts(s.expires_at).to_string()),
        (
            "persistent",
            if s.persistent { "1" } else { "0" }.to_owned(),
        ),
        ("u_username", user.username),
        ("u_display_name", user.display_name),
        ("u_created_at", ts(user.created_at).to_string()),
        ("auth_at", ts(s.authenticated_at).to_string()),
    ];
    let optional = [
        ("ip", s.ip_address.clone()),
        ("ua", s.user_agent.clone()),
        ("lip", s.last_ip_address.clone()),
        ("lua", s.last_user_agent.clone()),
        ("revoked_at", s.revoked_at.map(|at| ts(at).to_string())),
        ("conf_at", s.confirmed_at.map(|at| ts(at).to_string())),
    ];
    fields.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v))),
    );
    fields
}

/// Parses the `s:{id}` hash (returned flat as field, value, …).
pub(super) fn authenticated(
    id: &str,
    fields: &HashMap<String, String>,
) -> Result<Authenticated, Error> {
    let get = |name: &str| {
        fields
            .get(name)
            .ok_or_else(|| Error::storage(format!("session field {name} missing")))
    };
    let time = |name: &str| -> Result<OffsetDateTime, Error> {
        let secs: i64 = get(name)?.parse().map_err(Error::storage)?;
        OffsetDateTime::from_unix_timestamp(secs).map_err(Error::storage)
    };
    let user_id: UserId = get("user_id")?.parse()?;
    let created_at = time("created_at")?;
    let session = SessionRecord {
        id: id.parse()?,
        user_id,
        token_hash: unhex(get("token_hash")?).ok_or_else(|| Error::storage("bad token hash"))?,
        created_at,
        last_seen_at: time("last_seen_at")?,
        idle_expires_at: time("idle_expires_at")?,
        expires_at: time("expires_at")?,
        persistent: get("persistent")? == "1",
        ip_address: fields.get("ip").cloned(),
        user_agent: fields.get("ua").cloned(),
        last_ip_address: fields.get("lip").cloned(),
        last_user_agent: fields.get("lua").cloned(),
        revoked_at: fields
            .get("revoked_at")
            .map(|_| time("revoked_at"))
            .transpose()?,
        // Sessions stored before the field existed proved it at sign-in.
        authenticated_at: fields
            .get("auth_at")
            .map(|_| time("auth_at"))
            .transpose()?
            .unwrap_or(created_at),
        confirmed_at: fields.get("conf_at").map(|_| time("conf_at")).transpose()?,
    };
    let user = UserSummary {
        id: user_id,
        username: get("u_username")?.clone(),
        display_name: get("u_display_name")?.clone(),
        created_at: time("u_created_at")?,
    };
    Ok(Authenticated { session, user })
}
