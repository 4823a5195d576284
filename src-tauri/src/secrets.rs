//! The API token in the OS keychain (keyring), behind a trait so tests can use memory instead.
//!
//! There is deliberately no plaintext fallback: when no keychain is available the user is
//! told so, and the token is simply not kept.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use secrecy::{ExposeSecret, SecretString};

/// The keychain "service" under which tokens are filed; the account is [`token_account`].
pub const KEYCHAIN_SERVICE: &str = "no.unlocdesk.desktop";

/// The keychain account of a token: the partner id **and** the API address it was saved for, so
/// a token is only ever read back for the address it belongs to. Partner ids hold no white space,
/// so the space between the two cannot be part of either.
pub fn token_account(partner_id: impl std::fmt::Display, api_base: impl std::fmt::Display) -> String {
    format!("{partner_id} {api_base}")
}

/// Before 1.0 the account was the partner id alone. Such an entry is read only for Unloc's own
/// production address (the only one a release build could default to) and then moved under
/// [`token_account`]; see `access`.
pub fn legacy_token_account(partner_id: &str) -> String {
    partner_id.to_owned()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No keychain service, a locked keychain, or the platform refused access.
    #[error("the system keychain is not available: {0}")]
    Unavailable(String),
    /// The blocking keychain call itself failed (it panicked or was cancelled).
    #[error("the keychain task failed: {0}")]
    TaskFailed(String),
}

pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretError>;
    fn set(&self, account: &str, token: &SecretString) -> Result<(), SecretError>;
    /// Removing a token that is not there is not an error.
    fn delete(&self, account: &str) -> Result<(), SecretError>;
}

/// The keychain as async code uses it. Keychain calls block (D-Bus on Linux), so they run off
/// the async workers.
#[derive(Clone)]
pub struct Keychain {
    store: Arc<dyn SecretStore>,
}

impl Keychain {
    pub fn new(store: Arc<dyn SecretStore>) -> Self {
        Keychain { store }
    }

    pub async fn get(&self, account: String) -> Result<Option<SecretString>, SecretError> {
        self.off_thread(move |store| store.get(&account)).await
    }

    pub async fn set(&self, account: String, token: SecretString) -> Result<(), SecretError> {
        self.off_thread(move |store| store.set(&account, &token)).await
    }

    pub async fn delete(&self, account: String) -> Result<(), SecretError> {
        self.off_thread(move |store| store.delete(&account)).await
    }

    async fn off_thread<T: Send + 'static>(
        &self,
        work: impl FnOnce(&dyn SecretStore) -> Result<T, SecretError> + Send + 'static,
    ) -> Result<T, SecretError> {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || work(store.as_ref()))
            .await
            .map_err(|error| SecretError::TaskFailed(error.to_string()))?
    }
}

/// The native store of each OS: Secret Service on Linux, Keychain on macOS, Credential Manager on Windows.
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    pub fn new(service: impl Into<String>) -> Self {
        KeyringStore { service: service.into() }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry, SecretError> {
        keyring::Entry::new(&self.service, account).map_err(unavailable)
    }
}

/// keyring's messages name the failing service or bus, never the secret itself.
fn unavailable(error: keyring::Error) -> SecretError {
    SecretError::Unavailable(error.to_string())
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretError> {
        match self.entry(account)?.get_password() {
            Ok(token) => Ok(Some(SecretString::from(token))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    fn set(&self, account: &str, token: &SecretString) -> Result<(), SecretError> {
        self.entry(account)?.set_password(token.expose_secret()).map_err(unavailable)
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }
}

/// For tests: a keychain in memory, which can also pretend to be unavailable.
#[derive(Default)]
pub struct MemoryStore {
    tokens: Mutex<HashMap<String, String>>,
    unavailable: bool,
}

impl MemoryStore {
    pub fn unavailable() -> Self {
        MemoryStore { tokens: Mutex::default(), unavailable: true }
    }

    fn check(&self) -> Result<std::sync::MutexGuard<'_, HashMap<String, String>>, SecretError> {
        if self.unavailable {
            return Err(SecretError::Unavailable("no keychain in this test".into()));
        }
        Ok(crate::sync::lock(&self.tokens))
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<SecretString>, SecretError> {
        Ok(self.check()?.get(account).cloned().map(SecretString::from))
    }

    fn set(&self, account: &str, token: &SecretString) -> Result<(), SecretError> {
        self.check()?.insert(account.to_owned(), token.expose_secret().to_owned());
        Ok(())
    }

    fn delete(&self, account: &str) -> Result<(), SecretError> {
        self.check()?.remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_store_round_trip() {
        let store = MemoryStore::default();
        assert!(store.get("p").unwrap().is_none());
        store.set("p", &SecretString::from("tok".to_owned())).unwrap();
        assert_eq!(store.get("p").unwrap().unwrap().expose_secret(), "tok");
        store.delete("p").unwrap();
        store.delete("p").unwrap();
        assert!(store.get("p").unwrap().is_none());
    }

    #[test]
    fn an_unavailable_store_says_so_on_every_call() {
        let store = MemoryStore::unavailable();
        assert!(matches!(store.get("p"), Err(SecretError::Unavailable(_))));
        assert!(store.set("p", &SecretString::from("t".to_owned())).is_err());
    }
}
