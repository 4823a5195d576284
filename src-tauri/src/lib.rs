//! Unloc Desk: a desktop app for Unloc partners' office staff — locks, opt-in grants and event history.

pub mod api;
mod commands;
pub mod error;
pub mod secrets;
pub mod session;
pub mod settings;
mod state;

use std::sync::Arc;

use tauri::Manager;

use crate::secrets::{KeyringStore, KEYCHAIN_SERVICE};
use crate::session::{EnvDefaults, Sessions};
use crate::settings::SettingsFile;
use crate::state::AppState;

/// Starts the app: plugins, state, commands.
pub fn run() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_store::Builder::new().build())
        .setup(|app| {
            let (settings_file, settings, problem) = SettingsFile::open(app.handle())?;
            let sessions = Sessions::new(Arc::new(KeyringStore::new(KEYCHAIN_SERVICE)), EnvDefaults::from_env());
            app.manage(AppState::new(sessions, settings_file, settings, problem));
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            commands::session::get_startup,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::locks::list_locks,
            commands::locks::list_events,
            commands::settings::set_language,
        ])
        .run(tauri::generate_context!());
    if let Err(error) = result {
        log::error!("Unloc Desk could not start: {error}");
        std::process::exit(1);
    }
}
