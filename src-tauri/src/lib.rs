//! Unloc Desk: a desktop app for Unloc partners' office staff — locks, opt-in grants and event history.

pub mod access;
pub mod account;
pub mod activity;
pub mod api;
mod catalog;
mod chosen_files;
mod commands;
mod drawing;
pub mod environment;
pub mod error;
pub mod export;
pub mod key_store;
pub mod keys;
pub mod locks;
mod notify;
pub mod people;
pub mod phone;
pub mod secrets;
pub mod session;
pub mod settings;
mod state;
pub mod store;
pub mod sync;
pub mod team;
mod timing;
mod updates;
pub mod views;
mod window;

use std::sync::Arc;

use tauri::Manager;

use crate::access::Access;
use crate::activity::sync::{Retention, SyncPolicy};
use crate::environment::EnvDefaults;
use crate::keys::follow::FollowPolicy;
use crate::notify::ShellObserver;
use crate::secrets::{KeyringStore, KEYCHAIN_SERVICE};
use crate::settings::SettingsFile;
use crate::state::{AppState, UpdateCheckLog};

/// Starts the app: plugins, state, commands.
pub fn run() {
    timing::since_launch();
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|out, record| {
            use std::io::Write;
            let at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
            writeln!(out, "[{at} {:<5} {}] {}", record.level(), record.target(), record.args())
        })
        .init();
    // One line at every start: it marks where a run begins in a log, and the end-to-end secrets audit
    // (tests/e2e/harness/secrets.rs) looks for it to know the log it searches is the app's own.
    log::info!("Unloc Desk {} starting", env!("CARGO_PKG_VERSION"));
    drawing::choose_for_this_machine();
    let context = tauri::generate_context!();
    let one_instance = Arc::new(window::claim_one_instance(&context.config().identifier));
    log::debug!(target: timing::TIMING, "launch: one instance claimed after {:.1} ms", timing::ms(timing::since_launch()));
    // After the claim: a second start hands over to the running window without a display of its own.
    if let Err(why) = window::open_display() {
        log::error!(
            "Unloc Desk could not open its window: the desktop's display could not be opened ({why}; {}). \
             Start Unloc Desk from a desktop session, or set DISPLAY to a display that is running.",
            window::display_settings()
        );
        std::process::exit(1);
    }
    log::debug!(target: timing::TIMING, "launch: the display opened after {:.1} ms", timing::ms(timing::since_launch()));
    let builder = tauri::Builder::default();
    #[cfg(not(target_os = "linux"))]
    let builder = builder.plugin(window::single_instance());
    let answering = Arc::clone(&one_instance);
    let result = builder
        .plugin(window::remembered_place())
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_dialog::init())
        .manage(updates::PendingUpdate::default())
        .setup(move |app| {
            log::debug!(target: timing::TIMING, "launch: setup began after {:.1} ms", timing::ms(timing::since_launch()));
            answering.answer(app.handle());
            let (settings_file, settings, problem) = SettingsFile::open(app.handle())?;
            let accounts_dir = app.path().app_data_dir()?.join("accounts");
            let access = Access::new(Arc::new(KeyringStore::new(KEYCHAIN_SERVICE)), EnvDefaults::from_env())
                .with_store_dir(accounts_dir)
                .with_key_follow_up(Arc::new(ShellObserver::new(app.handle().clone())), FollowPolicy::default())
                .with_archive_sync(SyncPolicy::default(), Retention(settings.keep_history_months));
            let access = Arc::new(access);
            // The silent sign-in runs while WebKit starts the page; the page's first get_startup
            // takes its reply (docs/benchmarks.md, cold start to cached locks).
            access.start_early(tauri::async_runtime::handle().inner(), settings.clone(), problem.clone());
            app.manage(AppState::new(access, settings_file, settings, problem));
            updates::spawn_background_checks(app.handle().clone(), UpdateCheckLog);
            window::exit_on_terminate(app.handle().clone());
            window::save_place_as_it_changes(app.handle());
            log::debug!(target: timing::TIMING, "launch: setup done after {:.1} ms", timing::ms(timing::since_launch()));
            Ok(())
        })
        .on_page_load(|_, payload| {
            log::debug!(
                target: timing::TIMING,
                "launch: the page's load {:?} after {:.1} ms",
                payload.event(),
                timing::ms(timing::since_launch())
            );
        })
        .invoke_handler(tauri::generate_handler![
            commands::session::get_startup,
            commands::session::sign_in,
            commands::session::sign_out,
            commands::locks::list_locks,
            commands::locks::list_events,
            commands::locks::cached_locks,
            commands::locks::cached_events,
            commands::keys::list_keys,
            commands::keys::create_key,
            commands::keys::revoke_key,
            commands::keys::refresh_keys,
            commands::keys::add_key,
            commands::people::list_people,
            commands::people::save_person,
            commands::people::delete_person,
            commands::people::person_page,
            commands::people::revoke_keys,
            commands::people::choose_import_file,
            commands::people::preview_people_import,
            commands::people::import_people,
            commands::settings::set_language,
            commands::activity::activity_page,
            commands::activity::activity_sync_status,
            commands::activity::set_activity_sync_paused,
            commands::activity::set_keep_history,
            commands::activity::delete_local_history,
            commands::team::get_team_settings,
            commands::team::test_team_connection,
            commands::team::save_team_settings,
            commands::team::get_team_status,
            commands::updates::check_for_update,
            commands::updates::install_update,
            commands::export::choose_export_path,
            commands::export::export_lock_history,
            commands::export::export_keys,
            commands::export::export_activity,
            commands::export::export_visits,
            commands::export::visits_report,
        ])
        .build(context);
    match result {
        Ok(app) => app.run(move |app, event| {
            if let tauri::RunEvent::ExitRequested { .. } = event {
                one_instance.give_up(app);
            }
        }),
        Err(error) => {
            log::error!("Unloc Desk could not start: {error}");
            std::process::exit(1);
        }
    }
}
