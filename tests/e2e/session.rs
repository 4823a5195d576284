//! Signing in and out: the main flow through locks and events, the token only in the keychain, and
//! sign-in without a keychain.

use serde_json::json;
use unloc_sim::{fixtures, SimConfig};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_see_locks_and_events_then_sign_out() -> TestResult {
    scenario("main-flow", SimConfig { lockout_after: 0, hostile_lock: false, ..SimConfig::default() })
        .audit_secrets_after_close()
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            // The partner id comes from UNLOC_PARTNER_ID; the token must be typed.
            wait_visible(client, "#signin-view").await?;
            record_ipc(client).await?;
            let partner = client.find(Locator::Css("#partner-id")).await?.prop("value").await?;
            ensure_eq!(partner.as_deref(), Some(sim.partner_id()));
            screenshot(client, "view-signin").await?;

            // A wrong token: a clear message, still on sign-in, nothing in the keychain.
            sign_in(client, "wrong-token-wrong-token-wrong-tok").await?;
            let error = visible_text(client, "#signin-error").await?;
            ensure!(error.to_lowercase().contains("token"), "sign-in error should name the token: {error}");
            ensure!(!error.contains(sim.token()));
            ensure_eq!(keychain_token(sim), None, "a wrong token must not be stored");

            // The right token: the locks view with every lock.
            sign_in(client, sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            wait_lock_rows(client).await?;
            // The heading has the focus, no text field: a focused field keeps WebKit drawing frames
            // for its caret while the app sits idle (docs/benchmarks.md, idle CPU). It moves there
            // once the first rows are painted (ui/js/views/locks.js), so it is waited for.
            let started = std::time::Instant::now();
            let focused = wait_for_js(
                client,
                "the focus on the locks heading",
                "const id = document.activeElement?.id ?? ''; return id === 'locks-heading' ? id : (id === '' ? null : id)",
            )
            .await?;
            ensure_eq!(focused, json!("locks-heading"), "after sign-in the focus is on the locks heading");
            step(format!("the focus reached the heading {} ms after the rows", started.elapsed().as_millis()));
            ensure_eq!(keychain_token(sim).as_deref(), Some(sim.token()), "the token is kept in the keychain");
            let token_field =
                client.execute("return document.querySelector('#api-token')?.value ?? ''", vec![]).await?;
            ensure_eq!(token_field, json!(""), "the token must not linger in the form");

            let opt_in_expected = sim.locks().iter().filter(|lock| lock.auth.as_str() == "opt-in").count();
            let opt_in_shown = text_of(client, "#opt-in-count").await?;
            ensure_eq!(opt_in_shown.trim(), opt_in_expected.to_string());
            let counts = text_of(client, "#locks-count").await?;
            ensure!(counts.contains(&sim.locks().len().to_string()), "count line: {counts}");

            // The seeded opt-in lock carries the flag in words; an opt-out lock does not.
            search_locks(client, fixtures::UUID_LOCK_NAME).await?;
            let row = format!("tr[data-lock-id=\"{}\"]", fixtures::UUID_LOCK_ID);
            let flag = visible_text(client, &format!("{row} .lock-auth")).await?;
            ensure!(flag.contains("Owner must approve each key"), "opt-in flag: {flag}");
            search_locks(client, fixtures::HJEMME_NAME).await?;
            let row = format!("tr[data-lock-id=\"{}\"]", fixtures::HJEMME_LOCK_ID);
            let flag = visible_text(client, &format!("{row} .lock-auth")).await?;
            ensure!(!flag.contains("Owner must approve"), "opt-out lock flagged: {flag}");
            let address = text_of(client, &format!("{row} .lock-address")).await?;
            ensure!(address.contains("Parkveien 4") && address.contains("0351"), "address: {address}");
            search_locks(client, "").await?;

            // The README's lock list shows clean sample data; the hostile fixture lock is in the injection scenario.
            search_locks(client, fixtures::PLAIN_BACK_DOOR_NAME).await?;
            let plain =
                visible_text(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::HOSTILE_LOCK_ID)).await?;
            ensure_eq!(plain.trim(), fixtures::PLAIN_BACK_DOOR_NAME, "the demo's back door has a plain name");
            search_locks(client, "").await?;

            // The opt-in filter: one click, only opt-in locks remain.
            click(client, "#filter-opt-in").await?;
            wait_for_js(
                client,
                "the filter to apply",
                "return document.querySelector('#filter-opt-in').getAttribute('aria-pressed') === 'true'",
            )
            .await?;
            let shown = rendered_lock_ids(client).await?;
            let opt_in: Vec<String> =
                sim.locks().iter().filter(|lock| lock.auth.as_str() == "opt-in").map(|lock| lock.id.clone()).collect();
            ensure!(!shown.is_empty());
            ensure!(shown.iter().all(|id| opt_in.contains(id)), "non-opt-in lock shown under the filter: {shown:?}");
            screenshot(client, "view-locks-opt-in").await?;
            click(client, "#filter-opt-in").await?;
            screenshot(client, "view-locks").await?;

            // Open a lock: its history, newest first, in local time with the zone.
            search_locks(client, fixtures::HJEMME_NAME).await?;
            open_lock_row(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::HJEMME_LOCK_ID)).await?;
            wait_visible(client, "#lock-view").await?;
            ensure_eq!(text_of(client, "#lock-title").await?.trim(), fixtures::HJEMME_NAME);
            wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length").await?;
            let mut events = sim.events(fixtures::HJEMME_LOCK_ID).expect("fixture lock");
            events.sort_by_key(|event| std::cmp::Reverse(event.created));
            let newest = &events[0];
            let first_row =
                client.execute("return document.querySelector('tr[data-event-id]').dataset.eventId", vec![]).await?;
            ensure_eq!(first_row, json!(newest.id), "the newest event comes first");
            let row = format!("tr[data-event-id=\"{}\"]", newest.id);
            let when = text_of(client, &format!("{row} .event-time")).await?;
            let local = newest.created + chrono::Duration::hours(3);
            let expected_clock = local.format("%H:%M").to_string();
            ensure!(when.contains(&expected_clock), "event time {when:?} should show local {expected_clock} (UTC+3)");
            ensure!(when.contains("UTC+3"), "the zone should be visible as UTC+3: {when:?}");
            let action = text_of(client, &format!("{row} .event-action")).await?;
            let expected_action = if newest.action == "locked" { "Locked" } else { "Unlocked" };
            ensure_eq!(action.trim(), expected_action);
            let who = text_of(client, &format!("{row} .event-who")).await?;
            ensure!(who.contains(newest.name.trim()), "who: {who}");
            screenshot(client, "view-lock").await?;

            // A lock without events explains the two-month retention.
            click(client, "#lock-back").await?;
            search_locks(client, fixtures::EMPTY_EVENTS_NAME).await?;
            open_lock_row(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::EMPTY_EVENTS_LOCK_ID))
                .await?;
            let empty = visible_text(client, "#events-empty").await?;
            ensure!(empty.contains("two months"), "empty state: {empty}");
            click(client, "#lock-back").await?;

            // Sign out: back to sign-in, partner id kept, token gone from the keychain.
            click(client, "#signout").await?;
            wait_visible(client, "#signin-view").await?;
            let partner = client.find(Locator::Css("#partner-id")).await?.prop("value").await?;
            ensure_eq!(partner.as_deref(), Some(sim.partner_id()));
            ensure_eq!(keychain_token(sim), None, "sign-out must remove the token");
            assert_nothing_executed(client).await?;
            audit_secrets(client, &scenario.home, sim.token()).await?;
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_sign_in_works_for_this_run_and_says_so() -> TestResult {
    scenario("no-keychain", SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() })
        .env("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/unloc-e2e-bus")
        .audit_secrets_after_close()
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in_recording_ipc(client, sim.token()).await?;
            let banner = banner_text(client, "the keychain notice").await?;
            let banner = banner.to_lowercase();
            ensure!(banner.contains("keychain"), "the notice should name the keychain: {banner}");
            ensure!(!banner.contains(sim.token()), "the notice must not show the token");
            screenshot(client, "view-no-keychain").await?;
            // The token was kept nowhere: not in the keychain (reachable to this test, not to the app),
            // not in a file, a reply or the log (after the app closed too: `audit_secrets_after_close`).
            ensure_eq!(keychain_token(sim), None, "the token reached a keychain");
            audit_secrets(client, &scenario.home, sim.token()).await?;
            Ok(())
        })
        .await
}
