//! The dashboard's facts about the current session, counting live: when it
//! was created and last active, and when it ends. The server renders them
//! for its own clock; once hydrated, they tick against the page's
//! [`SessionClock`] (whose newest times move when the idle prompt's
//! refresh slides the session).

// `#[island]` derives an undocumented type for the props it sends to the
// browser (and a loader for a lazy island); the items here are documented.
#![allow(missing_docs)]

use leptos::prelude::*;

use crate::{
    format::{ago, countdown, utc},
    server_fns::account::SessionView,
    session_clock::{SessionClock, SessionTimes},
};

/// The session's facts; `now` is the server's time when it rendered them.
#[island(lazy)]
pub fn SessionFacts(
    /// The session, as the server read it.
    session: SessionView,
    /// The server's time then (Unix seconds).
    now: i64,
) -> impl IntoView {
    crate::assets::preload_island("session_facts");
    let clock = SessionClock::get();
    let s = session;
    let rendered = SessionTimes {
        last_seen_at: s.last_seen_at,
        idle_expires_at: s.idle_expires_at,
        expires_at: s.expires_at,
        warn_before: 0,
        now,
    };
    // The server's numbers as rendered; once the browser clock runs, the
    // newest known against the ticking time.
    let times = move || {
        clock
            .times()
            .filter(|t| t.now >= rendered.now)
            .unwrap_or(rendered)
    };
    let now = move || clock.now().unwrap_or(rendered.now);
    let created = s.created_at;
    let expires = s.expires_at;
    view! {
        <dl class="facts" data-testid="session-facts">
            <dt>"Device"</dt><dd>{s.device.clone()}</dd>
            <dt>"Created"</dt>
            <dd>{utc(created)} " · " <span data-testid="created-ago">{move || ago(now() - created)}</span></dd>
            <dt>"Last active"</dt>
            <dd>
                {move || utc(times().last_seen_at)} " · "
                <span data-testid="last-active">{move || ago(now() - times().last_seen_at)}</span>
            </dd>
            <dt>"Idle expiry"</dt>
            <dd>
                {move || utc(times().idle_expires_at)} " · "
                <span data-testid="idle-countdown">{move || countdown(times().idle_expires_at - now())}</span>
            </dd>
            <dt>"Absolute expiry"</dt>
            <dd>
                {utc(expires)} " · "
                <span data-testid="absolute-countdown">{move || countdown(expires - now())}</span>
            </dd>
            <dt>"Remember me"</dt><dd>{if s.persistent { "yes" } else { "no" }}</dd>
        </dl>
    }
}
