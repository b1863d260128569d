//! Getting an account back by email: a password reset.
//!
//! - Asking for a link answers the same whether or not an account has the
//!   address: the lookup and the mail happen after the answer, in a task
//!   of their own, so neither the words nor the time tell (OWASP Forgot
//!   Password cheat sheet). Only a verified address receives it.
//! - The link opens a form; the new password is checked (length and
//!   strength) before the link is used up, so a weak choice can be
//!   corrected with the same link.
//! - The reset ends every session and refresh token of the account, moves
//!   its credentials version on (every device cookie stops sparing its
//!   browser), ends the account's other links, raises a notice, and signs
//!   this browser in with a new session (ASVS 5 V6.4.3).

use super::Auth;
use crate::{
    credentials::Password,
    email::{EmailAddress, LinkPurpose, NewLink},
    record::{AuthEventKind, ClientInfo, NoticeKind},
    Error, NewSession,
};

/// Where a password reset link points; the token follows.
pub const RESET_PATH: &str = "/reset-password?token=";

impl Auth {
    /// Mails a reset link to `raw` if an account has it as its verified
    /// address, in the background: returns at once, the same way for any
    /// well-formed address.
    ///
    /// # Errors
    /// [`Error::InvalidEmail`] for what is not an address (said before any
    /// lookup, so it reveals nothing of accounts).
    pub fn request_password_reset(&self, raw: &str, client: ClientInfo) -> Result<(), Error> {
        let address = EmailAddress::parse(raw)?;
        let auth = self.clone();
        Self::in_background("password reset link", async move {
            auth.send_password_reset(&address, &client).await
        });
        Ok(())
    }

    /// The work behind [`Auth::request_password_reset`]: `true` if a link
    /// was queued.
    ///
    /// # Errors
    /// [`Error::TooManyMails`], or a storage failure.
    pub async fn send_password_reset(
        &self,
        address: &EmailAddress,
        client: &ClientInfo,
    ) -> Result<bool, Error> {
        let Some((user, address)) = self.confirmed_owner(address).await? else {
            return Ok(false);
        };
        let (link, token) = NewLink::issue(LinkPurpose::Reset, user.id, address, self.clock.now());
        let url = self.link_url(RESET_PATH, &token);
        let mail = self.site.password_reset(&link.address, &url);
        self.users.issue_link(&link, &mail).await?;
        self.outbox_bell.notify_one();
        self.event(
            Some(user.id),
            AuthEventKind::PasswordResetRequested,
            None,
            client,
        )
        .await;
        Ok(true)
    }

    /// Sets a new password from a reset link, ends everything the account
    /// had signed in, and starts a session for this browser.
    ///
    /// # Errors
    /// [`Error::LinkRejected`] for a link that does not work (any more),
    /// or whose address is no longer the account's verified one;
    /// [`Error::InvalidPassword`] or [`Error::WeakPassword`] (the link
    /// still works); or a storage or hashing failure.
    pub async fn reset_password(
        &self,
        raw_token: &str,
        new: &str,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let (hash, link) = self.find_live_link(raw_token, LinkPurpose::Reset).await?;
        let user = self.link_owner(&link).await?;
        let new = Password::parse(new)?;
        let name = user.username.clone();
        let password_hash = self
            .hash_work(move || new.hash_new(&[name.as_str()]))
            .await??;
        // Used up now, by one request only.
        if self
            .users
            .take_link(&hash, LinkPurpose::Reset)
            .await?
            .is_none()
        {
            return Err(Error::LinkRejected);
        }
        let version = self
            .users
            .set_password_hash(user.id, &password_hash)
            .await?
            .ok_or(Error::LinkRejected)?;
        let ended = self.revoke_user(user.id, None).await?;
        self.users.delete_links(user.id).await?;
        self.event(Some(user.id), AuthEventKind::PasswordReset, None, &client)
            .await;
        self.notice(user.id, NoticeKind::PasswordReset, 0, &client)
            .await;
        tracing::info!(user = %user.id, ended, "password reset from a mailed link");
        self.start_session(user, version, false, client).await
    }
}
