//! Settings the user changes from the settings view.

use tauri::State;

use crate::error::{AppError, Result};
use crate::settings::{Language, Settings};
use crate::state::AppState;

#[tauri::command]
pub async fn set_language(state: State<'_, AppState>, language: String) -> Result<Settings> {
    let language = Language::parse(&language).ok_or_else(|| AppError::invalid_input("language", "unknown language"))?;
    state.update_settings(|settings| settings.language = language)
}
