//! Language: Norwegian chosen from the OS, and switched to English in the settings; errors, dates and
//! reminders in the user's language, the technical detail only on the clipboard.

use std::time::Duration;

use fantoccini::Client;
use serde_json::json;
use unloc_sim::{fixtures, FaultRule, SimConfig};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn norwegian_is_chosen_from_the_os_and_switchable() -> TestResult {
    scenario("language", SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() })
        .env("LANG", "nb_NO.UTF-8")
        .env("LANGUAGE", "nb")
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            wait_visible(client, "#signin-view").await?;
            wait_for_js(client, "Norwegian", "return document.documentElement.lang === 'nb'").await?;
            sign_in(client, sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            search_locks(client, fixtures::UUID_LOCK_NAME).await?;
            let flag =
                visible_text(client, &format!("tr[data-lock-id=\"{}\"] .lock-auth", fixtures::UUID_LOCK_ID)).await?;
            ensure!(flag.contains("Eieren må godkjenne hver nøkkel"), "Norwegian opt-in flag: {flag}");
            screenshot(client, "view-locks-nb").await?;
            click(client, "#nav-settings").await?;
            wait_visible(client, "#settings-view").await?;
            client.find(Locator::Css("#language-select option[value=\"en\"]")).await?.click().await?; // options have no box of their own
            wait_for_js(client, "English", "return document.documentElement.lang === 'en'").await?;
            screenshot(client, "view-settings").await?;
            Ok(())
        })
        .await
}

/// What the clipboard holds now, pasted (Ctrl+V) into a text box of the page's own.
async fn clipboard_text(client: &Client) -> TestResult<String> {
    client
        .execute("const box = document.createElement('textarea'); box.id = '__paste'; document.body.append(box); box.focus(); return true", vec![])
        .await?;
    client.find(Locator::Css("#__paste")).await?.send_keys("\u{e009}v\u{e000}").await?;
    let pasted = client
        .execute(
            "const box = document.querySelector('#__paste'); const text = box.value; box.remove(); return text",
            vec![],
        )
        .await?;
    Ok(pasted.as_str().unwrap_or_default().to_owned())
}

/// The message of the last IPC rejection of `command` (what "Copy details for support" must carry).
async fn last_error_message(client: &Client, command: &str) -> TestResult<String> {
    let found = client
        .execute(
            "const hit = (window.__ipcLog ?? []).map(e => JSON.parse(e)).reverse().find(([c, r]) => c === arguments[0] && r && r.kind); return hit ? hit[1].message : null",
            vec![json!(command)],
        )
        .await?;
    found.as_str().map(str::to_owned).ok_or_else(|| format!("no error from {command} was recorded").into())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_dates_and_reminders_speak_the_users_language() -> TestResult {
    let config = SimConfig {
        lockout_after: 0,
        hostile_lock: false,
        locks: 12,
        key_provisioning: Duration::from_millis(300),
        ..SimConfig::default()
    };
    scenario("plain-words", config)
        .env("LANG", "nb_NO.UTF-8")
        .env("LANGUAGE", "nb")
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            wait_for_js(client, "Norwegian", "return document.documentElement.lang === 'nb'").await?;
            record_ipc(client).await?;

            // A wrong token: a Norwegian headline and what to do; the technical detail only behind the copy button.
            sign_in(client, "wrong-token-wrong-token-wrong-tok").await?;
            let shown = visible_text(client, "#signin-error").await?;
            ensure!(shown.contains("API-tokenet") && !shown.contains("nøkkel"), "the sign-in error in Norwegian: {shown}");
            let message = last_error_message(client, "sign_in").await?;
            ensure!(!message.is_empty() && !shown.contains(&message), "developer text on screen: {shown}");
            click(client, "#signin-error .error-copy").await?;
            let copied = visible_text(client, "#signin-error .copy-status").await?;
            ensure!(copied.starts_with("Kopiert"), "the copy is confirmed: {copied}");
            let pasted = clipboard_text(client).await?;
            ensure!(pasted.contains(&message) && pasted.contains("unauthorized"), "the clipboard holds the details: {pasted:?}");

            // The key form: dates as Norwegians write them, the zone as people know it.
            sign_in(client, sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            click(client, "#new-key").await?;
            let start = client.execute("return document.querySelector('#key-start').value", vec![]).await?;
            let start = start.as_str().unwrap_or_default().to_owned();
            ensure!(
                start.len() == 16 && start.chars().enumerate().all(|(i, c)| match i { 2 | 5 => c == '.', 10 => c == ' ', 13 => c == ':', _ => c.is_ascii_digit() }),
                "the start in dd.mm.åååå tt:mm: {start:?}"
            );
            let placeholder = client.execute("return document.querySelector('#key-end').placeholder", vec![]).await?;
            ensure_eq!(placeholder, json!("dd.mm.åååå tt:mm"), "the end's placeholder");
            let zone = visible_text(client, "[data-ref=\"zoneHint\"]").await?;
            ensure!(zone.contains("UTC+3") && !zone.contains("Etc/") && !zone.contains("GMT"), "the zone as people know it: {zone}");
            let local = chrono::FixedOffset::east_opt(3 * 3600).ok_or("offset")?;
            let end_day = (chrono::Utc::now() + chrono::Duration::days(2)).with_timezone(&local).date_naive();
            fill(client, "#key-end", &format!("{} 18:00", end_day.format("%d.%m.%Y"))).await?;
            fill(client, "#key-msn", "900 00 041").await?;
            click(client, "#key-submit").await?;
            let key_id = wait_for_key(sim, "+4790000041").await?;
            let end = sim.key(&key_id).and_then(|key| key.end).ok_or("the key has no end")?;
            let expected = end_day.and_hms_opt(18, 0, 0).ok_or("time")?.and_local_timezone(local).single().ok_or("zone")?;
            ensure_eq!(end, expected.with_timezone(&chrono::Utc), "the end typed as 18:00 local time");
            wait_key_status(client, &key_id, "awaitingApproval").await?;

            // Awaiting approval: the key's start, and a reminder for the owner in Norwegian.
            click(client, "#nav-awaiting").await?;
            let row = format!("#awaiting-view tr[data-key-id=\"{key_id}\"]");
            let starts = visible_text(client, &format!("{row} td.key-start")).await?;
            ensure!(starts.contains(&start[..10]), "the start in the awaiting list: {starts}");
            click(client, &format!("{row} .key-remind")).await?;
            visible_text(client, "#awaiting-view [data-ref=\"remindStatus\"]").await?;
            let reminder = clipboard_text(client).await?;
            for part in ["Hei!", fixtures::UUID_LOCK_NAME, "+47 900 00 041", &start[..10], "Unloc-appen"] {
                ensure!(reminder.contains(part), "the reminder names {part:?}: {reminder:?}");
            }
            screenshot(client, "view-awaiting-nb").await?;

            // Signed in, a lock-out is not about typing the token again; no retry button.
            sim.add_fault(FaultRule::parse("*=status:403")?);
            click(client, "#nav-locks").await?;
            click(client, "#locks-refresh").await?;
            let banner = wait_for_js(client, "the lock-out notice", "const b = document.querySelector('#status-banner')?.textContent ?? ''; return b.includes('sperret') && b").await?;
            let banner = banner.as_str().unwrap_or_default();
            ensure!(banner.contains("tilgangen") && !banner.contains("riktig") && !banner.contains("innloggingen"), "the signed-in lock-out: {banner}");
            ensure!(!banner.contains("403") && !banner.contains("forbidden"), "developer text in the notice: {banner}");
            ensure!(wait_visible(client, "#status-banner .error-copy").await.is_ok(), "the notice can copy its details");
            sim.clear_faults();
            assert_nothing_executed(client).await?;
            Ok(())
        })
        .await
}
