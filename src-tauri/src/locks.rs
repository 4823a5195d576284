//! Locks and their event histories: fetched from Unloc, and kept in the account's store so the
//! app opens with data at once and stays useful offline.

use std::sync::Arc;

use chrono::Utc;

use crate::account::Account;
use crate::activity::sync::ArchiveSync;
use crate::api::{LockEvent, LockList};
use crate::error::{ErrorKind, Result};
use crate::keys::follow::FollowUp;
use crate::session::Caller;
use crate::views::{CachedLocksPage, EventsPage, LocksPage};

/// The partner's locks from Unloc, cached for the next offline start.
pub async fn list(caller: &Caller<'_>) -> Result<LocksPage> {
    let list = caller.call(|client| async move { client.list_locks().await }).await?;
    let fetched_at = Utc::now();
    // A cache that cannot be written costs the offline copy, not the answer.
    if let Err(error) = caller.account().remember_locks(&list.locks, fetched_at) {
        log::warn!("could not cache the locks: {error}");
    }
    Ok(fetched(list, fetched_at))
}

/// A page of locks fresh from Unloc (also the one sign-in fetched), with how many could not be read.
pub fn fetched(list: LockList, fetched_at: chrono::DateTime<Utc>) -> LocksPage {
    LocksPage { locks: list.locks, fetched_at, from_cache: false, skipped: list.skipped }
}

/// A lock's event history from Unloc, cached. Key ids seen in it become known keys, so the
/// follow-up is woken to look them up. A 404 means Unloc no longer grants the lock: it leaves
/// the cached list, so an offline start does not show it again.
/// The history also goes into the activity archive (what is new in it).
pub async fn events(
    caller: &Caller<'_>,
    follow_up: &FollowUp,
    archive: &ArchiveSync,
    lock_id: &str,
) -> Result<EventsPage> {
    let id = lock_id.to_owned();
    let list = match caller.call(|client| async move { client.list_events(&id).await }).await {
        Err(error) if error.kind == ErrorKind::NotFound => {
            if let Err(store_error) = caller.account().forget_lock(lock_id) {
                log::warn!("could not drop the vanished lock from the cache: {store_error}");
            }
            return Err(error);
        }
        other => other?,
    };
    let fetched_at = Utc::now();
    match caller.account().remember_history(lock_id, &list.events, fetched_at) {
        Ok(()) => follow_up.wake(),
        Err(error) => log::warn!("could not cache the events of {lock_id}: {error}"),
    }
    archive.archive_fetched(Arc::clone(caller.account()), lock_id, list.events.clone(), fetched_at);
    Ok(EventsPage {
        lock_id: lock_id.to_owned(),
        events: newest_first(list.events),
        fetched_at,
        from_cache: false,
        skipped: list.skipped,
    })
}

/// The last locks fetched, with no network; `None` when nothing is cached (or it is unreadable).
/// The locks are passed on as saved, not decoded.
pub fn cached(account: &Account) -> Option<CachedLocksPage> {
    cached_counted(account).0
}

/// [`cached`], and how many lists had been saved in this run when it was read
/// ([`Account::lists_saved`]): a copy kept for later can tell whether a newer list came since.
pub fn cached_counted(account: &Account) -> (Option<CachedLocksPage>, u64) {
    let (cached, saved) = account.with_store(|store| (store.cached_locks_json(), account.lists_saved_with(store)));
    let cached = cached.unwrap_or_else(|error| {
        log::warn!("cached locks unreadable: {error}");
        None
    });
    (cached.map(|(locks, fetched_at)| CachedLocksPage { locks, fetched_at, from_cache: true, skipped: 0 }), saved)
}

/// The last event history fetched for this lock, with no network (saved, or kept in memory when
/// saving it failed).
pub fn cached_events(account: &Account, lock_id: &str) -> Option<EventsPage> {
    let cached = account.history_fetched(lock_id).unwrap_or_else(|error| {
        log::warn!("cached events unreadable: {error}");
        None
    });
    cached.map(|(events, fetched_at)| EventsPage {
        lock_id: lock_id.to_owned(),
        events: newest_first(events),
        fetched_at,
        from_cache: true,
        skipped: 0,
    })
}

fn newest_first(mut events: Vec<LockEvent>) -> Vec<LockEvent> {
    events.sort_by_key(|event| std::cmp::Reverse(event.created));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn the_saved_locks_reach_the_page_as_the_decoded_page_would_send_them() {
        let account = Account::new(Store::in_memory().unwrap());
        assert!(cached(&account).is_none(), "nothing saved: null");
        let locks: Vec<crate::api::Lock> = serde_json::from_value(serde_json::json!([
            {"id": "a", "name": "Storgata 1", "auth": "opt-in", "data": "k-1", "street": "Storgata 1", "city": "Oslo"},
            {"id": "b", "name": "Bryggen", "auth": "something-new", "data": null, "postalCode": "5003"},
        ]))
        .unwrap();
        let at = Utc::now();
        account.remember_locks(&locks, at).unwrap();
        let decoded = LocksPage { locks, fetched_at: at, from_cache: true, skipped: 0 };
        let passed = cached(&account).expect("saved");
        assert_eq!(serde_json::to_value(passed).unwrap(), serde_json::to_value(decoded).unwrap());
    }
}
