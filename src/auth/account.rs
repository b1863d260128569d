//! The account around the session: confirming a credential before a
//! sensitive action, setting, changing or removing the password, and
//! deleting the account.
//!
//! - A session records when its user last proved a credential
//!   (`authenticated_at`, at sign-in and at each confirmation);
//!   [`Auth::is_recent`] says whether that is within the re-authentication
//!   window (OWASP ASVS V3.7.1, ASVS 5 V7.5.1).
//! - Adding a credential needs more: a proof made *within* the session
//!   (`confirmed_at`, [`Auth::is_confirmed`]), so whoever holds a stolen
//!   session, even a fresh one, cannot add a password or passkey of their
//!   own that would outlive the owner's recovery.
//! - A password change ends every session of the user, this one too, and
//!   starts a new one for this browser: the old cookie stops working
//!   (ASVS V3.3.3, ASVS 5 V7.4.3). Every credential change raises a notice
//!   on the dashboard.
//! - Deletion ends every session first, then deletes the account with all
//!   that is stored of it (ASVS 5 V7.4.2); a confirmed address is told.

use super::Auth;
use crate::{
    credentials::{verify_password, Password, PASSWORD_MAX_CHARS},
    record::{AuthEventKind, Authenticated, ClientInfo, NoticeKind, SessionRecord, UserSummary},
    store::Removal,
    Error, NewSession,
};

impl Auth {
    /// Whether the session's user proved a credential recently enough for
    /// a sensitive action (at sign-in or since).
    #[must_use]
    pub fn is_recent(&self, session: &SessionRecord) -> bool {
        self.policy
            .is_recent(session.authenticated_at, self.clock.now())
    }

    /// Whether the session's user proved a credential *within* the session
    /// (a confirmation, not the sign-in that began it) recently enough to
    /// add a credential or change the password without the current one.
    #[must_use]
    pub fn is_confirmed(&self, session: &SessionRecord) -> bool {
        session
            .confirmed_at
            .is_some_and(|at| self.policy.is_recent(at, self.clock.now()))
    }

    /// Checks the signed-in user's password again and records on the
    /// session that they proved it now.
    ///
    /// # Errors
    /// [`Error::InvalidCredentials`] for a wrong password,
    /// [`Error::NotFound`] if the session ended meanwhile, or a storage
    /// failure.
    pub async fn confirm(
        &self,
        auth: &Authenticated,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        self.check_password(auth, password, client).await?;
        self.record_confirmation(auth, client).await
    }

    /// Records that the session's user proved a credential now.
    pub(super) async fn record_confirmation(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        if !self
            .sessions
            .record_authentication(auth.session.id, self.clock.now())
            .await?
        {
            return Err(Error::NotFound);
        }
        self.event(Some(auth.user.id), AuthEventKind::Confirmed, None, client)
            .await;
        tracing::info!(user = %auth.user.id, "credential confirmed");
        Ok(())
    }

    /// Sets a new password. The proof is the `current` password where the
    /// account has one and it is given, else a confirmation in this
    /// session ([`Auth::is_confirmed`]: a passkey's stands in for the
    /// password, and an account made with a passkey sets its first password
    /// that way). Every session of the user ends, this one included, and
    /// this browser gets a new one (with the same remember-me choice), so
    /// the old cookie stops working; the owner is told by a notice.
    ///
    /// The length rule is checked at once; the strength estimate runs with
    /// the hash, in the bounded hashing queue.
    ///
    /// # Errors
    /// [`Error::InvalidCredentials`] for a wrong current password,
    /// [`Error::ConfirmationRequired`] with neither proof,
    /// [`Error::InvalidPassword`] or [`Error::WeakPassword`] for the new
    /// one, or a storage or hashing failure.
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: Option<&str>,
        new: &str,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let new = Password::parse(new)?;
        let stored = self.stored_password(&auth.user).await?;
        match (stored, current.filter(|c| !c.is_empty())) {
            (Some(stored), Some(current)) => {
                self.verify(auth, Some(stored), current, &client).await?;
            }
            _ if self.is_confirmed(&auth.session) => {}
            _ => return Err(Error::ConfirmationRequired),
        }
        let name = auth.user.username.clone();
        let hash = self
            .hash_work(move || new.hash_new(&[name.as_str()]))
            .await??;
        let user = auth.user.id;
        let version = self
            .users
            .set_password_hash(user, &hash)
            .await?
            .ok_or(Error::NotFound)?;
        let ended = self.revoke_user(user, None).await?;
        self.event(Some(user), AuthEventKind::PasswordChanged, None, &client)
            .await;
        self.notice(user, NoticeKind::PasswordChanged, 0, &client)
            .await;
        tracing::info!(user = %user, ended, "password changed");
        let persistent = auth.session.persistent;
        self.start_session(auth.user.clone(), version, persistent, client)
            .await
    }

    /// Removes the password of an account that keeps a passkey (the web
    /// layer checks the authentication is recent first); the owner is told
    /// by a notice.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the account has no password,
    /// [`Error::LastCredential`] if it has no passkey, or a storage failure.
    pub async fn remove_password(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let user = auth.user.id;
        match self.users.remove_password(user).await? {
            Removal::Removed => {
                self.event(Some(user), AuthEventKind::PasswordRemoved, None, client)
                    .await;
                self.notice(user, NoticeKind::PasswordRemoved, 0, client)
                    .await;
                tracing::info!(user = %user, "password removed");
                Ok(())
            }
            Removal::NotFound => Err(Error::NotFound),
            Removal::LastCredential => Err(Error::LastCredential),
        }
    }

    /// Deletes the account: ends its sessions (their access tokens with
    /// them), then deletes the user, their events and their sessions'
    /// rows. The name can be registered again.
    ///
    /// # Errors
    /// A storage failure; the sessions are already ended if it comes from
    /// the deletion itself.
    pub async fn delete_account(&self, auth: &Authenticated) -> Result<(), Error> {
        let user = auth.user.id;
        // First, so a sign-in in flight ends its own session (see
        // `start_session`) if this revocation runs before its insert.
        self.users.bump_credentials_version(user).await?;
        self.revoke_user(user, None).await?;
        // Told by mail, at a confirmed address.
        let farewell = match self.users.email_of(user).await? {
            Some(email) if email.verified_at.is_some() => Some(self.site.farewell(&email.address)),
            _ => None,
        };
        let at = self.clock.now();
        self.users
            .delete_user(user, farewell.as_ref().map(|mail| (mail, at)))
            .await?;
        if farewell.is_some() {
            self.outbox_bell.notify_one();
        }
        // The revoked sessions' rows, on a session store apart from the
        // accounts (Redis); in SQL they went with the account.
        self.sessions.delete_expired(self.clock.now()).await?;
        tracing::info!(user = %user, "account deleted");
        Ok(())
    }

    /// Checks `password` against the signed-in user's; a wrong one is
    /// recorded like a failed sign-in (as is any, for an account without a
    /// password).
    async fn check_password(
        &self,
        auth: &Authenticated,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let stored = self.stored_password(&auth.user).await?;
        self.verify(auth, stored, password, client).await
    }

    /// The user's password hash, if the account has a password.
    pub(super) async fn stored_password(
        &self,
        user: &UserSummary,
    ) -> Result<Option<String>, Error> {
        Ok(self
            .users
            .find_user_by_username(&user.username)
            .await?
            .and_then(|account| account.password_hash))
    }

    async fn verify(
        &self,
        auth: &Authenticated,
        stored: Option<String>,
        password: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let password = password
            .chars()
            .take(PASSWORD_MAX_CHARS + 1)
            .collect::<String>();
        let ok = self
            .hash_work(move || verify_password(&password, stored.as_deref()))
            .await?;
        if ok {
            return Ok(());
        }
        self.event(
            Some(auth.user.id),
            AuthEventKind::SignInFailed,
            None,
            client,
        )
        .await;
        Err(Error::InvalidCredentials)
    }
}
