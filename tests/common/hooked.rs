//! An account store that passes everything to another and lets a test
//! watch or hold it: it counts the events written through it, and can
//! hold the next sign-in lookup until the test lets it go (a barrier, for
//! races between a sign-in in flight and a credential change).

use std::sync::{
    atomic::{AtomicUsize, Ordering},
    Arc, Mutex,
};

use engine::{
    email::{EmailAddress, LinkPurpose, LinkRecord, Mail, NewLink, QueuedMail},
    store::{
        AccountEmail, EmailStore, IdentityRecord, IdentityStore, NewUser, PasskeyRecord,
        PasskeyStore, Readiness, Removal, UserBackend, UserStore,
    },
    token::TokenHash,
    Account, Activity, AuthEvent, Error, Notice, StoredNotice, UserId, UserSummary,
};
use time::OffsetDateTime;
use tokio::sync::oneshot;

/// See the module docs.
pub struct Hooked {
    inner: Arc<dyn UserBackend>,
    written: AtomicUsize,
    hold: Mutex<Option<Hold>>,
}

/// A held lookup: it says it has read, then waits to be let go.
struct Hold {
    read: oneshot::Sender<()>,
    go: oneshot::Receiver<()>,
}

/// The test's end of a hold.
pub struct Barrier {
    /// Fires once the held lookup has read the account.
    pub read: oneshot::Receiver<()>,
    /// Lets it go on.
    pub go: oneshot::Sender<()>,
}

impl Hooked {
    pub fn new(inner: Arc<dyn UserBackend>) -> Self {
        Self {
            inner,
            written: AtomicUsize::new(0),
            hold: Mutex::new(None),
        }
    }

    /// Events written so far.
    pub fn written(&self) -> usize {
        self.written.load(Ordering::SeqCst)
    }

    /// Holds the next `find_user_by_username` after it has read (a
    /// sign-in that has the password hash and the credentials version, and
    /// has not hashed yet).
    pub fn hold_next_lookup(&self) -> Barrier {
        let (read_tx, read_rx) = oneshot::channel();
        let (go_tx, go_rx) = oneshot::channel();
        *self
            .hold
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Hold {
            read: read_tx,
            go: go_rx,
        });
        Barrier {
            read: read_rx,
            go: go_tx,
        }
    }
}

#[async_trait::async_trait]
impl UserStore for Hooked {
    async fn create_user(&self, user: &NewUser) -> Result<(), Error> {
        self.inner.create_user(user).await
    }
    async fn find_user_by_username(&self, username: &str) -> Result<Option<Account>, Error> {
        let found = self.inner.find_user_by_username(username).await;
        let hold = self
            .hold
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(hold) = hold {
            let _ = hold.read.send(());
            let _ = hold.go.await;
        }
        found
    }
    async fn credentials_version(&self, id: UserId) -> Result<Option<i64>, Error> {
        self.inner.credentials_version(id).await
    }
    async fn bump_credentials_version(&self, id: UserId) -> Result<Option<i64>, Error> {
        self.inner.bump_credentials_version(id).await
    }
    async fn find_user_by_id(&self, id: UserId) -> Result<Option<UserSummary>, Error> {
        self.inner.find_user_by_id(id).await
    }
    async fn record_event(&self, user: Option<UserId>, event: &AuthEvent) -> Result<(), Error> {
        self.written.fetch_add(1, Ordering::SeqCst);
        self.inner.record_event(user, event).await
    }
    async fn set_password_hash(&self, id: UserId, hash: &str) -> Result<Option<i64>, Error> {
        self.inner.set_password_hash(id, hash).await
    }
    async fn remove_password(&self, id: UserId) -> Result<Removal, Error> {
        self.inner.remove_password(id).await
    }
    async fn delete_user(
        &self,
        id: UserId,
        farewell: Option<(&Mail, OffsetDateTime)>,
    ) -> Result<bool, Error> {
        self.inner.delete_user(id, farewell).await
    }
    async fn delete_events_before(&self, at: OffsetDateTime) -> Result<u64, Error> {
        self.inner.delete_events_before(at).await
    }
    async fn list_events(&self, user: UserId, limit: u32) -> Result<Vec<AuthEvent>, Error> {
        self.inner.list_events(user, limit).await
    }
    async fn failed_sign_ins_since_sign_in(&self, id: UserId) -> Result<u64, Error> {
        self.inner.failed_sign_ins_since_sign_in(id).await
    }
    async fn add_notice(
        &self,
        id: UserId,
        notice: &Notice,
        mail: Option<&Mail>,
    ) -> Result<bool, Error> {
        self.inner.add_notice(id, notice, mail).await
    }
    async fn list_notices(&self, id: UserId, limit: u32) -> Result<Vec<StoredNotice>, Error> {
        self.inner.list_notices(id, limit).await
    }
    async fn activity(&self, id: UserId, notices: u32, events: u32) -> Result<Activity, Error> {
        self.inner.activity(id, notices, events).await
    }
    async fn dismiss_notice(
        &self,
        user: UserId,
        id: i64,
        proven_at: OffsetDateTime,
        confirmed_at: Option<OffsetDateTime>,
    ) -> Result<bool, Error> {
        self.inner
            .dismiss_notice(user, id, proven_at, confirmed_at)
            .await
    }
}

#[async_trait::async_trait]
impl PasskeyStore for Hooked {
    async fn add_passkey(&self, p: &PasskeyRecord) -> Result<(), Error> {
        self.inner.add_passkey(p).await
    }
    async fn list_passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, Error> {
        self.inner.list_passkeys(user).await
    }
    async fn find_passkey(&self, credential_id: &str) -> Result<Option<PasskeyRecord>, Error> {
        self.inner.find_passkey(credential_id).await
    }
    async fn passkey_used(
        &self,
        id: &str,
        previous: &str,
        credential: &str,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        self.inner.passkey_used(id, previous, credential, at).await
    }
    async fn rename_passkey(&self, user: UserId, id: &str, name: &str) -> Result<bool, Error> {
        self.inner.rename_passkey(user, id, name).await
    }
    async fn remove_passkey(&self, user: UserId, id: &str) -> Result<Removal, Error> {
        self.inner.remove_passkey(user, id).await
    }
}

#[async_trait::async_trait]
impl Readiness for Hooked {
    async fn ping(&self) -> Result<(), Error> {
        self.inner.ping().await
    }
}

#[async_trait::async_trait]
impl IdentityStore for Hooked {
    async fn find_identity(&self, issuer: &str, subject: &str) -> Result<Option<UserId>, Error> {
        self.inner.find_identity(issuer, subject).await
    }
    async fn add_identity(&self, identity: &IdentityRecord) -> Result<(), Error> {
        self.inner.add_identity(identity).await
    }
    async fn create_identity_account(
        &self,
        user: &NewUser,
        identity: &IdentityRecord,
        email: Option<&EmailAddress>,
    ) -> Result<(), Error> {
        self.inner
            .create_identity_account(user, identity, email)
            .await
    }
    async fn identity_used(
        &self,
        issuer: &str,
        subject: &str,
        at: OffsetDateTime,
    ) -> Result<(), Error> {
        self.inner.identity_used(issuer, subject, at).await
    }
    async fn list_identities(&self, user: UserId) -> Result<Vec<IdentityRecord>, Error> {
        self.inner.list_identities(user).await
    }
    async fn remove_identity(
        &self,
        user: UserId,
        issuer: &str,
        subject: &str,
    ) -> Result<Removal, Error> {
        self.inner.remove_identity(user, issuer, subject).await
    }
}

#[async_trait::async_trait]
impl EmailStore for Hooked {
    async fn email_of(&self, user: UserId) -> Result<Option<AccountEmail>, Error> {
        self.inner.email_of(user).await
    }
    async fn set_email(&self, link: &NewLink, mail: &Mail) -> Result<bool, Error> {
        self.inner.set_email(link, mail).await
    }
    async fn issue_link(&self, link: &NewLink, mail: &Mail) -> Result<(), Error> {
        self.inner.issue_link(link, mail).await
    }
    async fn find_user_by_verified_email(
        &self,
        address: &EmailAddress,
    ) -> Result<Option<UserSummary>, Error> {
        self.inner.find_user_by_verified_email(address).await
    }
    async fn find_link(
        &self,
        hash: &TokenHash,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkRecord>, Error> {
        self.inner.find_link(hash, purpose).await
    }
    async fn delete_links(&self, user: UserId) -> Result<u64, Error> {
        self.inner.delete_links(user).await
    }
    async fn take_link(
        &self,
        hash: &TokenHash,
        purpose: LinkPurpose,
    ) -> Result<Option<LinkRecord>, Error> {
        self.inner.take_link(hash, purpose).await
    }
    async fn try_code(
        &self,
        binding: &TokenHash,
        purpose: LinkPurpose,
        code_hash: &TokenHash,
    ) -> Result<Option<LinkRecord>, Error> {
        self.inner.try_code(binding, purpose, code_hash).await
    }
    async fn mark_verified(
        &self,
        user: UserId,
        address: &EmailAddress,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        self.inner.mark_verified(user, address, at).await
    }
    async fn pending_email(
        &self,
        user: UserId,
        now: OffsetDateTime,
    ) -> Result<Option<EmailAddress>, Error> {
        self.inner.pending_email(user, now).await
    }
    async fn replace_email(
        &self,
        user: UserId,
        address: &EmailAddress,
        at: OffsetDateTime,
    ) -> Result<bool, Error> {
        self.inner.replace_email(user, address, at).await
    }
    async fn claim_mail(
        &self,
        now: OffsetDateTime,
        lease: time::Duration,
    ) -> Result<Option<QueuedMail>, Error> {
        self.inner.claim_mail(now, lease).await
    }
    async fn mail_sent(&self, id: i64, at: OffsetDateTime) -> Result<(), Error> {
        self.inner.mail_sent(id, at).await
    }
    async fn mail_failed(&self, id: i64, at: OffsetDateTime, error: &str) -> Result<(), Error> {
        self.inner.mail_failed(id, at, error).await
    }
    async fn delete_expired_mail(&self, now: OffsetDateTime) -> Result<u64, Error> {
        self.inner.delete_expired_mail(now).await
    }
    async fn recent_mail(&self, limit: u32) -> Result<Vec<QueuedMail>, Error> {
        self.inner.recent_mail(limit).await
    }
}
