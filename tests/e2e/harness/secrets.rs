//! Where the API token may and may not be: the real keychain, and the audit of IPC replies and files.

use std::path::Path;

use fantoccini::Client;
use serde_json::json;

use super::{ensure, ensure_eq, files_under, TestResult};

/// The keychain service the app files tokens under (src-tauri/src/secrets.rs).
const KEYCHAIN_SERVICE: &str = "no.unlocdesk.desktop";

/// The keychain account of the simulator's partner at the simulator's address (`secrets::token_account`).
fn token_account(sim: &unloc_sim::Simulator) -> String {
    format!("{} {}", sim.partner_id(), sim.api_base())
}

pub fn keychain_token(sim: &unloc_sim::Simulator) -> Option<String> {
    keyring::Entry::new(KEYCHAIN_SERVICE, &token_account(sim)).ok()?.get_password().ok()
}

pub fn forget_token(sim: &unloc_sim::Simulator) {
    if let Ok(entry) = keyring::Entry::new(KEYCHAIN_SERVICE, &token_account(sim)) {
        let _ = entry.delete_credential();
    }
}

/// Records every IPC reply and rejection the page receives, for the secrets audit.
pub async fn record_ipc(client: &Client) -> TestResult {
    let installed = client
        .execute(
            "const original = window.__TAURI__; const invoke = original.core.invoke.bind(original.core); window.__ipcLog = []; \
             const recorded = async (command, args) => { \
               try { const reply = await invoke(command, args); window.__ipcLog.push(JSON.stringify([command, reply])); return reply; } \
               catch (error) { window.__ipcLog.push(JSON.stringify([command, error])); throw error; } }; \
             /* Tauri's objects are frozen: put a copy with the recording invoke in their place. */ \
             window.__TAURI__ = { ...original, core: { ...original.core, invoke: recorded } }; \
             return window.__TAURI__.core.invoke === recorded;",
            vec![],
        )
        .await?;
    ensure_eq!(installed, json!(true), "could not record the IPC replies");
    Ok(())
}

/// The token must not be in any IPC reply, nor in any file the app wrote, nor in its log.
pub async fn audit_secrets(client: &Client, home: &Path, token: &str) -> TestResult {
    let log = client.execute("return window.__ipcLog ?? null", vec![]).await?;
    let replies: Vec<String> = serde_json::from_value(log)?;
    ensure!(!replies.is_empty(), "no IPC replies were recorded");
    for reply in &replies {
        ensure!(!reply.contains(token), "an IPC reply carries the token: {reply:.120}");
    }
    let files = files_under(home);
    ensure!(files.iter().any(|file| file.ends_with("app.log")), "no app log to audit");
    ensure!(
        files.iter().any(|file| file.extension().is_some_and(|ext| ext == "sqlite3")),
        "no local database to audit: {files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file)?;
        let found = bytes.windows(token.len()).any(|window| window == token.as_bytes());
        ensure!(!found, "the token is in {}", file.display());
    }
    #[allow(clippy::print_stderr)] // the audit's figures belong in the test output
    {
        eprintln!(
            "secrets audit: {} IPC replies and {} files (data, config, cache, log): no token",
            replies.len(),
            files.len()
        );
    }
    Ok(())
}
