//! The account around the session: confirming the password before a
//! sensitive action, changing it, and deleting the account.
//!
//! - A session records when its user last proved a credential
//!   (`authenticated_at`); [`Auth::is_recent`] says whether that is within
//!   the re-authentication window (OWASP ASVS V3.7.1, ASVS 5 V7.5.1).
//! - A password change ends every session of the user, this one too, and
//!   starts a new one for this browser: the old cookie stops working
//!   (ASVS V3.3.3, ASVS 5 V7.4.3).
//! - Deletion ends every session first, then deletes the account with all
//!   that is stored of it (ASVS 5 V7.4.2).

use super::Auth;
use crate::{
    credentials::{verify_password, Password, PASSWORD_MAX_CHARS},
    record::{AuthEventKind, Authenticated, ClientInfo, SessionRecord, UserSummary},
    Error, NewSession,
};

impl Auth {
    /// Whether the session's user proved a credential recently enough for
    /// a sensitive action.
    #[must_use]
    pub fn is_recent(&self, session: &SessionRecord) -> bool {
        self.policy
            .is_recent(session.authenticated_at, self.clock.now())
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

    /// Replaces the password, after checking the current one (an account
    /// made with a passkey has none: its first password needs only the
    /// recent authentication the web layer checks). Every session of the
    /// user ends, this one included, and this browser gets a new one (with
    /// the same remember-me choice), so the old cookie stops working.
    ///
    /// # Errors
    /// [`Error::InvalidCredentials`] for a wrong current password,
    /// [`Error::InvalidPassword`] or [`Error::WeakPassword`] for the new
    /// one, or a storage or hashing failure.
    pub async fn change_password(
        &self,
        auth: &Authenticated,
        current: &str,
        new: &str,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let new = Password::parse_new(new, &[auth.user.username.as_str()])?;
        if let Some(stored) = self.stored_password(&auth.user).await? {
            self.verify(auth, Some(stored), current, &client).await?;
        }
        let hash = self.hash_work(move || new.hash()).await??;
        let user = auth.user.id;
        if !self.users.set_password_hash(user, &hash).await? {
            return Err(Error::NotFound);
        }
        let ended = self.revoke_user(user, None).await?;
        self.event(Some(user), AuthEventKind::PasswordChanged, None, &client)
            .await;
        tracing::info!(user = %user, ended, "password changed");
        let persistent = auth.session.persistent;
        self.start_session(auth.user.clone(), persistent, client)
            .await
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
        self.revoke_user(user, None).await?;
        self.users.delete_user(user).await?;
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
            .and_then(|(_, hash)| hash))
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
