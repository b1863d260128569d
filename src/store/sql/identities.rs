//! Identities at OpenID Connect providers, in SQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{from_ts, is_unique_violation, opt_ts, ts, Dialect, SqlStore, Value};
use crate::{
    email::address::EmailAddress,
    id::UserId,
    store::{IdentityRecord, IdentityStore, NewUser, Removal},
    Error,
};

fn identity_from_row<DB: Dialect>(row: &DB::Row) -> Result<IdentityRecord, Error> {
    Ok(IdentityRecord {
        issuer: DB::text(row, "issuer")?,
        subject: DB::text(row, "subject")?,
        user_id: DB::text(row, "user_id")?.parse()?,
        label: DB::text(row, "label")?,
        created_at: from_ts(DB::int(row, "created_at")?)?,
        last_used_at: opt_ts::<DB>(row, "last_used_at")?,
    })
}

/// A statement's unique violation as `taken`, any other failure as a
/// storage error.
fn taken(taken: Error) -> impl FnOnce(sqlx::Error) -> Error {
    move |err| {
        if is_unique_violation(&err) {
            taken
        } else {
            err.into()
        }
    }
}

const INSERT_IDENTITY: &str = "INSERT INTO identities \
     (issuer, subject, user_id, label, created_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6)";

/// The values of [`INSERT_IDENTITY`] for `i`, linked to `user`.
fn insert_values<'a>(i: &'a IdentityRecord, user: &'a str) -> [Value<'a>; 6] {
    [
        Value::Text(&i.issuer),
        Value::Text(&i.subject),
        Value::Text(user),
        Value::Text(&i.label),
        Value::Int(ts(i.created_at)),
        Value::OptInt(i.last_used_at.map(ts)),
    ]
}

#[async_trait]
impl<DB: Dialect> IdentityStore for SqlStore<DB> {
    async fn find_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>, Error> {
        let row = self
            .fetch_optional(
                "SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2",
                &[Value::Text(issuer), Value::Text(subject)],
            )
            .await?;
        row.map(|row| DB::text(&row, "user_id")?.parse())
            .transpose()
    }

    async fn add_identity(&self, i: &IdentityRecord) -> Result<(), Error> {
        let user = i.user_id.to_string();
        DB::execute(
            &mut *self.conn().await?,
            INSERT_IDENTITY,
            &insert_values(i, &user),
        )
        .await
        .map_err(taken(Error::IdentityTaken))?;
        Ok(())
    }

    async fn create_identity_account(
        &self,
        new: &NewUser,
        i: &IdentityRecord,
        email: Option<&EmailAddress>,
    ) -> Result<(), Error> {
        let user = new.user.id.to_string();
        let mut tx = self.pool.begin().await?;
        DB::execute(
            &mut *tx,
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, '', $4)",
            &[
                Value::Text(&user),
                Value::Text(&new.user.username),
                Value::Text(&new.user.display_name),
                Value::Int(ts(new.user.created_at)),
            ],
        )
        .await
        .map_err(taken(Error::UsernameTaken))?;
        DB::execute(&mut *tx, INSERT_IDENTITY, &insert_values(i, &user))
            .await
            .map_err(taken(Error::IdentityTaken))?;
        if let Some(address) = email {
            // Verified by the provider: the partial unique index keeps one
            // account per verified address.
            DB::execute(
                &mut *tx,
                "UPDATE users SET email = $1, email_key = $2, email_verified_at = $3 \
                 WHERE id = $4",
                &[
                    Value::Text(address.as_str()),
                    Value::Text(address.key()),
                    Value::Int(ts(new.user.created_at)),
                    Value::Text(&user),
                ],
            )
            .await
            .map_err(taken(Error::EmailTaken))?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn identity_used(
        &self,
        issuer: &str,
        subject: &str,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.execute(
            "UPDATE identities SET last_used_at = $1 WHERE issuer = $2 AND subject = $3",
            &[
                Value::Int(ts(at)),
                Value::Text(issuer),
                Value::Text(subject),
            ],
        )
        .await?;
        Ok(())
    }

    async fn list_identities(&self, user_id: UserId) -> Result<Vec<IdentityRecord>, Error> {
        let rows = self
            .fetch_all(
                "SELECT issuer, subject, user_id, label, created_at, last_used_at \
                 FROM identities WHERE user_id = $1 ORDER BY created_at, issuer, subject",
                &[Value::Text(&user_id.to_string())],
            )
            .await?;
        rows.iter().map(identity_from_row::<DB>).collect()
    }

    async fn remove_identity(
        &self,
        user_id: UserId,
        issuer: &str,
        subject: &str,
    ) -> Result<Removal, Error> {
        let user = user_id.to_string();
        let mut tx = self.pool.begin().await?;
        // The account row's lock first, held to the end, as a passkey's
        // removal takes it: two removals cannot both count the other's
        // credential and leave none.
        DB::execute(
            &mut *tx,
            "UPDATE users SET credentials_version = credentials_version + 1 WHERE id = $1",
            &[Value::Text(&user)],
        )
        .await?;
        let removed = DB::execute(
            &mut *tx,
            "DELETE FROM identities WHERE issuer = $1 AND subject = $2 AND user_id = $3 AND ( \
               EXISTS (SELECT 1 FROM users WHERE id = $3 AND password_hash <> '') \
               OR EXISTS (SELECT 1 FROM passkeys WHERE user_id = $3) \
               OR (SELECT COUNT(*) FROM identities WHERE user_id = $3) > 1)",
            &[
                Value::Text(issuer),
                Value::Text(subject),
                Value::Text(&user),
            ],
        )
        .await?;
        if removed > 0 {
            tx.commit().await?;
            return Ok(Removal::Removed);
        }
        tx.rollback().await?;
        let exists = self
            .fetch_optional(
                "SELECT user_id FROM identities WHERE issuer = $1 AND subject = $2 \
                 AND user_id = $3",
                &[
                    Value::Text(issuer),
                    Value::Text(subject),
                    Value::Text(&user),
                ],
            )
            .await?;
        Ok(if exists.is_some() {
            Removal::LastCredential
        } else {
            Removal::NotFound
        })
    }
}
