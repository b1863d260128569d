//! Formatting shared by the server render and the browser, so hydration sees
//! identical text.

use time::{macros::format_description, OffsetDateTime};

/// `2026-11-22 21:04 UTC` for Unix seconds.
#[must_use]
pub fn utc(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(format_description!(
                "[year]-[month]-[day] [hour]:[minute] UTC"
            ))
            .ok()
        })
        .unwrap_or_else(|| "—".to_owned())
}

/// `21:04:05 UTC` for Unix seconds (for short-lived tokens).
#[must_use]
pub fn utc_seconds(secs: i64) -> String {
    OffsetDateTime::from_unix_timestamp(secs)
        .ok()
        .and_then(|t| {
            t.format(format_description!("[hour]:[minute]:[second] UTC"))
                .ok()
        })
        .unwrap_or_else(|| "—".to_owned())
}

/// A rough, human duration: `in 29 min 05 s`, `in 7 h 59 min`, `in 6 days`.
#[must_use]
pub fn countdown(seconds: i64) -> String {
    if seconds <= 0 {
        return "now".to_owned();
    }
    format!("in {}", rough(seconds, true))
}

/// How long ago, as roughly: `just now`, `12 s ago`, `3 min ago`,
/// `2 h 05 min ago`, `3 days ago`.
#[must_use]
pub fn ago(seconds: i64) -> String {
    if seconds < 1 {
        return "just now".to_owned();
    }
    format!("{} ago", rough(seconds, false))
}

/// `42 s`, `29 min` (or `29 min 05 s`), `7 h 59 min`, `1 day`, `6 days`.
fn rough(seconds: i64, minute_seconds: bool) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, m) if minute_seconds => format!("{m} min {s:02} s"),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m:02} min"),
        (1, _, _) => "1 day".to_owned(),
        (d, _, _) => format!("{d} days"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_stable() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(countdown(0), "now");
        assert_eq!(countdown(42), "in 42 s");
        assert_eq!(countdown(29 * 60 + 5), "in 29 min 05 s");
        assert_eq!(countdown(8 * 3600 - 60), "in 7 h 59 min");
        assert_eq!(countdown(30 * 86_400), "in 30 days");
        assert_eq!(ago(0), "just now");
        assert_eq!(ago(12), "12 s ago");
        assert_eq!(ago(3 * 60 + 59), "3 min ago");
        assert_eq!(ago(2 * 3600 + 5 * 60), "2 h 05 min ago");
        assert_eq!(ago(86_400), "1 day ago");
    }
}
