//! The server build's stand-in for `browser.rs`: the same functions, doing
//! nothing. The server renders no countdown (the clock stays unknown), so
//! the rendered HTML matches the browser's first render.

use super::{SessionClock, SessionTimes};

pub fn shared() -> SessionClock {
    SessionClock::new()
}

pub fn observe(_: SessionClock, _: SessionTimes, _: bool) {}

pub fn observe_header(_: Option<&str>) {}

pub fn forget() {}
