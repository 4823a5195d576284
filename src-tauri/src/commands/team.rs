//! Settings → Team: where the office's shared database is, its connection test, and saving.

use tauri::State;

use crate::error::Result;
use crate::state::AppState;
use crate::team::{settings_form, TeamCheck, TeamSettings, TeamSettingsView};
use crate::views::TeamStatus;

/// Whether team data is current on this desk (no session: not linked).
#[tauri::command]
pub async fn get_team_status(state: State<'_, AppState>) -> Result<TeamStatus> {
    Ok(match state.access.session_now() {
        Some(session) => crate::keys::shared::team_status(&session),
        None => TeamStatus { linked: false, state: "off", problem: None, since: None, queued: 0 },
    })
}

#[tauri::command]
pub async fn get_team_settings(state: State<'_, AppState>) -> Result<TeamSettingsView> {
    Ok(settings_form::view(state.access.keychain(), state.settings().team).await)
}

/// `password`: as typed, or null/empty to use the one kept in the keychain.
#[tauri::command]
pub async fn test_team_connection(
    state: State<'_, AppState>,
    settings: TeamSettings,
    password: Option<String>,
) -> Result<TeamCheck> {
    settings_form::test(state.access.keychain(), &settings, password).await
}

/// `settings` null stops sharing (and forgets the kept password).
#[tauri::command]
pub async fn save_team_settings(
    state: State<'_, AppState>,
    settings: Option<TeamSettings>,
    password: Option<String>,
) -> Result<TeamSettingsView> {
    let before = state.settings().team;
    let view = settings_form::save(state.access.keychain(), before.as_ref(), settings, password).await?;
    state.update_settings(|stored| stored.team = view.settings.clone())?;
    if let Err(error) = state.access.attach_team(view.settings.as_ref()).await {
        log::warn!("team database not linked: {error}");
    }
    Ok(view)
}
