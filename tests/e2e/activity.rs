//! Activity: every lock's history archived in the background (started at once when the view is
//! opened), filtered by a date range and by person in the real app, and a row opening its lock at
//! that event. The expected counts come from the simulator's own events, in the suite's fixed zone.

use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use fantoccini::Client;
use serde_json::json;
use unloc_sim::{Event, SimConfig};

use crate::harness::*;

/// The suite's zone (TZ=Etc/GMT-3): UTC+3 all year.
fn local_day(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&FixedOffset::east_opt(3 * 3600).expect("a valid offset")).date_naive()
}

/// The numbers in a count line ("12 of 1,200 events" → [12, 1200]), grouping marks removed.
fn numbers_in(text: &str) -> Vec<u64> {
    let joined: String = text.chars().filter(|c| !matches!(c, ',' | '\u{a0}' | '\u{202f}')).collect();
    joined
        .split(|c: char| !c.is_ascii_digit())
        .filter(|part| !part.is_empty())
        .filter_map(|part| part.parse().ok())
        .collect()
}

/// Waits until `#activity-count` says `expected` ([total] or [shown, total]).
async fn wait_for_activity_count(client: &Client, expected: &[u64]) -> TestResult<String> {
    let deadline = Instant::now() + WAIT;
    loop {
        let text = text_of(client, "#activity-count").await.unwrap_or_default();
        if numbers_in(&text) == expected {
            return Ok(text);
        }
        if Instant::now() > deadline {
            return Err(format!("#activity-count says {text:?}, expected the numbers {expected:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Sets a select's value as a user picks an option.
async fn choose(client: &Client, select: &str, value: &str) -> TestResult {
    client
        .execute(
            "const s = document.querySelector(arguments[0]); s.value = arguments[1]; s.dispatchEvent(new Event('change', {bubbles: true}));",
            vec![json!(select), json!(value)],
        )
        .await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_is_archived_filtered_by_date_range_and_person_and_opens_a_lock_at_its_event() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, ..SimConfig::default() };
    scenario("activity", config)
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            let locks = sim.locks();
            let events: Vec<(String, Event)> = locks
                .iter()
                .flat_map(|lock| sim.events(&lock.id).unwrap_or_default().into_iter().map(|event| (lock.id.clone(), event)))
                .collect();
            let all = events.len() as u64;
            ensure!(all > 100, "the simulator should serve a real history: {all} events");

            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            click(client, "#nav-activity").await?;
            wait_visible(client, "#activity-view").await?;
            // Opening the view starts the sync at once; every lock's history is fetched through the governor.
            let deadline = Instant::now() + Duration::from_secs(120);
            let mut progress_seen = false;
            loop {
                let line = text_of(client, "#activity-sync").await.unwrap_or_default();
                progress_seen |= line.starts_with("Fetching history:") && line.contains(" of ");
                if line.starts_with("History is up to date") {
                    break;
                }
                ensure!(Instant::now() < deadline, "the sync did not finish: {line:?}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            ensure!(progress_seen, "the sync's progress (\"Fetching history: N of M locks\") was never shown");
            wait_for_activity_count(client, &[all]).await?;

            // A date range: one local day with some use.
            let (_, newest) = events.iter().max_by_key(|(_, event)| event.created).ok_or("no events")?;
            let day = local_day(newest.created);
            let on_day: Vec<&(String, Event)> = events.iter().filter(|(_, event)| local_day(event.created) == day).collect();
            choose(client, "#activity-range", "between").await?;
            let typed = day.format("%d/%m/%Y").to_string();
            fill(client, "#activity-from", &typed).await?;
            fill(client, "#activity-to", &typed).await?;
            wait_for_activity_count(client, &[on_day.len() as u64, all]).await?;
            screenshot(client, "view-activity").await?;

            // And one person of that day, by phone number.
            let (_, someone) = on_day.iter().find(|(_, event)| !event.msn.is_empty()).ok_or("no person that day")?;
            let theirs = on_day.iter().filter(|(_, event)| event.msn == someone.msn).count() as u64;
            fill(client, "#activity-person", &someone.msn).await?;
            let count = wait_for_activity_count(client, &[theirs, all]).await?;
            let shown = client
                .execute("return [...document.querySelectorAll('#activity-view tr[data-event-id]')].map(r => r.dataset.eventId)", vec![])
                .await?;
            let shown: Vec<String> = serde_json::from_value(shown)?;
            ensure_eq!(shown.len() as u64, theirs, "rows shown for {count}");
            screenshot(client, "view-activity-person").await?;

            // A row opens its lock at that event.
            let (lock_id, event) = on_day
                .iter()
                .find(|(_, event)| event.id == shown[0])
                .ok_or("the first row is not one of that day's events")?;
            let lock = locks.iter().find(|lock| &lock.id == lock_id).ok_or("unknown lock")?;
            click(client, &format!("#activity-view tr[data-event-id=\"{}\"] .activity-lock", event.id)).await?;
            wait_visible(client, "#lock-view").await?;
            ensure_eq!(text_of(client, "#lock-title").await?, lock.name, "the lock of the row");
            wait_for_js(
                client,
                "the event focused and marked in the lock's history",
                &format!(
                    "const row = document.querySelector('#lock-view tr[data-event-id=\"{}\"]'); return row && row.classList.contains('is-target') && document.activeElement === row",
                    event.id
                ),
            )
            .await?;
            screenshot(client, "view-activity-lock").await?;
            ensure_eq!(text_of(client, "#lock-back").await?, "Back to activity");
            click(client, "#lock-back").await?;
            wait_visible(client, "#activity-view").await?;
            wait_for_activity_count(client, &[theirs, all]).await?;

            // Settings: a year kept unless chosen otherwise, and "Delete all local history" after a question.
            click(client, "#nav-settings").await?;
            wait_visible(client, "#settings-view").await?;
            let kept = client.execute("return document.querySelector('#keep-history').value", vec![]).await?;
            ensure_eq!(kept, json!("12"), "the default retention");
            client.execute("document.querySelector('#delete-history').scrollIntoView({block: 'center'})", vec![]).await?;
            screenshot(client, "view-settings-history").await?;
            click(client, "#delete-history").await?;
            wait_visible(client, "#confirm-dialog").await?;
            click(client, "#confirm-yes").await?;
            wait_for_js(
                client,
                "the deletion reported",
                "return document.querySelector('[data-ref=\"historyStatus\"]').textContent.startsWith('All local history was deleted')",
            )
            .await?;
            click(client, "#nav-activity").await?;
            wait_for_activity_count(client, &[0, 0]).await?;
            Ok(())
        })
        .await
}
