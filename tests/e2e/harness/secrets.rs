//! Where the API token may and may not be: the real keychain, and the audit of IPC replies, Tauri
//! events and files — in every form the token could be written in (UTF-8, UTF-16, base64).

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

/// The events the app sends to the window (src-tauri/src/notify.rs, src-tauri/src/updates.rs).
const APP_EVENTS: [&str; 2] = ["keys-changed", "update-available"];

pub fn keychain_token(sim: &unloc_sim::Simulator) -> Option<String> {
    keyring::Entry::new(KEYCHAIN_SERVICE, &token_account(sim)).ok()?.get_password().ok()
}

/// Any other secret the app keeps in the keychain under `account` (the team database's password).
pub fn keychain_secret(account: &str) -> Option<String> {
    keyring::Entry::new(KEYCHAIN_SERVICE, account).ok()?.get_password().ok()
}

pub fn forget_token(sim: &unloc_sim::Simulator) {
    if let Ok(entry) = keyring::Entry::new(KEYCHAIN_SERVICE, &token_account(sim)) {
        let _ = entry.delete_credential();
    }
}

/// The line the app writes to its log at every start (src-tauri/src/lib.rs): proof that `app.log`
/// holds the app's own output, so searching it for the token means something.
pub fn app_start_line() -> String {
    format!("Unloc Desk {} starting", env!("CARGO_PKG_VERSION"))
}

/// Records every IPC reply and rejection the page receives and every app event it is sent, for the
/// secrets audit. The page asked for `get_startup` before this could be installed, so it is asked
/// once more here, through the recorder.
pub async fn record_ipc(client: &Client) -> TestResult {
    let installed = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; const events = arguments[0]; \
             const original = window.__TAURI__; const invoke = original.core.invoke.bind(original.core); window.__ipcLog = []; \
             const recorded = async (command, args) => { \
               try { const reply = await invoke(command, args); window.__ipcLog.push(JSON.stringify([command, reply])); return reply; } \
               catch (error) { window.__ipcLog.push(JSON.stringify([command, error])); throw error; } }; \
             /* Tauri's objects are frozen: put a copy with the recording invoke in their place. */ \
             window.__TAURI__ = { ...original, core: { ...original.core, invoke: recorded } }; \
             Promise.all(events.map((name) => original.event.listen(name, (event) => \
                 window.__ipcLog.push(JSON.stringify(['event ' + name, event.payload]))))) \
               .then(() => recorded('get_startup')) \
               .then(() => done(window.__TAURI__.core.invoke === recorded), (error) => done(String(error)));",
            vec![json!(APP_EVENTS)],
        )
        .await?;
    ensure_eq!(installed, json!(true), "could not record the IPC replies and events");
    Ok(())
}

/// Every IPC reply and event recorded since `record_ipc`.
pub async fn recorded_ipc(client: &Client) -> TestResult<Vec<String>> {
    let log = client.execute("return window.__ipcLog ?? null", vec![]).await?;
    ensure!(!log.is_null(), "the IPC replies were not recorded: call record_ipc first");
    Ok(serde_json::from_value(log)?)
}

/// The forms the token could take in a file or a reply: as it is, UTF-16 both ways, and base64 (both
/// alphabets) at each of the three alignments it could start at inside a longer encoded text.
pub fn token_forms(token: &str) -> Vec<(String, Vec<u8>)> {
    let mut forms = vec![("UTF-8".to_owned(), token.as_bytes().to_vec())];
    forms.push(("UTF-16LE".to_owned(), token.encode_utf16().flat_map(u16::to_le_bytes).collect()));
    forms.push(("UTF-16BE".to_owned(), token.encode_utf16().flat_map(u16::to_be_bytes).collect()));
    for offset in 0..3 {
        let mut bytes = vec![0u8; offset];
        bytes.extend_from_slice(token.as_bytes());
        let encoded = base64(&bytes);
        // Only the groups made of token bytes alone are the same whatever surrounds the token.
        let first_group = usize::from(offset > 0);
        let full_groups = bytes.len() / 3;
        let core = &encoded[first_group * 4..full_groups * 4];
        forms.push((format!("base64 (offset {offset})"), core.as_bytes().to_vec()));
        let url_safe = core.replace('+', "-").replace('/', "_");
        if url_safe != core {
            forms.push((format!("base64url (offset {offset})"), url_safe.into_bytes()));
        }
    }
    forms
}

/// Standard base64 with padding (RFC 4648), enough to know what an encoded token looks like.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let group = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let bits = (u32::from(group[0]) << 16) | (u32::from(group[1]) << 8) | u32::from(group[2]);
        for index in 0..4 {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[((bits >> (18 - 6 * index)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The first form of the token found in `haystack`.
fn token_in(haystack: &[u8], forms: &[(String, Vec<u8>)]) -> Option<String> {
    forms
        .iter()
        .find(|(_, form)| haystack.windows(form.len()).any(|window| window == form.as_slice()))
        .map(|(name, _)| name.clone())
}

/// The token must not be in any IPC reply or event the page received, nor in any file the app wrote,
/// nor in its log (see [`audit_files`]).
pub async fn audit_secrets(client: &Client, home: &Path, token: &str) -> TestResult {
    let replies = recorded_ipc(client).await?;
    ensure!(
        replies.iter().any(|reply| reply.starts_with("[\"get_startup\",")),
        "the get_startup reply was not recorded: {replies:?}"
    );
    let forms = token_forms(token);
    for reply in &replies {
        if let Some(form) = token_in(reply.as_bytes(), &forms) {
            return Err(format!("an IPC reply or event carries the token ({form}): {reply:.120}").into());
        }
    }
    let files = audit_files(home, token)?;
    #[allow(clippy::print_stderr)] // the audit's figures belong in the test output
    {
        eprintln!(
            "secrets audit: {} IPC replies and events and {files} files (data, config, cache, log): no token in UTF-8, UTF-16 or base64",
            replies.len(),
        );
    }
    Ok(())
}

/// The token must not be in any file below `home` — the app's data, config and cache folders and its
/// log — in any of its forms. The log must hold the app's own start line (else searching it proves
/// nothing). Returns how many files were read.
pub fn audit_files(home: &Path, token: &str) -> TestResult<usize> {
    let files = files_under(home);
    let log = std::fs::read_to_string(home.join("app.log")).unwrap_or_default();
    ensure!(
        log.contains(&app_start_line()),
        "the app log does not hold the app's own output ({:?} missing)",
        app_start_line()
    );
    ensure!(
        files.iter().any(|file| file.extension().is_some_and(|ext| ext == "sqlite3")),
        "no local database to audit: {files:?}"
    );
    let forms = token_forms(token);
    let mut read = 0;
    for file in &files {
        let bytes = match std::fs::read(file) {
            Ok(bytes) => bytes,
            // While the app runs, WebKit removes its temporary files now and then: gone is not a leak.
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
            Err(error) => return Err(format!("could not read {}: {error}", file.display()).into()),
        };
        read += 1;
        if let Some(form) = token_in(&bytes, &forms) {
            return Err(format!("the token is in {} ({form})", file.display()).into());
        }
    }
    Ok(read)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_known_values() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn a_token_encoded_inside_a_longer_text_is_found_at_every_alignment() {
        let token = "tok3n-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";
        let forms = token_forms(token);
        for prefix in ["", "a", "ab", "Bearer ", "partner:"] {
            let encoded = base64(format!("{prefix}{token}!").as_bytes());
            assert!(token_in(encoded.as_bytes(), &forms).is_some(), "not found after {prefix:?}: {encoded}");
        }
        let utf16: Vec<u8> = format!("x{token}").encode_utf16().flat_map(u16::to_le_bytes).collect();
        assert!(token_in(&utf16, &forms).is_some());
        assert!(token_in(b"nothing secret here", &forms).is_none());
    }
}
