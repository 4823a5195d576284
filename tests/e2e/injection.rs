//! Injection: every payload of the simulator in every text field (name, address, data, title, person,
//! phone, route) shows as literal text, never runs, and does not break the layout.

use fantoccini::Client;
use serde_json::json;
use unloc_sim::{fixtures, SimConfig, Simulator};

use crate::harness::*;

/// Scrolls the locks table until the row of `lock_id` is rendered (the list is virtualized).
async fn bring_lock_row_into_view(client: &Client, lock_id: &str) -> TestResult {
    bring_row_into_view(client, "#locks-view", "lock-id", lock_id).await
}

/// Scrolls the table of `view` until its row with `data-<attribute>` = `id` is rendered.
async fn bring_row_into_view(client: &Client, view: &str, attribute: &str, id: &str) -> TestResult {
    let found = client
        .execute_async(
            "const [view, attribute, id, done] = [arguments[0], arguments[1], arguments[2], arguments[arguments.length - 1]]; \
             const scroller = document.querySelector(`${view} .table-scroller`); let top = 0; \
             const step = () => { const row = document.querySelector(`${view} tr[data-${attribute}=\"${CSS.escape(id)}\"]`); \
               if (row) { row.scrollIntoView({ block: 'center' }); requestAnimationFrame(() => done(true)); return; } \
               if (top > scroller.scrollHeight) { done(false); return; } \
               top += 200; scroller.scrollTop = top; requestAnimationFrame(() => requestAnimationFrame(step)); }; \
             scroller.scrollTop = 0; requestAnimationFrame(step);",
            vec![json!(view), json!(attribute), json!(id)],
        )
        .await?;
    ensure_eq!(found, json!(true), "the row of {id} never rendered in {view}");
    Ok(())
}

/// The page did not grow sideways: hostile text must not break the layout.
async fn layout_holds(client: &Client) -> TestResult<bool> {
    let fits = client
        .execute("const d = document.documentElement; return d.scrollWidth <= d.clientWidth + 1;", vec![])
        .await?;
    Ok(fits == json!(true))
}

/// Markup that could run: any `on…` attribute, and any `javascript:` URL in an attribute that takes one.
/// The app writes none itself, so any found came from hostile text. Returns one line per find.
async fn active_markup(client: &Client) -> TestResult<Vec<String>> {
    let found = client
        .execute(
            "const found = []; const urls = new Set(['href', 'src', 'action', 'formaction', 'xlink:href', 'data', 'srcdoc']); \
             for (const el of document.querySelectorAll('*')) for (const a of el.attributes) { \
               const name = a.name.toLowerCase(); \
               if (name.startsWith('on')) found.push(`${el.tagName} ${name}`); \
               if (urls.has(name) && /^\\s*javascript:/i.test(a.value.replace(/[\\u0000-\\u001f]/g, ''))) found.push(`${el.tagName} ${name}=${a.value.slice(0, 40)}`); } \
             return found;",
            vec![],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}

/// Fails the scenario when the page holds active markup (see [`active_markup`]) in `view`.
async fn no_active_markup(client: &Client, view: &str) -> TestResult {
    let found = active_markup(client).await?;
    ensure!(found.is_empty(), "active markup in the {view}: {found:?}");
    Ok(())
}

/// `String.prototype.trim` of the page: Unicode white space and the byte-order mark.
fn js_trim(text: &str) -> &str {
    text.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
}

/// The address line the locks view shows for a lock (ui/js/format.js `formatAddress`; Norway is not named).
fn address_line(lock: &unloc_sim::Lock) -> String {
    let clean = |value: &Option<String>| value.as_deref().map(js_trim).unwrap_or_default().to_owned();
    let place: Vec<String> =
        [clean(&lock.postal_code), clean(&lock.city)].into_iter().filter(|part| !part.is_empty()).collect();
    let lines: Vec<String> =
        [clean(&lock.street), place.join(" ")].into_iter().filter(|part| !part.is_empty()).collect();
    lines.join(", ")
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
            let mut table = vec![format!("{:<18} {:<6} {:<6} {:<6} {:<6} {:<6} {:<6} {:<7} {:<7} {}", "payload", "name", "addr", "data", "title", "who", "phone", "route", "confirm", "layout")];
            let mut failures = Vec::new();
            let locks = sim.locks();
            // (payload index, key id, lock name) of every key made below, for the Keys and Awaiting views.
            let mut made = Vec::new();
            for (index, (short, lock_id)) in sim.payload_locks().into_iter().enumerate() {
                let payload = unloc_sim::payloads::payload(index).ok_or("no payload")?;
                click(client, "#nav-locks").await?;
                wait_visible(client, "#locks-view").await?;
                bring_lock_row_into_view(client, &lock_id).await?;
                let row = format!("tr[data-lock-id=\"{lock_id}\"]");
                let name_ok = text_at(format!("{row} .lock-name")).await? == payload;
                let lock = locks.iter().find(|lock| lock.id == lock_id).ok_or("a payload lock the simulator does not have")?;
                let address_ok = text_at(format!("{row} .lock-address")).await? == address_line(lock);
                let data_ok = text_at(format!("{row} .lock-data")).await? == payload;
                let list_layout = layout_holds(client).await?;
                no_active_markup(client, &format!("locks view ({short})")).await?;

                open_lock_row(client, &format!("{row} .lock-name")).await?;
                wait_visible(client, "#lock-view").await?;
                let title_ok = text_of(client, "#lock-title").await? == payload;
                wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length").await?;
                // Some rows are the partner's own use (its own name): any person's row must show the payload.
                let any_cell = "return [...document.querySelectorAll(`tr[data-event-id] ${arguments[0]}`)].some(td => td.textContent.includes(arguments[1]));";
                let exact_cell = "return [...document.querySelectorAll(`tr[data-event-id] ${arguments[0]}`)].some(td => td.textContent === arguments[1]);";
                let who_ok = client.execute(any_cell, vec![json!(".event-who"), json!(payload)]).await? == json!(true);
                no_active_markup(client, &format!("lock view ({short})")).await?;
                let phone_ok = match unloc_sim::payloads::hostile_msn(index) {
                    // Not a Norwegian number, so shown exactly as Unloc sent it.
                    Some(msn) => client.execute(exact_cell, vec![json!(".event-phone"), json!(msn)]).await? == json!(true),
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
                let (route_ok, route_mark, confirm_ok) = if too_long {
                    // A route is a short label: a 2,000-character one is refused before sending.
                    visible_text(client, "#key-form-error").await?;
                    click(client, "#key-cancel").await?;
                    (true, "refused", true)
                } else {
                    let (ok, key_id) = created_route_shows(client, sim, index, payload, typeable).await?;
                    made.push((index, key_id.clone(), lock.name.clone()));
                    // The revoke confirmation names the lock: as text. Kept, for the views below.
                    click(client, &format!("#lock-keys tr[data-key-id=\"{key_id}\"] .key-revoke")).await?;
                    wait_visible(client, "#confirm-dialog").await?;
                    let named = client
                        .execute("return [...document.querySelectorAll('#confirm-body strong')].map(s => s.textContent);", vec![])
                        .await?;
                    let confirm_ok = named.as_array().is_some_and(|names| names.iter().any(|name| name == &json!(payload)));
                    no_active_markup(client, &format!("revoke confirmation ({short})")).await?;
                    click(client, "#confirm-no").await?;
                    (ok, if !typeable { "n/a" } else if ok { "text" } else { "WRONG" }, confirm_ok)
                };
                let lock_layout = layout_holds(client).await?;
                assert_nothing_executed(client).await?;

                let mark = |ok: bool| if ok { "text" } else { "WRONG" };
                table.push(format!(
                    "{short:<18} {:<6} {:<6} {:<6} {:<6} {:<6} {:<6} {:<7} {:<7} {}",
                    mark(name_ok), mark(address_ok), mark(data_ok), mark(title_ok), mark(who_ok), mark(phone_ok),
                    route_mark, mark(confirm_ok),
                    if list_layout && lock_layout { "holds" } else { "BROKEN" },
                ));
                if !(name_ok && address_ok && data_ok && title_ok && who_ok && phone_ok && route_ok && confirm_ok && list_layout && lock_layout) {
                    failures.push(short);
                }
            }
            screenshot(client, "view-injection").await?;
            assert_nothing_executed(client).await?;

            // The Keys view names each key's lock and route; the Awaiting view each waiting key's lock.
            click(client, "#nav-keys").await?;
            wait_visible(client, "#keys-view").await?;
            let mut views_wrong = Vec::new();
            for (index, key_id, lock_name) in &made {
                bring_row_into_view(client, "#keys-view", "key-id", key_id).await?;
                let row = format!("#keys-view tr[data-key-id=\"{key_id}\"]");
                let lock_cell = wait_for_js(client, "the key's row", &format!("return document.querySelector('{row} .key-lock')?.textContent ?? null")).await?;
                if lock_cell.as_str() != Some(lock_name.as_str()) {
                    views_wrong.push(format!("keys view, lock of payload {index}: {lock_cell}"));
                }
                let payload = unloc_sim::payloads::payload(*index).unwrap_or_default();
                let route = text_of(client, &format!("{row} .key-route")).await?;
                if !payload.contains('\0') && route != js_trim(payload) {
                    views_wrong.push(format!("keys view, route of payload {index}: {route:?}"));
                }
            }
            no_active_markup(client, "keys view").await?;
            click(client, "#nav-awaiting").await?;
            wait_visible(client, "#awaiting-view").await?;
            let awaiting: Vec<(String, String)> = serde_json::from_value(
                client
                    .execute("return [...document.querySelectorAll('#awaiting-view tr[data-key-id]')].map(r => [r.dataset.keyId, r.querySelector('.key-lock')?.textContent ?? '']);", vec![])
                    .await?,
            )?;
            ensure!(!awaiting.is_empty(), "no key waits for an owner: the payload locks should include opt-in ones");
            for (key_id, lock_cell) in &awaiting {
                if let Some((index, _, lock_name)) = made.iter().find(|(_, id, _)| id == key_id) {
                    if lock_cell != lock_name {
                        views_wrong.push(format!("awaiting view, lock of payload {index}: {lock_cell:?}"));
                    }
                }
            }
            no_active_markup(client, "awaiting view").await?;
            // The key notices (keys that became active or wait, by lock and recipient) hold text only.
            let notices = text_of(client, "#key-notices").await.unwrap_or_default();
            no_active_markup(client, "key notices").await?;
            assert_nothing_executed(client).await?;
            table.push(format!(
                "Keys view: {} keys; Awaiting view: {} keys; notices: {} characters; {} wrong",
                made.len(),
                awaiting.len(),
                notices.chars().count(),
                views_wrong.len()
            ));
            #[allow(clippy::print_stderr)] // the payload table is the report of this test
            {
                eprintln!("injection payloads (canary window.__pwned never set):\n  {}", table.join("\n  "));
            }
            ensure!(failures.is_empty(), "payloads not shown as literal text or breaking the layout: {failures:?}");
            ensure!(views_wrong.is_empty(), "payloads not shown exactly in the Keys or Awaiting view: {views_wrong:?}");
            Ok(())
        })
        .await
}

/// The key just created on this lock shows its route (the payload) exactly, as the page trims it;
/// returns that and the key's id.
async fn created_route_shows(
    client: &Client,
    sim: &Simulator,
    index: usize,
    payload: &str,
    typeable: bool,
) -> TestResult<(bool, String)> {
    // The lock also lists keys seen in its history: find the one just created.
    let msn = format!("+479{:07}", 1000 + index);
    let key_id = wait_for_key(sim, &msn).await?;
    let route_cell = format!("#lock-keys tr[data-key-id=\"{key_id}\"] .key-route");
    wait_visible(client, &route_cell).await?;
    let route = text_of(client, &route_cell).await?;
    Ok((!typeable || route == js_trim(payload), key_id))
}
