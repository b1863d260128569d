//! The storage boundary, after tower-sessions' `SessionStore`: small traits,
//! each with its contract, so a backend implements only what it stores and
//! backends can be swapped by configuration.
//!
//! | trait | what | backends |
//! |---|---|---|
//! | [`UserStore`] | accounts and the auth event log | SQL (SQLite, PostgreSQL) |
//! | [`PasskeyStore`] | accounts' passkeys | SQL |
//! | [`IdentityStore`] | accounts' identities at OpenID Connect providers | SQL |
//! | [`SessionStore`] | server-side sessions | SQL, Redis, [`cache::CachedSessions`] in front of either |
//! | [`RefreshTokens`] | refresh-token families and their rotation | same as sessions |
//! | [`Ceremonies`] | passkey ceremonies between their two requests | same as sessions |
//! | [`ExpiredDeletion`] | deleting expired and revoked rows | same as sessions |
//! | [`Readiness`] | a cheap round trip for `/readyz` | every backend |
//! | [`RateCounters`] | rate-limit counters every instance shares | SQL, Redis |
//!
//! | [`EmailStore`] | accounts' addresses, links sent by mail, the outbox | SQL |
//!
//! [`SessionBackend`] and [`UserBackend`] name the bundles the engine
//! holds; [`open`] builds them from configuration, so the web layer never
//! branches on a backend. Each backend lives in its own module behind its
//! own cargo feature.
//!
//! Contracts every backend keeps (checked by the conformance suite in
//! `tests/conformance.rs`, run against each):
//! - lookups are by token hash, never by raw token;
//! - `find_session` returns the row even when expired or revoked, so the
//!   engine can tell "expired" (record an event, clear the cookie) from
//!   "unknown";
//! - revocation is immediate: the next `find_session` sees it;
//! - every revocation is logged (`revoked_since`) and announced on the
//!   store's [`crate::feed::RevocationFeed`];
//! - `delete_expired` removes expired *and* revoked rows (and ended
//!   rate-limit windows);
//! - a rate counter counts atomically: concurrent `count`s from several
//!   instances each get a distinct count;
//! - a link sent by mail is taken once, and mail is queued in the same
//!   transaction as what caused it; each queued message is taken by one
//!   sender at a time.

pub mod cache;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod database;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod open;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod opening;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(all(feature = "redis", any(feature = "sqlite", feature = "postgres")))]
pub mod redis;
#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub mod sql;
#[cfg(feature = "sqlite")]
pub mod sqlite;

#[cfg(any(feature = "sqlite", feature = "postgres"))]
pub use open::{open, OpenError, Opened, StoreSettings};

use async_trait::async_trait;
use time::OffsetDateTime;

use crate::{
    email::{EmailAddress, LinkPurpose, LinkRecord, Mail, NewLink, QueuedMail},
    id::{SessionId, UserId},
    record::{
        Account, Activity, AuthEvent, Authenticated, ClientInfo, Notice, SessionRecord,
        StoredNotice, UserSummary,
    },
    token::TokenHash,
    Error,
};

/// What happened when a refresh token was presented.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rotation {
    /// No such token.
    Unknown,
    /// The token was current; it is now rotated and its successor stored.
    Rotated(SessionId),
    /// The token was rotated moments ago (within the grace window), e.g. by
    /// another tab racing this one: not an attack.
    WithinGrace(SessionId),
    /// The token was rotated before the grace window: a replay.
    Reused(SessionId),
}

impl Rotation {
    /// The verdict for a token that was not rotated by this call: rotated
    /// at `rotated_at` (or, with `None`, not rotated because its session has
    /// ended, which the engine then finds out), presented again at `now`.
    /// One rule for every backend.
    #[must_use]
    pub fn for_presented_again(
        session_id: SessionId,
        rotated_at: Option<OffsetDateTime>,
        now: OffsetDateTime,
        grace: time::Duration,
    ) -> Self {
        if now - rotated_at.unwrap_or(now) <= grace {
            Self::WithinGrace(session_id)
        } else {
            Self::Reused(session_id)
        }
    }
}

/// The session a refresh token belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RefreshFamily {
    /// The session.
    pub session: SessionId,
    /// Whether the token is its session's current one (not rotated yet).
    pub current: bool,
}

/// A new account, with its password already hashed.
#[derive(Clone, Debug)]
pub struct NewUser {
    /// The account.
    pub user: UserSummary,
    /// Argon2id PHC string; `None` for an account made with a passkey alone.
    pub password_hash: Option<String>,
}

/// A stored passkey.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PasskeyRecord {
    /// Our id for it (UUIDv7), for the rename and remove forms.
    pub id: String,
    /// Its owner.
    pub user_id: UserId,
    /// The WebAuthn credential id, base64url: unique across all accounts.
    pub credential_id: String,
    /// What its owner calls it.
    pub name: String,
    /// `webauthn-rs`'s `Passkey` as JSON: the public key, the signature
    /// counter and the backup flags, updated after each use.
    pub credential: String,
    /// When it was added.
    pub created_at: OffsetDateTime,
    /// When it last signed in or confirmed.
    pub last_used_at: Option<OffsetDateTime>,
}

/// An identity at an OpenID Connect provider, linked to an account.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdentityRecord {
    /// The provider's issuer identifier (its URL).
    pub issuer: String,
    /// The provider's id for the person, unique within the issuer.
    pub subject: String,
    /// The account it signs in to.
    pub user_id: UserId,
    /// What the provider called the person when it was linked (an address
    /// or a name), shown on the account page; it proves nothing.
    pub label: String,
    /// When it was linked.
    pub created_at: OffsetDateTime,
    /// When it last signed in or confirmed.
    pub last_used_at: Option<OffsetDateTime>,
}

/// What removing a passkey (or an identity) did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Removed.
    Removed,
    /// Not the user's, or not there.
    NotFound,
    /// Refused: it is the last credential of an account without a
    /// password, which would then have no way to sign in.
    LastCredential,
}

/// Accounts and the auth event log.
#[async_trait]
pub trait UserStore: Send + Sync + 'static {
    /// Inserts an account.
    ///
    /// # Errors
    /// [`Error::UsernameTaken`] if the normalised name exists.
    async fn create_user(&self, user: &NewUser) -> Result<(), Error>;

    /// An account with its password hash and credentials version, by
    /// normalised name.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_user_by_username(&self, username: &str) -> Result<Option<Account>, Error>;

    /// The account's credentials version ([`Account::credentials_version`]);
    /// `None` if the account does not exist (any more).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn credentials_version(&self, id: UserId) -> Result<Option<i64>, Error>;

    /// Moves the account's credentials version on (sign out everywhere);
    /// returns the new one, `None` if the account does not exist.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn bump_credentials_version(&self, id: UserId) -> Result<Option<i64>, Error>;

    /// An account by id (the Redis session store copies it into sessions).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_user_by_id(&self, id: UserId) -> Result<Option<UserSummary>, Error>;

    /// Appends to the event log. `user_id` is `None` for events that belong
    /// to no account. An event of a kind
    /// [`crate::AuthEventKind::is_grouped`] adds one to the count of that
    /// account's line of the kind for the same UTC day (moving its time and
    /// source to this one's) instead of adding a line.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn record_event(&self, user_id: Option<UserId>, event: &AuthEvent) -> Result<(), Error>;

    /// Replaces a user's password hash (or sets the first) and moves the
    /// credentials version on, in one statement. Returns the new version,
    /// `None` if the user does not exist.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn set_password_hash(
        &self,
        id: UserId,
        password_hash: &str,
    ) -> Result<Option<i64>, Error>;

    /// Removes the user's password, only if the account keeps a passkey to
    /// sign in with (checked under the account's row lock, as
    /// [`PasskeyStore::remove_passkey`] is), and moves the credentials
    /// version on. [`Removal::NotFound`] if it has no password.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn remove_password(&self, id: UserId) -> Result<Removal, Error>;

    /// Deletes a user with their event log (and, in SQL, their sessions
    /// and refresh tokens: `ON DELETE CASCADE`), queuing `farewell` (the
    /// news, to the account's confirmed address, at its time) in the same
    /// transaction when the user existed (unless the address has had its
    /// share of mail). Returns whether the user existed. The name can then
    /// be registered again.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn delete_user(
        &self,
        id: UserId,
        farewell: Option<(&Mail, OffsetDateTime)>,
    ) -> Result<bool, Error>;

    /// Deletes the events (of every user, and of none) and the notices
    /// recorded before `at`, for the retention limit. Returns how many
    /// events.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn delete_events_before(&self, at: OffsetDateTime) -> Result<u64, Error>;

    /// The latest `limit` events of a user, newest first, without failed
    /// sign-ins: a stranger's guesses must not push the owner's own
    /// activity off the list ([`UserStore::failed_sign_ins_since_sign_in`]
    /// summarises them instead).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn list_events(&self, user_id: UserId, limit: u32) -> Result<Vec<AuthEvent>, Error>;

    /// How many failed sign-ins the user's log holds since their latest
    /// sign-in (or sign-up).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn failed_sign_ins_since_sign_in(&self, user_id: UserId) -> Result<u64, Error>;

    /// Stores a security notice for the user, and queues `mail` (the
    /// notice, to the account's confirmed address) in the same
    /// transaction. Returns whether the mail was queued: past the
    /// address's share ([`crate::email::mail::over_limit`]) the notice is
    /// stored alone.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn add_notice(
        &self,
        user_id: UserId,
        notice: &Notice,
        mail: Option<&Mail>,
    ) -> Result<bool, Error>;

    /// The user's latest `limit` notices not yet dismissed, newest first.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn list_notices(&self, user_id: UserId, limit: u32) -> Result<Vec<StoredNotice>, Error>;

    /// The latest `notices` notices and `events` events of a user, as
    /// [`UserStore::list_notices`] and [`UserStore::list_events`] list
    /// them, for the dashboard. The SQL stores read both in one query: a
    /// signed-in page's cost is mostly its round trips to the database.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn activity(
        &self,
        user_id: UserId,
        notices: u32,
        events: u32,
    ) -> Result<Activity, Error> {
        Ok(Activity {
            notices: self.list_notices(user_id, notices).await?,
            events: self.list_events(user_id, events).await?,
        })
    }

    /// Dismisses (deletes) one of the user's notices, if a credential was
    /// proved after it was raised: it was raised before `proven_at` (the
    /// dismissing session's latest proof, its sign-in or a confirmation), or
    /// at or before `confirmed_at` (its latest confirmation, which no
    /// notice is raised with). Returns whether it did: no user can dismiss
    /// another's by guessing ids.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn dismiss_notice(
        &self,
        user_id: UserId,
        id: i64,
        proven_at: OffsetDateTime,
        confirmed_at: Option<OffsetDateTime>,
    ) -> Result<bool, Error>;
}

/// An account's email address and whether it is verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccountEmail {
    /// The address, as typed.
    pub address: EmailAddress,
    /// When its owner proved they read it; `None` until then.
    pub verified_at: Option<OffsetDateTime>,
}

/// Accounts' email addresses, the one-time links mailed to them, and the
/// outbox. Everything that sends mail queues it in the same transaction
/// as the change that caused it.
#[async_trait]
pub trait EmailStore: Send + Sync + 'static {
    /// The account's address, if it has one.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn email_of(&self, user_id: UserId) -> Result<Option<AccountEmail>, Error>;

    /// Gives the account `link.address` (unverified), ends its links, and
    /// stores `link` and queues `mail` (the link's message), at once.
    /// Returns `false` if the account does not exist (nothing stored).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn set_email(&self, link: &NewLink, mail: &Mail) -> Result<bool, Error>;

    /// Ends the account's links of the same purpose, and stores `link` and
    /// queues `mail`, at once (a link sent again).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn issue_link(&self, link: &NewLink, mail: &Mail) -> Result<(), Error>;

    /// The account whose verified address has `address`'s key.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_user_by_verified_email(
        &self,
        address: &EmailAddress,
    ) -> Result<Option<UserSummary>, Error>;

    /// The link with this token hash and purpose, left in place (checked
    /// before work that must not consume it, such as a password's
    /// strength); `None` if there is none.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_link(
        &self,
        token_hash: &TokenHash,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkRecord>, Error>;

    /// Ends every link of the account, whatever its purpose (a password
    /// reset ends the other outstanding ones). Returns how many.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn delete_links(&self, user_id: UserId) -> Result<u64, Error>;

    /// Takes (deletes) the link with this token hash and purpose, and
    /// returns it, expired or not; `None` if there is none. Only one of
    /// concurrent takers gets it.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn take_link(
        &self,
        token_hash: &TokenHash,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkRecord>, Error>;

    /// Takes the `purpose` link bound to the browser `binding` whose code
    /// hashes to `code_hash`. A code that does not match counts against
    /// the browser's links, and the last allowed miss
    /// ([`crate::email::link::CODE_ATTEMPTS`]) ends them.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn try_code(
        &self,
        binding: &TokenHash,
        purpose: LinkPurpose,
        code_hash: &TokenHash,
    ) -> Result<Option<LinkRecord>, Error>;

    /// Marks the account's address verified at `at`, if it still is
    /// `address` (by key). Returns whether it did.
    ///
    /// # Errors
    /// [`Error::EmailTaken`] if another account has verified the same
    /// address; [`Error::Storage`] if the backend fails.
    async fn mark_verified(
        &self,
        user_id: UserId,
        address: &EmailAddress,
        at: OffsetDateTime,
    ) -> Result<bool, Error>;

    /// The address a change waits to confirm: the one the account's live
    /// verification link was sent to, when it is not the account's own.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn pending_email(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Option<EmailAddress>, Error>;

    /// Makes `address` the account's, verified at `at`, whatever it had
    /// (a change confirmed from the new address, or put back from the old
    /// one). Returns whether the account exists.
    ///
    /// # Errors
    /// [`Error::EmailTaken`] if another account has verified the same
    /// address; [`Error::Storage`] if the backend fails.
    async fn replace_email(
        &self,
        user_id: UserId,
        address: &EmailAddress,
        at: OffsetDateTime,
    ) -> Result<bool, Error>;

    /// Takes the oldest message due at `now` for sending: it is not due
    /// again until `now + lease`, so another sender leaves it alone while
    /// this one tries.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Option<QueuedMail>, Error>;

    /// Records that message `id` was delivered at `at`.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn mail_sent(&self, id: i64, at: OffsetDateTime) -> Result<(), Error>;

    /// Records a failed attempt at message `id`; it is due again at
    /// `retry_at`. `error` is kept for the operator (no secret in it).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn mail_failed(
        &self,
        id: i64,
        retry_at: OffsetDateTime,
        error: &str,
    ) -> Result<(), Error>;

    /// Deletes expired links, and mail sent longer ago than
    /// [`crate::email::mail::KEEP_SENT`]. Returns how many rows.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn delete_expired_mail(&self, now: OffsetDateTime) -> Result<u64, Error>;

    /// The latest `limit` messages, sent or not, newest first (the
    /// development mailbox).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn recent_mail(&self, limit: u32) -> Result<Vec<QueuedMail>, Error>;
}

/// Accounts' passkeys (WebAuthn credentials). Deleting an account deletes
/// its passkeys (`ON DELETE CASCADE`).
#[async_trait]
pub trait PasskeyStore: Send + Sync + 'static {
    /// Stores a passkey.
    ///
    /// # Errors
    /// [`Error::PasskeyTaken`] if its credential id is stored already (for
    /// any account: WebAuthn requires the check).
    async fn add_passkey(&self, passkey: &PasskeyRecord) -> Result<(), Error>;

    /// A user's passkeys, oldest first.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn list_passkeys(&self, user_id: UserId) -> Result<Vec<PasskeyRecord>, Error>;

    /// The passkey with this credential id, whoever owns it.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, Error>;

    /// Records a use: the credential as updated by it (its counter) and
    /// when, only if it is still `previous` (compare-and-set: of two
    /// sign-ins that verified against the same stored counter, one
    /// records, so the counter never goes back). Returns whether it did.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn passkey_used(
        &self,
        id: &str,
        previous: &str,
        credential: &str,
        at: OffsetDateTime,
    ) -> Result<bool, Error>;

    /// Renames one of the user's passkeys. Returns whether it was theirs.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn rename_passkey(&self, user_id: UserId, id: &str, name: &str) -> Result<bool, Error>;

    /// Removes one of the user's passkeys, unless it is the last credential
    /// of an account without a password, and moves the account's
    /// credentials version on. The check and the removal run under the
    /// account row's lock, so two concurrent removals cannot both pass it.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn remove_passkey(&self, user_id: UserId, id: &str) -> Result<Removal, Error>;
}

/// Identities at OpenID Connect providers, linked to accounts.
#[async_trait]
pub trait IdentityStore: Send + Sync + 'static {
    /// The account `issuer` and `subject` are linked to, if any.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>, Error>;

    /// Links an identity to its account.
    ///
    /// # Errors
    /// [`Error::IdentityTaken`] if it is linked already (to any account),
    /// [`Error::Storage`] if the backend fails.
    async fn add_identity(&self, identity: &IdentityRecord) -> Result<(), Error>;

    /// Creates an account whose only credential is `identity`, with
    /// `email` (typed, and its key) as its verified address if given, in
    /// one transaction.
    ///
    /// # Errors
    /// [`Error::UsernameTaken`], [`Error::IdentityTaken`],
    /// [`Error::EmailTaken`] when another account verified the address
    /// meanwhile, or [`Error::Storage`].
    async fn create_identity_account(
        &self,
        user: &NewUser,
        identity: &IdentityRecord,
        email: Option<&crate::email::address::EmailAddress>,
    ) -> Result<(), Error>;

    /// Records a use of the identity at `at`.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn identity_used(
        &self,
        issuer: &str,
        subject: &str,
        at: OffsetDateTime,
    ) -> Result<(), Error>;

    /// The account's identities, oldest first.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn list_identities(&self, user_id: UserId) -> Result<Vec<IdentityRecord>, Error>;

    /// Unlinks an identity of `user_id`, unless it is the account's last
    /// credential (no password, no passkey, no other identity). Moves the
    /// credentials version on, as removing a passkey does.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn remove_identity(
        &self,
        user_id: UserId,
        issuer: &str,
        subject: &str,
    ) -> Result<Removal, Error>;
}

/// Passkey ceremonies between their `start` and `finish` requests, kept
/// where the sessions are so any instance can finish one.
#[async_trait]
pub trait Ceremonies: Send + Sync + 'static {
    /// Keeps a ceremony's `state` under the hash of its token until
    /// `expires_at`.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn put_ceremony(
        &self,
        key: &TokenHash,
        state: &str,
        expires_at: OffsetDateTime,
    ) -> Result<(), Error>;

    /// Takes a ceremony out: returns its state if it is there and not
    /// expired at `now`, and removes it either way. Single use: of
    /// concurrent calls with the same key, at most one gets the state.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn take_ceremony(
        &self,
        key: &TokenHash,
        now: OffsetDateTime,
    ) -> Result<Option<String>, Error>;
}

/// Server-side sessions: one row per signed-in browser, found by the hash of
/// its cookie's token.
#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Stores a new session.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails (including a hash collision,
    /// which 256-bit tokens make practically impossible).
    async fn insert_session(&self, session: &SessionRecord) -> Result<(), Error>;

    /// The session with this token hash and its user, in one lookup.
    /// Expired and revoked rows are returned too (see the module docs).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_session(&self, token_hash: &TokenHash) -> Result<Option<Authenticated>, Error>;

    /// The session with this id and its user (expired and revoked rows too).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn find_session_by_id(&self, id: SessionId) -> Result<Option<Authenticated>, Error>;

    /// Records activity: sets `last_seen_at`, the slid idle expiry and
    /// where it was seen from (`seen_from`'s address and agent; each one
    /// `None` keeps the previous) of an unrevoked session (a revoked one
    /// stays revoked).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn touch_session(
        &self,
        id: SessionId,
        last_seen_at: OffsetDateTime,
        idle_expires_at: OffsetDateTime,
        seen_from: &ClientInfo,
    ) -> Result<(), Error>;

    /// Records that the user proved a credential again in session `id` at
    /// `at` (sets `authenticated_at` and `confirmed_at` of an unrevoked
    /// session). Returns whether it did.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn record_authentication(&self, id: SessionId, at: OffsetDateTime)
        -> Result<bool, Error>;

    /// The user's sessions that are active at `now`, newest first.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn list_user_sessions(
        &self,
        user_id: UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<SessionRecord>, Error>;

    /// Revokes one session of `user_id`. Returns whether an active session
    /// was revoked (`false` for another user's session or an unknown id), so
    /// one user can never end another's session by guessing an id.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn revoke_session(
        &self,
        user_id: UserId,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<bool, Error>;

    /// Revokes all active sessions of `user_id`, except `keep` if given.
    /// Returns the ones it revoked.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn revoke_user_sessions(
        &self,
        user_id: UserId,
        keep: Option<SessionId>,
        at: OffsetDateTime,
    ) -> Result<Vec<SessionId>, Error>;

    /// Revokes a session by id alone (reuse detection, where the owner is
    /// not known yet). Returns its owner if it was active.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn revoke_session_by_id(
        &self,
        id: SessionId,
        at: OffsetDateTime,
    ) -> Result<Option<UserId>, Error>;

    /// The sessions revoked at or after `at`, from the revocation log: an
    /// instance back from a gap in its revocation feed reloads its
    /// deny-list from it ([`crate::revocation`]). Every revocation is
    /// logged with the revocation itself, and the log outlives the session
    /// rows (and the account) for [`crate::deny_list::RETAIN`].
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn revoked_since(&self, at: OffsetDateTime) -> Result<Vec<SessionId>, Error>;
}

/// Refresh-token families: each session's chain of refresh tokens, of which
/// only the newest is current. Stored as hashes, like session tokens.
#[async_trait]
pub trait RefreshTokens: Send + Sync + 'static {
    /// Stores the first refresh token of a session.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn insert_refresh_token(
        &self,
        session_id: SessionId,
        token_hash: &TokenHash,
        at: OffsetDateTime,
    ) -> Result<(), Error>;

    /// The session a refresh token (current or rotated) belongs to, and
    /// whether it is the current one, if it is known.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn refresh_token_session(
        &self,
        token_hash: &TokenHash,
    ) -> Result<Option<RefreshFamily>, Error>;

    /// The DPoP key `session`'s refresh tokens are bound to, binding it to
    /// `key` first if it has none and `key` is given (once bound, never
    /// changed: concurrent first binds leave exactly one). `None` for an
    /// unbound (or unknown) session.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn bind_key(
        &self,
        session: SessionId,
        key: Option<&str>,
    ) -> Result<Option<String>, Error>;

    /// Atomically exchanges the token `presented` for `successor`: marks it
    /// rotated and stores the successor, only if it belongs to `session`
    /// (the session cookie it came with; otherwise [`Rotation::Unknown`],
    /// and nothing changes), was not rotated yet, and its session is active
    /// at `now`. Concurrent calls with the same token
    /// see exactly one [`Rotation::Rotated`]; the others see
    /// [`Rotation::WithinGrace`] or [`Rotation::Reused`] depending on
    /// `grace` ([`Rotation::for_presented_again`]).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn rotate_refresh_token(
        &self,
        presented: &TokenHash,
        successor: &TokenHash,
        session: SessionId,
        now: OffsetDateTime,
        grace: time::Duration,
    ) -> Result<Rotation, Error>;
}

/// Deleting what can no longer be used, for the background cleanup task
/// (kept apart from the request path, as tower-sessions does).
#[async_trait]
pub trait ExpiredDeletion: Send + Sync + 'static {
    /// Deletes every session that is expired at `now` or revoked, with its
    /// refresh tokens, and the passkey ceremonies expired at `now` (Redis
    /// expires those keys itself), and forgets the revocations logged
    /// longer than
    /// [`crate::deny_list::RETAIN`] before `now`. Returns how many sessions
    /// were deleted.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn delete_expired(&self, now: OffsetDateTime) -> Result<u64, Error>;

    /// Deletes the refresh tokens rotated before `at` (the current token of
    /// a live session is never rotated, so it stays). Returns how many.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn delete_rotated_before(&self, at: OffsetDateTime) -> Result<u64, Error>;
}

/// A rate-limit counter's current window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    /// Counts in this window so far.
    pub count: u64,
    /// When the window ends (and the count starts again from zero).
    pub ends_at: OffsetDateTime,
}

/// Fixed-window counters that every instance shares, so a rate limit's
/// budget is per deployment rather than per instance
/// ([`crate::throttle`]). Times come from the caller (millisecond
/// precision), so every backend agrees on when a window ends.
#[async_trait]
pub trait RateCounters: Send + Sync + 'static {
    /// Counts one against `key` and returns its window: the current one, or
    /// a new one of length `window` from `now` if it had none or it ended.
    /// Atomic: concurrent calls each see a distinct count.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn count(
        &self,
        key: &str,
        window: std::time::Duration,
        now: OffsetDateTime,
    ) -> Result<Window, Error>;

    /// `key`'s current window at `now` without counting; `None` if it has
    /// none (never counted, or ended).
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend fails.
    async fn peek(&self, key: &str, now: OffsetDateTime) -> Result<Option<Window>, Error>;
}

/// Milliseconds since the Unix epoch, as rate counters store times.
#[must_use]
pub fn unix_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A window's length in milliseconds, at least one.
#[must_use]
pub fn window_ms(window: std::time::Duration) -> i64 {
    i64::try_from(window.as_millis()).unwrap_or(i64::MAX).max(1)
}

/// The time `ms` milliseconds after the Unix epoch.
///
/// # Errors
/// [`Error::Storage`] for a value out of range.
pub fn from_unix_ms(ms: i64) -> Result<OffsetDateTime, Error> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000).map_err(Error::storage)
}

/// Whether a backend answers, for readiness probes.
#[async_trait]
pub trait Readiness: Send + Sync + 'static {
    /// One cheap round trip.
    ///
    /// # Errors
    /// [`Error::Storage`] if the backend is unreachable.
    async fn ping(&self) -> Result<(), Error>;
}

/// Everything the engine needs of a session backend. Implemented for every
/// type that implements the four traits.
pub trait SessionBackend:
    SessionStore + RefreshTokens + Ceremonies + ExpiredDeletion + Readiness
{
}

impl<T: SessionStore + RefreshTokens + Ceremonies + ExpiredDeletion + Readiness> SessionBackend
    for T
{
}

/// Everything the engine needs of an account backend.
pub trait UserBackend: UserStore + PasskeyStore + EmailStore + IdentityStore + Readiness {}

impl<T: UserStore + PasskeyStore + EmailStore + IdentityStore + Readiness> UserBackend for T {}
