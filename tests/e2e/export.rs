//! Export and print: a lock's history written by the real app to a path, read back as Excel and CSV
//! (the native save dialog cannot be driven, so the command is called with the path it would have
//! returned), and the print stylesheet applied to a filtered history.

use std::path::Path;

use calamine::{open_workbook, Data, Reader, Xlsx};
use chrono::{Duration, NaiveDateTime};
use fantoccini::Client;
use serde_json::{json, Value};
use unloc_sim::{fixtures, SimConfig};

use crate::harness::*;

/// The app runs in Etc/GMT-3 (the harness's TZ): three hours ahead of UTC.
const APP_OFFSET_HOURS: i64 = 3;

/// Calls an export command the way the UI does after the save dialog, and returns its `ExportDone`
/// (or the `AppError` it rejected with, as `{"error": …}`).
async fn export(client: &Client, command: &str, args: Value) -> TestResult<Value> {
    let reply = client
        .execute_async(
            "const [command, args, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]]; \
             window.__TAURI__.core.invoke(command, args).then(done, (error) => done({ error }));",
            vec![json!(command), args],
        )
        .await?;
    Ok(reply)
}

/// The lock view's export report once it says where the file went ("N rows saved to PATH").
async fn export_report(client: &Client, what: &str) -> TestResult<String> {
    let said = wait_for_js(
        client,
        what,
        "const text = document.querySelector('#events-export-status').textContent; return / saved to /.test(text) && text",
    )
    .await?;
    Ok(said.as_str().unwrap_or_default().to_owned())
}

fn local_time(created: chrono::DateTime<chrono::Utc>) -> NaiveDateTime {
    (created + Duration::hours(APP_OFFSET_HOURS)).naive_utc()
}

fn read_csv(path: &Path, separator: u8) -> TestResult<Vec<Vec<String>>> {
    let bytes = std::fs::read(path)?;
    ensure!(bytes.starts_with(b"\xEF\xBB\xBF"), "the CSV has no UTF-8 byte order mark");
    let mut rows = Vec::new();
    for record in csv::ReaderBuilder::new().delimiter(separator).has_headers(false).from_reader(&bytes[3..]).records() {
        rows.push(record?.iter().map(str::to_owned).collect());
    }
    Ok(rows)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_locks_history_exports_to_excel_and_csv_with_hostile_text_kept_as_text() -> TestResult {
    let config = SimConfig { lockout_after: 0, locks: 22, payloads: true, events_per_lock: 6, ..SimConfig::default() };
    scenario("export", config)
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            // Payload 1 (markup in the lock's and the people's names) with phones "+47<img …>": text that
            // starts with "+", a formula to a spreadsheet.
            let (_, lock_id) = sim.payload_locks().into_iter().nth(1).ok_or("no payload lock 1")?;
            let payload = unloc_sim::payloads::payload(1).ok_or("no payload 1")?;
            let hostile_phone = unloc_sim::payloads::hostile_msn(1).ok_or("payload 1 has no hostile phone")?;
            open_lock(client, &lock_id, "img src").await?;
            wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length").await?;
            let mut events = sim.events(&lock_id).ok_or("the simulator has no events for the lock")?;
            events.sort_by_key(|event| std::cmp::Reverse(event.created));
            ensure!(!events.is_empty());

            let folder = scenario.home.join("exports");
            std::fs::create_dir_all(&folder)?;
            // Excel, in English; the name lacks its extension, as a Linux save dialog may return it.
            let xlsx = folder.join("historikk");
            let done = export(
                client,
                "export_lock_history",
                json!({ "lockId": lock_id, "path": xlsx, "format": "xlsx", "language": "en" }),
            )
            .await?;
            let xlsx = folder.join("historikk.xlsx");
            ensure_eq!(done, json!({ "path": xlsx, "rows": events.len() }), "the export's answer");
            let mut workbook: Xlsx<_> = open_workbook(&xlsx)?;
            ensure_eq!(workbook.sheet_names(), ["Event history"]);
            // Hostile text arrives below as the very string Unloc sent, in a text cell; that the cells
            // which look like formulas carry Excel's quote prefix is read from the workbook's styles by
            // the unit test `export::tests::no_hostile_text_becomes_a_formula_in_an_xlsx` (calamine does not expose it).
            let range = workbook.worksheet_range("Event history")?;
            let heading: Vec<String> =
                (0..6).map(|col| range.get_value((0, col)).map(|cell| cell.to_string()).unwrap_or_default()).collect();
            ensure_eq!(heading, ["Time (Etc/GMT-3)", "Lock", "Event", "Person", "Phone", "Key ID"]);
            ensure_eq!(range.height(), events.len() + 1);
            for (row, event) in (1u32..).zip(&events) {
                let Some(Data::DateTime(when)) = range.get_value((row, 0)) else {
                    return Err(
                        format!("row {row}: the time is not a date cell: {:?}", range.get_value((row, 0))).into()
                    );
                };
                ensure_eq!(
                    when.as_datetime(),
                    Some(local_time(event.created)),
                    "row {row}: the time in the app's zone"
                );
                ensure_eq!(range.get_value((row, 1)), Some(&Data::String(payload.to_owned())), "row {row}: the lock");
                let action = if event.action == "locked" { "Locked" } else { "Unlocked" };
                ensure_eq!(range.get_value((row, 2)), Some(&Data::String(action.to_owned())));
                ensure_eq!(range.get_value((row, 3)), Some(&Data::String(event.name.clone())), "row {row}: the person");
                let phone = range.get_value((row, 4)).cloned().unwrap_or(Data::Empty);
                ensure!(
                    phone == Data::String(event.msn.clone()) || (event.msn.is_empty() && phone == Data::Empty),
                    "row {row}: phone {phone:?}, Unloc sent {:?}",
                    event.msn
                );
                ensure_eq!(range.get_value((row, 5)), Some(&Data::String(event.key_id.clone())));
            }
            ensure!(events.iter().any(|event| event.msn == hostile_phone), "no hostile phone in the history");
            ensure!(events.iter().any(|event| event.name == payload), "no hostile name in the history");

            // CSV, in Norwegian: ";" between fields, and the "+47<img …>" phones quoted as text.
            let csv_path = folder.join("historikk.csv");
            let done = export(
                client,
                "export_lock_history",
                json!({ "lockId": lock_id, "path": csv_path, "format": "csv", "language": "nb" }),
            )
            .await?;
            ensure_eq!(done["rows"], json!(events.len()));
            let rows = read_csv(&csv_path, b';')?;
            ensure_eq!(rows[0], ["Tidspunkt (Etc/GMT-3)", "Lås", "Hendelse", "Person", "Telefon", "Nøkkel-ID"]);
            for (row, event) in rows[1..].iter().zip(&events) {
                ensure_eq!(row[0], local_time(event.created).format("%Y-%m-%d %H:%M:%S").to_string());
                ensure_eq!(row[3], event.name);
                let expected_phone =
                    if event.msn.starts_with('+') { format!("'{}", event.msn) } else { event.msn.clone() };
                ensure_eq!(row[4], expected_phone, "a phone starting with + must not be a formula");
            }

            // A folder that does not exist: a clear error, nothing written.
            let missing = folder.join("gone").join("x.csv");
            let failed = export(
                client,
                "export_lock_history",
                json!({ "lockId": lock_id, "path": missing, "format": "csv", "language": "en" }),
            )
            .await?;
            ensure_eq!(failed["error"]["kind"], json!("exportFailed"), "{failed}");

            // The Keys list: every known key (the histories' keys here), in English CSV.
            let keys_path = folder.join("keys.csv");
            let done =
                export(client, "export_keys", json!({ "path": keys_path, "format": "csv", "language": "en" })).await?;
            let rows = read_csv(&keys_path, b',')?;
            ensure_eq!(rows[0][0], "Status");
            ensure_eq!(done["rows"], json!(rows.len() - 1));
            ensure!(rows.len() > 1, "no key in the keys export");
            assert_nothing_executed(client).await?;
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_printed_history_has_no_navigation_and_the_filter_at_the_top() -> TestResult {
    scenario("export-print", SimConfig { lockout_after: 0, events_per_lock: 40, ..SimConfig::default() })
        .run(async |client, scenario| {
            sign_in(client, scenario.sim.token()).await?;
            wait_lock_rows(client).await?;
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length").await?;
            // Only the locked events: the printout must say so and hold exactly those.
            client
                .execute("const s = document.querySelector('#events-action'); s.value = 'locked'; s.dispatchEvent(new Event('change'));", vec![])
                .await?;
            let locked = scenario.sim.events(fixtures::UUID_LOCK_ID).ok_or("no events")?.iter().filter(|e| e.action == "locked").count();
            ensure!(locked > 0);
            let count = text_of(client, "#events-count").await?;
            wait_visible(client, "#events-export-xlsx").await?;
            screenshot(client, "export-lock-view").await?;
            // As the browser does before printing (the Print button's window.print() opens a native
            // dialog WebDriver cannot close), then the print stylesheet applied to the screen.
            let printed = client
                .execute(
                    "window.dispatchEvent(new Event('beforeprint')); document.querySelector('#print-css').media = 'all'; \
                     const sheet = document.querySelector('#lock-view .print-sheet'); const seen = (sel) => { const el = document.querySelector(sel); \
                       return !!el && getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0; }; \
                     return { header: seen('#app-header'), toolbar: seen('#lock-view .toolbar'), screenTable: seen('#lock-view .table-region'), \
                       buttons: seen('#events-print'), sheet: seen('#lock-view .print-sheet'), \
                       title: sheet.querySelector('h1')?.textContent, filter: sheet.querySelector('.print-filter')?.textContent, \
                       heads: [...sheet.querySelectorAll('th')].map((th) => th.textContent), \
                       rows: sheet.querySelectorAll('tbody tr').length, \
                       actions: [...new Set([...sheet.querySelectorAll('tbody tr')].map((tr) => tr.cells[1].textContent))] };",
                    vec![],
                )
                .await?;
            screenshot(client, "export-print-preview").await?;
            ensure_eq!(printed["header"], json!(false), "the navigation is printed: {printed}");
            ensure_eq!(printed["toolbar"], json!(false), "the filter controls are printed: {printed}");
            ensure_eq!(printed["screenTable"], json!(false), "the virtualized table is printed: {printed}");
            ensure_eq!(printed["buttons"], json!(false), "the buttons are printed: {printed}");
            ensure_eq!(printed["sheet"], json!(true), "the printout is not shown: {printed}");
            ensure_eq!(printed["title"], json!(format!("Event history for {}, newest first", fixtures::UUID_LOCK_NAME)));
            ensure_eq!(printed["filter"], json!(format!("Showing: Locked · {count}")), "the filter at the top");
            ensure_eq!(printed["heads"], json!(["When", "What", "Who", "Phone"]));
            ensure_eq!(printed["rows"], json!(locked), "every locked event, and only those");
            ensure_eq!(printed["actions"], json!(["Locked"]));
            // No screen table row was copied with its test hooks.
            let hooks = client.execute("return document.querySelectorAll('.print-sheet [data-event-id]').length", vec![]).await?;
            ensure_eq!(hooks, json!(0));
            client
                .execute("document.querySelector('#print-css').media = 'print'; window.dispatchEvent(new Event('afterprint'));", vec![])
                .await?;
            let emptied = client.execute("return document.querySelector('#lock-view .print-sheet').childElementCount", vec![]).await?;
            ensure_eq!(emptied, json!(0), "the printout is not emptied after printing");
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_searched_history_exports_only_the_events_on_screen_and_says_so() -> TestResult {
    // The save dialog answers with the name it is offered, in a folder of the test's own (the
    // scenario's folder is made afresh when the app starts).
    let folder = std::env::temp_dir().join(format!("unloc-e2e-history-search-{}-files", std::process::id()));
    let _ = std::fs::remove_dir_all(&folder);
    std::fs::create_dir_all(&folder)?;
    scenario("export-searched", SimConfig { lockout_after: 0, events_per_lock: 40, ..SimConfig::default() })
        .env("UNLOC_E2E_SAVE_DIR", &folder.display().to_string())
        .run(async |client, scenario| {
            let events = scenario.sim.events(fixtures::UUID_LOCK_ID).ok_or("no events")?;
            // The phone used most in the lock's history: searched for, it leaves some events, not all.
            let phone = events
                .iter()
                .filter(|event| !event.msn.is_empty())
                .max_by_key(|event| events.iter().filter(|other| other.msn == event.msn).count())
                .map(|event| event.msn.clone())
                .ok_or("no phone in the history")?;
            let theirs = events.iter().filter(|event| event.msn.contains(&phone)).count();
            let total = events.len();
            ensure!(theirs > 0 && theirs < total, "{theirs} of {total} events have {phone}");
            sign_in(client, scenario.sim.token()).await?;
            wait_lock_rows(client).await?;
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            wait_for_count(client, "#events-count", [total as u64, total as u64]).await?;
            let scope_hidden =
                client.execute("return document.querySelector('#events-export-scope').hidden", vec![]).await?;
            ensure_eq!(scope_hidden, json!(true), "a note about a filter while nothing is filtered");

            // What the export asks Rust for, watched on its way.
            let watched = client
                .execute(
                    "const tauri = window.__TAURI__; const invoke = tauri.core.invoke; window.__exported = []; \
                     const watched = (command, args, options) => \
                       (command === 'export_lock_history' && window.__exported.push(args), invoke(command, args, options)); \
                     window.__TAURI__ = { ...tauri, core: { ...tauri.core, invoke: watched } }; \
                     return window.__TAURI__.core.invoke === watched;",
                    vec![],
                )
                .await?;
            ensure_eq!(watched, json!(true), "the export's request cannot be watched");

            // Typed and exported at once, before the search's debounce: the file holds the search's rows.
            fill(client, "#events-search", &phone).await?;
            click(client, "#events-export-csv").await?;
            let said = export_report(client, "the export's report").await?;
            let (rows, path) = said.split_once(" saved to ").ok_or(format!("the report: {said}"))?;
            ensure_eq!(rows, format!("{theirs} rows"), "the rows the export says it wrote");
            let path = Path::new(path);
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            ensure!(
                name.starts_with(&format!("Event history {} ({theirs} of {total} events) ", fixtures::UUID_LOCK_NAME)),
                "the file name does not say it is filtered: {name}"
            );
            let rows = read_csv(path, b',')?;
            ensure_eq!(rows.len(), theirs + 1, "one row per event on screen");
            // Of the ids shown and the ids hidden, the fewer were sent.
            let sent = client.execute("return window.__exported.map((args) => args.shown)", vec![]).await?;
            ensure_eq!(sent.as_array().map(Vec::len), Some(1), "one export sent: {sent}");
            let (list, length) = if theirs * 2 > total { ("except", total - theirs) } else { ("only", theirs) };
            ensure_eq!(sent[0][list].as_array().map(Vec::len), Some(length), "{theirs} of {total} shown: {sent}");
            ensure!(rows[1..].iter().all(|row| row[4] == format!("'{phone}")), "rows of other phones: {rows:?}");
            ensure_eq!(text_of(client, "#events-count").await?, format!("Showing {theirs} of {total} events"));
            ensure_eq!(
                visible_text(client, "#events-export-scope").await?,
                format!(
                    "Export and Print give only the {theirs} of {total} events shown (the search and filter above)."
                )
            );
            screenshot(client, "export-searched-history").await?;

            // The search emptied: the whole history, under the plain name.
            fill(client, "#events-search", "").await?;
            wait_for_count(client, "#events-count", [total as u64, total as u64]).await?;
            client.execute("document.querySelector('#events-export-status').textContent = ''", vec![]).await?;
            click(client, "#events-export-xlsx").await?;
            let said = export_report(client, "the second export's report").await?;
            ensure!(said.starts_with(&format!("{total} rows saved to ")), "{said}");
            ensure!(
                said.contains(&format!("Event history {} 2", fixtures::UUID_LOCK_NAME)),
                "the whole history's name: {said}"
            );
            let scope_hidden =
                client.execute("return document.querySelector('#events-export-scope').hidden", vec![]).await?;
            ensure_eq!(scope_hidden, json!(true), "the note stays after the search is emptied");
            Ok(())
        })
        .await
}
