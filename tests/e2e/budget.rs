//! A good citizen of Unloc's API, measured in the simulator's request log (`atMs`): a busy lock's
//! history does not set off a check of every key in it, a `Retry-After` quiets every route, a lock-out
//! sends nothing more, and one unreadable lock leaves the others shown. Each scenario prints its
//! number with the prefix `budget:` for the hostile-world report.

use std::time::{Duration, Instant};

use unloc_sim::{fixtures, FaultRule, RecordedRequest, Route, SimConfig, Simulator};

use crate::harness::*;

/// Prints one line of the hostile-world report.
#[allow(clippy::print_stderr)] // the line is the report of these tests
fn report(line: &str) {
    eprintln!("budget: {line}");
}

/// Waits for the first request in the log that `matches` (the app sends it on its own time).
async fn wait_for_request(
    sim: &Simulator,
    what: &str,
    matches: impl Fn(&RecordedRequest) -> bool,
) -> TestResult<RecordedRequest> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Some(request) = sim.requests().into_iter().find(|request| matches(request)) {
            return Ok(request);
        }
        if Instant::now() > deadline {
            return Err(format!("no {what} reached the simulator").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// API requests that arrived after `after` and before `before` (simulator milliseconds), besides `except`.
fn requests_between(sim: &Simulator, after: u64, before: u64, except: &RecordedRequest) -> Vec<RecordedRequest> {
    sim.requests()
        .into_iter()
        .filter(|request| request.at_ms >= after && request.at_ms < before && request != except)
        .collect()
}

fn summary(requests: &[RecordedRequest]) -> String {
    let first: Vec<String> = requests
        .iter()
        .take(10)
        .map(|request| format!("{} {} at {} ms", request.method, request.path, request.at_ms))
        .collect();
    let more = requests.len().saturating_sub(first.len());
    if more > 0 {
        format!("{} and {more} more", first.join(", "))
    } else {
        first.join(", ")
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_a_busy_lock_sends_at_most_3_requests_in_the_next_60_s() -> TestResult {
    let config =
        SimConfig { lockout_after: 0, busy_lock_events: 100_000, busy_lock_keys: 10_000, ..SimConfig::default() };
    scenario("busy-lock-budget", config)
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            open_lock(client, fixtures::BUSY_LOCK_ID, fixtures::BUSY_LOCK_NAME).await?;
            let history = wait_for_request(sim, "history of the busy lock", |request| {
                request.route == Some(Route::Events) && request.lock_id.as_deref() == Some(fixtures::BUSY_LOCK_ID)
            })
            .await?;
            let all_events = sim.events(fixtures::BUSY_LOCK_ID).ok_or("no events for the busy lock")?.len() as u64;
            wait_for_count_within(client, "#events-count", [all_events, all_events], BIG_LOAD_WAIT).await?;
            // The one long watch of the suite: the budget is stated over 60 s.
            let watch_end = history.at_ms + 60_000;
            let opened = Instant::now();
            tokio::time::sleep(Duration::from_secs(60).saturating_sub(opened.elapsed())).await;
            let sent = requests_between(sim, history.at_ms, watch_end, &history);
            report(&format!("requests in 60 s after opening the busy lock: {} (goal ≤ 3)", sent.len()));
            ensure!(sent.len() <= 3, "{} requests in the 60 s after opening the busy lock: {}", sent.len(), summary(&sent));
            // The keys the history named are shown from it: who used them, and when last.
            let shown = wait_for_js(
                client,
                "a key seen in the history",
                "const c = document.querySelector('#lock-keys .key-status[data-status=\"seenInHistory\"]'); return c && c.textContent",
            )
            .await?;
            let shown = shown.as_str().unwrap_or_default();
            ensure!(shown.contains("Seen in history") && shown.contains("last used"), "the key's status cell: {shown}");
            let count = text_of(client, "#lock-keys [data-ref=\"keysCount\"]").await.unwrap_or_default();
            report(&format!("keys of the busy lock shown from its history: {shown} ({count})"));
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_on_the_first_history_request_quiets_every_route() -> TestResult {
    scenario("retry-after-budget", SimConfig { lockout_after: 0, ..SimConfig::default() })
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            sim.add_fault(FaultRule::parse("events=status:429:retry-after=3*1")?);
            open_lock(client, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
            let limited =
                wait_for_request(sim, "the rate-limited history request", |request| request.status == Some(429))
                    .await?;
            let seen = Instant::now();
            // The user keeps working inside the 3 s: another lock's history, the locks list.
            click(client, "#nav-locks").await?;
            click(client, "#locks-refresh").await?;
            search_locks(client, fixtures::UUID_LOCK_NAME).await?;
            open_lock_row(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::UUID_LOCK_ID)).await?;
            // Watch the whole Retry-After; after it, the history comes (on its own or on Refresh).
            tokio::time::sleep(Duration::from_millis(3_300).saturating_sub(seen.elapsed())).await;
            click(client, "#lock-view [data-ref=\"refresh\"]").await?;
            wait_for_js(
                client,
                "the history after the wait",
                "return document.querySelectorAll('tr[data-event-id]').length > 0",
            )
            .await?;
            let inside = requests_between(sim, limited.at_ms, limited.at_ms + 3_000, &limited);
            report(&format!("requests inside Retry-After: {} (goal 0)", inside.len()));
            ensure!(inside.is_empty(), "requests inside the 3 s Retry-After: {}", summary(&inside));
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_out_during_work_sends_one_request_and_one_notice() -> TestResult {
    let config = SimConfig { lockout_after: 0, key_provisioning: Duration::from_secs(600), ..SimConfig::default() };
    scenario("lockout-budget", config)
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            // Work under way: a new key awaits the owner, and the follow-up keeps asking about it.
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            let key_id = create_key(client, sim, "900 00 021", "+4790000021").await?;
            wait_for_request(sim, "a follow-up check of the new key", |request| {
                request.route == Some(Route::KeysGet) && request.key_id.as_deref() == Some(key_id.as_str())
            })
            .await?;
            sim.add_fault(FaultRule::parse("*=status:403")?);
            let from = sim.requests().last().map_or(0, |request| request.at_ms + 1);
            click(client, "#lock-view [data-ref=\"refresh\"]").await?;
            let refused =
                wait_for_request(sim, "the locked-out request", |request| request.status == Some(403)).await?;
            wait_for_js(
                client,
                "the lock-out notice",
                "return document.body.innerText.includes('temporarily blocked')",
            )
            .await?;
            // 20 s of watching, not Unloc's 5 minutes: the follow-up would ask about the key several
            // times in 20 s (2, 4, 8, 16 s apart) if the lock-out did not stop it.
            let watch = Instant::now();
            tokio::time::sleep(Duration::from_secs(20).saturating_sub(watch.elapsed())).await;
            let sent: Vec<RecordedRequest> =
                sim.requests().into_iter().filter(|request| request.at_ms >= from).collect();
            let notices = client
                .execute("return document.body.innerText.split('Unloc has temporarily blocked').length - 1", vec![])
                .await?
                .as_u64()
                .unwrap_or(u64::MAX);
            report(&format!(
                "requests in 20 s after a lock-out: {} (goal 1), lock-out notices: {notices} (goal 1)",
                sent.len()
            ));
            ensure!(sent.len() == 1 && sent[0] == refused, "requests after the lock-out: {}", summary(&sent));
            ensure_eq!(notices, 1, "lock-out notices on screen");
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_unreadable_lock_among_40_leaves_39_shown_and_a_notice() -> TestResult {
    scenario("malformed-lock", SimConfig { lockout_after: 0, ..SimConfig::default() })
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            // The list as Unloc sends it, with one lock whose id is a number.
            let mut locks = serde_json::to_value(sim.locks())?;
            let all = locks.as_array_mut().ok_or("locks are a list")?;
            ensure_eq!(all.len(), 40, "locks in the simulator");
            all[20]["id"] = serde_json::json!(4711);
            let body = serde_json::json!({ "locks": locks }).to_string();
            sim.add_fault(FaultRule::parse(&format!("locks=status:200:body={body}"))?);
            click(client, "#locks-refresh").await?;
            let notice = wait_for_js(client, "the unreadable-lock notice", "const n = document.querySelector('#locks-view .skipped-notice')?.textContent ?? ''; return n.includes('1 lock could not be read') && n").await?;
            let count = wait_for_js(client, "39 locks", "const t = document.querySelector('#locks-count')?.textContent ?? ''; return /\\b39\\b/.test(t) && !/\\b40\\b/.test(t) && t").await?;
            report(&format!("one unreadable lock among 40: {} — {}", count.as_str().unwrap_or_default(), notice.as_str().unwrap_or_default()));
            Ok(())
        })
        .await
}
