//! Start-up, sign-in and sign-out commands.

use std::time::Instant;

use tauri::State;

use crate::error::Result;
use crate::state::AppState;
use crate::timing::{ms, TIMING};
use crate::views::{SignInReply, Startup};

#[tauri::command]
pub async fn get_startup(state: State<'_, AppState>) -> Result<Startup> {
    Ok(state.access.startup_for_page(state.settings(), state.take_startup_problem()).await)
}

/// Signs in, then remembers the partner (and a non-default API base) for the next start.
#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    partner_id: String,
    token: String,
    api_base: Option<String>,
) -> Result<SignInReply> {
    let started = Instant::now();
    let (info, locks) = state.access.sign_in(&partner_id, &token, api_base.as_deref()).await?;
    let signed_in_in = started.elapsed();
    let locks_page = crate::locks::fetched(locks, chrono::Utc::now());
    let default_base = state.access.env().default_api_base();
    let remembering = Instant::now();
    state.update_settings(|settings| {
        settings.remember_sign_in(&info.partner_id, &info.api_base, default_base.as_str())
    })?;
    let remembered_in = remembering.elapsed();
    if let Err(error) = state.access.attach_team(state.settings().team.as_ref()).await {
        log::warn!("team database not linked: {error}");
    }
    log::info!("signed in as partner {}", info.partner_id);
    log::debug!(
        target: TIMING,
        "sign_in command: signed in after {:.1} ms, the settings saved in {:.1} ms, the reply ready after {:.1} ms",
        ms(signed_in_in),
        ms(remembered_in),
        ms(started.elapsed())
    );
    Ok(SignInReply { session: info, locks_page })
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<()> {
    state.access.sign_out().await?;
    log::info!("signed out");
    Ok(())
}
