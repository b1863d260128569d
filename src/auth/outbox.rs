//! The outbox, as the server's mail sender sees it: take a due message,
//! record how its delivery went, and wake when one is queued.
//!
//! A failure waits the back-off ([`crate::email::mail::backoff`]) and is
//! tried again, with no limit on attempts: mail to a server that is down
//! for a day arrives when it is back. What was tried and why it failed is
//! logged and kept on the row for the operator.

use std::sync::Arc;

use tokio::sync::Notify;

use super::Auth;
use crate::{
    email::{
        mail::{backoff, LEASE},
        QueuedMail,
    },
    Error,
};

impl Auth {
    /// Rung when mail is queued here, so the sender needs not wait for its
    /// next poll (mail queued by another instance waits for it).
    #[must_use]
    pub fn outbox_bell(&self) -> Arc<Notify> {
        self.outbox_bell.clone()
    }

    /// Takes the oldest due message for sending (see
    /// [`crate::store::EmailStore::claim_mail`]).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn claim_mail(&self) -> Result<Option<QueuedMail>, Error> {
        self.users.claim_mail(self.clock.now(), LEASE).await
    }

    /// Records that `mail` was delivered.
    ///
    /// # Errors
    /// A storage failure (the message is sent again once its lease ends).
    pub async fn mail_sent(&self, mail: &QueuedMail) -> Result<(), Error> {
        self.users.mail_sent(mail.id, self.clock.now()).await
    }

    /// Records a failed delivery of `mail`; it is tried again after the
    /// back-off.
    ///
    /// # Errors
    /// A storage failure (the message is tried again once its lease ends).
    pub async fn mail_failed(&self, mail: &QueuedMail, error: &str) -> Result<(), Error> {
        let attempts = mail.attempts + 1;
        let retry_at = self.clock.now() + backoff(attempts);
        tracing::warn!(mail = mail.id, attempts, %retry_at, error, "mail not delivered; will retry");
        self.users.mail_failed(mail.id, retry_at, error).await
    }

    /// The latest `limit` messages, newest first (the development mailbox).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn recent_mail(&self, limit: u32) -> Result<Vec<QueuedMail>, Error> {
        self.users.recent_mail(limit).await
    }
}
