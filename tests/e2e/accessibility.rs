//! Accessibility: axe-core in the app's own webview on every view, in the light and the dark colour
//! scheme, a visible focus ring at every tab stop, and the keyboard shortcuts overlay.

use std::time::Duration;

use fantoccini::actions::{InputSource, KeyAction, KeyActions};
use fantoccini::key::Key;
use fantoccini::Client;
use serde_json::json;
use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig, Simulator};

use crate::harness::*;

/// axe-core, installed by tests/scripts/setup.sh into target/tools (npm), never committed.
pub fn axe_source() -> TestResult<String> {
    let path = workspace_root().join("target/tools/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path).map_err(|error| {
        format!("{} is missing ({error}): tests/scripts/setup.sh installs axe-core", path.display()).into()
    })
}

/// Runs axe in the real webview; returns the serious and critical violations, one line each.
pub async fn axe_violations(client: &Client, axe: &str) -> TestResult<Vec<String>> {
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

/// How an element is drawn around its edge: outline and shadow, the parts a focus ring is made of.
const RING_STYLE: &str = "const ring = (el) => { const s = getComputedStyle(el); \
    return [s.outlineStyle, s.outlineWidth, s.outlineColor, s.boxShadow, s.borderColor].join(' | '); };";

/// Presses Tab as the keyboard does (a WebDriver key action, not `focus()`), so the browser moves the
/// focus and decides on `:focus-visible` itself.
async fn press_tab(client: &Client) -> TestResult {
    let tab: char = Key::Tab.into();
    let keyboard =
        KeyActions::new("keyboard".to_owned()).then(KeyAction::Down { value: tab }).then(KeyAction::Up { value: tab });
    client.perform_actions(keyboard).await?;
    Ok(())
}

/// Tabs through the page from its start: at every stop the focused element must be drawn with a
/// visible ring that it does not have unfocused. Returns the stops without one. Fails if Tab stops
/// nowhere, since then nothing was checked.
async fn focus_is_always_visible(client: &Client) -> TestResult<Vec<String>> {
    // Every candidate's look without focus, taken before any Tab; then back to the start of the page.
    client
        .execute(
            &format!(
                "{RING_STYLE} document.activeElement?.blur(); window.__unfocused = new Map(); \
                 for (const el of document.querySelectorAll('*')) window.__unfocused.set(el, ring(el)); \
                 window.getSelection()?.removeAllRanges(); document.body.focus(); return true;"
            ),
            vec![],
        )
        .await?;
    let mut missing = Vec::new();
    let mut seen = Vec::new();
    for _ in 0..60 {
        press_tab(client).await?;
        let stop = client
            .execute(
                &format!(
                    "{RING_STYLE} const el = document.activeElement; if (!el || el === document.body) return null; \
                     const name = el.id || el.getAttribute('aria-label') || el.className || el.tagName; \
                     const s = getComputedStyle(el); \
                     const drawn = (s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0) || (s.boxShadow && s.boxShadow !== 'none'); \
                     const before = window.__unfocused.get(el); \
                     return {{ name: String(name), drawn, changed: before === undefined || before !== ring(el), \
                               key: name + '@' + [...document.querySelectorAll('*')].indexOf(el) }};"
                ),
                vec![],
            )
            .await?;
        let Some(stop) = stop.as_object() else { break };
        let key = stop["key"].as_str().unwrap_or_default().to_owned();
        if seen.contains(&key) {
            break; // round the page once
        }
        seen.push(key);
        if stop["drawn"] != json!(true) || stop["changed"] != json!(true) {
            missing.push(stop["name"].as_str().unwrap_or_default().to_owned());
        }
    }
    ensure!(!seen.is_empty(), "Tab moved the focus nowhere");
    #[allow(clippy::print_stderr)] // how far Tab went belongs in the report
    {
        eprintln!("  focus: {} tab stops, {} without a visible ring", seen.len(), missing.len());
    }
    client.execute("document.activeElement?.blur(); return true;", vec![]).await?;
    Ok(missing)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_passes_axe_and_shows_focus() -> TestResult {
    let axe = axe_source()?;
    let mut report = Vec::new();
    let mut failures = Vec::new();
    // Light, then dark: WebKitGTK's prefers-color-scheme follows the GTK theme, which GTK_THEME sets.
    for scheme in ["light", "dark"] {
        let config = SimConfig {
            lockout_after: 0,
            hostile_lock: false,
            locks: 15,
            key_provisioning: Duration::from_millis(300),
            ..SimConfig::default()
        };
        let setup = if scheme == "dark" {
            scenario("accessibility-dark", config).env("GTK_THEME", "Adwaita:dark")
        } else {
            scenario("accessibility", config)
        };
        setup
            .run(async |client, scenario| {
                let dark = client.execute("return matchMedia('(prefers-color-scheme: dark)').matches", vec![]).await?;
                ensure_eq!(dark, json!(scheme == "dark"), "the app's colour scheme under {scheme}");
                audit_every_view(client, &scenario.sim, &axe, scheme, &mut report, &mut failures).await
            })
            .await?;
    }
    #[allow(clippy::print_stderr)] // the report is the point of this test
    {
        eprintln!("accessibility (axe-core in the app's webview, light and dark):\n  {}", report.join("\n  "));
    }
    ensure!(failures.is_empty(), "accessibility problems:\n{}", failures.join("\n"));
    Ok(())
}

/// Every view once: axe's serious and critical violations, and controls without a visible focus ring.
/// In dark mode each view is also kept as a screenshot (`view-*-dark.png`).
async fn audit_every_view(
    client: &Client,
    sim: &Simulator,
    axe: &str,
    scheme: &str,
    report: &mut Vec<String>,
    failures: &mut Vec<String>,
) -> TestResult {
    let dark = scheme == "dark";
    let mut look = async |view: &str, focus: bool| -> TestResult {
        let violations = axe_violations(client, axe).await?;
        let unfocused = if focus { focus_is_always_visible(client).await? } else { Vec::new() };
        report.push(format!(
            "{:<28} {} serious/critical, {} without visible focus",
            format!("{view} ({scheme})"),
            violations.len(),
            unfocused.len()
        ));
        if !violations.is_empty() || !unfocused.is_empty() {
            failures.push(format!("{view} ({scheme}): {violations:?} / no focus ring: {unfocused:?}"));
        }
        if dark {
            screenshot(client, &format!("view-{}-dark", view.replace(" + ", "-").replace(' ', "-"))).await?;
        }
        Ok(())
    };

    wait_visible(client, "#signin-view").await?;
    look("sign-in", true).await?;
    sign_in(client, "wrong-token-wrong-token-wrong-tok").await?;
    wait_visible(client, "#signin-error").await?;
    look("sign-in error", false).await?;

    sign_in(client, sim.token()).await?;
    wait_visible(client, "#locks-view").await?;
    wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
    look("locks", true).await?;

    open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
    wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length").await?;
    click(client, "#new-key").await?;
    wait_visible(client, "#key-form").await?;
    look("lock + key form", true).await?;
    fill(client, "#key-msn", "+4790000031").await?;
    click(client, "#key-submit").await?;
    wait_for_js(client, "the new key", "return document.querySelectorAll('tr[data-key-id]').length").await?;

    click(client, "#nav-keys").await?;
    wait_visible(client, "#keys-view").await?;
    look("keys", true).await?;

    click(client, "#nav-awaiting").await?;
    wait_visible(client, "#awaiting-view").await?;
    wait_visible(client, "#awaiting-view tr[data-key-id]").await?;
    look("awaiting approval", true).await?;

    // The keyboard shortcuts overlay: "?" opens it with the focus inside, Tab stays inside, Esc closes
    // it and the focus goes back to where it was.
    client.execute("document.querySelector('#awaiting-heading').focus(); return true", vec![]).await?;
    client.find(Locator::Css("#awaiting-heading")).await?.send_keys("?").await?;
    wait_for_js(
        client,
        "the shortcuts overlay",
        "const d = document.querySelector('#shortcuts-dialog'); return d.open && d.contains(document.activeElement)",
    )
    .await?;
    let listed = text_of(client, "#shortcuts-dialog").await?;
    ensure!(
        listed.contains("F5") && listed.contains("Esc") && listed.contains('?'),
        "the overlay lists the shortcuts: {listed}"
    );
    look("shortcuts", false).await?;
    client.find(Locator::Css("#shortcuts-close")).await?.send_keys("\u{e004}").await?;
    let inside = client
        .execute("return document.querySelector('#shortcuts-dialog').contains(document.activeElement)", vec![])
        .await?;
    ensure_eq!(inside, json!(true), "Tab left the shortcuts overlay");
    client.find(Locator::Css("#shortcuts-close")).await?.send_keys("\u{e00c}").await?;
    wait_for_js(
        client,
        "the overlay to close with the focus back",
        "return !document.querySelector('#shortcuts-dialog').open && document.activeElement?.id === 'awaiting-heading'",
    )
    .await?;

    click(client, "#nav-settings").await?;
    wait_visible(client, "#settings-view").await?;
    look("settings", true).await?;

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
    look("offline error state", true).await?;
    Ok(())
}
