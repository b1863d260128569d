//! Validating a session cookie: one indexed lookup, the idle and absolute
//! expiry, and (at most once per touch interval) a write that slides the
//! idle expiry. Every kind of bad token is the same "no session".

use time::OffsetDateTime;

use super::{Auth, Validation};
use crate::{
    record::{AuthEventKind, Authenticated, ClientInfo},
    token::SessionToken,
    Error,
};

impl Auth {
    /// Checks a raw cookie value: one lookup, then the idle and absolute
    /// expiry, then (at most once per touch interval) a write that slides
    /// the idle expiry.
    ///
    /// # Errors
    /// Only storage failures; every kind of bad token is
    /// [`Validation::Invalid`].
    pub async fn validate(&self, raw_token: &str) -> Result<Validation, Error> {
        match SessionToken::parse(raw_token) {
            Some(token) => self.validate_token(&token, ClientInfo::default).await,
            None => Ok(Validation::Invalid),
        }
    }

    /// As [`Auth::validate`], for a token the caller has already parsed
    /// (the web layer parses the cookie once per request). A touch records
    /// `seen_from` as where the session was last seen; it is called only
    /// then (once per touch interval), so most requests build nothing.
    ///
    /// # Errors
    /// [`Error::Storage`] if the store is unreachable.
    pub async fn validate_token(
        &self,
        token: &SessionToken,
        seen_from: impl FnOnce() -> ClientInfo + Send,
    ) -> Result<Validation, Error> {
        let hash = token.hash();
        let Some(found) = self.sessions.find_session(&hash).await? else {
            return Ok(Validation::Invalid);
        };
        Ok(
            match self
                .check_and_touch(found, self.clock.now(), seen_from)
                .await?
            {
                Some(auth) => Validation::Valid(Box::new(auth)),
                None => Validation::Invalid,
            },
        )
    }

    /// Checks revocation and both expiries; slides the idle expiry when the
    /// touch interval has passed, recording `seen_from` as last seen. `None`
    /// if the session cannot be used.
    pub(super) async fn check_and_touch(
        &self,
        mut auth: Authenticated,
        now: OffsetDateTime,
        seen_from: impl FnOnce() -> ClientInfo + Send,
    ) -> Result<Option<Authenticated>, Error> {
        let session = &mut auth.session;
        if session.revoked_at.is_some() {
            return Ok(None);
        }
        if !session.is_active(now) {
            let short = session.token_hash.short();
            tracing::info!(session = %short, "session expired");
            // Revoke so the event is recorded once, not on every retry.
            if self
                .sessions
                .revoke_session(session.user_id, session.id, now)
                .await?
            {
                let client =
                    ClientInfo::new(session.ip_address.clone(), session.user_agent.as_deref());
                self.event(
                    Some(session.user_id),
                    AuthEventKind::Expired,
                    Some(short),
                    &client,
                )
                .await;
            }
            return Ok(None);
        }
        if self.policy.needs_touch(now, session.last_seen_at) {
            let idle = self
                .policy
                .slide(now, session.persistent, session.expires_at);
            let client = seen_from();
            self.sessions
                .touch_session(session.id, now, idle, &client)
                .await?;
            session.last_seen_at = now;
            session.idle_expires_at = idle;
            // As the store keeps them: an unknown one keeps the previous.
            session.last_ip_address = client.ip_address.or(session.last_ip_address.take());
            session.last_user_agent = client.user_agent.or(session.last_user_agent.take());
        }
        Ok(Some(auth))
    }
}
