//! Reading and writing cookies on raw requests and responses.

use axum::{
    http::{header, HeaderMap, HeaderValue},
    response::Response,
};

/// What a request carries under one cookie name.
#[derive(Debug, PartialEq, Eq)]
pub enum CookieValue {
    /// Not sent.
    Missing,
    /// Sent more than once: a sign of cookie injection (e.g. a cookie
    /// planted by a sibling domain next to ours). Trust neither.
    Ambiguous,
    /// Sent once.
    One(String),
}

/// Finds cookie `name` among all `Cookie` headers. The name match is exact
/// (case-sensitive), as browsers send it.
#[must_use]
pub fn find(headers: &HeaderMap, name: &str) -> CookieValue {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for cookie in cookie::Cookie::split_parse(value).flatten() {
            if cookie.name() == name {
                if found.is_some() {
                    return CookieValue::Ambiguous;
                }
                found = Some(cookie.value().to_owned());
            }
        }
    }
    found.map_or(CookieValue::Missing, CookieValue::One)
}

/// Adds a `Set-Cookie` header.
pub fn append(res: &mut Response, cookie: &cookie::Cookie<'_>) {
    if let Ok(value) = HeaderValue::from_str(&cookie.to_string()) {
        res.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// Whether the response already sets cookie `name`.
#[must_use]
pub fn is_set(res: &Response, name: &str) -> bool {
    res.headers().get_all(header::SET_COOKIE).iter().any(|v| {
        v.as_bytes()
            .strip_prefix(name.as_bytes())
            .is_some_and(|rest| rest.first() == Some(&b'='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(header::COOKIE, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    #[test]
    fn finds_exact_names_and_refuses_duplicates() {
        assert_eq!(
            find(&headers(&["a=1; __Host-session=x"]), "__Host-session"),
            CookieValue::One("x".into())
        );
        assert_eq!(
            find(&headers(&["__host-session=x"]), "__Host-session"),
            CookieValue::Missing
        );
        assert_eq!(
            find(
                &headers(&["__Host-session=x; __Host-session=y"]),
                "__Host-session"
            ),
            CookieValue::Ambiguous
        );
        assert_eq!(
            find(
                &headers(&["__Host-session=x", "__Host-session=y"]),
                "__Host-session"
            ),
            CookieValue::Ambiguous
        );
        assert_eq!(find(&headers(&[]), "__Host-session"), CookieValue::Missing);
    }
}
