//! The `next` parameter: where to go after signing in.
//!
//! Only local paths are accepted. Anything that a browser could resolve to
//! another origin (`//evil.example`, `/\evil.example`, `https://…`,
//! `javascript:…`) or that carries control characters falls back to the
//! dashboard, so sign-in cannot be turned into an open redirect.

/// Where to go when `next` is missing or refused.
pub const DEFAULT_NEXT: &str = "/dashboard";

/// Longest accepted `next`.
const MAX_NEXT_LEN: usize = 1024;

/// Returns `next` if it is a safe local path, else [`DEFAULT_NEXT`].
#[must_use]
pub fn safe_next(next: Option<&str>) -> String {
    next.filter(|n| is_local_path(n))
        .unwrap_or(DEFAULT_NEXT)
        .to_owned()
}

/// `form`, then back to `page`: `form?next=<page, percent-encoded>`, the
/// one shape of every detour through the sign-in or confirmation page
/// (the session layer's, a server function's, a page's).
#[cfg(feature = "ssr")]
#[must_use]
pub fn via(form: &str, page: &str) -> String {
    format!("{form}?next={}", encoded(page))
}

/// `path` as a query value.
#[must_use]
pub fn encoded(path: &str) -> String {
    percent_encoding::utf8_percent_encode(path, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// Whether `path` is a same-origin absolute path.
#[must_use]
pub fn is_local_path(path: &str) -> bool {
    let bytes = path.as_bytes();
    path.len() <= MAX_NEXT_LEN
        && bytes.first() == Some(&b'/')
        // `//host` and `/\host` are scheme-relative URLs to browsers.
        && !matches!(bytes.get(1), Some(b'/' | b'\\'))
        && !path.chars().any(|c| c.is_control() || c == '\\')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_are_kept() {
        for ok in ["/", "/dashboard", "/account/sessions?x=1#top", "/a//b"] {
            assert_eq!(safe_next(Some(ok)), ok);
        }
    }

    #[test]
    fn anything_else_falls_back() {
        for bad in [
            "",
            "//evil.example",
            "///evil.example",
            "/\\evil.example",
            "\\\\evil.example",
            "https://evil.example",
            "http:/evil.example",
            "javascript:alert(1)",
            "dashboard",
            " /dashboard",
            "/\t/evil.example",
            "/\n/evil.example",
            "/a\\b",
            &format!("/{}", "a".repeat(2000)),
        ] {
            assert_eq!(safe_next(Some(bad)), DEFAULT_NEXT, "{bad:?}");
        }
        assert_eq!(safe_next(None), DEFAULT_NEXT);
    }

    // Property test: run longer with `PROPTEST_CASES=<n>`.
    proptest::proptest! {
        #[test]
        fn whatever_comes_in_only_a_local_path_goes_out(
            input in "\\PC{0,64}|/[/\\\\\t\n ]?[a-z.:@/\\\\%]{0,30}"
        ) {
            let out = safe_next(Some(&input));
            let bytes = out.as_bytes();
            proptest::prop_assert_eq!(bytes[0], b'/');
            proptest::prop_assert!(!matches!(bytes.get(1), Some(b'/' | b'\\')));
            proptest::prop_assert!(!out.chars().any(|c| c.is_control() || c == '\\'));
            proptest::prop_assert!(out == input || out == DEFAULT_NEXT);
        }
    }
}
