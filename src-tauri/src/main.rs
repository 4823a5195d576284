//! The Unloc Desk executable; everything lives in the library.

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    unloc_desk::run();
}
