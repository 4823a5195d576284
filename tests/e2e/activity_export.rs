//! Activity's export and print, the "Visits per customer" report, and the people import's preview,
//! driven through their real buttons. WebDriver cannot drive the OS file dialogs, so the app runs
//! with `UNLOC_E2E_SAVE_DIR` / `UNLOC_E2E_OPEN_FILE` (debug builds only), which answer them as a
//! user would; everything after — the export of the view's current filter, the file Rust writes, the
//! import's preview — is the app's own. The files are read back with calamine and the csv crate.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDateTime, Utc};
use fantoccini::Client;
use serde_json::{json, Value};
use unloc_sim::{Event, SimConfig};

use crate::accessibility::{axe_source, axe_violations};
use crate::harness::*;

/// The suite's zone (TZ=Etc/GMT-3): UTC+3 all year.
fn local(at: DateTime<Utc>) -> NaiveDateTime {
    (at + Duration::hours(3)).naive_utc()
}

fn local_month(at: DateTime<Utc>) -> String {
    let at = at.with_timezone(&FixedOffset::east_opt(3 * 3600).expect("a valid offset"));
    format!("{:04}-{:02}", at.year(), at.month())
}

/// Presses an Export button (the app started with `UNLOC_E2E_SAVE_DIR`: the save dialog answers with
/// the offered name in that folder); waits for "N rows saved to …" and returns the rows and the file.
async fn export_by_button(client: &Client, button: &str, status: &str) -> TestResult<(u64, PathBuf)> {
    client.execute("document.querySelector(arguments[0]).textContent = ''", vec![json!(status)]).await?;
    click(client, button).await?;
    let said = wait_for_js(
        client,
        "the export's report",
        &format!("const text = document.querySelector('{status}').textContent; return / saved to /.test(text) && text"),
    )
    .await?;
    let said = said.as_str().unwrap_or_default();
    let (rows, path) = said.split_once(" saved to ").ok_or(format!("the report: {said}"))?;
    let rows = rows.split_whitespace().next().unwrap_or_default().replace(',', "").parse()?;
    let path = PathBuf::from(path);
    ensure!(path.is_file(), "{button} said it wrote {}, which is not there", path.display());
    Ok((rows, path))
}

/// A folder of the test's own beside the scenario's (which is made afresh when the app starts).
fn test_folder(name: &str) -> TestResult<PathBuf> {
    let dir = std::env::temp_dir().join(format!("unloc-e2e-{name}-{}-files", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Presses Print with the native print dialog held back, then applies the print stylesheet to the
/// screen; returns what shows and what the printout holds.
async fn print_by_button(client: &Client, view: &str, button: &str) -> TestResult<Value> {
    client.execute("window.__printed = 0; window.print = () => { window.__printed += 1; };", vec![]).await?;
    click(client, button).await?;
    wait_for_js(client, "the print dialog asked for", "return window.__printed === 1").await?;
    let seen = client
        .execute(
            "const view = arguments[0]; document.querySelector('#print-css').media = 'all'; \
             const sheet = document.querySelector(`${view} .print-sheet`); const seen = (sel) => { const el = document.querySelector(sel); \
               return !!el && getComputedStyle(el).display !== 'none' && el.getClientRects().length > 0; }; \
             return { header: seen('#app-header'), toolbar: seen(`${view} .toolbar`), screenTable: seen(`${view} .table-region`), \
               buttons: seen(arguments[1]), sheet: seen(`${view} .print-sheet`), \
               title: sheet.querySelector('h1')?.textContent, filter: sheet.querySelector('.print-filter')?.textContent, \
               heads: [...sheet.querySelectorAll('th')].map((th) => th.textContent), \
               rows: [...sheet.querySelectorAll('tbody tr')].map((tr) => [...tr.cells].map((td) => td.textContent)) };",
            vec![json!(view), json!(button)],
        )
        .await?;
    ensure_eq!(seen["header"], json!(false), "the navigation is printed: {seen}");
    ensure_eq!(seen["toolbar"], json!(false), "the filter controls are printed: {seen}");
    ensure_eq!(seen["screenTable"], json!(false), "the on-screen table is printed: {seen}");
    ensure_eq!(seen["buttons"], json!(false), "the buttons are printed: {seen}");
    ensure_eq!(seen["sheet"], json!(true), "the printout is not shown: {seen}");
    Ok(seen)
}

async fn end_print(client: &Client) -> TestResult {
    client
        .execute(
            "document.querySelector('#print-css').media = 'print'; window.dispatchEvent(new Event('afterprint'));",
            vec![],
        )
        .await?;
    Ok(())
}

/// Lays a workbook read back by calamine over the window as a spreadsheet would show it (column
/// letters, row numbers, the frozen heading row): the README's picture of an opened export. Text only.
async fn show_workbook(client: &Client, title: &str, cells: &[Vec<String>]) -> TestResult {
    client
        .execute(
            "const [title, cells] = arguments; const box = document.createElement('div'); box.id = 'e2e-workbook';              box.style.cssText = 'position:fixed;inset:0;z-index:9999;background:#fff;color:#000;font:13px sans-serif;overflow:auto';              const bar = document.createElement('div'); bar.textContent = title;              bar.style.cssText = 'padding:8px 12px;background:#1d6f42;color:#fff;font-weight:600';              const table = document.createElement('table'); table.style.cssText = 'border-collapse:collapse;white-space:nowrap';              const cell = (tag, text, css) => { const c = document.createElement(tag); c.textContent = text;                c.style.cssText = 'border:1px solid #d0d0d0;padding:3px 8px;' + css; return c; };              const letters = document.createElement('tr'); letters.append(cell('th', '', 'background:#eee'));              cells[0].forEach((_, i) => letters.append(cell('th', String.fromCharCode(65 + i), 'background:#eee;font-weight:400')));              table.append(letters);              cells.forEach((row, r) => { const tr = document.createElement('tr'); tr.append(cell('th', String(r + 1), 'background:#eee;font-weight:400'));                row.forEach((text) => tr.append(cell('td', text, r === 0 ? 'font-weight:700;border-bottom:2px solid #888' : ''))); table.append(tr); });              box.append(bar, table); document.body.append(box);",
            vec![json!(title), json!(cells)],
        )
        .await?;
    Ok(())
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

fn text(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    range.get_value((row, col)).map(|cell| cell.to_string()).unwrap_or_default()
}

/// A cell as a spreadsheet shows it: dates in the sheet's English format, counts as whole numbers.
fn shown(range: &calamine::Range<Data>, row: u32, col: u32) -> String {
    match range.get_value((row, col)) {
        Some(Data::DateTime(when)) => {
            when.as_datetime().map(|at| at.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default()
        }
        Some(Data::Float(number)) if number.fract() == 0.0 => format!("{number:.0}"),
        Some(other) => other.to_string(),
        None => String::new(),
    }
}

fn date_cell(range: &calamine::Range<Data>, row: u32, col: u32) -> TestResult<NaiveDateTime> {
    match range.get_value((row, col)) {
        Some(Data::DateTime(when)) => {
            when.as_datetime().ok_or_else(|| format!("row {row}: a date out of range").into())
        }
        other => Err(format!("row {row}, column {col}: not a date cell: {other:?}").into()),
    }
}

/// One line of the visits report as the test expects it from the simulator's events.
#[derive(Debug, PartialEq)]
struct Visit {
    lock: String,
    reference: String,
    person: String,
    phone: String,
    count: u64,
    first: NaiveDateTime,
    last: NaiveDateTime,
}

fn expected_visits(sim: &unloc_sim::Simulator, month: &str, names: &BTreeMap<String, String>) -> Vec<Visit> {
    let mut by_lock_and_person: BTreeMap<(String, String), Visit> = BTreeMap::new();
    for lock in sim.locks() {
        for event in sim.events(&lock.id).unwrap_or_default() {
            if event.action != "unlocked" || local_month(event.created) != month {
                continue;
            }
            let who = if event.msn.is_empty() { format!("name:{}", event.name) } else { event.msn.clone() };
            let at = local(event.created);
            let visit = by_lock_and_person.entry((lock.id.clone(), who)).or_insert_with(|| Visit {
                lock: lock.name.clone(),
                reference: lock.data.clone(),
                person: names.get(&event.msn).cloned().unwrap_or_else(|| event.name.clone()),
                phone: event.msn.clone(),
                count: 0,
                first: at,
                last: at,
            });
            visit.count += 1;
            visit.first = visit.first.min(at);
            visit.last = visit.last.max(at);
        }
    }
    let mut visits: Vec<Visit> = by_lock_and_person.into_values().collect();
    visits.sort_by(|a, b| (&a.lock, &a.reference, &a.person).cmp(&(&b.lock, &b.reference, &b.person)));
    visits
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn activity_and_the_visits_report_export_and_print_what_their_screens_show() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() };
    let folder = test_folder("activity-export")?;
    scenario("activity-export", config)
        .env("UNLOC_E2E_SAVE_DIR", &folder.display().to_string())
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            let events: Vec<Event> =
                sim.locks().iter().flat_map(|lock| sim.events(&lock.id).unwrap_or_default()).collect();
            // The busiest phone gets a name in People: the exports must use it.
            let mut uses: BTreeMap<&str, usize> = BTreeMap::new();
            for event in events.iter().filter(|event| !event.msn.is_empty()) {
                *uses.entry(event.msn.as_str()).or_default() += 1;
            }
            let (phone, theirs) = uses.into_iter().max_by_key(|(_, count)| *count).ok_or("no phone in the events")?;
            let phone = phone.to_owned();
            let names = BTreeMap::from([(phone.clone(), "Kari Nordmann".to_owned())]);

            sign_in(client, sim.token()).await?;
            wait_lock_rows(client).await?;
            let saved =
                invoke(client, "save_person", json!({ "id": null, "name": "Kari Nordmann", "phone": phone, "note": null }))
                    .await?;
            ensure!(saved["error"].is_null(), "save_person: {saved}");
            click(client, "#nav-activity").await?;
            wait_visible(client, "#activity-view").await?;
            wait_for_js(
                client,
                "the archive's sync done",
                "return document.querySelector('#activity-sync').textContent.startsWith('History is up to date')",
            )
            .await?;

            // Activity filtered by the People name: the Excel and CSV buttons export that filter.
            fill(client, "#activity-person", "Kari Nordmann").await?;
            let count = wait_for_js(
                client,
                "the person's events counted",
                &format!("const text = document.querySelector('#activity-count').textContent; return text.startsWith('{theirs} of') && text"),
            )
            .await?;
            let axe = axe_source()?;
            let violations = axe_violations(client, &axe).await?;
            ensure!(violations.is_empty(), "Activity: {violations:?}");
            let (rows, xlsx) = export_by_button(client, "#activity-export-xlsx", "#activity-export-status").await?;
            ensure_eq!(rows, theirs as u64, "the rows the export says it wrote");
            ensure!(xlsx.starts_with(&folder) && xlsx.extension().is_some_and(|ext| ext == "xlsx"), "{}", xlsx.display());
            let mut workbook: Xlsx<_> = open_workbook(&xlsx)?;
            ensure_eq!(workbook.sheet_names(), ["Activity"]);
            let range = workbook.worksheet_range("Activity")?;
            let heading: Vec<String> = (0..8).map(|col| text(&range, 0, col)).collect();
            ensure_eq!(
                heading,
                ["Time (Etc/GMT-3)", "Lock", "Address", "Your reference", "Event", "Person", "Phone", "Key ID"]
            );
            ensure_eq!(range.height(), theirs + 1, "one row per event the filter finds");
            let mut expected: Vec<&Event> = events.iter().filter(|event| event.msn == phone).collect();
            expected.sort_by_key(|event| std::cmp::Reverse(event.created));
            for (row, event) in (1u32..).zip(&expected) {
                ensure_eq!(date_cell(&range, row, 0)?, local(event.created), "row {row}: the time");
                ensure_eq!(text(&range, row, 5), "Kari Nordmann", "row {row}: the People name");
                ensure_eq!(text(&range, row, 6), phone, "row {row}: the phone");
                ensure_eq!(text(&range, row, 7), event.key_id, "row {row}: the key");
            }
            let (_, csv_path) = export_by_button(client, "#activity-export-csv", "#activity-export-status").await?;
            let rows = read_csv(&csv_path, b',')?;
            ensure_eq!(rows.len(), theirs + 1);
            ensure!(rows[1..].iter().all(|row| row[5] == "Kari Nordmann" && row[6] == format!("'{phone}")), "the CSV's people: {rows:?}");

            // Print: the filter at the top, the rows the filter finds, no navigation.
            let printed = print_by_button(client, "#activity-view", "#activity-print").await?;
            screenshot(client, "view-print-activity").await?;
            ensure_eq!(printed["title"], json!("Activity"));
            ensure_eq!(
                printed["filter"],
                json!(format!("Showing: Any time · Person: “Kari Nordmann” · All events · {}", count.as_str().unwrap_or_default()))
            );
            ensure_eq!(printed["heads"], json!(["When", "What", "Lock", "Who", "Phone"]));
            let printed_rows = printed["rows"].as_array().ok_or("no rows printed")?;
            ensure_eq!(printed_rows.len(), theirs, "every event of the filter printed");
            ensure!(printed_rows.iter().all(|row| row[3] == json!("Kari Nordmann")), "{printed}");
            end_print(client).await?;

            // Visits per customer, for the month with the most unlocks.
            let mut unlocks: BTreeMap<String, usize> = BTreeMap::new();
            for event in events.iter().filter(|event| event.action == "unlocked") {
                *unlocks.entry(local_month(event.created)).or_default() += 1;
            }
            let (month, _) = unlocks.into_iter().max_by_key(|(_, count)| *count).ok_or("no unlocks")?;
            let visits = expected_visits(sim, &month, &names);
            ensure!(visits.len() > 3, "too few visits to show: {visits:?}");
            let total: u64 = visits.iter().map(|visit| visit.count).sum();
            // Locks, not names: two locks may share a name.
            let locks = sim
                .locks()
                .iter()
                .filter(|lock| {
                    sim.events(&lock.id).unwrap_or_default().iter().any(|event| {
                        event.action == "unlocked" && local_month(event.created) == month
                    })
                })
                .count();
            click(client, "#activity-visits").await?;
            wait_visible(client, "#visits-view").await?;
            client
                .execute(
                    "const s = document.querySelector('#visits-month'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
                    vec![json!(month)],
                )
                .await?;
            let summary = format!("{total} visits · {locks} locks");
            wait_for_js(
                client,
                "the month's visits counted",
                &format!("return document.querySelector('#visits-count').textContent === {}", json!(summary)),
            )
            .await?;
            let first_rows = client
                .execute(
                    "return [...document.querySelectorAll('#visits-view tbody tr[data-lock-id]')].slice(0, 3).map((tr) => [...tr.cells].map((td) => td.textContent))",
                    vec![],
                )
                .await?;
            let first = &visits[0];
            ensure_eq!(first_rows[0][0], json!(first.lock), "the first row's lock: {first_rows}");
            ensure_eq!(first_rows[0][3], json!(first.count.to_string()), "the first row's visits: {first_rows}");
            screenshot(client, "view-visits").await?;
            let violations = axe_violations(client, &axe).await?;
            ensure!(violations.is_empty(), "Visits per customer: {violations:?}");

            let (rows, xlsx) = export_by_button(client, "#visits-export-xlsx", "#visits-export-status").await?;
            ensure_eq!(rows, visits.len() as u64, "the rows the export says it wrote");
            let mut workbook: Xlsx<_> = open_workbook(&xlsx)?;
            let range = workbook.worksheet_range("Visits per customer")?;
            ensure_eq!(text(&range, 0, 5), "Visits (unlocks)");
            let mut read = Vec::new();
            for row in 1..range.height() as u32 {
                let count = match range.get_value((row, 5)) {
                    Some(Data::Float(count)) => *count as u64,
                    Some(Data::Int(count)) => *count as u64,
                    other => return Err(format!("row {row}: the visits are not a number: {other:?}").into()),
                };
                read.push(Visit {
                    lock: text(&range, row, 0),
                    reference: text(&range, row, 2),
                    person: text(&range, row, 3),
                    phone: text(&range, row, 4),
                    count,
                    first: date_cell(&range, row, 6)?,
                    last: date_cell(&range, row, 7)?,
                });
            }
            ensure_eq!(read, visits, "the visits report read back");
            let sheet: Vec<Vec<String>> =
                (0..range.height() as u32).map(|row| (0..8).map(|col| shown(&range, row, col)).collect()).collect();
            show_workbook(client, "visits.xlsx — read back with calamine — sheet “Visits per customer”", &sheet).await?;
            screenshot(client, "view-export-opened").await?;
            client.execute("document.querySelector('#e2e-workbook').remove()", vec![]).await?;
            ensure!(read.iter().any(|visit| visit.person == "Kari Nordmann"), "the People name is not in the report");
            // The same report as Norwegian CSV, through the command with a path of its own.
            let csv_path = folder.join("besok.csv");
            let done = invoke(
                client,
                "export_visits",
                json!({ "month": month, "path": csv_path, "format": "csv", "language": "nb" }),
            )
            .await?;
            ensure_eq!(done["ok"]["rows"], json!(visits.len()), "{done}");
            let rows = read_csv(&csv_path, b';')?;
            ensure_eq!(rows[0][5], "Besøk (låst opp)");
            for (row, visit) in rows[1..].iter().zip(&visits) {
                ensure_eq!(row[5], visit.count.to_string());
                ensure_eq!(row[6], visit.first.format("%Y-%m-%d %H:%M:%S").to_string());
            }

            let printed = print_by_button(client, "#visits-view", "#visits-print").await?;
            screenshot(client, "view-print-visits").await?;
            let month_label = client.execute("return document.querySelector('#visits-month').selectedOptions[0].textContent", vec![]).await?;
            let month_label = month_label.as_str().unwrap_or_default();
            ensure_eq!(printed["title"], json!(format!("Visits per customer – {month_label}")));
            ensure_eq!(printed["filter"], json!(format!("Showing: {month_label} · {summary}")));
            ensure_eq!(printed["heads"], json!(["Lock", "Who", "Phone", "Visits", "First visit", "Last visit"]));
            ensure_eq!(printed["rows"].as_array().map(Vec::len), Some(visits.len()), "every line of the report printed");
            end_print(client).await?;
            let _ = std::fs::remove_dir_all(&folder);

            // A month without use says so.
            let empty_month = client.execute("const s = document.querySelector('#visits-month'); return s.options[s.options.length - 1].value", vec![]).await?;
            client
                .execute(
                    "const s = document.querySelector('#visits-month'); s.value = arguments[0]; s.dispatchEvent(new Event('change'));",
                    vec![empty_month],
                )
                .await?;
            wait_visible(client, "#visits-empty").await?;
            ensure!(text_of(client, "#visits-empty").await?.starts_with("No visits in"), "the empty month");
            click(client, "#visits-back").await?;
            wait_visible(client, "#activity-view").await?;
            Ok(())
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_people_import_previews_the_skipped_rows_with_reasons_then_imports_the_rest() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 6, ..SimConfig::default() };
    let csv = test_folder("people-import")?.join("ansatte.csv");
    scenario("people-import", config)
        .env("UNLOC_E2E_OPEN_FILE", &csv.display().to_string())
        .run(async |client, scenario| {
            sign_in(client, scenario.sim.token()).await?;
            wait_lock_rows(client).await?;
            std::fs::write(
                &csv,
                "Navn;Mobil;Team\nKari Nordmann;900 11 222;Renhold\nOla Hansen;+47 900 33 444;Renhold\n\
                 Uten Nummer;;Vakt\nFeil Nummer;123;Vakt\nKari igjen;90011222;\n;90055666;\nPer Berg;0047 90077888;Hjemmetjeneste\n",
            )?;
            click(client, "#nav-people").await?;
            wait_visible(client, "#people-view").await?;
            click(client, "#people-import").await?;
            wait_visible(client, "#people-import-confirm").await?;
            let skipped = client
                .execute(
                    "return [...document.querySelectorAll('#people-import-skipped li')].map((li) => [li.dataset.row, li.dataset.reason, li.textContent])",
                    vec![],
                )
                .await?;
            let reasons: Vec<(String, String)> = skipped
                .as_array()
                .ok_or("no skipped rows listed")?
                .iter()
                .map(|row| (row[0].as_str().unwrap_or_default().to_owned(), row[1].as_str().unwrap_or_default().to_owned()))
                .collect();
            ensure_eq!(
                reasons,
                [
                    ("4".to_owned(), "missingPhone".to_owned()),
                    ("5".to_owned(), "invalidPhone".to_owned()),
                    ("6".to_owned(), "duplicate".to_owned()),
                    ("7".to_owned(), "missingName".to_owned()),
                ],
                "the skipped rows and why: {skipped}"
            );
            ensure!(skipped[2][2].as_str().unwrap_or_default().contains('2'), "the duplicate names its earlier row: {skipped}");
            let summary = text_of(client, "#people-import-summary").await?;
            ensure!(summary.starts_with("3 of 7 rows will be added. 4 rows are skipped"), "the preview's summary: {summary}");
            ensure_eq!(text_of(client, "#people-import-confirm").await?, "Add 3 people");
            // Nothing is added by the preview.
            ensure_eq!(client.execute("return document.querySelectorAll('#people-view tr[data-person-id]').length", vec![]).await?, json!(0));
            // A notice about this desktop session's keychain is not what the picture is about.
            client
                .execute("[...document.querySelectorAll('#status-banner button')].find((b) => b.textContent === 'Dismiss')?.click()", vec![])
                .await?;
            screenshot(client, "view-people-import-preview").await?;
            click(client, "#people-import-confirm").await?;
            wait_for_js(client, "the imported people listed", "return document.querySelectorAll('#people-view tr[data-person-id]').length === 3").await?;
            let names = client.execute("return [...document.querySelectorAll('#people-view .person-name')].map((td) => td.textContent)", vec![]).await?;
            ensure_eq!(names, json!(["Kari Nordmann", "Ola Hansen", "Per Berg"]));
            if let Some(folder) = csv.parent() {
                let _ = std::fs::remove_dir_all(folder);
            }
            Ok(())
        })
        .await
}
