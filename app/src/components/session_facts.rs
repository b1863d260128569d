//! The dashboard's facts about the current session, counting live: when it
//! was created and last active, and when it ends. The server renders them
//! for its own clock; once hydrated, they tick against the page's
//! [`SessionClock`] (whose newest times move when the idle prompt's
//! refresh slides the session).
//!
//! The facts travel in the list's attributes, not as the island's props,
//! as the header's visitor does (`nav.rs`): an island with props brings
//! `serde_json`'s parser to its page, and this is the only island on a
//! dashboard without notices.

// `#[island]` derives an undocumented type for the props it sends to the
// browser (and a loader for a lazy island); the items here are documented.
#![allow(missing_docs)]

use leptos::prelude::*;

use crate::{
    format::{ago, countdown, utc},
    server_fns::account::SessionView,
    session_clock::{SessionClock, SessionTimes},
};

/// What the facts show, as the server read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Facts {
    /// Browser and OS.
    device: String,
    /// "Remember me".
    persistent: bool,
    /// Unix seconds.
    created_at: i64,
    /// The session's times, with the server's time then.
    times: SessionTimes,
}

impl Facts {
    /// The facts of `session`, read at server time `now`.
    #[must_use]
    pub fn of(session: &SessionView, now: i64) -> Self {
        Self {
            device: session.device.clone(),
            persistent: session.persistent,
            created_at: session.created_at,
            times: SessionTimes {
                last_seen_at: session.last_seen_at,
                idle_expires_at: session.idle_expires_at,
                expires_at: session.expires_at,
                warn_before: 0,
                now,
            },
        }
    }

    /// On the server: what [`SessionFacts`] provided.
    #[cfg(feature = "ssr")]
    fn of_page() -> Option<Self> {
        use_context::<Self>()
    }

    /// In the browser: what the server wrote in the list's attributes.
    #[cfg(not(feature = "ssr"))]
    fn of_page() -> Option<Self> {
        let list = document()
            .query_selector("dl[data-session-times]")
            .ok()
            .flatten()?;
        let read = |name: &str| list.get_attribute(name);
        Self::from_attributes(
            read("data-device"),
            read("data-persistent").as_deref(),
            read("data-created").as_deref(),
            read("data-session-times").as_deref(),
        )
    }

    /// The attributes that carry the facts: device, "remember me", the
    /// creation time and the times ([`SessionTimes::to_header`]'s format).
    fn attributes(&self) -> (String, &'static str, String, String) {
        (
            self.device.clone(),
            if self.persistent { "yes" } else { "no" },
            self.created_at.to_string(),
            self.times.to_header(),
        )
    }

    /// [`Self::attributes`]' inverse; `None` if any is missing or unreadable.
    #[cfg_attr(feature = "ssr", allow(dead_code))]
    fn from_attributes(
        device: Option<String>,
        persistent: Option<&str>,
        created: Option<&str>,
        times: Option<&str>,
    ) -> Option<Self> {
        Some(Self {
            device: device?,
            persistent: match persistent? {
                "yes" => true,
                "no" => false,
                _ => return None,
            },
            created_at: created?.parse().ok()?,
            times: SessionTimes::from_header(times?)?,
        })
    }
}

/// The session's facts; `now` is the server's time when it read them.
#[component]
pub fn SessionFacts(
    /// The session, as the server read it.
    session: SessionView,
    /// The server's time then (Unix seconds).
    now: i64,
) -> impl IntoView {
    provide_context(Facts::of(&session, now));
    view! { <LiveFacts /> }
}

/// The list itself, the island: it reads its facts from the page
/// ([`Facts::of_page`]) and renders nothing if they are missing.
#[island(lazy)]
pub fn LiveFacts() -> impl IntoView {
    let facts = Facts::of_page()?;
    let preloads = crate::assets::preload_island("live_facts");
    let clock = SessionClock::get();
    let rendered = facts.times;
    // The server's numbers as rendered; once the browser clock runs, the
    // newest known against the ticking time.
    let times = move || {
        clock
            .times()
            .filter(|t| t.now >= rendered.now)
            .unwrap_or(rendered)
    };
    let now = move || clock.now().unwrap_or(rendered.now);
    let created = facts.created_at;
    let expires = rendered.expires_at;
    let (device, persistent, created_attr, times_attr) = facts.attributes();
    let shown = device.clone();
    Some(view! {
        <dl class="facts" data-testid="session-facts" data-device=device
            data-persistent=persistent data-created=created_attr data-session-times=times_attr>
            <dt>"Device"</dt><dd>{shown}</dd>
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
            <dt>"Remember me"</dt><dd>{persistent}</dd>
        </dl>
        {preloads}
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_facts_round_trip_through_the_lists_attributes() {
        let facts = Facts {
            device: "Firefox on \"Linux\" <x>".into(),
            persistent: true,
            created_at: 1_700_000_000,
            times: SessionTimes {
                last_seen_at: 1_700_000_100,
                idle_expires_at: 1_700_001_900,
                expires_at: 1_700_086_400,
                warn_before: 0,
                now: 1_700_000_105,
            },
        };
        for facts in [
            facts.clone(),
            Facts {
                persistent: false,
                ..facts
            },
        ] {
            let (device, persistent, created, times) = facts.attributes();
            assert_eq!(
                Facts::from_attributes(
                    Some(device),
                    Some(persistent),
                    Some(&created),
                    Some(&times)
                ),
                Some(facts)
            );
        }
    }

    #[test]
    fn incomplete_attributes_give_no_facts() {
        let times = "seen=1, idle=2, absolute=3, warn=0, now=1";
        let device = || Some("Chrome".to_owned());
        for (device, persistent, created, times) in [
            (None, Some("yes"), Some("1"), Some(times)),
            (device(), None, Some("1"), Some(times)),
            (device(), Some("maybe"), Some("1"), Some(times)),
            (device(), Some("no"), Some("one"), Some(times)),
            (device(), Some("no"), Some("1"), Some("seen=1")),
            (device(), Some("no"), None, Some(times)),
        ] {
            assert_eq!(
                Facts::from_attributes(device, persistent, created, times),
                None
            );
        }
    }
}
