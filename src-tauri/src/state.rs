//! What the commands share: the session, the settings file and the current settings.

use std::sync::Mutex;

use crate::error::{AppError, Result};
use crate::session::Sessions;
use crate::settings::{Settings, SettingsFile};

pub struct AppState {
    pub sessions: Sessions,
    settings_file: SettingsFile<tauri::Wry>,
    settings: Mutex<Settings>,
    /// A problem found while starting (damaged settings), told to the UI once.
    startup_problem: Mutex<Option<AppError>>,
}

impl AppState {
    pub fn new(
        sessions: Sessions,
        settings_file: SettingsFile<tauri::Wry>,
        settings: Settings,
        startup_problem: Option<AppError>,
    ) -> Self {
        AppState {
            sessions,
            settings_file,
            settings: Mutex::new(settings),
            startup_problem: Mutex::new(startup_problem),
        }
    }

    pub fn settings(&self) -> Settings {
        self.settings.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// Changes the settings and writes them to disk; on a write failure the change is not kept.
    pub fn update_settings(&self, change: impl FnOnce(&mut Settings)) -> Result<Settings> {
        let mut guard = self.settings.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut next = guard.clone();
        change(&mut next);
        self.settings_file.save(&next)?;
        *guard = next.clone();
        Ok(next)
    }

    pub fn take_startup_problem(&self) -> Option<AppError> {
        self.startup_problem.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take()
    }
}
