//! End to end: the real Unloc Desk binary under Xvfb, driven over WebDriver (tauri-driver +
//! WebKitWebDriver), against one simulator per scenario, with the real Secret Service keychain.
//!
//! Run by the README's test command (`tests/run-tests.sh`), which builds the app once, starts
//! Xvfb, a private D-Bus session and gnome-keyring, and sets UNLOC_E2E=1. Without UNLOC_E2E the
//! scenarios say they were skipped; with it, anything missing is a failure, never a skip.
//! Screenshots of each view, and of any failure, land in `tests/artifacts/`.

use std::future::Future;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig, Simulator};

/// The keychain service the app files tokens under (src-tauri/src/secrets.rs).
const KEYCHAIN_SERVICE: &str = "no.unlocdesk.desktop";
/// A fixed zone without daylight saving, so expected local times are exact: UTC+3, shown as "GMT+3".
const TEST_TZ: &str = "Etc/GMT-3";
const WAIT: Duration = Duration::from_secs(20);

/// Like assert!, but fails the scenario with an error so its screenshot is kept and the app is closed.
macro_rules! ensure {
    ($cond:expr) => {
        ensure!($cond, "{}", stringify!($cond))
    };
    ($cond:expr, $($message:tt)+) => {
        if !$cond {
            return Err(format!($($message)+).into());
        }
    };
}

macro_rules! ensure_eq {
    ($left:expr, $right:expr) => {
        ensure_eq!($left, $right, "values differ")
    };
    ($left:expr, $right:expr, $($message:tt)+) => {
        match (&$left, &$right) {
            (left, right) => {
                if left != right {
                    return Err(format!("{}: {:?} != {:?}", format!($($message)+), left, right).into());
                }
            }
        }
    };
}

type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// The scenarios share one display and one keychain: run them one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn e2e_enabled() -> bool {
    if std::env::var("UNLOC_E2E").as_deref() == Ok("1") {
        return true;
    }
    #[allow(clippy::print_stderr)] // tells a developer running plain `cargo test` how to run these
    {
        eprintln!("skipped: the end-to-end suite runs with tests/run-tests.sh (UNLOC_E2E=1)");
    }
    false
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

fn app_binary() -> PathBuf {
    // The install test (tests/install-test.sh) points this at the binary the .deb installed.
    if let Some(installed) = std::env::var_os("UNLOC_INSTALLED_APP") {
        return PathBuf::from(installed);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let binary = target.join("debug").join("unloc-desk");
    assert!(binary.exists(), "{} is missing: run `cargo build -p unloc-desk` first", binary.display());
    binary
}

fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("tests").join("artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts folder");
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// One tauri-driver (and so one app process per WebDriver session) with the environment a
/// scenario asks for. Stopped with SIGTERM: SIGKILL would leave WebKitWebDriver running.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(home: &Path, sim: &Simulator, extra_env: &[(&str, &str)]) -> TestResult<Self> {
        let port = free_port();
        let native_port = free_port();
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("XDG_DATA_HOME", home.join("data"))
            .env("XDG_CONFIG_HOME", home.join("config"))
            .env("XDG_CACHE_HOME", home.join("cache"))
            .env("UNLOC_API_BASE", sim.api_base())
            .env("UNLOC_PARTNER_ID", sim.partner_id())
            .env_remove("UNLOC_API_TOKEN")
            .env("TZ", TEST_TZ)
            .env("LANG", "en_US.UTF-8")
            .env("LANGUAGE", "en")
            .env("RUST_LOG", "debug");
        // Everything the driver and the app print goes to one log, which the secrets audit reads.
        std::fs::create_dir_all(home)?;
        let log = std::fs::File::create(home.join("app.log"))?;
        command.stdout(Stdio::from(log.try_clone()?)).stderr(Stdio::from(log));
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let child = command
            .spawn()
            .map_err(|error| format!("could not start tauri-driver (tests/setup.sh installs it): {error}"))?;
        let driver = Driver { child, port };
        let deadline = Instant::now() + WAIT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("tauri-driver did not start listening".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// Starts the app in a new WebDriver session (a timeout instead of a hang if it cannot start).
    /// On a busy machine WebKitWebDriver now and then drops the first session request: try again.
    async fn open_app(&self) -> TestResult<Client> {
        let mut last_error = None;
        for _ in 0..3 {
            let mut capabilities = serde_json::Map::new();
            capabilities.insert("tauri:options".into(), json!({ "application": app_binary() }));
            let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities);
            let url = format!("http://127.0.0.1:{}", self.port);
            match tokio::time::timeout(Duration::from_secs(60), builder.connect(&url)).await {
                Ok(Ok(client)) => return Ok(client),
                Ok(Err(error)) => last_error = Some(format!("the app did not start: {error}")),
                Err(_) => last_error = Some("the app did not start within 60 s".to_owned()),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(last_error.unwrap_or_default().into())
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
    }
}

/// Everything one scenario owns: its simulator, its own app folders, its driver.
struct Scenario {
    name: &'static str,
    sim: Simulator,
    home: PathBuf,
    driver: Driver,
}

impl Scenario {
    async fn new(name: &'static str, config: SimConfig) -> TestResult<Self> {
        let sim = unloc_sim::start(config).await?;
        let home = std::env::temp_dir().join(format!("unloc-e2e-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home)?;
        let driver = Driver::start(&home, &sim, &[])?;
        forget_token(sim.partner_id());
        Ok(Scenario { name, sim, home, driver })
    }

    /// Runs the steps against a freshly started app; on failure keeps a screenshot.
    async fn run<F>(&self, steps: F) -> TestResult
    where
        F: for<'a> FnOnce(&'a Client, &'a Scenario) -> Pin<Box<dyn Future<Output = TestResult> + Send + 'a>>,
    {
        let client = self.driver.open_app().await?;
        let outcome = steps(&client, self).await;
        if outcome.is_err() {
            if let Ok(png) = client.screenshot().await {
                let path = artifacts_dir().join(format!("{}-failure.png", self.name));
                let _ = std::fs::write(&path, png);
            }
        }
        let _ = client.close().await;
        outcome
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        forget_token(self.sim.partner_id());
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn keychain_token(partner_id: &str) -> Option<String> {
    keyring::Entry::new(KEYCHAIN_SERVICE, partner_id).ok()?.get_password().ok()
}

fn forget_token(partner_id: &str) {
    if let Ok(entry) = keyring::Entry::new(KEYCHAIN_SERVICE, partner_id) {
        let _ = entry.delete_credential();
    }
}

// ---- small WebDriver helpers -------------------------------------------------------------

async fn wait_visible(client: &Client, css: &str) -> TestResult<fantoccini::elements::Element> {
    // Visibility judged in the page itself: WebKitWebDriver's "displayed" atom is unreliable for table cells.
    const VISIBLE: &str = "const el = document.querySelector(arguments[0]); if (!el || el.closest('[hidden]')) return false; \
        const box = el.getBoundingClientRect(); return box.width > 0 && box.height > 0 && getComputedStyle(el).visibility !== 'hidden';";
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
async fn click(client: &Client, css: &str) -> TestResult {
    let deadline = Instant::now() + WAIT;
    loop {
        let element = wait_visible(client, css).await?;
        match element.click().await {
            Ok(()) => return Ok(()),
            Err(error) if Instant::now() > deadline => return Err(format!("could not click `{css}`: {error}").into()),
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

/// Clicks a lock's row and waits for its view. A row clicked just as the virtualized list
/// re-renders (a search settling) can be replaced under the click: then click again.
async fn open_lock_row(client: &Client, row_css: &str) -> TestResult {
    for _ in 0..4 {
        click(client, row_css).await?;
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
async fn wait_for_js(client: &Client, what: &str, script: &str) -> TestResult<Value> {
    let deadline = Instant::now() + WAIT;
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

/// The element's text as the DOM has it (WebKitWebDriver's rendered-text atom returns "" for table cells).
async fn text_of(client: &Client, css: &str) -> TestResult<String> {
    let value =
        client.execute("return document.querySelector(arguments[0])?.textContent ?? null", vec![json!(css)]).await?;
    value.as_str().map(str::to_owned).ok_or_else(|| format!("`{css}` is not on the page").into())
}

async fn visible_text(client: &Client, css: &str) -> TestResult<String> {
    wait_visible(client, css).await?;
    text_of(client, css).await
}

async fn fill(client: &Client, css: &str, value: &str) -> TestResult {
    // Retried like `click`: a re-render between finding the field and typing makes it stale.
    let deadline = Instant::now() + WAIT;
    loop {
        let field = wait_visible(client, css).await?;
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

async fn screenshot(client: &Client, name: &str) -> TestResult {
    // WebKit's snapshot is the last painted frame: let two frames pass so it shows the DOM as it is now.
    client
        .execute_async("const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));", vec![])
        .await?;
    std::fs::write(artifacts_dir().join(format!("{name}.png")), client.screenshot().await?)?;
    Ok(())
}

async fn sign_in(client: &Client, token: &str) -> TestResult {
    wait_visible(client, "#signin-view").await?;
    fill(client, "#api-token", token).await?;
    click(client, "#signin-submit").await?;
    Ok(())
}

async fn rendered_lock_ids(client: &Client) -> TestResult<Vec<String>> {
    let value = client
        .execute("return [...document.querySelectorAll('tr[data-lock-id]')].map(r => r.dataset.lockId)", vec![])
        .await?;
    Ok(serde_json::from_value(value)?)
}

async fn assert_nothing_executed(client: &Client) -> TestResult {
    let pwned = client.execute("return typeof window.__pwned", vec![]).await?;
    if pwned != json!("undefined") {
        return Err("a hostile lock text was executed as code".into());
    }
    Ok(())
}

async fn search_locks(client: &Client, text: &str) -> TestResult {
    fill(client, "#locks-search", text).await
}

/// Records every IPC reply and rejection the page receives, for the secrets audit.
async fn record_ipc(client: &Client) -> TestResult {
    let installed = client
        .execute(
            "const original = window.__TAURI__; const invoke = original.core.invoke.bind(original.core); window.__ipcLog = []; \
             const recorded = async (command, args) => { \
               try { const reply = await invoke(command, args); window.__ipcLog.push(JSON.stringify([command, reply])); return reply; } \
               catch (error) { window.__ipcLog.push(JSON.stringify([command, error])); throw error; } }; \
             /* Tauri's objects are frozen: put a copy with the recording invoke in their place. */ \
             window.__TAURI__ = { ...original, core: { ...original.core, invoke: recorded } }; \
             return window.__TAURI__.core.invoke === recorded;",
            vec![],
        )
        .await?;
    ensure_eq!(installed, json!(true), "could not record the IPC replies");
    Ok(())
}

/// The token must not be in any IPC reply, nor in any file the app wrote, nor in its log.
async fn audit_secrets(client: &Client, home: &Path, token: &str) -> TestResult {
    let log = client.execute("return window.__ipcLog ?? null", vec![]).await?;
    let replies: Vec<String> = serde_json::from_value(log)?;
    ensure!(!replies.is_empty(), "no IPC replies were recorded");
    for reply in &replies {
        ensure!(!reply.contains(token), "an IPC reply carries the token: {reply:.120}");
    }
    let mut files = Vec::new();
    let mut folders = vec![home.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder)?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    ensure!(files.iter().any(|file| file.ends_with("app.log")), "no app log to audit");
    ensure!(
        files.iter().any(|file| file.extension().is_some_and(|ext| ext == "sqlite3")),
        "no local database to audit: {files:?}"
    );
    for file in &files {
        let bytes = std::fs::read(file)?;
        let found = bytes.windows(token.len()).any(|window| window == token.as_bytes());
        ensure!(!found, "the token is in {}", file.display());
    }
    #[allow(clippy::print_stderr)] // the audit's figures belong in the test output
    {
        eprintln!(
            "secrets audit: {} IPC replies and {} files (data, config, cache, log): no token",
            replies.len(),
            files.len()
        );
    }
    Ok(())
}

// ---- scenarios ----------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_see_locks_and_events_then_sign_out() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let scenario = Scenario::new("main-flow", SimConfig { lockout_after: 0, ..SimConfig::default() }).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
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
                ensure_eq!(keychain_token(sim.partner_id()), None, "a wrong token must not be stored");

                // The right token: the locks view with every lock.
                sign_in(client, sim.token()).await?;
                wait_visible(client, "#locks-view").await?;
                wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
                ensure_eq!(keychain_token(sim.partner_id()).as_deref(), Some(sim.token()), "the token is kept in the keychain");
                let token_field = client.execute("return document.querySelector('#api-token')?.value ?? ''", vec![]).await?;
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

                // The hostile lock: its markup shows as text, nothing runs.
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

                // The opt-in filter: one click, only opt-in locks remain.
                click(client, "#filter-opt-in").await?;
                wait_for_js(client, "the filter to apply", "return document.querySelector('#filter-opt-in').getAttribute('aria-pressed') === 'true'").await?;
                let shown = rendered_lock_ids(client).await?;
                let opt_in: Vec<String> = sim.locks().iter().filter(|lock| lock.auth.as_str() == "opt-in").map(|lock| lock.id.clone()).collect();
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
                let first_row = client.execute("return document.querySelector('tr[data-event-id]').dataset.eventId", vec![]).await?;
                ensure_eq!(first_row, json!(newest.id), "the newest event comes first");
                let row = format!("tr[data-event-id=\"{}\"]", newest.id);
                let when = text_of(client, &format!("{row} .event-time")).await?;
                let local = newest.created + chrono::Duration::hours(3);
                let expected_clock = local.format("%H:%M").to_string();
                ensure!(when.contains(&expected_clock), "event time {when:?} should show local {expected_clock} (UTC+3)");
                ensure!(when.contains("GMT+3"), "the zone should be visible: {when:?}");
                let action = text_of(client, &format!("{row} .event-action")).await?;
                let expected_action = if newest.action == "locked" { "Locked" } else { "Unlocked" };
                ensure_eq!(action.trim(), expected_action);
                let who = text_of(client, &format!("{row} .event-who")).await?;
                ensure!(who.contains(newest.name.trim()), "who: {who}");
                screenshot(client, "view-lock").await?;

                // A lock without events explains the two-month retention.
                click(client, "#lock-back").await?;
                search_locks(client, fixtures::EMPTY_EVENTS_NAME).await?;
                open_lock_row(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::EMPTY_EVENTS_LOCK_ID)).await?;
                let empty = visible_text(client, "#events-empty").await?;
                ensure!(empty.contains("two months"), "empty state: {empty}");
                click(client, "#lock-back").await?;

                // Sign out: back to sign-in, partner id kept, token gone from the keychain.
                click(client, "#signout").await?;
                wait_visible(client, "#signin-view").await?;
                let partner = client.find(Locator::Css("#partner-id")).await?.prop("value").await?;
                ensure_eq!(partner.as_deref(), Some(sim.partner_id()));
                ensure_eq!(keychain_token(sim.partner_id()), None, "sign-out must remove the token");
                assert_nothing_executed(client).await?;
                audit_secrets(client, &scenario.home, sim.token()).await?;
                Ok(())
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_signs_in_silently_and_offline_keeps_the_list() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let scenario =
        Scenario::new("restart-offline", SimConfig { lockout_after: 0, locks: 25, ..SimConfig::default() }).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                sign_in(client, scenario.sim.token()).await?;
                wait_visible(client, "#locks-view").await?;
                Ok(())
            })
        })
        .await?;
    // A new app process: straight to the locks, no sign-in form.
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                let sim = &scenario.sim;
                wait_visible(client, "#locks-view").await?;
                wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
                let before = rendered_lock_ids(client).await?;
                let count_before = text_of(client, "#locks-count").await?;

                // The connection drops: the list stays, marked as not current.
                sim.add_fault(FaultRule::always(Route::Any, Fault::Drop));
                click(client, "#locks-refresh").await?;
                let banner = wait_for_js(
                    client,
                    "the offline notice",
                    "return document.querySelector('#status-banner')?.textContent.trim()",
                )
                .await?;
                ensure!(banner.as_str().unwrap_or_default().contains("Offline"), "banner: {banner}");
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
                ensure_eq!(keychain_token(sim.partner_id()), None, "a rejected token is forgotten");
                Ok(())
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn norwegian_is_chosen_from_the_os_and_switchable() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let sim = unloc_sim::start(SimConfig { lockout_after: 0, locks: 12, ..SimConfig::default() }).await?;
    let home = std::env::temp_dir().join(format!("unloc-e2e-lang-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let driver = Driver::start(&home, &sim, &[("LANG", "nb_NO.UTF-8"), ("LANGUAGE", "nb")])?;
    let client = driver.open_app().await?;
    let outcome: TestResult = async {
        wait_visible(&client, "#signin-view").await?;
        wait_for_js(&client, "Norwegian", "return document.documentElement.lang === 'nb'").await?;
        sign_in(&client, sim.token()).await?;
        wait_visible(&client, "#locks-view").await?;
        search_locks(&client, fixtures::UUID_LOCK_NAME).await?;
        let flag =
            visible_text(&client, &format!("tr[data-lock-id=\"{}\"] .lock-auth", fixtures::UUID_LOCK_ID)).await?;
        ensure!(flag.contains("Eier må godkjenne hver nøkkel"), "Norwegian opt-in flag: {flag}");
        screenshot(&client, "view-locks-nb").await?;
        click(&client, "#nav-settings").await?;
        wait_visible(&client, "#settings-view").await?;
        client.find(Locator::Css("#language-select option[value=\"en\"]")).await?.click().await?; // options have no box of their own
        wait_for_js(&client, "English", "return document.documentElement.lang === 'en'").await?;
        screenshot(&client, "view-settings").await?;
        Ok(())
    }
    .await;
    if outcome.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(artifacts_dir().join("language-failure.png"), png);
        }
    }
    let _ = client.close().await;
    forget_token(sim.partner_id());
    let _ = std::fs::remove_dir_all(&home);
    outcome
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_locks_and_a_hundred_thousand_events_stay_light() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let config = SimConfig { lockout_after: 0, locks: 10_000, busy_lock_events: 100_000, ..SimConfig::default() };
    let scenario = Scenario::new("large-partner", config).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                sign_in(client, scenario.sim.token()).await?;
                wait_visible(client, "#locks-view").await?;
                let counts = wait_for_js(
                    client,
                    "the lock count",
                    "const text = document.querySelector('#locks-count')?.textContent ?? ''; return /10[ ,.\\u00a0\\u202f]?000/.test(text) && text",
                )
                .await?;
                // Only what is visible is in the page: the design must not render 10,000 rows.
                let rows = client.execute("return document.querySelectorAll('tr[data-lock-id]').length", vec![]).await?;
                let rows = rows.as_u64().unwrap_or(u64::MAX);
                ensure!(rows > 0 && rows < 200, "{rows} lock rows in the DOM for {counts}");

                // Its reference is (nearly) unique among 10,000 locks, unlike its name, so it is found without scrolling.
                let busy = scenario.sim.locks().into_iter().find(|lock| lock.id == fixtures::BUSY_LOCK_ID).ok_or("no busy lock")?;
                search_locks(client, &busy.data).await?;
                open_lock_row(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::BUSY_LOCK_ID)).await?;
                wait_visible(client, "#lock-view").await?;
                let counts = wait_for_js(
                    client,
                    "the event count",
                    "const text = document.querySelector('#events-count')?.textContent ?? ''; return /100[ ,.\\u00a0\\u202f]?000/.test(text) && text",
                )
                .await?;
                let rows = client.execute("return document.querySelectorAll('tr[data-event-id]').length", vec![]).await?;
                let rows = rows.as_u64().unwrap_or(u64::MAX);
                ensure!(rows > 0 && rows < 200, "{rows} event rows in the DOM for {counts}");

                // Filtering 100,000 events by action narrows the count without rendering them all.
                client.find(Locator::Css("#events-action option[value=\"locked\"]")).await?.click().await?; // options have no box of their own
                wait_for_js(client, "the filtered count", "return !/100[ ,.\\u00a0\\u202f]?000 of/.test(document.querySelector('#events-count').textContent) && /of 100/.test(document.querySelector('#events-count').textContent)").await?;
                screenshot(client, "view-lock-100k").await?;
                Ok(())
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keychain_sign_in_works_for_this_run_and_says_so() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let sim = unloc_sim::start(SimConfig { lockout_after: 0, locks: 12, ..SimConfig::default() }).await?;
    let home = std::env::temp_dir().join(format!("unloc-e2e-nokeychain-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let driver = Driver::start(&home, &sim, &[("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/unloc-e2e-bus")])?;
    let client = driver.open_app().await?;
    let outcome: TestResult = async {
        sign_in(&client, sim.token()).await?;
        wait_visible(&client, "#locks-view").await?;
        let banner = wait_for_js(
            &client,
            "the keychain notice",
            "return document.querySelector('#status-banner')?.textContent.trim()",
        )
        .await?;
        let banner = banner.as_str().unwrap_or_default().to_lowercase();
        ensure!(banner.contains("keychain"), "the notice should name the keychain: {banner}");
        ensure!(!banner.contains(sim.token()), "the notice must not show the token");
        screenshot(&client, "view-no-keychain").await?;
        Ok(())
    }
    .await;
    if outcome.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(artifacts_dir().join("no-keychain-failure.png"), png);
        }
    }
    let _ = client.close().await;
    let _ = std::fs::remove_dir_all(&home);
    outcome
}

// ---- keys ---------------------------------------------------------------------------------

async fn open_lock(client: &Client, lock_id: &str, search: &str) -> TestResult {
    click(client, "#nav-locks").await?;
    wait_visible(client, "#locks-view").await?;
    search_locks(client, search).await?;
    open_lock_row(client, &format!("tr[data-lock-id=\"{lock_id}\"] .lock-name")).await?;
    wait_visible(client, "#lock-view").await?;
    Ok(())
}

/// Fills and sends the new-key form; returns the id the simulator gave the key for `msn_e164`.
async fn create_key(client: &Client, sim: &Simulator, typed_phone: &str, msn_e164: &str) -> TestResult<String> {
    click(client, "#new-key").await?;
    wait_visible(client, "#key-form").await?;
    fill(client, "#key-msn", typed_phone).await?;
    click(client, "#key-submit").await?;
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

async fn key_status(client: &Client, key_id: &str) -> TestResult<Option<String>> {
    let value = client
        .execute(
            "return document.querySelector(`tr[data-key-id=\"${arguments[0]}\"] .key-status`)?.dataset.status ?? null",
            vec![json!(key_id)],
        )
        .await?;
    Ok(value.as_str().map(str::to_owned))
}

async fn wait_key_status(client: &Client, key_id: &str, status: &str) -> TestResult {
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_wait_for_the_owner_then_work_and_can_be_revoked() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let config =
        SimConfig { lockout_after: 0, locks: 20, key_provisioning: Duration::from_millis(500), ..SimConfig::default() };
    let scenario = Scenario::new("keys", config).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                let sim = &scenario.sim;
                sign_in(client, sim.token()).await?;
                wait_visible(client, "#locks-view").await?;

                // An opt-in lock: the form warns before anything is sent.
                open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
                click(client, "#new-key").await?;
                let warning = visible_text(client, "#key-optin-warning").await?;
                ensure!(warning.contains("approve"), "opt-in warning: {warning}");
                screenshot(client, "view-key-form-opt-in").await?;

                // A bad phone number is refused before any request.
                sim.clear_requests();
                fill(client, "#key-msn", "12").await?;
                click(client, "#key-submit").await?;
                visible_text(client, "#key-form-error").await?;
                ensure!(sim.requests().iter().all(|request| request.route != Some(Route::KeysCreate)), "a bad number was sent");

                // A good one, typed the way people type it.
                fill(client, "#key-msn", "900 00 011").await?;
                click(client, "#key-submit").await?;
                let deadline = Instant::now() + WAIT;
                let waiting_id = loop {
                    if let Some(key) = sim.keys().into_iter().find(|key| key.msn.as_deref() == Some("+4790000011")) {
                        break key.id;
                    }
                    ensure!(Instant::now() < deadline, "the key never reached the simulator");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                };
                wait_key_status(client, &waiting_id, "awaitingApproval").await?;
                wait_for_js(client, "the awaiting count", "return document.querySelector('#awaiting-count')?.textContent.trim() === '1'").await?;

                // The awaiting view lists it, with its waiting time.
                click(client, "#nav-awaiting").await?;
                wait_visible(client, "#awaiting-view").await?;
                wait_visible(client, &format!("#awaiting-view tr[data-key-id=\"{waiting_id}\"] .key-waiting")).await?;
                screenshot(client, "view-awaiting").await?;

                // The owner approves in the Unloc app: the app notices by itself.
                ensure!(sim.approve_key(&waiting_id), "the simulator refused to approve");
                wait_for_js(client, "the key to leave the awaiting list", &format!(
                    "return !document.querySelector('#awaiting-view tr[data-key-id=\"{waiting_id}\"]')"
                )).await?;
                wait_for_js(client, "the awaiting count to drop", "const c = document.querySelector('#awaiting-count'); return !c || c.hidden || c.textContent.trim() === '' || c.textContent.trim() === '0'").await?;
                open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
                wait_key_status(client, &waiting_id, "active").await?;

                // An opt-out lock: no warning, and the key becomes active on its own.
                open_lock(client, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
                let active_id = create_key(client, sim, "+47 900 00 012", "+4790000012").await?;
                wait_key_status(client, &active_id, "active").await?;
                screenshot(client, "view-lock-keys").await?;

                // Revoke, confirmed: revoked.
                click(client, &format!("tr[data-key-id=\"{active_id}\"] .key-revoke")).await?;
                wait_visible(client, "#confirm-dialog").await?;
                click(client, "#confirm-yes").await?;
                wait_key_status(client, &active_id, "revoked").await?;

                // The owner already revoked the other key: revoking it again is calm, not an error.
                ensure!(sim.owner_revoke_key(&waiting_id), "owner revoke");
                open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
                if key_status(client, &waiting_id).await?.as_deref() == Some("active") {
                    click(client, &format!("tr[data-key-id=\"{waiting_id}\"] .key-revoke")).await?;
                    wait_visible(client, "#confirm-dialog").await?;
                    click(client, "#confirm-yes").await?;
                }
                wait_key_status(client, &waiting_id, "revoked").await?;
                let alert = client.execute("return document.querySelector('#lock-view [role=alert]')?.textContent.trim() ?? ''", vec![]).await?;
                ensure!(alert.as_str().unwrap_or_default().is_empty(), "an already revoked key must not show an error: {alert}");

                // The keys view lists both, with filters.
                click(client, "#nav-keys").await?;
                wait_visible(client, "#keys-view").await?;
                wait_visible(client, &format!("#keys-view tr[data-key-id=\"{active_id}\"]")).await?;
                screenshot(client, "view-keys").await?;
                assert_nothing_executed(client).await?;
                Ok(())
            })
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_without_a_connection_shows_the_saved_locks_and_keys() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let config =
        SimConfig { lockout_after: 0, locks: 15, key_provisioning: Duration::from_millis(300), ..SimConfig::default() };
    let scenario = Scenario::new("offline-start", config).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                let sim = &scenario.sim;
                sign_in(client, sim.token()).await?;
                open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
                let key_id = create_key(client, sim, "90000021", "+4790000021").await?;
                wait_key_status(client, &key_id, "awaitingApproval").await?;
                Ok(())
            })
        })
        .await?;
    // Unloc cannot be reached at the next start.
    scenario.sim.add_fault(FaultRule::always(Route::Any, Fault::Drop));
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                let sim = &scenario.sim;
                wait_visible(client, "#locks-view").await?;
                wait_for_js(client, "cached lock rows", "return document.querySelectorAll('tr[data-lock-id]').length")
                    .await?;
                let banner = wait_for_js(
                    client,
                    "the offline notice",
                    "return document.querySelector('#status-banner')?.textContent.trim()",
                )
                .await?;
                ensure!(banner.as_str().unwrap_or_default().contains("Offline"), "banner: {banner}");
                let count = text_of(client, "#locks-count").await?;
                ensure!(count.contains(&sim.locks().len().to_string()), "cached locks: {count}");
                screenshot(client, "view-offline-start").await?;
                click(client, "#nav-awaiting").await?;
                wait_visible(client, "#awaiting-view").await?;
                wait_for_js(
                    client,
                    "the saved waiting key",
                    "return document.querySelectorAll('#awaiting-view tr[data-key-id]').length",
                )
                .await?;
                Ok(())
            })
        })
        .await
}

// ---- updates ------------------------------------------------------------------------------

/// A loopback update server: `latest.json` offers 9.9.9, signed with a key that is not the app's.
fn serve_update() -> TestResult<(u16, std::sync::Arc<std::sync::atomic::AtomicUsize>)> {
    use std::io::{Read, Write};
    let fixtures = workspace_root().join("tests").join("fixtures").join("update");
    let payload = std::fs::read(fixtures.join("unloc-desk-9.9.9.tar.gz"))?;
    let signature = std::fs::read_to_string(fixtures.join("unloc-desk-9.9.9.tar.gz.sig"))?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}/unloc-desk-9.9.9.tar.gz");
    let platform = json!({ "signature": signature.trim(), "url": url });
    let manifest = json!({
        "version": "9.9.9",
        "notes": "A test release",
        "pub_date": "2026-11-26T00:00:00Z",
        "platforms": {
            "linux-x86_64": platform, "linux-x86_64-appimage": platform,
            "linux-x86_64-deb": platform, "linux-x86_64-rpm": platform,
        }
    })
    .to_string();
    let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let read = stream.read(&mut request).unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..read]);
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let (kind, body): (&str, &[u8]) = if head.starts_with("GET /latest.json") {
                ("application/json", manifest.as_bytes())
            } else {
                ("application/octet-stream", &payload)
            };
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes()).and_then(|()| stream.write_all(body));
        }
    });
    Ok((port, hits))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_offered_and_a_wrongly_signed_one_is_refused() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let sim = unloc_sim::start(SimConfig { lockout_after: 0, locks: 10, ..SimConfig::default() }).await?;
    let (port, hits) = serve_update()?;
    let home = std::env::temp_dir().join(format!("unloc-e2e-update-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let endpoint = format!("http://127.0.0.1:{port}/latest.json");
    let driver = Driver::start(&home, &sim, &[("UNLOC_UPDATER_ENDPOINT", &endpoint)])?;
    let client = driver.open_app().await?;
    let outcome: TestResult = async {
        sign_in(&client, sim.token()).await?;
        wait_visible(&client, "#locks-view").await?;
        click(&client, "#nav-settings").await?;
        click(&client, "#update-check").await?;
        let status = wait_for_js(
            &client,
            "the offer",
            "const s = document.querySelector('#update-status')?.textContent ?? ''; return s.includes('9.9.9') && s",
        )
        .await?;
        ensure!(hits.load(std::sync::atomic::Ordering::SeqCst) >= 1, "the update server was never asked");
        ensure!(status.as_str().unwrap_or_default().contains("available"), "status: {status}");
        wait_visible(&client, "#update-available").await?;
        screenshot(&client, "view-update-offered").await?;
        // Nothing is installed until the user says so; then the bad signature is refused.
        click(&client, "#update-install").await?;
        let error =
            wait_for_js(&client, "the refusal", "return document.querySelector('#update-error')?.textContent.trim()")
                .await?;
        let error = error.as_str().unwrap_or_default().to_owned();
        ensure!(error.contains("refused") || error.contains("signature"), "refusal: {error}");
        // The app is still here and working.
        click(&client, "#nav-locks").await?;
        wait_visible(&client, "#locks-view").await?;
        screenshot(&client, "view-update-refused").await?;
        Ok(())
    }
    .await;
    if outcome.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(artifacts_dir().join("update-failure.png"), png);
        }
    }
    let _ = client.close().await;
    forget_token(sim.partner_id());
    let _ = std::fs::remove_dir_all(&home);
    outcome
}

// ---- the installed package (run by tests/install-test.sh after installing the .deb) ----------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installed_package_opens_at_sign_in_with_its_name_and_icon() -> TestResult {
    if std::env::var_os("UNLOC_INSTALLED_APP").is_none() {
        return Ok(()); // only meaningful after tests/install-test.sh installed the package
    }
    let _serial = SERIAL.lock().await;
    let sim = unloc_sim::start(SimConfig { lockout_after: 0, locks: 5, ..SimConfig::default() }).await?;
    let home = std::env::temp_dir().join(format!("unloc-e2e-installed-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let driver = Driver::start(&home, &sim, &[])?;
    let client = driver.open_app().await?;
    let outcome: TestResult = async {
        let heading = visible_text(&client, "#signin-view h1").await?;
        ensure!(heading.contains("Sign in"), "sign-in heading: {heading}");
        screenshot(&client, "installed-signin").await?;
        // The window list shows the app's name and icon.
        let windows = Command::new("xdotool").args(["search", "--name", "^Unloc Desk"]).output()?;
        let window = String::from_utf8_lossy(&windows.stdout).lines().next().unwrap_or_default().to_owned();
        ensure!(!window.is_empty(), "no window named Unloc Desk");
        let properties =
            Command::new("xprop").args(["-id", &window, "_NET_WM_NAME", "WM_CLASS", "_NET_WM_ICON"]).output()?;
        let properties = String::from_utf8_lossy(&properties.stdout);
        ensure!(properties.contains("\"Unloc Desk\""), "window name: {properties:.300}");
        ensure!(properties.contains("_NET_WM_ICON(CARDINAL)"), "the window has no icon: {properties:.300}");
        Ok(())
    }
    .await;
    if outcome.is_err() {
        if let Ok(png) = client.screenshot().await {
            let _ = std::fs::write(artifacts_dir().join("installed-failure.png"), png);
        }
    }
    let _ = client.close().await;
    let _ = std::fs::remove_dir_all(&home);
    outcome
}

// ---- accessibility ------------------------------------------------------------------------

/// axe-core, installed by tests/setup.sh into target/tools (npm), never committed.
fn axe_source() -> TestResult<String> {
    let path = workspace_root().join("target/tools/node_modules/axe-core/axe.min.js");
    std::fs::read_to_string(&path)
        .map_err(|error| format!("{} is missing ({error}): tests/setup.sh installs axe-core", path.display()).into())
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
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let axe = axe_source()?;
    let config =
        SimConfig { lockout_after: 0, locks: 15, key_provisioning: Duration::from_millis(300), ..SimConfig::default() };
    let scenario = Scenario::new("accessibility", config).await?;
    scenario
        .run(|client, scenario| {
            let axe = axe.clone();
            Box::pin(async move {
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
                wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
                audit(check("locks", axe_violations(client, &axe).await?, focus_is_always_visible(client).await?));

                open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
                wait_for_js(client, "event rows", "return document.querySelectorAll('tr[data-event-id]').length")
                    .await?;
                click(client, "#new-key").await?;
                wait_visible(client, "#key-form").await?;
                audit(check(
                    "lock + key form",
                    axe_violations(client, &axe).await?,
                    focus_is_always_visible(client).await?,
                ));
                fill(client, "#key-msn", "+4790000031").await?;
                click(client, "#key-submit").await?;
                wait_for_js(client, "the new key", "return document.querySelectorAll('tr[data-key-id]').length")
                    .await?;

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
        })
        .await
}

// ---- damage -------------------------------------------------------------------------------

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_settings_and_database_are_set_aside_and_rebuilt() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let scenario = Scenario::new("damage", SimConfig { lockout_after: 0, locks: 12, ..SimConfig::default() }).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                sign_in(client, scenario.sim.token()).await?;
                wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
                Ok(())
            })
        })
        .await?;
    // Between runs, both files are damaged.
    let data = scenario.home.join("data");
    let files = files_under(&data);
    let settings = files.iter().find(|file| file.ends_with("settings.json")).ok_or("no settings file was written")?;
    let database = files
        .iter()
        .find(|file| file.extension().is_some_and(|ext| ext == "sqlite3"))
        .ok_or("no local database was written")?;
    std::fs::write(settings, b"{\"settings\": {\"language\": 7, \"partnerId\": [")?;
    std::fs::write(database, vec![0x5a; 8192])?;
    for companion in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{companion}", database.display()));
    }
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                // The app starts, says what it did, and gets the data again from Unloc.
                let banner = wait_for_js(
                    client,
                    "the reset notice",
                    "return document.querySelector('#status-banner')?.textContent.trim()",
                )
                .await?;
                let banner = banner.as_str().unwrap_or_default().to_lowercase();
                ensure!(banner.contains("reset") || banner.contains("damaged"), "notice: {banner}");
                screenshot(client, "view-damage-notice").await?;
                wait_visible(client, "#locks-view").await?;
                wait_for_js(client, "rebuilt lock rows", "return document.querySelectorAll('tr[data-lock-id]').length")
                    .await?;
                let count = text_of(client, "#locks-count").await?;
                ensure!(count.contains(&scenario.sim.locks().len().to_string()), "locks after the rebuild: {count}");
                Ok(())
            })
        })
        .await?;
    let after = files_under(&data);
    ensure!(
        after.iter().any(|file| file.to_string_lossy().contains("settings.json.damaged")),
        "the damaged settings were not kept aside"
    );
    ensure!(
        after.iter().any(|file| file.to_string_lossy().contains(".damaged-")),
        "the damaged database was not kept aside"
    );
    Ok(())
}

// ---- faults in the real app ---------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_fault_gets_its_own_message_and_the_list_stays() -> TestResult {
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let scenario = Scenario::new("faults", SimConfig { lockout_after: 0, locks: 15, ..SimConfig::default() }).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                let sim = &scenario.sim;
                sign_in(client, sim.token()).await?;
                wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
                let count_before = text_of(client, "#locks-count").await?;
                // (fault, words the notice must contain)
                let cases: [(&str, &str); 10] = [
                    ("status:500", "Unloc had a problem"),
                    ("status:502", "Unloc had a problem"),
                    ("status:503", "maintenance"),
                    ("status:400", "went wrong"),
                    ("malformed", "unexpected"),
                    ("html", "unexpected"),
                    ("empty", "unexpected"),
                    ("wrong-types", "unexpected"),
                    ("reset", "Offline"),
                    ("drop", "Offline"),
                ];
                let mut table = Vec::new();
                for (spec, words) in cases {
                    sim.add_fault(FaultRule::parse(&format!("locks={spec}"))?);
                    click(client, "#locks-refresh").await?;
                    let banner = wait_for_js(
                        client,
                        &format!("the notice for {spec}"),
                        &format!("const b = document.querySelector('#status-banner')?.textContent ?? ''; return b.includes({words:?}) && b"),
                    )
                    .await?;
                    ensure_eq!(text_of(client, "#locks-count").await?, count_before, "the list must stay under {spec}");
                    ensure!(!banner.as_str().unwrap_or_default().contains(sim.token()), "the token in a notice");
                    table.push(format!("{spec:<28} {}", banner.as_str().unwrap_or_default().chars().take(90).collect::<String>()));
                    sim.clear_faults();
                    click(client, "#locks-refresh").await?;
                    wait_for_js(client, "the notice to clear", &format!("return !(document.querySelector('#status-banner')?.textContent ?? '').includes({words:?})")).await?;
                }

                // A lock that is no longer granted (404): off the list, with a notice.
                sim.add_fault(FaultRule::parse("events=status:404")?);
                search_locks(client, fixtures::HJEMME_NAME).await?;
                click(client, &format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::HJEMME_LOCK_ID)).await?;
                wait_for_js(client, "the lock-gone notice", "return (document.querySelector('#status-banner')?.textContent ?? '').includes('no longer available')").await?;
                wait_visible(client, "#locks-view").await?;
                wait_for_js(client, "the lock to leave the list", &format!(
                    "return !document.querySelector('tr[data-lock-id=\"{}\"]')", fixtures::HJEMME_LOCK_ID
                )).await?;
                screenshot(client, "view-lock-gone").await?;
                table.push(format!("{:<28} lock taken off the list with a notice", "events=status:404"));
                sim.clear_faults();
                search_locks(client, "").await?;
                // One lock fewer now; wait for the cleared search to show them all again.
                let count_before = wait_for_js(
                    client,
                    "the whole list again",
                    "const t = document.querySelector('#locks-count')?.textContent ?? ''; const m = t.match(/(\\d+) of (\\d+)/); return m && m[1] === m[2] && t",
                )
                .await?
                .as_str()
                .unwrap_or_default()
                .to_owned();

                // Unloc's lock-out: said plainly, and nothing more is sent until the user acts.
                sim.add_fault(FaultRule::parse("*=status:403")?);
                click(client, "#locks-refresh").await?;
                wait_for_js(client, "the lock-out notice", "return (document.querySelector('#status-banner')?.textContent ?? '').includes('temporarily blocked')").await?;
                let retry_buttons = client.execute("return document.querySelectorAll('#status-banner button').length", vec![]).await?;
                let sent = sim.requests().len();
                tokio::time::sleep(Duration::from_secs(3)).await; // a window in which nothing may be sent
                ensure_eq!(sim.requests().len(), sent, "requests were sent during the lock-out without the user acting");
                table.push(format!("{:<28} lock-out notice, {} banner buttons, no requests for 3 s", "status:403", retry_buttons));
                screenshot(client, "view-lockout").await?;
                sim.clear_faults();

                // Too many requests, come back in two minutes: until then nothing is sent, even on Refresh.
                sim.add_fault(FaultRule::parse("locks=status:429:retry-after=120*1")?);
                click(client, "#locks-refresh").await?;
                wait_for_js(client, "the rate-limit notice", "return (document.querySelector('#status-banner')?.textContent ?? '').includes('Wait 2 minutes')").await?;
                let sent = sim.requests().len();
                click(client, "#locks-refresh").await?;
                wait_for_js(client, "the refresh to end", "return document.querySelector('#locks-refresh')?.getAttribute('aria-disabled') !== 'true'").await?;
                ensure_eq!(sim.requests().len(), sent, "a request was sent before Retry-After expired");
                ensure_eq!(text_of(client, "#locks-count").await?, count_before, "the list must stay while rate limited");
                table.push(format!("{:<28} wait notice; a second Refresh sent nothing", "status:429:retry-after=120"));
                assert_nothing_executed(client).await?;
                #[allow(clippy::print_stderr)] // the table is the report of this test
                {
                    eprintln!("faults in the app:\n  {}", table.join("\n  "));
                }
                Ok(())
            })
        })
        .await
}

// ---- injection ----------------------------------------------------------------------------

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
    if !e2e_enabled() {
        return Ok(());
    }
    let _serial = SERIAL.lock().await;
    let config = SimConfig { lockout_after: 0, locks: 22, payloads: true, events_per_lock: 6, ..SimConfig::default() };
    let scenario = Scenario::new("injection", config).await?;
    scenario
        .run(|client, scenario| {
            Box::pin(async move {
                let sim = &scenario.sim;
                sign_in(client, sim.token()).await?;
                wait_for_js(client, "lock rows", "return document.querySelectorAll('tr[data-lock-id]').length").await?;
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
    let deadline = Instant::now() + WAIT;
    let key_id = loop {
        if let Some(key) = sim.keys().into_iter().find(|key| key.msn.as_deref() == Some(msn.as_str())) {
            break key.id;
        }
        ensure!(Instant::now() < deadline, "the key for {msn} never reached the simulator");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let route_cell = format!("#lock-keys tr[data-key-id=\"{key_id}\"] .key-route");
    wait_visible(client, &route_cell).await?;
    let route = text_of(client, &route_cell).await?;
    Ok(!typeable || route.contains(payload.trim()))
}
