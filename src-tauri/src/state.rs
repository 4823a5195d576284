//! What the commands share: access to the session, the settings file and the current settings.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use tauri::{AppHandle, Manager};

use crate::access::Access;
use crate::chosen_files::ChosenFiles;
use crate::error::{AppError, Result};
use crate::settings::{Settings, SettingsFile};
use crate::sync::lock;
use crate::updates::CheckLog;

pub struct AppState {
    pub access: Arc<Access>,
    settings_file: SettingsFile<tauri::Wry>,
    settings: Mutex<Settings>,
    /// A problem found while starting (damaged settings), told to the UI once (by the start-up begun
    /// at launch, which was given a copy, or by the first start-up computed on the page's ask).
    startup_problem: Mutex<Option<AppError>>,
    /// The files the user chose in a dialog: the only ones exports write and imports read.
    pub chosen_files: ChosenFiles,
}

impl AppState {
    pub fn new(
        access: Arc<Access>,
        settings_file: SettingsFile<tauri::Wry>,
        settings: Settings,
        startup_problem: Option<AppError>,
    ) -> Self {
        AppState {
            access,
            settings_file,
            settings: Mutex::new(settings),
            startup_problem: Mutex::new(startup_problem),
            chosen_files: ChosenFiles::from_env(),
        }
    }

    pub fn settings(&self) -> Settings {
        lock(&self.settings).clone()
    }

    /// Changes the settings and writes them to disk; on a write failure the change is not kept.
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings> {
        let mut guard = lock(&self.settings);
        let mut next = guard.clone();
        change(&mut next);
        self.settings_file.save(&next)?;
        *guard = next.clone();
        Ok(next)
    }

    pub fn take_startup_problem(&self) -> Option<AppError> {
        lock(&self.startup_problem).take()
    }
}

/// The update checks' log is the `lastUpdateCheck` setting.
pub struct UpdateCheckLog;

impl CheckLog for UpdateCheckLog {
    fn last_check(&self, app: &AppHandle) -> Option<DateTime<Utc>> {
        app.state::<AppState>().settings().last_update_check
    }

    fn record_check(&self, app: &AppHandle, at: DateTime<Utc>) {
        if let Err(error) = app.state::<AppState>().update_settings(|settings| settings.last_update_check = Some(at)) {
            log::warn!("could not remember the update check: {error}");
        }
    }
}
