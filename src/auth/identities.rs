//! Identities at OpenID Connect providers: signing in with one, linking
//! and unlinking, and confirming with one (step-up). The protocol is
//! [`crate::oidc`]'s; what a verified identity may do is here.
//!
//! - An identity is its issuer and subject. A known one signs in to its
//!   account; an unknown one makes an account, unless the address the
//!   provider vouches for is an account's here: then it is refused, and
//!   the owner links it after signing in another way (never linked on the
//!   strength of an address alone).
//! - An address is kept as verified only when the provider says it is and
//!   is trusted for it (`ProviderConfig::trust_email`).
//! - Linking and confirming finish only in the session that started them.
//! - Unlinking refuses the account's last credential.

#[cfg(feature = "oidc")]
use crate::{
    credentials::Username,
    email::address::EmailAddress,
    id::UserId,
    oidc::{flow::Flow, Callback, Intent, Providers, VerifiedIdentity, FLOW_TTL},
    record::UserSummary,
    store::NewUser,
    token::SessionToken,
    NewSession,
};
use crate::{
    record::{AuthEventKind, Authenticated, ClientInfo, NoticeKind},
    store::{IdentityRecord, Removal},
    Auth, Error,
};

/// A finished flow: what it did, and what it carried from the start.
#[cfg(feature = "oidc")]
#[derive(Debug)]
pub struct Finished {
    /// What it did.
    pub outcome: IdentityOutcome,
    /// Where the flow asked to go next (unchecked).
    pub next: Option<String>,
    /// The device cookie the starting browser had (it does not come with
    /// the provider's redirect), to renew from.
    pub device: Option<String>,
}

/// What a finished flow did.
#[cfg(feature = "oidc")]
#[derive(Debug)]
pub enum IdentityOutcome {
    /// Signed in (a new account when `created`): set the session's cookies.
    SignedIn {
        /// The new session.
        session: Box<NewSession>,
        /// Whether the identity made a new account.
        created: bool,
    },
    /// The identity was linked to the session's account.
    Linked,
    /// The session's user proved themselves again.
    Confirmed,
}

impl Auth {
    /// The account's linked identities, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn identities(&self, user: crate::UserId) -> Result<Vec<IdentityRecord>, Error> {
        self.users.list_identities(user).await
    }

    /// Unlinks one of the signed-in account's identities, unless it is the
    /// account's last credential; the owner is told by a notice.
    ///
    /// # Errors
    /// [`Error::NotFound`] if it is not linked to this account,
    /// [`Error::LastCredential`], or a storage failure.
    pub async fn unlink_identity(
        &self,
        auth: &Authenticated,
        issuer: &str,
        subject: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        match self
            .users
            .remove_identity(auth.user.id, issuer, subject)
            .await?
        {
            Removal::Removed => {
                self.event(
                    Some(auth.user.id),
                    AuthEventKind::IdentityUnlinked,
                    None,
                    client,
                )
                .await;
                self.notice(auth.user.id, NoticeKind::IdentityUnlinked, 0, client)
                    .await;
                tracing::info!(user = %auth.user.id, "identity unlinked");
                Ok(())
            }
            Removal::NotFound => Err(Error::NotFound),
            Removal::LastCredential => Err(Error::LastCredential),
        }
    }
}

#[cfg(feature = "oidc")]
impl Auth {
    /// Signs in (and links, and confirms) with `providers`. By default
    /// none.
    #[must_use]
    pub fn with_identity_providers(mut self, providers: Providers) -> Self {
        self.providers = providers;
        self
    }

    /// The configured providers.
    #[must_use]
    pub fn identity_providers(&self) -> &Providers {
        &self.providers
    }

    /// Starts a flow with provider `id` for `intent`, from a browser with
    /// `device` as its device cookie: the token for its flow cookie, and
    /// the provider's URL to send it to. The flow is kept for [`FLOW_TTL`].
    ///
    /// # Errors
    /// [`Error::NotFound`] for an unknown provider,
    /// [`Error::ProviderUnavailable`], or a storage failure.
    pub async fn identity_start(
        &self,
        id: &str,
        intent: Intent,
        next: Option<String>,
        device: Option<String>,
    ) -> Result<(SessionToken, String), Error> {
        let now = self.clock.now();
        let (flow, url) = self.providers.begin(id, intent, next, device, now).await?;
        let token = SessionToken::generate();
        self.sessions
            .put_ceremony(&token.hash(), &flow.encode()?, now + FLOW_TTL)
            .await?;
        Ok((token, url))
    }

    /// Finishes the flow of this browser's flow cookie (`flow_token`) with
    /// the `callback` provider `id` sent it back with, in the session
    /// `current` (if any). The flow is used up whatever happens. A sign-in
    /// recognises the starting browser by its device cookie (`devices`
    /// checks it) to spare it the "new browser" notice.
    ///
    /// # Errors
    /// [`Error::IdentityRejected`] (no flow, or any check failed),
    /// [`Error::IdentityDeclined`], [`Error::IdentityTaken`],
    /// [`Error::IdentityAddressInUse`], [`Error::IdentityNotLinked`],
    /// [`Error::ProviderUnavailable`], or a storage failure.
    pub async fn identity_finish(
        &self,
        id: &str,
        flow_token: Option<&str>,
        callback: &Callback,
        current: Option<&Authenticated>,
        client: ClientInfo,
        devices: &crate::device::DeviceKey,
    ) -> Result<Finished, Error> {
        let now = self.clock.now();
        let token = flow_token
            .and_then(SessionToken::parse)
            .ok_or(Error::IdentityRejected)?;
        let stored = self
            .sessions
            .take_ceremony(&token.hash(), now)
            .await?
            .ok_or(Error::IdentityRejected)?;
        let flow = Flow::decode(&stored)?;
        let identity = self.providers.finish(id, &flow, callback, now).await?;
        let outcome = match &flow.intent {
            Intent::SignIn { remember } => {
                let (session, created) = self
                    .sign_in_with_identity(
                        &identity,
                        *remember,
                        client,
                        (devices, flow.device.as_deref()),
                    )
                    .await?;
                IdentityOutcome::SignedIn {
                    session: Box::new(session),
                    created,
                }
            }
            Intent::Link { session } => {
                let auth = same_session(current, session)?;
                self.link_identity(auth, &identity, &client).await?;
                IdentityOutcome::Linked
            }
            Intent::Confirm { session } => {
                let auth = same_session(current, session)?;
                let owner = self
                    .users
                    .find_identity(&identity.issuer, &identity.subject)
                    .await?;
                if owner != Some(auth.user.id) {
                    return Err(Error::IdentityNotLinked);
                }
                self.users
                    .identity_used(&identity.issuer, &identity.subject, now)
                    .await?;
                self.record_confirmation(auth, &client).await?;
                IdentityOutcome::Confirmed
            }
        };
        Ok(Finished {
            outcome,
            next: flow.next,
            device: flow.device,
        })
    }

    /// Whether `cookie` holds a device token for the account `username`.
    async fn known_device(
        &self,
        devices: &crate::device::DeviceKey,
        username: &str,
        cookie: Option<&str>,
    ) -> bool {
        match cookie {
            Some(cookie) => matches!(
                self.recognise_device(devices, username, cookie).await,
                Ok(Some(_))
            ),
            None => false,
        }
    }

    /// Signs in to the identity's account, or makes one for it.
    async fn sign_in_with_identity(
        &self,
        identity: &VerifiedIdentity,
        remember: bool,
        client: ClientInfo,
        (devices, cookie): (&crate::device::DeviceKey, Option<&str>),
    ) -> Result<(NewSession, bool), Error> {
        // Twice at most: a first sign-in racing another for the same
        // identity finds the account the other made.
        for _ in 0..2 {
            if let Some(user) = self
                .users
                .find_identity(&identity.issuer, &identity.subject)
                .await?
            {
                let summary = self
                    .users
                    .find_user_by_id(user)
                    .await?
                    .ok_or(Error::IdentityRejected)?;
                let version = self
                    .users
                    .credentials_version(user)
                    .await?
                    .ok_or(Error::IdentityRejected)?;
                self.users
                    .identity_used(&identity.issuer, &identity.subject, self.clock.now())
                    .await?;
                let known = self.known_device(devices, &summary.username, cookie).await;
                let client = client.clone().with_known_device(known);
                self.notice_sign_in(user, &client).await;
                self.event(Some(user), AuthEventKind::IdentitySignIn, None, &client)
                    .await;
                tracing::info!(user = %user, "signed in with a provider");
                let session = self
                    .start_session(summary, version, remember, client)
                    .await?;
                return Ok((session, false));
            }
            match self.create_identity_account(identity, &client).await {
                Ok(user) => {
                    let session = self
                        .start_session(user, super::NEW_ACCOUNT_VERSION, remember, client)
                        .await?;
                    return Ok((session, true));
                }
                Err(Error::IdentityTaken) => {}
                Err(err) => return Err(err),
            }
        }
        Err(Error::IdentityRejected)
    }

    /// Makes an account whose only credential is `identity`.
    async fn create_identity_account(
        &self,
        identity: &VerifiedIdentity,
        client: &ClientInfo,
    ) -> Result<UserSummary, Error> {
        let email = self.vouched_address(identity);
        if let Some(address) = &email {
            if self
                .users
                .find_user_by_verified_email(address)
                .await?
                .is_some()
            {
                return Err(Error::IdentityAddressInUse);
            }
        }
        let base = username_base(identity);
        for attempt in 0..6 {
            let username = if attempt == 0 {
                base.clone()
            } else {
                format!("{base}-{:04}", rand::random::<u16>() % 10_000)
            };
            let now = self.clock.now();
            let user = UserSummary {
                id: UserId::new(),
                display_name: identity
                    .name
                    .clone()
                    .filter(|n| !n.trim().is_empty())
                    .map(|n| n.chars().take(64).collect())
                    .unwrap_or_else(|| username.clone()),
                username,
                created_at: now,
            };
            let record = IdentityRecord {
                issuer: identity.issuer.clone(),
                subject: identity.subject.clone(),
                user_id: user.id,
                label: label(identity),
                created_at: now,
                last_used_at: Some(now),
            };
            let new = NewUser {
                user: user.clone(),
                password_hash: None,
            };
            match self
                .users
                .create_identity_account(&new, &record, email.as_ref())
                .await
            {
                Ok(()) => {
                    self.event(Some(user.id), AuthEventKind::SignUp, None, client)
                        .await;
                    self.event(Some(user.id), AuthEventKind::IdentityLinked, None, client)
                        .await;
                    tracing::info!(user = %user.id, "account created with a provider");
                    return Ok(user);
                }
                Err(Error::UsernameTaken) => {}
                Err(Error::EmailTaken) => return Err(Error::IdentityAddressInUse),
                Err(err) => return Err(err),
            }
        }
        Err(Error::UsernameTaken)
    }

    /// Links `identity` to the signed-in account; the owner is told.
    async fn link_identity(
        &self,
        auth: &Authenticated,
        identity: &VerifiedIdentity,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        match self
            .users
            .find_identity(&identity.issuer, &identity.subject)
            .await?
        {
            Some(owner) if owner == auth.user.id => return Ok(()),
            Some(_) => return Err(Error::IdentityTaken),
            None => {}
        }
        let now = self.clock.now();
        self.users
            .add_identity(&IdentityRecord {
                issuer: identity.issuer.clone(),
                subject: identity.subject.clone(),
                user_id: auth.user.id,
                label: label(identity),
                created_at: now,
                last_used_at: Some(now),
            })
            .await?;
        self.event(
            Some(auth.user.id),
            AuthEventKind::IdentityLinked,
            None,
            client,
        )
        .await;
        self.notice(auth.user.id, NoticeKind::IdentityLinked, 0, client)
            .await;
        tracing::info!(user = %auth.user.id, "identity linked");
        Ok(())
    }

    /// The address the provider vouches for, if it is trusted to and says
    /// it verified it (and it is one by this site's rules).
    fn vouched_address(&self, identity: &VerifiedIdentity) -> Option<EmailAddress> {
        let trusted = self.providers.trusts_email_of(&identity.issuer);
        if !(trusted && identity.email_verified) {
            return None;
        }
        EmailAddress::parse(identity.email.as_deref()?).ok()
    }
}

/// The session that started a link or confirmation, if it is this one.
#[cfg(feature = "oidc")]
fn same_session<'a>(
    current: Option<&'a Authenticated>,
    started: &str,
) -> Result<&'a Authenticated, Error> {
    current
        .filter(|auth| auth.session.id.to_string() == started)
        .ok_or(Error::IdentityRejected)
}

/// What the account page calls an identity: its address, else its name,
/// else its subject.
#[cfg(feature = "oidc")]
fn label(identity: &VerifiedIdentity) -> String {
    identity
        .email
        .clone()
        .or_else(|| identity.preferred_username.clone())
        .or_else(|| identity.name.clone())
        .unwrap_or_else(|| identity.subject.clone())
        .chars()
        .take(254)
        .collect()
}

/// A user name for a new account: the provider's preferred one, else the
/// address's local part, else the name, kept to the characters user names
/// allow; "user" if none survives.
#[cfg(feature = "oidc")]
fn username_base(identity: &VerifiedIdentity) -> String {
    let local = identity
        .email
        .as_deref()
        .and_then(|e| e.split('@').next())
        .map(str::to_owned);
    [
        identity.preferred_username.clone(),
        local,
        identity.name.as_ref().map(|n| n.replace(' ', ".")),
    ]
    .into_iter()
    .flatten()
    .map(|raw| {
        raw.to_ascii_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || "._-+".contains(*c))
            .take(48)
            .collect::<String>()
    })
    .find(|name| Username::parse(name).is_ok())
    .unwrap_or_else(|| "user".to_owned())
}

#[cfg(all(test, feature = "oidc"))]
mod tests {
    use super::*;

    fn identity(
        preferred: Option<&str>,
        email: Option<&str>,
        name: Option<&str>,
    ) -> VerifiedIdentity {
        VerifiedIdentity {
            issuer: "https://id.example".into(),
            subject: "248289761001".into(),
            email: email.map(Into::into),
            email_verified: true,
            name: name.map(Into::into),
            preferred_username: preferred.map(Into::into),
        }
    }

    #[test]
    fn a_user_name_comes_from_what_the_provider_shares() {
        assert_eq!(
            username_base(&identity(Some("Jane_D"), None, None)),
            "jane_d"
        );
        assert_eq!(
            username_base(&identity(None, Some("jane.doe@example.com"), None)),
            "jane.doe"
        );
        assert_eq!(
            username_base(&identity(None, None, Some("Jane Doe"))),
            "jane.doe"
        );
        // Nothing usable (too short, or no allowed character): "user".
        assert_eq!(
            username_base(&identity(Some("J"), None, Some("李"))),
            "user"
        );
        assert!(Username::parse(&username_base(&identity(None, None, None))).is_ok());
    }

    #[test]
    fn an_identity_is_labelled_by_its_address_first() {
        assert_eq!(
            label(&identity(Some("jd"), Some("j@example.com"), None)),
            "j@example.com"
        );
        assert_eq!(label(&identity(None, None, None)), "248289761001");
    }
}
