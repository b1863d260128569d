//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
//! Cookies"): a browser that has signed in to an account carries a token
//! the server signed for that account. The account's lockout
//! ([`crate::throttle`]) spares such a browser, so a stranger's wrong
//! guesses cannot lock the owner out of their own devices.
//!
//! A token is `nonce.issued.version.mac`, the MAC over the account's id,
//! the nonce, when it was issued and the account's credentials version
//! then ([`crate::Account::credentials_version`]). It counts only:
//! - for that account (not for a name registered again after a deletion);
//! - for [`DEVICE_TTL`] after it was issued;
//! - while the account's credentials version is the same: a password
//!   change, or "sign out everywhere", ends every device token at once;
//! - while its own failure budget lasts (the web layer counts a wrong
//!   password from a recognised browser against its nonce,
//!   [`crate::throttle::Throttle::record_device_failure`]), so a copied
//!   cookie does not buy its holder unlimited guesses past the lock.
//!
//! One cookie keeps the tokens of the last [`TOKENS_KEPT`] accounts signed
//! in from this browser, newest first.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::Mac as _;
use rand::Rng as _;
use subtle::ConstantTimeEq as _;
use time::{Duration, OffsetDateTime};

use crate::{csrf::CsrfKey, id::UserId};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Accounts remembered per browser.
pub const TOKENS_KEPT: usize = 4;
/// How long a device token counts after it was issued (each sign-in from
/// the browser issues a new one).
pub const DEVICE_TTL: Duration = Duration::days(365);
/// Between tokens in the cookie (not in base64url's alphabet).
const SEPARATOR: char = '~';
/// Longest token read: 22 (nonce) + 3 dots + two decimals + 43 (MAC).
const MAX_TOKEN_LEN: usize = 120;

/// Signs and checks device tokens; derived from the site's secret, so every
/// instance that shares `CSRF_SECRET` recognises the same browsers.
#[derive(Clone)]
pub struct DeviceKey([u8; 32]);

/// A device token that counts for an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recognised {
    /// The token's nonce: the key of its own failure budget.
    pub nonce: String,
}

/// A token's parts, once split (its MAC not checked yet).
struct Token<'a> {
    nonce: &'a str,
    issued: i64,
    version: i64,
    mac: &'a str,
}

impl<'a> Token<'a> {
    fn parse(token: &'a str) -> Option<Self> {
        if token.len() > MAX_TOKEN_LEN {
            return None;
        }
        let mut parts = token.split('.');
        let (nonce, issued, version, mac) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        Some(Self {
            nonce,
            issued: issued.parse().ok()?,
            version: version.parse().ok()?,
            mac,
        })
    }
}

impl DeviceKey {
    /// The device key for `site`'s secret (a separate key: a MAC made for
    /// one purpose is never valid for the other).
    #[must_use]
    pub fn derive(site: &CsrfKey) -> Self {
        Self(hmac_sha256(site.as_bytes(), &[b"device-key-v2"]))
    }

    /// The token in `cookie` that counts for account `user` at credentials
    /// `version` at `now`, if there is one.
    #[must_use]
    pub fn recognises(
        &self,
        user: UserId,
        version: i64,
        cookie: &str,
        now: OffsetDateTime,
    ) -> Option<Recognised> {
        let now = now.unix_timestamp();
        cookie
            .split(SEPARATOR)
            .take(TOKENS_KEPT)
            .filter_map(Token::parse)
            .find(|token| {
                token.version == version
                    && token.issued <= now + 60
                    && now - token.issued < DEVICE_TTL.whole_seconds()
                    && self.verify(user, token)
            })
            .map(|token| Recognised {
                nonce: token.nonce.to_owned(),
            })
    }

    /// The cookie value after a sign-in to `user` (at credentials
    /// `version`): a new token for it first, then the tokens for other
    /// accounts that `previous` held.
    #[must_use]
    pub fn remember(
        &self,
        user: UserId,
        version: i64,
        now: OffsetDateTime,
        previous: Option<&str>,
    ) -> String {
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let issued = now.unix_timestamp();
        let mac = URL_SAFE_NO_PAD.encode(self.mac(user, &nonce, issued, version));
        let fresh = format!("{nonce}.{issued}.{version}.{mac}");
        let others = previous
            .unwrap_or_default()
            .split(SEPARATOR)
            .filter(|token| Token::parse(token).is_some_and(|t| !self.verify(user, &t)))
            .take(TOKENS_KEPT - 1);
        std::iter::once(fresh.as_str())
            .chain(others)
            .collect::<Vec<_>>()
            .join(&SEPARATOR.to_string())
    }

    /// Whether the token's MAC is this key's for `user`.
    fn verify(&self, user: UserId, token: &Token<'_>) -> bool {
        URL_SAFE_NO_PAD.decode(token.mac).is_ok_and(|mac| {
            let expected = self.mac(user, token.nonce, token.issued, token.version);
            bool::from(expected.as_slice().ct_eq(&mac))
        })
    }

    fn mac(&self, user: UserId, nonce: &str, issued: i64, version: i64) -> [u8; 32] {
        let (issued, version) = (issued.to_string(), version.to_string());
        hmac_sha256(
            &self.0,
            &[
                user.to_string().as_bytes(),
                b"|",
                nonce.as_bytes(),
                b"|",
                issued.as_bytes(),
                b"|",
                version.as_bytes(),
            ],
        )
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(<redacted>)")
    }
}

/// HMAC-SHA256 of `parts` under `key`. Any key length fits HMAC, so the
/// error arm cannot happen; a MAC nobody can match fails closed.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let Ok(mut mac) = <HmacSha256 as hmac::KeyInit>::new_from_slice(key) else {
        return [0u8; 32];
    };
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DeviceKey {
        DeviceKey::derive(&CsrfKey::generate())
    }

    fn now() -> OffsetDateTime {
        OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap()
    }

    #[test]
    fn a_token_names_its_account_only() {
        let (key, alice, bob) = (key(), UserId::new(), UserId::new());
        let cookie = key.remember(alice, 0, now(), None);
        assert!(key.recognises(alice, 0, &cookie, now()).is_some());
        assert!(key.recognises(bob, 0, &cookie, now()).is_none());
        assert!(!cookie.contains(&alice.to_string()), "{cookie}");
        assert!(DeviceKey::derive(&CsrfKey::generate())
            .recognises(alice, 0, &cookie, now())
            .is_none());
    }

    #[test]
    fn a_token_ends_with_its_year_or_its_credentials_version() {
        let (key, alice) = (key(), UserId::new());
        let cookie = key.remember(alice, 3, now(), None);
        assert!(key.recognises(alice, 3, &cookie, now()).is_some());
        assert!(
            key.recognises(alice, 4, &cookie, now()).is_none(),
            "a password change or sign out everywhere moved the version"
        );
        let almost = now() + DEVICE_TTL - Duration::seconds(1);
        assert!(key.recognises(alice, 3, &cookie, almost).is_some());
        assert!(key
            .recognises(alice, 3, &cookie, now() + DEVICE_TTL)
            .is_none());
        assert!(
            key.recognises(alice, 3, &cookie, now() - Duration::hours(1))
                .is_none(),
            "issued in the future"
        );
    }

    #[test]
    fn the_cookie_keeps_the_last_accounts_newest_first() {
        let key = key();
        let users: Vec<UserId> = (0..5).map(|_| UserId::new()).collect();
        let mut cookie = None;
        for user in users.iter().chain([&users[2]]) {
            cookie = Some(key.remember(*user, 0, now(), cookie.as_deref()));
        }
        let cookie = cookie.unwrap();
        assert_eq!(cookie.split(SEPARATOR).count(), TOKENS_KEPT, "{cookie}");
        for n in [2, 4, 3, 1] {
            assert!(key.recognises(users[n], 0, &cookie, now()).is_some(), "{n}");
        }
        assert!(
            key.recognises(users[0], 0, &cookie, now()).is_none(),
            "the oldest is dropped"
        );
    }

    #[test]
    fn malformed_values_are_not_recognised() {
        let (key, alice) = (key(), UserId::new());
        let good = key.remember(alice, 0, now(), None);
        // One MAC character changed (to another one, whatever it was).
        let at = good.len() - 10;
        let other = if &good[at..=at] == "A" { "B" } else { "A" };
        let altered = format!("{}{other}{}", &good[..at], &good[at + 1..]);
        let later = good.replacen(&now().unix_timestamp().to_string(), "1999999999", 1);
        for bad in [
            "",
            "~~~~",
            ".",
            "a.b.c.d",
            &good[..good.len() - 1],
            &altered,
            &later,
            &"x".repeat(10_000),
        ] {
            assert!(key.recognises(alice, 0, bad, now()).is_none(), "{bad}");
        }
        let kept = key.remember(alice, 0, now(), Some("junk~more junk"));
        assert_eq!(kept.split(SEPARATOR).count(), 1, "junk is dropped");
    }
}
