//! The one place that turns what the API says about a key into what the UI shows.
//!
//! Unloc documents no approval state for keys on opt-in locks: the owner approves in the Unloc
//! app and, until then, the key "cannot be used". Our reading (API reference §4) is that such a
//! key stays `creating` until the owner decides, and a refusal ends as `revoked`. So `creating` on
//! an opt-in lock is shown as "Awaiting owner approval". When Unloc documents approval, this file
//! is what changes.

use crate::account::{Account, LockInfo};
use crate::store::{KeyOrigin, StoreResult, StoredKey};
pub use crate::views::{KeyStatus, KeyView};

impl KeyStatus {
    /// The status shown for an API state on a lock whose grant is (or is not, or not known to be) opt-in.
    pub fn from_api(api_state: Option<&str>, lock_opt_in: Option<bool>) -> Self {
        match api_state {
            Some("creating") if lock_opt_in == Some(true) => KeyStatus::AwaitingApproval,
            Some("creating") => KeyStatus::Creating,
            Some("scheduled") => KeyStatus::Scheduled,
            Some("active") => KeyStatus::Active,
            Some("expired") => KeyStatus::Expired,
            Some("error") => KeyStatus::Failed,
            Some("revoked") => KeyStatus::Revoked,
            _ => KeyStatus::Unknown,
        }
    }

    /// Nothing more can happen to the key: no need to ask the API again.
    pub fn is_settled(self) -> bool {
        matches!(self, KeyStatus::Expired | KeyStatus::Failed | KeyStatus::Revoked)
    }

    /// The key opens the lock now or will at its start.
    pub fn is_usable(self) -> bool {
        matches!(self, KeyStatus::Scheduled | KeyStatus::Active)
    }
}

impl KeyView {
    pub fn new(key: &StoredKey, lock: &LockInfo) -> Self {
        let status = match KeyStatus::from_api(key.api_state.as_deref(), lock.opt_in) {
            // Never asked about: what the history says is all there is, and it is shown as such.
            KeyStatus::Unknown if key.origin == KeyOrigin::Events && key.api_state.is_none() => {
                KeyStatus::SeenInHistory
            }
            status => status,
        };
        let waiting_since = (status == KeyStatus::AwaitingApproval).then(|| key.created_at.unwrap_or(key.first_seen));
        KeyView {
            id: key.id.clone(),
            lock_id: key.lock_id.clone(),
            lock_name: lock.name.clone(),
            lock_opt_in: lock.opt_in,
            msn: key.msn.clone(),
            route: key.route.clone(),
            start: key.start,
            end: key.end,
            api_state: key.api_state.clone(),
            status,
            origin: key.origin.as_str(),
            created_at: key.created_at,
            first_seen: key.first_seen,
            last_checked: key.last_checked,
            waiting_since,
            first_used: key.first_used,
            last_used: key.last_used,
            settled: status.is_settled(),
            already_revoked: None,
            created_by: key.created_by.clone(),
            created_on_desk: key.created_on_desk.clone(),
            revoked_by: key.revoked_by.clone(),
            revoked_on_desk: key.revoked_on_desk.clone(),
        }
    }
}

/// A stored key as the UI sees it, with what the account knows of its lock.
pub fn view(account: &Account, key: &StoredKey) -> KeyView {
    KeyView::new(key, &account.lock_info(&key.lock_id))
}

/// The account's known keys (of one lock, or all) as the UI sees them.
pub fn views(account: &Account, lock_id: Option<&str>) -> StoreResult<Vec<KeyView>> {
    let keys = account.with_store(|store| store.keys(lock_id))?;
    Ok(keys.iter().map(|key| view(account, key)).collect())
}

/// One known key as the UI sees it; `None` when the account does not know it.
pub fn view_by_id(account: &Account, key_id: &str) -> StoreResult<Option<KeyView>> {
    Ok(account.with_store(|store| store.key(key_id))?.map(|key| view(account, &key)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creating_on_an_opt_in_lock_awaits_the_owner() {
        assert_eq!(KeyStatus::from_api(Some("creating"), Some(true)), KeyStatus::AwaitingApproval);
        assert_eq!(KeyStatus::from_api(Some("creating"), Some(false)), KeyStatus::Creating);
        assert_eq!(KeyStatus::from_api(Some("creating"), None), KeyStatus::Creating);
    }

    #[test]
    fn every_documented_state_has_its_word() {
        let shown = |state| KeyStatus::from_api(Some(state), Some(true));
        assert_eq!(shown("scheduled"), KeyStatus::Scheduled);
        assert_eq!(shown("active"), KeyStatus::Active);
        assert_eq!(shown("expired"), KeyStatus::Expired);
        assert_eq!(shown("error"), KeyStatus::Failed);
        assert_eq!(shown("revoked"), KeyStatus::Revoked);
        assert_eq!(shown("inactive"), KeyStatus::Unknown);
        assert_eq!(KeyStatus::from_api(None, Some(true)), KeyStatus::Unknown);
    }

    #[test]
    fn only_final_states_are_settled() {
        assert!(KeyStatus::Revoked.is_settled() && KeyStatus::Expired.is_settled() && KeyStatus::Failed.is_settled());
        assert!(!KeyStatus::AwaitingApproval.is_settled() && !KeyStatus::Active.is_settled());
        assert!(!KeyStatus::Unknown.is_settled(), "an unknown state is asked again");
    }

    #[test]
    fn serializes_in_camel_case() {
        assert_eq!(serde_json::to_value(KeyStatus::AwaitingApproval).unwrap(), "awaitingApproval");
    }
}
