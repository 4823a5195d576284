//! Accessibility: axe-core in the app's own webview on every view, and a visible focus ring at every
//! tab stop.

use std::time::Duration;

use fantoccini::Client;
use serde_json::json;
use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig};

use crate::harness::*;

/// axe-core, installed by tests/scripts/setup.sh into target/tools (npm), never committed.
fn axe_source() -> TestResult<String> {
    let path = workspace_root().join("target/tools/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).map_err(|error| {
        format!("{} is missing ({error}): tests/scripts/setup.sh installs axe-core", path.display()).into()
    })
}

/// Runs axe in the real webview; returns the serious and critical violations, one line each.
async fn axe_violations(client: &Client, axe: &str) -> TestResult<Vec<String>> {
    let loaded = client.execute("return typeof window.axe === 'object'", vec![]).await?;
    if loaded != json!(true) {
        client.execute(&format!("{axe}\nreturn true;"), vec![]).await?;
    }
    let found = client
        .execute_async(
            "const done = arguments[arguments.length - 1]; \
             axe.run(document, { resultTypes: ['violations'] }).then(result => done(result.violations \
               .filter(v => v.impact === 'serious' || v.impact === 'critical') \
               .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).slice(0, 3).join(', ')})`)), \
               error => done([`axe failed: ${error}`]));",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

/// Tabs through the page: every stop must show a visible focus indicator.
async fn focus_is_always_visible(client: &Client) -> TestResult<Vec<String>> {
    let missing = client
        .execute(
            "const hidden = []; const focusable = [...document.querySelectorAll('a[href], button, input, select, textarea, [tabindex]')] \
               .filter(el => !el.disabled && el.tabIndex >= 0 && el.getClientRects().length && !el.closest('[hidden]')); \
             for (const el of focusable.slice(0, 60)) { el.focus({ focusVisible: true }); \
               if (document.activeElement !== el) continue; const style = getComputedStyle(el); \
               const ring = (style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0) || (style.boxShadow && style.boxShadow !== 'none'); \
               if (!ring) hidden.push(el.id || el.className || el.tagName); } \
             document.activeElement?.blur(); return hidden;",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(missing)?)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_passes_axe_and_shows_focus() -> TestResult {
    let config =
        SimConfig { lockout_after: 0, locks: 15, key_provisioning: Duration::from_millis(300), ..SimConfig::default() };
    scenario("accessibility", config)
        .run(async |client, scenario| {
            let axe = axe_source()?;
            let sim = &scenario.sim;
            let mut report = Vec::new();
            let mut check = |view: &'static str, violations: Vec<String>, unfocused: Vec<String>| {
                report.push(format!(
                    "{view:<22} {} serious/critical, {} without visible focus",
                    violations.len(),
                    unfocused.len()
                ));
                (view, violations, unfocused)
            };
            let mut failures = Vec::new();
            let mut audit = |result: (&'static str, Vec<String>, Vec<String>)| {
                if !result.1.is_empty() || !result.2.is_empty() {
                    failures.push(format!("{}: {:?} / no focus ring: {:?}", result.0, result.1, result.2));
                }
            };

            wait_visible(client, "#signin-view").await?;
            audit(check("sign-in", axe_violations(client, &axe).await?, focus_is_always_visible(client).await?));
            sign_in(client, "wrong-token-wrong-token-wrong-tok").await?;
            wait_visible(client, "#signin-error").await?;
            audit(check("sign-in error", axe_violations(client, &axe).await?, Vec::new()));

            sign_in(client, sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            wait_lock_rows(client).await?;
            audit(check("locks", axe_violations(client, &axe).await?, focus_is_always_visible(client).await?));

            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length").await?;
            click(client, "#new-key").await?;
            wait_visible(client, "#key-form").await?;
            audit(check(
                "lock + key form",
                axe_violations(client, &axe).await?,
                focus_is_always_visible(client).await?,
            ));
            fill(client, "#key-msn", "+4790000031").await?;
            click(client, "#key-submit").await?;
            wait_for_js(client, "the new key", "return document.querySelectorAll('tr[data-key-id]').length").await?;

            click(client, "#nav-keys").await?;
            wait_visible(client, "#keys-view").await?;
            audit(check("keys", axe_violations(client, &axe).await?, focus_is_always_visible(client).await?));

            click(client, "#nav-awaiting").await?;
            wait_visible(client, "#awaiting-view").await?;
            audit(check(
                "awaiting approval",
                axe_violations(client, &axe).await?,
                focus_is_always_visible(client).await?,
            ));

            click(client, "#nav-settings").await?;
            wait_visible(client, "#settings-view").await?;
            audit(check("settings", axe_violations(client, &axe).await?, focus_is_always_visible(client).await?));

            // An error state: offline with data on screen.
            sim.add_fault(FaultRule::always(Route::Any, Fault::Drop));
            click(client, "#nav-locks").await?;
            click(client, "#locks-refresh").await?;
            wait_for_js(
                client,
                "the offline notice",
                "return document.querySelector('#status-banner')?.textContent.includes('Offline')",
            )
            .await?;
            audit(check(
                "offline error state",
                axe_violations(client, &axe).await?,
                focus_is_always_visible(client).await?,
            ));

            #[allow(clippy::print_stderr)] // the report is the point of this test
            {
                eprintln!("accessibility (axe-core in the app's webview):\n  {}", report.join("\n  "));
            }
            ensure!(failures.is_empty(), "accessibility problems:\n{}", failures.join("\n"));
            Ok(())
        })
        .await
}
