//! Locks and events at scale: 10,000 locks and 100,000 events on one lock stay light (only what is
//! visible is in the page).

use unloc_sim::{fixtures, SimConfig};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_locks_and_a_hundred_thousand_events_stay_light() -> TestResult {
    let config = SimConfig {
        lockout_after: 0,
        hostile_lock: false,
        locks: 10_000,
        busy_lock_events: 100_000,
        ..SimConfig::default()
    };
    scenario("large-partner", config)
        .run(async |client, scenario| {
            sign_in(client, scenario.sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            let counts = wait_for_js(
                client,
                "the lock count",
                "const text = document.querySelector('#locks-count')?.textContent ?? ''; return /10[ ,.\\u00a0\\u202f]?000/.test(text) && text",
            )
            .await?;
            // Only what is visible is in the page: the design must not render 10,000 rows.
            let rows = client.execute("return document.querySelectorAll('tr[data-lock-id]').length", vec![]).await?;
            let rows = rows.as_u64().unwrap_or(u64::MAX);
            ensure!(rows > 0 && rows < 200, "{rows} lock rows in the DOM for {counts}");

            // Its reference is (nearly) unique among 10,000 locks, unlike its name, so it is found without scrolling.
            let busy = scenario.sim.locks().into_iter().find(|lock| lock.id == fixtures::BUSY_LOCK_ID).ok_or("no busy lock")?;
            search_locks(client, &busy.data).await?;
            open_lock_row(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::BUSY_LOCK_ID)).await?;
            wait_visible(client, "#lock-view").await?;
            let counts = wait_for_js(
                client,
                "the event count",
                "const text = document.querySelector('#events-count')?.textContent ?? ''; return /100[ ,.\\u00a0\\u202f]?000/.test(text) && text",
            )
            .await?;
            let rows = client.execute("return document.querySelectorAll('tr[data-event-id]').length", vec![]).await?;
            let rows = rows.as_u64().unwrap_or(u64::MAX);
            ensure!(rows > 0 && rows < 200, "{rows} event rows in the DOM for {counts}");

            // Filtering 100,000 events by action narrows the count without rendering them all.
            client.find(Locator::Css("#events-action option[value=\"locked\"]")).await?.click().await?; // options have no box of their own
            wait_for_js(client, "the filtered count", "return !/100[ ,.\\u00a0\\u202f]?000 of/.test(document.querySelector('#events-count').textContent) && /of 100/.test(document.querySelector('#events-count').textContent)").await?;
            screenshot(client, "view-lock-100k").await?;
            Ok(())
        })
        .await
}
