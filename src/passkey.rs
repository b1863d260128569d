//! Passkeys (WebAuthn): the relying party, and the state a ceremony keeps
//! between its two requests.
//!
//! A passkey is one more way to prove who you are. What it proves leads to
//! the same session, refresh token and access token as a password
//! ([`crate::Auth`]'s `passkey_*` methods); this module only holds what is
//! WebAuthn's own:
//!
//! - [`RelyingParty`]: the RP ID and the origins a ceremony may come from.
//!   In production, `PUBLIC_URL`'s host and origin; in development,
//!   `localhost` on any port, so tests on random ports work. An IP address
//!   is never an RP ID (WebAuthn Level 3).
//! - [`Ceremony`]: what the server remembers between a ceremony's `start`
//!   and `finish` (its challenge, and whom it is for). Kept in the session
//!   store ([`crate::store::Ceremonies`]) under the hash of a random token
//!   that only the browser that started it holds (in a cookie), single-use
//!   and for [`CEREMONY_TTL`]; any instance can finish what another
//!   started. A sign-in's, which anyone may start, is kept by the browser
//!   instead, signed by [`CeremonySeal`]: starting one stores nothing.
//!
//! The checks themselves (challenge, origin, RP ID hash, user
//! verification, signature, signature counter) are `webauthn-rs`'s.

use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, PasskeyAuthentication, PasskeyRegistration, Url, Webauthn,
    WebauthnBuilder,
};

use crate::Error;

pub use webauthn_rs::prelude::{
    CreationChallengeResponse, Passkey, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse,
};

/// How long a started ceremony can be finished: long enough for a person
/// to find their phone, short enough that a leaked challenge is stale.
pub const CEREMONY_TTL: time::Duration = time::Duration::minutes(5);

/// The longest name a passkey can be given.
pub const NAME_MAX_CHARS: usize = 64;

/// Who the passkeys are for: the RP ID they are scoped to, and the origins
/// a ceremony may come from.
#[derive(Clone)]
pub struct RelyingParty {
    webauthn: std::sync::Arc<Webauthn>,
    id: String,
}

impl std::fmt::Debug for RelyingParty {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RelyingParty")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl RelyingParty {
    /// The relying party of the site served at `origin` (`PUBLIC_URL`):
    /// its host is the RP ID, and only that exact origin is accepted.
    ///
    /// # Errors
    /// [`Error::Invalid`] for an origin that cannot have one (an IP
    /// address, or no host).
    pub fn for_origin(origin: &str, name: &str) -> Result<Self, Error> {
        let url = Url::parse(origin).map_err(|_| Error::Invalid("PUBLIC_URL is not a URL"))?;
        let host = url
            .domain()
            .ok_or(Error::Invalid(
                "passkeys need PUBLIC_URL to name a domain, not an IP address",
            ))?
            .to_owned();
        Self::build(&host, &url, name, false)
    }

    /// The development relying party: RP ID `localhost`, and any
    /// `http://localhost:<port>` (or https) origin.
    ///
    /// # Errors
    /// Never in practice; `webauthn-rs` checks the pair.
    pub fn localhost(name: &str) -> Result<Self, Error> {
        let url = Url::parse("http://localhost").map_err(|_| Error::Invalid("bad origin"))?;
        Self::build("localhost", &url, name, true)
    }

    fn build(id: &str, origin: &Url, name: &str, any_port: bool) -> Result<Self, Error> {
        let mut builder = WebauthnBuilder::new(id, origin)
            .map_err(|_| Error::Invalid("the RP ID is not the origin's host"))?
            .rp_name(name)
            .allow_any_port(any_port);
        if any_port {
            // The same host over TLS (a local proxy), on any port too.
            let tls =
                Url::parse(&format!("https://{id}")).map_err(|_| Error::Invalid("bad origin"))?;
            builder = builder.append_allowed_origin(&tls);
        }
        let webauthn = builder
            .build()
            .map_err(|_| Error::Invalid("passkey settings refused"))?;
        Ok(Self {
            webauthn: std::sync::Arc::new(webauthn),
            id: id.to_owned(),
        })
    }

    /// The RP ID.
    #[must_use]
    pub fn id(&self) -> &str {
        &self.id
    }

    pub(crate) fn webauthn(&self) -> &Webauthn {
        &self.webauthn
    }
}

/// What a started ceremony is for (ids as text), with `webauthn-rs`'s
/// state for it.
#[derive(Serialize, Deserialize)]
pub(crate) enum Ceremony {
    /// Adding a passkey to a signed-in account.
    Register {
        user: String,
        state: PasskeyRegistration,
    },
    /// Creating an account whose only credential is this passkey.
    SignUp {
        user: String,
        username: String,
        state: PasskeyRegistration,
    },
    /// Signing in with whichever of its passkeys the browser offers.
    SignIn { state: DiscoverableAuthentication },
    /// Proving a passkey again in a session, before a sensitive action.
    Confirm {
        session: String,
        state: PasskeyAuthentication,
    },
}

impl Ceremony {
    pub(crate) fn encode(&self) -> Result<String, Error> {
        serde_json::to_string(self).map_err(Error::storage)
    }

    pub(crate) fn decode(raw: &str) -> Result<Self, Error> {
        serde_json::from_str(raw).map_err(Error::storage)
    }
}

/// Signs a ceremony's state into the token the browser's ceremony cookie
/// carries, `s1.<expiry>.<state>.<mac>` (the state base64url, the MAC
/// HMAC-SHA256 over both). The state holds the challenge, which the
/// browser was given anyway; the MAC keeps it from being altered or
/// extended. Derived from the site's secret, so every instance opens what
/// another sealed.
#[derive(Clone)]
pub struct CeremonySeal([u8; 32]);

/// The prefix of a sealed token (a stored ceremony's token is bare
/// base64url, without dots).
const SEALED: &str = "s1.";

impl CeremonySeal {
    /// The seal for `site`'s secret (a key of its own: a MAC made for
    /// another purpose never opens here).
    #[must_use]
    pub fn derive(site: &crate::csrf::CsrfKey) -> Self {
        Self(crate::device::hmac_sha256(
            site.as_bytes(),
            &[b"passkey-ceremony-v1"],
        ))
    }

    /// A random seal, for one instance (and tests).
    #[must_use]
    pub fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::Rng::fill_bytes(&mut rand::rng(), &mut key);
        Self(key)
    }

    /// Whether `token` is a sealed ceremony rather than a stored one's key.
    #[must_use]
    pub fn is_sealed(token: &str) -> bool {
        token.starts_with(SEALED)
    }

    /// `state`, good until `expires_at`.
    #[must_use]
    pub fn seal(&self, state: &str, expires_at: time::OffsetDateTime) -> String {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        let body = format!(
            "{SEALED}{}.{}",
            expires_at.unix_timestamp(),
            URL_SAFE_NO_PAD.encode(state)
        );
        let mac = URL_SAFE_NO_PAD.encode(self.mac(&body));
        format!("{body}.{mac}")
    }

    /// The state sealed in `token`, if the seal holds and it has not
    /// expired at `now`.
    #[must_use]
    pub fn open(&self, token: &str, now: time::OffsetDateTime) -> Option<String> {
        use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine as _};
        use subtle::ConstantTimeEq as _;
        if token.len() > MAX_SEALED_LEN {
            return None;
        }
        let (body, mac) = token.rsplit_once('.')?;
        let mac = URL_SAFE_NO_PAD.decode(mac).ok()?;
        if !bool::from(self.mac(body).as_slice().ct_eq(&mac)) {
            return None;
        }
        let (expires, state) = body.strip_prefix(SEALED)?.split_once('.')?;
        if now.unix_timestamp() >= expires.parse::<i64>().ok()? {
            return None;
        }
        String::from_utf8(URL_SAFE_NO_PAD.decode(state).ok()?).ok()
    }

    fn mac(&self, body: &str) -> [u8; 32] {
        crate::device::hmac_sha256(&self.0, &[body.as_bytes()])
    }
}

/// Longest sealed token read (a sign-in's state is a few hundred bytes).
const MAX_SEALED_LEN: usize = 2048;

impl std::fmt::Debug for CeremonySeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CeremonySeal(<redacted>)")
    }
}

/// A passkey's display name: trimmed, control characters dropped, at most
/// [`NAME_MAX_CHARS`]; an empty one becomes `fallback`.
#[must_use]
pub fn clean_name(raw: Option<&str>, fallback: &str) -> String {
    let name: String = raw
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_control())
        .collect::<String>()
        .trim()
        .chars()
        .take(NAME_MAX_CHARS)
        .collect();
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_takes_the_public_host_and_refuses_addresses() {
        let rp = RelyingParty::for_origin("https://app.example", "App").unwrap();
        assert_eq!(rp.id(), "app.example");
        assert!(RelyingParty::for_origin("https://127.0.0.1:8443", "App").is_err());
        assert!(RelyingParty::for_origin("http://[::1]:3000", "App").is_err());
        assert_eq!(RelyingParty::localhost("App").unwrap().id(), "localhost");
    }

    #[test]
    fn a_sealed_state_opens_only_unaltered_unexpired_and_under_its_seal() {
        let seal = CeremonySeal::generate();
        let now = time::OffsetDateTime::from_unix_timestamp(1_900_000_000).unwrap();
        let token = seal.seal(r#"{"state":1}"#, now + CEREMONY_TTL);
        assert!(CeremonySeal::is_sealed(&token));
        assert_eq!(seal.open(&token, now).as_deref(), Some(r#"{"state":1}"#));
        assert_eq!(seal.open(&token, now + CEREMONY_TTL), None, "expired");
        assert_eq!(
            CeremonySeal::generate().open(&token, now),
            None,
            "another seal"
        );
        // Any one character changed, anywhere, breaks it.
        for at in 0..token.len() {
            let mut bytes = token.clone().into_bytes();
            bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
            let altered = String::from_utf8(bytes).unwrap();
            if altered != token {
                assert_eq!(seal.open(&altered, now), None, "changed at {at}");
            }
        }
        // A later expiry cannot be written in.
        let later = token.replacen(
            &(now + CEREMONY_TTL).unix_timestamp().to_string(),
            &(now + CEREMONY_TTL * 100_i32).unix_timestamp().to_string(),
            1,
        );
        assert_eq!(seal.open(&later, now), None);
        assert_eq!(seal.open(&"x".repeat(5000), now), None);
    }

    #[test]
    fn names_are_trimmed_bounded_and_never_empty() {
        assert_eq!(clean_name(Some("  Laptop \n"), "Passkey"), "Laptop");
        assert_eq!(clean_name(Some("   "), "Passkey"), "Passkey");
        assert_eq!(clean_name(None, "Passkey"), "Passkey");
        assert_eq!(
            clean_name(Some(&"x".repeat(200)), "Passkey")
                .chars()
                .count(),
            NAME_MAX_CHARS
        );
    }
}
