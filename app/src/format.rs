//! Formatting shared by the server render and the browser, so hydration sees
//! identical text.
//!
//! Dates are turned into text here rather than by the `time` crate, whose
//! formatting machinery would be most of an island's WebAssembly for two
//! fixed formats; a property test checks every date against `time`.
//!
//! The digits are written by hand, not by `format!`: a signed-in page shows
//! a dozen dates and durations, and `core::fmt` with padded fields cost
//! about 2 400 instructions a date, 6 % of the dashboard's render
//! (BENCHMARKS.md). These take about a tenth of that.

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

/// Appends `n` (not negative) in decimal, zero-padded to `width` digits.
fn push_number(out: &mut String, n: i64, width: usize) {
    let mut digits = [b'0'; 20];
    let mut n = n.unsigned_abs();
    let mut start = digits.len();
    loop {
        start -= 1;
        // A remainder by 10 always fits a digit.
        digits[start] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    let start = start.min(digits.len().saturating_sub(width));
    out.extend(digits[start..].iter().map(|&d| char::from(d)));
}

/// `2026-11-22 21:04 UTC` for Unix seconds.
#[must_use]
pub fn utc(secs: i64) -> String {
    let (y, mo, d, h, mi, _) = civil(secs);
    if !(0..=9_999).contains(&y) {
        return format!("{y:04}-{mo:02}-{d:02} {h:02}:{mi:02} UTC");
    }
    let mut out = String::with_capacity(20);
    push_number(&mut out, y, 4);
    for (sep, n) in [('-', mo), ('-', d), (' ', h), (':', mi)] {
        out.push(sep);
        push_number(&mut out, n, 2);
    }
    out.push_str(" UTC");
    out
}

/// `21:04:05 UTC` for Unix seconds (for short-lived tokens).
#[must_use]
pub fn utc_seconds(secs: i64) -> String {
    let (_, _, _, h, mi, s) = civil(secs);
    let mut out = String::with_capacity(12);
    push_number(&mut out, h, 2);
    for n in [mi, s] {
        out.push(':');
        push_number(&mut out, n, 2);
    }
    out.push_str(" UTC");
    out
}

/// A rough, human duration: `in 29 min 05 s`, `in 7 h 59 min`, `in 6 days`.
#[must_use]
pub fn countdown(seconds: i64) -> String {
    if seconds <= 0 {
        return "now".to_owned();
    }
    let mut out = String::with_capacity(20);
    out.push_str("in ");
    rough(&mut out, seconds, true);
    out
}

/// How long ago, as roughly: `just now`, `12 s ago`, `3 min ago`,
/// `2 h 05 min ago`, `3 days ago`.
#[must_use]
pub fn ago(seconds: i64) -> String {
    if seconds < 1 {
        return "just now".to_owned();
    }
    let mut out = String::with_capacity(20);
    rough(&mut out, seconds, false);
    out.push_str(" ago");
    out
}

/// Appends `42 s`, `29 min` (or `29 min 05 s`), `7 h 59 min`, `1 day`,
/// `6 days`, for `seconds` > 0.
fn rough(out: &mut String, seconds: i64, minute_seconds: bool) {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    let mut part = |n: i64, width: usize, unit: &str| {
        push_number(out, n, width);
        out.push_str(unit);
    };
    match (d, h, m) {
        (0, 0, 0) => part(s, 1, " s"),
        (0, 0, m) if minute_seconds => {
            part(m, 1, " min ");
            part(s, 2, " s");
        }
        (0, 0, m) => part(m, 1, " min"),
        (0, h, m) => {
            part(h, 1, " h ");
            part(m, 2, " min");
        }
        (1, _, _) => out.push_str("1 day"),
        (d, _, _) => part(d, 1, " days"),
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

        /// The durations as `format!` writes them, for any number of seconds.
        #[test]
        fn durations_read_as_format_writes_them(seconds in -1_000_i64..100_000_000) {
            let reference = |seconds: i64, minute_seconds: bool| {
                let (d, h, m, s) = (seconds / 86_400, seconds % 86_400 / 3600, seconds % 3600 / 60, seconds % 60);
                match (d, h, m) {
                    (0, 0, 0) => format!("{s} s"),
                    (0, 0, m) if minute_seconds => format!("{m} min {s:02} s"),
                    (0, 0, m) => format!("{m} min"),
                    (0, h, m) => format!("{h} h {m:02} min"),
                    (1, _, _) => "1 day".to_owned(),
                    (d, _, _) => format!("{d} days"),
                }
            };
            let expected_countdown = if seconds <= 0 { "now".to_owned() } else { format!("in {}", reference(seconds, true)) };
            let expected_ago = if seconds < 1 { "just now".to_owned() } else { format!("{} ago", reference(seconds, false)) };
            proptest::prop_assert_eq!(countdown(seconds), expected_countdown);
            proptest::prop_assert_eq!(ago(seconds), expected_ago);
        }
    }

    #[test]
    fn dates_beyond_four_digit_years_are_still_written() {
        assert_eq!(utc(253_402_300_800), "10000-01-01 00:00 UTC");
        assert_eq!(utc(-62_135_596_801), "0000-12-31 23:59 UTC");
        assert_eq!(utc(-62_200_000_000), "-002-12-17 14:13 UTC");
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
