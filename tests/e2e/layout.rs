//! Layout at the window's narrowest (900 px, the app's minimum width) and at its default 1200 px, in
//! English and in Norwegian (longer words): nothing the user needs runs past the window or out of its
//! bar (the navigation, the view's toolbars and buttons, a table's columns), every text cut short with "…" carries the
//! whole text in its tooltip, no phone number is cut, a table's headings start where their columns' cells do, a
//! toolbar's count sits beside its neighbours, a drop-down is as tall as the text box on its line, and the search
//! boxes' hints fit. Some words are read whole, tooltip or not (`cut_texts`): every cell of the Keys list, and who
//! used a lock and their phone in Activity. In team mode (a team database linked), who created and revoked a key on which desk reads whole at
//! 1200 px. A list's rows are virtual (each at its index × the row height): no row drawn is taller than
//! that, with the sample data and with long names (an owner's lock name, an office's name for a person),
//! which are clamped with their tooltip holding them whole. The Keys list shows every key ("all"): the
//! follow-up may end a key seen in the history at any moment, and the rows checked stay the same.
//! Screenshots of every view and size are kept (`layout-<view>-<language>-<width>.png`).

use std::time::Duration;

use fantoccini::{Client, Locator};
use serde_json::Value;
use unloc_sim::{fixtures, SimConfig};

use crate::harness::*;
use crate::people::{add_person, open_person};
use crate::team_desks::{join_team, new_team_database, pg};

const WIDTHS: [u32; 2] = [900, 1200];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_view_fits_a_narrow_window_in_english_and_norwegian() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 30, ..SimConfig::default() };
    scenario("layout", config)
        .run(async |client, scenario| {
            sign_in(client, scenario.sim.token()).await?;
            wait_lock_rows(client).await?;
            // A key waiting for the owner (the lock is opt-in): a row in Awaiting, with its dates.
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            let waiting = create_key(client, &scenario.sim, "900 00 011", "+4790000011").await?;
            wait_key_status(client, &waiting, "awaitingApproval").await?;
            // Its recipient in People: a name beside the number, and a person's page to look at.
            add_person(client, "Kari Nordmann", "900 00 011", "Team Nord").await?;
            let views = ["locks", "lock", "keys", "activity", "awaiting", "people", "person", "settings"];
            let problems = every_language_and_width(
                client,
                "layout",
                &views,
                async |view: &str| show(client, view).await,
                // Where the sample data's words are read whole, tooltip or not: every cell of the
                // Keys list, and who used a lock and their phone in Activity.
                async |view: &str, _width: u32| match view {
                    "keys" => cut_texts(client, "#keys-view table").await,
                    "activity" => {
                        cut_texts(client, "#activity-view td.activity-person, #activity-view td.activity-phone").await
                    }
                    _ => Ok(Vec::new()),
                },
            )
            .await?;
            ensure!(problems.is_empty(), "hidden from the user:\n{}", problems.join("\n"));
            Ok(())
        })
        .await
}

/// A name an office may well give a person: too long for two lines of a narrow column.
const LONG_NAME: &str = "Kari Elisabeth Nordmann-Johannessen Bergersen Lillehagen";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn long_names_never_make_a_row_taller_than_its_list_s_rows() -> TestResult {
    // The hostile lock's name is long, with spaces (and markup, shown as text).
    let config =
        SimConfig { lockout_after: 0, locks: 12, key_provisioning: Duration::from_millis(300), ..SimConfig::default() };
    scenario("layout-long", config)
        .run(async |client, scenario| {
            sign_in(client, scenario.sim.token()).await?;
            wait_lock_rows(client).await?;
            add_person(client, LONG_NAME, "900 00 041", "Team Nord").await?;
            // The key she used on Hjemme puts her name in Activity; her key on the hostile lock waits
            // for the owner (Keys, the lock, Awaiting).
            open_lock(client, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
            let used = create_key(client, &scenario.sim, "900 00 041", "+4790000041").await?;
            wait_key_status(client, &used, "active").await?;
            scenario.sim.use_key(&used, "unlocked")?;
            click(client, "#lock-view [data-ref=\"refresh\"]").await?;
            let named = format!(
                "return [...document.querySelectorAll('#lock-view tr[data-event-id] .event-who')].some((td) => td.textContent === {})",
                serde_json::json!(LONG_NAME)
            );
            wait_for_js(client, "her name in the history", &named).await?;
            open_lock(client, fixtures::HOSTILE_LOCK_ID, fixtures::PLAIN_BACK_DOOR_NAME).await?;
            click(client, "#new-key").await?;
            wait_visible(client, "#key-form").await?;
            fill(client, "#key-msn", "900 00 041").await?;
            click(client, "#key-submit").await?;
            let waiting = "#lock-view tr[data-key-id] .key-status[data-status=\"awaitingApproval\"]";
            wait_visible(client, waiting).await?;
            let problems = every_language_and_width(
                client,
                "layout-long",
                &["keys", "lock", "awaiting", "activity"],
                async |view: &str| match view {
                    "lock" => {
                        open_lock(client, fixtures::HOSTILE_LOCK_ID, fixtures::PLAIN_BACK_DOOR_NAME).await?;
                        wait_visible(client, waiting).await?;
                        Ok(())
                    }
                    "activity" => {
                        show(client, view).await?;
                        let shown = format!(
                            "return [...document.querySelectorAll('#activity-view td.activity-person')].some((td) => td.textContent === {})",
                            serde_json::json!(LONG_NAME)
                        );
                        wait_for_js(client, "her visit in Activity", &shown).await?;
                        Ok(())
                    }
                    _ => show(client, view).await,
                },
                async |_view: &str, _width: u32| Ok(Vec::new()),
            )
            .await?;
            ensure!(problems.is_empty(), "long names:\n{}", problems.join("\n"));
            Ok(())
        })
        .await
}

/// The team database of the team scenario (its role has the same name).
const TEAM_DATABASE: &str = "unloc_desk_layout";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_team_key_s_author_and_desk_read_whole_at_1200_px() -> TestResult {
    let config = SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() };
    scenario("layout-team", config)
        .env("UNLOC_DESK_NAME", "OFFICE-PC-2")
        .run(async |client, scenario| {
            let password = new_team_database(TEAM_DATABASE)?;
            sign_in(client, scenario.sim.token()).await?;
            wait_lock_rows(client).await?;
            join_team(client, pg("UNLOC_PG_PORT")?.parse()?, TEAM_DATABASE, &password, "Anna").await?;
            // A key created and revoked here ("Created by Anna on OFFICE-PC-2", "Revoked by Anna on
            // OFFICE-PC-2" under its recipient), and one waiting for the owner (in Awaiting too).
            open_lock(client, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
            let revoked = create_key(client, &scenario.sim, "900 00 031", "+4790000031").await?;
            wait_key_status(client, &revoked, "active").await?;
            click(client, &format!("tr[data-key-id=\"{revoked}\"] .key-revoke")).await?;
            wait_visible(client, "#confirm-dialog").await?;
            click(client, "#confirm-yes").await?;
            wait_key_status(client, &revoked, "revoked").await?;
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            let waiting = create_key(client, &scenario.sim, "900 00 032", "+4790000032").await?;
            wait_key_status(client, &waiting, "awaitingApproval").await?;
            let problems = every_language_and_width(
                client,
                "layout-team",
                &["keys", "lock", "awaiting"],
                async |view: &str| match view {
                    "keys" => {
                        show(client, "keys").await?;
                        // Ended keys too: the revoked one with who revoked it where.
                        wait_visible(client, &format!("#keys-view tr[data-key-id=\"{revoked}\"]")).await?;
                        Ok(())
                    }
                    "lock" => {
                        open_lock(client, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
                        wait_visible(client, &format!("#lock-view tr[data-key-id=\"{revoked}\"]")).await?;
                        Ok(())
                    }
                    _ => show(client, view).await,
                },
                // Who created and revoked it where, and the window's start beside them.
                async |_view: &str, width: u32| match width {
                    1200 => cut_texts(client, "main .key-author, main td.key-window, #keys-view table").await,
                    _ => Ok(Vec::new()),
                },
            )
            .await?;
            ensure!(problems.is_empty(), "hidden from the user in team mode:\n{}", problems.join("\n"));
            Ok(())
        })
        .await
}

/// Shows each of `views` in English and in Norwegian at each of [`WIDTHS`] (`open` brings one on
/// screen with its rows), keeps a screenshot of each (`<name>-<view>-<language>-<width>.png`), and
/// returns what [`hidden_texts`] finds on each and what `also` finds there besides. The window is
/// back at 1200 px afterwards.
async fn every_language_and_width(
    client: &Client,
    name: &str,
    views: &[&str],
    open: impl AsyncFn(&str) -> TestResult,
    also: impl AsyncFn(&str, u32) -> TestResult<Vec<String>>,
) -> TestResult<Vec<String>> {
    let mut problems = Vec::new();
    for language in ["en", "nb"] {
        choose_language(client, language).await?;
        for width in WIDTHS {
            client.set_window_size(width, 800).await?;
            wait_for_js(client, "the window's width", &format!("return window.innerWidth <= {width}")).await?;
            for &view in views {
                open(view).await?;
                screenshot(client, &format!("{name}-{view}-{language}-{width}")).await?;
                let mut found: Vec<String> = serde_json::from_value(hidden_texts(client).await?)?;
                found.extend(also(view, width).await?);
                problems.extend(found.into_iter().map(|problem| format!("{view}, {language}, {width} px: {problem}")));
            }
        }
    }
    client.set_window_size(1200, 800).await?;
    Ok(problems)
}

/// The language setting, chosen in Settings as a person would.
async fn choose_language(client: &Client, language: &str) -> TestResult {
    click(client, "#nav-settings").await?;
    wait_visible(client, "#settings-view").await?;
    // Options have no box of their own to click.
    client.find(Locator::Css(&format!("#language-select option[value=\"{language}\"]"))).await?.click().await?;
    wait_for_js(client, "the language", &format!("return document.documentElement.lang === '{language}'")).await?;
    Ok(())
}

/// One view on screen with its rows.
async fn show(client: &Client, view: &str) -> TestResult {
    match view {
        "lock" => {
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
        }
        "person" => {
            open_person(client, "kari").await?;
            wait_for_js(client, "her key", "return document.querySelectorAll('#person-keys tr[data-key-id]').length")
                .await?;
        }
        _ => {
            click(client, &format!("#nav-{view}")).await?;
            wait_visible(client, &format!("#{view}-view")).await?;
            if view == "locks" {
                // The search typed to open the lock goes: the whole list, as it first shows.
                fill(client, "#locks-search", "").await?;
            }
            if view == "keys" {
                // Every key, ended or not: the follow-up may end a key seen in the history at any
                // time, and the rows checked are the same whenever it does.
                client.find(Locator::Css("#keys-state option[value=\"all\"]")).await?.click().await?;
            }
        }
    }
    if matches!(view, "locks" | "keys" | "lock" | "awaiting" | "activity") {
        let rows = if matches!(view, "lock" | "activity") { "tr[data-event-id]" } else { "main tbody tr" };
        wait_for_js(client, "the view's rows", &format!("return document.querySelectorAll('{rows}').length")).await?;
    }
    Ok(())
}

/// What the user cannot see or reach on the view shown: the page wider than the window, a bar whose
/// content runs out of it, a control past the window's edge, a text cut with "…" and no tooltip
/// holding it whole, a search box whose hint does not fit.
async fn hidden_texts(client: &Client) -> TestResult<Value> {
    Ok(client
        .execute(
            r#"
const width = document.documentElement.clientWidth;
const seen = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const name = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.classList.length ? '.' + [...el.classList].join('.') : ''} “${(el.textContent || el.placeholder || '').trim().slice(0, 40)}”`;
const found = [];
if (document.documentElement.scrollWidth > width + 1) found.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${width} px)`);
const view = document.querySelector('main .view');
const bars = [...document.querySelectorAll('#app-header, .app-nav, .header-end')].concat([...view.querySelectorAll('.view-head, .head-actions, .toolbar, .export-actions, .panel-head')]);
for (const bar of bars.filter(seen)) {
  if (bar.scrollWidth > bar.clientWidth + 1) found.push(`${name(bar)} runs out of its bar (${bar.scrollWidth} > ${bar.clientWidth} px)`);
}
// A table wider than its box scrolls sideways: its last columns (the revoke buttons) are out of sight.
for (const scroller of [...view.querySelectorAll('.table-scroller, .keys-scroller')].filter(seen)) {
  if (scroller.scrollWidth > scroller.clientWidth + 1) found.push(`${name(scroller.querySelector('table') ?? scroller)} is wider than its box (${scroller.scrollWidth} > ${scroller.clientWidth} px)`);
}
for (const control of [...document.querySelectorAll('#app-header button, main button, main input, main select, main label')].filter(seen)) {
  const box = control.getBoundingClientRect();
  if (box.right > width + 1 || box.left < -1) found.push(`${name(control)} is past the window's edge (${Math.round(box.left)}–${Math.round(box.right)} of ${width} px)`);
}
for (const el of view.querySelectorAll('*')) {
  if (!seen(el) || el.scrollWidth <= el.clientWidth + 1 || getComputedStyle(el).textOverflow !== 'ellipsis') continue;
  // The tooltip may write it another way ("+4790000000" for "+47 900 00 000"): spaces aside, it holds it.
  const bare = (text) => text.replace(/\s+/g, '');
  const tip = el.closest('[title]')?.getAttribute('title') ?? '';
  if (!bare(tip).includes(bare(el.textContent))) found.push(`${name(el)} is cut with no tooltip holding it whole`);
}
// A text clamped after its lines carries the whole text in its tooltip.
for (const el of view.querySelectorAll('*')) {
  if (!seen(el) || (getComputedStyle(el).getPropertyValue('-webkit-line-clamp') || 'none') === 'none' || el.scrollHeight <= el.clientHeight + 1) continue;
  const bare = (text) => text.replace(/\s+/g, '');
  const tip = el.closest('[title]')?.getAttribute('title') ?? '';
  if (!bare(tip).includes(bare(el.textContent))) found.push(`${name(el)} is clamped with no tooltip holding it whole`);
}
// A list's rows are one height (virtual-table.js places row i at i × its height): every row drawn is
// no taller than that, or the rows drift from their places and the last ones cannot be reached.
for (const tr of [...view.querySelectorAll('tbody tr')].filter((tr) => tr.style.height && seen(tr))) {
  const want = parseFloat(tr.style.height), got = tr.getBoundingClientRect().height;
  if (got > want + 0.5) found.push(`the row of ${name(tr)} is ${got} px tall, not ${want} px: its cells hold more lines than fit`);
}
// A phone number is read whole: never cut, even with a tooltip (the last digits are the ones that differ).
const walker = document.createTreeWalker(view, NodeFilter.SHOW_TEXT);
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const phone = node.textContent.trim();
  if (!/^\+\d{1,3}( \d+)+$/.test(phone) || !seen(node.parentElement)) continue;
  let clip = node.parentElement;
  while (clip && clip !== view && getComputedStyle(clip).overflowX === 'visible') clip = clip.parentElement;
  const range = document.createRange();
  range.selectNodeContents(node);
  const room = clip.getBoundingClientRect().right - parseFloat(getComputedStyle(clip).paddingRight);
  if (range.getBoundingClientRect().right > room + 1) found.push(`the phone number “${phone}” in ${name(clip)} is cut`);
}
// A column's heading starts where its cells' content does (a sort button's padding counts as the heading's).
for (const table of [...view.querySelectorAll('table')].filter(seen)) {
  const heads = [...table.querySelectorAll('thead th')];
  const row = [...table.querySelectorAll('tbody tr')].find((tr) => seen(tr) && tr.cells.length === heads.length);
  if (!row) continue;
  const start = (el) => el.getBoundingClientRect().left + parseFloat(getComputedStyle(el).borderLeftWidth) + parseFloat(getComputedStyle(el).paddingLeft);
  heads.forEach((th, i) => {
    const button = th.querySelector(':scope > .sort-button');
    const text = start(button ?? th), cells = start(row.cells[i]);
    if (Math.abs(text - cells) > 2) found.push(`the heading ${name(th)} starts ${Math.round(text - cells)} px from its column's cells`);
  });
}
// A toolbar's count ("Showing 2 of 2 keys") sits at the bar's edge or beside a neighbour on its line, not adrift.
for (const count of [...view.querySelectorAll('.toolbar > .count')].filter(seen)) {
  const bar = count.parentElement.getBoundingClientRect(), box = count.getBoundingClientRect();
  const line = [...count.parentElement.children].filter((el) => el !== count && seen(el)).map((el) => el.getBoundingClientRect())
    .filter((other) => other.top < box.bottom && other.bottom > box.top);
  const left = Math.min(box.left - bar.left, ...line.filter((o) => o.right <= box.left).map((o) => box.left - o.right));
  const right = Math.min(bar.right - box.right, ...line.filter((o) => o.left >= box.right).map((o) => o.left - box.right));
  if (left > 24 && right > 24) found.push(`${name(count)} is adrift in its bar (${Math.round(left)} px from its left neighbour, ${Math.round(right)} px from its right)`);
}
// Controls on one line are one height: a drop-down as tall as the text box beside it.
const fields = [...view.querySelectorAll('select, input:not([type="checkbox"]):not([type="radio"]):not([type="file"])')].filter(seen);
for (const select of fields.filter((el) => el.tagName === 'SELECT')) {
  const a = select.getBoundingClientRect();
  const beside = fields.find((el) => el.tagName === 'INPUT' && el.getBoundingClientRect().top < a.bottom && el.getBoundingClientRect().bottom > a.top);
  const b = beside?.getBoundingClientRect();
  if (b && Math.abs(a.height - b.height) > 1) found.push(`${name(select)} is ${a.height} px tall, ${name(beside)} on its line ${b.height} px`);
}
const ruler = document.createElement('canvas').getContext('2d');
for (const input of [...view.querySelectorAll('input[placeholder]')].filter(seen)) {
  if (input.value || !input.placeholder) continue;
  const style = getComputedStyle(input);
  ruler.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
  // A search box keeps room for its clear button at the end (WebKit's, about 20 px), typed in or not.
  const room = input.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - (input.type === 'search' ? 20 : 0);
  if (ruler.measureText(input.placeholder).width > room + 1) found.push(`${name(input)}: its hint “${input.placeholder}” is cut`);
}
return found;
"#,
            vec![],
        )
        .await?)
}

/// What reads cut inside `scope` (CSS) on the view shown, tooltip or not: a text ended with "…",
/// clamped after its lines, or a date and time (glued with no-break spaces) broken across lines.
async fn cut_texts(client: &Client, scope: &str) -> TestResult<Vec<String>> {
    let found = client
        .execute(
            r#"
const seen = (el) => el.getClientRects().length > 0 && getComputedStyle(el).visibility !== 'hidden';
const name = (el) => `${el.tagName.toLowerCase()}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''} “${el.textContent.trim().slice(0, 40)}”`;
const found = [];
for (const root of document.querySelectorAll(arguments[0])) {
  for (const el of [root, ...root.querySelectorAll('*')]) {
    if (!seen(el)) continue;
    const style = getComputedStyle(el);
    const clamp = style.getPropertyValue('-webkit-line-clamp') || 'none';
    if (style.textOverflow === 'ellipsis' && el.scrollWidth > el.clientWidth + 1) {
      found.push(`${name(el)} is cut (${el.scrollWidth} px of text in ${el.clientWidth} px)`);
    } else if (clamp !== 'none' && el.scrollHeight > el.clientHeight + 1) {
      found.push(`${name(el)} is cut after ${clamp} lines (${el.scrollHeight} px of text in ${el.clientHeight} px, ${el.clientWidth} px wide)`);
    }
  }
  // A date, time and zone glued with no-break spaces ("02.12.2026 17:54 UTC+3") stay on one line.
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    if (!seen(node.parentElement)) continue;
    for (const glued of node.textContent.matchAll(/[^ \t\n]*\u00a0[^ \t\n]*/g)) {
      const range = document.createRange();
      range.setStart(node, glued.index);
      range.setEnd(node, glued.index + glued[0].length);
      const tops = [...range.getClientRects()].map((r) => r.top);
      if (Math.max(...tops) - Math.min(...tops) > 2) found.push(`“${glued[0]}” in ${name(node.parentElement)} breaks across lines`);
    }
  }
}
return found;
"#,
            vec![Value::String(scope.to_owned())],
        )
        .await?;
    Ok(serde_json::from_value(found)?)
}
