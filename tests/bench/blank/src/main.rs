//! A blank Tauri 2 app: one window, one static page, no plugins — what the benchmark compares Unloc Desk with.

// No console window behind the app on Windows release builds, as for the app.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    if let Err(error) = tauri::Builder::default().run(tauri::generate_context!()) {
        log_and_exit(&error);
    }
}

/// The blank app has no logger (that would be one more thing the app has and it has not).
#[allow(clippy::print_stderr)]
fn log_and_exit(error: &tauri::Error) {
    eprintln!("blank app could not start: {error}");
    std::process::exit(1);
}
