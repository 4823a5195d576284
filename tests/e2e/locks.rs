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
            let all_locks = scenario.sim.locks().len() as u64;
            let counts = wait_for_count(client, "#locks-count", [all_locks, all_locks]).await?;
            // Only what is visible is in the page: the design must not render 10,000 rows.
            let rows = client.execute("return document.querySelectorAll('tr[data-lock-id]').length", vec![]).await?;
            let rows = rows.as_u64().unwrap_or(u64::MAX);
            ensure!(rows > 0 && rows < 200, "{rows} lock rows in the DOM for {counts}");

            // Its reference is (nearly) unique among 10,000 locks, unlike its name, so it is found without scrolling.
            let busy = scenario
                .sim
                .locks()
                .into_iter()
                .find(|lock| lock.id == fixtures::BUSY_LOCK_ID)
                .ok_or("no busy lock")?;
            search_locks(client, &busy.data).await?;
            open_lock_row(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::BUSY_LOCK_ID)).await?;
            wait_visible(client, "#lock-view").await?;
            let events = scenario.sim.events(fixtures::BUSY_LOCK_ID).ok_or("no events for the busy lock")?;
            let all_events = events.len() as u64;
            let counts =
                wait_for_count_within(client, "#events-count", [all_events, all_events], BIG_LOAD_WAIT).await?;
            let rows = client.execute("return document.querySelectorAll('tr[data-event-id]').length", vec![]).await?;
            let rows = rows.as_u64().unwrap_or(u64::MAX);
            ensure!(rows > 0 && rows < 200, "{rows} event rows in the DOM for {counts}");

            // Filtering 100,000 events by action narrows the count without rendering them all.
            client.find(Locator::Css("#events-action option[value=\"locked\"]")).await?.click().await?; // options have no box of their own
                                                                                                        // Exactly the simulator's own count of locking events, of all of them.
            let locked = events.iter().filter(|event| event.action == "locked").count() as u64;
            ensure!(locked > 0 && locked < all_events, "the fixture should mix actions: {locked} of {all_events}");
            wait_for_count(client, "#events-count", [locked, all_events]).await?;
            screenshot(client, "view-lock-100k").await?;
            Ok(())
        })
        .await
}

#[test]
fn numbers_are_read_in_any_grouping() {
    assert_eq!(numbers_in("Showing 1 234 of 10,000 locks"), [1234, 10000]);
    assert_eq!(numbers_in("Viser 100\u{a0}000 av 100\u{202f}000"), [100000, 100000]);
    assert_eq!(numbers_in("Showing 7 of 9."), [7, 9]);
}
