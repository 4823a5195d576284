//! Measuring inside the real webview over WebDriver (tauri-driver + WebKitWebDriver), as the
//! end-to-end suite drives the app: sessions, page waits, and the scripts that time keystrokes,
//! scrolling and the app's User Timing marks (`unloc:reply:*`, `unloc:rows:*`).

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::BenchResult;

const WAIT: Duration = Duration::from_secs(60);

/// The table marks the app sets (ui/js/virtual-table.js): the first frame showing rows.
pub const LOCK_ROWS_MARK: &str = "unloc:rows:data-table locks-table";

fn free_port() -> BenchResult<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// One tauri-driver with the environment of one app home. Stopped with SIGTERM: SIGKILL would
/// leave WebKitWebDriver running.
pub struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    pub fn start(env: &[(String, String)], log: &Path) -> BenchResult<Self> {
        let port = free_port()?;
        let native_port = free_port()?;
        let log = std::fs::File::create(log)?;
        let mut command = Command::new("tauri-driver");
        command
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::from(log.try_clone()?))
            .stderr(Stdio::from(log));
        for (name, value) in env {
            command.env(name, value);
        }
        let child = command.spawn().map_err(|error| format!("could not start tauri-driver: {error}"))?;
        let driver = Driver { child, port };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err("tauri-driver did not start listening".into());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(driver)
    }

    /// Starts `application` in a new session (WebKitWebDriver now and then drops the first one).
    pub async fn open(&self, application: &Path) -> BenchResult<Client> {
        let mut last_error = String::new();
        for _ in 0..3 {
            let mut capabilities = serde_json::Map::new();
            capabilities.insert("tauri:options".into(), json!({ "application": application }));
            let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
            builder.capabilities(capabilities);
            let url = format!("http://127.0.0.1:{}", self.port);
            match tokio::time::timeout(Duration::from_secs(60), builder.connect(&url)).await {
                Ok(Ok(client)) => {
                    // The timing scripts run for many seconds on a busy machine (WebDriver's default: 30 s).
                    let script = Some(Duration::from_secs(600));
                    client.update_timeouts(fantoccini::wd::TimeoutConfiguration::new(script, None, None)).await?;
                    return Ok(client);
                }
                Ok(Err(error)) => last_error = format!("the app did not start: {error}"),
                Err(_) => last_error = "the app did not start within 60 s".to_owned(),
            }
            // An app this try did start would answer the next one's start as "already running"
            // (one instance per desktop) and that start would quit: it goes first.
            stop_launched(application);
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        Err(last_error.into())
    }
}

/// Stops the app (and its WebKit processes) a launcher started, by the pid it recorded
/// (`procs::write_launcher_with`: `launch-NAME.sh` records in `launch-NAME.txt`), and forgets the record.
fn stop_launched(launcher: &Path) {
    let record = launcher.with_extension("txt");
    if let Ok((pid, _)) = crate::procs::read_launch_now(&record) {
        for process in crate::procs::descendants(pid) {
            let _ = Command::new("kill").args(["-KILL", &process.to_string()]).status();
        }
    }
    let _ = std::fs::remove_file(&record);
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

/// Waits until a script returns something truthy; returns it.
pub async fn wait_for(client: &Client, what: &str, script: &str, args: Vec<Value>) -> BenchResult<Value> {
    let deadline = Instant::now() + WAIT;
    loop {
        let value = client.execute(script, args.clone()).await?;
        let truthy = !matches!(&value, Value::Null | Value::Bool(false)) && value.as_str() != Some("");
        if truthy {
            return Ok(value);
        }
        if Instant::now() > deadline {
            return Err(format!("timed out waiting for {what} (last value {value})").into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

pub async fn wait_visible(client: &Client, css: &str) -> BenchResult {
    const VISIBLE: &str =
        "const el = document.querySelector(arguments[0]); if (!el || el.closest('[hidden]')) return false; \
        const box = el.getBoundingClientRect(); return box.width > 0 && box.height > 0;";
    wait_for(client, css, VISIBLE, vec![json!(css)]).await.map(|_| ())
}

/// A User Timing mark's wall-clock time in ms since the epoch, once the page has set it.
pub async fn wait_mark_epoch_ms(client: &Client, name: &str) -> BenchResult<f64> {
    const MARK: &str = "const m = performance.getEntriesByName(arguments[0], 'mark')[0]; \
        return m ? performance.timeOrigin + m.startTime : null;";
    let value = wait_for(client, name, MARK, vec![json!(name)]).await?;
    value.as_f64().ok_or_else(|| format!("mark {name} is not a number").into())
}

/// A mark's time on the page clock (`performance.now()` scale), or None if it is not set.
pub async fn mark_ms(client: &Client, name: &str) -> BenchResult<Option<f64>> {
    let value = client
        .execute(
            "const m = performance.getEntriesByName(arguments[0], 'mark')[0]; return m ? m.startTime : null;",
            vec![json!(name)],
        )
        .await?;
    Ok(value.as_f64())
}

/// Types `token` and presses Sign in; returns the page-clock time of the press.
pub async fn sign_in(client: &Client, partner_id: &str, api_base: &str, token: &str) -> BenchResult<f64> {
    wait_visible(client, "#api-token").await?;
    // A release build takes no partner id or API address from its environment (only debug builds
    // do): the simulator's are typed in, the address under "Advanced", as a user would.
    client.execute("document.querySelector('#signin-advanced').open = true; return true;", vec![]).await?;
    for (css, value) in [("#partner-id", partner_id), ("#api-base", api_base), ("#api-token", token)] {
        let field = client.find(Locator::Css(css)).await?;
        field.clear().await?;
        field.send_keys(value).await?;
    }
    let pressed = client
        .execute("const t = performance.now(); document.querySelector('#signin-submit').click(); return t;", vec![])
        .await?;
    pressed.as_f64().ok_or_else(|| "no press time".into())
}

/// One value typed into a search box.
pub struct Keystroke {
    /// From the `input` event to the animation frame after the list (its rows or its count)
    /// changed; `None` where nothing changed within two seconds.
    pub painted: Option<f64>,
    /// Of that, the page's own handling of the event (its listeners run inside `dispatchEvent`):
    /// the rest is style, layout and paint, and waiting for the frame.
    pub handler: f64,
    /// From the change seen to the first task the page's main thread could run after it: long when
    /// the page's own thread is busy, short when the frame waits on WebKit's compositor.
    pub thread_free: Option<f64>,
    /// The main-thread work of the frame that shows the change (from its animation-frame callback
    /// to the first task after it: style, layout, paint of that frame).
    pub frame_work: Option<f64>,
    /// From the `input` event to the first change seen in the watched elements: 0 when the page
    /// changes them in its handler, later when it changes them from a timer or a reply.
    pub seen: Option<f64>,
}

/// The pause after each timed keystroke is painted, before the next.
const KEYSTROKE_PAUSE_MS: f64 = 150.0;

/// Times each value typed into a search box (see `Keystroke`).
pub async fn time_keystrokes(
    client: &Client,
    input: &str,
    watched: &[&str],
    values: &[String],
) -> BenchResult<Vec<Keystroke>> {
    const SCRIPT: &str = r#"
const [inputCss, watchedCss, values, pauseMs] = arguments;
const done = arguments[arguments.length - 1];
const input = document.querySelector(inputCss);
const watched = watchedCss.map((css) => document.querySelector(css)).filter(Boolean);
const times = [];
const handlers = [];
const free = [];
const work = [];
const seenAt = [];
const channel = new MessageChannel();
// One callback per message, in order: the frame may come before the first message is delivered,
// and a second afterTask must not replace the first (it did: the next keystroke was then typed
// twice over, into the search box's 100 ms gathering of fast typing, and timed as ~100 ms).
const tasks = [];
channel.port1.onmessage = () => tasks.shift()();
function afterTask(fn) { tasks.push(fn); channel.port2.postMessage(0); }
const sent = [];
let i = 0;
function next() {
  if (i >= values.length) { done([times, handlers, free, work, seenAt, sent]); return; }
  const value = values[i++];
  let t0 = 0;
  let timer = 0;
  const observer = new MutationObserver(() => {
    observer.disconnect();
    clearTimeout(timer);
    const seen = performance.now();
    seenAt.push(seen - t0);
    let freeAt = null;
    afterTask(() => { freeAt = performance.now(); });
    requestAnimationFrame(() => {
      const frame = performance.now();
      times.push(frame - t0);
      free.push(freeAt === null ? null : freeAt - seen);
      afterTask(() => { work.push(performance.now() - frame); setTimeout(next, pauseMs); });
    });
  });
  for (const el of watched) observer.observe(el, { childList: true, subtree: true, characterData: true, attributes: true });
  timer = setTimeout(() => { observer.disconnect(); times.push(null); free.push(null); work.push(null); seenAt.push(null); next(); }, 2000);
  t0 = performance.now();
  sent.push(t0);
  input.value = value;
  input.dispatchEvent(new InputEvent('input', { bubbles: true, inputType: 'insertText', data: value.slice(-1) }));
  handlers.push(performance.now() - t0);
}
next();
"#;
    let result = client
        .execute_async(SCRIPT, vec![json!(input), json!(watched), json!(values), json!(KEYSTROKE_PAUSE_MS)])
        .await?;
    let painted = result[0].as_array().ok_or("no keystroke times")?;
    let handlers = result[1].as_array().ok_or("no keystroke handler times")?;
    let free = result[2].as_array().ok_or("no keystroke thread times")?;
    let work = result[3].as_array().ok_or("no keystroke frame times")?;
    let seen = result[4].as_array().ok_or("no keystroke change times")?;
    // Each keystroke is typed only after the last one is painted and a pause: a user's first
    // keystroke after a pause, not fast typing (which the search box gathers for 100 ms).
    let sent: Vec<f64> =
        result[5].as_array().ok_or("no keystroke send times")?.iter().filter_map(Value::as_f64).collect();
    if let Some(pair) = sent.windows(2).find(|pair| pair[1] - pair[0] < KEYSTROKE_PAUSE_MS) {
        return Err(format!("the timing script typed two keystrokes {:.0} ms apart", pair[1] - pair[0]).into());
    }
    Ok((0..painted.len())
        .map(|k| Keystroke {
            painted: painted[k].as_f64(),
            handler: handlers.get(k).and_then(Value::as_f64).unwrap_or(0.0),
            thread_free: free.get(k).and_then(Value::as_f64),
            frame_work: work.get(k).and_then(Value::as_f64),
            seen: seen.get(k).and_then(Value::as_f64),
        })
        .collect())
}

/// What scrolling costs, frame by frame.
pub struct Frames {
    /// Time between consecutive animation frames (ms): bounded below by the display's pace.
    pub intervals: Vec<f64>,
    /// Main-thread work of each frame (ms): from its animation-frame callback to the first task
    /// after it, i.e. the list's own re-render, style, layout and paint of that frame.
    pub work: Vec<f64>,
}

/// Scrolls `scroller` by `step` px every animation frame for `frames` frames.
pub async fn time_scroll(client: &Client, scroller: &str, step: u32, frames: u32) -> BenchResult<Frames> {
    const SCRIPT: &str = r#"
const [css, step, frames] = arguments;
const done = arguments[arguments.length - 1];
const scroller = document.querySelector(css);
const intervals = [];
const work = [];
const seenAt = [];
const channel = new MessageChannel();
let last = null;
let started = 0;
let n = 0;
channel.port1.onmessage = () => work.push(performance.now() - started);
function frame(ts) {
  started = performance.now();
  if (last !== null) intervals.push(ts - last);
  last = ts;
  if (n++ >= frames) { done([intervals, work]); return; }
  scroller.scrollTop += step;
  channel.port2.postMessage(0);
  requestAnimationFrame(frame);
}
requestAnimationFrame(frame);
"#;
    let result = client.execute_async(SCRIPT, vec![json!(scroller), json!(step), json!(frames)]).await?;
    let numbers = |value: &Value| -> Vec<f64> {
        value.as_array().map(|items| items.iter().filter_map(Value::as_f64).collect()).unwrap_or_default()
    };
    Ok(Frames { intervals: numbers(&result[0]), work: numbers(&result[1]) })
}

/// The page's own steps (User Timing measures `unloc:step:*`, set by ui/js/timeline.js) that began
/// between `from` and `to` on the page clock, in the order they began: (step, its start, its duration), in ms.
pub async fn steps_between(client: &Client, from: f64, to: f64) -> BenchResult<Vec<(String, f64, f64)>> {
    const STEPS: &str = "return performance.getEntriesByType('measure') \
        .filter((m) => m.name.startsWith('unloc:step:') && m.startTime >= arguments[0] && m.startTime <= arguments[1]) \
        .sort((a, b) => a.startTime - b.startTime) \
        .map((m) => [m.name.slice('unloc:step:'.length), m.startTime, m.duration]);";
    let value = client.execute(STEPS, vec![json!(from), json!(to)]).await?;
    Ok(value
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|step| Some((step[0].as_str()?.to_owned(), step[1].as_f64()?, step[2].as_f64()?)))
        .collect())
}

/// A mark's time on the page clock once the page has set it.
pub async fn wait_mark_ms(client: &Client, name: &str) -> BenchResult<f64> {
    const MARK: &str =
        "const m = performance.getEntriesByName(arguments[0], 'mark')[0]; return m ? m.startTime : null;";
    let value = wait_for(client, name, MARK, vec![json!(name)]).await?;
    value.as_f64().ok_or_else(|| format!("mark {name} is not a number").into())
}

/// The page's load as the webview itself recorded it (Navigation, Resource and Paint Timing; no
/// marks of ours), page clock in ms: when the document was parsed, its DOMContentLoaded and load
/// events, how many subresources it fetched and when the last one ended, and the paint entries
/// WebKit reports. Any `unloc:load:*` marks the page set are listed too. One line for the
/// per-run progress: what the first rows' frame may have waited for.
pub async fn page_load(client: &Client) -> BenchResult<String> {
    const LOAD: &str = r#"
const nav = performance.getEntriesByType('navigation')[0];
const parts = [];
const at = (ms) => (ms > 0 ? ms.toFixed(0) : '-');
if (nav) parts.push(`parsed ${at(nav.domInteractive)}, DOMContentLoaded ${at(nav.domContentLoadedEventEnd)}, load ${at(nav.loadEventEnd)}`);
const res = performance.getEntriesByType('resource');
const kinds = {};
for (const r of res) {
  const kind = r.name.startsWith('ipc:') || r.name.includes('ipc.localhost') ? 'ipc' : r.initiatorType;
  const k = (kinds[kind] ??= { n: 0, end: 0, last: '' });
  k.n += 1;
  if (r.responseEnd > k.end) { k.end = r.responseEnd; k.last = r.name.split('/').pop(); }
}
for (const [kind, k] of Object.entries(kinds)) parts.push(`${k.n} ${kind} until ${at(k.end)} (${k.last})`);
for (const p of performance.getEntriesByType('paint')) parts.push(`${p.name} ${at(p.startTime)}`);
for (const m of performance.getEntriesByType('mark')) if (m.name.startsWith('unloc:load:') || m.name.startsWith('unloc:reply:')) parts.push(`${m.name.replace('unloc:load:', '')} ${at(m.startTime)}`);
return parts.join(', ');
"#;
    Ok(client.execute(LOAD, vec![]).await?.as_str().unwrap_or_default().to_owned())
}
