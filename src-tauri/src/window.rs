//! The one window: a second start of the app brings it forward instead of opening another, it
//! comes back at the size and place it was left, and a polite request to stop (SIGTERM, as at
//! log-out) closes it like its close button, so that size and place are saved.

use std::hash::{Hash, Hasher};

use tauri::{AppHandle, Manager, Runtime};

/// The label of the app's window (tauri.conf.json).
const MAIN_WINDOW: &str = "main";

/// One instance per desktop session: the single-instance plugin, which a second start hands its
/// arguments to before it exits. Registered before every other plugin, so a second start does
/// nothing else first.
pub fn single_instance<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    let mut builder = tauri_plugin_single_instance::Builder::new().callback(|app, _args, _cwd| bring_forward(app));
    if let Some(scope) = instance_scope(cfg!(debug_assertions), std::env::var_os("XDG_DATA_HOME")) {
        builder = builder.dbus_id(scope);
    }
    builder.build()
}

/// Which starts count as the same app. On Linux the plugin owns a D-Bus name made of the app
/// identifier on the session bus, so a release build is one instance per desktop session. Debug
/// builds add their data folder: the end-to-end suite, the demo, the install test and a benchmark
/// each run with their own XDG folders and may share one session bus, and must not take each
/// other for a second start; two starts with the same folders still meet. `None`: the plugin's
/// default (the identifier).
pub fn instance_scope(debug_build: bool, data_home: Option<std::ffi::OsString>) -> Option<String> {
    if !debug_build {
        return None;
    }
    let mut hasher = std::hash::DefaultHasher::new();
    data_home.hash(&mut hasher);
    Some(format!("no.unlocdesk.desktop.dev{:016x}", hasher.finish()))
}

/// Remembers the window's size, place and state between runs (tauri-plugin-window-state).
pub fn remembered_place<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_window_state::Builder::default().build()
}

/// Gives up the one-instance name as soon as the app decides to close, instead of at the very end
/// of its shutdown: a start in the second after closing would otherwise hand its arguments to an
/// instance that is going away (and either vanish with it or fail with "NoReply"), where now it
/// becomes the new instance.
pub fn give_up_instance_lock<R: Runtime>(app: &AppHandle<R>) {
    tauri_plugin_single_instance::destroy(app);
}

fn bring_forward<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        return;
    };
    for result in [window.unminimize(), window.show(), window.set_focus()] {
        if let Err(error) = result {
            log::info!("could not bring the window forward: {error}");
        }
    }
}

/// SIGTERM ends the app the orderly way (plugins save their state, the instance lock is given up)
/// instead of the default of dying on the spot.
pub fn exit_on_terminate<R: Runtime>(app: AppHandle<R>) {
    #[cfg(unix)]
    tauri::async_runtime::spawn(async move {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut terminate) => {
                if terminate.recv().await.is_some() {
                    log::info!("asked to stop: closing");
                    app.exit(0);
                }
            }
            Err(error) => log::warn!("cannot listen for SIGTERM: {error}"),
        }
    });
    #[cfg(not(unix))]
    drop(app);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_release_build_is_one_instance_per_session_and_a_debug_build_one_per_data_folder() {
        assert_eq!(instance_scope(false, Some("/home/a/.local/share".into())), None);
        let one = instance_scope(true, Some("/tmp/e2e-one/data".into())).unwrap();
        let two = instance_scope(true, Some("/tmp/e2e-two/data".into())).unwrap();
        assert_ne!(one, two);
        assert_eq!(Some(one.clone()), instance_scope(true, Some("/tmp/e2e-one/data".into())));
        // A D-Bus name: dot-separated elements of letters, digits and _ or -, none starting with a digit.
        for element in one.split('.') {
            assert!(element.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-'), "{one}");
            assert!(!element.starts_with(|c: char| c.is_ascii_digit()), "{one}");
        }
    }
}
