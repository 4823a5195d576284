//! Locks and their event history.

use tauri::State;

use crate::error::Result;
use crate::locks;
use crate::state::AppState;
use crate::views::{CachedLocksPage, EventsPage, LocksPage};

#[tauri::command]
pub async fn list_locks(state: State<'_, AppState>) -> Result<LocksPage> {
    locks::list(&state.access.caller().await?).await
}

#[tauri::command]
pub async fn list_events(state: State<'_, AppState>, lock_id: String) -> Result<EventsPage> {
    locks::events(&state.access.caller().await?, state.access.follow_up(), state.access.archive(), &lock_id).await
}

#[tauri::command]
pub async fn cached_locks(state: State<'_, AppState>) -> Result<Option<CachedLocksPage>> {
    Ok(locks::cached(&state.access.session().await?.account))
}

#[tauri::command]
pub async fn cached_events(state: State<'_, AppState>, lock_id: String) -> Result<Option<EventsPage>> {
    Ok(locks::cached_events(&state.access.session().await?.account, &lock_id))
}
