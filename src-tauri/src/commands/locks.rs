//! Locks and their event history.

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
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsPage {
    lock_id: String,
    /// Newest first, the order people read a history in.
    events: Vec<LockEvent>,
    #[serde(with = "crate::api::millis_utc")]
    fetched_at: DateTime<Utc>,
}

#[tauri::command]
pub async fn list_locks(state: State<'_, AppState>) -> Result<LocksPage> {
    let locks = state.sessions.call(|client| async move { client.list_locks().await }).await?;
    Ok(LocksPage { locks, fetched_at: Utc::now() })
}

#[tauri::command]
pub async fn list_events(state: State<'_, AppState>, lock_id: String) -> Result<EventsPage> {
    let id = lock_id.clone();
    let mut events = state.sessions.call(|client| async move { client.list_events(&id).await }).await?;
    events.sort_by_key(|event| std::cmp::Reverse(event.created));
    Ok(EventsPage { lock_id, events, fetched_at: Utc::now() })
}
