//! Two desks of one office: two app instances (two homes, two drivers) against one simulator and
//! one team database (tests/scripts/with-postgres.sh's server, reached through a relay this test
//! can cut). A key created on desk A shows on desk B within 2 s, with who created it where; revoked
//! on B, it shows revoked on A within 2 s, with who revoked it where; a person added on B shows in
//! A's open People view; with the database gone both desks say so and keep
//! working, and a key A created meanwhile reaches B once when the database is back. The database
//! password is in no IPC reply, file or log of either desk. And on a desk that shares the office's
//! history: Settings says the office keeps it by the shortest "Keep history for" of all desks, and "Delete all
//! local history" asks apart whether the office's copy goes too, and does as answered.

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::json;
use unloc_sim::{fixtures, SimConfig};

use crate::harness::*;

/// The team database's name, and its role's, as the desks are told them.
const DATABASE: &str = "unloc_desk_office";

/// How soon a change on one desk must show on the other.
const LIVE: Duration = Duration::from_secs(2);

pub(crate) fn pg(var: &str) -> TestResult<String> {
    std::env::var(var)
        .map_err(|_| format!("{var} is not set: run the end-to-end suite inside tests/scripts/with-postgres.sh").into())
}

/// Runs SQL on the throwaway server as its superuser; returns psql's unaligned output.
fn psql(database: &str, sql: &str) -> TestResult<String> {
    let out = Command::new("psql")
        .args(["-h", "127.0.0.1", "-p", &pg("UNLOC_PG_PORT")?, "-U", &pg("UNLOC_PG_ADMIN_USER")?, "-d", database])
        .args(["-v", "ON_ERROR_STOP=1", "-qAtc", sql])
        .env("PGPASSWORD", pg("UNLOC_PG_ADMIN_PASSWORD")?)
        .output()?;
    ensure!(out.status.success(), "psql failed: {}", String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

/// The office's database made anew (an earlier run may have left it); returns its new password.
fn new_office_database() -> TestResult<String> {
    new_team_database(DATABASE)
}

/// A team database and its role, both named `name`, made anew; returns the role's new password.
pub(crate) fn new_team_database(name: &str) -> TestResult<String> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.subsec_nanos();
    let password = format!("office-pw-{}-{nanos:08x}-Kx3", std::process::id());
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!("DROP ROLE IF EXISTS {name}"),
        format!("CREATE ROLE {name} LOGIN PASSWORD '{password}'"),
        format!("CREATE DATABASE {name} OWNER {name}"),
    ] {
        psql("postgres", &sql)?;
    }
    Ok(password)
}

/// A TCP relay in front of the database server: `cut` makes the server vanish for the desks
/// (connections refused, live ones dropped), `restore` brings it back on the same port.
struct Relay {
    port: u16,
    target: u16,
    running: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Relay {
    async fn start(target: u16) -> TestResult<Arc<Relay>> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let relay = Arc::new(Relay { port, target, running: Mutex::new(None) });
        relay.restore()?;
        Ok(relay)
    }

    fn cut(&self) {
        if let Some(task) = self.running.lock().unwrap_or_else(|e| e.into_inner()).take() {
            task.abort();
        }
    }

    fn restore(&self) -> TestResult {
        let socket = tokio::net::TcpSocket::new_v4()?;
        socket.set_reuseaddr(true)?;
        socket.bind(([127, 0, 0, 1], self.port).into())?;
        let listener = socket.listen(64)?;
        let target = self.target;
        let task = tokio::spawn(async move {
            // Aborting this task drops the set, and with it every relayed connection.
            let mut pipes = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                pipes.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(("127.0.0.1", target)).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        });
        *self.running.lock().unwrap_or_else(|e| e.into_inner()) = Some(task);
        Ok(())
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.cut();
    }
}

/// Settings → Team on one desk: the relay's address, TLS off (loopback), the password, this
/// person's name; saved.
async fn join_the_office(client: &Client, port: u16, password: &str, your_name: &str) -> TestResult {
    join_team(client, port, DATABASE, password, your_name).await
}

/// Settings → Team: the database and role `name` at 127.0.0.1:`port`, TLS off (loopback), saved.
pub(crate) async fn join_team(client: &Client, port: u16, name: &str, password: &str, your_name: &str) -> TestResult {
    click(client, "#nav-settings").await?;
    wait_visible(client, "#settings-view").await?;
    click(client, "#team-enabled").await?;
    fill(client, "#team-host", "127.0.0.1").await?;
    fill(client, "#team-port", &port.to_string()).await?;
    fill(client, "#team-database", name).await?;
    fill(client, "#team-user", name).await?;
    client.find(Locator::Css("#team-tls option[value=\"off\"]")).await?.click().await?;
    fill(client, "#team-password", password).await?;
    fill(client, "#team-your-name", your_name).await?;
    click(client, "#team-save").await?;
    wait_for_js(client, "saved", "return document.querySelector('#team-status').textContent === 'Saved.'").await?;
    Ok(())
}

/// Waits until `script` is truthy on `client`, for at most `limit`; returns how long it took.
async fn within(client: &Client, limit: Duration, what: &str, script: &str) -> TestResult<Duration> {
    step(format!("waiting for {what}"));
    let started = Instant::now();
    loop {
        let value = client.execute(script, vec![]).await?;
        if value == json!(true) {
            return Ok(started.elapsed());
        }
        if started.elapsed() > limit {
            return Err(format!("not within {limit:?}: {what} (last {value})").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn row(key_id: &str) -> String {
    format!("#keys-view tr[data-key-id=\"{key_id}\"]")
}

/// A figure for the test output.
#[allow(clippy::print_stderr)] // the scenario's figures belong in the test output
fn report(line: &str) {
    eprintln!("{line}");
}

/// A script: the keys view lists `key_id` (true/false).
fn listed(key_id: &str) -> String {
    format!("return !!document.querySelector('#keys-view tr[data-key-id=\"{key_id}\"]')")
}

/// A script: the key's author line reads `text`.
fn author_reads(key_id: &str, text: &str) -> String {
    format!(
        "return (document.querySelector('#keys-view tr[data-key-id=\"{key_id}\"] .key-author')?.textContent ?? '') === {text:?}"
    )
}

/// A script: one of the key's author lines ("Created by …", "Revoked by …") reads `text`.
fn an_author_line_reads(key_id: &str, text: &str) -> String {
    format!(
        "return [...document.querySelectorAll('#keys-view tr[data-key-id=\"{key_id}\"] .key-author')].some((l) => l.textContent === {text:?})"
    )
}

/// Shows the keys of every state (`all`) or the current ones (`current`) in the keys view.
async fn keys_of_state(client: &Client, state: &str) -> TestResult {
    client
        .execute(
            "const s = document.querySelector('#keys-state'); s.value = arguments[0]; s.dispatchEvent(new Event('change')); return s.value",
            vec![json!(state)],
        )
        .await?;
    Ok(())
}

/// A script: the key shows revoked, or has left the current keys for being revoked.
fn revoked_or_gone(key_id: &str) -> String {
    format!(
        "const r = document.querySelector('#keys-view tr[data-key-id=\"{key_id}\"]'); return !r || r.querySelector('.key-status')?.dataset.status === 'revoked'"
    )
}

/// The team line says team data is not current.
const NOT_CURRENT: &str =
    "const l = document.querySelector('#team-line'); return !l.hidden && l.textContent.includes('Team data not current')";
const CURRENT: &str =
    "const l = document.querySelector('#team-line'); return l.hidden && l.dataset.teamState === 'current'";

async fn keys_view(client: &Client) -> TestResult {
    click(client, "#nav-keys").await?;
    wait_visible(client, "#keys-view").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_share_keys_live_and_catch_up_after_the_database_was_gone() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() };
    scenario("team-desks", config)
        .env("UNLOC_DESK_NAME", "OFFICE-PC-2")
        .sessions(async |scenario| {
            let password = new_office_database()?;
            let relay = Relay::start(pg("UNLOC_PG_PORT")?.parse()?).await?;
            let desk_b = scenario.second_desk("b", &[("UNLOC_DESK_NAME", "OFFICE-PC-3")])?;
            let sim = &scenario.sim;
            scenario
                .run(async |a, scenario| {
                    record_ipc(a).await?;
                    sign_in(a, sim.token()).await?;
                    wait_visible(a, "#locks-view").await?;
                    join_the_office(a, relay.port, &password, "Anna").await?;
                    desk_b
                        .run(async |b| {
                            record_ipc(b).await?;
                            // One computer, one keychain: desk B may find the token A kept and sign in by itself.
                            let asked = wait_for_js(b, "sign-in or the locks", "return document.querySelector('#signin-view') ? 'signin' : document.querySelector('#locks-view') ? 'locks' : null").await?;
                            if asked == json!("signin") {
                                sign_in(b, sim.token()).await?;
                            }
                            wait_visible(b, "#locks-view").await?;
                            join_the_office(b, relay.port, &password, "Bjørn").await?;
                            keys_view(b).await?;

                            // Created on A: on B within 2 s, with who created it where.
                            open_lock(a, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
                            let live = create_key(a, sim, "900 00 031", "+4790000031").await?;
                            let took = within(b, LIVE, "A's key on B", &listed(&live)).await?;
                            let author = "Created by Anna on OFFICE-PC-2";
                            within(b, LIVE, "the author line on B", &author_reads(&live, author)).await?;
                            report(&format!("two desks: a key created on A showed on B after {took:?}"));
                            wait_key_status(b, &live, "active").await?;
                            screenshot(b, "view-keys-second-desk").await?;

                            // Revoked on B: revoked on A within 2 s.
                            keys_view(a).await?;
                            wait_key_status(a, &live, "active").await?;
                            click(b, &format!("{} .key-revoke", row(&live))).await?;
                            wait_visible(b, "#confirm-dialog").await?;
                            click(b, "#confirm-yes").await?;
                            let revoked_on_b = Instant::now();
                            wait_for_js(
                                b,
                                "the revoke on B",
                                "return !!document.querySelector('#keys-view [data-ref=\"revokeStatus\"]')?.textContent.includes('revoked')",
                            )
                            .await?;
                            let left = LIVE.saturating_sub(revoked_on_b.elapsed());
                            within(a, left, "B's revoke on A", &revoked_or_gone(&live)).await?;
                            report(&format!(
                                "two desks: a key revoked on B showed revoked on A {:?} after B's answer",
                                revoked_on_b.elapsed()
                            ));
                            // With who revoked it where, under who created it.
                            keys_of_state(a, "all").await?;
                            let revoker = "Revoked by Bjørn on OFFICE-PC-3";
                            within(a, LIVE, "the revoker line on A", &an_author_line_reads(&live, revoker)).await?;
                            within(a, LIVE, "the author line on A", &an_author_line_reads(&live, author)).await?;
                            screenshot(a, "view-keys-revoked-second-desk").await?;
                            keys_of_state(a, "current").await?;

                            // A person added on B: A's open People view shows them (people-changed).
                            click(a, "#nav-people").await?;
                            wait_visible(a, "#people-view").await?;
                            click(b, "#nav-people").await?;
                            wait_visible(b, "#people-view").await?;
                            click(b, "#people-add").await?;
                            fill(b, "#person-name", "Liv Kontor").await?;
                            fill(b, "#person-phone", "900 00 077").await?;
                            click(b, "#person-save").await?;
                            wait_for_js(b, "B's person saved", "return document.querySelector('#person-title')?.textContent === 'Liv Kontor'").await?;
                            let took = within(
                                a,
                                Duration::from_secs(8),
                                "B's new person in A's open People view",
                                "return [...document.querySelectorAll('#people-view tr[data-person-id] .person-name')].some((e) => e.textContent === 'Liv Kontor')",
                            )
                            .await?;
                            report(&format!("two desks: a person added on B showed in A's open People view after {took:?}"));

                            // The database goes away mid-work: both desks say so, and keep working.
                            relay.cut();
                            within(a, Duration::from_secs(10), "A says team data is not current", NOT_CURRENT).await?;
                            within(b, Duration::from_secs(10), "B says team data is not current", NOT_CURRENT).await?;
                            open_lock(a, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
                            let offline = create_key(a, sim, "900 00 032", "+4790000032").await?;
                            wait_visible(a, &format!("tr[data-key-id=\"{offline}\"]")).await?;
                            within(a, Duration::from_secs(5), "A counts its waiting change", "return document.querySelector('#team-line').textContent.includes('1 change waits')").await?;
                            screenshot(a, "view-team-not-current").await?;
                            keys_view(b).await?;
                            ensure!(
                                b.execute(&listed(&offline), vec![]).await? == json!(false),
                                "B cannot know A's offline key yet"
                            );

                            // Back: B gets A's key, once; both desks are current again.
                            relay.restore()?;
                            let once = format!(
                                "return document.querySelectorAll('#keys-view tr[data-key-id=\"{offline}\"]').length === 1"
                            );
                            within(b, Duration::from_secs(15), "A's offline key on B, once", &once).await?;
                            within(a, Duration::from_secs(10), "A current again", CURRENT).await?;
                            within(b, Duration::from_secs(10), "B current again", CURRENT).await?;
                            let rows = psql(DATABASE, &format!("SELECT count(*) FROM team_keys WHERE id = '{offline}'"))?;
                            ensure_eq!(rows.as_str(), "1", "the queued key is in the database once");
                            let by = psql(DATABASE, &format!("SELECT created_by || ' on ' || created_on_desk FROM team_keys WHERE id = '{offline}'"))?;
                            ensure_eq!(by.as_str(), "Anna on OFFICE-PC-2", "with its author");

                            // The database password: in no IPC reply, file or log of desk B.
                            audit_secrets(b, &desk_b.home, &password).await?;
                            Ok(())
                        })
                        .await?;
                    audit_secrets(a, &scenario.home, &password).await?;
                    Ok(())
                })
                .await?;
            let files = audit_files(&scenario.home, &password)? + audit_files(&desk_b.home, &password)?;
            report(&format!(
                "team password audit of both desks after they closed: {files} files, no password in UTF-8, UTF-16 or base64"
            ));
            Ok(())
        })
        .await
}

/// How many events the local archive holds (what Activity counts).
async fn locally_archived(client: &Client) -> TestResult<u64> {
    let page = invoke(client, "activity_page", json!({ "filter": {}, "offset": 0, "limit": 1, "count": true })).await?;
    page["ok"]["archived"].as_u64().ok_or_else(|| format!("no archive count in {page}").into())
}

/// How many events the office's shared copy holds.
fn office_archived() -> TestResult<u64> {
    Ok(psql(DATABASE, "SELECT count(*) FROM team_events")?.parse()?)
}

/// Settings → "Delete all local history", yes to the first question; returns once the second one
/// (the office's copy) is open.
async fn delete_local_history_up_to_the_office_question(client: &Client) -> TestResult {
    click(client, "#delete-history").await?;
    wait_for_js(
        client,
        "the first question",
        "const d = document.querySelector('#confirm-dialog'); return d.open && document.querySelector('#confirm-title').textContent === 'Delete all local history?'",
    )
    .await?;
    click(client, "#confirm-yes").await?;
    wait_for_js(
        client,
        "the question about the office's copy",
        "const d = document.querySelector('#confirm-dialog'); return d.open && document.querySelector('#confirm-title').textContent === \"Also delete the office's shared copy?\"",
    )
    .await?;
    Ok(())
}

/// Waits until Settings' history line says `words`.
async fn history_line_says(client: &Client, words: &str) -> TestResult {
    let script = format!(
        "return document.querySelector('#settings-view [data-ref=\"historyStatus\"]').textContent === {words:?}"
    );
    wait_for_js(client, words, &script).await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_local_history_asks_apart_about_the_office_copy_and_does_as_answered() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() };
    scenario("team-history", config)
        .env("UNLOC_DESK_NAME", "OFFICE-PC-2")
        .run(async |client, scenario| {
            let password = new_office_database()?;
            sign_in(client, scenario.sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            join_the_office(client, pg("UNLOC_PG_PORT")?.parse()?, &password, "Anna").await?;

            // Opening Activity starts the history sync; the only desk holds every lock's lease, so
            // what it fetches goes to the office's copy too.
            click(client, "#nav-activity").await?;
            within(
                client,
                Duration::from_secs(120),
                "the history sync to finish",
                "return document.querySelector('#activity-sync').textContent.startsWith('History is up to date')",
            )
            .await?;
            let archived = locally_archived(client).await?;
            ensure!(archived > 0, "the sync archived no events");
            step("waiting for the office's copy to hold every archived event");
            let started = Instant::now();
            while office_archived()? != archived {
                ensure!(
                    started.elapsed() < Duration::from_secs(30),
                    "the office's copy holds {} events, this desk {archived}",
                    office_archived()?
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            report(&format!("team history: {archived} events on this desk and in the office's copy"));

            // Settings says how long the office keeps its copy.
            click(client, "#nav-settings").await?;
            let rule = visible_text(client, "#keep-history-office").await?;
            ensure!(rule.contains("the shortest “Keep history for” of all desks"), "the office's rule: {rule}");
            client
                .execute(
                    "document.querySelector('#keep-history').closest('section').scrollIntoView({block: 'start'})",
                    vec![],
                )
                .await?;
            screenshot(client, "view-settings-history-office").await?;

            // "Only this computer": the local archive goes, the office's copy stays.
            delete_local_history_up_to_the_office_question(client).await?;
            screenshot(client, "view-settings-delete-office-question").await?;
            click(client, "#confirm-no").await?;
            history_line_says(client, "All local history was deleted from this computer.").await?;
            ensure_eq!(locally_archived(client).await?, 0, "the local archive after deleting it");
            ensure_eq!(office_archived()?, archived, "the office's copy when asked to keep it");

            // "Delete the office's copy too": it goes as well.
            delete_local_history_up_to_the_office_question(client).await?;
            click(client, "#confirm-yes").await?;
            history_line_says(client, "All history was deleted from this computer and from the office's shared copy.")
                .await?;
            ensure_eq!(locally_archived(client).await?, 0, "the local archive after deleting it again");
            ensure_eq!(office_archived()?, 0, "the office's copy when asked to delete it");
            screenshot(client, "view-settings-history-deleted-office").await?;
            Ok(())
        })
        .await
}
