//! Processes as the operating system sees them: launching an app, its process tree, its memory
//! (PSS) and CPU time from /proc, and the moment X maps its window.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crate::BenchResult;

/// Clock ticks per second of /proc/PID/stat times (USER_HZ; 100 on every Linux this runs on).
const TICKS_PER_SECOND: f64 = 100.0;

/// A folder of its own for one launch: XDG data, config and cache, so runs share no state.
/// Its GTK settings turn the text cursor's blink off: under Xvfb WebKit draws in software and a
/// blinking caret alone costs a few percent of a core, which would drown the idle measure.
pub fn prepare_home(home: &Path) -> BenchResult {
    for sub in ["data", "config/gtk-3.0", "cache"] {
        std::fs::create_dir_all(home.join(sub))?;
    }
    std::fs::write(home.join("config/gtk-3.0/settings.ini"), "[Settings]\ngtk-cursor-blink = false\n")?;
    Ok(())
}

/// The environment every launched app gets: its home's XDG folders, a fixed zone and language,
/// and the simulator as the API.
pub fn app_env(home: &Path, api_base: &str, partner_id: &str) -> Vec<(String, String)> {
    vec![
        ("XDG_DATA_HOME".into(), home.join("data").display().to_string()),
        ("XDG_CONFIG_HOME".into(), home.join("config").display().to_string()),
        ("XDG_CACHE_HOME".into(), home.join("cache").display().to_string()),
        ("UNLOC_API_BASE".into(), api_base.to_owned()),
        ("UNLOC_PARTNER_ID".into(), partner_id.to_owned()),
        // The export is timed with a path of the driver's own (no save dialog): a debug build takes
        // it with this switch; a release build writes only a file chosen in the dialog (chosen_files.rs).
        ("UNLOC_TEST_ANY_FILE".into(), "1".into()),
        ("TZ".into(), "UTC".into()),
        ("LANG".into(), "en_US.UTF-8".into()),
        ("LANGUAGE".into(), "en".into()),
        ("RUST_LOG".into(), "warn".into()),
    ]
}

/// Announces every top-level window X maps, as it happens (`xev` on the root window's
/// substructure; Xvfb runs no window manager, so top-level windows are the root's children).
pub struct MapWatcher {
    child: Child,
    maps: Receiver<Instant>,
}

impl MapWatcher {
    pub fn start() -> BenchResult<Self> {
        let mut child = Command::new("stdbuf")
            .args(["-oL", "xev", "-root", "-event", "substructure"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|error| format!("could not start xev (apt-get install x11-utils): {error}"))?;
        let stdout = child.stdout.take().ok_or("xev has no output")?;
        let (sender, maps) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if line.starts_with("MapNotify event") && sender.send(Instant::now()).is_err() {
                    break;
                }
            }
        });
        let watcher = MapWatcher { child, maps };
        // xev selects its events only once it runs: map a throwaway window until one is seen.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let mut probe = Command::new("xmessage")
                .args(["-name", "unloc-bench-probe", "-timeout", "1", "probe"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|error| format!("could not start xmessage (apt-get install x11-utils): {error}"))?;
            let seen = watcher.maps.recv_timeout(Duration::from_secs(2)).is_ok();
            let _ = probe.kill();
            let _ = probe.wait();
            if seen {
                break;
            }
            if Instant::now() > deadline {
                return Err("xev never reported a mapped window".into());
            }
        }
        watcher.drain();
        Ok(watcher)
    }

    /// Forgets windows mapped so far (say, by the previous run).
    pub fn drain(&self) {
        std::thread::sleep(Duration::from_millis(50));
        while self.maps.try_recv().is_ok() {}
    }

    /// When the next top-level window is mapped.
    pub fn next_map(&self, timeout: Duration) -> BenchResult<Instant> {
        Ok(self.maps.recv_timeout(timeout).map_err(|_| "no window was mapped in time")?)
    }
}

impl Drop for MapWatcher {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One app started directly, as a user starts it.
pub struct Launched {
    pub child: Child,
    pub started: Instant,
}

pub fn launch(binary: &Path, env: &[(String, String)], log: &Path) -> BenchResult<Launched> {
    let log = std::fs::File::create(log)?;
    let mut command = Command::new(binary);
    command.stdin(Stdio::null()).stdout(Stdio::from(log.try_clone()?)).stderr(Stdio::from(log));
    for (name, value) in env {
        command.env(name, value);
    }
    let started = Instant::now();
    let child = command.spawn().map_err(|error| format!("could not start {}: {error}", binary.display()))?;
    Ok(Launched { child, started })
}

/// Ends a process tree: SIGTERM to the app, then waits until it and every process it started
/// (WebKit's web and network processes) are gone, so the next run starts on a quiet machine.
pub fn stop_tree(pid: u32, child: Option<&mut Child>) -> BenchResult {
    let tree = descendants(pid);
    let _ = Command::new("kill").args(["-TERM", &pid.to_string()]).status();
    let deadline = Instant::now() + Duration::from_secs(15);
    if let Some(child) = child {
        loop {
            if child.try_wait()?.is_some() {
                break;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    while tree.iter().any(|pid| Path::new(&format!("/proc/{pid}")).exists()) {
        if Instant::now() > deadline {
            for pid in &tree {
                let _ = Command::new("kill").args(["-KILL", &pid.to_string()]).status();
            }
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    Ok(())
}

/// The process and all its descendants (WebKitWebProcess, WebKitNetworkProcess, a sandbox helper).
pub fn descendants(root: u32) -> Vec<u32> {
    let mut children: HashMap<u32, Vec<u32>> = HashMap::new();
    if let Ok(entries) = std::fs::read_dir("/proc") {
        for entry in entries.flatten() {
            let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
            if let Some(stat) = read_stat(pid) {
                children.entry(stat.ppid).or_default().push(pid);
            }
        }
    }
    let mut seen = HashSet::new();
    let mut stack = vec![root];
    let mut tree = Vec::new();
    while let Some(pid) = stack.pop() {
        if seen.insert(pid) {
            tree.push(pid);
            stack.extend(children.get(&pid).into_iter().flatten().copied());
        }
    }
    tree
}

struct Stat {
    ppid: u32,
    cpu_ticks: u64,
}

fn read_stat(pid: u32) -> Option<Stat> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may hold spaces: fields are counted after its ')'.
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After the name: state(3) ppid(4) ... utime(14) stime(15), numbered as in proc(5).
    let ppid = fields.get(1)?.parse().ok()?;
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Stat { ppid, cpu_ticks: utime + stime })
}

/// Proportional set size of the whole tree, in MiB: shared pages are split among their users,
/// so the sum is what the app costs the machine. In MB (10^6 bytes), the unit of the goals.
pub fn tree_pss_mb(root: u32) -> f64 {
    let kib: u64 = descendants(root).into_iter().filter_map(pss_kib).sum();
    kib as f64 * 1024.0 / 1e6
}

/// Where the tree's memory is: each process's name and PSS in MB, largest first (a first profile
/// of a memory figure, printed with it).
pub fn pss_by_process(root: u32) -> Vec<(String, f64)> {
    let mut list: Vec<(String, f64)> = descendants(root)
        .into_iter()
        .filter_map(|pid| {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).ok()?.trim().to_owned();
            Some((name, pss_kib(pid)? as f64 * 1024.0 / 1e6))
        })
        .collect();
    list.sort_by(|a, b| b.1.total_cmp(&a.1));
    list
}

fn pss_kib(pid: u32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    text.lines()
        .find_map(|line| line.strip_prefix("Pss:"))
        .and_then(|value| value.split_whitespace().next()?.parse().ok())
}

/// CPU seconds the tree has used so far (user + system).
pub fn tree_cpu_seconds(root: u32) -> f64 {
    descendants(root).into_iter().filter_map(read_stat).map(|stat| stat.cpu_ticks as f64 / TICKS_PER_SECOND).sum()
}

/// Waits until the tree has used less than `fraction` of a core for two seconds in a row (it has
/// finished starting and loading), at most `limit`. Returns whether it became quiet.
pub fn wait_quiet(root: u32, fraction: f64, limit: Duration) -> bool {
    let deadline = Instant::now() + limit;
    let window = Duration::from_millis(500);
    let mut quiet_windows = 0;
    while Instant::now() < deadline {
        let before = tree_cpu_seconds(root);
        std::thread::sleep(window);
        if tree_cpu_seconds(root) - before <= fraction * window.as_secs_f64() {
            quiet_windows += 1;
            if quiet_windows == 4 {
                return true;
            }
        } else {
            quiet_windows = 0;
        }
    }
    false
}

/// A tiny launcher for WebDriver sessions: records the app's pid and the wall-clock time it was
/// started (nanoseconds since the epoch), then becomes the app. Page timestamps
/// (`performance.timeOrigin + mark`) are wall-clock milliseconds too, so the two compare.
/// `env`: variables set for this start only (one of WebKit's drawing switches, the app's timing lines).
pub fn write_launcher_with(
    dir: &Path,
    name: &str,
    binary: &Path,
    env: &[(&str, &str)],
) -> BenchResult<(PathBuf, PathBuf)> {
    let script = dir.join(format!("launch-{name}.sh"));
    let record = dir.join(format!("launch-{name}.txt"));
    let exports: String = env.iter().map(|(key, value)| format!("export {key}='{value}'\n")).collect();
    let text = format!(
        "#!/bin/sh\n{exports}echo \"$$ $(date +%s%N)\" > '{}'\nexec '{}' \"$@\" 2>>'{}'\n",
        record.display(),
        binary.display(),
        launcher_log(dir, name).display()
    );
    std::fs::write(&script, text)?;
    let _ = Command::new("chmod").args(["+x", &script.display().to_string()]).status();
    Ok((script, record))
}

/// Where a launcher's app writes its log (its standard error), appended start after start.
pub fn launcher_log(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("launch-{name}.log"))
}

/// The figures of the app's timing lines (`unloc_desk::timing`, debug) that start with `step`,
/// in the order they were written: for each line, every number followed by " ms".
pub fn timing_lines(log: &Path, step: &str) -> Vec<Vec<f64>> {
    timing_messages(log, step)
        .iter()
        .map(|message| {
            let words: Vec<&str> = message.split_whitespace().collect();
            words
                .windows(2)
                .filter(|pair| pair[1].trim_end_matches([',', ')', ';']) == "ms")
                .filter_map(|pair| pair[0].parse().ok())
                .collect()
        })
        .collect()
}

/// The messages of the app's timing lines that start with `step`, in the order they were written.
pub fn timing_messages(log: &Path, step: &str) -> Vec<String> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|line| line.split_once(" unloc_desk::timing] ").map(|(_, message)| message))
        .filter(|message| message.starts_with(step))
        .map(str::to_owned)
        .collect()
}

/// The pid and start time the launcher recorded, if it has (no waiting).
pub fn read_launch_now(record: &Path) -> BenchResult<(u32, f64)> {
    let text = std::fs::read_to_string(record)?;
    let mut parts = text.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(pid), Some(nanos)) => Ok((pid.parse()?, nanos.parse::<f64>()? / 1e6)),
        _ => Err(format!("{} is not complete", record.display()).into()),
    }
}

/// The pid and start time (ms since the epoch) the launcher recorded.
pub fn read_launch(record: &Path) -> BenchResult<(u32, f64)> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(launch) = read_launch_now(record) {
            return Ok(launch);
        }
        if Instant::now() > deadline {
            return Err(format!("{} was not written", record.display()).into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// CPU ticks of every thread in the tree, keyed by (process name, thread name, tid): a snapshot
/// to subtract from a later one, so a busy idle says which thread is busy.
pub fn thread_ticks(root: u32) -> HashMap<(String, String, u32), u64> {
    let mut ticks = HashMap::new();
    for pid in descendants(root) {
        let process = comm(&format!("/proc/{pid}"));
        let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else { continue };
        for task in tasks.flatten() {
            let Some(tid) = task.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
            let path = format!("/proc/{pid}/task/{tid}");
            if let Some(stat) = std::fs::read_to_string(format!("{path}/stat")).ok().and_then(|text| parse_ticks(&text))
            {
                ticks.insert((process.clone(), comm(&path), tid), stat);
            }
        }
    }
    ticks
}

fn comm(path: &str) -> String {
    std::fs::read_to_string(format!("{path}/comm")).map(|name| name.trim().to_owned()).unwrap_or_default()
}

fn parse_ticks(text: &str) -> Option<u64> {
    let rest = &text[text.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

/// The busiest threads between two snapshots over `seconds`: "process/thread: x.x%" lines.
pub fn busiest_threads(
    before: &HashMap<(String, String, u32), u64>,
    after: &HashMap<(String, String, u32), u64>,
    seconds: f64,
) -> Vec<String> {
    let mut used: HashMap<(String, String), u64> = HashMap::new();
    for (key, ticks) in after {
        let spent = ticks.saturating_sub(before.get(key).copied().unwrap_or(0));
        *used.entry((key.0.clone(), key.1.clone())).or_default() += spent;
    }
    let mut used: Vec<_> = used.into_iter().filter(|(_, ticks)| *ticks > 0).collect();
    used.sort_by_key(|entry| std::cmp::Reverse(entry.1));
    used.into_iter()
        .take(8)
        .map(|((process, thread), ticks)| {
            format!("{process}/{thread}: {:.2}%", ticks as f64 / TICKS_PER_SECOND / seconds * 100.0)
        })
        .collect()
}
