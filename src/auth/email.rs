//! The account's email address and its verification.
//!
//! - Setting an address is a change to how the account can be recovered,
//!   so it needs a recent credential proof, like a password change.
//! - The address stays unverified until the link mailed to it is opened
//!   and its page's button pressed (a POST: mail scanners follow links
//!   with GET). Until then it receives verification mail only.
//! - Anyone may type any address: one already verified on another account
//!   is found out only by whoever opens the link sent to it, so the form
//!   reveals nothing of other accounts.

use super::Auth;
use crate::{
    email::{EmailAddress, LinkPurpose, NewLink},
    record::{AuthEventKind, Authenticated, ClientInfo},
    store::AccountEmail,
    Error, SessionToken,
};

/// Where a verification link points; the token follows.
pub const VERIFY_PATH: &str = "/verify-email?token=";

impl Auth {
    /// The account's address and whether it is verified.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn email(&self, auth: &Authenticated) -> Result<Option<AccountEmail>, Error> {
        self.users.email_of(auth.user.id).await
    }

    /// Gives the account the address `raw` (unverified) and mails it a
    /// verification link; an address it has verified already is left as
    /// it is. Returns the address.
    ///
    /// # Errors
    /// [`Error::InvalidEmail`], [`Error::ConfirmationRequired`] without a
    /// recent credential proof, [`Error::TooManyMails`], [`Error::NotFound`]
    /// if the account is gone, or a storage failure.
    pub async fn set_email(
        &self,
        auth: &Authenticated,
        raw: &str,
        client: &ClientInfo,
    ) -> Result<EmailAddress, Error> {
        let address = EmailAddress::parse(raw)?;
        if !self.is_recent(&auth.session) {
            return Err(Error::ConfirmationRequired);
        }
        let current = self.users.email_of(auth.user.id).await?;
        if let Some(current) = current.filter(|c| c.verified_at.is_some()) {
            if current.address == address {
                return Ok(address);
            }
        }
        let (link, mail) = self.verification(auth, address.clone());
        if !self.users.set_email(&link, &mail).await? {
            return Err(Error::NotFound);
        }
        self.outbox_bell.notify_one();
        self.event(Some(auth.user.id), AuthEventKind::EmailAdded, None, client)
            .await;
        tracing::info!(user = %auth.user.id, "email address set, verification queued");
        Ok(address)
    }

    /// Mails the account's unverified address a new link (the older ones
    /// stop working). Returns `false` when there is nothing to verify.
    ///
    /// # Errors
    /// [`Error::TooManyMails`], or a storage failure.
    pub async fn resend_verification(&self, auth: &Authenticated) -> Result<bool, Error> {
        let Some(current) = self.users.email_of(auth.user.id).await? else {
            return Ok(false);
        };
        if current.verified_at.is_some() {
            return Ok(false);
        }
        let (link, mail) = self.verification(auth, current.address);
        self.users.issue_link(&link, &mail).await?;
        self.outbox_bell.notify_one();
        Ok(true)
    }

    /// Verifies the address a link was sent to, for the account it was
    /// sent for. Returns the address.
    ///
    /// # Errors
    /// [`Error::LinkRejected`] for a malformed, unknown, used or expired
    /// link, or one for an address the account no longer has;
    /// [`Error::EmailTaken`] if another account verified the address
    /// meanwhile; or a storage failure.
    pub async fn verify_email(
        &self,
        raw_token: &str,
        client: &ClientInfo,
    ) -> Result<EmailAddress, Error> {
        let token = SessionToken::parse(raw_token).ok_or(Error::LinkRejected)?;
        let now = self.clock.now();
        let link = self
            .users
            .take_link(&token.hash(), LinkPurpose::Verify)
            .await?
            .filter(|link| link.is_live(now))
            .ok_or(Error::LinkRejected)?;
        if !self
            .users
            .mark_verified(link.user_id, &link.address, now)
            .await?
        {
            return Err(Error::LinkRejected);
        }
        self.event(
            Some(link.user_id),
            AuthEventKind::EmailVerified,
            None,
            client,
        )
        .await;
        tracing::info!(user = %link.user_id, "email address verified");
        Ok(link.address)
    }

    /// A verification link for `address` and its message.
    fn verification(
        &self,
        auth: &Authenticated,
        address: EmailAddress,
    ) -> (NewLink, crate::email::Mail) {
        let (link, token) =
            NewLink::issue(LinkPurpose::Verify, auth.user.id, address, self.clock.now());
        let url = self.site.url(&format!("{VERIFY_PATH}{}", token.expose()));
        let mail = self.site.verification(&link.address, &url);
        (link, mail)
    }
}
