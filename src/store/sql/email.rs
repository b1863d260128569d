//! Accounts' addresses, links sent by mail, and the outbox, in SQL.
//!
//! Whatever sends mail writes the outbox row in the transaction that makes
//! the change, so a change is never without its mail nor a mail without
//! its change.

use async_trait::async_trait;
use sqlx::Transaction;
use time::OffsetDateTime;

use super::{from_ts, opt_ts, ts, user_from_row, Dialect, SqlStore, Value};
use crate::{
    email::{EmailAddress, LinkPurpose, LinkRecord, Mail, NewLink, QueuedMail},
    id::UserId,
    record::UserSummary,
    store::{AccountEmail, EmailStore},
    token::TokenHash,
    Error,
};

/// Queues `mail` at `at` in `tx`, unless the address has had its share
/// ([`crate::email::mail::over_limit`]): then [`Error::TooManyMails`] and
/// nothing queued. The count is read from the outbox itself, so every
/// instance sees the same one. (Two racing requests may both pass: a
/// message more, not a flood.)
pub(super) async fn queue<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    mail: &Mail,
    at: OffsetDateTime,
) -> Result<(), Error> {
    let recent = DB::fetch_optional(
        &mut **tx,
        "SELECT COALESCE(SUM(CASE WHEN kind LIKE $4 THEN 1 ELSE 0 END), 0) AS n, \
         MAX(CASE WHEN kind = $3 THEN created_at END) AS latest \
         FROM outbox WHERE LOWER(recipient) = $1 AND created_at > $2",
        &[
            Value::Text(&mail.to.to_lowercase()),
            Value::Int(ts(at - crate::email::mail::LIMIT_WINDOW)),
            Value::Text(&mail.kind),
            Value::Text(&format!("{}%", crate::email::mail::LINK_KIND)),
        ],
    )
    .await?;
    if let Some(row) = recent {
        let sent = DB::int(&row, "n")?;
        let latest = DB::opt_int(&row, "latest")?.map(from_ts).transpose()?;
        if crate::email::mail::over_limit(&mail.kind, sent, latest, at) {
            return Err(Error::TooManyMails);
        }
    }
    DB::execute(
        &mut **tx,
        "INSERT INTO outbox \
         (recipient, subject, text_body, html_body, created_at, next_attempt_at, kind) \
         VALUES ($1, $2, $3, $4, $5, $5, $6)",
        &[
            Value::Text(&mail.to),
            Value::Text(&mail.subject),
            Value::Text(&mail.text),
            Value::Text(&mail.html),
            Value::Int(ts(at)),
            Value::Text(&mail.kind),
        ],
    )
    .await?;
    Ok(())
}

/// Ends the account's links of the link's purpose, then stores the link
/// and queues its mail, in `tx`.
async fn replace_link<DB: Dialect>(
    tx: &mut Transaction<'_, DB>,
    link: &NewLink,
    mail: &Mail,
) -> Result<(), Error> {
    let user = link.user_id.to_string();
    queue(tx, mail, link.created_at).await?;
    DB::execute(
        &mut **tx,
        "DELETE FROM email_links WHERE user_id = $1 AND purpose = $2",
        &[Value::Text(&user), Value::Text(link.purpose.as_str())],
    )
    .await?;
    DB::execute(
        &mut **tx,
        "INSERT INTO email_links \
         (token_hash, purpose, user_id, address, created_at, expires_at, binding, code_hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &[
            Value::Bytes(link.token_hash.as_bytes()),
            Value::Text(link.purpose.as_str()),
            Value::Text(&user),
            Value::Text(link.address.as_str()),
            Value::Int(ts(link.created_at)),
            Value::Int(ts(link.expires_at)),
            Value::OptBytes(link.binding.as_ref().map(|b| &b.as_bytes()[..])),
            Value::OptBytes(link.code_hash.as_ref().map(|c| &c.as_bytes()[..])),
        ],
    )
    .await?;
    Ok(())
}

fn link_from_row<DB: Dialect>(row: &DB::Row, purpose: LinkPurpose) -> Result<LinkRecord, Error> {
    Ok(LinkRecord {
        purpose,
        user_id: DB::text(row, "user_id")?.parse()?,
        address: EmailAddress::trusted(&DB::text(row, "address")?),
        expires_at: from_ts(DB::int(row, "expires_at")?)?,
        binding: DB::opt_bytes(row, "binding")?
            .map(|bytes| TokenHash::from_slice(&bytes).ok_or_else(|| Error::storage("bad binding")))
            .transpose()?,
    })
}

fn queued_from_row<DB: Dialect>(row: &DB::Row) -> Result<QueuedMail, Error> {
    Ok(QueuedMail {
        id: DB::int(row, "id")?,
        mail: Mail {
            kind: DB::text(row, "kind")?,
            to: DB::text(row, "recipient")?,
            subject: DB::text(row, "subject")?,
            text: DB::text(row, "text_body")?,
            html: DB::text(row, "html_body")?,
        },
        created_at: from_ts(DB::int(row, "created_at")?)?,
        attempts: DB::int(row, "attempts")?,
        sent_at: opt_ts::<DB>(row, "sent_at")?,
    })
}

#[async_trait]
impl<DB: Dialect> EmailStore for SqlStore<DB> {
    async fn email_of(&self, user_id: UserId) -> Result<Option<AccountEmail>, Error> {
        let row = self
            .fetch_optional(
                "SELECT email, email_verified_at FROM users WHERE id = $1",
                &[Value::Text(&user_id.to_string())],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let Some(address) = DB::opt_text(&row, "email")? else {
            return Ok(None);
        };
        Ok(Some(AccountEmail {
            address: EmailAddress::trusted(&address),
            verified_at: opt_ts::<DB>(&row, "email_verified_at")?,
        }))
    }

    async fn set_email(&self, link: &NewLink, mail: &Mail) -> Result<bool, Error> {
        let mut tx = self.pool.begin().await?;
        let changed = DB::execute(
            &mut *tx,
            "UPDATE users SET email = $1, email_key = $2, email_verified_at = NULL WHERE id = $3",
            &[
                Value::Text(link.address.as_str()),
                Value::Text(link.address.key()),
                Value::Text(&link.user_id.to_string()),
            ],
        )
        .await?;
        if changed == 0 {
            tx.rollback().await?;
            return Ok(false);
        }
        replace_link(&mut tx, link, mail).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn issue_link(&self, link: &NewLink, mail: &Mail) -> Result<(), Error> {
        let mut tx = self.pool.begin().await?;
        replace_link(&mut tx, link, mail).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn find_user_by_verified_email(
        &self,
        address: &EmailAddress,
    ) -> Result<Option<UserSummary>, Error> {
        let row = self
            .fetch_optional(
                "SELECT id, username, display_name, created_at FROM users \
                 WHERE email_key = $1 AND email_verified_at IS NOT NULL",
                &[Value::Text(address.key())],
            )
            .await?;
        row.map(|row| user_from_row::<DB>(&row, "")).transpose()
    }

    async fn find_link(
        &self,
        token_hash: &TokenHash,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkRecord>, Error> {
        let row = self
            .fetch_optional(
                "SELECT user_id, address, expires_at, binding FROM email_links \
                 WHERE token_hash = $1 AND purpose = $2",
                &[
                    Value::Bytes(token_hash.as_bytes()),
                    Value::Text(purpose.as_str()),
                ],
            )
            .await?;
        row.map(|row| link_from_row::<DB>(&row, purpose))
            .transpose()
    }

    async fn delete_links(&self, user_id: UserId) -> Result<u64, Error> {
        self.execute(
            "DELETE FROM email_links WHERE user_id = $1",
            &[Value::Text(&user_id.to_string())],
        )
        .await
    }

    async fn take_link(
        &self,
        token_hash: &TokenHash,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkRecord>, Error> {
        let row = self
            .fetch_optional(
                "DELETE FROM email_links WHERE token_hash = $1 AND purpose = $2 \
                 RETURNING user_id, address, expires_at, binding",
                &[
                    Value::Bytes(token_hash.as_bytes()),
                    Value::Text(purpose.as_str()),
                ],
            )
            .await?;
        row.map(|row| link_from_row::<DB>(&row, purpose))
            .transpose()
    }

    async fn try_code(
        &self,
        binding: &TokenHash,
        purpose: LinkPurpose,
        code_hash: &TokenHash,
    ) -> Result<Option<LinkRecord>, Error> {
        let mut tx = self.pool.begin().await?;
        // The code of this browser's newest link: one that matches is
        // taken; one that does not is counted, and the last allowed miss
        // ends the link.
        let taken = DB::fetch_optional(
            &mut *tx,
            "DELETE FROM email_links WHERE binding = $1 AND purpose = $2 AND code_hash = $3 \
             RETURNING user_id, address, expires_at, binding",
            &[
                Value::Bytes(binding.as_bytes()),
                Value::Text(purpose.as_str()),
                Value::Bytes(code_hash.as_bytes()),
            ],
        )
        .await?;
        if taken.is_none() {
            DB::execute(
                &mut *tx,
                "UPDATE email_links SET attempts = attempts + 1 WHERE binding = $1 AND purpose = $2",
                &[Value::Bytes(binding.as_bytes()), Value::Text(purpose.as_str())],
            )
            .await?;
            DB::execute(
                &mut *tx,
                "DELETE FROM email_links WHERE binding = $1 AND purpose = $2 AND attempts >= $3",
                &[
                    Value::Bytes(binding.as_bytes()),
                    Value::Text(purpose.as_str()),
                    Value::Int(crate::email::link::CODE_ATTEMPTS),
                ],
            )
            .await?;
        }
        tx.commit().await?;
        taken
            .map(|row| link_from_row::<DB>(&row, purpose))
            .transpose()
    }

    async fn mark_verified(
        &self,
        user_id: UserId,
        address: &EmailAddress,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        self.verify_update(
            "UPDATE users SET email_verified_at = $1 \
             WHERE id = $2 AND email_key = $3 AND email_verified_at IS NULL",
            &[
                Value::Int(ts(at)),
                Value::Text(&user_id.to_string()),
                Value::Text(address.key()),
            ],
        )
        .await
    }

    async fn pending_email(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Option<EmailAddress>, Error> {
        let row = self
            .fetch_optional(
                "SELECT l.address FROM email_links l JOIN users u ON u.id = l.user_id \
                 WHERE l.user_id = $1 AND l.purpose = $2 AND l.expires_at > $3 \
                 AND (u.email_key IS NULL OR LOWER(l.address) <> u.email_key) \
                 ORDER BY l.created_at DESC LIMIT 1",
                &[
                    Value::Text(&user_id.to_string()),
                    Value::Text(LinkPurpose::Verify.as_str()),
                    Value::Int(ts(now)),
                ],
            )
            .await?;
        row.map(|row| Ok(EmailAddress::trusted(&DB::text(&row, "address")?)))
            .transpose()
    }

    async fn replace_email(
        &self,
        user_id: UserId,
        address: &EmailAddress,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        self.verify_update(
            "UPDATE users SET email = $1, email_key = $2, email_verified_at = $3 WHERE id = $4",
            &[
                Value::Text(address.as_str()),
                Value::Text(address.key()),
                Value::Int(ts(at)),
                Value::Text(&user_id.to_string()),
            ],
        )
        .await
    }

    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Option<QueuedMail>, Error> {
        // The outer `next_attempt_at <= $1` is checked again on the locked
        // row (PostgreSQL), so of two racing senders one gets no row.
        let row = self
            .fetch_optional(
                "UPDATE outbox SET next_attempt_at = $2 \
                 WHERE id = (SELECT id FROM outbox \
                   WHERE sent_at IS NULL AND next_attempt_at <= $1 \
                   ORDER BY next_attempt_at, id LIMIT 1) \
                 AND sent_at IS NULL AND next_attempt_at <= $1 \
                 RETURNING id, kind, recipient, subject, text_body, html_body, created_at, \
                   attempts, sent_at",
                &[Value::Int(ts(now)), Value::Int(ts(now + lease))],
            )
            .await?;
        row.map(|row| queued_from_row::<DB>(&row)).transpose()
    }

    async fn mail_sent(&self, id: i64, at: OffsetDateTime) -> Result<(), Error> {
        self.execute(
            "UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2",
            &[Value::Int(ts(at)), Value::Int(id)],
        )
        .await?;
        Ok(())
    }

    async fn mail_failed(
        &self,
        id: i64,
        retry_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1, last_error = $2 \
             WHERE id = $3 AND sent_at IS NULL",
            &[Value::Int(ts(retry_at)), Value::Text(error), Value::Int(id)],
        )
        .await?;
        Ok(())
    }

    async fn delete_expired_mail(&self, now: OffsetDateTime) -> Result<u64, Error> {
        let links = self
            .execute(
                "DELETE FROM email_links WHERE expires_at <= $1",
                &[Value::Int(ts(now))],
            )
            .await?;
        let sent = self
            .execute(
                "DELETE FROM outbox WHERE sent_at < $1",
                &[Value::Int(ts(now - crate::email::mail::KEEP_SENT))],
            )
            .await?;
        Ok(links + sent)
    }

    async fn recent_mail(&self, limit: u32) -> Result<Vec<QueuedMail>, Error> {
        let rows = self
            .fetch_all(
                "SELECT id, kind, recipient, subject, text_body, html_body, created_at, attempts, \
                 sent_at FROM outbox ORDER BY id DESC LIMIT $1",
                &[Value::Int(i64::from(limit))],
            )
            .await?;
        rows.iter().map(queued_from_row::<DB>).collect()
    }
}

impl<DB: Dialect> SqlStore<DB> {
    /// Runs an update that verifies an address; whether it changed a row.
    /// An address verified on another account breaks the partial unique
    /// index: [`Error::EmailTaken`].
    async fn verify_update(&self, sql: &'static str, args: &[Value<'_>]) -> Result<bool, Error> {
        match DB::execute(&mut *self.conn().await?, sql, args).await {
            Ok(n) => Ok(n > 0),
            Err(err) if super::is_unique_violation(&err) => Err(Error::EmailTaken),
            Err(err) => Err(err.into()),
        }
    }
}
