//! Device cookies (OWASP, "Slow Down Online Guessing Attacks with Device
//! Cookies"): a browser that has signed in to an account carries a token
//! the server signed for that account. The account's lockout
//! ([`crate::throttle`]) spares such a browser, so a stranger's wrong
//! guesses cannot lock the owner out of their own devices.
//!
//! A token is `nonce.mac`, the MAC over the case-folded account name and
//! the nonce: it does not show the name, and only a sign-in that names the
//! account can check it. One cookie keeps the tokens of the last
//! [`TOKENS_KEPT`] accounts signed in from this browser, newest first.

use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
use hmac::Mac as _;
use rand::Rng as _;
use subtle::ConstantTimeEq as _;

use crate::{csrf::CsrfKey, throttle::account_key};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Accounts remembered per browser.
pub const TOKENS_KEPT: usize = 4;
/// Length of one encoded token: 22 (nonce) + 1 + 43 (MAC).
const TOKEN_LEN: usize = 66;
/// Between tokens in the cookie (not in base64url's alphabet).
const SEPARATOR: char = '~';

/// Signs and checks device tokens; derived from the site's secret, so every
/// instance that shares `CSRF_SECRET` recognises the same browsers.
#[derive(Clone)]
pub struct DeviceKey([u8; 32]);

impl DeviceKey {
    /// The device key for `site`'s secret (a separate key: a MAC made for
    /// one purpose is never valid for the other).
    #[must_use]
    pub fn derive(site: &CsrfKey) -> Self {
        Self(hmac_sha256(site.as_bytes(), &[b"device-key-v1"]))
    }

    /// Whether the cookie value `cookie` holds a token for `account`.
    #[must_use]
    pub fn recognises(&self, account: &str, cookie: &str) -> bool {
        let account = account_key(account);
        cookie
            .split(SEPARATOR)
            .take(TOKENS_KEPT)
            .any(|token| self.verify(&account, token))
    }

    /// The cookie value after a sign-in to `account`: a new token for it
    /// first, then the tokens for other accounts that `previous` held.
    #[must_use]
    pub fn remember(&self, account: &str, previous: Option<&str>) -> String {
        let account = account_key(account);
        let mut nonce = [0u8; 16];
        rand::rng().fill_bytes(&mut nonce);
        let nonce = URL_SAFE_NO_PAD.encode(nonce);
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&account, &nonce));
        let fresh = format!("{nonce}.{mac}");
        let others = previous
            .unwrap_or_default()
            .split(SEPARATOR)
            .filter(|token| token.len() == TOKEN_LEN && !self.verify(&account, token))
            .take(TOKENS_KEPT - 1);
        std::iter::once(fresh.as_str())
            .chain(others)
            .collect::<Vec<_>>()
            .join(&SEPARATOR.to_string())
    }

    fn verify(&self, account: &str, token: &str) -> bool {
        let Some((nonce, mac)) = token.split_once('.') else {
            return false;
        };
        token.len() == TOKEN_LEN
            && URL_SAFE_NO_PAD
                .decode(mac)
                .is_ok_and(|mac| bool::from(self.mac(account, nonce).as_slice().ct_eq(&mac)))
    }

    fn mac(&self, account: &str, nonce: &str) -> [u8; 32] {
        hmac_sha256(&self.0, &[account.as_bytes(), b"|", nonce.as_bytes()])
    }
}

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(<redacted>)")
    }
}

/// HMAC-SHA256 of `parts` under `key`. Any key length fits HMAC, so the
/// error arm cannot happen; a MAC nobody can match fails closed.
fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
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

    #[test]
    fn a_token_names_its_account_only() {
        let key = key();
        let cookie = key.remember("Alice", None);
        assert!(key.recognises(" alice ", &cookie), "names are case-folded");
        assert!(!key.recognises("bob", &cookie));
        assert!(!cookie.to_lowercase().contains("alice"), "{cookie}");
        assert!(!DeviceKey::derive(&CsrfKey::generate()).recognises("alice", &cookie));
    }

    #[test]
    fn the_cookie_keeps_the_last_accounts_newest_first() {
        let key = key();
        let mut cookie = None;
        for name in ["a", "b", "c", "d", "e", "c"] {
            cookie = Some(key.remember(name, cookie.as_deref()));
        }
        let cookie = cookie.unwrap();
        assert_eq!(cookie.split(SEPARATOR).count(), TOKENS_KEPT, "{cookie}");
        for name in ["c", "e", "d", "b"] {
            assert!(key.recognises(name, &cookie), "{name}");
        }
        assert!(!key.recognises("a", &cookie), "the oldest is dropped");
    }

    #[test]
    fn malformed_values_are_not_recognised() {
        let key = key();
        let good = key.remember("alice", None);
        // One MAC character changed (to another one, whatever it was).
        let at = good.len() - 10;
        let other = if &good[at..=at] == "A" { "B" } else { "A" };
        let altered = format!("{}{other}{}", &good[..at], &good[at + 1..]);
        for bad in [
            "",
            "~~~~",
            ".",
            &good[..good.len() - 1],
            &altered,
            &"x".repeat(10_000),
        ] {
            assert!(!key.recognises("alice", bad), "{bad}");
        }
        let kept = key.remember("bob", Some("junk~more junk"));
        assert_eq!(kept.split(SEPARATOR).count(), 1, "junk is dropped");
    }
}
