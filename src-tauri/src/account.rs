//! One signed-in partner account's local data: its store, and what it knows of its locks.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};

use crate::api::{Grant, Lock, LockEvent};
use crate::error::{AppError, ErrorKind};
use crate::store::{Opened, Store, StoreResult};
use crate::sync::lock;

/// A lock's history as fetched from Unloc (oldest first), and when.
pub type FetchedHistory = (Vec<LockEvent>, DateTime<Utc>);

/// What the app knows of a key's lock.
#[derive(Debug, Clone, Default)]
pub struct LockInfo {
    pub name: Option<String>,
    pub opt_in: Option<bool>,
}

pub struct Account {
    store: Mutex<Store>,
    /// Name and grant of each cached lock, for turning stored keys into views. Built when first
    /// asked (`None` until then): decoding 10,000 saved locks at sign-in would delay the first rows.
    locks: Mutex<Option<HashMap<String, LockInfo>>>,
    /// Lists of locks saved in this run: whoever read the saved list can tell a newer one came since.
    lists_saved: AtomicU64,
    /// Histories fetched from Unloc that could not be saved (a full or failing disk), by lock, with
    /// when they were fetched: the lock view shows them, and an export of what it shows needs them.
    /// Taken only while the store is held, so a save and this copy never disagree.
    unsaved_histories: Mutex<HashMap<String, FetchedHistory>>,
}

impl Account {
    pub fn new(store: Store) -> Self {
        Account {
            store: Mutex::new(store),
            locks: Mutex::default(),
            lists_saved: AtomicU64::new(0),
            unsaved_histories: Mutex::default(),
        }
    }

    /// Opens the database of this partner at this API base, in `dir` (`None`: in memory, for
    /// tests). Whatever happens, the user keeps working: a damaged file is replaced, and if the file
    /// cannot be used (a full, read-only, busy or failing disk) it is left alone and the data stays
    /// in memory this run. Either is returned as a notice whose kind says which.
    pub fn open(dir: Option<&Path>, partner_id: &str, api_base: &str) -> (Account, Option<AppError>) {
        let (store, notice) = match dir {
            None => (Store::in_memory(), None),
            Some(dir) => {
                match Store::open(&Store::path_for(dir, partner_id, api_base)) {
                    Ok((store, Opened::Ready)) => (Ok(store), None),
                    Ok((store, Opened::Recovered { set_aside, reason })) => {
                        let notice = AppError::new(
                        ErrorKind::StoreReset,
                        format!("the local database was damaged ({reason}); it was moved to {} and is rebuilt from Unloc", set_aside.display()),
                    );
                        (Ok(store), Some(notice))
                    }
                    Err(error) => {
                        log::error!("local database unusable: {error}");
                        // A full, read-only, busy or failing disk is named as such; the file stays.
                        let message = format!("{error}; this session keeps its data in memory only");
                        let kind = match AppError::from(error).kind {
                            ErrorKind::Internal => ErrorKind::StoreReset,
                            kind => kind,
                        };
                        let notice = AppError::new(kind, message);
                        (Store::in_memory(), Some(notice))
                    }
                }
            }
        };
        // An in-memory SQLite database only fails to open when memory is exhausted.
        let store = store.unwrap_or_else(|error| panic!("no local store possible: {error}"));
        (Account::new(store), notice)
    }

    /// Whether this partner at this API base has a database in `dir` yet (`None`: in memory, never).
    pub fn exists(dir: Option<&Path>, partner_id: &str, api_base: &str) -> bool {
        dir.is_some_and(|dir| Store::path_for(dir, partner_id, api_base).exists())
    }

    /// Closes this account and removes its database: for one created by a sign-in that failed,
    /// so that a mistyped partner id leaves no file behind.
    pub fn discard(self, dir: Option<&Path>, partner_id: &str, api_base: &str) {
        drop(self);
        let Some(dir) = dir else {
            return;
        };
        let path = Store::path_for(dir, partner_id, api_base);
        for suffix in ["", "-wal", "-shm"] {
            let mut file = path.clone().into_os_string();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                Err(error) => log::warn!("could not remove an unused local database: {error}"),
            }
        }
    }

    /// Runs `work` with the store. Store calls are short, but for one: the list of locks saved
    /// after sign-in holds the store until it is saved (on a thread of its own), and a call made
    /// meanwhile waits for that. A poisoned lock (a panic elsewhere) still holds a consistent SQLite
    /// connection, so it is used on.
    pub fn with_store<T>(&self, work: impl FnOnce(&mut Store) -> T) -> T {
        work(&mut lock(&self.store))
    }

    pub fn remember_locks(&self, locks: &[Lock], fetched_at: DateTime<Utc>) -> StoreResult<()> {
        self.index_locks(locks);
        self.with_store(|store| {
            store.save_locks(locks, fetched_at)?;
            // Counted while the store is held, with the save: see `lists_saved`.
            self.lists_saved.fetch_add(1, Ordering::SeqCst);
            store.archive_locks(locks)
        })
    }

    /// [`Self::remember_locks`] on a thread of its own, which takes the store before this returns
    /// and keeps it until the list is saved: the caller goes on at once (sign-in answers), and
    /// whatever uses the store next waits for the saved list, never reads the one before it.
    pub async fn remember_locks_behind(self: &Arc<Self>, locks: Vec<Lock>, fetched_at: DateTime<Utc>) {
        self.index_locks(&locks);
        let account = Arc::clone(self);
        let (held, store_taken) = tokio::sync::oneshot::channel();
        tokio::task::spawn_blocking(move || {
            let mut store = lock(&account.store);
            let _ = held.send(());
            let saved = store.save_locks(&locks, fetched_at);
            if saved.is_ok() {
                account.lists_saved.fetch_add(1, Ordering::SeqCst);
            }
            if let Err(error) = saved.and_then(|()| store.archive_locks(&locks)) {
                log::warn!("could not cache the locks: {error}");
            }
        });
        // The thread always takes the store or ends (a panic in it drops `held`): never stuck.
        let _ = store_taken.await;
    }

    /// Saves a lock's history as fetched from Unloc. If that fails it is kept in memory for this
    /// run instead, so that the lock view and an export of what it shows still have every event.
    pub fn remember_history(&self, lock_id: &str, events: &[LockEvent], fetched_at: DateTime<Utc>) -> StoreResult<()> {
        self.with_store(|store| {
            let saved = store.save_events(lock_id, events, fetched_at);
            let mut unsaved = lock(&self.unsaved_histories);
            match &saved {
                Ok(()) => unsaved.remove(lock_id),
                Err(_) => unsaved.insert(lock_id.to_owned(), (events.to_vec(), fetched_at)),
            };
            saved
        })
    }

    /// The lock's history as last fetched, and when: the saved one, or the one fetched since that
    /// could not be saved. Oldest first, as saved; `None` when there is none.
    pub fn history_fetched(&self, lock_id: &str) -> StoreResult<Option<FetchedHistory>> {
        self.with_store(|store| match lock(&self.unsaved_histories).get(lock_id) {
            Some(unsaved) => Ok(Some(unsaved.clone())),
            None => store.cached_events(lock_id),
        })
    }

    /// [`Self::history_fetched`]'s events, none when there is no history.
    pub fn history(&self, lock_id: &str) -> StoreResult<Vec<LockEvent>> {
        Ok(self.history_fetched(lock_id)?.map(|(events, _)| events).unwrap_or_default())
    }

    /// Deletes every history this desk holds: the saved ones and the archive (the store's
    /// `delete_local_history`) and any kept in memory.
    pub fn delete_local_history(&self) -> StoreResult<()> {
        self.with_store(|store| {
            lock(&self.unsaved_histories).clear();
            store.delete_local_history()
        })
    }

    /// Unloc answered 404 for this lock: it is no longer granted. Drop it from the cached list so
    /// an offline start does not show it again (its keys stay known).
    pub fn forget_lock(&self, lock_id: &str) -> StoreResult<()> {
        let Some((mut locks, fetched_at)) = self.with_store(|store| store.cached_locks())? else {
            return Ok(());
        };
        let before = locks.len();
        locks.retain(|lock| lock.id != lock_id);
        if locks.len() != before {
            self.remember_locks(&locks, fetched_at)?;
        }
        Ok(())
    }

    fn index_locks(&self, locks: &[Lock]) {
        *lock(&self.locks) = Some(index_of(locks));
    }

    /// How many lists of locks were saved in this run, read with the store: a save under way is
    /// waited for, so a copy of the saved list read (with the store) when this was `n` is still
    /// the newest while this is `n`.
    pub fn lists_saved(&self) -> u64 {
        self.with_store(|store| self.lists_saved_with(store))
    }

    /// [`Self::lists_saved`] for a caller that holds the store (reading the list at the same time).
    pub fn lists_saved_with(&self, _held: &Store) -> u64 {
        self.lists_saved.load(Ordering::SeqCst)
    }

    pub fn lock_info(&self, lock_id: &str) -> LockInfo {
        if let Some(index) = lock(&self.locks).as_ref() {
            return index.get(lock_id).cloned().unwrap_or_default();
        }
        // First use: index the saved list. The store is read without holding the index's lock, so
        // the two locks are never taken in opposite orders.
        let saved = match self.with_store(|store| store.cached_locks()) {
            Ok(saved) => saved.map(|(locks, _)| locks).unwrap_or_default(),
            Err(error) => {
                log::warn!("cached locks unreadable: {error}");
                Vec::new()
            }
        };
        let mut index = lock(&self.locks);
        let index = index.get_or_insert_with(|| index_of(&saved));
        index.get(lock_id).cloned().unwrap_or_default()
    }
}

fn index_of(locks: &[Lock]) -> HashMap<String, LockInfo> {
    locks
        .iter()
        .map(|lock| {
            let opt_in = match lock.auth {
                Grant::OptIn => Some(true),
                Grant::OptOut => Some(false),
                Grant::Unknown(_) => None,
            };
            (lock.id.clone(), LockInfo { name: Some(lock.name.clone()), opt_in })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(id: &str, auth: Grant) -> Lock {
        serde_json::from_value(
            serde_json::json!({"id": id, "name": format!("Lås {id}"), "auth": auth.as_str(), "data": "k"}),
        )
        .unwrap()
    }

    #[test]
    fn a_vanished_lock_leaves_the_cache_and_the_index() {
        let account = Account::new(Store::in_memory().unwrap());
        let at = Utc::now();
        account.remember_locks(&[lock("a", Grant::OptIn), lock("b", Grant::OptOut)], at).unwrap();
        assert_eq!(account.lock_info("a").opt_in, Some(true));
        account.forget_lock("a").unwrap();
        let (cached, fetched) = account.with_store(|store| store.cached_locks()).unwrap().unwrap();
        assert_eq!(cached.iter().map(|lock| lock.id.as_str()).collect::<Vec<_>>(), ["b"]);
        assert_eq!(fetched.timestamp_millis(), at.timestamp_millis(), "the list keeps its time");
        assert_eq!(account.lock_info("a").opt_in, None);
        account.forget_lock("not-there").unwrap();
    }

    #[tokio::test]
    async fn a_list_saved_behind_the_caller_is_what_the_store_gives_next() {
        let account = Arc::new(Account::new(Store::in_memory().unwrap()));
        let locks: Vec<Lock> = (0..2000).map(|n| lock(&format!("l{n}"), Grant::OptIn)).collect();
        let at = Utc::now();
        account.remember_locks_behind(locks, at).await;
        // Asked at once, while the save may still run: the store answers with the saved list.
        assert_eq!(account.lock_info("l1999").opt_in, Some(true));
        let (cached, _) = account.with_store(|store| store.cached_locks()).unwrap().expect("the list is saved");
        assert_eq!(cached.len(), 2000);
        // The archive's sync, started right after sign-in, finds the locks for its round.
        let first = account.with_store(|store| store.start_round(Utc::now()).and_then(|()| store.next_lock_to_sync()));
        assert!(first.unwrap().is_some());
    }

    #[test]
    fn an_account_opened_on_saved_locks_knows_their_names_when_first_asked() {
        let store = Store::in_memory().unwrap();
        store.save_locks(&[lock("a", Grant::OptIn)], Utc::now()).unwrap();
        let account = Account::new(store);
        let info = account.lock_info("a");
        assert_eq!(info.name.as_deref(), Some("Lås a"));
        assert_eq!(info.opt_in, Some(true));
        assert_eq!(account.lock_info("unknown").name, None);
    }
}
