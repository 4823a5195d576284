//! Restarts and a lost connection: a silent sign-in, the list kept while offline, the saved locks and
//! keys at an offline start, and a token revoked at Unloc.

use std::time::Duration;

use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_signs_in_silently_and_offline_keeps_the_list() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 25, ..SimConfig::default() };
    scenario("restart-offline", config)
        .audit_secrets_after_close()
        .sessions(async |scenario| {
            scenario
                .run(async |client, scenario| {
                    sign_in(client, scenario.sim.token()).await?;
                    wait_visible(client, "#locks-view").await?;
                    Ok(())
                })
                .await?;
            // A new app process: straight to the locks, no sign-in form.
            scenario
                .run(async |client, scenario| {
                    let sim = &scenario.sim;
                    wait_visible(client, "#locks-view").await?;
                    wait_lock_rows(client).await?;
                    // The silent sign-in sent the token from the keychain to Unloc, and nowhere else.
                    record_ipc(client).await?;
                    audit_secrets(client, &scenario.home, sim.token()).await?;
                    let before = rendered_lock_ids(client).await?;
                    let count_before = text_of(client, "#locks-count").await?;

                    // The connection drops: the list stays, marked as not current.
                    sim.add_fault(FaultRule::always(Route::Any, Fault::Drop));
                    click(client, "#locks-refresh").await?;
                    let banner = banner_text(client, "the offline notice").await?;
                    ensure!(banner.contains("Offline"), "banner: {banner}");
                    // The notice takes some height, so fewer rows may be in view; those must be the same locks.
                    let after = rendered_lock_ids(client).await?;
                    ensure!(
                        !after.is_empty() && after.iter().all(|id| before.contains(id)),
                        "the list must stay on screen while offline: {after:?}"
                    );
                    ensure_eq!(
                        text_of(client, "#locks-count").await?,
                        count_before,
                        "the lock count must not change while offline"
                    );
                    screenshot(client, "view-locks-offline").await?;

                    // Back online: a refresh clears the notice.
                    sim.clear_faults();
                    click(client, "#locks-refresh").await?;
                    wait_for_js(
                        client,
                        "the notice to clear",
                        "return !document.querySelector('#status-banner')?.textContent.includes('Offline')",
                    )
                    .await?;

                    // The token is revoked at Unloc: back to sign-in, partner id kept.
                    sim.add_fault(FaultRule::always(
                        Route::Locks,
                        Fault::Status { code: 401, body: None, retry_after: None },
                    ));
                    click(client, "#locks-refresh").await?;
                    wait_visible(client, "#signin-view").await?;
                    let partner = client.find(Locator::Css("#partner-id")).await?.prop("value").await?;
                    ensure_eq!(partner.as_deref(), Some(sim.partner_id()));
                    wait_visible(client, "#signin-error").await?;
                    ensure_eq!(keychain_token(sim), None, "a rejected token is forgotten");
                    audit_secrets(client, &scenario.home, sim.token()).await?;
                    // Reloaded (after the audit: a reload ends its record of the IPC replies), the page
                    // still says why it asks to sign in.
                    client.refresh().await?;
                    wait_visible(client, "#signin-view").await?;
                    wait_for_js(
                        client,
                        "the reason after a reload",
                        "return document.querySelector('#signin-error')?.textContent.includes('did not accept the API token')",
                    )
                    .await?;
                    screenshot(client, "view-signin-after-401-reload").await?;
                    Ok(())
                })
                .await
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_without_a_connection_shows_the_saved_locks_and_keys() -> TestResult {
    let config = SimConfig {
        lockout_after: 0,
        hostile_lock: false,
        locks: 15,
        key_provisioning: Duration::from_millis(300),
        ..SimConfig::default()
    };
    scenario("offline-start", config)
        .audit_secrets_after_close()
        .sessions(async |scenario| {
            scenario
                .run(async |client, scenario| {
                    let sim = &scenario.sim;
                    sign_in(client, sim.token()).await?;
                    open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
                    let key_id = create_key(client, sim, "90000021", "+4790000021").await?;
                    wait_key_status(client, &key_id, "awaitingApproval").await?;
                    Ok(())
                })
                .await?;
            // Unloc cannot be reached at the next start.
            scenario.sim.add_fault(FaultRule::always(Route::Any, Fault::Drop));
            scenario
                .run(async |client, scenario| {
                    let sim = &scenario.sim;
                    wait_visible(client, "#locks-view").await?;
                    wait_for_js(
                        client,
                        "cached lock rows",
                        "return document.querySelectorAll('tr[data-lock-id]').length",
                    )
                    .await?;
                    let banner = banner_text(client, "the offline notice").await?;
                    ensure!(banner.contains("Offline"), "banner: {banner}");
                    let count = text_of(client, "#locks-count").await?;
                    ensure!(count.contains(&sim.locks().len().to_string()), "cached locks: {count}");
                    // The saved list came with the start-up reply (no cached_locks asked), with its age.
                    let asked = client
                        .execute("return performance.getEntriesByName('unloc:reply:cached_locks').length", vec![])
                        .await?;
                    ensure_eq!(asked.as_u64(), Some(0), "the saved locks are read once, with get_startup");
                    let updated = text_of(client, "#locks-updated").await?;
                    ensure!(!updated.trim().is_empty(), "the saved list's age is shown");
                    screenshot(client, "view-offline-start").await?;
                    click(client, "#nav-awaiting").await?;
                    wait_visible(client, "#awaiting-view").await?;
                    wait_for_js(
                        client,
                        "the saved waiting key",
                        "return document.querySelectorAll('#awaiting-view tr[data-key-id]').length",
                    )
                    .await?;
                    record_ipc(client).await?;
                    audit_secrets(client, &scenario.home, sim.token()).await?;
                    Ok(())
                })
                .await
        })
        .await
}
