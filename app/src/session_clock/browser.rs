//! The browser half of [`super::SessionClock`]: the one-second tick, the
//! channel to the other tabs, the observation kept for the tab's next page,
//! and the clock code outside the component tree reports to. Only in the
//! WASM build; the server build compiles the no-op twin (`server.rs`) with
//! the same signatures instead.

use std::{cell::Cell, time::Duration};

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast as _};

use super::{Known, SessionClock, SessionTimes};
use crate::record::{Kept, Record};

const CHANNEL: &str = "leptos-sessions.clock";
/// `sessionStorage`: the newest observation and when (browser time, ms).
const KEPT_KEY: &str = "leptos-sessions.clock";

thread_local! {
    static SHARED: SessionClock = crate::page_wide::for_the_page(start);
    static CHANNEL_HANDLE: Cell<Option<&'static web_sys::BroadcastChannel>> = const { Cell::new(None) };
}

pub fn shared() -> SessionClock {
    SHARED.with(|clock| *clock)
}

/// Makes the page's clock: ticking, listening to the other tabs, and
/// knowing what the tab's previous page knew.
fn start() -> SessionClock {
    let clock = SessionClock::new();
    clock.now_ms.set(Some(js_sys::Date::now()));
    // The interval lives as long as the page.
    let _ = set_interval_with_handle(
        move || clock.now_ms.set(Some(js_sys::Date::now())),
        Duration::from_secs(1),
    );
    if let Ok(channel) = web_sys::BroadcastChannel::new(CHANNEL) {
        let on_message =
            Closure::<dyn Fn(web_sys::MessageEvent)>::new(move |ev: web_sys::MessageEvent| {
                if let Some(times) = ev
                    .data()
                    .as_string()
                    .as_deref()
                    .and_then(SessionTimes::from_header)
                {
                    observe(clock, times, false);
                }
            });
        channel.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        on_message.forget();
        CHANNEL_HANDLE.set(Some(Box::leak(Box::new(channel))));
    }
    // The server's time then, moved on by the time since.
    let kept = Kept::Tab.get(KEPT_KEY).and_then(|kept| {
        let times = SessionTimes::from_header(&kept.string("times")?)?;
        Some((times, kept.number("at_ms")?))
    });
    if let Some((times, at_ms)) = kept {
        let elapsed = ((js_sys::Date::now() - at_ms) / 1000.0).floor() as i64;
        let now = SessionTimes {
            now: times.now + elapsed.max(0),
            ..times
        };
        observe(clock, now, false);
    }
    clock
}

pub fn observe_header(value: Option<&str>) {
    if let Some(times) = value.and_then(SessionTimes::from_header) {
        observe(shared(), times, true);
    }
}

pub fn observe(clock: SessionClock, times: SessionTimes, announce: bool) {
    let newer = clock
        .known
        .with_untracked(|k| k.is_none_or(|k| times.now >= k.times.now));
    if !newer {
        return;
    }
    let at_ms = js_sys::Date::now();
    let skew_ms = times.now as f64 * 1000.0 - at_ms;
    clock.known.set(Some(Known { times, skew_ms }));
    let header = times.to_header();
    Kept::Tab.set(
        KEPT_KEY,
        &Record::new()
            .with("times", header.as_str())
            .with("at_ms", at_ms),
    );
    if announce {
        if let Some(channel) = CHANNEL_HANDLE.get() {
            let _ = channel.post_message(&header.into());
        }
    }
}

pub fn forget() {
    Kept::Tab.delete(KEPT_KEY);
}
