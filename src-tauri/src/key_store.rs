//! One interface for the keys a desk knows, with two implementations: the local SQLite store
//! (`store::Store`, the default and the offline cache) and the office's shared PostgreSQL database
//! (`team::TeamKeys`). Both pass the same test suite (`suite`, run on each backend).

use std::future::Future;
use std::sync::Mutex;

use chrono::{DateTime, Utc};

use crate::api::Key;
use crate::store::{CreatedKeyRecord, Store, StoreError, StoredKey};
use crate::sync::lock;

/// The keys of one partner account (one partner id at one API address).
pub trait KeyStore: Send + Sync {
    /// Each backend's own error (`StoreError`, `TeamError`): each says what went wrong in its terms.
    type Error: std::error::Error + Send + Sync + 'static;

    /// A key this desk just sent to Unloc: followed until it settles.
    fn remember_created_key(
        &self,
        key: &CreatedKeyRecord<'_>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// A key the user asked for by id, with what the API said of it.
    fn remember_added_key(&self, key: &Key, now: DateTime<Utc>)
        -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Stores what `GET /keys/{id}` said; returns the previous API state when it changed.
    fn record_check(
        &self,
        key: &Key,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<Option<String>>, Self::Error>> + Send;

    /// Marks a key revoked (after DELETE answered 200 or 409); its follow-up stops.
    fn record_revoked(&self, key_id: &str, now: DateTime<Utc>) -> impl Future<Output = Result<(), Self::Error>> + Send;

    fn key(&self, key_id: &str) -> impl Future<Output = Result<Option<StoredKey>, Self::Error>> + Send;

    /// Every known key (of one lock, or all), newest first.
    fn keys(&self, lock_id: Option<&str>) -> impl Future<Output = Result<Vec<StoredKey>, Self::Error>> + Send;
}

/// The local store, as the account holds it. Its calls are short and never wait on the network.
impl KeyStore for Mutex<Store> {
    type Error = StoreError;

    async fn remember_created_key(&self, key: &CreatedKeyRecord<'_>, now: DateTime<Utc>) -> Result<(), StoreError> {
        lock(self).remember_created_key(key, now)
    }

    async fn remember_added_key(&self, key: &Key, now: DateTime<Utc>) -> Result<(), StoreError> {
        lock(self).remember_added_key(key, now)
    }

    async fn record_check(&self, key: &Key, now: DateTime<Utc>) -> Result<Option<Option<String>>, StoreError> {
        lock(self).record_check(key, now)
    }

    async fn record_revoked(&self, key_id: &str, now: DateTime<Utc>) -> Result<(), StoreError> {
        lock(self).record_revoked(key_id, now)
    }

    async fn key(&self, key_id: &str) -> Result<Option<StoredKey>, StoreError> {
        lock(self).key(key_id)
    }

    async fn keys(&self, lock_id: Option<&str>) -> Result<Vec<StoredKey>, StoreError> {
        lock(self).keys(lock_id)
    }
}

/// The shared suite: what every implementation must do, whatever is behind it.
#[cfg(test)]
pub(crate) mod suite {
    use super::*;
    use crate::api::KeyState;
    use crate::store::KeyOrigin;

    pub fn moment(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn api_key(id: &str, lock_id: &str, state: KeyState) -> Key {
        Key {
            id: id.into(),
            lock_id: lock_id.into(),
            state,
            start: moment("2026-11-01T10:00:00.000Z"),
            end: Some(moment("2026-11-08T10:00:00.000Z")),
            events: Vec::new(),
        }
    }

    fn created<'a>(id: &'a str, lock_id: &'a str) -> CreatedKeyRecord<'a> {
        CreatedKeyRecord {
            id,
            lock_id,
            msn: Some("+4790000001"),
            route: Some("Trappeoppgang B"),
            start: moment("2026-11-01T10:00:00.000Z"),
            end: Some(moment("2026-11-08T10:00:00.000Z")),
        }
    }

    /// A created key keeps what was sent, starts as "creating" and follows state changes.
    pub async fn a_created_key_keeps_what_was_sent_and_tracks_state_changes(store: &impl KeyStore) {
        let now = moment("2026-11-01T09:00:00.000Z");
        store.remember_created_key(&created("k1", "l1"), now).await.unwrap();
        let key = store.key("k1").await.unwrap().expect("the created key is known");
        assert_eq!(key.origin, KeyOrigin::Created);
        assert_eq!(key.api_state.as_deref(), Some("creating"));
        assert_eq!((key.msn.as_deref(), key.route.as_deref()), (Some("+4790000001"), Some("Trappeoppgang B")));
        assert_eq!(key.start, Some(moment("2026-11-01T10:00:00.000Z")));
        assert_eq!(key.created_at, Some(now));

        let later = moment("2026-11-01T09:05:00.000Z");
        let changed = store.record_check(&api_key("k1", "l1", KeyState::Scheduled), later).await.unwrap();
        assert_eq!(changed, Some(Some("creating".into())), "the previous state is returned when it changed");
        let unchanged =
            store.record_check(&api_key("k1", "l1", KeyState::Scheduled), moment("2026-11-01T09:10:00.000Z")).await;
        assert_eq!(unchanged.unwrap(), None, "no change, nothing returned");
        let key = store.key("k1").await.unwrap().unwrap();
        assert_eq!(key.api_state.as_deref(), Some("scheduled"));
        assert_eq!(key.state_since, later, "the state's start is when it changed, not the last check");
        assert_eq!(key.quiet_checks, 1);
        assert_eq!(key.last_checked, Some(moment("2026-11-01T09:10:00.000Z")));
    }

    /// A check of a key nobody remembered changes nothing and says nothing.
    pub async fn a_check_of_an_unknown_key_is_ignored(store: &impl KeyStore) {
        let unknown = api_key("nobody", "l1", KeyState::Active);
        let changed = store.record_check(&unknown, moment("2026-11-01T09:00:00.000Z")).await;
        assert_eq!(changed.unwrap(), None);
        assert_eq!(store.key("nobody").await.unwrap(), None);
    }

    /// Revoked stays revoked, with the time it first was.
    pub async fn revoking_marks_the_key_and_stops_its_follow_up(store: &impl KeyStore) {
        store.remember_created_key(&created("k2", "l1"), moment("2026-11-01T09:00:00.000Z")).await.unwrap();
        let revoked_at = moment("2026-11-01T11:00:00.000Z");
        store.record_revoked("k2", revoked_at).await.unwrap();
        store.record_revoked("k2", moment("2026-11-01T12:00:00.000Z")).await.unwrap();
        let key = store.key("k2").await.unwrap().unwrap();
        assert_eq!(key.api_state.as_deref(), Some("revoked"));
        assert_eq!(key.state_since, revoked_at, "a second revoke does not move the time");
        assert_eq!(key.next_check_at, None, "no more checks");
    }

    /// A key added by id carries what Unloc said of it.
    pub async fn an_added_key_carries_the_apis_word(store: &impl KeyStore) {
        let now = moment("2026-11-02T08:00:00.000Z");
        store.remember_added_key(&api_key("k3", "l2", KeyState::Active), now).await.unwrap();
        let key = store.key("k3").await.unwrap().unwrap();
        assert_eq!(key.origin, KeyOrigin::Added);
        assert_eq!(key.lock_id, "l2");
        assert_eq!(key.api_state.as_deref(), Some("active"));
        assert_eq!(key.end, Some(moment("2026-11-08T10:00:00.000Z")));
        assert_eq!(key.first_seen, now);
    }

    /// The list: newest first, and of one lock when asked.
    pub async fn keys_are_listed_newest_first_and_by_lock(store: &impl KeyStore) {
        store.remember_created_key(&created("old", "l1"), moment("2026-11-01T08:00:00.000Z")).await.unwrap();
        store.remember_created_key(&created("new", "l2"), moment("2026-11-03T08:00:00.000Z")).await.unwrap();
        store.remember_created_key(&created("mid", "l1"), moment("2026-11-02T08:00:00.000Z")).await.unwrap();
        let all: Vec<String> = store.keys(None).await.unwrap().into_iter().map(|key| key.id).collect();
        assert_eq!(all, ["new", "mid", "old"]);
        let of_l1: Vec<String> = store.keys(Some("l1")).await.unwrap().into_iter().map(|key| key.id).collect();
        assert_eq!(of_l1, ["mid", "old"]);
    }

    /// Two partner accounts never see each other's keys.
    pub async fn two_partner_accounts_see_only_their_own_keys(first: &impl KeyStore, second: &impl KeyStore) {
        first.remember_created_key(&created("mine", "l1"), moment("2026-11-01T08:00:00.000Z")).await.unwrap();
        second.remember_created_key(&created("theirs", "l1"), moment("2026-11-01T08:00:00.000Z")).await.unwrap();
        let ids = |keys: Vec<StoredKey>| keys.into_iter().map(|key| key.id).collect::<Vec<_>>();
        assert_eq!(ids(first.keys(None).await.unwrap()), ["mine"]);
        assert_eq!(ids(second.keys(None).await.unwrap()), ["theirs"]);
        assert_eq!(first.key("theirs").await.unwrap(), None);
    }

    /// Runs every single-store case, each on a fresh store from `open`.
    pub async fn run<S: KeyStore, F: Future<Output = S>>(mut open: impl FnMut() -> F) {
        a_created_key_keeps_what_was_sent_and_tracks_state_changes(&open().await).await;
        a_check_of_an_unknown_key_is_ignored(&open().await).await;
        revoking_marks_the_key_and_stops_its_follow_up(&open().await).await;
        an_added_key_carries_the_apis_word(&open().await).await;
        keys_are_listed_newest_first_and_by_lock(&open().await).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_local_store_passes_the_shared_suite() {
        suite::run(|| async { Mutex::new(Store::in_memory().unwrap()) }).await;
    }

    /// Locally each partner account (partner id and API address) has a file of its own.
    #[tokio::test]
    async fn two_local_accounts_are_apart() {
        let dir = std::env::temp_dir().join(format!("unloc-key-store-{}-{}", std::process::id(), fastrand::u32(..)));
        let open = |partner: &str| {
            let path = Store::path_for(&dir, partner, "https://partner.unloc.app/v1");
            Mutex::new(Store::open(&path).unwrap().0)
        };
        suite::two_partner_accounts_see_only_their_own_keys(&open("partner-a"), &open("partner-b")).await;
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
