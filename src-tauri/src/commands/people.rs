//! People: the directory, a person's page, importing from a file, revoking a person's keys.

use std::path::PathBuf;

use tauri::{AppHandle, Manager, State};
use tauri_plugin_dialog::DialogExt;

use crate::error::{AppError, Result};
use crate::keys::actions;
use crate::people;
use crate::state::AppState;
use crate::views::{PeopleImport, Person, PersonPage, RevokeOutcome};

#[tauri::command]
pub async fn list_people(state: State<'_, AppState>) -> Result<Vec<Person>> {
    people::list(&state.access.session().await?.account)
}

#[tauri::command]
pub async fn save_person(
    state: State<'_, AppState>,
    id: Option<i64>,
    name: String,
    phone: String,
    note: Option<String>,
) -> Result<Person> {
    people::save(&state.access.session().await?.account, id, &name, &phone, note.as_deref())
}

#[tauri::command]
pub async fn delete_person(state: State<'_, AppState>, id: i64) -> Result<()> {
    people::delete(&state.access.session().await?.account, id)
}

#[tauri::command]
pub async fn person_page(state: State<'_, AppState>, id: i64) -> Result<PersonPage> {
    people::page(&state.access.session().await?.account, id)
}

#[tauri::command]
pub async fn revoke_keys(state: State<'_, AppState>, key_ids: Vec<String>) -> Result<Vec<RevokeOutcome>> {
    Ok(actions::revoke_many(&state.access.keys().await?, &key_ids).await)
}

/// The OS open dialog, for a spreadsheet or CSV file; `None` when the user cancels.
#[tauri::command]
pub async fn choose_import_file(app: AppHandle) -> Result<Option<String>> {
    if let Some(file) = crate::environment::DialogAnswers::from_env().open_file {
        app.state::<AppState>().chosen_files.remember(&file);
        return Ok(Some(file.display().to_string()));
    }
    let (sender, receiver) = tokio::sync::oneshot::channel();
    app.dialog().file().add_filter("Spreadsheet or CSV", &["xlsx", "xlsm", "xls", "ods", "csv", "txt"]).pick_file(
        move |path| {
            let _ = sender.send(path);
        },
    );
    let chosen = receiver.await.map_err(|_| AppError::internal("the file dialog closed without an answer"))?;
    let chosen = chosen
        .map(|path| path.into_path())
        .transpose()
        .map_err(|error| AppError::internal(format!("the chosen file has no path: {error}")))?;
    Ok(chosen.map(|path| {
        app.state::<AppState>().chosen_files.remember(&path);
        path.display().to_string()
    }))
}

/// Blocking file reads off the async workers.
async fn with_file<T: Send + 'static>(
    state: State<'_, AppState>,
    path: String,
    work: fn(&crate::account::Account, &std::path::Path) -> Result<T>,
) -> Result<T> {
    state.chosen_files.check(&path)?;
    let account = state.access.session().await?.account;
    tokio::task::spawn_blocking(move || work(&account, &PathBuf::from(path)))
        .await
        .map_err(|error| AppError::internal(format!("the import stopped: {error}")))?
}

#[tauri::command]
pub async fn preview_people_import(state: State<'_, AppState>, path: String) -> Result<PeopleImport> {
    with_file(state, path, people::import::preview).await
}

#[tauri::command]
pub async fn import_people(state: State<'_, AppState>, path: String) -> Result<PeopleImport> {
    with_file(state, path, people::import::import).await
}
