//! Passkeys and passkey ceremonies, in SQL.

use async_trait::async_trait;
use time::OffsetDateTime;

use super::{from_ts, opt_ts, ts, Dialect, SqlStore, Value};
use crate::{
    id::UserId,
    store::{Ceremonies, PasskeyRecord, PasskeyStore, Removal},
    token::TokenHash,
    Error,
};

/// The passkey columns, as a macro so queries stay `&'static str` literals.
macro_rules! select_passkeys {
    ($where:literal) => {
        concat!(
            "SELECT id, user_id, credential_id, name, credential, created_at, last_used_at \
             FROM passkeys WHERE ",
            $where
        )
    };
}

fn passkey_from_row<DB: Dialect>(row: &DB::Row) -> Result<PasskeyRecord, Error> {
    Ok(PasskeyRecord {
        id: DB::text(row, "id")?,
        user_id: DB::text(row, "user_id")?.parse()?,
        credential_id: DB::text(row, "credential_id")?,
        name: DB::text(row, "name")?,
        credential: DB::text(row, "credential")?,
        created_at: from_ts(DB::int(row, "created_at")?)?,
        last_used_at: opt_ts::<DB>(row, "last_used_at")?,
    })
}

#[async_trait]
impl<DB: Dialect> PasskeyStore for SqlStore<DB> {
    async fn add_passkey(&self, p: &PasskeyRecord) -> Result<(), Error> {
        let res = DB::execute(
            &mut *self.conn().await?,
            "INSERT INTO passkeys \
             (id, user_id, credential_id, name, credential, created_at, last_used_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                Value::Text(&p.id),
                Value::Text(&p.user_id.to_string()),
                Value::Text(&p.credential_id),
                Value::Text(&p.name),
                Value::Text(&p.credential),
                Value::Int(ts(p.created_at)),
                Value::OptInt(p.last_used_at.map(ts)),
            ],
        )
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(err) if super::is_unique_violation(&err) => Err(Error::PasskeyTaken),
            Err(err) => Err(err.into()),
        }
    }

    async fn list_passkeys(&self, user_id: UserId) -> Result<Vec<PasskeyRecord>, Error> {
        let rows = self
            .fetch_all(
                select_passkeys!("user_id = $1 ORDER BY created_at, id"),
                &[Value::Text(&user_id.to_string())],
            )
            .await?;
        rows.iter().map(passkey_from_row::<DB>).collect()
    }

    async fn find_passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, Error> {
        let row = self
            .fetch_optional(
                select_passkeys!("credential_id = $1"),
                &[Value::Text(credential_id)],
            )
            .await?;
        row.as_ref().map(passkey_from_row::<DB>).transpose()
    }

    async fn passkey_used(
        &self,
        id: &str,
        previous: &str,
        credential: &str,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        let recorded = self
            .execute(
                "UPDATE passkeys SET credential = $1, last_used_at = $2 \
                 WHERE id = $3 AND credential = $4",
                &[
                    Value::Text(credential),
                    Value::Int(ts(at)),
                    Value::Text(id),
                    Value::Text(previous),
                ],
            )
            .await?;
        Ok(recorded > 0)
    }

    async fn rename_passkey(&self, user_id: UserId, id: &str, name: &str) -> Result<bool, Error> {
        let changed = self
            .execute(
                "UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3",
                &[
                    Value::Text(name),
                    Value::Text(id),
                    Value::Text(&user_id.to_string()),
                ],
            )
            .await?;
        Ok(changed > 0)
    }

    async fn remove_passkey(&self, user_id: UserId, id: &str) -> Result<Removal, Error> {
        let user = user_id.to_string();
        let mut tx = self.pool.begin().await?;
        // The account row's lock first (PostgreSQL; SQLite's write lock),
        // held to the end: under READ COMMITTED two removals could
        // otherwise both count two passkeys and delete one each. The second
        // waits here, then its DELETE sees the first's.
        DB::execute(
            &mut *tx,
            "UPDATE users SET credentials_version = credentials_version + 1 WHERE id = $1",
            &[Value::Text(&user)],
        )
        .await?;
        let removed = DB::execute(
            &mut *tx,
            "DELETE FROM passkeys WHERE id = $1 AND user_id = $2 AND ( \
               EXISTS (SELECT 1 FROM users WHERE id = $2 AND password_hash <> '') \
               OR EXISTS (SELECT 1 FROM identities WHERE user_id = $2) \
               OR (SELECT COUNT(*) FROM passkeys WHERE user_id = $2) > 1)",
            &[Value::Text(id), Value::Text(&user)],
        )
        .await?;
        if removed > 0 {
            tx.commit().await?;
            return Ok(Removal::Removed);
        }
        tx.rollback().await?;
        let exists = self
            .fetch_optional(
                "SELECT id FROM passkeys WHERE id = $1 AND user_id = $2",
                &[Value::Text(id), Value::Text(&user)],
            )
            .await?;
        Ok(if exists.is_some() {
            Removal::LastCredential
        } else {
            Removal::NotFound
        })
    }
}

#[async_trait]
impl<DB: Dialect> Ceremonies for SqlStore<DB> {
    async fn put_ceremony(
        &self,
        key: &TokenHash,
        state: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.execute(
            "INSERT INTO passkey_ceremonies (key_hash, state, expires_at) VALUES ($1, $2, $3)",
            &[
                Value::Bytes(key.as_bytes()),
                Value::Text(state),
                Value::Int(ts(expires_at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn take_ceremony(
        &self,
        key: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<String>, Error> {
        // Deleting is what takes it: of two concurrent takes, one deletes
        // the row and gets it back, the other finds nothing.
        let row = self
            .fetch_optional(
                "DELETE FROM passkey_ceremonies WHERE key_hash = $1 RETURNING state, expires_at",
                &[Value::Bytes(key.as_bytes())],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let expires_at = from_ts(DB::int(&row, "expires_at")?)?;
        if expires_at <= now {
            return Ok(None);
        }
        Ok(Some(DB::text(&row, "state")?))
    }
}
