//! Start-up, sign-in and sign-out commands.

use serde::Serialize;
use tauri::State;

use crate::error::{ErrorKind, Result};
use crate::session::SessionInfo;
use crate::settings::Settings;
use crate::state::AppState;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Startup {
    version: &'static str,
    settings: Settings,
    signed_in: bool,
    token_from_environment: bool,
    default_api_base: String,
    /// The operating system's language as a BCP 47 tag (e.g. "nb-NO"), for the "system" language setting.
    /// Read here because a webview's `navigator.language` does not follow the OS everywhere.
    system_language: Option<String>,
    problem: Option<crate::error::AppError>,
}

#[tauri::command]
pub async fn get_startup(state: State<'_, AppState>) -> Result<Startup> {
    let mut settings = state.settings();
    let sessions = &state.sessions;
    if settings.partner_id.is_none() {
        settings.partner_id = sessions.env().partner_id.clone();
    }
    let mut problem = state.take_startup_problem();
    let signed_in = match (sessions.client().await.is_ok(), &settings.partner_id) {
        (true, _) => true,
        (false, Some(partner_id)) => match sessions.restore(partner_id, settings.api_base.as_deref()).await {
            Ok(found) => found,
            Err(error) => {
                log::warn!("silent sign-in failed: {error}");
                if error.kind == ErrorKind::KeychainUnavailable || problem.is_none() {
                    problem = Some(error);
                }
                false
            }
        },
        (false, None) => false,
    };
    // A damaged local database found while signing in silently is worth telling too.
    problem = problem.or_else(|| sessions.take_notice());
    Ok(Startup {
        version: env!("CARGO_PKG_VERSION"),
        signed_in,
        token_from_environment: sessions.env().token.is_some(),
        default_api_base: sessions.env().default_api_base().to_string(),
        system_language: sys_locale::get_locale(),
        settings,
        problem,
    })
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    partner_id: String,
    token: String,
    api_base: Option<String>,
) -> Result<SessionInfo> {
    let api_base = api_base.filter(|text| !text.trim().is_empty());
    let (info, _locks) = state.sessions.sign_in(&partner_id, &token, api_base.as_deref()).await?;
    let default_base = state.sessions.env().default_api_base().to_string();
    let saved_base = (info.api_base != default_base).then(|| info.api_base.clone());
    state.update_settings(|settings| {
        settings.partner_id = Some(info.partner_id.clone());
        settings.api_base = saved_base;
    })?;
    log::info!("signed in as partner {}", info.partner_id);
    Ok(info)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<()> {
    state.sessions.sign_out().await?;
    log::info!("signed out");
    Ok(())
}
