//! Passkeys in the session lifecycle: registering one, signing up and in
//! with one, and confirming a sensitive action with one.
//!
//! Each ceremony has two halves. `*_start` makes the options the browser
//! passes to `navigator.credentials`, and a token ([`Started::token`])
//! that the web layer puts in a cookie: only that browser can finish it,
//! once, within [`CEREMONY_TTL`], on any instance. `*_finish` takes the
//! state back (so a replayed response finds nothing), checks that the
//! ceremony is of the right kind and for the right account or session, and
//! lets `webauthn-rs` verify the response.
//!
//! Where the state waits differs. A sign-in needs no account, so anyone
//! can start one: its state travels in the token itself, signed
//! ([`CeremonySeal`]), and nothing is stored until `finish` marks it used
//! ([`crate::once`]), so a flood of starts fills no store. The other
//! ceremonies belong to an account or session, and keep their state in the
//! session store under the hash of a random token.
//!
//! Adding a passkey is adding a credential: it needs a proof made within
//! the session ([`Auth::is_confirmed`]), and tells the owner by a notice,
//! as removing one does.
//!
//! What a passkey proves leads to what a password leads to: a sign-in
//! starts a session with [`Auth::start_session`], exactly as the password
//! form does, and a confirmation records `authenticated_at` as
//! [`Auth::confirm`] does.

use webauthn_rs::prelude::{Passkey, WebauthnError};

use super::Auth;
use crate::{
    credentials::Username,
    id::UserId,
    passkey::{
        clean_name, Ceremony, CeremonySeal, CreationChallengeResponse, PublicKeyCredential,
        RegisterPublicKeyCredential, RequestChallengeResponse, CEREMONY_TTL,
    },
    record::{AuthEventKind, Authenticated, ClientInfo, NoticeKind, UserSummary},
    store::{NewUser, PasskeyRecord, Removal},
    token::SessionToken,
    Error, NewSession,
};

/// A started ceremony: the options for the browser, and the token that
/// lets this browser (and only it) finish the ceremony.
#[derive(Debug)]
pub struct Started<T> {
    /// `{"publicKey": …}`, for `navigator.credentials.create` or `.get`.
    pub options: T,
    /// For the ceremony cookie: a random token whose hash keys the stored
    /// state, or (a sign-in) the signed state itself.
    pub token: String,
}

/// A sign-in assertion, with the stored passkey it names and that
/// passkey's account ([`Auth::passkey_claim`]).
#[derive(Debug)]
pub struct PasskeyClaim {
    credential: PublicKeyCredential,
    owner: Option<(PasskeyRecord, UserSummary, i64)>,
}

impl PasskeyClaim {
    /// The account the assertion claims, if any.
    #[must_use]
    pub fn account(&self) -> Option<&UserSummary> {
        self.owner.as_ref().map(|(_, user, _)| user)
    }
}

/// The name a passkey gets when its owner gave none.
const DEFAULT_NAME: &str = "Passkey";

impl Auth {
    /// Starts adding a passkey to the signed-in account, which needs a
    /// credential proved within this session ([`Auth::is_confirmed`]). The
    /// account's passkeys are excluded, so one authenticator is not
    /// registered twice.
    ///
    /// # Errors
    /// [`Error::ConfirmationRequired`] without that proof, or a storage
    /// failure.
    pub async fn passkey_registration_start(
        &self,
        auth: &Authenticated,
    ) -> Result<Started<CreationChallengeResponse>, Error> {
        if !self.is_confirmed(&auth.session) {
            return Err(Error::ConfirmationRequired);
        }
        let exclude = self
            .usable_passkeys(auth.user.id)
            .await?
            .iter()
            .map(|passkey| passkey.cred_id().clone())
            .collect();
        let (options, state) = self
            .rp
            .webauthn()
            .start_passkey_registration(
                auth.user.id.as_uuid(),
                &auth.user.username,
                &auth.user.display_name,
                Some(exclude),
            )
            .map_err(rejected)?;
        let ceremony = Ceremony::Register {
            user: auth.user.id.to_string(),
            state,
        };
        Ok(Started {
            options: prefer_discoverable(options),
            token: self.begin(&ceremony).await?,
        })
    }

    /// Finishes adding a passkey to the signed-in account.
    ///
    /// # Errors
    /// [`Error::PasskeyRejected`] for a ceremony that is unknown, expired,
    /// used, another account's, or whose response does not verify;
    /// [`Error::PasskeyTaken`] for a credential stored already; a storage
    /// failure.
    pub async fn passkey_registration_finish(
        &self,
        auth: &Authenticated,
        token: &str,
        credential: &RegisterPublicKeyCredential,
        name: Option<&str>,
        client: &ClientInfo,
    ) -> Result<PasskeyRecord, Error> {
        let Ceremony::Register { user, state } = self.take(token).await? else {
            return Err(Error::PasskeyRejected);
        };
        if user != auth.user.id.to_string() {
            return Err(Error::PasskeyRejected);
        }
        let passkey = self
            .rp
            .webauthn()
            .finish_passkey_registration(credential, &state)
            .map_err(rejected)?;
        let record = self.keep_passkey(auth.user.id, &passkey, name).await?;
        self.event(
            Some(auth.user.id),
            AuthEventKind::PasskeyAdded,
            None,
            client,
        )
        .await;
        self.notice(auth.user.id, NoticeKind::PasskeyAdded, 0, client)
            .await;
        tracing::info!(user = %auth.user.id, "passkey added");
        Ok(record)
    }

    /// Starts creating an account whose only credential is a passkey. The
    /// name is checked now (and again when the account is created, as two
    /// browsers may race for it).
    ///
    /// # Errors
    /// [`Error::InvalidUsername`], [`Error::UsernameTaken`], or a storage
    /// failure.
    pub async fn passkey_sign_up_start(
        &self,
        username: &str,
    ) -> Result<Started<CreationChallengeResponse>, Error> {
        let username = Username::parse(username)?;
        if self
            .users
            .find_user_by_username(username.as_str())
            .await?
            .is_some()
        {
            return Err(Error::UsernameTaken);
        }
        let user = UserId::new();
        let (options, state) = self
            .rp
            .webauthn()
            .start_passkey_registration(user.as_uuid(), username.as_str(), username.as_str(), None)
            .map_err(rejected)?;
        let ceremony = Ceremony::SignUp {
            user: user.to_string(),
            username: username.as_str().to_owned(),
            state,
        };
        Ok(Started {
            options: prefer_discoverable(options),
            token: self.begin(&ceremony).await?,
        })
    }

    /// Finishes a passkey sign-up: creates the account (with no password)
    /// and its passkey, and signs it in.
    ///
    /// # Errors
    /// As [`Auth::passkey_registration_finish`], and
    /// [`Error::UsernameTaken`] if the name was taken meanwhile.
    pub async fn passkey_sign_up_finish(
        &self,
        token: &str,
        credential: &RegisterPublicKeyCredential,
        name: Option<&str>,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let Ceremony::SignUp {
            user,
            username,
            state,
        } = self.take(token).await?
        else {
            return Err(Error::PasskeyRejected);
        };
        let passkey = self
            .rp
            .webauthn()
            .finish_passkey_registration(credential, &state)
            .map_err(rejected)?;
        let user = UserSummary {
            id: user.parse()?,
            display_name: username.clone(),
            username,
            created_at: self.clock.now(),
        };
        self.users
            .create_user(&NewUser {
                user: user.clone(),
                password_hash: None,
            })
            .await?;
        if let Err(err) = self.keep_passkey(user.id, &passkey, name).await {
            // No account without a credential: undo it.
            self.users.delete_user(user.id, None).await?;
            return Err(err);
        }
        self.event(Some(user.id), AuthEventKind::SignUp, None, &client)
            .await;
        self.event(Some(user.id), AuthEventKind::PasskeyAdded, None, &client)
            .await;
        tracing::info!(user = %user.id, "account created with a passkey");
        self.start_session(user, super::NEW_ACCOUNT_VERSION, false, client)
            .await
    }

    /// Starts a sign-in with a passkey the browser discovers (no user name
    /// needed). Stores nothing: the state goes into the token, signed.
    ///
    /// # Errors
    /// An encoding failure.
    pub fn passkey_sign_in_start(&self) -> Result<Started<RequestChallengeResponse>, Error> {
        let (options, state) = self
            .rp
            .webauthn()
            .start_discoverable_authentication()
            .map_err(rejected)?;
        let expires_at = self.clock.now() + CEREMONY_TTL;
        Ok(Started {
            options,
            token: self
                .seal
                .seal(&Ceremony::SignIn { state }.encode()?, expires_at),
        })
    }

    /// Reads the passkey a sign-in assertion names, and its account, once:
    /// the account is what the web layer counts the attempt against
    /// before [`Auth::passkey_sign_in_finish`] verifies the same claim.
    /// A credential that is not stored, or whose user handle does not name
    /// its owner, claims no account.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn passkey_claim(
        &self,
        credential: PublicKeyCredential,
    ) -> Result<PasskeyClaim, Error> {
        let owner = match self.stored_passkey(&credential).await? {
            Some(record) => {
                let version = self.users.credentials_version(record.user_id).await?;
                let user = self.users.find_user_by_id(record.user_id).await?;
                user.zip(version)
                    .map(|(user, version)| (record, user, version))
            }
            None => None,
        };
        Ok(PasskeyClaim { credential, owner })
    }

    /// Finishes a passkey sign-in: verifies the assertion (challenge,
    /// origin, user verification, signature, and a signature counter that
    /// must have moved forward where the authenticator keeps one), then
    /// starts a new session exactly as a password sign-in does.
    ///
    /// # Errors
    /// [`Error::PasskeyRejected`] (recorded as a failed sign-in of the
    /// credential's account, if it has one), or a storage failure.
    pub async fn passkey_sign_in_finish(
        &self,
        token: &str,
        claim: &PasskeyClaim,
        remember: bool,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let Ceremony::SignIn { state } = self.take(token).await? else {
            return Err(Error::PasskeyRejected);
        };
        let (record, user, version) = claim.owner.as_ref().ok_or(Error::PasskeyRejected)?;
        let verified = self
            .rp
            .webauthn()
            .finish_discoverable_authentication_v2(&claim.credential, state, &decode(record)?)
            .map_err(rejected);
        if let Err(err) = self.passkey_verified(record, verified).await {
            self.event(Some(user.id), AuthEventKind::SignInFailed, None, &client)
                .await;
            return Err(err);
        }
        self.notice_sign_in(user.id, &client).await;
        self.event(Some(user.id), AuthEventKind::PasskeySignIn, None, &client)
            .await;
        tracing::info!(user = %user.id, "signed in with a passkey");
        self.start_session(user.clone(), *version, remember, client)
            .await
    }

    /// Starts confirming a sensitive action with one of the signed-in
    /// user's passkeys.
    ///
    /// # Errors
    /// [`Error::NotFound`] if the account has no passkey, or a storage
    /// failure.
    pub async fn passkey_confirm_start(
        &self,
        auth: &Authenticated,
    ) -> Result<Started<RequestChallengeResponse>, Error> {
        let passkeys = self.usable_passkeys(auth.user.id).await?;
        if passkeys.is_empty() {
            return Err(Error::NotFound);
        }
        let (options, state) = self
            .rp
            .webauthn()
            .start_passkey_authentication(&passkeys)
            .map_err(rejected)?;
        let ceremony = Ceremony::Confirm {
            session: auth.session.id.to_string(),
            state,
        };
        Ok(Started {
            options,
            token: self.begin(&ceremony).await?,
        })
    }

    /// Finishes a confirmation: the assertion must come from one of the
    /// session's user's passkeys, for a ceremony this session started.
    /// Records on the session that its user proved a credential now.
    ///
    /// # Errors
    /// [`Error::PasskeyRejected`] (recorded as a failed sign-in),
    /// [`Error::NotFound`] if the session ended meanwhile, or a storage
    /// failure.
    pub async fn passkey_confirm_finish(
        &self,
        auth: &Authenticated,
        token: &str,
        credential: &PublicKeyCredential,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        let Ceremony::Confirm { session, state } = self.take(token).await? else {
            return Err(Error::PasskeyRejected);
        };
        let record = match self.stored_passkey(credential).await? {
            Some(record)
                if session == auth.session.id.to_string() && record.user_id == auth.user.id =>
            {
                record
            }
            _ => return Err(Error::PasskeyRejected),
        };
        let verified = self
            .rp
            .webauthn()
            .finish_passkey_authentication(credential, &state)
            .map_err(rejected);
        if let Err(err) = self.passkey_verified(&record, verified).await {
            self.event(
                Some(auth.user.id),
                AuthEventKind::SignInFailed,
                None,
                client,
            )
            .await;
            return Err(err);
        }
        self.record_confirmation(auth, client).await
    }

    /// The user's passkeys, oldest first.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn passkeys(&self, user: UserId) -> Result<Vec<PasskeyRecord>, Error> {
        self.users.list_passkeys(user).await
    }

    /// Whether the account has a password (an account made with a passkey
    /// has none until its owner sets one).
    ///
    /// # Errors
    /// A storage failure.
    pub async fn has_password(&self, user: &UserSummary) -> Result<bool, Error> {
        Ok(self.stored_password(user).await?.is_some())
    }

    /// Renames one of the user's passkeys.
    ///
    /// # Errors
    /// [`Error::NotFound`] if it is not theirs, or a storage failure.
    pub async fn rename_passkey(&self, user: UserId, id: &str, name: &str) -> Result<(), Error> {
        let name = clean_name(Some(name), DEFAULT_NAME);
        if self.users.rename_passkey(user, id, &name).await? {
            Ok(())
        } else {
            Err(Error::NotFound)
        }
    }

    /// Removes one of the user's passkeys, unless it is the last
    /// credential of an account without a password.
    ///
    /// # Errors
    /// [`Error::NotFound`] if it is not theirs, [`Error::LastCredential`],
    /// or a storage failure.
    pub async fn remove_passkey(
        &self,
        auth: &Authenticated,
        id: &str,
        client: &ClientInfo,
    ) -> Result<(), Error> {
        match self.users.remove_passkey(auth.user.id, id).await? {
            Removal::Removed => {
                self.event(
                    Some(auth.user.id),
                    AuthEventKind::PasskeyRemoved,
                    None,
                    client,
                )
                .await;
                self.notice(auth.user.id, NoticeKind::PasskeyRemoved, 0, client)
                    .await;
                tracing::info!(user = %auth.user.id, "passkey removed");
                Ok(())
            }
            Removal::NotFound => Err(Error::NotFound),
            Removal::LastCredential => Err(Error::LastCredential),
        }
    }

    /// The user's passkeys in `webauthn-rs`'s form (a row that does not
    /// decode, which only a hand-edited database has, is left out).
    async fn usable_passkeys(&self, user: UserId) -> Result<Vec<Passkey>, Error> {
        let records = self.users.list_passkeys(user).await?;
        Ok(records.iter().filter_map(|r| decode(r).ok()).collect())
    }

    /// Keeps `ceremony` for [`CEREMONY_TTL`] under a new token's hash.
    async fn begin(&self, ceremony: &Ceremony) -> Result<String, Error> {
        let token = SessionToken::generate();
        let expires_at = self.clock.now() + CEREMONY_TTL;
        self.sessions
            .put_ceremony(&token.hash(), &ceremony.encode()?, expires_at)
            .await?;
        Ok(token.expose().to_owned())
    }

    /// The ceremony `token` names, once: a signed one if its seal holds,
    /// it has not expired and was not finished before; else the stored one,
    /// taken out of the store.
    async fn take(&self, token: &str) -> Result<Ceremony, Error> {
        let now = self.clock.now();
        if CeremonySeal::is_sealed(token) {
            let state = self.seal.open(token, now).ok_or(Error::PasskeyRejected)?;
            let id = sha2::Digest::finalize(sha2::Digest::chain_update(
                <sha2::Sha256 as sha2::Digest>::new(),
                token.as_bytes(),
            ))
            .into();
            if !self
                .once
                .first_use("ceremony", id, CEREMONY_TTL, now)
                .await?
            {
                return Err(Error::PasskeyRejected);
            }
            return Ceremony::decode(&state);
        }
        let token = SessionToken::parse(token).ok_or(Error::PasskeyRejected)?;
        let state = self
            .sessions
            .take_ceremony(&token.hash(), self.clock.now())
            .await?
            .ok_or(Error::PasskeyRejected)?;
        Ceremony::decode(&state)
    }

    /// The stored passkey an assertion names, if its user handle (when the
    /// authenticator sent one) names the passkey's owner.
    async fn stored_passkey(
        &self,
        credential: &PublicKeyCredential,
    ) -> Result<Option<PasskeyRecord>, Error> {
        let id = encode_id(credential.get_credential_id());
        let Some(record) = self.users.find_passkey(&id).await? else {
            return Ok(None);
        };
        let handle = credential
            .get_user_unique_id()
            .map(|handle| uuid_of(handle) == Some(record.user_id));
        Ok((handle != Some(false)).then_some(record))
    }

    /// Stores a verified assertion's effect on its passkey (its new
    /// counter, its last use), or passes the failure on.
    async fn passkey_verified(
        &self,
        record: &PasskeyRecord,
        verified: Result<webauthn_rs::prelude::AuthenticationResult, Error>,
    ) -> Result<(), Error> {
        let result = verified?;
        let mut passkey = decode(record)?;
        passkey.update_credential(&result);
        let credential = serde_json::to_string(&passkey).map_err(Error::storage)?;
        // Against the credential this verification read: a concurrent use
        // that stored a newer counter first wins, and this one is refused
        // (the counter never goes back).
        if self
            .users
            .passkey_used(
                &record.id,
                &record.credential,
                &credential,
                self.clock.now(),
            )
            .await?
        {
            Ok(())
        } else {
            tracing::info!(passkey = %record.id, "passkey used concurrently: refused");
            Err(Error::PasskeyRejected)
        }
    }

    async fn keep_passkey(
        &self,
        user: UserId,
        passkey: &Passkey,
        name: Option<&str>,
    ) -> Result<PasskeyRecord, Error> {
        let record = PasskeyRecord {
            id: uuid::Uuid::now_v7().to_string(),
            user_id: user,
            credential_id: encode_id(passkey.cred_id()),
            name: clean_name(name, DEFAULT_NAME),
            credential: serde_json::to_string(passkey).map_err(Error::storage)?,
            created_at: self.clock.now(),
            last_used_at: None,
        };
        self.users.add_passkey(&record).await?;
        Ok(record)
    }
}

/// A stored passkey's `webauthn-rs` form.
fn decode(record: &PasskeyRecord) -> Result<Passkey, Error> {
    serde_json::from_str(&record.credential).map_err(Error::storage)
}

/// A credential id as stored: base64url without padding.
fn encode_id(id: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id)
}

fn uuid_of(handle: &[u8]) -> Option<UserId> {
    uuid::Uuid::from_slice(handle).ok().map(UserId::from_uuid)
}

/// Asks for a discoverable credential (a passkey the browser can offer
/// without a user name) where the authenticator can make one.
fn prefer_discoverable(mut options: CreationChallengeResponse) -> CreationChallengeResponse {
    if let Some(selection) = options.public_key.authenticator_selection.as_mut() {
        selection.resident_key = Some(webauthn_rs_proto::ResidentKeyRequirement::Preferred);
    }
    options
}

/// A verification failure: logged with its detail, reported as one
/// outcome.
fn rejected(err: WebauthnError) -> Error {
    tracing::info!(error = %err, "passkey ceremony refused");
    Error::PasskeyRejected
}
