//! Locks and their event history: fetched from Unloc, cached in the account's store.

use chrono::{DateTime, Utc};
use serde::Serialize;
use tauri::State;

use crate::api::{Lock, LockEvent};
use crate::error::Result;
use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocksPage {
    locks: Vec<Lock>,
    #[serde(with = "crate::api::millis_utc")]
    fetched_at: DateTime<Utc>,
    from_cache: bool,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsPage {
    lock_id: String,
    /// Newest first, the order people read a history in.
    events: Vec<LockEvent>,
    #[serde(with = "crate::api::millis_utc")]
    fetched_at: DateTime<Utc>,
    from_cache: bool,
}

fn newest_first(mut events: Vec<LockEvent>) -> Vec<LockEvent> {
    events.sort_by_key(|event| std::cmp::Reverse(event.created));
    events
}

#[tauri::command]
pub async fn list_locks(state: State<'_, AppState>) -> Result<LocksPage> {
    let locks = state.sessions.call(|client| async move { client.list_locks().await }).await?;
    let fetched_at = Utc::now();
    let account = state.sessions.account().await?;
    // A cache that cannot be written costs the offline copy, not the answer.
    if let Err(error) = account.remember_locks(&locks, fetched_at) {
        log::warn!("could not cache the locks: {error}");
    }
    Ok(LocksPage { locks, fetched_at, from_cache: false })
}

#[tauri::command]
pub async fn list_events(state: State<'_, AppState>, lock_id: String) -> Result<EventsPage> {
    let id = lock_id.clone();
    let result = state.sessions.call(|client| async move { client.list_events(&id).await }).await;
    let events = match result {
        Err(error) if error.kind == crate::error::ErrorKind::NotFound => {
            if let Ok(account) = state.sessions.account().await {
                if let Err(store_error) = account.forget_lock(&lock_id) {
                    log::warn!("could not drop the vanished lock from the cache: {store_error}");
                }
            }
            return Err(error);
        }
        other => other?,
    };
    let fetched_at = Utc::now();
    let account = state.sessions.account().await?;
    match account.with_store(|store| store.save_events(&lock_id, &events, fetched_at)) {
        // Key ids seen in the history are now known keys: let the follow-up look them up.
        Ok(()) => state.sessions.wake_follow_up().await,
        Err(error) => log::warn!("could not cache the events of {lock_id}: {error}"),
    }
    Ok(EventsPage { lock_id, events: newest_first(events), fetched_at, from_cache: false })
}

#[tauri::command]
pub async fn cached_locks(state: State<'_, AppState>) -> Result<Option<LocksPage>> {
    let account = state.sessions.account().await?;
    let cached = account.with_store(|store| store.cached_locks()).unwrap_or_else(|error| {
        log::warn!("cached locks unreadable: {error}");
        None
    });
    Ok(cached.map(|(locks, fetched_at)| LocksPage { locks, fetched_at, from_cache: true }))
}

#[tauri::command]
pub async fn cached_events(state: State<'_, AppState>, lock_id: String) -> Result<Option<EventsPage>> {
    let account = state.sessions.account().await?;
    let cached = account.with_store(|store| store.cached_events(&lock_id)).unwrap_or_else(|error| {
        log::warn!("cached events unreadable: {error}");
        None
    });
    Ok(cached.map(|(events, fetched_at)| EventsPage {
        lock_id,
        events: newest_first(events),
        fetched_at,
        from_cache: true,
    }))
}
