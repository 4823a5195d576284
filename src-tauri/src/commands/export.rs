//! Exports to Excel and CSV, at the path the save dialog returned (an end-to-end test passes its own).

use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

use crate::account::Account;
use crate::activity::ActivityFilter;
use crate::environment::DialogAnswers;
use crate::error::{AppError, Result};
use crate::export::{activity, tables, FileFormat, Target};
use crate::state::AppState;
use crate::views::{ExportDone, VisitsReport};

/// What every export does: the path must be one the save dialog returned and whole, a session must
/// be open; then `write` runs off the async workers (100,000 rows take a moment of CPU and disk).
async fn export_to(
    state: &AppState,
    path: String,
    format: FileFormat,
    language: String,
    write: impl FnOnce(&Account, &Target) -> Result<ExportDone> + Send + 'static,
) -> Result<ExportDone> {
    state.chosen_files.check(&path)?;
    let target = Target::from_request(&path, format, &language)?;
    let account = state.access.session().await?.account;
    tauri::async_runtime::spawn_blocking(move || write(&account, &target))
        .await
        .map_err(|error| AppError::internal(format!("the export stopped: {error}")))?
}

/// The OS save dialog, offering `default_name` and the format's files; `None` when the user cancels.
#[tauri::command]
pub async fn choose_export_path(app: AppHandle, default_name: String, format: FileFormat) -> Result<Option<String>> {
    if let Some(dir) = DialogAnswers::from_env().save_dir {
        let path = dir.join(&default_name);
        app.state::<AppState>().chosen_files.remember(&path);
        return Ok(Some(path.display().to_string()));
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let kind = match format {
        FileFormat::Xlsx => "Excel",
        FileFormat::Csv => "CSV",
    };
    app.dialog().file().set_file_name(default_name).add_filter(kind, &[format.extension()]).save_file(move |path| {
        let _ = sender.send(path);
    });
    let chosen = receiver.await.map_err(|_| AppError::internal("the save dialog closed without an answer"))?;
    let chosen = chosen
        .map(|path| path.into_path())
        .transpose()
        .map_err(|error| AppError::internal(format!("the chosen file has no path: {error}")))?;
    Ok(chosen.map(|path| {
        app.state::<AppState>().chosen_files.remember(&path);
        path.display().to_string()
    }))
}

/// `shown`: the events the lock view shows ([`tables::ShownEvents`]); none: the whole saved history.
#[tauri::command]
pub async fn export_lock_history(
    state: State<'_, AppState>,
    lock_id: String,
    shown: Option<tables::ShownEvents>,
    path: String,
    format: FileFormat,
    language: String,
) -> Result<ExportDone> {
    export_to(&state, path, format, language, move |account, target| {
        tables::export_lock_history(account, &lock_id, shown.as_ref(), target)
    })
    .await
}

#[tauri::command]
pub async fn export_keys(
    state: State<'_, AppState>,
    path: String,
    format: FileFormat,
    language: String,
) -> Result<ExportDone> {
    export_to(&state, path, format, language, tables::export_keys).await
}

#[tauri::command]
pub async fn export_activity(
    state: State<'_, AppState>,
    filter: ActivityFilter,
    path: String,
    format: FileFormat,
    language: String,
) -> Result<ExportDone> {
    export_to(&state, path, format, language, move |account, target| {
        activity::export_activity(account, &filter, target)
    })
    .await
}

#[tauri::command]
pub async fn export_visits(
    state: State<'_, AppState>,
    month: String,
    path: String,
    format: FileFormat,
    language: String,
) -> Result<ExportDone> {
    export_to(&state, path, format, language, move |account, target| activity::export_visits(account, &month, target))
        .await
}

/// The "Visits per customer" report of `month` (`yyyy-mm`) for the report screen, from the local archive.
#[tauri::command]
pub async fn visits_report(state: State<'_, AppState>, month: String) -> Result<VisitsReport> {
    let account = state.access.session().await?.account;
    tauri::async_runtime::spawn_blocking(move || activity::visits_report(&account, &month))
        .await
        .map_err(|error| AppError::internal(format!("the report stopped: {error}")))?
}
