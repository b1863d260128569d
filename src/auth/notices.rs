//! Security notices: what the account's owner should see on their
//! dashboard, kept until they dismiss it. A sign-in from a browser the
//! account had not used, the wrong passwords tried since the previous
//! sign-in, a replayed refresh token, and every credential change (OWASP
//! ASVS 5 V6.3.5).
//!
//! Whoever caused a notice must not be able to erase it: a session
//! dismisses a notice only if it proved a credential after the notice was
//! raised (its sign-in came later, or it confirmed since,
//! [`Auth::dismiss_notice`]). The session whose sign-in raised "new
//! browser", or that removed a passkey, cannot dismiss what it caused, nor
//! can a stolen cookie: each needs a credential proved again.
//!
//! A notice goes by mail too when the account has a confirmed address
//! (every kind but the count of failed sign-ins), queued in the notice's
//! own transaction. Like events, notices are best effort: failing to store
//! one is logged and never fails the sign-in or refresh that raised it.

use super::Auth;
use crate::{
    id::UserId,
    record::{Activity, Authenticated, ClientInfo, Notice, NoticeKind, StoredNotice},
    Error,
};

/// Most notices the dashboard shows at once.
pub const NOTICES_SHOWN: u32 = 20;

impl Auth {
    /// The notices a successful sign-in raises. Runs before the sign-in's
    /// own event is written, so the count is of the failures since the
    /// *previous* sign-in.
    pub(super) async fn notice_sign_in(&self, user: UserId, client: &ClientInfo) {
        match self.users.failed_sign_ins_since_sign_in(user).await {
            Ok(0) => {}
            Ok(count) => {
                self.notice(user, NoticeKind::FailedSignIns, count, client)
                    .await
            }
            Err(err) => tracing::warn!(error = %err, "could not count failed sign-ins"),
        }
        if !client.known_device {
            self.notice(user, NoticeKind::NewDevice, 0, client).await;
        }
    }

    /// Stores one notice (best effort, see the module docs).
    pub(super) async fn notice(
        &self,
        user: UserId,
        kind: NoticeKind,
        count: u64,
        client: &ClientInfo,
    ) {
        let notice = Notice {
            kind,
            count,
            ip_address: client.ip_address.clone(),
            user_agent: client.user_agent.clone(),
            created_at: self.clock.now(),
        };
        // By mail too, to a confirmed address.
        let mail = match self.users.email_of(user).await {
            Ok(Some(email)) if email.verified_at.is_some() => {
                self.site.notice(&email.address, &notice)
            }
            Ok(_) => None,
            Err(err) => {
                tracing::warn!(error = %err, "could not read the account's address");
                None
            }
        };
        match self.users.add_notice(user, &notice, mail.as_ref()).await {
            Ok(true) => self.outbox_bell.notify_one(),
            Ok(false) => {}
            Err(err) => {
                tracing::warn!(error = %err, kind = kind.as_str(), "could not store a notice");
            }
        }
    }

    /// The user's notices not yet dismissed, newest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn notices(&self, user: UserId) -> Result<Vec<StoredNotice>, Error> {
        self.users.list_notices(user, NOTICES_SHOWN).await
    }

    /// What the dashboard shows: the user's notices not yet dismissed and
    /// their latest `events` events, newest first, read together.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn activity(&self, user: UserId, events: u32) -> Result<Activity, Error> {
        self.users.activity(user, NOTICES_SHOWN, events).await
    }

    /// Dismisses one of the user's notices from `auth`'s session, if that
    /// session proved a credential after it was raised ([`Auth::may_dismiss`]).
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] for a notice raised since the
    /// session's latest proof, [`Error::NotFound`] if it is not theirs (or
    /// already dismissed), or a storage failure.
    pub async fn dismiss_notice(&self, auth: &Authenticated, id: i64) -> Result<(), Error> {
        let (user, session) = (auth.user.id, &auth.session);
        if self
            .users
            .dismiss_notice(user, id, session.authenticated_at, session.confirmed_at)
            .await?
        {
            return Ok(());
        }
        let kept = self.users.list_notices(user, NOTICES_SHOWN).await?;
        if kept.iter().any(|notice| notice.id == id) {
            Err(Error::ConfirmationRequired)
        } else {
            Err(Error::NotFound)
        }
    }

    /// Whether `auth`'s session may dismiss `notice` without proving a
    /// credential first: it proved one after the notice was raised, by
    /// signing in later (a sign-in raises its own notices at the second it
    /// begins, so the same second does not count) or by a confirmation
    /// since.
    #[must_use]
    pub fn may_dismiss(auth: &Authenticated, notice: &Notice) -> bool {
        let session = &auth.session;
        notice.created_at < session.authenticated_at
            || session
                .confirmed_at
                .is_some_and(|confirmed| notice.created_at <= confirmed)
    }
}
