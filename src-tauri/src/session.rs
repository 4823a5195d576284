//! Signing in and out: checking a token against the API, keeping it in the keychain, and
//! the one API client of the signed-in partner. No Tauri here: tested with a memory keychain.

use std::sync::Arc;

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::RwLock;

use crate::api::{ApiBase, ApiClient, ApiError, ClientConfig, Lock, PartnerId};
use crate::error::{AppError, ErrorKind, Result};
use crate::secrets::SecretStore;

/// What the environment offers the demo and the tests: `UNLOC_API_BASE` and
/// `UNLOC_PARTNER_ID` as defaults, `UNLOC_API_TOKEN` only to stand in for an empty token
/// field at sign-in. The token from here is never stored anywhere but the keychain.
#[derive(Default)]
pub struct EnvDefaults {
    pub api_base: Option<ApiBase>,
    pub partner_id: Option<String>,
    pub token: Option<SecretString>,
}

impl EnvDefaults {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty =
            |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let api_base = non_empty("UNLOC_API_BASE").and_then(|text| match ApiBase::parse(&text) {
            Ok(base) => Some(base),
            Err(error) => {
                log::warn!("ignoring UNLOC_API_BASE: {error}");
                None
            }
        });
        EnvDefaults {
            api_base,
            partner_id: non_empty("UNLOC_PARTNER_ID"),
            token: non_empty("UNLOC_API_TOKEN").map(SecretString::from),
        }
    }

    pub fn default_api_base(&self) -> ApiBase {
        self.api_base.clone().unwrap_or_else(ApiBase::production)
    }
}

/// The signed-in partner, as the UI may see it (no token).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub partner_id: String,
    pub api_base: String,
    /// False when the keychain refused the token: this run works, the next one asks again.
    pub token_saved: bool,
    pub problem: Option<AppError>,
}

pub struct Sessions {
    secrets: Arc<dyn SecretStore>,
    env: EnvDefaults,
    tune: fn(ClientConfig) -> ClientConfig,
    current: RwLock<Option<Arc<ApiClient>>>,
}

impl Sessions {
    pub fn new(secrets: Arc<dyn SecretStore>, env: EnvDefaults) -> Self {
        Sessions { secrets, env, tune: |config| config, current: RwLock::new(None) }
    }

    /// Lets tests shorten timeouts and retry delays.
    pub fn with_client_tuning(mut self, tune: fn(ClientConfig) -> ClientConfig) -> Self {
        self.tune = tune;
        self
    }

    pub fn env(&self) -> &EnvDefaults {
        &self.env
    }

    /// The API base a settings value stands for (`None`/empty: the default).
    pub fn effective_base(&self, configured: Option<&str>) -> Result<ApiBase> {
        match configured.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => Ok(ApiBase::parse(text)?),
            None => Ok(self.env.default_api_base()),
        }
    }

    /// Checks the token with a real `GET /locks`, keeps it in the keychain, and makes this
    /// partner the current session. Returns the locks it fetched so they need not be fetched twice.
    pub async fn sign_in(
        &self,
        partner_id: &str,
        token: &str,
        api_base: Option<&str>,
    ) -> Result<(SessionInfo, Vec<Lock>)> {
        let partner_id = PartnerId::parse(partner_id)?;
        let api_base = self.effective_base(api_base)?;
        let token = match token.trim() {
            "" => self.env.token.clone().ok_or_else(|| AppError::invalid_input("token", "the API token is empty"))?,
            typed => SecretString::from(typed.to_owned()),
        };
        if token.expose_secret().chars().any(char::is_control) {
            return Err(AppError::invalid_input("token", "the API token contains invisible characters"));
        }
        let client = self.build_client(api_base.clone(), partner_id.clone(), token.clone())?;
        let locks = client.list_locks().await?;

        let (token_saved, problem) =
            match self.blocking_secrets(move |secrets| secrets.set(partner_id.as_str(), &token)).await {
                Ok(()) => (true, None),
                Err(error) => {
                    log::warn!("signed in, but the token could not be kept: {error}");
                    (false, Some(error))
                }
            };
        let info = SessionInfo {
            partner_id: client.partner_id().to_string(),
            api_base: api_base.to_string(),
            token_saved,
            problem,
        };
        *self.current.write().await = Some(Arc::new(client));
        Ok((info, locks))
    }

    /// Signs in silently with the token the keychain holds for this partner, without a
    /// network call (the first list call checks it). `Ok(false)`: no token kept.
    pub async fn restore(&self, partner_id: &str, api_base: Option<&str>) -> Result<bool> {
        let partner_id = PartnerId::parse(partner_id)?;
        let api_base = self.effective_base(api_base)?;
        let account = partner_id.to_string();
        let Some(token) = self.blocking_secrets(move |secrets| secrets.get(&account)).await? else {
            return Ok(false);
        };
        let client = self.build_client(api_base, partner_id, token)?;
        *self.current.write().await = Some(Arc::new(client));
        Ok(true)
    }

    /// Forgets the session and removes the token from the keychain.
    pub async fn sign_out(&self) -> Result<()> {
        let Some(client) = self.current.write().await.take() else {
            return Ok(());
        };
        let account = client.partner_id().to_string();
        self.blocking_secrets(move |secrets| secrets.delete(&account)).await
    }

    pub async fn client(&self) -> Result<Arc<ApiClient>> {
        self.current.read().await.clone().ok_or_else(AppError::not_signed_in)
    }

    /// Runs an API call with the current client. A 401 means the kept token is no longer
    /// good (rotated or revoked): it is removed so the next start does not try it again.
    pub async fn call<T, F, Fut>(&self, request: F) -> Result<T>
    where
        F: FnOnce(Arc<ApiClient>) -> Fut,
        Fut: std::future::Future<Output = std::result::Result<T, ApiError>>,
    {
        let client = self.client().await?;
        match request(client).await {
            Ok(value) => Ok(value),
            Err(ApiError::Unauthorized) => {
                if let Err(error) = self.sign_out().await {
                    log::warn!("could not remove the rejected token: {error}");
                }
                Err(ApiError::Unauthorized.into())
            }
            Err(error) => Err(error.into()),
        }
    }

    fn build_client(&self, api_base: ApiBase, partner_id: PartnerId, token: SecretString) -> Result<ApiClient> {
        let config = (self.tune)(ClientConfig::new(api_base, partner_id, token));
        Ok(ApiClient::new(config)?)
    }

    /// Keychain calls block (D-Bus on Linux), so they run off the async workers.
    async fn blocking_secrets<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn SecretStore) -> std::result::Result<T, crate::secrets::SecretError> + Send + 'static,
    ) -> Result<T> {
        let secrets = Arc::clone(&self.secrets);
        tokio::task::spawn_blocking(move || work(secrets.as_ref()))
            .await
            .map_err(|error| AppError::new(ErrorKind::Internal, format!("keychain task failed: {error}")))?
            .map_err(AppError::from)
    }
}
