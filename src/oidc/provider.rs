//! One configured provider and what discovery told of it.
//!
//! Discovery (`/.well-known/openid-configuration`) and the signing keys
//! are fetched once and kept; a token signed with a key the kept set lacks
//! (the provider rotated its keys) fetches the keys again, at most once a
//! [`KEYS_REFRESH_INTERVAL`]. A provider whose discovery fails at start-up
//! is retried in the background ([`Providers::discover_missing`]) and
//! answers "unavailable" meanwhile: never fatal.

use std::{
    sync::{Arc, RwLock},
    time::Duration,
};

use openidconnect::{
    core::{CoreClient, CoreProviderMetadata},
    reqwest, ClientId, ClientSecret, EndpointMaybeSet, EndpointNotSet, EndpointSet, IssuerUrl,
    JsonWebKeySet, RedirectUrl,
};

use time::OffsetDateTime;

use crate::Error;

/// The shortest time between two fetches of a provider's keys (on the
/// engine's clock).
pub const KEYS_REFRESH_INTERVAL: time::Duration = time::Duration::seconds(30);

/// How long a request to a provider may take.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

/// The path under the site's origin that a provider sends the browser
/// back to: one per provider (RFC 9700 4.4.2, the mix-up defence).
#[must_use]
pub fn callback_path(id: &str) -> String {
    format!("/auth/oidc/{id}/callback")
}

/// A provider as configured. The secret never shows in `Debug`.
#[derive(Clone)]
pub struct ProviderConfig {
    /// Its name in paths and settings: `a-z`, `0-9` and `-`, 1–32 long.
    pub id: String,
    /// What the button says after "Sign in with".
    pub name: String,
    /// The issuer identifier; discovery is fetched from under it.
    pub issuer: String,
    /// The client id the provider gave this site.
    pub client_id: String,
    /// The client secret (a confidential client); `None` for a public
    /// client, which PKCE alone protects.
    pub client_secret: Option<String>,
    /// Scopes asked for besides `openid`.
    pub scopes: Vec<String>,
    /// Whether an address this provider says is verified is taken as
    /// verified here (only for providers that own or check the addresses
    /// they vouch for).
    pub trust_email: bool,
}

impl std::fmt::Debug for ProviderConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderConfig")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &self.client_secret.as_ref().map(|_| "[redacted]"),
            )
            .field("scopes", &self.scopes)
            .field("trust_email", &self.trust_email)
            .finish()
    }
}

impl ProviderConfig {
    /// Checks the settings a typo could break.
    ///
    /// # Errors
    /// [`Error::Invalid`] naming the rule.
    pub fn validate(&self, production: bool) -> Result<(), Error> {
        let id_ok = (1..=32).contains(&self.id.len())
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(Error::Invalid(
                "a provider's id is 1-32 characters of a-z, 0-9 and -",
            ));
        }
        if self.name.trim().is_empty() || self.name.chars().count() > 40 {
            return Err(Error::Invalid("a provider's name is 1-40 characters"));
        }
        if self.client_id.is_empty() {
            return Err(Error::Invalid("a provider needs a client id"));
        }
        let url = IssuerUrl::new(self.issuer.clone())
            .map_err(|_| Error::Invalid("a provider's issuer is not a URL"))?;
        let https = url.url().scheme() == "https";
        if production && !https {
            return Err(Error::Invalid(
                "a provider's issuer must be https in production",
            ));
        }
        if !https && url.url().scheme() != "http" {
            return Err(Error::Invalid("a provider's issuer must be an http(s) URL"));
        }
        Ok(())
    }
}

/// The client type discovery gives: authorization endpoint set, token and
/// user-info endpoints as discovered.
pub(crate) type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A provider and what discovery told of it.
pub(crate) struct Provider {
    pub(crate) config: ProviderConfig,
    issuer: IssuerUrl,
    redirect: RedirectUrl,
    discovered: RwLock<Option<Discovered>>,
}

#[derive(Clone)]
struct Discovered {
    metadata: CoreProviderMetadata,
    keys_fetched: OffsetDateTime,
}

impl Provider {
    pub(crate) fn new(config: ProviderConfig, origin: &str) -> Result<Self, Error> {
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|_| Error::Invalid("a provider's issuer is not a URL"))?;
        let redirect = RedirectUrl::new(format!(
            "{}{}",
            origin.trim_end_matches('/'),
            callback_path(&config.id)
        ))
        .map_err(|_| Error::Invalid("PUBLIC_URL does not make a callback URL"))?;
        Ok(Self {
            config,
            issuer,
            redirect,
            discovered: RwLock::new(None),
        })
    }

    fn kept(&self) -> Option<Discovered> {
        self.discovered
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    fn keep(&self, metadata: CoreProviderMetadata, at: OffsetDateTime) {
        *self
            .discovered
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Discovered {
            metadata,
            keys_fetched: at,
        });
    }

    /// Fetches discovery and keys (`openidconnect` checks the document's
    /// issuer is the configured one).
    async fn discover(
        &self,
        http: &reqwest::Client,
        now: OffsetDateTime,
    ) -> Result<CoreProviderMetadata, Error> {
        let metadata = CoreProviderMetadata::discover_async(self.issuer.clone(), http)
            .await
            .map_err(|err| {
                tracing::warn!(provider = %self.config.id, error = %err, "OpenID discovery failed");
                Error::ProviderUnavailable
            })?;
        self.keep(metadata.clone(), now);
        tracing::info!(provider = %self.config.id, "OpenID provider discovered");
        Ok(metadata)
    }

    /// The kept metadata, discovered now if it is not there yet.
    pub(crate) async fn metadata(
        &self,
        http: &reqwest::Client,
        now: OffsetDateTime,
    ) -> Result<CoreProviderMetadata, Error> {
        match self.kept() {
            Some(found) => Ok(found.metadata),
            None => self.discover(http, now).await,
        }
    }

    /// The keys fetched again (a token named one the kept set lacks), or
    /// `None` if they were fetched moments ago or cannot be now.
    pub(crate) async fn refreshed_keys(
        &self,
        http: &reqwest::Client,
        now: OffsetDateTime,
    ) -> Option<CoreProviderMetadata> {
        let kept = self.kept()?;
        if now - kept.keys_fetched < KEYS_REFRESH_INTERVAL {
            return None;
        }
        let keys = JsonWebKeySet::fetch_async(kept.metadata.jwks_uri(), http)
            .await
            .map_err(|err| {
                tracing::warn!(provider = %self.config.id, error = %err, "could not fetch the provider's keys");
            })
            .ok()?;
        let metadata = kept.metadata.set_jwks(keys);
        self.keep(metadata.clone(), now);
        tracing::info!(provider = %self.config.id, "provider's keys fetched again");
        Some(metadata)
    }

    /// The client for `metadata`, sending the browser back to this
    /// provider's own callback.
    pub(crate) fn client(&self, metadata: CoreProviderMetadata) -> Client {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            self.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(self.redirect.clone())
    }
}

/// The configured providers, in the order the buttons show them.
#[derive(Clone)]
pub struct Providers {
    list: Arc<Vec<Provider>>,
    pub(crate) http: reqwest::Client,
}

impl std::fmt::Debug for Providers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.list.iter().map(|p| &p.config.id))
            .finish()
    }
}

impl Default for Providers {
    /// None (no request is ever made).
    fn default() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_default();
        Self {
            list: Arc::default(),
            http,
        }
    }
}

impl Providers {
    /// The providers of `configs`, for the site at `origin` (`PUBLIC_URL`).
    /// Nothing is fetched yet.
    ///
    /// # Errors
    /// [`Error::Invalid`] for a provider whose settings break a rule
    /// (checked by [`ProviderConfig::validate`] first), two with one id, or
    /// an HTTP client that cannot be built.
    pub fn new(configs: Vec<ProviderConfig>, origin: &str) -> Result<Self, Error> {
        let mut list: Vec<Provider> = Vec::with_capacity(configs.len());
        for config in configs {
            if list.iter().any(|p| p.config.id == config.id) {
                return Err(Error::Invalid("two providers have the same id"));
            }
            list.push(Provider::new(config, origin)?);
        }
        // Never follow a redirect: a provider's endpoint that redirects
        // could point the server at anything (SSRF).
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .map_err(|_| Error::Invalid("the HTTP client for providers cannot be built"))?;
        Ok(Self {
            list: Arc::new(list),
            http,
        })
    }

    /// Whether no provider is configured (no buttons, no routes).
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Each provider's id and name, in order.
    #[must_use]
    pub fn listed(&self) -> Vec<(String, String)> {
        self.list
            .iter()
            .map(|p| (p.config.id.clone(), p.config.name.clone()))
            .collect()
    }

    /// The providers' origins (their issuers'), each once: where the
    /// browser is sent to sign in.
    #[must_use]
    pub fn origins(&self) -> Vec<String> {
        let mut origins: Vec<String> = Vec::new();
        for provider in self.list.iter() {
            let origin = provider.issuer.url().origin().ascii_serialization();
            if !origins.contains(&origin) {
                origins.push(origin);
            }
        }
        origins
    }

    /// The id and name of the provider whose issuer is `issuer`, if
    /// configured.
    #[must_use]
    pub fn of_issuer(&self, issuer: &str) -> Option<(&str, &str)> {
        self.by_issuer(issuer)
            .map(|p| (p.config.id.as_str(), p.config.name.as_str()))
    }

    /// Whether the provider whose issuer is `issuer` is trusted for the
    /// addresses it says it verified.
    #[must_use]
    pub fn trusts_email_of(&self, issuer: &str) -> bool {
        self.by_issuer(issuer).is_some_and(|p| p.config.trust_email)
    }

    /// The provider whose issuer is `issuer` (a trailing slash aside).
    fn by_issuer(&self, issuer: &str) -> Option<&Provider> {
        let issuer = issuer.trim_end_matches('/');
        self.list
            .iter()
            .find(|p| p.config.issuer.trim_end_matches('/') == issuer)
    }

    pub(crate) fn get(&self, id: &str) -> Option<&Provider> {
        self.list.iter().find(|p| p.config.id == id)
    }

    /// Fetches discovery for every provider that has none yet, at `now`;
    /// returns how many still have none (the caller tries again later).
    pub async fn discover_missing(&self, now: OffsetDateTime) -> usize {
        let mut missing = 0;
        for provider in self.list.iter() {
            if provider.kept().is_none() && provider.discover(&self.http, now).await.is_err() {
                missing += 1;
            }
        }
        missing
    }
}
