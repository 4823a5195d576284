//! Signing in and out: checking a token against the API, keeping it in the keychain, and
//! the one API client of the signed-in partner. No Tauri here: tested with a memory keychain.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio::sync::RwLock;

use crate::account::Account;
use crate::api::{ApiBase, ApiClient, ApiError, ClientConfig, Lock, PartnerId};
use crate::error::{AppError, ErrorKind, Result};
use crate::keys::follow::{FollowPolicy, Follower, KeyObserver};
use crate::secrets::SecretStore;
use crate::store::{Opened, Store};

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

/// The signed-in partner: its API client, its local data, and the follow-up of its keys.
struct SignedIn {
    client: Arc<ApiClient>,
    account: Arc<Account>,
    /// Dropped (and so stopped) with the session.
    follower: Option<Follower>,
}

pub struct Sessions {
    secrets: Arc<dyn SecretStore>,
    env: EnvDefaults,
    tune: fn(ClientConfig) -> ClientConfig,
    /// Where each account's database lives; `None` keeps them in memory (tests).
    store_dir: Option<PathBuf>,
    observer: Option<Arc<dyn KeyObserver>>,
    policy: FollowPolicy,
    current: RwLock<Option<SignedIn>>,
    /// Something the user should hear about opening the local store (a damaged file was replaced).
    notice: Mutex<Option<AppError>>,
}

impl Sessions {
    pub fn new(secrets: Arc<dyn SecretStore>, env: EnvDefaults) -> Self {
        Sessions {
            secrets,
            env,
            tune: |config| config,
            store_dir: None,
            observer: None,
            policy: FollowPolicy::default(),
            current: RwLock::new(None),
            notice: Mutex::new(None),
        }
    }

    /// Keeps each account's local database in this folder.
    pub fn with_store_dir(mut self, dir: PathBuf) -> Self {
        self.store_dir = Some(dir);
        self
    }

    /// Follows unsettled keys in the background and tells `observer` about changes.
    pub fn with_key_follow_up(mut self, observer: Arc<dyn KeyObserver>, policy: FollowPolicy) -> Self {
        self.observer = Some(observer);
        self.policy = policy;
        self
    }

    pub fn policy(&self) -> &FollowPolicy {
        &self.policy
    }

    pub fn take_notice(&self) -> Option<AppError> {
        self.notice.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
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
        let account = self.open_account(&client);
        if let Err(error) = account.remember_locks(&locks, Utc::now()) {
            log::warn!("could not cache the locks: {error}");
        }
        let info = SessionInfo {
            partner_id: client.partner_id().to_string(),
            api_base: api_base.to_string(),
            token_saved,
            problem: problem.or_else(|| self.take_notice()),
        };
        self.start(client, account).await;
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
        let account = self.open_account(&client);
        self.start(client, account).await;
        Ok(true)
    }

    /// Forgets the session and removes the token from the keychain.
    pub async fn sign_out(&self) -> Result<()> {
        let Some(signed_in) = self.current.write().await.take() else {
            return Ok(());
        };
        let account = signed_in.client.partner_id().to_string();
        self.blocking_secrets(move |secrets| secrets.delete(&account)).await
    }

    pub async fn client(&self) -> Result<Arc<ApiClient>> {
        self.current
            .read()
            .await
            .as_ref()
            .map(|signed_in| Arc::clone(&signed_in.client))
            .ok_or_else(AppError::not_signed_in)
    }

    /// The signed-in account's local data.
    pub async fn account(&self) -> Result<Arc<Account>> {
        self.current
            .read()
            .await
            .as_ref()
            .map(|signed_in| Arc::clone(&signed_in.account))
            .ok_or_else(AppError::not_signed_in)
    }

    /// Lets the key follow-up look at due keys now.
    pub async fn wake_follow_up(&self) {
        if let Some(follower) = self.current.read().await.as_ref().and_then(|signed_in| signed_in.follower.as_ref()) {
            follower.wake();
        }
    }

    async fn start(&self, client: ApiClient, account: Arc<Account>) {
        let client = Arc::new(client);
        let follower = self.observer.as_ref().map(|observer| {
            Follower::spawn(Arc::clone(&client), Arc::clone(&account), Arc::clone(observer), self.policy.clone())
        });
        *self.current.write().await = Some(SignedIn { client, account, follower });
    }

    /// Opens the account's database. Whatever happens, the user keeps working: a damaged file is
    /// replaced (and said so), and if no file can be used at all the data stays in memory this run.
    fn open_account(&self, client: &ApiClient) -> Arc<Account> {
        let store = match &self.store_dir {
            None => Store::in_memory(),
            Some(dir) => {
                let path = Store::path_for(dir, client.partner_id().as_str(), client.api_base().as_str());
                match Store::open(&path) {
                    Ok((store, Opened::Ready)) => Ok(store),
                    Ok((store, Opened::Recovered { set_aside, reason })) => {
                        self.set_notice(AppError::new(
                            ErrorKind::StoreReset,
                            format!("the local database was damaged ({reason}); it was moved to {} and is rebuilt from Unloc", set_aside.display()),
                        ));
                        Ok(store)
                    }
                    Err(error) => {
                        log::error!("local database unusable: {error}");
                        self.set_notice(AppError::new(
                            ErrorKind::StoreReset,
                            format!("{error}; this session keeps its data in memory only"),
                        ));
                        Store::in_memory()
                    }
                }
            }
        };
        // An in-memory SQLite database only fails to open when memory is exhausted.
        let store = store.unwrap_or_else(|error| panic!("no local store possible: {error}"));
        Arc::new(Account::new(store))
    }

    /// Tells the observer (the UI) that these keys changed.
    pub fn announce(&self, keys: &[crate::keys::KeyView]) {
        if let (Some(observer), false) = (&self.observer, keys.is_empty()) {
            observer.keys_changed(keys);
        }
    }

    pub fn status_changed(&self, key: &crate::keys::KeyView, before: crate::keys::KeyStatus) {
        if let Some(observer) = &self.observer {
            observer.status_changed(key, before);
        }
    }

    /// After a 401: the kept token is no good any more.
    pub async fn forget_rejected_token(&self) {
        if let Err(error) = self.sign_out().await {
            log::warn!("could not remove the rejected token: {error}");
        }
    }

    fn set_notice(&self, notice: AppError) {
        *self.notice.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(notice);
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
                self.forget_rejected_token().await;
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
