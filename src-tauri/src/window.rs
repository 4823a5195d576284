//! The one window: a second start of the app brings it forward instead of opening another, it
//! comes back at the size and place it was left (written down shortly after each move and again
//! at closing), and a polite request to stop (SIGTERM, as at log-out) closes it like its close
//! button.

use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime, WindowEvent};
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// The label of the app's window (tauri.conf.json).
const MAIN_WINDOW: &str = "main";

#[cfg(target_os = "linux")]
mod one_instance;

/// Opens the desktop's display for the window, or says why it cannot: started outside a desktop
/// session (over SSH, from a service) or with a display that no longer answers. Without this the
/// windowing library stops the app with a panic and a backtrace, which tells nobody what to do.
pub fn open_display() -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        // The same initialisation the window's event loop runs; a second call there is a no-op.
        gtk::init().map_err(|error| error.to_string())
    }
    #[cfg(not(target_os = "linux"))]
    {
        Ok(())
    }
}

/// The display settings a failed [`open_display`] names, so the log says which display was tried.
pub fn display_settings() -> String {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .map(|name| match std::env::var(name) {
            Ok(value) => format!("{name}={value}"),
            Err(_) => format!("{name} not set"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// This start's hold on being the one instance, from [`claim_one_instance`] to [`OneInstance::give_up`].
pub struct OneInstance {
    #[cfg(target_os = "linux")]
    instance: Option<one_instance::Instance>,
}

/// One instance per desktop session. On Linux the name is claimed on the session bus before
/// anything else starts, and a second start asks the first to bring its window forward and ends
/// here, before it opens a window of its own. Elsewhere the single-instance plugin does the same
/// ([`single_instance`]).
pub fn claim_one_instance(identifier: &str) -> OneInstance {
    #[cfg(target_os = "linux")]
    {
        let scope = instance_scope(cfg!(debug_assertions), std::env::var_os("XDG_DATA_HOME"));
        let name = format!("{}.Instance", scope.as_deref().unwrap_or(identifier));
        match one_instance::claim(&name) {
            one_instance::Claim::First(instance) => OneInstance { instance: Some(instance) },
            one_instance::Claim::Second => {
                log::info!("Unloc Desk is already running: its window was brought forward");
                std::process::exit(0);
            }
            one_instance::Claim::NoBus(problem) => {
                log::warn!("cannot check for another running Unloc Desk, starting anyway: {problem}");
                OneInstance { instance: None }
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = identifier;
        OneInstance {}
    }
}

impl OneInstance {
    /// From now on a second start brings this app's window forward.
    pub fn answer<R: Runtime>(&self, app: &AppHandle<R>) {
        #[cfg(target_os = "linux")]
        if let Some(instance) = &self.instance {
            let app = app.clone();
            instance.answer(move || bring_forward(&app));
        }
        #[cfg(not(target_os = "linux"))]
        let _ = app;
    }

    /// Gives up being the one instance as soon as the app decides to close, instead of at the
    /// very end of its shutdown: a start in the second after closing would otherwise ask an
    /// instance that is going away (and vanish with it), where now it becomes the new instance.
    pub fn give_up<R: Runtime>(&self, app: &AppHandle<R>) {
        #[cfg(target_os = "linux")]
        {
            let _ = app;
            if let Some(instance) = &self.instance {
                instance.release();
            }
        }
        #[cfg(not(target_os = "linux"))]
        tauri_plugin_single_instance::destroy(app);
    }
}

/// Outside Linux: the single-instance plugin, which a second start hands its arguments to before
/// it exits. Registered before every other plugin, so a second start does nothing else first.
#[cfg(not(target_os = "linux"))]
pub fn single_instance<R: Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_single_instance::Builder::new().callback(|app, _args, _cwd| bring_forward(app)).build()
}

/// Which starts count as the same app. On Linux the instance owns a D-Bus name on the session bus,
/// the app identifier in a release build: one instance per desktop session. Debug
/// builds add their data folder: the end-to-end suite, the demo, the install test and a benchmark
/// each run with their own XDG folders and may share one session bus, and must not take each
/// other for a second start; two starts with the same folders still meet. `None`: the identifier.
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

/// How long the window must stay put before its new place is written down: a drag sends a move
/// for every pixel, and one write per pause is enough.
const PLACE_SAVE_PAUSE: Duration = Duration::from_millis(400);

/// Writes the window's size and place to disk shortly after it is moved or resized, not only when
/// the app closes: a crash then loses nothing, and a stop that arrives before the closing code has
/// seen the last move still finds it saved. (The plugin writes the file in place, not through a
/// rename: a power cut in the middle of a write can still leave it unreadable, and the window then
/// opens at its default place.)
pub fn save_place_as_it_changes<R: Runtime>(app: &AppHandle<R>) {
    let Some(window) = app.get_webview_window(MAIN_WINDOW) else {
        return;
    };
    let changes = Arc::new(AtomicU64::new(0));
    let app = app.clone();
    window.on_window_event(move |event| {
        if !matches!(event, WindowEvent::Moved(_) | WindowEvent::Resized(_)) {
            return;
        }
        let this_change = changes.fetch_add(1, Ordering::SeqCst) + 1;
        let changes = Arc::clone(&changes);
        let app = app.clone();
        tauri::async_runtime::spawn(async move {
            tokio::time::sleep(PLACE_SAVE_PAUSE).await;
            if changes.load(Ordering::SeqCst) != this_change {
                return; // a later change saves
            }
            // On the window's own thread: the plugin holds its lock on the remembered places while it
            // asks the window for its size and place, and its move and close handlers take that lock on
            // the window's thread. Asked from here, a move arriving mid-save would wait for the lock
            // while the save waited for the window thread, for ever.
            let saver = app.clone();
            let asked = app.run_on_main_thread(move || {
                if let Err(error) = saver.save_window_state(StateFlags::all()) {
                    log::warn!("could not save the window's size and place: {error}");
                }
            });
            if let Err(error) = asked {
                log::warn!("could not save the window's size and place: {error}");
            }
        });
    });
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
