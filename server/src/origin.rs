//! The site's public origin (`PUBLIC_URL`): what the CSRF layer compares a
//! request's `Origin` with, and whether HSTS applies. Parsed once, so every
//! part sees the same normalised `scheme://host[:port]`.

use std::{fmt, str::FromStr};

/// `http(s)://host[:port]`, in lower case, without a trailing slash, and
/// without the scheme's default port (a browser's `Origin` never names it,
/// so `https://app.example:443` would match no request).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicOrigin(String);

impl PublicOrigin {
    /// The origin as the browser sends it in `Origin`.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the site is served over HTTPS (and so sends HSTS).
    #[must_use]
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
}

/// Why a `PUBLIC_URL` was refused.
#[derive(Debug, thiserror::Error)]
#[error("expected an origin such as https://app.example or http://localhost:3000")]
pub struct NotAnOrigin;

impl FromStr for PublicOrigin {
    type Err = NotAnOrigin;

    /// A path is refused: the app is served from the root (`__Host-`
    /// cookies require `Path=/`).
    fn from_str(raw: &str) -> Result<Self, NotAnOrigin> {
        let trimmed = raw.trim().trim_end_matches('/');
        let (scheme, authority) = trimmed.split_once("://").ok_or(NotAnOrigin)?;
        let scheme = scheme.to_ascii_lowercase();
        if !matches!(scheme.as_str(), "http" | "https")
            || authority.is_empty()
            || authority.contains(['/', '?', '#', '@', ' '])
        {
            return Err(NotAnOrigin);
        }
        let authority = authority.to_ascii_lowercase();
        let default_port = if scheme == "https" { ":443" } else { ":80" };
        let authority = authority
            .strip_suffix(default_port)
            .filter(|host| !host.is_empty())
            .unwrap_or(&authority);
        Ok(Self(format!("{scheme}://{authority}")))
    }
}

impl fmt::Display for PublicOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalises_case_and_the_trailing_slash() {
        let origin: PublicOrigin = " HTTPS://App.Example:8443/ ".parse().unwrap();
        assert_eq!(origin.as_str(), "https://app.example:8443");
        assert!(origin.is_https());
        assert!(!"http://localhost:3000"
            .parse::<PublicOrigin>()
            .unwrap()
            .is_https());
    }

    #[test]
    fn the_default_port_is_dropped_as_browsers_drop_it() {
        for (raw, origin) in [
            ("https://app.example:443", "https://app.example"),
            ("http://app.example:80/", "http://app.example"),
            ("https://app.example:80", "https://app.example:80"),
            ("http://app.example:443", "http://app.example:443"),
            ("https://[::1]:443", "https://[::1]"),
            ("https://app.example:4430", "https://app.example:4430"),
        ] {
            assert_eq!(
                raw.parse::<PublicOrigin>().unwrap().as_str(),
                origin,
                "{raw}"
            );
        }
    }

    #[test]
    fn refuses_what_is_not_an_origin() {
        for raw in [
            "app.example",
            "ftp://app.example",
            "https://",
            "https://app.example/app",
            "https://user@app.example",
            "https://app.example?x",
        ] {
            assert!(raw.parse::<PublicOrigin>().is_err(), "{raw}");
        }
    }
}
