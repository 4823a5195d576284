//! The harness's time limit on a real hang: a WebDriver call that never returns (a script that never
//! answers, with WebDriver's own script timeout an hour away) fails its scenario at the limit, naming
//! the scenario and its last step, and no tauri-driver, WebKitWebDriver or app process of it is left.
//! It hangs on purpose, so it is not part of the suite: run it with
//! `UNLOC_E2E=1 tests/scripts/with-desktop.sh cargo test -p unloc-e2e --test e2e -- --ignored a_hung_driver`.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use fantoccini::wd::TimeoutConfiguration;
use unloc_sim::SimConfig;

use crate::harness::*;

/// Short, so the proof takes seconds: the limit counts from the first step, once the app is open.
const LIMIT: Duration = Duration::from_secs(15);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "hangs on purpose to show the time limit stop it; run it with --ignored"]
async fn a_hung_driver_fails_its_scenario_at_the_limit_and_leaves_no_process() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 3, ..SimConfig::default() };
    let seen: Mutex<Vec<Process>> = Mutex::new(Vec::new());
    let started = Mutex::new(None);
    let outcome = scenario("hangs-on-purpose", config)
        .time_limit(LIMIT)
        .run(async |client, scenario| {
            *started.lock().map_err(|_| "poisoned")? = Some(Instant::now());
            wait_visible(client, "#signin-view").await?;
            let processes = scenario.processes();
            let names: Vec<&str> = processes.iter().map(|process| process.name.as_str()).collect();
            // /proc's command names are cut at 15 characters.
            for expected in ["tauri-driver", "WebKitWebDrive", "unloc-desk"] {
                ensure!(names.iter().any(|name| name.starts_with(expected)), "no {expected} among {names:?}");
            }
            *seen.lock().map_err(|_| "poisoned")? = processes;
            client.update_timeouts(TimeoutConfiguration::new(Some(Duration::from_secs(3600)), None, None)).await?;
            step("running a script that never answers, on purpose");
            client.execute_async("/* never calls back */", vec![]).await?;
            Err("the script that never answers returned".into())
        })
        .await;
    let took = started.lock().map_err(|_| "poisoned")?.ok_or("the steps never ran")?.elapsed();
    let message = outcome.err().ok_or("a hung scenario passed")?.to_string();
    ensure!(
        message.contains("scenario `hangs-on-purpose` ran out of its time limit of 15 s"),
        "the message names the scenario and its limit: {message}"
    );
    ensure!(
        message.contains("its last step: running a script that never answers, on purpose"),
        "the message names the last step: {message}"
    );
    // The limit, then at most 10 s for the screenshot and 10 s to close, and the app's exit.
    ensure!(took < LIMIT + Duration::from_secs(45), "the hung scenario ended after {took:?}");
    let seen = seen.lock().map_err(|_| "poisoned")?.clone();
    let left: Vec<&Process> = seen.iter().filter(|process| process.is_running()).collect();
    ensure!(left.is_empty(), "still running after the scenario ended: {left:?}");
    #[allow(clippy::print_stderr)] // the figures of the proof belong in the test output
    {
        eprintln!(
            "a hung driver: the scenario failed after {took:?} (limit {LIMIT:?}); {} processes stopped: {:?}",
            seen.len(),
            seen.iter().map(|process| process.name.as_str()).collect::<Vec<_>>()
        );
    }
    Ok(())
}
