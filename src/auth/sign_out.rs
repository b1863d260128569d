//! Ending sessions: signing out this browser, by its refresh cookie alone,
//! one other device, every other one, or all of them; each revocation is
//! announced so every instance refuses the session and its access tokens.

use super::Auth;
use crate::{
    id::{SessionId, UserId},
    record::{AuthEventKind, Authenticated, ClientInfo, SessionRecord},
    token::SessionToken,
    Error,
};

impl Auth {
    /// Signs out the current session.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn logout(&self, auth: &Authenticated, client: &ClientInfo) -> Result<(), Error> {
        let s = &auth.session;
        let now = self.clock.now();
        self.sessions.revoke_session(s.user_id, s.id, now).await?;
        self.revocations.revoked_here(&[s.id], now);
        self.event(
            Some(s.user_id),
            AuthEventKind::Logout,
            Some(s.token_hash.short()),
            client,
        )
        .await;
        tracing::info!(user = %s.user_id, session = %s.token_hash.short(), "signed out");
        Ok(())
    }

    /// Signs out the session `raw_refresh` belongs to, for a browser that
    /// has only its refresh cookie left. Whether it named one still active.
    /// Only the session's *current* refresh token counts: a rotated one
    /// (kept for hours to recognise a replay) may be a copy in a thief's
    /// hands, and must not sign the owner out.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn logout_by_refresh(
        &self,
        raw_refresh: &str,
        client: &ClientInfo,
    ) -> Result<bool, Error> {
        let Some(token) = SessionToken::parse(raw_refresh) else {
            return Ok(false);
        };
        let id = match self.sessions.refresh_token_session(&token.hash()).await? {
            Some(family) if family.current => family.session,
            _ => return Ok(false),
        };
        let now = self.clock.now();
        let Some(user) = self.sessions.revoke_session_by_id(id, now).await? else {
            return Ok(false);
        };
        self.revocations.revoked_here(&[id], now);
        self.event(Some(user), AuthEventKind::Logout, None, client)
            .await;
        tracing::info!(user = %user, "signed out by refresh cookie");
        Ok(true)
    }

    /// Revokes one of the caller's own sessions.
    ///
    /// # Errors
    /// [`Error::NotFound`] if `id` is not an active session of this user.
    pub async fn revoke(
        &self,
        auth: &Authenticated,
        id: SessionId,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let user = auth.user.id;
        let now = self.clock.now();
        if !self.sessions.revoke_session(user, id, now).await? {
            return Err(Error::NotFound);
        }
        self.revocations.revoked_here(&[id], now);
        self.event(Some(user), AuthEventKind::Revoke, None, client)
            .await;
        tracing::info!(user = %user, "revoked one session");
        Ok(())
    }

    /// Revokes all of the caller's sessions except the current one.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_others(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<u64, Error> {
        self.revoke_many(
            auth,
            Some(auth.session.id),
            AuthEventKind::RevokeOthers,
            client,
        )
        .await
    }

    /// Revokes every session of the caller, the current one included, and
    /// moves the account's credentials version on: sign-ins in flight end
    /// too, and every device cookie issued so far stops counting. Returns
    /// how many sessions, and the new version (for this browser's new
    /// device cookie).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn revoke_all(
        &self,
        auth: &Authenticated,
        client: &ClientInfo,
    ) -> Result<(u64, i64), Error> {
        let version = self
            .users
            .bump_credentials_version(auth.user.id)
            .await?
            .ok_or(Error::NotFound)?;
        let n = self
            .revoke_many(auth, None, AuthEventKind::RevokeAll, client)
            .await?;
        Ok((n, version))
    }

    async fn revoke_many(
        &self,
        auth: &Authenticated,
        keep: Option<SessionId>,
        kind: AuthEventKind,
        client: &ClientInfo,
    ) -> Result<u64, Error> {
        let user = auth.user.id;
        let n = self.revoke_user(user, keep).await?;
        self.event(Some(user), kind, None, client).await;
        tracing::info!(user = %user, revoked = n, kind = kind.as_str(), "revoked sessions");
        Ok(n)
    }

    /// Revokes every session of `user` but `keep`, their access tokens
    /// with them. Returns how many.
    pub(super) async fn revoke_user(
        &self,
        user: UserId,
        keep: Option<SessionId>,
    ) -> Result<u64, Error> {
        let now = self.clock.now();
        let ids = self.sessions.revoke_user_sessions(user, keep, now).await?;
        let n = ids.len() as u64;
        self.revocations.revoked_here(&ids, now);
        Ok(n)
    }

    /// The user's active sessions, newest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn list_sessions(&self, user: UserId) -> Result<Vec<SessionRecord>, Error> {
        self.sessions
            .list_user_sessions(user, self.clock.now())
            .await
    }
}
