//! The session cookie's policy.
//!
//! `__Host-session`: the `__Host-` prefix makes the browser refuse the cookie
//! unless it is `Secure`, has `Path=/` and no `Domain`, so a sibling
//! subdomain cannot plant or overwrite it (RFC 6265bis). `HttpOnly` keeps it
//! from scripts; `SameSite=Lax` keeps it off cross-site subrequests and
//! form posts.
//!
//! Browsers accept `Secure` cookies from `http://localhost`. To serve over
//! plain HTTP from another host in development, `secure: false` drops both
//! the prefix and the `Secure` flag; production refuses that setting.

use cookie::{Cookie, SameSite};
use time::OffsetDateTime;

/// Name of the session cookie when `Secure` (the default).
pub const SESSION_COOKIE: &str = "__Host-session";
/// Name used in insecure development mode, where `__Host-` is not allowed.
pub const SESSION_COOKIE_INSECURE: &str = "session";

/// Name of the refresh cookie when `Secure`. `__Secure-` (not `__Host-`,
/// which requires `Path=/`) so its path can be narrowed to the refresh
/// endpoint: no other request carries it.
pub const REFRESH_COOKIE: &str = "__Secure-refresh";
/// Refresh cookie name in insecure development mode.
pub const REFRESH_COOKIE_INSECURE: &str = "refresh";
/// The only path the refresh cookie is sent to.
pub const REFRESH_COOKIE_PATH: &str = "/api/auth";

/// Name of the CSRF cookie when `Secure`. Not `HttpOnly`: the browser app
/// reads it to send the `X-CSRF-Token` header (see [`crate::csrf`]).
pub const CSRF_COOKIE: &str = "__Host-csrf";
/// CSRF cookie name in insecure development mode.
pub const CSRF_COOKIE_INSECURE: &str = "csrf";

/// Name of the device cookie ([`crate::device`]) when `Secure`.
pub const DEVICE_COOKIE: &str = "__Host-device";
/// Device cookie name in insecure development mode.
pub const DEVICE_COOKIE_INSECURE: &str = "device";
/// The passkey ceremony cookie (see [`crate::passkey`]): `__Secure-`
/// rather than `__Host-`, as it is scoped to [`CEREMONY_COOKIE_PATH`].
pub const CEREMONY_COOKIE: &str = "__Secure-passkey";
/// Its name in insecure dev mode.
pub const CEREMONY_COOKIE_INSECURE: &str = "passkey";
/// Sent only to the passkey endpoints.
pub const CEREMONY_COOKIE_PATH: &str = "/api/passkeys";

/// The cookie binding an emailed sign-in link and code to the browser that
/// asked for them.
pub const SIGN_IN_COOKIE: &str = "__Host-signin";
/// Its name in insecure dev mode.
pub const SIGN_IN_COOKIE_INSECURE: &str = "signin";

/// How long a browser is remembered after its last sign-in.
pub const DEVICE_COOKIE_DAYS: i64 = 180;
/// The cookie that binds a sign-in with a provider to the browser that
/// started it (`SameSite=Lax`: the provider's redirect back is a
/// cross-site navigation, which a `Strict` cookie would not come with).
pub const FLOW_COOKIE: &str = "__Host-oidc";
/// [`FLOW_COOKIE`] in insecure dev mode.
pub const FLOW_COOKIE_INSECURE: &str = "oidc";
/// How long a started sign-in with a provider lasts (the engine's
/// `oidc::FLOW_TTL`).
pub const FLOW_COOKIE_SECS: i64 = 600;

/// Builds and clears the session and refresh cookies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CookiePolicy {
    secure: bool,
}

impl CookiePolicy {
    /// `secure` should be `true` everywhere except plain-HTTP development on
    /// a host other than localhost.
    #[must_use]
    pub fn new(secure: bool) -> Self {
        Self { secure }
    }

    /// The cookie's name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.pick(SESSION_COOKIE, SESSION_COOKIE_INSECURE)
    }

    /// Whether cookies are marked `Secure`.
    #[must_use]
    pub fn is_secure(&self) -> bool {
        self.secure
    }

    /// The cookie carrying `token`. With `persist_until`, a persistent cookie
    /// ("remember me"); otherwise a browser-session cookie.
    #[must_use]
    pub fn session_cookie(
        &self,
        token: &str,
        persist_until: Option<OffsetDateTime>,
    ) -> Cookie<'static> {
        self.build(Kind::Session, token, persist_until)
    }

    /// A cookie that deletes the session cookie.
    #[must_use]
    pub fn removal(&self) -> Cookie<'static> {
        self.removal_of(Kind::Session)
    }

    /// The refresh cookie's name.
    #[must_use]
    pub fn refresh_name(&self) -> &'static str {
        self.pick(REFRESH_COOKIE, REFRESH_COOKIE_INSECURE)
    }

    /// The cookie carrying a refresh token: `HttpOnly`, `SameSite=Strict`,
    /// and sent only to [`REFRESH_COOKIE_PATH`].
    #[must_use]
    pub fn refresh_cookie(
        &self,
        token: &str,
        persist_until: Option<OffsetDateTime>,
    ) -> Cookie<'static> {
        self.build(Kind::Refresh, token, persist_until)
    }

    /// A cookie that deletes the refresh cookie.
    #[must_use]
    pub fn refresh_removal(&self) -> Cookie<'static> {
        self.removal_of(Kind::Refresh)
    }

    /// The CSRF cookie's name.
    #[must_use]
    pub fn csrf_name(&self) -> &'static str {
        self.pick(CSRF_COOKIE, CSRF_COOKIE_INSECURE)
    }

    /// The cookie carrying a CSRF token: readable by the page's own script,
    /// `SameSite=Strict`, `Path=/`, lasting as long as the session cookie.
    #[must_use]
    pub fn csrf_cookie(
        &self,
        token: &str,
        persist_until: Option<OffsetDateTime>,
    ) -> Cookie<'static> {
        self.build(Kind::Csrf, token, persist_until)
    }

    /// A cookie that deletes the CSRF cookie.
    #[must_use]
    pub fn csrf_removal(&self) -> Cookie<'static> {
        self.removal_of(Kind::Csrf)
    }

    /// The device cookie's name.
    #[must_use]
    pub fn device_name(&self) -> &'static str {
        self.pick(DEVICE_COOKIE, DEVICE_COOKIE_INSECURE)
    }

    /// The cookie carrying device tokens: `HttpOnly`, `SameSite=Strict`,
    /// kept [`DEVICE_COOKIE_DAYS`] from now. Signing out keeps it: it
    /// grants nothing but an exemption from lockouts.
    #[must_use]
    pub fn device_cookie(&self, value: &str) -> Cookie<'static> {
        let until = OffsetDateTime::now_utc() + time::Duration::days(DEVICE_COOKIE_DAYS);
        self.build(Kind::Device, value, Some(until))
    }

    /// A cookie that deletes the device cookie (the account is gone).
    #[must_use]
    pub fn device_removal(&self) -> Cookie<'static> {
        self.removal_of(Kind::Device)
    }

    /// The passkey ceremony cookie's name.
    #[must_use]
    pub fn ceremony_name(&self) -> &'static str {
        self.pick(CEREMONY_COOKIE, CEREMONY_COOKIE_INSECURE)
    }

    /// The cookie naming this browser's passkey ceremony: `HttpOnly`,
    /// `SameSite=Strict`, sent only to [`CEREMONY_COOKIE_PATH`], and gone
    /// when the ceremony expires.
    #[must_use]
    pub fn ceremony_cookie(&self, token: &str) -> Cookie<'static> {
        let mut cookie = self.build(Kind::Ceremony, token, None);
        cookie.set_max_age(crate::passkey::CEREMONY_TTL);
        cookie
    }

    /// A cookie that deletes the ceremony cookie (the ceremony is over).
    #[must_use]
    pub fn ceremony_removal(&self) -> Cookie<'static> {
        self.removal_of(Kind::Ceremony)
    }

    /// The sign-in link cookie's name.
    #[must_use]
    pub fn sign_in_name(&self) -> &'static str {
        self.pick(SIGN_IN_COOKIE, SIGN_IN_COOKIE_INSECURE)
    }

    /// The cookie binding an emailed sign-in link and code to this browser:
    /// `HttpOnly`, `SameSite=Strict`, gone when the link expires.
    #[must_use]
    pub fn sign_in_cookie(&self, value: &str) -> Cookie<'static> {
        let mut cookie = self.build(Kind::SignIn, value, None);
        cookie.set_max_age(crate::email::LinkPurpose::SignIn.lifetime());
        cookie
    }

    /// A cookie that deletes the sign-in link cookie (it was used).
    #[must_use]
    pub fn sign_in_removal(&self) -> Cookie<'static> {
        self.removal_of(Kind::SignIn)
    }

    /// The provider sign-in cookie's name.
    #[must_use]
    pub fn flow_name(&self) -> &'static str {
        self.pick(FLOW_COOKIE, FLOW_COOKIE_INSECURE)
    }

    /// The cookie binding a sign-in with a provider to this browser:
    /// `HttpOnly`, `SameSite=Lax` (it must come back with the provider's
    /// redirect), gone when the flow expires.
    #[must_use]
    pub fn flow_cookie(&self, value: &str) -> Cookie<'static> {
        let mut cookie = self.build(Kind::Flow, value, None);
        cookie.set_max_age(time::Duration::seconds(FLOW_COOKIE_SECS));
        cookie
    }

    /// A cookie that deletes the provider sign-in cookie (it was used).
    #[must_use]
    pub fn flow_removal(&self) -> Cookie<'static> {
        self.removal_of(Kind::Flow)
    }

    /// The secure name, or the insecure one in insecure dev mode.
    fn pick(&self, secure: &'static str, insecure: &'static str) -> &'static str {
        if self.secure {
            secure
        } else {
            insecure
        }
    }

    fn removal_of(&self, kind: Kind) -> Cookie<'static> {
        let mut cookie = self.build(kind, "", None);
        cookie.make_removal();
        cookie
    }

    /// Session and refresh cookies are `HttpOnly`; all are `Secure` unless
    /// insecure dev mode.
    fn build(
        &self,
        kind: Kind,
        value: &str,
        persist_until: Option<OffsetDateTime>,
    ) -> Cookie<'static> {
        let (name, path, same_site) = match kind {
            Kind::Session => (self.name(), "/", SameSite::Lax),
            Kind::Refresh => (self.refresh_name(), REFRESH_COOKIE_PATH, SameSite::Strict),
            Kind::Csrf => (self.csrf_name(), "/", SameSite::Strict),
            Kind::Device => (self.device_name(), "/", SameSite::Strict),
            Kind::Ceremony => (self.ceremony_name(), CEREMONY_COOKIE_PATH, SameSite::Strict),
            Kind::SignIn => (self.sign_in_name(), "/", SameSite::Strict),
            Kind::Flow => (self.flow_name(), "/", SameSite::Lax),
        };
        let mut cookie = Cookie::build((name, value.to_owned()))
            .http_only(!matches!(kind, Kind::Csrf))
            .secure(self.secure)
            .same_site(same_site)
            .path(path)
            .build();
        if let Some(until) = persist_until {
            // Browsers cap cookie lifetimes at 400 days anyway.
            let cap = OffsetDateTime::now_utc() + time::Duration::days(400);
            cookie.set_expires(until.min(cap));
        }
        cookie
    }
}

/// What a request carries under one cookie name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CookieValue {
    /// Not sent.
    Missing,
    /// Sent more than once: a sign of cookie injection (e.g. a cookie
    /// planted by a sibling domain next to ours). Trust neither.
    Ambiguous,
    /// Sent once.
    One(String),
}

/// Finds cookie `name` in a request's `Cookie` header values. The name
/// match is exact (case-sensitive), as browsers send it.
#[must_use]
pub fn find<'a>(headers: impl IntoIterator<Item = &'a str>, name: &str) -> CookieValue {
    let [value] = find_each(headers, [name]);
    value
}

/// [`find`] for several names in one pass over the headers: each request
/// reads its session, CSRF and refresh cookies, and parsing the header once
/// per name cost three times the parse.
#[must_use]
pub fn find_each<'a, const N: usize>(
    headers: impl IntoIterator<Item = &'a str>,
    names: [&str; N],
) -> [CookieValue; N] {
    let mut found = std::array::from_fn(|_| CookieValue::Missing);
    for value in headers {
        for cookie in Cookie::split_parse(value).flatten() {
            if let Some(i) = names.iter().position(|name| *name == cookie.name()) {
                found[i] = match &found[i] {
                    CookieValue::Missing => CookieValue::One(cookie.value().to_owned()),
                    CookieValue::One(_) | CookieValue::Ambiguous => CookieValue::Ambiguous,
                };
            }
        }
    }
    found
}

#[derive(Clone, Copy)]
enum Kind {
    Session,
    Refresh,
    Csrf,
    Device,
    Ceremony,
    SignIn,
    Flow,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_by_exact_name_in_every_header_once_each() {
        let headers = ["a=1; session=tok; b=2", "csrf=c; Session=other"];
        assert_eq!(
            find_each(headers, ["session", "csrf", "refresh"]),
            [
                CookieValue::One("tok".into()),
                CookieValue::One("c".into()),
                CookieValue::Missing,
            ]
        );
        assert_eq!(find(headers, "b"), CookieValue::One("2".into()));
        assert_eq!(find([] as [&str; 0], "session"), CookieValue::Missing);
    }

    #[test]
    fn a_cookie_sent_twice_is_ambiguous_however_often_it_comes() {
        for headers in [
            vec!["session=a; session=b"],
            vec!["session=a", "x=1; session=b"],
            vec!["session=a; session=b; session=c"],
        ] {
            let [session, csrf] = find_each(headers.iter().copied(), ["session", "csrf"]);
            assert_eq!(session, CookieValue::Ambiguous, "{headers:?}");
            assert_eq!(csrf, CookieValue::Missing);
        }
    }

    #[test]
    fn secure_cookie_has_every_host_prefix_requirement() {
        let header = CookiePolicy::new(true)
            .session_cookie("tok", None)
            .to_string();
        assert!(header.starts_with("__Host-session=tok"), "{header}");
        for attr in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
            assert!(header.contains(attr), "{attr} missing: {header}");
        }
        assert!(!header.contains("Domain"), "{header}");
        assert!(
            !header.contains("Expires"),
            "browser-session cookie: {header}"
        );
    }

    #[test]
    fn remember_me_sets_an_expiry() {
        let until = OffsetDateTime::now_utc() + time::Duration::days(30);
        let header = CookiePolicy::new(true)
            .session_cookie("tok", Some(until))
            .to_string();
        assert!(header.contains("Expires="), "{header}");
    }

    /// What the guide and SECURITY.md promise of the cookie that binds a
    /// mailed sign-in to its browser.
    #[test]
    fn the_flow_cookie_is_private_lax_host_bound_and_as_short_as_its_flow() {
        let policy = CookiePolicy::new(true);
        let header = policy.flow_cookie("f").to_string();
        assert!(header.starts_with("__Host-oidc=f"), "{header}");
        for attr in [
            "HttpOnly",
            "Secure",
            "SameSite=Lax",
            "Path=/",
            "Max-Age=600",
        ] {
            assert!(header.contains(attr), "{attr} missing: {header}");
        }
        assert!(policy.flow_removal().to_string().contains("Max-Age=0"));
    }

    #[test]
    fn the_sign_in_cookie_is_private_strict_host_bound_and_as_short_as_its_link() {
        let policy = CookiePolicy::new(true);
        let header = policy.sign_in_cookie("b").to_string();
        assert!(header.starts_with("__Host-signin=b"), "{header}");
        for attr in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Max-Age=900",
        ] {
            assert!(header.contains(attr), "{attr} missing: {header}");
        }
        let removal = policy.sign_in_removal().to_string();
        assert!(removal.starts_with("__Host-signin=;"), "{removal}");
        assert!(removal.contains("Max-Age=0"), "{removal}");
    }

    #[test]
    fn the_device_cookie_is_private_strict_and_lasting() {
        let header = CookiePolicy::new(true).device_cookie("d").to_string();
        assert!(header.starts_with("__Host-device=d"), "{header}");
        for attr in [
            "HttpOnly",
            "Secure",
            "SameSite=Strict",
            "Path=/",
            "Expires=",
        ] {
            assert!(header.contains(attr), "{attr} missing: {header}");
        }
        let plain = CookiePolicy::new(false).device_cookie("d").to_string();
        assert!(
            plain.starts_with("device=d") && !plain.contains("Secure"),
            "{plain}"
        );
    }

    #[test]
    fn removal_expires_the_same_cookie() {
        let header = CookiePolicy::new(true).removal().to_string();
        assert!(header.starts_with("__Host-session=;"), "{header}");
        assert!(header.contains("Max-Age=0"), "{header}");
        assert!(header.contains("Path=/"), "{header}");
    }

    #[test]
    fn refresh_cookie_is_narrow_and_strict() {
        let header = CookiePolicy::new(true)
            .refresh_cookie("r", None)
            .to_string();
        assert!(header.starts_with("__Secure-refresh=r"), "{header}");
        for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/auth"] {
            assert!(header.contains(attr), "{attr} missing: {header}");
        }
    }

    #[test]
    fn csrf_cookie_is_readable_by_script_but_host_bound_and_strict() {
        let header = CookiePolicy::new(true).csrf_cookie("t", None).to_string();
        assert!(header.starts_with("__Host-csrf=t"), "{header}");
        for attr in ["Secure", "SameSite=Strict", "Path=/"] {
            assert!(header.contains(attr), "{attr} missing: {header}");
        }
        assert!(!header.contains("HttpOnly"), "{header}");
    }

    #[test]
    fn insecure_mode_drops_the_prefix() {
        let header = CookiePolicy::new(false)
            .session_cookie("tok", None)
            .to_string();
        assert!(header.starts_with("session=tok"), "{header}");
        assert!(!header.contains("Secure"), "{header}");
    }
}
