//! Small WebDriver steps on the app's page: waits, clicks, typing, text, screenshots, and the few
//! moves (sign in, find a lock, make a key) that several areas share.

use std::time::{Duration, Instant};

use fantoccini::{Client, Locator};
use serde_json::{json, Value};
use unloc_sim::Simulator;

use super::limit::step;
use super::{artifacts_dir, TestResult, WAIT};

pub async fn wait_visible(client: &Client, css: &str) -> TestResult<fantoccini::elements::Element> {
    // Visibility judged in the page itself: WebKitWebDriver's "displayed" atom is unreliable for table cells.
    const VISIBLE: &str = "const el = document.querySelector(arguments[0]); if (!el || el.closest('[hidden]')) return false; \
        const box = el.getBoundingClientRect(); return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';";
    step(format!("waiting for `{css}` to be visible"));
    let deadline = Instant::now() + WAIT;
    loop {
        if client.execute(VISIBLE, vec![json!(css)]).await? == json!(true) {
            // It may be re-rendered between the check and the lookup: then look again.
            if let Ok(element) = client.find(Locator::Css(css)).await {
                return Ok(element);
            }
        }
        if Instant::now() > deadline {
            return Err(format!("`{css}` did not become visible").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Clicks an element once it is visible, finding it again if the page re-rendered it meanwhile
/// (virtualized rows are replaced while a search settles).
pub async fn click(client: &Client, css: &str) -> TestResult {
    let deadline = Instant::now() + WAIT;
    loop {
        let element = wait_visible(client, css).await?;
        step(format!("clicking `{css}`"));
        match element.click().await {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() > deadline => return Err(format!("could not click `{css}`: {error}").into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Clicks a lock's row and waits for its view. A row clicked just as the virtualized list
/// re-renders (a search settling) can be replaced under the click: then click again.
pub async fn open_lock_row(client: &Client, row_css: &str) -> TestResult {
    for _ in 0..4 {
        click(client, row_css).await?;
        step(format!("waiting for the lock view after clicking `{row_css}`"));
        let deadline = Instant::now() + Duration::from_secs(4);
        while Instant::now() < deadline {
            let shown = client
                .execute("const v = document.querySelector('#lock-view'); return !!v && !v.closest('[hidden]') && v.getClientRects().length > 0;", vec![])
                .await?;
            if shown == json!(true) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Err(format!("clicking `{row_css}` never opened the lock").into())
}

/// Waits until a script returns a truthy value; returns that value.
pub async fn wait_for_js(client: &Client, what: &str, script: &str) -> TestResult<Value> {
    wait_for_js_within(client, what, script, WAIT).await
}

/// [`wait_for_js`] for something the app does on a schedule longer than [`WAIT`].
pub async fn wait_for_js_within(client: &Client, what: &str, script: &str, limit: Duration) -> TestResult<Value> {
    step(format!("waiting for {what}"));
    let deadline = Instant::now() + limit;
    loop {
        let value = client.execute(script, vec![]).await?;
        let truthy = !matches!(&value, Value::Null | Value::Bool(false))
            && value.as_str() != Some("")
            && value.as_u64() != Some(0);
        if truthy {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what} (last value {value})").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole numbers in a count line, grouping marks of any locale removed: "Showing 1 234 of 10,000"
/// gives [1234, 10000].
pub fn numbers_in(text: &str) -> Vec<u64> {
    let mut numbers = Vec::new();
    let mut digits = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            digits.push(c);
        } else if !digits.is_empty()
            && matches!(c, ',' | '.' | ' ' | '\u{a0}' | '\u{202f}')
            && chars.peek().is_some_and(char::is_ascii_digit)
        {
            // A grouping mark inside a number.
        } else if !digits.is_empty() {
            numbers.extend(digits.parse::<u64>().ok());
            digits.clear();
        }
    }
    numbers.extend(digits.parse::<u64>().ok());
    numbers
}

/// Waits until the count line at `css` says exactly "Showing {shown} of {total}"; returns its text.
pub async fn wait_for_count(client: &Client, css: &str, counts: [u64; 2]) -> TestResult<String> {
    wait_for_count_within(client, css, counts, WAIT).await
}

/// [`wait_for_count`] with a deadline of its own, for a first load of big data (e.g. [`super::BIG_LOAD_WAIT`]).
/// Prints how long the count took, so a slow machine shows in the log before it fails a run.
pub async fn wait_for_count_within(
    client: &Client,
    css: &str,
    [shown, total]: [u64; 2],
    limit: Duration,
) -> TestResult<String> {
    step(format!("waiting for `{css}` to count {shown} of {total}"));
    let started = Instant::now();
    loop {
        let text = text_of(client, css).await.unwrap_or_default();
        if numbers_in(&text) == [shown, total] {
            if limit > WAIT {
                #[allow(clippy::print_stderr)] // how long a big load took belongs in the test output
                {
                    eprintln!("e2e: `{css}` showed {total} after {} ms", started.elapsed().as_millis());
                }
            }
            return Ok(text);
        }
        if started.elapsed() > limit {
            return Err(
                format!("`{css}` says {text:?} after {} s, expected {shown} of {total}", limit.as_secs()).into()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits until the status banner says something; returns what it says.
pub async fn banner_text(client: &Client, what: &str) -> TestResult<String> {
    let banner =
        wait_for_js(client, what, "return document.querySelector('#status-banner')?.textContent.trim()").await?;
    Ok(banner.as_str().unwrap_or_default().to_owned())
}

/// Waits until the locks table has rows.
pub async fn wait_lock_rows(client: &Client) -> TestResult {
    wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
    Ok(())
}

/// The element's text as the DOM has it (WebKitWebDriver's rendered-text atom returns "" for table cells).
pub async fn text_of(client: &Client, css: &str) -> TestResult<String> {
    let value =
        client.execute("return document.querySelector(arguments[0])?.textContent ?? null", vec![json!(css)]).await?;
    value.as_str().map(str::to_owned).ok_or_else(|| format!("`{css}` is not on the page").into())
}

pub async fn visible_text(client: &Client, css: &str) -> TestResult<String> {
    wait_visible(client, css).await?;
    text_of(client, css).await
}

pub async fn fill(client: &Client, css: &str, value: &str) -> TestResult {
    // Retried like `click`: a re-render between finding the field and typing makes it stale.
    let deadline = Instant::now() + WAIT;
    loop {
        let field = wait_visible(client, css).await?;
        step(format!("typing into `{css}`"));
        let typed = async {
            field.clear().await?;
            if !value.is_empty() {
                field.send_keys(value).await?;
            }
            Ok::<(), fantoccini::error::CmdError>(())
        }
        .await;
        match typed {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() > deadline => {
                return Err(format!("could not type into `{css}`: {error}").into())
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Keeps `tests/artifacts/<name>.png`.
pub async fn screenshot(client: &Client, name: &str) -> TestResult {
    step(format!("taking the screenshot `{name}`"));
    // WebKit's snapshot is the last painted frame: let two frames pass so it shows the DOM as it is now.
    client
        .execute_async("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![])
        .await?;
    std::fs::write(artifacts_dir().join(format!("{name}.png")), client.screenshot().await?)?;
    Ok(())
}

pub async fn sign_in(client: &Client, token: &str) -> TestResult {
    wait_visible(client, "#signin-view").await?;
    fill(client, "#api-token", token).await?;
    click(client, "#signin-submit").await?;
    Ok(())
}

/// Signs in with every IPC reply and event recorded from the sign-in page on (for the secrets audit),
/// and waits for the locks view.
pub async fn sign_in_recording_ipc(client: &Client, token: &str) -> TestResult {
    wait_visible(client, "#signin-view").await?;
    super::record_ipc(client).await?;
    sign_in(client, token).await?;
    wait_visible(client, "#locks-view").await?;
    Ok(())
}

pub async fn rendered_lock_ids(client: &Client) -> TestResult<Vec<String>> {
    let value = client
        .execute("return [...document.querySelectorAll('tr[data-lock-id]')].map(r => r.dataset.lockId)", vec![])
        .await?;
    Ok(serde_json::from_value(value)?)
}

/// Fails if any hostile text ran as code (every payload sets `window.__pwned`).
pub async fn assert_nothing_executed(client: &Client) -> TestResult {
    let pwned = client.execute("return typeof window.__pwned", vec![]).await?;
    if pwned != json!("undefined") {
        return Err("a hostile lock text was executed as code".into());
    }
    Ok(())
}

pub async fn search_locks(client: &Client, text: &str) -> TestResult {
    fill(client, "#locks-search", text).await
}

/// From anywhere: the locks view, a search, then the lock's own view.
pub async fn open_lock(client: &Client, lock_id: &str, search: &str) -> TestResult {
    click(client, "#nav-locks").await?;
    wait_visible(client, "#locks-view").await?;
    search_locks(client, search).await?;
    open_lock_row(client, &format!("tr[data-lock-id=\"{lock_id}\"] .lock-name")).await?;
    wait_visible(client, "#lock-view").await?;
    Ok(())
}

/// Waits until the simulator has a key for `msn_e164`; returns its id.
pub async fn wait_for_key(sim: &Simulator, msn_e164: &str) -> TestResult<String> {
    step(format!("waiting for a key for {msn_e164} to reach the simulator"));
    let deadline = Instant::now() + WAIT;
    loop {
        if let Some(key) = sim.keys().into_iter().find(|key| key.msn.as_deref() == Some(msn_e164)) {
            return Ok(key.id);
        }
        if Instant::now() > deadline {
            return Err(format!("no key for {msn_e164} reached the simulator").into());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Fills and sends the new-key form; returns the id the simulator gave the key for `msn_e164`.
pub async fn create_key(client: &Client, sim: &Simulator, typed_phone: &str, msn_e164: &str) -> TestResult<String> {
    click(client, "#new-key").await?;
    wait_visible(client, "#key-form").await?;
    fill(client, "#key-msn", typed_phone).await?;
    click(client, "#key-submit").await?;
    wait_for_key(sim, msn_e164).await
}

pub async fn key_status(client: &Client, key_id: &str) -> TestResult<Option<String>> {
    let value = client
        .execute(
            "return document.querySelector(`tr[data-key-id=\"${arguments[0]}\"] .key-status`)?.dataset.status ?? null",
            vec![json!(key_id)],
        )
        .await?;
    Ok(value.as_str().map(str::to_owned))
}

pub async fn wait_key_status(client: &Client, key_id: &str, status: &str) -> TestResult {
    step(format!("waiting for key {key_id} to show {status}"));
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let shown = key_status(client, key_id).await?;
        if shown.as_deref() == Some(status) {
            return Ok(());
        }
        if Instant::now() > deadline {
            return Err(format!("key {key_id} shows {shown:?}, expected {status}").into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Calls an app command the way the UI does (for what a native dialog would otherwise start):
/// `{"ok": reply}` or `{"error": AppError}`.
pub async fn invoke(client: &Client, command: &str, args: Value) -> TestResult<Value> {
    step(format!("calling the command `{command}`"));
    let answer = client
        .execute_async(
            "const [command, args, done] = arguments;
             window.__TAURI__.core.invoke(command, args).then((ok) => done({ ok }), (error) => done({ error }));",
            vec![json!(command), args],
        )
        .await?;
    Ok(answer)
}
