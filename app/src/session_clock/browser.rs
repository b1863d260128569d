//! The browser half of [`super::SessionClock`]: the one-second tick, the
//! channel to the other tabs, and the clock code outside the component tree
//! reports to. Only in the WASM build; the server build compiles the no-op
//! twin (`server.rs`) with the same signatures instead.

use std::{cell::Cell, time::Duration};

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast as _};

use super::{Known, SessionClock, SessionTimes};

const CHANNEL: &str = "leptos-sessions.clock";

thread_local! {
    static CLOCK: Cell<Option<SessionClock>> = const { Cell::new(None) };
    static CHANNEL_HANDLE: Cell<Option<&'static web_sys::BroadcastChannel>> = const { Cell::new(None) };
}

pub fn start(clock: SessionClock) {
    if CLOCK.get().is_some() {
        return;
    }
    CLOCK.set(Some(clock));
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
}

pub fn observe_header(value: Option<&str>) {
    if let Some(times) = value.and_then(SessionTimes::from_header) {
        if let Some(clock) = CLOCK.get() {
            observe(clock, times, true);
        }
    }
}

pub fn observe(clock: SessionClock, times: SessionTimes, announce: bool) {
    let newer = clock
        .known
        .with_untracked(|k| k.is_none_or(|k| times.now >= k.times.now));
    if !newer {
        return;
    }
    let skew_ms = times.now as f64 * 1000.0 - js_sys::Date::now();
    clock.known.set(Some(Known { times, skew_ms }));
    if announce {
        if let Some(channel) = CHANNEL_HANDLE.get() {
            let _ = channel.post_message(&times.to_header().into());
        }
    }
}
