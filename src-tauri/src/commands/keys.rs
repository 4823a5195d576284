//! Keys: list, create, revoke, refresh, add by id.

use chrono::{DateTime, Utc};
use tauri::State;

use crate::error::{AppError, Result};
use crate::keys::actions;
use crate::state::AppState;
use crate::views::KeyView;

fn parse_moment(field: &'static str, text: Option<String>) -> Result<Option<DateTime<Utc>>> {
    match text.as_deref().map(str::trim).filter(|text| !text.is_empty()) {
        None => Ok(None),
        Some(text) => DateTime::parse_from_rfc3339(text)
            .map(|moment| Some(moment.with_timezone(&Utc)))
            .map_err(|_| AppError::invalid_input(field, "not a date and time")),
    }
}

#[tauri::command]
pub async fn list_keys(state: State<'_, AppState>, lock_id: Option<String>) -> Result<Vec<KeyView>> {
    actions::list(&state.access.keys().await?, lock_id.as_deref()).await
}

#[tauri::command]
pub async fn create_key(
    state: State<'_, AppState>,
    lock_id: String,
    msn: String,
    start: Option<String>,
    end: Option<String>,
    route: Option<String>,
) -> Result<KeyView> {
    let (start, end) = (parse_moment("start", start)?, parse_moment("end", end)?);
    actions::create(&state.access.keys().await?, &lock_id, &msn, start, end, route.as_deref()).await
}

#[tauri::command]
pub async fn revoke_key(state: State<'_, AppState>, key_id: String) -> Result<KeyView> {
    actions::revoke(&state.access.keys().await?, &key_id).await
}

#[tauri::command]
pub async fn refresh_keys(state: State<'_, AppState>, lock_id: Option<String>) -> Result<Vec<KeyView>> {
    actions::refresh(&state.access.keys().await?, lock_id.as_deref()).await
}

#[tauri::command]
pub async fn add_key(state: State<'_, AppState>, key_id: String) -> Result<KeyView> {
    actions::add(&state.access.keys().await?, &key_id).await
}
