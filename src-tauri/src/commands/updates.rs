//! Updates: look for one now, install the one offered.

use tauri::{AppHandle, State};

use crate::error::Result;
use crate::updates::{self, PendingUpdate};
use crate::views::UpdateInfo;

#[tauri::command]
pub async fn check_for_update(app: AppHandle, pending: State<'_, PendingUpdate>) -> Result<Option<UpdateInfo>> {
    updates::check_now(&app, &pending).await
}

/// Installs the offered update and restarts into it.
#[tauri::command]
pub async fn install_update(app: AppHandle, pending: State<'_, PendingUpdate>) -> Result<()> {
    updates::install(&pending).await?;
    app.restart();
}
