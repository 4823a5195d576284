//! Injection: every payload of the simulator in every text field (name, address, data, title, person,
//! phone, route) shows as literal text, never runs, and does not break the layout.

use fantoccini::Client;
use serde_json::json;
use unloc_sim::{fixtures, SimConfig, Simulator};

use crate::harness::*;

/// Scrolls the locks table until the row of `lock_id` is rendered (the list is virtualized).
async fn bring_lock_row_into_view(client: &Client, lock_id: &str) -> TestResult {
    let found = client
        .execute_async(
            "const [id, done] = [arguments[0], arguments[arguments.length - 1]]; \
             const scroller = document.querySelector('#locks-view .table-scroller'); let top = 0; \
             const step = () => { const row = document.querySelector(`tr[data-lock-id=\"${CSS.escape(id)}\"]`); \
               if (row) { row.scrollIntoView({ block: 'center' }); requestAnimationFrame(() => done(true)); return; } \
               if (top > scroller.scrollHeight) { done(false); return; } \
               top += 200; scroller.scrollTop = top; requestAnimationFrame(() => requestAnimationFrame(step)); }; \
             scroller.scrollTop = 0; requestAnimationFrame(step);",
            vec![json!(lock_id)],
        )
        .await?;
    ensure_eq!(found, json!(true), "the row of {lock_id} never rendered");
    Ok(())
}

/// The page did not grow sideways: hostile text must not break the layout.
async fn layout_holds(client: &Client) -> TestResult<bool> {
    let fits = client
        .execute("const d = document.documentElement; return d.scrollWidth <= d.clientWidth + 1;", vec![])
        .await?;
    Ok(fits == json!(true))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_text_stays_text_in_every_field() -> TestResult {
    let config = SimConfig { lockout_after: 0, locks: 22, payloads: true, events_per_lock: 6, ..SimConfig::default() };
    scenario("injection", config)
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            // The hostile fixture lock: its markup shows as text, nothing runs.
            let hostile_row = format!("tr[data-lock-id=\"{}\"]", fixtures::HOSTILE_LOCK_ID);
            search_locks(client, "Bakdør").await?;
            let name = visible_text(client, &format!("{hostile_row} .lock-name")).await?;
            ensure_eq!(name.trim(), fixtures::HOSTILE_NAME.trim());
            let data = text_of(client, &format!("{hostile_row} .lock-data")).await?;
            ensure_eq!(data.trim(), fixtures::HOSTILE_DATA);
            let injected = client
                .execute("return document.querySelectorAll('#locks-view img, #locks-view svg script, #locks-view tbody script').length", vec![])
                .await?;
            ensure_eq!(injected, json!(0), "hostile markup became elements");
            assert_nothing_executed(client).await?;
            search_locks(client, "").await?;

            let text_at = |css: String| async move { text_of(client, &css).await };
            let mut table = vec![format!("{:<18} {:<6} {:<6} {:<6} {:<6} {:<6} {:<6} {:<7} {}", "payload", "name", "addr", "data", "title", "who", "phone", "route", "layout")];
            let mut failures = Vec::new();
            for (index, (short, lock_id)) in sim.payload_locks().into_iter().enumerate() {
                let payload = unloc_sim::payloads::payload(index).ok_or("no payload")?;
                click(client, "#nav-locks").await?;
                wait_visible(client, "#locks-view").await?;
                bring_lock_row_into_view(client, &lock_id).await?;
                let row = format!("tr[data-lock-id=\"{lock_id}\"]");
                let name_ok = text_at(format!("{row} .lock-name")).await? == payload;
                let address = text_at(format!("{row} .lock-address")).await?;
                let address_ok = address.contains(payload);
                let data_ok = text_at(format!("{row} .lock-data")).await? == payload;
                let list_layout = layout_holds(client).await?;

                open_lock_row(client, &format!("{row} .lock-name")).await?;
                wait_visible(client, "#lock-view").await?;
                let title_ok = text_of(client, "#lock-title").await? == payload;
                wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length").await?;
                // Some rows are the partner's own use (its own name): any person's row must show the payload.
                let any_cell = "return [...document.querySelectorAll(`tr[data-event-id] ${arguments[0]}`)].some(td => td.textContent.includes(arguments[1]));";
                let who_ok = client.execute(any_cell, vec![json!(".event-who"), json!(payload)]).await? == json!(true);
                let phone_ok = match unloc_sim::payloads::hostile_msn(index) {
                    Some(msn) => client.execute(any_cell, vec![json!(".event-phone"), json!(msn)]).await? == json!(true),
                    None => !text_of(client, "tr[data-event-id] .event-phone").await?.is_empty(),
                };
                // A key whose route is the payload, typed by the user.
                click(client, "#new-key").await?;
                wait_visible(client, "#key-form").await?;
                fill(client, "#key-msn", &format!("+479{:07}", 1000 + index)).await?; // the same number is looked up below
                let typeable = !payload.contains('\0');
                if typeable {
                    // Set as if typed: WebKitWebDriver cannot type characters outside the BMP (emoji).
                    client
                        .execute(
                            "const field = document.querySelector('#key-route'); field.value = arguments[0]; \
                             field.dispatchEvent(new Event('input', { bubbles: true }));",
                            vec![json!(payload)],
                        )
                        .await?;
                }
                click(client, "#key-submit").await?;
                let too_long = typeable && payload.chars().count() > 100;
                let (route_ok, route_mark) = if too_long {
                    // A route is a short label: a 2,000-character one is refused before sending.
                    visible_text(client, "#key-form-error").await?;
                    click(client, "#key-cancel").await?;
                    (true, "refused")
                } else {
                    let ok = created_route_shows(client, sim, index, payload, typeable).await?;
                    (ok, if !typeable { "n/a" } else if ok { "text" } else { "WRONG" })
                };
                let lock_layout = layout_holds(client).await?;
                assert_nothing_executed(client).await?;

                let mark = |ok: bool| if ok { "text" } else { "WRONG" };
                table.push(format!(
                    "{short:<18} {:<6} {:<6} {:<6} {:<6} {:<6} {:<6} {:<7} {}",
                    mark(name_ok), mark(address_ok), mark(data_ok), mark(title_ok), mark(who_ok), mark(phone_ok),
                    route_mark,
                    if list_layout && lock_layout { "holds" } else { "BROKEN" },
                ));
                if !(name_ok && address_ok && data_ok && title_ok && who_ok && phone_ok && route_ok && list_layout && lock_layout) {
                    failures.push(short);
                }
            }
            screenshot(client, "view-injection").await?;
            assert_nothing_executed(client).await?;
            #[allow(clippy::print_stderr)] // the payload table is the report of this test
            {
                eprintln!("injection payloads (canary window.__pwned never set):\n  {}", table.join("\n  "));
            }
            ensure!(failures.is_empty(), "payloads not shown as literal text or breaking the layout: {failures:?}");
            Ok(())
        })
        .await
}

/// The key just created on this lock shows its route (the payload) as text.
async fn created_route_shows(
    client: &Client,
    sim: &Simulator,
    index: usize,
    payload: &str,
    typeable: bool,
) -> TestResult<bool> {
    // The lock also lists keys seen in its history: find the one just created.
    let msn = format!("+479{:07}", 1000 + index);
    let key_id = wait_for_key(sim, &msn).await?;
    let route_cell = format!("#lock-keys tr[data-key-id=\"{key_id}\"] .key-route");
    wait_visible(client, &route_cell).await?;
    let route = text_of(client, &route_cell).await?;
    Ok(!typeable || route.contains(payload.trim()))
}
