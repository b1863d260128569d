//! Refreshing: a refresh token exchanged for its successor and a session
//! to mint an access token for, with rotation, reuse detection and the
//! DPoP binding (RFC 9449).

use super::{Auth, RefreshOutcome};
use crate::{
    dpop::KeyProof,
    record::{AuthEventKind, ClientInfo, NoticeKind},
    store::Rotation,
    token::SessionToken,
    Error,
};

impl Auth {
    /// Exchanges a refresh token for its successor and the session behind
    /// it (see [`RefreshOutcome`]). A token rotated longer ago than the
    /// grace window is a replay: the whole session is revoked and the event
    /// recorded.
    ///
    /// The refresh token only counts with `session_token`, the session
    /// cookie it arrived with, naming its own session: a refresh cookie
    /// copied on its own (or beside another session's cookie) mints nothing
    /// and rotates nothing, so the real browser's next refresh is not taken
    /// for a replay, and the thief cannot end the session either.
    ///
    /// # Errors
    /// Only storage failures.
    pub async fn refresh(
        &self,
        raw_token: &str,
        session_token: Option<&str>,
        proof: KeyProof<'_>,
        client: &ClientInfo,
    ) -> Result<RefreshOutcome, Error> {
        let (Some(presented), Some(cookie)) = (
            SessionToken::parse(raw_token),
            session_token.and_then(SessionToken::parse),
        ) else {
            return Ok(RefreshOutcome::Invalid);
        };
        let Some(owner) = self.sessions.find_session(&cookie.hash()).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        // The token must be this session's before a key is bound to it, or
        // a session cookie alone could bind a stranger's key.
        let family = self
            .sessions
            .refresh_token_session(&presented.hash())
            .await?;
        if family.map(|f| f.session) != Some(owner.session.id) {
            return Ok(RefreshOutcome::Invalid);
        }
        let offered = match proof {
            KeyProof::Key(jkt) => Some(jkt),
            KeyProof::Absent | KeyProof::Invalid => None,
        };
        let key = self.sessions.bind_key(owner.session.id, offered).await?;
        let proven = match (&key, proof) {
            (None, KeyProof::Absent) => true,
            (Some(bound), KeyProof::Key(jkt)) => bound == jkt,
            _ => false,
        };
        if !proven {
            static WARNED: crate::log_budget::LogBudget = crate::log_budget::LogBudget::new();
            if let Some(left_out) = WARNED.allow() {
                tracing::warn!(
                    user = %owner.user.id,
                    left_out,
                    "refresh without the session's key refused"
                );
            }
            self.event(
                Some(owner.user.id),
                AuthEventKind::RefreshUnbound,
                Some(presented.hash().short()),
                client,
            )
            .await;
            return Ok(RefreshOutcome::Unbound);
        }
        let successor = SessionToken::generate();
        let now = self.clock.now();
        let rotation = self
            .sessions
            .rotate_refresh_token(
                &presented.hash(),
                &successor.hash(),
                owner.session.id,
                now,
                self.policy.refresh_grace,
            )
            .await?;
        let (session_id, rotated) = match rotation {
            Rotation::Unknown => return Ok(RefreshOutcome::Invalid),
            Rotation::Reused(session_id) => {
                if let Some(user) = self.sessions.revoke_session_by_id(session_id, now).await? {
                    self.revocations.revoked_here(&[session_id], now);
                    tracing::warn!(user = %user, "refresh token reuse: session revoked");
                    self.event(
                        Some(user),
                        AuthEventKind::RefreshReuse,
                        Some(presented.hash().short()),
                        client,
                    )
                    .await;
                    self.notice(user, NoticeKind::RefreshReuse, 0, client).await;
                }
                return Ok(RefreshOutcome::Invalid);
            }
            Rotation::Rotated(session_id) => (session_id, Some(successor)),
            Rotation::WithinGrace(session_id) => (session_id, None),
        };
        let Some(found) = self.sessions.find_session_by_id(session_id).await? else {
            return Ok(RefreshOutcome::Invalid);
        };
        match self.check_and_touch(found, now, || client.clone()).await? {
            Some(auth) => Ok(RefreshOutcome::Refreshed {
                auth: Box::new(auth),
                rotated,
                key,
            }),
            None => Ok(RefreshOutcome::Invalid),
        }
    }
}
