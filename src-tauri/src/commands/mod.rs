//! Thin `#[tauri::command]` adapters, grouped by area. Each calls one domain function.

pub mod activity;
pub mod export;
pub mod keys;
pub mod locks;
pub mod people;
pub mod session;
pub mod settings;
pub mod team;
pub mod updates;
