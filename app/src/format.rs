//! Formatting shared by the server render and the browser, so hydration sees
//! identical text.
//!
//! Dates are turned into text here rather than by the `time` crate, whose
//! formatting machinery would be most of an island's WebAssembly for two
//! fixed formats; a property test checks every date against `time`.

/// The calendar date and time of day of Unix seconds, in UTC:
/// `(year, month, day, hour, minute, second)`. Days to a date by Howard
/// Hinnant's `civil_from_days` (proleptic Gregorian calendar).
fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let (days, rest) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day, rest / 3_600, rest % 3_600 / 60, rest % 60)
}

/// `2026-11-22 21:04 UTC` for Unix seconds.
#[must_use]
pub fn utc(secs: i64) -> String {
    let (y, mo, d, h, mi, _) = civil(secs);
    format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// `21:04:05 UTC` for Unix seconds (for short-lived tokens).
#[must_use]
pub fn utc_seconds(secs: i64) -> String {
    let (_, _, _, h, mi, s) = civil(secs);
    format!("{h:02}:{mi:02}:{s:02} UTC")
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

    proptest::proptest! {
        /// The same text as the `time` crate, from year 1 to 9999.
        #[test]
        fn dates_read_as_time_writes_them(secs in -62_135_596_800_i64..253_402_300_799) {
            use time::{macros::format_description, OffsetDateTime};
            let t = OffsetDateTime::from_unix_timestamp(secs).unwrap();
            let long = t.format(format_description!("[year]-[month]-[day] [hour]:[minute] UTC")).unwrap();
            let short = t.format(format_description!("[hour]:[minute]:[second] UTC")).unwrap();
            proptest::prop_assert_eq!(utc(secs), long);
            proptest::prop_assert_eq!(utc_seconds(secs), short);
        }
    }

    #[test]
    fn formats_are_stable() {
        assert_eq!(utc(0), "1970-01-01 00:00 UTC");
        assert_eq!(utc(951_782_400), "2000-02-29 00:00 UTC");
        assert_eq!(utc(-1), "1969-12-31 23:59 UTC");
        assert_eq!(utc_seconds(1_796_574_140), "16:22:20 UTC");
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
