//! The account's side of device cookies ([`crate::device`]): which
//! browser a sign-in comes from, as far as the account is concerned.

use super::Auth;
use crate::{
    credentials::Username,
    device::{DeviceKey, Recognised},
    Error,
};

impl Auth {
    /// The token in the device cookie `cookie` that counts for the account
    /// named `username` now (its id, credentials version and the token's
    /// age checked, [`DeviceKey::recognises`]); `None` for an unknown name.
    /// One lookup, only when the browser sent a device cookie.
    ///
    /// # Errors
    /// A storage failure.
    pub async fn recognise_device(
        &self,
        key: &DeviceKey,
        username: &str,
        cookie: &str,
    ) -> Result<Option<Recognised>, Error> {
        let Ok(name) = Username::parse(username) else {
            return Ok(None);
        };
        let Some(account) = self.users.find_user_by_username(name.as_str()).await? else {
            return Ok(None);
        };
        Ok(key.recognises(
            account.user.id,
            account.credentials_version,
            cookie,
            self.clock.now(),
        ))
    }
}
