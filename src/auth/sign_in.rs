//! Signing up and in: the credential checked (against a dummy hash for
//! an unknown name, so the answer and its timing are the same), then a new
//! session with a new token, never the one the browser came with (no
//! session fixation), unless the account's credentials changed meanwhile.

use super::{Auth, NewSession, NEW_ACCOUNT_VERSION};
use crate::{
    credentials::{verify_password, Password, Username},
    id::{SessionId, UserId},
    record::{AuthEventKind, Authenticated, ClientInfo, SessionRecord, UserSummary},
    store::NewUser,
    token::SessionToken,
    Error,
};

impl Auth {
    /// Creates an account and signs it in.
    ///
    /// # Errors
    /// [`Error::InvalidUsername`] or [`Error::InvalidPassword`],
    /// [`Error::UsernameTaken`],
    /// or a storage or hashing failure.
    pub async fn sign_up(
        &self,
        username: &str,
        password: &str,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let username = Username::parse(username)?;
        // The length rule answers at once; the strength estimate runs with
        // the hash, inside the bounded hashing queue.
        let password = Password::parse(password)?;
        let name = username.as_str().to_owned();
        let password_hash = self
            .hash_work(move || password.hash_new(&[name.as_str()]))
            .await??;
        let user = UserSummary {
            id: UserId::new(),
            display_name: username.as_str().to_owned(),
            username: username.as_str().to_owned(),
            created_at: self.clock.now(),
        };
        self.users
            .create_user(&NewUser {
                user: user.clone(),
                password_hash: Some(password_hash),
            })
            .await?;
        self.event(Some(user.id), AuthEventKind::SignUp, None, &client)
            .await;
        tracing::info!(user = %user.id, "account created");
        self.start_session(user, NEW_ACCOUNT_VERSION, false, client)
            .await
    }

    /// Checks credentials and, if they match, starts a new session.
    ///
    /// # Errors
    /// [`Error::InvalidCredentials`] for an unknown user *or* a wrong
    /// password (same error, same work), or a storage failure.
    pub async fn sign_in(
        &self,
        username: &str,
        password: &str,
        remember: bool,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        // A malformed name cannot exist: treat it as unknown, not as a
        // validation error, so the response is the same.
        let username = Username::parse(username).ok();
        let found = match &username {
            Some(name) => self.users.find_user_by_username(name.as_str()).await?,
            None => None,
        };
        let (user, stored) = match found {
            // An account without a password (passkeys only) is checked
            // against the dummy hash, like an unknown name.
            Some(account) => (
                Some((account.user, account.credentials_version)),
                account.password_hash,
            ),
            None => (None, None),
        };
        // Bounded so an enormous password cannot buy extra hashing time.
        let password = password
            .chars()
            .take(crate::credentials::PASSWORD_MAX_CHARS + 1)
            .collect::<String>();
        let ok = self
            .hash_work(move || verify_password(&password, stored.as_deref()))
            .await?;

        match user {
            Some((user, version)) if ok => {
                self.notice_sign_in(user.id, &client).await;
                self.event(Some(user.id), AuthEventKind::SignIn, None, &client)
                    .await;
                tracing::info!(user = %user.id, "signed in");
                self.start_session(user, version, remember, client).await
            }
            Some((user, _)) => {
                self.event(Some(user.id), AuthEventKind::SignInFailed, None, &client)
                    .await;
                tracing::info!(user = %user.id, "sign-in failed: wrong password");
                Err(Error::InvalidCredentials)
            }
            None => {
                // The same write as for a known user's wrong password (an
                // event with no account), so the time taken does not tell
                // which names exist.
                self.event(None, AuthEventKind::SignInFailed, None, &client)
                    .await;
                tracing::info!("sign-in failed: unknown user");
                Err(Error::InvalidCredentials)
            }
        }
    }

    /// Records that failed sign-ins locked `username` (see
    /// [`crate::throttle::Throttle::record_failure`]), for its owner to see.
    /// An unknown name gets the same write with no account, as in
    /// [`Auth::sign_in`].
    ///
    /// # Errors
    /// A storage failure looking the name up.
    pub async fn record_lockout(&self, username: &str, client: &ClientInfo) -> Result<(), Error> {
        let user = match Username::parse(username) {
            Ok(name) => self.users.find_user_by_username(name.as_str()).await?,
            Err(_) => None,
        };
        let id = user.map(|account| account.user.id);
        self.event(id, AuthEventKind::SignInLocked, None, client)
            .await;
        tracing::warn!(user = ?id, "sign-in locked for unrecognised browsers");
        Ok(())
    }

    /// Starts a session for `user`, whose credentials were proved at
    /// `version`. Once it is stored, the version is read again: if a
    /// password change, a credential's removal, "sign out everywhere" or
    /// the account's deletion moved it meanwhile, that change's revocation
    /// may have run before this insert, so the new session is ended here
    /// ([`Error::CredentialsChanged`]). Each of those moves the version
    /// before it revokes, so one side or the other always ends it.
    pub(super) async fn start_session(
        &self,
        user: UserSummary,
        version: i64,
        remember: bool,
        client: ClientInfo,
    ) -> Result<NewSession, Error> {
        let now = self.clock.now();
        let expiry = self.policy.initial(now, remember);
        let token = SessionToken::generate();
        let session = SessionRecord {
            id: SessionId::new(),
            user_id: user.id,
            token_hash: token.hash(),
            created_at: now,
            last_seen_at: now,
            idle_expires_at: expiry.idle,
            expires_at: expiry.absolute,
            persistent: remember,
            last_ip_address: client.ip_address.clone(),
            last_user_agent: client.user_agent.clone(),
            ip_address: client.ip_address,
            user_agent: client.user_agent,
            revoked_at: None,
            authenticated_at: now,
            confirmed_at: None,
        };
        self.sessions.insert_session(&session).await?;
        if self.users.credentials_version(user.id).await? != Some(version) {
            if self
                .sessions
                .revoke_session(user.id, session.id, now)
                .await?
            {
                self.revocations.revoked_here(&[session.id], now);
            }
            tracing::info!(user = %user.id, "sign-in raced a credential change: its session ended");
            return Err(Error::CredentialsChanged);
        }
        let refresh = SessionToken::generate();
        self.sessions
            .insert_refresh_token(session.id, &refresh.hash(), now)
            .await?;
        Ok(NewSession {
            token,
            refresh,
            auth: Authenticated { session, user },
            credentials_version: version,
        })
    }
}
