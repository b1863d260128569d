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
//! - A change keeps the confirmed address until the new one is confirmed
//!   (the link carries the new one). Then the old address is told, with a
//!   link that puts it back and signs every device out: a thief who
//!   changed it cannot keep the owner from recovering the account.

use time::OffsetDateTime;

use super::Auth;
use crate::{
    email::{
        link::{account_binding, code_hash, parse_code},
        EmailAddress, LinkPurpose, LinkRecord, NewLink,
    },
    id::UserId,
    record::{AuthEventKind, Authenticated, ClientInfo, NoticeKind, UserSummary},
    store::AccountEmail,
    token::TokenHash,
    Error, SessionToken,
};

/// Where a verification link points; the token follows.
pub const VERIFY_PATH: &str = "/verify-email?token=";

/// Where the link that undoes a change of address points.
pub const REVERT_PATH: &str = "/revert-email?token=";

/// The hash of a token from a link (or a browser's binding cookie); a
/// malformed one is a link that does not work.
pub(super) fn hash_of(raw: &str) -> Result<TokenHash, Error> {
    Ok(SessionToken::parse(raw).ok_or(Error::LinkRejected)?.hash())
}

impl Auth {
    /// The account's address and whether it is verified.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn email(&self, auth: &Authenticated) -> Result<Option<AccountEmail>, Error> {
        self.users.email_of(auth.user.id).await
    }

    /// The address a change waits to confirm, if any.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn pending_email(&self, auth: &Authenticated) -> Result<Option<EmailAddress>, Error> {
        self.users
            .pending_email(auth.user.id, self.clock.now())
            .await
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
        let confirmed = self
            .users
            .email_of(auth.user.id)
            .await?
            .filter(|c| c.verified_at.is_some());
        if confirmed
            .as_ref()
            .is_some_and(|c| c.address.key() == address.key())
        {
            return Ok(address);
        }
        let (link, mail) = self.verification(auth, address.clone());
        if confirmed.is_some() {
            // A change: the confirmed address stays until the new one is
            // confirmed; the link carries the new one.
            self.users.issue_link(&link, &mail).await?;
        } else if !self.users.set_email(&link, &mail).await? {
            return Err(Error::NotFound);
        }
        self.outbox_bell.notify_one();
        self.event(Some(auth.user.id), AuthEventKind::EmailAdded, None, client)
            .await;
        tracing::info!(user = %auth.user.id, "email address set, verification queued");
        Ok(address)
    }

    /// Mails the address waiting for confirmation (a change's, or the
    /// account's unverified one) a new link (the older ones stop working).
    /// Returns `false` when there is nothing to confirm.
    ///
    /// # Errors
    /// [`Error::TooManyMails`], or a storage failure.
    pub async fn resend_verification(&self, auth: &Authenticated) -> Result<bool, Error> {
        let current = self.users.email_of(auth.user.id).await?;
        let pending = self.pending_email(auth).await?;
        let address = match (current, pending) {
            (_, Some(pending)) => pending,
            (Some(current), None) if current.verified_at.is_none() => current.address,
            _ => return Ok(false),
        };
        let (link, mail) = self.verification(auth, address);
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
        let (link, now) = self.take_live_link(raw_token, LinkPurpose::Verify).await?;
        self.verified(link, now, client).await
    }

    /// Verifies the address from the code mailed with the link, typed in a
    /// session of the account it was sent for (the link opened on another
    /// device, say). Returns the address.
    ///
    /// # Errors
    /// [`Error::LinkRejected`] for a wrong, used or expired code (five
    /// wrong ones end it), [`Error::EmailTaken`], or a storage failure.
    pub async fn verify_email_code(
        &self,
        auth: &Authenticated,
        code: &str,
        client: &ClientInfo,
    ) -> Result<EmailAddress, Error> {
        let binding = account_binding(auth.user.id);
        let code = parse_code(code).ok_or(Error::LinkRejected)?;
        let taken = self
            .users
            .try_code(&binding, LinkPurpose::Verify, &code_hash(&binding, &code))
            .await?;
        let (link, now) = self.live(taken.filter(|link| link.user_id == auth.user.id))?;
        self.verified(link, now, client).await
    }

    /// What a verification does once its link is taken: a change of a
    /// confirmed address, or the first confirmation.
    async fn verified(
        &self,
        link: LinkRecord,
        now: OffsetDateTime,
        client: &ClientInfo,
    ) -> Result<EmailAddress, Error> {
        let user = link.user_id;
        let current = self.users.email_of(user).await?;
        match current.filter(|c| c.verified_at.is_some() && c.address.key() != link.address.key()) {
            Some(old) => {
                if !self.users.replace_email(user, &link.address, now).await? {
                    return Err(Error::LinkRejected);
                }
                self.tell_old_address(user, &old.address, &link.address)
                    .await;
                self.event(Some(user), AuthEventKind::EmailChanged, None, client)
                    .await;
                self.notice(user, NoticeKind::EmailChanged, 0, client).await;
                tracing::info!(user = %user, "email address changed");
            }
            None => {
                if !self.users.mark_verified(user, &link.address, now).await? {
                    return Err(Error::LinkRejected);
                }
                self.event(Some(user), AuthEventKind::EmailVerified, None, client)
                    .await;
                tracing::info!(user = %user, "email address verified");
            }
        }
        Ok(link.address)
    }

    /// Mails the address a change replaced, with the link that puts it
    /// back (best effort: the change is made either way, and logged).
    async fn tell_old_address(&self, user: UserId, old: &EmailAddress, new: &EmailAddress) {
        let (link, token) =
            NewLink::issue(LinkPurpose::Revert, user, old.clone(), self.clock.now());
        let url = self.link_url(REVERT_PATH, &token);
        let mail = self.site.email_changed(old, new, &url);
        match self.users.issue_link(&link, &mail).await {
            Ok(()) => self.outbox_bell.notify_one(),
            Err(err) => tracing::warn!(error = %err, "could not tell the old address of a change"),
        }
    }

    /// Puts back the address a change replaced, from the link mailed to
    /// it ("it was not me"): the address is the account's again, verified;
    /// every session and refresh token ends, device cookies and other links
    /// stop working, and the owner can reset the password through it.
    ///
    /// # Errors
    /// [`Error::LinkRejected`] for a link that does not work (any more),
    /// [`Error::EmailTaken`] if another account has verified the address
    /// meanwhile, or a storage failure.
    pub async fn revert_email(
        &self,
        raw_token: &str,
        client: &ClientInfo,
    ) -> Result<EmailAddress, Error> {
        let (link, now) = self.take_live_link(raw_token, LinkPurpose::Revert).await?;
        let user = link.user_id;
        if !self.users.replace_email(user, &link.address, now).await? {
            return Err(Error::LinkRejected);
        }
        self.users.bump_credentials_version(user).await?;
        let ended = self.revoke_user(user, None).await?;
        self.users.delete_links(user).await?;
        self.event(Some(user), AuthEventKind::EmailReverted, None, client)
            .await;
        self.notice(user, NoticeKind::EmailReverted, 0, client)
            .await;
        tracing::info!(user = %user, ended, "email change undone from the old address");
        Ok(link.address)
    }

    /// Takes the link `raw_token` names for `purpose`, if it still works;
    /// with the time it was taken at.
    async fn take_live_link(
        &self,
        raw_token: &str,
        purpose: LinkPurpose,
    ) -> Result<(LinkRecord, OffsetDateTime), Error> {
        let taken = self.users.take_link(&hash_of(raw_token)?, purpose).await?;
        self.live(taken)
    }

    /// The live `purpose` link `raw_token` names, left in place (checked
    /// before work that must not use it up); with its token's hash.
    pub(super) async fn find_live_link(
        &self,
        raw_token: &str,
        purpose: LinkPurpose,
    ) -> Result<(TokenHash, LinkRecord), Error> {
        let hash = hash_of(raw_token)?;
        let (link, _) = self.live(self.users.find_link(&hash, purpose).await?)?;
        Ok((hash, link))
    }

    /// `link`, if there is one and it still works now; with now.
    pub(super) fn live(
        &self,
        link: Option<LinkRecord>,
    ) -> Result<(LinkRecord, OffsetDateTime), Error> {
        let now = self.clock.now();
        link.filter(|link| link.is_live(now))
            .map(|link| (link, now))
            .ok_or(Error::LinkRejected)
    }

    /// Runs `work` (a lookup and a mail) after the answer, in a task of
    /// its own: the asker is told the same, as fast, whatever it finds or
    /// fails at; the operator sees what went wrong.
    pub(super) fn in_background(
        what: &'static str,
        work: impl std::future::Future<Output = Result<bool, Error>> + Send + 'static,
    ) {
        tokio::spawn(async move {
            if let Err(err) = work.await {
                tracing::info!(error = %err, "{what} not sent");
            }
        });
    }

    /// The absolute URL of a mailed link: the page at `path` (which ends
    /// in `token=`) with the token.
    pub(super) fn link_url(&self, path: &str, token: &SessionToken) -> String {
        self.site.url(&format!("{path}{}", token.expose()))
    }

    /// The account a link was sent for, while the address it went to is
    /// still that account's confirmed one.
    pub(super) async fn link_owner(&self, link: &LinkRecord) -> Result<UserSummary, Error> {
        self.users
            .find_user_by_verified_email(&link.address)
            .await?
            .filter(|user| user.id == link.user_id)
            .ok_or(Error::LinkRejected)
    }

    /// The account that confirmed `address`, and the address as it holds
    /// it (not as typed); `None` when no account has.
    pub(super) async fn confirmed_owner(
        &self,
        address: &EmailAddress,
    ) -> Result<Option<(UserSummary, EmailAddress)>, Error> {
        let Some(user) = self.users.find_user_by_verified_email(address).await? else {
            return Ok(None);
        };
        let email = self.users.email_of(user.id).await?;
        Ok(email.map(|email| (user, email.address)))
    }

    /// A verification link for `address` and its message.
    fn verification(
        &self,
        auth: &Authenticated,
        address: EmailAddress,
    ) -> (NewLink, crate::email::Mail) {
        let (link, token) =
            NewLink::issue(LinkPurpose::Verify, auth.user.id, address, self.clock.now());
        let (link, code) = link.with_code(account_binding(auth.user.id));
        let url = self.link_url(VERIFY_PATH, &token);
        let mail = self.site.verification(&link.address, &url, &code);
        (link, mail)
    }
}
