//! Delivers the outbox over SMTP.
//!
//! Requests never wait on SMTP: they queue mail in the store
//! (`engine::email`), and [`send_outbox`] takes it from there, one message
//! at a time, on every instance (the store's lease keeps two from sending
//! one message). It wakes when this instance queues mail and polls for
//! what other instances queued or what is due again after a failure.
//!
//! With no `SMTP_URL` in development, nothing is sent: mail stays in the
//! outbox and `/dev/mailbox` shows it (`mailbox.rs`). Production refuses to
//! start without `SMTP_URL` (`config`). This module reads the settings for
//! `config` too, so it imports nothing else of the server.

use std::{sync::Arc, time::Duration};

use engine::{email::Mail, Auth};
use lettre::{
    message::{Mailbox, MultiPart},
    AsyncSmtpTransport, AsyncTransport as _, Message, Tokio1Executor,
};
use tokio::sync::watch;

/// How often the sender looks for mail it was not woken for.
pub const POLL: Duration = Duration::from_secs(5);

/// How long one SMTP conversation may take before it counts as failed.
const SMTP_TIMEOUT: Duration = Duration::from_secs(20);

/// An SMTP server and the sender's address.
#[derive(Clone)]
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp")
            .field("from", &self.from)
            .finish_non_exhaustive()
    }
}

/// Why an SMTP setting cannot be used (the URL itself is never shown: it
/// may hold a password).
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// `SMTP_URL` does not parse.
    #[error("expected smtps://user:password@host:465 or smtp://user:password@host:587?tls=required ({0})")]
    Url(String),
    /// `MAIL_FROM` is not an address.
    #[error("expected an address such as \"Leptos Sessions <no-reply@app.example>\" ({0})")]
    From(String),
}

impl Smtp {
    /// The server at `url` (lettre's syntax), sending as `from`.
    ///
    /// # Errors
    /// [`SmtpError`] naming the setting that does not parse.
    pub fn new(url: &str, from: &str) -> Result<Self, SmtpError> {
        let transport = transport(url)?.timeout(Some(SMTP_TIMEOUT)).build();
        Ok(Self {
            transport,
            from: parse_from(from)?,
        })
    }

    /// Hands `mail` to the SMTP server.
    ///
    /// # Errors
    /// Why it was not accepted, for the log and the outbox row (no secret:
    /// lettre's errors name the server's reply, not the credentials).
    pub async fn deliver(&self, mail: &Mail) -> Result<(), String> {
        let to: Mailbox = mail.to.parse().map_err(|err| format!("recipient: {err}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|err| format!("message: {err}"))?;
        self.transport
            .send(message)
            .await
            .map(drop)
            .map_err(|err| err.to_string())
    }
}

/// `SMTP_URL` read, not connected to.
///
/// # Errors
/// [`SmtpError::Url`].
pub fn transport(
    url: &str,
) -> Result<lettre::transport::smtp::AsyncSmtpTransportBuilder, SmtpError> {
    AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
        .map_err(|err| SmtpError::Url(err.to_string()))
}

/// `MAIL_FROM` as a mailbox.
///
/// # Errors
/// [`SmtpError::From`].
pub fn parse_from(from: &str) -> Result<Mailbox, SmtpError> {
    from.parse()
        .map_err(|err: lettre::address::AddressError| SmtpError::From(err.to_string()))
}

/// Whether `url` sends in the clear (`smtp://` without `tls=required`):
/// refused in production.
#[must_use]
pub fn is_plaintext(url: &str) -> bool {
    url.starts_with("smtp://") && !url.contains("tls=required")
}

/// Sends what the outbox holds until `shutdown` changes.
pub async fn send_outbox(auth: Auth, smtp: Arc<Smtp>, mut shutdown: watch::Receiver<bool>) {
    let bell = auth.outbox_bell();
    loop {
        loop {
            let mail = match auth.claim_mail().await {
                Ok(Some(mail)) => mail,
                Ok(None) => break,
                Err(err) => {
                    tracing::warn!(error = %err, "could not read the outbox; will retry");
                    break;
                }
            };
            let delivered = smtp.deliver(&mail.mail).await;
            let recorded = match delivered {
                Ok(()) => {
                    tracing::info!(mail = mail.id, "mail delivered to the SMTP server");
                    auth.mail_sent(&mail).await
                }
                Err(err) => auth.mail_failed(&mail, &err).await,
            };
            if let Err(err) = recorded {
                tracing::warn!(error = %err, mail = mail.id, "could not record a delivery");
            }
        }
        tokio::select! {
            () = bell.notified() => {}
            () = tokio::time::sleep(POLL) => {}
            _ = shutdown.changed() => break,
        }
    }
    tracing::debug!("mail sender stopped");
}

#[cfg(test)]
mod tests {
    use super::{is_plaintext, Smtp};
    #[tokio::test]
    async fn smtp_settings_are_checked_and_plaintext_is_named() {
        assert!(Smtp::new(
            "smtps://user:pw@smtp.example.com:465",
            "App <no-reply@app.example>"
        )
        .is_ok());
        assert!(Smtp::new("http://smtp.example.com", "no-reply@app.example").is_err());
        assert!(Smtp::new("smtp://127.0.0.1:1025", "not an address").is_err());
        assert!(is_plaintext("smtp://127.0.0.1:1025"));
        assert!(!is_plaintext("smtp://h:587?tls=required"));
        assert!(!is_plaintext("smtps://h:465"));
    }
}
