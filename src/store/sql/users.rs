//! Accounts, the auth event log and security notices, in SQL.

use async_trait::async_trait;

use super::{from_ts, ts, user_from_row, Dialect, SqlStore, Value};
use crate::{
    email::Mail,
    id::UserId,
    record::{
        Account, Activity, AuthEvent, AuthEventKind, Notice, NoticeKind, StoredNotice, UserSummary,
    },
    store::{NewUser, Removal, UserStore},
    Error,
};

#[async_trait]
impl<DB: Dialect> UserStore for SqlStore<DB> {
    async fn create_user(&self, new: &NewUser) -> Result<(), Error> {
        let id = new.user.id.to_string();
        let res = DB::execute(
            &mut *self.conn().await?,
            "INSERT INTO users (id, username, display_name, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
            &[
                Value::Text(&id),
                Value::Text(&new.user.username),
                Value::Text(&new.user.display_name),
                // No password: the empty string (see migration 0008).
                Value::Text(new.password_hash.as_deref().unwrap_or_default()),
                Value::Int(ts(new.user.created_at)),
            ],
        )
        .await;
        match res {
            Ok(_) => Ok(()),
            Err(err) if super::is_unique_violation(&err) => Err(Error::UsernameTaken),
            Err(err) => Err(err.into()),
        }
    }

    async fn find_user_by_username(&self, username: &str) -> Result<Option<Account>, Error> {
        let row = self
            .fetch_optional(
                "SELECT id, username, display_name, created_at, password_hash, \
                 credentials_version FROM users WHERE username = $1",
                &[Value::Text(username)],
            )
            .await?;
        row.map(|row| {
            Ok(Account {
                user: user_from_row::<DB>(&row, "")?,
                password_hash: Some(DB::text(&row, "password_hash")?)
                    .filter(|hash| !hash.is_empty()),
                credentials_version: DB::int(&row, "credentials_version")?,
            })
        })
        .transpose()
    }

    async fn credentials_version(&self, id: UserId) -> Result<Option<i64>, Error> {
        let row = self
            .fetch_optional(
                "SELECT credentials_version FROM users WHERE id = $1",
                &[Value::Text(&id.to_string())],
            )
            .await?;
        Ok(row
            .map(|row| DB::int(&row, "credentials_version"))
            .transpose()?)
    }

    async fn bump_credentials_version(&self, id: UserId) -> Result<Option<i64>, Error> {
        let row = self
            .fetch_optional(
                "UPDATE users SET credentials_version = credentials_version + 1 \
                 WHERE id = $1 RETURNING credentials_version",
                &[Value::Text(&id.to_string())],
            )
            .await?;
        Ok(row
            .map(|row| DB::int(&row, "credentials_version"))
            .transpose()?)
    }

    async fn find_user_by_id(&self, id: UserId) -> Result<Option<UserSummary>, Error> {
        let row = self
            .fetch_optional(
                "SELECT id, username, display_name, created_at FROM users WHERE id = $1",
                &[Value::Text(&id.to_string())],
            )
            .await?;
        row.map(|row| user_from_row::<DB>(&row, "")).transpose()
    }

    async fn record_event(&self, user_id: Option<UserId>, event: &AuthEvent) -> Result<(), Error> {
        // An event of no account changes no account's lists.
        let Some(user) = user_id else {
            return self.write_event(None, event).await;
        };
        let (store, event) = (self.clone(), event.clone());
        self.changing_activity(Some(user), async move {
            store.write_event(Some(user), &event).await
        })
        .await
    }

    async fn set_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
    ) -> Result<Option<i64>, Error> {
        let row = self
            .fetch_optional(
                "UPDATE users SET password_hash = $1, \
                 credentials_version = credentials_version + 1 \
                 WHERE id = $2 RETURNING credentials_version",
                &[Value::Text(password_hash), Value::Text(&id.to_string())],
            )
            .await?;
        Ok(row
            .map(|row| DB::int(&row, "credentials_version"))
            .transpose()?)
    }

    async fn remove_password(&self, id: UserId) -> Result<Removal, Error> {
        let id = id.to_string();
        let mut tx = self.pool.begin().await?;
        // The UPDATE takes the account row's lock (PostgreSQL) or the
        // database's write lock (SQLite) until the end: a concurrent
        // passkey removal waits, then sees this one's result.
        let locked = DB::fetch_optional(
            &mut *tx,
            "UPDATE users SET credentials_version = credentials_version + 1 \
             WHERE id = $1 RETURNING password_hash",
            &[Value::Text(&id)],
        )
        .await?;
        let has_password = match locked {
            Some(row) => !DB::text(&row, "password_hash")?.is_empty(),
            None => false,
        };
        if !has_password {
            tx.rollback().await?;
            return Ok(Removal::NotFound);
        }
        let row = DB::fetch_optional(
            &mut *tx,
            "SELECT (SELECT COUNT(*) FROM passkeys WHERE user_id = $1) \
             + (SELECT COUNT(*) FROM identities WHERE user_id = $1) AS n",
            &[Value::Text(&id)],
        )
        .await?;
        if row.map(|row| DB::int(&row, "n")).transpose()?.unwrap_or(0) == 0 {
            tx.rollback().await?;
            return Ok(Removal::LastCredential);
        }
        // No password: the empty string (see migration 0008).
        DB::execute(
            &mut *tx,
            "UPDATE users SET password_hash = '' WHERE id = $1",
            &[Value::Text(&id)],
        )
        .await?;
        tx.commit().await?;
        Ok(Removal::Removed)
    }

    async fn delete_user(
        &self,
        id: UserId,
        farewell: Option<(&Mail, time::OffsetDateTime)>,
    ) -> Result<bool, Error> {
        let (store, farewell) = (self.clone(), farewell.map(|(m, at)| (m.clone(), at)));
        self.changing_activity(Some(id), async move {
            let farewell = farewell.as_ref().map(|(m, at)| (m, *at));
            store.delete_account(id, farewell).await
        })
        .await
    }

    async fn delete_events_before(&self, at: time::OffsetDateTime) -> Result<u64, Error> {
        let store = self.clone();
        self.changing_activity(None, async move { store.delete_old_rows(at).await })
            .await
    }

    async fn failed_sign_ins_since_sign_in(&self, user_id: UserId) -> Result<u64, Error> {
        let id = user_id.to_string();
        // By id, not time: ids grow with every insert, seconds do not.
        let [a, b, c, d, e] = SIGN_INS;
        let row = self
            .fetch_optional(
                "SELECT COUNT(*) AS n FROM auth_events \
                 WHERE user_id = $1 AND kind = $2 AND id > COALESCE(( \
                   SELECT MAX(id) FROM auth_events \
                   WHERE user_id = $1 AND kind IN ($3, $4, $5, $6, $7)), 0)",
                &[
                    Value::Text(&id),
                    Value::Text(AuthEventKind::SignInFailed.as_str()),
                    Value::Text(a.as_str()),
                    Value::Text(b.as_str()),
                    Value::Text(c.as_str()),
                    Value::Text(d.as_str()),
                    Value::Text(e.as_str()),
                ],
            )
            .await?;
        let n = row.map(|row| DB::int(&row, "n")).transpose()?;
        Ok(n.map_or(0, |n| u64::try_from(n).unwrap_or(0)))
    }

    async fn add_notice(
        &self,
        user_id: UserId,
        notice: &Notice,
        mail: Option<&Mail>,
    ) -> Result<bool, Error> {
        let (store, notice, mail) = (self.clone(), notice.clone(), mail.cloned());
        self.changing_activity(Some(user_id), async move {
            store.insert_notice(user_id, &notice, mail.as_ref()).await
        })
        .await
    }

    async fn list_notices(&self, user_id: UserId, limit: u32) -> Result<Vec<StoredNotice>, Error> {
        let rows = self
            .fetch_all(
                "SELECT id, kind, count, ip_address, user_agent, created_at \
                 FROM security_notices WHERE user_id = $1 ORDER BY id DESC LIMIT $2",
                &[
                    Value::Text(&user_id.to_string()),
                    Value::Int(i64::from(limit)),
                ],
            )
            .await?;
        rows.iter()
            .filter_map(|row| notice_from_row::<DB>(row).transpose())
            .collect()
    }

    async fn dismiss_notice(
        &self,
        user_id: UserId,
        id: i64,
        proven_at: time::OffsetDateTime,
        confirmed_at: Option<time::OffsetDateTime>,
    ) -> Result<bool, Error> {
        let store = self.clone();
        self.changing_activity(Some(user_id), async move {
            store
                .delete_notice(user_id, id, proven_at, confirmed_at)
                .await
        })
        .await
    }

    async fn list_events(&self, user_id: UserId, limit: u32) -> Result<Vec<AuthEvent>, Error> {
        let rows = self
            .fetch_all(
                "SELECT id, kind, session_ref, ip_address, user_agent, created_at, count \
                 FROM auth_events \
                 WHERE user_id = $1 AND kind <> $3 \
                 ORDER BY created_at DESC, id DESC LIMIT $2",
                &[
                    Value::Text(&user_id.to_string()),
                    Value::Int(i64::from(limit)),
                    Value::Text(AuthEventKind::SignInFailed.as_str()),
                ],
            )
            .await?;
        rows.iter()
            .filter_map(|row| event_from_row::<DB>(row).transpose())
            .map(|event| event.map(|(_, event)| event))
            .collect()
    }

    async fn activity(
        &self,
        user_id: UserId,
        notices: u32,
        events: u32,
    ) -> Result<Activity, Error> {
        let Some(cache) = &self.activity else {
            return self.read_activity(user_id, notices, events).await;
        };
        match cache.get(user_id, (notices, events)) {
            Ok(kept) => Ok(kept),
            Err(ticket) => {
                let activity = self.read_activity(user_id, notices, events).await?;
                cache.keep(ticket, &activity);
                Ok(activity)
            }
        }
    }
}

/// The statements behind the writes and the read the dashboard's lists
/// are kept between (`activity_cache.rs`).
impl<DB: Dialect> SqlStore<DB> {
    async fn write_event(&self, user_id: Option<UserId>, event: &AuthEvent) -> Result<(), Error> {
        let user_id = user_id.map(|id| id.to_string());
        if let (Some(user), true) = (&user_id, event.kind.is_grouped()) {
            // Today's line of this kind, if there is one, counts it. (Two
            // racing first events of a day can make two lines: harmless.)
            let day = event.created_at.replace_time(time::Time::MIDNIGHT);
            let counted = self
                .execute(
                    "UPDATE auth_events SET count = count + 1, created_at = $1, \
                     ip_address = $2, user_agent = $3, session_ref = $4 \
                     WHERE id = (SELECT id FROM auth_events \
                       WHERE user_id = $5 AND kind = $6 AND created_at >= $7 \
                       ORDER BY id DESC LIMIT 1)",
                    &[
                        Value::Int(ts(event.created_at)),
                        Value::OptText(event.ip_address.as_deref()),
                        Value::OptText(event.user_agent.as_deref()),
                        Value::OptText(event.session_ref.as_deref()),
                        Value::Text(user),
                        Value::Text(event.kind.as_str()),
                        Value::Int(ts(day)),
                    ],
                )
                .await?;
            if counted > 0 {
                return Ok(());
            }
        }
        self.execute(
            "INSERT INTO auth_events \
             (user_id, kind, session_ref, ip_address, user_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Value::OptText(user_id.as_deref()),
                Value::Text(event.kind.as_str()),
                Value::OptText(event.session_ref.as_deref()),
                Value::OptText(event.ip_address.as_deref()),
                Value::OptText(event.user_agent.as_deref()),
                Value::Int(ts(event.created_at)),
            ],
        )
        .await?;
        Ok(())
    }

    async fn delete_account(
        &self,
        id: UserId,
        farewell: Option<(&Mail, time::OffsetDateTime)>,
    ) -> Result<bool, Error> {
        let mut tx = self.pool.begin().await?;
        // Events, sessions, refresh tokens and links go with the row (`ON
        // DELETE CASCADE`); the outbox belongs to no account.
        let deleted = DB::execute(
            &mut *tx,
            "DELETE FROM users WHERE id = $1",
            &[Value::Text(&id.to_string())],
        )
        .await?;
        if let (true, Some((mail, at))) = (deleted > 0, farewell) {
            match super::email::queue(&mut tx, mail, at).await {
                Ok(()) | Err(Error::TooManyMails) => {}
                Err(err) => return Err(err),
            }
        }
        tx.commit().await?;
        Ok(deleted > 0)
    }

    async fn delete_old_rows(&self, at: time::OffsetDateTime) -> Result<u64, Error> {
        self.execute(
            "DELETE FROM security_notices WHERE created_at < $1",
            &[Value::Int(ts(at))],
        )
        .await?;
        self.execute(
            "DELETE FROM auth_events WHERE created_at < $1",
            &[Value::Int(ts(at))],
        )
        .await
    }

    async fn insert_notice(
        &self,
        user_id: UserId,
        notice: &Notice,
        mail: Option<&Mail>,
    ) -> Result<bool, Error> {
        let mut tx = self.pool.begin().await?;
        DB::execute(
            &mut *tx,
            "INSERT INTO security_notices \
             (user_id, kind, count, ip_address, user_agent, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                Value::Text(&user_id.to_string()),
                Value::Text(notice.kind.as_str()),
                Value::Int(i64::try_from(notice.count).unwrap_or(i64::MAX)),
                Value::OptText(notice.ip_address.as_deref()),
                Value::OptText(notice.user_agent.as_deref()),
                Value::Int(ts(notice.created_at)),
            ],
        )
        .await?;
        let mailed = match mail {
            // Past the address's share, the notice stays on the dashboard.
            Some(mail) => match super::email::queue(&mut tx, mail, notice.created_at).await {
                Ok(()) => true,
                Err(Error::TooManyMails) => false,
                Err(err) => return Err(err),
            },
            None => false,
        };
        tx.commit().await?;
        Ok(mailed)
    }

    async fn delete_notice(
        &self,
        user_id: UserId,
        id: i64,
        proven_at: time::OffsetDateTime,
        confirmed_at: Option<time::OffsetDateTime>,
    ) -> Result<bool, Error> {
        let deleted = self
            .execute(
                "DELETE FROM security_notices WHERE id = $1 AND user_id = $2 \
                 AND (created_at < $3 OR created_at <= $4)",
                &[
                    Value::Int(id),
                    Value::Text(&user_id.to_string()),
                    Value::Int(ts(proven_at)),
                    Value::OptInt(confirmed_at.map(ts)),
                ],
            )
            .await?;
        Ok(deleted > 0)
    }

    async fn read_activity(
        &self,
        user_id: UserId,
        notices: u32,
        events: u32,
    ) -> Result<Activity, Error> {
        // The two lists of `list_notices` and `list_events`, each with its
        // own order and limit, in one round trip.
        let rows = self
            .fetch_all(
                "SELECT * FROM (SELECT 'notice' AS source, id, kind, count, NULL AS session_ref, \
                 ip_address, user_agent, created_at FROM security_notices \
                 WHERE user_id = $1 ORDER BY id DESC LIMIT $2) AS n \
                 UNION ALL \
                 SELECT * FROM (SELECT 'event' AS source, id, kind, count, session_ref, \
                 ip_address, user_agent, created_at FROM auth_events \
                 WHERE user_id = $1 AND kind <> $4 \
                 ORDER BY created_at DESC, id DESC LIMIT $3) AS e",
                &[
                    Value::Text(&user_id.to_string()),
                    Value::Int(i64::from(notices)),
                    Value::Int(i64::from(events)),
                    Value::Text(AuthEventKind::SignInFailed.as_str()),
                ],
            )
            .await?;
        let mut activity = Activity::default();
        let mut listed = Vec::new();
        for row in &rows {
            if DB::text(row, "source")? == "notice" {
                activity.notices.extend(notice_from_row::<DB>(row)?);
            } else {
                listed.extend(event_from_row::<DB>(row)?);
            }
        }
        // A union keeps no order: each list is sorted as its own query does.
        activity.notices.sort_by_key(|n| std::cmp::Reverse(n.id));
        listed.sort_by_key(|(id, e)| std::cmp::Reverse((e.created_at, *id)));
        activity.events = listed.into_iter().map(|(_, e)| e).collect();
        Ok(activity)
    }
}

/// The kinds that are a successful sign-in ([`AuthEventKind::is_sign_in`]),
/// as the query after failed sign-ins binds them.
const SIGN_INS: [AuthEventKind; 5] = [
    AuthEventKind::SignUp,
    AuthEventKind::SignIn,
    AuthEventKind::PasskeySignIn,
    AuthEventKind::EmailSignIn,
    AuthEventKind::IdentitySignIn,
];

/// A stored kind this build does not know (written by a newer one, or by
/// hand): logged as the error it is, and the row skipped, so one unknown
/// row does not take the dashboard down with it.
fn unknown_kind(table: &str, kind: &str) {
    tracing::error!(
        table,
        kind,
        "a stored kind this build does not know; the row is skipped"
    );
}

/// A notice row; `None` (logged) for a kind this build does not know.
fn notice_from_row<DB: Dialect>(row: &DB::Row) -> Result<Option<StoredNotice>, Error> {
    let stored = DB::text(row, "kind")?;
    let Some(kind) = NoticeKind::parse(&stored) else {
        unknown_kind("security_notices", &stored);
        return Ok(None);
    };
    Ok(Some(StoredNotice {
        id: DB::int(row, "id")?,
        notice: Notice {
            kind,
            count: u64::try_from(DB::int(row, "count")?).unwrap_or(0),
            ip_address: DB::opt_text(row, "ip_address")?,
            user_agent: DB::opt_text(row, "user_agent")?,
            created_at: from_ts(DB::int(row, "created_at")?)?,
        },
    }))
}

/// An event row with its id; `None` (logged) for a kind this build does
/// not know.
fn event_from_row<DB: Dialect>(row: &DB::Row) -> Result<Option<(i64, AuthEvent)>, Error> {
    let stored = DB::text(row, "kind")?;
    let Some(kind) = AuthEventKind::parse(&stored) else {
        unknown_kind("auth_events", &stored);
        return Ok(None);
    };
    Ok(Some((
        DB::int(row, "id")?,
        AuthEvent {
            kind,
            session_ref: DB::opt_text(row, "session_ref")?,
            ip_address: DB::opt_text(row, "ip_address")?,
            user_agent: DB::opt_text(row, "user_agent")?,
            created_at: from_ts(DB::int(row, "created_at")?)?,
            count: u64::try_from(DB::int(row, "count")?).unwrap_or(1),
        },
    )))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A request dropped while its write is under way (the browser went
    /// away) still has the kept lists forgotten, after the write and not
    /// before: the write runs to its end in a task of its own.
    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn a_dropped_write_still_forgets_the_lists_after_it_ends() {
        use super::super::activity_cache::ActivityCache;

        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let store = crate::store::sqlite::SqliteStore::new(pool).sole_writer();
        let cache = store.activity.clone().unwrap();
        let user = UserId::new();
        let kept = |cache: &ActivityCache| cache.get(user, (5, 10)).is_ok();
        let ticket = cache.get(user, (5, 10)).unwrap_err();
        cache.keep(ticket, &Activity::default());
        assert!(kept(&cache));

        let (go, held) = tokio::sync::oneshot::channel::<()>();
        let (ended, has_ended) = tokio::sync::oneshot::channel::<()>();
        let request = store.changing_activity(Some(user), async move {
            held.await.unwrap();
            ended.send(()).unwrap();
            Ok(())
        });
        // Polled once, then dropped, as a request whose client is gone.
        let dropped = tokio::time::timeout(std::time::Duration::ZERO, request).await;
        assert!(dropped.is_err());
        assert!(kept(&cache), "nothing forgotten before the write ends");

        go.send(()).unwrap();
        has_ended.await.expect("the write ran to its end");
        for _ in 0..100 {
            if !kept(&cache) {
                break;
            }
            tokio::task::yield_now().await;
        }
        assert!(!kept(&cache), "forgotten once it ended");
    }

    /// A row of a kind this build does not know (a newer build wrote it)
    /// is skipped, and said so in the log at ERROR, never silently.
    #[cfg(feature = "sqlite")]
    #[tokio::test]
    async fn an_unknown_stored_kind_is_logged_not_silently_skipped() {
        use std::sync::{Arc, Mutex};

        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }

        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        crate::store::sqlite::migrate(&pool).await.unwrap();
        let store = crate::store::sqlite::SqliteStore::new(pool.clone());
        let user = UserSummary {
            id: UserId::new(),
            username: "uma".into(),
            display_name: "uma".into(),
            created_at: time::OffsetDateTime::now_utc(),
        };
        store
            .create_user(&NewUser {
                user: user.clone(),
                password_hash: None,
            })
            .await
            .unwrap();
        for kind in ["signin", "from_a_newer_build"] {
            sqlx::query("INSERT INTO auth_events (user_id, kind, created_at) VALUES ($1, $2, 0)")
                .bind(user.id.to_string())
                .bind(kind)
                .execute(&pool)
                .await
                .unwrap();
        }
        let lines = Lines::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer({
                let lines = lines.clone();
                move || lines.clone()
            })
            .with_ansi(false)
            .finish();
        let _guard = tracing::subscriber::set_default(subscriber);
        let events = store.list_events(user.id, 10).await.unwrap();
        assert_eq!(
            events.iter().map(|e| e.kind).collect::<Vec<_>>(),
            [AuthEventKind::SignIn]
        );
        let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
        assert!(
            logged.contains("ERROR") && logged.contains("from_a_newer_build"),
            "{logged}"
        );
    }

    #[test]
    fn the_bound_sign_in_kinds_are_every_sign_in() {
        let every: Vec<_> = AuthEventKind::ALL
            .iter()
            .copied()
            .filter(|k| k.is_sign_in())
            .collect();
        assert_eq!(every, SIGN_INS.to_vec(), "update SIGN_INS and its query");
    }
}
