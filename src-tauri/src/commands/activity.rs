//! The Activity view, the archive's sync and the history settings.

use tauri::State;

use crate::activity::{self, ActivityFilter};
use crate::error::Result;
use crate::settings::Settings;
use crate::state::AppState;
use crate::views::{ActivityPage, SyncStatus};

#[tauri::command]
pub async fn activity_page(
    state: State<'_, AppState>,
    filter: ActivityFilter,
    offset: u64,
    limit: u64,
    count: bool,
) -> Result<ActivityPage> {
    let session = state.access.session().await?;
    // A store read: off the async workers.
    tauri::async_runtime::spawn_blocking(move || {
        activity::page(&session.account, &filter, &chrono::Local::now(), offset, limit, count)
    })
    .await
    .map_err(|error| crate::error::AppError::new(crate::error::ErrorKind::Internal, error.to_string()))?
}

#[tauri::command]
pub async fn activity_sync_status(state: State<'_, AppState>, ask: bool) -> Result<SyncStatus> {
    state.access.session().await?;
    if ask {
        state.access.archive().ask();
    }
    Ok(state.access.archive().status())
}

#[tauri::command]
pub async fn set_activity_sync_paused(state: State<'_, AppState>, paused: bool) -> Result<SyncStatus> {
    let session = state.access.session().await?;
    state.access.archive().set_paused(&session.account, paused)?;
    Ok(state.access.archive().status())
}

#[tauri::command]
pub async fn set_keep_history(state: State<'_, AppState>, months: Option<u32>) -> Result<Settings> {
    let retention = activity::retention_choice(months)?;
    let settings = state.update_settings(|settings| settings.keep_history_months = months)?;
    let session = state.access.session().await.ok();
    // A purge of a large archive takes seconds of disk work: this worker hands its other tasks on.
    tokio::task::block_in_place(|| {
        activity::apply_retention(
            state.access.archive(),
            session.as_ref().map(|session| session.account.as_ref()),
            retention,
        )
    });
    if let Some(session) = &session {
        // The office's copy after the reply: a team database out of reach would hold Settings up
        // for its connection timeout, and a large shared delete is the server's work, not the user's.
        let team = std::sync::Arc::clone(&session.team);
        tokio::spawn(async move { activity::sync::purge_shared(&team, retention).await });
    }
    Ok(settings)
}

/// Returns, when `also_office` asked for it, whether the office's shared copy was deleted too.
#[tauri::command]
pub async fn delete_local_history(state: State<'_, AppState>, also_office: Option<bool>) -> Result<Option<bool>> {
    let session = state.access.session().await?;
    // Deleting and compacting a large archive takes seconds of disk work: this worker hands its
    // other tasks (the window's other requests, the request governor's timers) on meanwhile.
    tokio::task::block_in_place(|| activity::delete_local_history(&session.account, state.access.archive()))?;
    if also_office != Some(true) {
        return Ok(None);
    }
    Ok(Some(activity::delete_office_history(&session.team).await))
}
