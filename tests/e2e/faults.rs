//! Faults in the real app: each injected fault gets its own notice while the list stays, a lock no
//! longer granted leaves the list, and the lock-out and Retry-After stop all sending.

use std::time::{Duration, Instant};

use fantoccini::Client;
use serde_json::Value;
use unloc_sim::Simulator;

use unloc_sim::expected::expected_error;
use unloc_sim::{fixtures, FaultRule, SimConfig};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_gets_its_own_message_and_the_list_stays() -> TestResult {
    scenario("faults", SimConfig { lockout_after: 0, hostile_lock: false, locks: 15, ..SimConfig::default() })
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            wait_visible(client, "#signin-view").await?;
            // The errors the UI gets (with their retryAfterSecs) are read from the recorded replies.
            record_ipc(client).await?;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            let count_before = text_of(client, "#locks-count").await?;
            // What the client reports for each fault comes from the shared table; the notice must say it.
            let specs = [
                "status:500",
                "status:502",
                "status:503",
                "status:400",
                "malformed",
                "html",
                "empty",
                "reset",
                "drop",
            ];
            let mut table = Vec::new();
            for spec in specs {
                let words = notice_words(expected_error(spec))?;
                sim.add_fault(FaultRule::parse(&format!("locks={spec}"))?);
                click(client, "#locks-refresh").await?;
                let banner = wait_for_js(
                    client,
                    &format!("the notice for {spec}"),
                    &format!("const b = document.querySelector('#status-banner')?.textContent ?? ''; return b.includes({words:?}) && b"),
                )
                .await?;
                ensure_eq!(text_of(client, "#locks-count").await?, count_before, "the list must stay under {spec}");
                ensure!(!banner.as_str().unwrap_or_default().contains(sim.token()), "the token in a notice");
                table.push(format!("{spec:<28} {}", banner.as_str().unwrap_or_default().chars().take(90).collect::<String>()));
                sim.clear_faults();
                click(client, "#locks-refresh").await?;
                wait_for_js(client, "the notice to clear", &format!("return !(document.querySelector('#status-banner')?.textContent ?? '').includes({words:?})")).await?;
            }

            // Locks that cannot be read are left out and counted, not an error for the whole list.
            sim.add_fault(FaultRule::parse("locks=wrong-types")?);
            click(client, "#locks-refresh").await?;
            let notice = wait_for_js(client, "the unreadable-locks notice", "const n = document.querySelector('#locks-view .skipped-notice')?.textContent ?? ''; return n.includes('could not be read') && n").await?;
            table.push(format!("{:<28} {}", "wrong-types", notice.as_str().unwrap_or_default()));
            sim.clear_faults();
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the notice to clear", "return !(document.querySelector('#locks-view .skipped-notice')?.textContent ?? '')").await?;
            wait_lock_rows(client).await?;

            // A lock that is no longer granted (404): off the list, with a notice.
            sim.add_fault(FaultRule::parse("events=status:404")?);
            search_locks(client, fixtures::HJEMME_NAME).await?;
            click(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::HJEMME_LOCK_ID)).await?;
            wait_for_js(client, "the lock-gone notice", "return (document.querySelector('#status-banner')?.textContent ?? '').includes('no longer available')").await?;
            wait_visible(client, "#locks-view").await?;
            wait_for_js(client, "the lock to leave the list", &format!(
                "return !document.querySelector('tr[data-lock-id=\"{}\"]')", fixtures::HJEMME_LOCK_ID
            )).await?;
            screenshot(client, "view-lock-gone").await?;
            table.push(format!("{:<28} lock taken off the list with a notice", "events=status:404"));
            sim.clear_faults();
            search_locks(client, "").await?;
            // One lock fewer now; wait for the cleared search to show them all again.
            wait_for_js(
                client,
                "the whole list again",
                "const t = document.querySelector('#locks-count')?.textContent ?? ''; const m = t.match(/(\\d+) of (\\d+)/); return m && m[1] === m[2] && t",
            )
            .await?;

            // Unloc's lock-out: said plainly, and nothing more is sent until the user signs in again (or
            // five minutes pass). Five minutes is too long to watch whole: watch LOCKOUT_WATCH of it while
            // the user presses Refresh and the key follow-up would run.
            sim.add_fault(FaultRule::parse("*=status:403")?);
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the lock-out notice", "return (document.querySelector('#status-banner')?.textContent ?? '').includes('temporarily blocked')").await?;
            let retry_buttons = client.execute("return document.querySelectorAll('#status-banner button').length", vec![]).await?;
            let locked_out_at = last_answered(sim, 403)?;
            let sent = quiet_while_refreshing(client, sim, locked_out_at, Instant::now() + LOCKOUT_WATCH).await?;
            ensure!(sent.is_empty(), "requests were sent during the lock-out without the user signing in: {sent:?}");
            table.push(format!(
                "{:<28} lock-out notice, {} banner buttons, no requests for {} s of Refresh",
                "status:403",
                retry_buttons,
                LOCKOUT_WATCH.as_secs()
            ));
            screenshot(client, "view-lockout").await?;
            sim.clear_faults();
            // The lock-out quiets the client until the user signs in again.
            click(client, "#signout").await?;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            let count_before = wait_for_js(
                client,
                "the list after signing in again",
                "const t = document.querySelector('#locks-count')?.textContent ?? ''; const m = t.match(/(\\d+) of (\\d+)/); return m && m[1] === m[2] && t",
            )
            .await?
            .as_str()
            .unwrap_or_default()
            .to_owned();

            // Too many requests: nothing at all is sent for as long as Retry-After says, however often the
            // user presses Refresh; then Refresh works again. The wait is longer than the client waits by
            // itself (10 s), so it goes to the user, and short enough to watch whole.
            sim.add_fault(FaultRule::parse(&format!("locks=status:429:retry-after={RATE_LIMIT_SECS}*1"))?);
            let clicked = Instant::now();
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the rate-limit notice, with when the pause ends", &format!("const b = document.querySelector('#status-banner')?.textContent ?? ''; return b.includes('Wait {RATE_LIMIT_SECS} seconds') && b.includes('sends nothing until')")).await?;
            let limited_at = last_answered(sim, 429)?;
            let told = retry_after_told(client).await?;
            ensure_eq!(told, RATE_LIMIT_SECS, "the UI is told the fault's Retry-After");
            let window = Duration::from_secs(told);
            // The 429 arrived after the click, so the window ends after `clicked + window`.
            let sent = quiet_while_refreshing(client, sim, limited_at, clicked + window).await?;
            let window_end = limited_at + window.as_millis() as u64;
            let inside: Vec<_> = sent.iter().filter(|(at, _)| *at < window_end).collect();
            ensure!(inside.is_empty(), "requests inside Retry-After ({told} s from {limited_at} ms): {inside:?}");
            ensure_eq!(text_of(client, "#locks-count").await?, count_before, "the list must stay while rate limited");
            // After the window: Refresh reaches Unloc again and the notice goes.
            let before = sim.requests().len();
            click(client, "#locks-refresh").await?;
            wait_for_js(client, "the notice to clear", "return !(document.querySelector('#status-banner')?.textContent ?? '').includes('Wait')").await?;
            ensure!(sim.requests().len() > before, "Refresh sent nothing after Retry-After passed");
            table.push(format!("{:<28} wait notice; nothing sent for the {told} s asked, on any route; then Refresh works", format!("status:429:retry-after={RATE_LIMIT_SECS}")));
            assert_nothing_executed(client).await?;
            #[allow(clippy::print_stderr)] // the table is the report of this test
            {
                eprintln!("faults in the app:\n  {}", table.join("\n  "));
            }
            Ok(())
        })
        .await
}

/// How much of the five-minute lock-out pause is watched.
const LOCKOUT_WATCH: Duration = Duration::from_secs(12);
/// The Retry-After of the 429: over the client's own 10 s wait, so it goes to the user.
const RATE_LIMIT_SECS: u64 = 12;

/// When (the simulator's `at_ms`) the last request answered with `status` arrived.
fn last_answered(sim: &Simulator, status: u16) -> TestResult<u64> {
    sim.requests()
        .iter()
        .rev()
        .find(|request| request.status == Some(status))
        .map(|request| request.at_ms)
        .ok_or_else(|| format!("no request was answered with {status}").into())
}

/// The `retryAfterSecs` of the last error the UI got (from the recorded IPC replies).
async fn retry_after_told(client: &Client) -> TestResult<u64> {
    for entry in recorded_ipc(client).await?.iter().rev() {
        let value: Value = serde_json::from_str(entry)?;
        if let Some(secs) = value[1].get("retryAfterSecs").and_then(Value::as_u64) {
            return Ok(secs);
        }
    }
    Err("the UI was never told how long to wait".into())
}

/// Presses Refresh every two seconds until `until`, then returns every request (arrival in ms, route)
/// that reached the simulator after `since_ms`.
async fn quiet_while_refreshing(
    client: &Client,
    sim: &Simulator,
    since_ms: u64,
    until: Instant,
) -> TestResult<Vec<(u64, String)>> {
    while Instant::now() < until {
        // The button may be busy for a moment; the press is what counts, not its outcome.
        let _ = client.execute("document.querySelector('#locks-refresh')?.click(); return true;", vec![]).await;
        tokio::time::sleep(Duration::from_secs(2).min(until.saturating_duration_since(Instant::now()))).await;
    }
    Ok(sim
        .requests()
        .into_iter()
        .filter(|request| request.at_ms > since_ms)
        .map(|request| (request.at_ms, format!("{:?}", request.route)))
        .collect())
}

/// Words the English notice for an error kind (as the shared fault table names it) must contain.
fn notice_words(kind: &str) -> TestResult<&'static str> {
    Ok(match kind {
        "server" => "Unloc had a problem",
        "maintenance" => "maintenance",
        "internal" => "went wrong",
        "invalidResponse" => "unexpected",
        "offline" => "Offline",
        other => return Err(format!("no notice words for {other}").into()),
    })
}
