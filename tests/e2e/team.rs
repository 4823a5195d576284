//! Settings → Team against the throwaway PostgreSQL server of tests/scripts/with-postgres.sh: a wrong
//! password and a missing database named in plain words, a working connection tested and saved, and
//! the password kept in the keychain only — in no IPC reply, file or log line.

use std::process::Command;

use unloc_sim::SimConfig;

use crate::harness::*;

/// The throwaway server's address and superuser, as with-postgres.sh exports them.
struct Server {
    port: String,
    ca_file: String,
    admin_user: String,
    admin_password: String,
}

fn server() -> TestResult<Server> {
    let var = |name: &str| {
        std::env::var(name)
            .map_err(|_| format!("{name} is not set: run the end-to-end suite inside tests/scripts/with-postgres.sh"))
    };
    Ok(Server {
        port: var("UNLOC_PG_PORT")?,
        ca_file: var("UNLOC_PG_CA_FILE")?,
        admin_user: var("UNLOC_PG_ADMIN_USER")?,
        admin_password: var("UNLOC_PG_ADMIN_PASSWORD")?,
    })
}

impl Server {
    /// What the README's snippet does: a role with a password, and a database it owns (made anew
    /// if an earlier run on this server left them).
    fn create_office(&self, role: &str, password: &str, database: &str) -> TestResult {
        for sql in [
            format!("DROP DATABASE IF EXISTS {database}"),
            format!("DROP ROLE IF EXISTS {role}"),
            format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'"),
            format!("CREATE DATABASE {database} OWNER {role}"),
        ] {
            let out = Command::new("psql")
                .args([
                    "-h",
                    "127.0.0.1",
                    "-p",
                    &self.port,
                    "-U",
                    &self.admin_user,
                    "-d",
                    "postgres",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-qc",
                    &sql,
                ])
                .env("PGPASSWORD", &self.admin_password)
                .output()?;
            ensure!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(())
    }
}

async fn test_connection_says(client: &fantoccini::Client, css: &str, words: &str) -> TestResult {
    click(client, "#team-test").await?;
    let script = format!(
        "const box = document.querySelector('{css}'); return !document.querySelector('#team-test').disabled && box.textContent.includes({words:?})"
    );
    wait_for_js(client, words, &script).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_team_tests_saves_and_keeps_the_password_in_the_keychain_only() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() };
    scenario("team", config)
        .audit_secrets_after_close()
        .sessions(async |scenario| {
            let server = server()?;
            // The names of the README's snippet; the password new for each run.
            let (role, database) = ("unloc_desk", "unloc_desk");
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
            let password = format!("team-pw-{}-{nanos:08x}-Zq8", std::process::id());
            server.create_office(role, &password, database)?;
            scenario
                .run(async |client, scenario| {
                    sign_in_recording_ipc(client, scenario.sim.token()).await?;
                    click(client, "#nav-settings").await?;
                    wait_visible(client, "#settings-view").await?;
                    ensure!(
                        !client.find(Locator::Css("#team-enabled")).await?.is_selected().await?,
                        "sharing is off at first"
                    );
                    click(client, "#team-enabled").await?;
                    fill(client, "#team-port", &server.port).await?;
                    fill(client, "#team-database", database).await?;
                    fill(client, "#team-user", role).await?;
                    // Another computer without TLS: refused before anything is sent.
                    fill(client, "#team-host", "192.0.2.2").await?;
                    choose(client, "#team-tls", "off").await?;
                    fill(client, "#team-password", &password).await?;
                    test_connection_says(client, "#team-error", "Encryption is required").await?;

                    // On this computer TLS may be off.
                    fill(client, "#team-host", "127.0.0.1").await?;
                    fill(client, "#team-password", "not-the-password").await?;
                    test_connection_says(client, "#team-error", "Wrong user name or password").await?;
                    fill(client, "#team-database", "unloc_desk_missing").await?;
                    fill(client, "#team-password", &password).await?;
                    test_connection_says(client, "#team-error", "There is no database of that name on the server")
                        .await?;
                    fill(client, "#team-database", database).await?;
                    test_connection_says(client, "#team-status", "Connected. The team database is ready").await?;

                    // As an office sets it up: TLS, the certificate checked against the CA the IT person gave.
                    fill(client, "#team-host", "localhost").await?;
                    choose(client, "#team-tls", "verify-full").await?;
                    fill(client, "#team-ca-file", &server.ca_file).await?;
                    test_connection_says(client, "#team-status", "Connected. The team database is ready").await?;
                    click(client, "#team-save").await?;
                    wait_for_js(
                        client,
                        "saved",
                        "return document.querySelector('#team-status').textContent === 'Saved.'",
                    )
                    .await?;
                    let hint = visible_text(client, "#team-password-hint").await?;
                    ensure!(hint.contains("A password is saved"), "the form says a password is kept: {hint}");
                    let field: String =
                        client.find(Locator::Css("#team-password")).await?.prop("value").await?.unwrap_or_default();
                    ensure!(field.is_empty(), "the password field is emptied after saving");
                    let account = format!("team-database {role}@localhost:{}/{database}", server.port);
                    ensure_eq!(
                        keychain_secret(&account).as_deref(),
                        Some(password.as_str()),
                        "the keychain holds the password"
                    );

                    // Tested again with the kept password (the field empty): the keychain's is used.
                    test_connection_says(client, "#team-status", "Connected. The team database is ready").await?;
                    client
                        .execute("document.querySelector('#team-settings').scrollIntoView({block: 'start'})", vec![])
                        .await?;
                    screenshot(client, "view-settings-team").await?;
                    audit_secrets(client, &scenario.home, &password).await?;
                    let settings = std::fs::read_to_string(find_settings_file(&scenario.home)?)?;
                    ensure!(
                        settings.contains(&server.ca_file) && !settings.contains(&password),
                        "the settings file names the CA file, never the password"
                    );
                    Ok(())
                })
                .await?;
            // What the app wrote while closing counts too.
            let files = audit_files(&scenario.home, &password)?;
            #[allow(clippy::print_stderr)] // the audit's figures belong in the test output
            {
                eprintln!(
                    "team password audit after the app closed: {files} files, no password in UTF-8, UTF-16 or base64"
                );
            }
            Ok(())
        })
        .await
}

/// Picks `value` in a <select> (options have no box of their own to click reliably).
async fn choose(client: &fantoccini::Client, select: &str, value: &str) -> TestResult {
    client.find(Locator::Css(&format!("{select} option[value=\"{value}\"]"))).await?.click().await?;
    Ok(())
}

/// The app's settings file (tauri-plugin-store's settings.json under the app's data folder).
fn find_settings_file(home: &std::path::Path) -> TestResult<std::path::PathBuf> {
    files_under(home)
        .into_iter()
        .find(|file| file.file_name().is_some_and(|name| name == "settings.json"))
        .ok_or_else(|| "no settings.json under the scenario's home".into())
}
