//! Generates Tauri's context and the permissions of the app's own commands.

fn main() {
    // Declaring the commands makes each one a permission, so the capability file can
    // grant the UI exactly these and nothing else.
    let manifest = tauri_build::AppManifest::new().commands(&[
        "get_startup",
        "sign_in",
        "sign_out",
        "list_locks",
        "list_events",
        "cached_locks",
        "cached_events",
        "list_keys",
        "create_key",
        "revoke_key",
        "refresh_keys",
        "add_key",
        "list_people",
        "save_person",
        "delete_person",
        "person_page",
        "revoke_keys",
        "choose_import_file",
        "preview_people_import",
        "import_people",
        "set_language",
        "activity_page",
        "activity_sync_status",
        "set_activity_sync_paused",
        "set_keep_history",
        "delete_local_history",
        "get_team_settings",
        "test_team_connection",
        "save_team_settings",
        "get_team_status",
        "check_for_update",
        "install_update",
        "choose_export_path",
        "export_lock_history",
        "export_keys",
        "export_activity",
        "export_visits",
        "visits_report",
    ]);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest)).expect("tauri build step failed");
}
