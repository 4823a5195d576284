//! The benchmark: Unloc Desk against a blank Tauri app built the same way, every figure a ratio
//! against that baseline measured in the same run (the machine is shared, absolute times are not
//! comparable between runs). Run it through tests/scripts/benchmark.sh, which builds the binaries
//! and starts the private desktop (Xvfb, D-Bus, keyring) it needs.

mod floor;
mod procs;
mod report;
mod split;
mod web;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use unloc_sim::{fixtures, SimConfig};

use crate::report::{Outcome, Report, Row};

pub type BenchResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// What one run measures, and how much of it.
#[derive(Clone, Debug)]
pub struct Plan {
    pub quick: bool,
    pub app: PathBuf,
    pub blank: PathBuf,
    pub packages: Option<PathBuf>,
    pub out: PathBuf,
    pub runs: usize,
    pub locks: usize,
    pub events: usize,
    pub idle_secs: u64,
    /// The Activity filter's benchmark (`unloc-desk`'s example `activity_bench`), when built.
    pub activity_bench: Option<PathBuf>,
    /// The test binary of `unloc-desk`'s `activity_sync` tests, whose ignored pace test times the
    /// history sync through the governor, when built.
    pub sync_bench: Option<PathBuf>,
    /// Only these phases (start, signin, cached, floor, idle, sync, activity, sizes), to look into one measure; None = all.
    pub only: Option<Vec<String>>,
}

impl Plan {
    fn runs_phase(&self, phase: &str) -> bool {
        self.only.as_ref().is_none_or(|only| only.iter().any(|p| p == phase))
    }
}

impl Plan {
    fn from_args() -> BenchResult<Self> {
        let mut args = std::env::args().skip(1);
        let mut quick = false;
        let (mut app, mut blank, mut packages, mut out, mut runs, mut only) = (None, None, None, None, None, None);
        let (mut activity_bench, mut sync_bench) = (None, None);
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("{arg} needs a value"));
            match arg.as_str() {
                "--quick" => quick = true,
                "--app" => app = Some(PathBuf::from(value()?)),
                "--blank" => blank = Some(PathBuf::from(value()?)),
                "--packages" => packages = Some(PathBuf::from(value()?)),
                "--out" => out = Some(PathBuf::from(value()?)),
                "--runs" => runs = Some(value()?.parse()?),
                "--only" => only = Some(value()?.split(',').map(str::to_owned).collect()),
                "--activity-bench" => activity_bench = Some(PathBuf::from(value()?)),
                "--sync-bench" => sync_bench = Some(PathBuf::from(value()?)),
                other => return Err(format!("unknown argument {other} (see tests/scripts/benchmark.sh)").into()),
            }
        }
        let plan = Plan {
            quick,
            app: app.ok_or("--app BINARY is required")?,
            blank: blank.ok_or("--blank BINARY is required")?,
            packages,
            out: out.ok_or("--out FILE is required")?,
            runs: runs.unwrap_or(if quick { 3 } else { 5 }),
            locks: if quick { 1_000 } else { 10_000 },
            events: if quick { 10_000 } else { 100_000 },
            idle_secs: if quick { 5 } else { 60 },
            activity_bench,
            sync_bench,
            only,
        };
        Ok(plan)
    }
}

/// Progress for the person waiting: the run takes minutes.
#[allow(clippy::print_stderr)]
pub fn say(text: &str) {
    eprintln!("bench: {text}");
}

fn main() -> BenchResult {
    let plan = Plan::from_args()?;
    let config =
        SimConfig { lockout_after: 0, locks: plan.locks, busy_lock_events: plan.events, ..SimConfig::default() };
    // The simulator gets a runtime of its own: the measuring code blocks its thread while it
    // waits on processes, and the simulator must answer the app meanwhile.
    let sim_runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
    let sim = sim_runtime.block_on(unloc_sim::start(config))?;
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let outcome = runtime.block_on(run(&plan, &sim));
    drop(sim);
    sim_runtime.shutdown_background();
    outcome
}

async fn run(plan: &Plan, sim: &unloc_sim::Simulator) -> BenchResult {
    let began = Instant::now();
    let mut report = Report::new(plan);
    let work = std::env::temp_dir().join(format!("unloc-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;
    say(&format!("simulator at {} with {} locks, {} events on the busy lock", sim.api_base(), plan.locks, plan.events));
    let mut blank_idle_mb = None;

    if plan.runs_phase("start") {
        let start = cold_start(plan, &work, sim)?;
        report.rows.push(start.mapped);
        report.rows.push(start.idle_memory);
        blank_idle_mb = Some(start.blank_idle_mb);
    }
    // The cached start and the idle CPU need a home that is signed in: a sign-in run makes one.
    let signed_in_home = work.join("home-signed-in");
    if ["signin", "cached", "idle"].iter().any(|phase| plan.runs_phase(phase)) {
        // Quick mode proves the measures still run: one sign-in (the slowest part) is enough.
        let runs = if plan.runs_phase("signin") && !plan.quick { plan.runs } else { 1 };
        let session = sign_in_runs(plan, runs, &work, &signed_in_home, sim).await?;
        if plan.runs_phase("signin") {
            report.rows.extend(session.rows);
            if let Some(blank) = blank_idle_mb {
                report.rows.push(Row::memory(
                    &format!(
                        "Memory (PSS of the app and its WebKit processes) with {} locks and {} events loaded",
                        n(plan.locks),
                        n(plan.events)
                    ),
                    blank,
                    session.loaded_mb,
                ));
            }
        }
    }
    if plan.runs_phase("cached") {
        report.rows.extend(cached_start(plan, &work, &signed_in_home, sim).await?);
    }
    if plan.runs_phase("floor") {
        report.rows.extend(floor::keystroke_floor(plan, &work, &typing("Storgata 12", plan.quick)).await?);
    }
    if plan.runs_phase("idle") {
        report.rows.push(idle_cpu(plan, &work, &signed_in_home, sim)?);
    }
    if plan.runs_phase("sync") {
        report.rows.push(history_sync(plan)?);
    }
    if plan.runs_phase("activity") {
        report.rows.extend(activity_filter(plan, &work)?);
    }
    if !plan.runs_phase("signin") {
        // The export is timed in the sign-in runs, on the busy lock's history they load.
        report.rows.push(Row::not_measured(
            "An export of 100,000 rows",
            "≤ 3 s",
            Outcome::Pending("not measured: the sign-in phase did not run"),
        ));
    }
    if plan.runs_phase("sizes") {
        report.rows.extend(report::footprint(plan)?);
    }

    report.elapsed = began.elapsed();
    report.write(&plan.out)?;
    say(&format!("wrote {} in {:.0} s", plan.out.display(), began.elapsed().as_secs_f64()));
    let _ = std::fs::remove_dir_all(&work);
    Ok(())
}

/// 10000 → "10,000", as the issue and the docs write numbers.
pub fn n(value: usize) -> String {
    let digits = value.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub fn median(values: &[f64]) -> f64 {
    percentile(values, 50.0)
}

/// Nearest-rank percentile; NaN for no values.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return f64::NAN;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

struct ColdStart {
    mapped: Row,
    idle_memory: Row,
    blank_idle_mb: f64,
}

/// Starts each app directly (a fresh home each time, so the app opens at sign-in), alternating
/// blank and app so a change in machine load hits both: time from exec to the window mapped, then
/// the memory once it has settled.
fn cold_start(plan: &Plan, work: &Path, sim: &unloc_sim::Simulator) -> BenchResult<ColdStart> {
    say("cold start to a mapped window, and idle memory");
    let watcher = procs::MapWatcher::start()?;
    let (mut mapped_blank, mut mapped_app, mut pss_blank, mut pss_app) = (vec![], vec![], vec![], vec![]);
    for run in 0..plan.runs {
        for (name, binary) in [("blank", &plan.blank), ("app", &plan.app)] {
            let home = work.join(format!("home-cold-{name}-{run}"));
            procs::prepare_home(&home)?;
            let env = procs::app_env(&home, &sim.api_base(), sim.partner_id());
            watcher.drain();
            let mut launched = procs::launch(binary, &env, &home.join("app.log"))?;
            let mapped = watcher.next_map(Duration::from_secs(60))?;
            let ms = mapped.duration_since(launched.started).as_secs_f64() * 1000.0;
            let pid = launched.child.id();
            procs::wait_quiet(pid, 0.02, Duration::from_secs(20));
            let pss = procs::tree_pss_mb(pid);
            procs::stop_tree(pid, Some(&mut launched.child))?;
            say(&format!("  {name} run {}: mapped after {ms:.0} ms, {pss:.0} MB", run + 1));
            if name == "blank" {
                mapped_blank.push(ms);
                pss_blank.push(pss);
            } else {
                mapped_app.push(ms);
                pss_app.push(pss);
            }
        }
    }
    let blank_idle_mb = median(&pss_blank);
    Ok(ColdStart {
        mapped: Row::ratio("Cold start to a mapped window", median(&mapped_blank), median(&mapped_app), "ms", 1.3),
        idle_memory: Row::memory(
            "Memory (PSS of the app and its WebKit processes) idle at the sign-in screen",
            blank_idle_mb,
            median(&pss_app),
        ),
        blank_idle_mb,
    })
}

struct SignIn {
    rows: Vec<Row>,
    loaded_mb: f64,
}

/// Each run: a fresh home, sign in over WebDriver, then filter the locks, open the busy lock,
/// filter and scroll its events, and read the memory with all of it loaded. The last run's home
/// stays signed in (locks in the local database, the token in the keychain) for the cached start.
async fn sign_in_runs(
    plan: &Plan,
    runs: usize,
    work: &Path,
    keep: &Path,
    sim: &unloc_sim::Simulator,
) -> BenchResult<SignIn> {
    say("sign-in, filters, scrolling and loaded memory over WebDriver");
    let (curl_ms, bytes) = curl_and_parse(work, sim)?;
    let (mut fetch, mut paint, mut lock_keys, mut event_keys, mut frame_work, mut intervals, mut loaded) =
        (vec![], vec![], vec![], vec![], vec![], vec![], vec![]);
    let mut rows_split = split::RowsSplit::default();
    // Each run's export of the busy lock's saved history, per format ("xlsx", "csv").
    let (mut export_xlsx, mut export_csv) = (vec![], vec![]);
    let busy = sim.locks().into_iter().find(|lock| lock.id == fixtures::BUSY_LOCK_ID).ok_or("no busy lock")?;
    // Someone who used the busy lock: typing their name narrows its events letter by letter.
    let person = sim
        .events(fixtures::BUSY_LOCK_ID)
        .and_then(|events| events.first().map(|e| e.name.clone()))
        .ok_or("no events")?;
    let mut curl_runs = vec![curl_ms];
    let mut sign_in_reply = vec![];
    // From the app's timing lines: the GET and decode, and what the sign-in does after it.
    let (mut app_fetch, mut token_kept, mut command_ready) = (vec![], vec![], vec![]);
    for run in 0..runs {
        if run > 0 {
            curl_runs.push(curl_and_parse(work, sim)?.0);
        }
        let home = if run + 1 == runs { keep.to_path_buf() } else { work.join(format!("home-signin-{run}")) };
        forget_tokens();
        procs::prepare_home(&home)?;
        let env = procs::app_env(&home, &sim.api_base(), sim.partner_id());
        let driver = web::Driver::start(&env, &home.join("driver.log"))?;
        let (launcher, record) = procs::write_launcher_with(&home, "app", &plan.app, &[("RUST_LOG", TIMING_LOG)])?;
        let client = driver.open(&launcher).await?;
        let outcome = async {
            let (pid, _) = procs::read_launch(&record)?;
            let pressed = web::sign_in(&client, sim.partner_id(), &sim.api_base(), sim.token()).await?;
            web::wait_mark_epoch_ms(&client, web::LOCK_ROWS_MARK).await?;
            let rows = web::mark_ms(&client, web::LOCK_ROWS_MARK).await?.ok_or("no rows mark")?;
            // The data reaches the page with a reply that carries locks: sign_in's own (it brings the
            // locks it checked the token with), or the saved copy, or a fresh list.
            // (If the saved copy were empty, the rows would come from list_locks: the latest reply
            // before the rows is the one that brought them.)
            let mut data = None;
            for reply in ["unloc:reply:sign_in", "unloc:reply:cached_locks", "unloc:reply:list_locks"] {
                if let Some(at) = web::mark_ms(&client, reply).await?.filter(|at| *at <= rows) {
                    data = Some(data.map_or(at, |earlier: f64| earlier.max(at)));
                }
            }
            let data = data.ok_or("no locks reply before the rows")?;
            if let Some(signed_in) = web::mark_ms(&client, "unloc:reply:sign_in").await?.filter(|at| *at <= data) {
                sign_in_reply.push(signed_in - pressed);
            }
            fetch.push(data - pressed);
            paint.push(rows - data);
            let log = procs::launcher_log(&home, "app");
            let inside = procs::timing_lines(&log, "sign-in:").pop().ok_or("the app wrote no sign-in timing line")?;
            let command = procs::timing_lines(&log, "sign_in command:").pop().ok_or("no sign_in command timing line")?;
            // "fetched and decoded in A ms (… B ms), handed … C ms, the token kept in D ms, all E ms"
            // and "signed in after F ms, the settings saved in G ms, the reply ready after H ms".
            let (Some(fetched), Some(kept), Some(ready)) = (inside.first(), inside.get(3), command.get(2)) else {
                return Err(format!("timing lines without their figures: {inside:?} {command:?}").into());
            };
            say(&format!(
                "  the app's figures (ms): sign-in {inside:?} (fetch, account, store, token, all); command {command:?} (signed in, settings, reply)"
            ));
            app_fetch.push(*fetched);
            token_kept.push(*kept);
            command_ready.push(*ready);
            let steps = rows_split.add_run(&client, data, rows).await?;
            say(&format!("  run {}: from the data to the rows: {steps}", run + 1));

            // Keystrokes into the locks search: a lock's street typed and erased letter by letter.
            // The view asks Unloc again after showing the saved copy: let that finish first.
            web::wait_for(&client, "the locks refreshed", "return !document.querySelector('#locks-refresh[aria-disabled]') || null", vec![]).await?;
            let typed = typing(&busy.street.clone().unwrap_or_else(|| "Storgata".into()), plan.quick);
            lock_keys.extend(web::time_keystrokes(&client, "#locks-search", &["#locks-view tbody", "#locks-count"], &typed).await?);

            // The busy lock: its reference is nearly unique, so searching for it finds the row at once.
            web::time_keystrokes(&client, "#locks-search", &["#locks-view tbody", "#locks-count"], std::slice::from_ref(&busy.data)).await?;
            let row = format!("tr[data-lock-id=\"{}\"] .lock-name", fixtures::BUSY_LOCK_ID);
            web::wait_visible(&client, &row).await?;
            client.execute("document.querySelector(arguments[0]).click()", vec![serde_json::json!(row)]).await?;
            web::wait_visible(&client, "#lock-view").await?;
            let total = n(plan.events);
            web::wait_for(
                &client,
                "the events loaded",
                "const t = (document.querySelector('#events-count')?.textContent ?? '').replace(/[^0-9]/g, ''); return t.endsWith(arguments[0]) || null",
                vec![serde_json::json!(total.replace(',', ""))],
            )
            .await?;
            let typed = typing(&person, plan.quick);
            event_keys.extend(
                web::time_keystrokes(&client, "#events-search", &["#lock-view .events-table tbody", "#events-count"], &typed).await?,
            );
            // The typing above ended with the search box empty again: all events are listed.
            let scroller = web::wait_for(
                &client,
                "the events scroller",
                "const el = document.querySelector('#lock-view .events-table')?.closest('.table-scroller'); \
                 if (!el || el.scrollHeight <= el.clientHeight) return null; el.dataset.benchScroller = '1'; return true;",
                vec![],
            )
            .await
            .map(|_| "[data-bench-scroller]")?;
            let frames = web::time_scroll(&client, scroller, 120, if plan.quick { 30 } else { 120 }).await?;
            frame_work.extend(frames.work);
            intervals.extend(frames.intervals);
            procs::wait_quiet(pid, 0.05, Duration::from_secs(20));
            loaded.push(procs::tree_pss_mb(pid));
            let by_process: Vec<String> =
                procs::pss_by_process(pid).iter().map(|(name, mb)| format!("{name} {mb:.0} MB")).collect();
            say(&format!("  loaded memory by process: {}", by_process.join(", ")));
            // The busy lock's history is saved now: export it as the UI does after the save dialog.
            export_xlsx.extend(time_export(&client, plan, &home, "xlsx").await?);
            export_csv.extend(time_export(&client, plan, &home, "csv").await?);
            Ok::<(), Box<dyn std::error::Error + Send + Sync>>(())
        }
        .await;
        let _ = client.close().await;
        outcome?;
        say(&format!(
            "  run {}: data after {:.0} ms (in the app: fetched and decoded after {:.0} ms, the token kept in {:.0} ms, the reply ready after {:.0} ms), rows {:.0} ms later",
            run + 1,
            fetch[run],
            app_fetch[run],
            token_kept[run],
            command_ready[run],
            paint[run]
        ));
    }
    let events = n(plan.events);
    let locks = n(plan.locks);
    let mut signed_in = SignIn {
        rows: vec![
            Row::ratio(
                &format!(
                    "Sign-in: the app's fetch + decode of {locks} locks ({} KiB), vs `curl` + JSON parse",
                    bytes / 1024
                ),
                median(&curl_runs),
                median(&app_fetch),
                "ms",
                1.2,
            )
            .with_note("the app's own timing line: the governed GET and the decode into locks"),
            {
                let mut whole = Row::ratio(
                    &format!("Sign-in: the button to the data of {locks} locks in the page, vs `curl` + JSON parse"),
                    median(&curl_runs),
                    median(&fetch),
                    "ms",
                    1.2,
                )
                .with_note(&format!(
                    "after the fetch: the token kept in {:.0} ms; the command's reply ready after {:.0} ms, in the page after {:.0} ms",
                    median(&token_kept),
                    median(&command_ready),
                    median(&sign_in_reply)
                ));
                whole.info();
                whole
            },
            Row::limit(
                &format!("Sign-in: first rows painted after the data arrives ({locks} locks)"),
                median(&paint),
                "ms",
                100.0,
                "≤ 100 ms",
            )
            .with_note(&rows_split.note()),
            keystroke_row(&format!("Filter keystroke to painted rows, {locks} locks (p95)"), &lock_keys),
            keystroke_row(&format!("Filter keystroke to painted rows, {events} events (p95)"), &event_keys),
            Row::limit(
                &format!("Scrolling {events} events: main-thread work per frame (p95)"),
                percentile(&frame_work, 95.0),
                "ms",
                16.0,
                "p95 ≤ 16 ms",
            )
            .with_note(&format!(
                "median {:.1} ms over {} frames; time between frames p95 {:.1} ms, median {:.1} ms",
                median(&frame_work),
                frame_work.len(),
                percentile(&intervals, 95.0),
                median(&intervals)
            )),
        ],
        loaded_mb: median(&loaded),
    };
    for (format, times) in [("Excel .xlsx", &export_xlsx), ("CSV", &export_csv)] {
        if times.is_empty() {
            signed_in.rows.push(Row::not_measured(
                &format!("An export of {events} rows ({format}: a lock's saved history, through the command)"),
                "≤ 3 s",
                Outcome::Pending("a release build writes only a file chosen in the save dialog: see the optimised example's export rows"),
            ));
            continue;
        }
        signed_in.rows.push(
            Row::limit(
                &format!("An export of {events} rows ({format}: a lock's saved history, through the command)"),
                median(times),
                "ms",
                3000.0,
                "≤ 3 s",
            )
            .with_note(
                "from the command's call to its answer: reading the saved history, writing and renaming the file",
            ),
        );
    }
    Ok(signed_in)
}

/// Exports the busy lock's saved history to `home` in `format` through `export_lock_history`, as the
/// UI does with the save dialog's path; returns the time from the call to the answer, in ms.
/// `None` when the app refused the path: a release build writes only a file chosen in the save dialog.
async fn time_export(client: &fantoccini::Client, plan: &Plan, home: &Path, format: &str) -> BenchResult<Option<f64>> {
    let path = home.join(format!("export.{format}"));
    let args =
        serde_json::json!({ "lockId": fixtures::BUSY_LOCK_ID, "path": path, "format": format, "language": "nb" });
    let reply = client
        .execute_async(
            "const [args, done] = [arguments[0], arguments[arguments.length - 1]]; const started = performance.now(); \
             window.__TAURI__.core.invoke('export_lock_history', args) \
               .then((done_) => done({ ms: performance.now() - started, rows: done_.rows }), (error) => done({ error }));",
            vec![args],
        )
        .await?;
    if reply["error"]["field"] == "path" {
        say(&format!("  the {format} export was refused its path (a release build): not timed through the command"));
        return Ok(None);
    }
    if reply["rows"].as_u64() != Some(plan.events as u64) {
        return Err(format!("the {format} export answered {reply}, not {} rows", plan.events).into());
    }
    let _ = std::fs::remove_file(&path);
    reply["ms"].as_f64().map(Some).ok_or_else(|| format!("no time in {reply}").into())
}

/// A keystroke figure, with the page's own share of it (its input handler) beside it.
fn keystroke_row(measure: &str, keys: &[web::Keystroke]) -> Row {
    let painted: Vec<f64> = keys.iter().filter_map(|key| key.painted).collect();
    let handlers: Vec<f64> = keys.iter().map(|key| key.handler).collect();
    let free: Vec<f64> = keys.iter().filter_map(|key| key.thread_free).collect();
    let work: Vec<f64> = keys.iter().filter_map(|key| key.frame_work).collect();
    let seen: Vec<f64> = keys.iter().filter_map(|key| key.seen).collect();
    Row::limit(measure, percentile(&painted, 95.0), "ms", 16.0, "p95 ≤ 16 ms").with_note(&format!(
        "median {:.0} ms; the rows changed after p95 {:.1} ms; the input handler p95 {:.1} ms, median {:.1} ms; \
         the page's thread free again p95 {}, the frame's own work p95 {:.1} ms; {} keystrokes, {} with no change seen",
        median(&painted),
        percentile(&seen, 95.0),
        percentile(&handlers, 95.0),
        median(&handlers),
        if free.is_empty() {
            "— (each frame came before any task)".to_owned()
        } else {
            format!("{:.1} ms", percentile(&free, 95.0))
        },
        percentile(&work, 95.0),
        keys.len(),
        keys.len() - painted.len()
    ))
}

/// The keystrokes of typing `text` and erasing it again: "S", "St", ... "Storgata", ... "S", "".
/// Quick mode types the first three letters only.
fn typing(text: &str, quick: bool) -> Vec<String> {
    let mut chars: Vec<char> = text.chars().collect();
    if quick {
        chars.truncate(3);
    }
    let mut values: Vec<String> = (1..=chars.len()).map(|i| chars[..i].iter().collect()).collect();
    values.extend((0..chars.len()).rev().map(|i| chars[..i].iter().collect()));
    values
}

/// The app's log filter for a timed sign-in: warnings, and the timing lines (src-tauri/src/timing.rs).
const TIMING_LOG: &str = "warn,unloc_desk::timing=debug";

/// The yardstick for sign-in: `curl` fetching the same locks from the simulator, plus a JSON
/// parse of the bytes. Returns its time in ms and the size of the answer.
fn curl_and_parse(work: &Path, sim: &unloc_sim::Simulator) -> BenchResult<(f64, usize)> {
    let body = work.join("locks.json");
    let config = work.join("curl.conf");
    // The simulator's token goes through a config file, not the command line.
    std::fs::write(&config, format!("header = \"Authorization: Bearer {}\"\n", sim.token()))?;
    let url = format!("{}/locks", sim.partner_base());
    let started = Instant::now();
    let status = std::process::Command::new("curl")
        .args(["-sS", "--fail", "-K", &config.display().to_string(), "-o", &body.display().to_string(), &url])
        .status()?;
    if !status.success() {
        return Err("curl could not fetch the locks".into());
    }
    let bytes = std::fs::read(&body)?;
    let _: serde_json::Value = serde_json::from_slice(&bytes)?;
    Ok((started.elapsed().as_secs_f64() * 1000.0, bytes.len()))
}

/// Removes every token the app keeps (service no.unlocdesk.desktop), whatever account name it was
/// filed under (the app files tokens per partner and API address), so the next start is signed out.
/// The keyring is this run's own (tests/scripts/with-desktop.sh).
fn forget_tokens() {
    let _ = std::process::Command::new("secret-tool").args(["clear", "service", "no.unlocdesk.desktop"]).status();
}

/// The blank app started as the app starts on a machine without a GPU: compositing off.
const BLANK_AS_APP: &str = "blank-compositing-off";

/// Starts each app over WebDriver from the same launcher: the blank page's first frame vs the
/// app's first frame of locks from its local database (signed in, so it starts on the locks view).
async fn cached_start(plan: &Plan, work: &Path, home: &Path, sim: &unloc_sim::Simulator) -> BenchResult<Vec<Row>> {
    say("cold start to cached locks painted");
    let env = procs::app_env(home, &sim.api_base(), sim.partner_id());
    let driver = web::Driver::start(&env, &work.join("driver-cached.log"))?;
    let (mut blank, mut blank_as_app, mut app, mut frames) = (vec![], vec![], vec![], vec![]);
    let mut steps: [Vec<f64>; 3] = Default::default();
    let mut rows_split = split::RowsSplit::default();
    let mut after_data = vec![];
    for run in 0..plan.runs {
        for (name, binary, mark) in [
            ("blank", &plan.blank, "unloc:blank-painted"),
            (BLANK_AS_APP, &plan.blank, "unloc:blank-painted"),
            ("app", &plan.app, web::LOCK_ROWS_MARK),
        ] {
            // The app says when each step before its page began (timing lines since its launch).
            let env: &[(&str, &str)] = match name {
                "app" => &[("RUST_LOG", TIMING_LOG)],
                BLANK_AS_APP => &[("WEBKIT_DISABLE_COMPOSITING_MODE", "1")],
                _ => &[],
            };
            let (launcher, record) = procs::write_launcher_with(work, name, binary, env)?;
            let _ = std::fs::remove_file(&record);
            let _ = std::fs::remove_file(procs::launcher_log(work, name));
            let client = driver.open(&launcher).await?;
            let outcome = async {
                let (pid, started_ms) = procs::read_launch(&record)?;
                let painted = web::wait_mark_epoch_ms(&client, mark).await?;
                // The same moments on the wall clock (ms since the epoch) and the processes they
                // belong to, for a profile taken alongside (tests/scripts/profile-cached-start.sh).
                let mut clock = format!("launched {started_ms:.1}, painted {painted:.1}");
                if name == "app" {
                    let origin =
                        client.execute("return performance.timeOrigin", vec![]).await?.as_f64().unwrap_or(f64::NAN);
                    let done = web::wait_mark_ms(&client, &web::LOCK_ROWS_MARK.replace("unloc:rows:", "unloc:frame-done:"))
                        .await?;
                    let data = web::mark_ms(&client, "unloc:reply:get_startup").await?.unwrap_or(f64::NAN);
                    clock.push_str(&format!(", the saved locks {:.1}, the rows drawn {:.1}", origin + data, origin + done));
                }
                let pids: Vec<String> = procs::descendants(pid).iter().map(u32::to_string).collect();
                say(&format!("  {name} run {}: wall clock: {clock}; pids {}", run + 1, pids.join(" ")));
                if name == "blank" {
                    // The pace of animation frames on a page doing nothing: the floor under the
                    // app's keystroke and scrolling figures on this machine.
                    frames.extend(web::time_scroll(&client, "html", 0, 60).await?.intervals);
                } else if name == "app" {
                    // Where the time goes: the page loaded, the start-up reply, the saved locks' reply.
                    let origin =
                        client.execute("return performance.timeOrigin", vec![]).await?.as_f64().unwrap_or(f64::NAN);
                    for (step, reply) in ["unloc:reply:get_startup", "unloc:reply:cached_locks"].into_iter().enumerate()
                    {
                        if let Some(at) = web::mark_ms(&client, reply).await? {
                            steps[step].push(origin + at - started_ms);
                        }
                    }
                    steps[2].push(origin - started_ms);
                    let rows = web::wait_mark_ms(&client, mark).await?;
                    // The saved locks come with the start-up reply (cached_locks, were it to carry none):
                    // the latest of the two replies before the rows brought them.
                    let mut data = None;
                    for reply in ["unloc:reply:get_startup", "unloc:reply:cached_locks"] {
                        if let Some(at) = web::mark_ms(&client, reply).await?.filter(|at| *at <= rows) {
                            data = Some(data.map_or(at, |earlier: f64| earlier.max(at)));
                        }
                    }
                    let launch: Vec<String> = procs::timing_messages(&procs::launcher_log(work, "app"), "launch: ")
                        .iter()
                        .map(|message| message.trim_start_matches("launch: ").trim_end_matches(" ms").to_owned())
                        .collect();
                    say(&format!("  app run {}: since its launch (ms): {}", run + 1, launch.join("; ")));
                    if let Some(data) = data {
                        after_data.push(rows - data);
                        let split = rows_split.add_run(&client, data, rows).await?;
                        say(&format!(
                            "  app run {}: the saved locks to the rows {:.0} ms: {split}",
                            run + 1,
                            rows - data
                        ));
                        say(&format!(
                            "  app run {}: the page's load: {}; the saved locks at {data:.0}, the rows' frame at {rows:.0}",
                            run + 1,
                            web::page_load(&client).await?
                        ));
                    }
                }
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>((pid, painted - started_ms))
            }
            .await;
            let _ = client.close().await;
            let (pid, ms) = outcome?;
            procs::stop_tree(pid, None)?;
            say(&format!("  {name} run {}: painted after {ms:.0} ms", run + 1));
            match name {
                "blank" => blank.push(ms),
                BLANK_AS_APP => blank_as_app.push(ms),
                _ => app.push(ms),
            }
        }
    }
    let mut pace = Row::limit(
        "The blank page: time between animation frames while idle (p95; the floor under the figures above)",
        percentile(&frames, 95.0),
        "ms",
        f64::INFINITY,
        "—",
    )
    .with_note(&format!("median {:.1} ms", median(&frames)));
    pace.info();
    let each_run = |times: &[f64]| times.iter().map(|ms| format!("{ms:.0}")).collect::<Vec<_>>().join(", ");
    // WebKit sometimes begins a page ~500 ms late when it draws without compositing, in the blank
    // app too (docs/benchmarks.md, session 11): the same start against a blank drawing that way.
    let same_drawing = Row::ratio(
        &format!(
            "Cold start to cached locks painted ({} locks) vs the blank page painted, the blank drawing as the app \
             does here (compositing off)",
            n(plan.locks)
        ),
        median(&blank_as_app),
        median(&app),
        "ms",
        f64::INFINITY,
    )
    .with_note(&format!(
        "each run, painted after (ms): the blank {}; the app {}",
        each_run(&blank_as_app),
        each_run(&app)
    ))
    .without_goal();
    Ok(vec![
        Row::ratio(
            &format!(
                "Cold start to cached locks painted ({} locks in the local database) vs the blank page painted",
                n(plan.locks)
            ),
            median(&blank),
            median(&app),
            "ms",
            1.5,
        )
        .with_note(&format!(
            "page created after {:.0} ms, get_startup reply {:.0} ms{}, the rows {:.0} ms after the saved locks; {}",
            median(&steps[2]),
            median(&steps[0]),
            // Since the start-up reply carries the saved locks, the page asks no cached_locks.
            if steps[1].is_empty() {
                " with the saved locks".to_owned()
            } else {
                format!(", cached_locks reply {:.0} ms", median(&steps[1]))
            },
            median(&after_data),
            rows_split.note()
        ))
        .with_note_after(&format!(
            "; each run, painted after (ms): the blank {}; the app {}",
            each_run(&blank),
            each_run(&app)
        )),
        same_drawing,
        pace,
    ])
}

/// CPU of each app left alone for `idle_secs` after it settled: the app signed in, at the locks
/// view; the blank app at its page. The text cursor's blink is off (see procs::prepare_home).
fn idle_cpu(plan: &Plan, work: &Path, home: &Path, sim: &unloc_sim::Simulator) -> BenchResult<Row> {
    say(&format!("CPU while idle for {} s", plan.idle_secs));
    let watcher = procs::MapWatcher::start()?;
    let mut percent = vec![];
    for (name, binary) in [("blank", &plan.blank), ("app", &plan.app)] {
        let own_home = work.join("home-idle-blank");
        let home = if name == "app" { home.to_path_buf() } else { own_home };
        procs::prepare_home(&home)?;
        let env = procs::app_env(&home, &sim.api_base(), sim.partner_id());
        watcher.drain();
        let mut launched = procs::launch(binary, &env, &home.join("idle.log"))?;
        watcher.next_map(Duration::from_secs(60))?;
        let pid = launched.child.id();
        if !procs::wait_quiet(pid, 0.02, Duration::from_secs(if plan.quick { 10 } else { 30 })) {
            say(&format!("  {name} did not settle below 2% of a core"));
        }
        let before = procs::tree_cpu_seconds(pid);
        let threads_before = procs::thread_ticks(pid);
        std::thread::sleep(Duration::from_secs(plan.idle_secs));
        let used = procs::tree_cpu_seconds(pid) - before;
        let busiest = procs::busiest_threads(&threads_before, &procs::thread_ticks(pid), plan.idle_secs as f64);
        say(&format!("  {name} busiest threads: {}", busiest.join(", ")));
        procs::stop_tree(pid, Some(&mut launched.child))?;
        let share = used / plan.idle_secs as f64 * 100.0;
        say(&format!("  {name}: {share:.2}% of a core"));
        percent.push(share);
    }
    Ok(Row::limit(
        &format!("CPU while idle for {} s at the locks view (text cursor blink off)", plan.idle_secs),
        percent[1],
        "% of a core",
        1.0,
        "≤ 1% of one core",
    )
    .with_baseline(percent[0]))
}

/// The Activity filter over an archive of 1,000,000 events (20,000 in quick mode): the slowest
/// filter change of the benchmark's kinds (the count and the first window of rows, median of 7 runs),
/// measured by `unloc-desk`'s example `activity_bench` in a build like the release one; and, from the
/// same run, the Activity export of a tenth of that archive (100,000 rows; 2,000 in quick mode).
fn activity_filter(plan: &Plan, work: &std::path::Path) -> BenchResult<Vec<Row>> {
    let events: usize = if plan.quick { 20_000 } else { 1_000_000 };
    let measure = format!("An Activity filter over {} archived events", n(events));
    let Some(bench) = &plan.activity_bench else {
        return Ok(vec![Row::not_measured(
            &measure,
            "≤ 100 ms",
            Outcome::Pending("the activity benchmark was not built"),
        )]);
    };
    say(&format!("activity filter over {} archived events (filling the archive takes a while)", n(events)));
    let output = std::process::Command::new(bench)
        .args(["--events", &events.to_string(), "--dir"])
        .arg(work.join("activity"))
        .output()?;
    if !output.status.success() {
        return Err(format!("{} failed: {}", bench.display(), String::from_utf8_lossy(&output.stderr)).into());
    }
    let stdout = String::from_utf8_lossy(&output.stdout);
    let last = stdout.lines().last().ok_or("the activity benchmark printed nothing")?;
    let figures: serde_json::Value = serde_json::from_str(last)?;
    let worst = figures["worstFilterMs"].as_f64().ok_or("no worstFilterMs")?;
    let scroll = figures["scrollWindowMs"].as_f64().unwrap_or_default();
    let filters: Vec<&str> = figures["filters"].as_array().into_iter().flatten().filter_map(|f| f.as_str()).collect();
    let note = format!("the slowest of: {}; a window halfway down {scroll:.0} ms", filters.join(", "));
    let mut rows = vec![Row::limit(&measure, worst, "ms", 100.0, "≤ 100 ms").with_note(&note)];
    let export_rows = figures["exportRows"].as_u64().ok_or("no exportRows")? as usize;
    for (format, key) in [("Excel .xlsx", "exportXlsxMs"), ("CSV", "exportCsvMs")] {
        let time = figures[key].as_f64().ok_or(format!("no {key}"))?;
        rows.push(
            Row::limit(
                &format!("An export of {} rows ({format}: Activity filtered to a tenth of the archive, optimised build)", n(export_rows)),
                time,
                "ms",
                3000.0,
                "≤ 3 s",
            )
            .with_note("export_activity's work without the IPC: the archive read, the table built, the file written, synced and renamed in"),
        );
    }
    Ok(rows)
}

/// The history sync's pace through the governor: `activity_sync`'s ignored pace test, run as a
/// process of its own (it brings its own simulator), timed against the ideal for its concurrency
/// and budget. The full run: 1,000 locks × 100 events at the app's own budget (about 8 minutes).
/// Quick mode: 40 locks at a budget ten times tighter, a few seconds.
fn history_sync(plan: &Plan) -> BenchResult<Row> {
    const TEST: &str = "history_sync_of_a_thousand_locks_keeps_the_governors_pace";
    let locks = if plan.quick { 40 } else { 1_000 };
    let measure = format!("History sync of {} locks × 100 events through the request governor", n(locks));
    let goal = "≤ 1.3x the ideal time for its concurrency and budget";
    let Some(bench) = &plan.sync_bench else {
        return Ok(Row::not_measured(&measure, goal, Outcome::Pending("not run: no --sync-bench test binary given")));
    };
    say(&format!(
        "history sync of {} locks through the governor ({})",
        n(locks),
        if plan.quick { "seconds" } else { "about 8 minutes" }
    ));
    let mut command = std::process::Command::new(bench);
    command.args([TEST, "--exact", "--ignored", "--nocapture", "--test-threads=1"]);
    command.env("UNLOC_SYNC_BENCH_LOCKS", locks.to_string()).env("RUST_LOG", "warn");
    if plan.quick {
        command.env("UNLOC_SYNC_BENCH_INTERVAL_MS", "50");
    }
    let output = command.output()?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    // With one test thread libtest writes "test NAME ... " first, on the same line. A pace over the
    // goal fails the test after its line: the row says FAIL; a test that failed before it is an error.
    let Some(line) = stdout.lines().find_map(|line| line.find("history sync:").map(|at| &line[at..])) else {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(format!("{} printed no figure ({}):\n{stdout}\n{stderr}", bench.display(), output.status).into());
    };
    let pace = SyncPace::parse(line).ok_or_else(|| format!("the pace test's line was not understood: {line}"))?;
    Ok(Row::ratio(&measure, pace.ideal_s, pace.took_s, "s", 1.3).with_note(&format!(
        "{} requests at one per {} ms; {} events archived",
        pace.requests, pace.interval_ms, pace.events
    )))
}

/// The pace test's figures, from its line "history sync: R requests, E events archived in T s;
/// ideal I s at one request per M ms; X.XXx".
#[derive(Debug, PartialEq)]
struct SyncPace {
    requests: u64,
    events: u64,
    took_s: f64,
    ideal_s: f64,
    interval_ms: u64,
}

impl SyncPace {
    fn parse(line: &str) -> Option<Self> {
        let words: Vec<&str> = line.split_whitespace().collect();
        let before = |word: &str| {
            words
                .iter()
                .position(|w| w.trim_end_matches([',', ';']) == word)
                .and_then(|i| i.checked_sub(1))
                .map(|i| words[i])
        };
        let after = |word: &str| words.iter().position(|w| *w == word).and_then(|i| words.get(i + 1)).copied();
        Some(SyncPace {
            requests: before("requests")?.parse().ok()?,
            events: before("events")?.parse().ok()?,
            took_s: after("in")?.parse().ok()?,
            ideal_s: after("ideal")?.parse().ok()?,
            interval_ms: after("per")?.parse().ok()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_are_nearest_rank() {
        let values = [5.0, 1.0, 4.0, 2.0, 3.0];
        assert_eq!(median(&values), 3.0);
        assert_eq!(percentile(&values, 95.0), 5.0);
        assert_eq!(percentile(&values, 20.0), 1.0);
        assert!(percentile(&[], 50.0).is_nan());
    }

    #[test]
    fn typing_types_then_erases_letter_by_letter() {
        assert_eq!(typing("Ola", false), ["O", "Ol", "Ola", "Ol", "O", ""]);
        assert_eq!(typing("Olav", true), ["O", "Ol", "Ola", "Ol", "O", ""]);
    }

    #[test]
    fn timing_lines_give_their_figures_in_order() {
        let log = std::env::temp_dir().join(format!("unloc-bench-timing-{}.log", std::process::id()));
        std::fs::write(
            &log,
            "[2026-12-02T07:00:00Z WARN  unloc_desk::secrets] sign-in: 3 ms not a timing line\n\
             [2026-12-02T07:00:01Z DEBUG unloc_desk::timing] sign-in: 10 locks fetched and decoded in 52.5 ms \
             (the account opened alongside: 12.0 ms), handed to the store in 1.5 ms, the token kept in 20.25 ms, all 80.0 ms\n\
             [2026-12-02T07:00:01Z DEBUG unloc_desk::timing] sign_in command: signed in after 81.0 ms, the settings saved in 2.0 ms, the reply ready after 90.0 ms\n",
        )
        .unwrap();
        assert_eq!(procs::timing_lines(&log, "sign-in:"), vec![vec![52.5, 12.0, 1.5, 20.25, 80.0]]);
        assert_eq!(procs::timing_lines(&log, "sign_in command:"), vec![vec![81.0, 2.0, 90.0]]);
        assert!(procs::timing_lines(&log, "start-up:").is_empty());
        std::fs::remove_file(&log).unwrap();
    }

    #[test]
    fn the_pace_tests_line_gives_its_figures() {
        let line = "history sync: 1000 requests, 99900 events archived in 502.4 s; ideal 498.5 s at one request per 500 ms; 1.01x";
        assert_eq!(
            SyncPace::parse(line),
            Some(SyncPace { requests: 1000, events: 99_900, took_s: 502.4, ideal_s: 498.5, interval_ms: 500 })
        );
        assert_eq!(SyncPace::parse("history sync: the round did not finish"), None);
    }

    #[test]
    fn counts_are_written_with_thousands_separators() {
        assert_eq!(n(100_000), "100,000");
        assert_eq!(n(1_000_000), "1,000,000");
        assert_eq!(n(999), "999");
    }
}
