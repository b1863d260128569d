//! Signing in with a link or a code sent by email, for an account with a
//! confirmed address.
//!
//! - Asking answers the same for every well-formed address, before any
//!   lookup (as a reset request does).
//! - Both are bound to the browser that asked: its sign-in cookie (random,
//!   HttpOnly) is hashed into the link's row, and the code is hashed with
//!   it. A link opened elsewhere, or a code typed elsewhere, signs nobody
//!   in, so a mail that leaks (forwarded, read over a shoulder) is not an
//!   account.
//! - One use, 15 minutes, the newest only; five wrong codes end the link.
//! - The sign-in itself is a sign-in like any other: new session (no
//!   fixation), notices for a new browser, the event log.

use super::{email::hash_of, Auth};
use crate::{
    email::{
        link::{code_hash, parse_code},
        EmailAddress, LinkPurpose, LinkRecord, NewLink,
    },
    record::{AuthEventKind, ClientInfo},
    Error, NewSession,
};

/// Where a sign-in link points; the token follows.
pub const SIGN_IN_PATH: &str = "/login/link?token=";

impl Auth {
    /// Mails a sign-in link and code to `raw` if an account has confirmed
    /// it, bound to the browser whose sign-in cookie is `binding`; in the
    /// background, so it returns at once, the same way for any
    /// well-formed address.
    ///
    /// # Errors
    /// [`Error::InvalidEmail`] for what is not an address;
    /// [`Error::LinkRejected`] for a malformed cookie.
    pub fn request_sign_in_link(
        &self,
        raw: &str,
        binding: &str,
        client: ClientInfo,
    ) -> Result<(), Error> {
        let address = EmailAddress::parse(raw)?;
        let binding = hash_of(binding)?;
        let auth = self.clone();
        Self::in_background("sign-in link", async move {
            auth.send_sign_in_link(&address, binding, &client).await
        });
        Ok(())
    }

    /// The work behind [`Auth::request_sign_in_link`]: `true` if a link
    /// was queued.
    ///
    /// # Errors
    /// [`Error::TooManyMails`], or a storage failure.
    pub async fn send_sign_in_link(
        &self,
        address: &EmailAddress,
        binding: crate::TokenHash,
        client: &ClientInfo,
    ) -> Result<bool, Error> {
        let Some((user, address)) = self.confirmed_owner(address).await? else {
            return Ok(false);
        };
        let (link, token) = NewLink::issue(LinkPurpose::SignIn, user.id, address, self.clock.now());
        let (link, code) = link.with_code(binding);
        let url = self.link_url(SIGN_IN_PATH, &token);
        let mail = self.site.sign_in(&link.address, &url, &code);
        self.users.issue_link(&link, &mail).await?;
        self.outbox_bell.notify_one();
        tracing::debug!(user = %user.id, ?client.ip_address, "sign-in link queued");
        Ok(true)
    }

    /// Signs in with a link, in the browser whose sign-in cookie is
    /// `binding` (the one that asked).
    ///
    /// # Errors
    /// [`Error::OtherBrowser`] for a live link opened in another browser
    /// (it stays usable where it belongs); [`Error::LinkRejected`] for one
    /// that does not work (any more); or a storage failure.
    pub async fn sign_in_with_link(
        &self,
        raw_token: &str,
        binding: Option<&str>,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let (hash, link) = self.find_live_link(raw_token, LinkPurpose::SignIn).await?;
        let here = binding.and_then(|raw| hash_of(raw).ok());
        if here.is_none() || link.binding != here {
            return Err(Error::OtherBrowser);
        }
        let link = self
            .users
            .take_link(&hash, LinkPurpose::SignIn)
            .await?
            .ok_or(Error::LinkRejected)?;
        self.sign_in_by_link(link, client).await
    }

    /// Signs in with the code mailed for the browser whose sign-in cookie
    /// is `binding`.
    ///
    /// # Errors
    /// [`Error::LinkRejected`] for a wrong or used code, one that expired,
    /// or when no code was asked for in this browser; or a storage failure.
    pub async fn sign_in_with_code(
        &self,
        code: &str,
        binding: Option<&str>,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let binding = hash_of(binding.unwrap_or_default())?;
        let code = parse_code(code).ok_or(Error::LinkRejected)?;
        let link = self
            .users
            .try_code(&binding, LinkPurpose::SignIn, &code_hash(&binding, &code))
            .await?
            .ok_or(Error::LinkRejected)?;
        self.sign_in_by_link(link, client).await
    }

    /// The end of both: the link still live and its address still the
    /// account's confirmed one, a session starts as for any sign-in.
    async fn sign_in_by_link(
        &self,
        link: LinkRecord,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let (link, _) = self.live(Some(link))?;
        let user = self.link_owner(&link).await?;
        let version = self
            .users
            .credentials_version(user.id)
            .await?
            .ok_or(Error::LinkRejected)?;
        self.notice_sign_in(user.id, &client).await;
        self.event(Some(user.id), AuthEventKind::EmailSignIn, None, &client)
            .await;
        tracing::info!(user = %user.id, "signed in with a mailed link or code");
        self.start_session(user, version, false, client).await
    }
}
