//! The results table: each measure with its baseline, the app's figure, the ratio, the goal and
//! whether it is met, plus the machine, date and commit — written between two markers in the
//! output file, so the hand-written analysis around it survives the next run.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use crate::{BenchResult, Plan};

const BEGIN: &str = "<!-- bench:results:begin (written by tests/scripts/benchmark.sh; edit outside these markers) -->";
const END: &str = "<!-- bench:results:end -->";

#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Pass,
    Fail,
    /// Measured and shown, with no goal of its own.
    Info,
    /// Not measured, and why.
    Pending(&'static str),
}

#[derive(Clone, Debug)]
pub struct Row {
    measure: String,
    baseline: Option<f64>,
    app: Option<f64>,
    unit: &'static str,
    ratio: Option<f64>,
    goal: String,
    outcome: Outcome,
    note: Option<String>,
}

fn judged(ok: bool) -> Outcome {
    if ok {
        Outcome::Pass
    } else {
        Outcome::Fail
    }
}

impl Row {
    /// The app against the blank app: the goal is a ratio.
    pub fn ratio(measure: &str, baseline: f64, app: f64, unit: &'static str, max: f64) -> Self {
        let ratio = app / baseline;
        Row {
            measure: measure.to_owned(),
            baseline: Some(baseline),
            app: Some(app),
            unit,
            ratio: Some(ratio),
            goal: format!("≤ {max}x"),
            outcome: judged(ratio <= max),
            note: None,
        }
    }

    /// The app alone against a fixed limit.
    pub fn limit(measure: &str, app: f64, unit: &'static str, max: f64, goal: &str) -> Self {
        Row {
            measure: measure.to_owned(),
            baseline: None,
            app: Some(app),
            unit,
            ratio: None,
            goal: goal.to_owned(),
            outcome: judged(app <= max),
            note: None,
        }
    }

    /// Memory: at most 150 MB more than the blank app.
    pub fn memory(measure: &str, blank_mb: f64, app_mb: f64) -> Self {
        Row {
            measure: measure.to_owned(),
            baseline: Some(blank_mb),
            app: Some(app_mb),
            unit: "MB",
            ratio: Some(app_mb / blank_mb),
            goal: "≤ blank + 150 MB".to_owned(),
            outcome: judged(app_mb - blank_mb <= 150.0),
            note: Some(format!("{:+.0} MB", app_mb - blank_mb)),
        }
    }

    pub fn not_measured(measure: &str, goal: &str, outcome: Outcome) -> Self {
        Row {
            measure: measure.to_owned(),
            baseline: None,
            app: None,
            unit: "",
            ratio: None,
            goal: goal.to_owned(),
            outcome,
            note: None,
        }
    }

    pub fn with_note(mut self, note: &str) -> Self {
        self.note = Some(note.to_owned());
        self
    }

    /// More words after the note.
    pub fn with_note_after(mut self, more: &str) -> Self {
        self.note = Some(format!("{}{more}", self.note.unwrap_or_default()));
        self
    }

    /// A figure shown beside the goals, with no goal of its own.
    pub fn without_goal(mut self) -> Self {
        self.goal = "—".to_owned();
        self.outcome = Outcome::Info;
        self
    }

    /// Shown for context, judged against nothing.
    pub fn info(&mut self) {
        self.outcome = Outcome::Info;
    }

    pub fn with_baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }

    fn markdown(&self) -> String {
        let figure = |value: Option<f64>| match value {
            Some(v) if v.is_nan() => "no data".to_owned(),
            Some(v) if v >= 100.0 => format!("{v:.0} {}", self.unit),
            Some(v) => format!("{v:.1} {}", self.unit),
            None => "—".to_owned(),
        };
        let ratio = self.ratio.map_or("—".to_owned(), |r| format!("{r:.2}x"));
        let result = match &self.outcome {
            Outcome::Pass => "pass".to_owned(),
            Outcome::Fail => "**FAIL**".to_owned(),
            Outcome::Info => "(no goal)".to_owned(),
            Outcome::Pending(why) => (*why).to_owned(),
        };
        let app = match &self.note {
            Some(note) => format!("{} ({note})", figure(self.app)),
            None => figure(self.app),
        };
        format!("| {} | {} | {} | {} | {} | {} |", self.measure, figure(self.baseline), app, ratio, self.goal, result)
    }
}

/// Sizes: the release binary (no goal; it explains the packages) and the .deb and .rpm.
pub fn footprint(plan: &Plan) -> BenchResult<Vec<Row>> {
    let mb = |path: &Path| -> BenchResult<f64> { Ok(std::fs::metadata(path)?.len() as f64 / 1e6) };
    let mut binary =
        Row::ratio("Size of the binary", mb(&plan.blank)?, mb(&plan.app)?, "MB", f64::INFINITY).without_goal();
    if plan.quick {
        binary.measure.push_str(" (debug build)");
    }
    let mut rows = vec![binary];
    for (kind, dir) in [(".deb", "deb"), (".rpm", "rpm")] {
        let measure = format!("Size of the `{kind}`");
        let found = plan.packages.as_ref().and_then(|packages| {
            let app = package(&packages.join(dir), "Unloc Desk", kind)?;
            let blank = package(&packages.join(dir), "Unloc Bench Blank", kind)?;
            Some((blank, app))
        });
        rows.push(match found {
            Some((blank, app)) => Row::ratio(&measure, mb(&blank)?, mb(&app)?, "MB", 2.0),
            None => Row::not_measured(&measure, "≤ 2x", Outcome::Pending("not built in --quick mode")),
        });
    }
    Ok(rows)
}

fn package(dir: &Path, product: &str, extension: &str) -> Option<PathBuf> {
    std::fs::read_dir(dir).ok()?.flatten().map(|entry| entry.path()).find(|path| {
        let name = path.file_name().and_then(|name| name.to_str()).unwrap_or("");
        name.starts_with(product) && name.ends_with(extension) && !name[product.len()..].starts_with(' ')
    })
}

pub struct Report {
    pub rows: Vec<Row>,
    pub elapsed: Duration,
    plan: Plan,
    load_at_start: String,
}

impl Report {
    pub fn new(plan: &Plan) -> Self {
        Report { rows: vec![], elapsed: Duration::ZERO, plan: plan.clone(), load_at_start: load_average() }
    }

    fn results(&self) -> String {
        let plan = &self.plan;
        let mut text = String::new();
        let mode = if plan.quick {
            "**quick mode** (debug builds, small sizes: the figures only show the benchmark still runs; goals are judged for release builds)"
        } else if plan.app.parent().and_then(|dir| dir.file_name()).is_some_and(|name| name == "release") {
            "full mode (release builds)"
        } else {
            "full sizes with **debug builds** of both apps (the Rust side unoptimised; the page, WebKit and SQLite run the same code as in release)"
        };
        let _ = writeln!(text, "{BEGIN}\n");
        let _ = writeln!(
            text,
            "- Run: {} · commit {} · {mode}",
            command_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
            commit()
        );
        let _ = writeln!(
            text,
            "- Sizes: {} locks, {} events on the busy lock; median of {} runs; idle CPU over {} s",
            crate::n(plan.locks),
            crate::n(plan.events),
            plan.runs,
            plan.idle_secs
        );
        let _ = writeln!(text, "- Machine: {}", machine());
        let _ = writeln!(
            text,
            "- Load average (1, 5, 15 min) at the start: {}; at the end: {}; the run took {:.0} s",
            self.load_at_start,
            load_average(),
            self.elapsed.as_secs_f64()
        );
        let _ = writeln!(text, "\n| Measure | Baseline (blank app) | App | Ratio | Goal | Result |");
        let _ = writeln!(text, "|---|---|---|---|---|---|");
        for row in &self.rows {
            let _ = writeln!(text, "{}", row.markdown());
        }
        let _ = writeln!(text, "\n{END}");
        text
    }

    /// Replaces the results between the markers, or writes a new file holding only them.
    pub fn write(&self, out: &Path) -> BenchResult {
        let results = self.results();
        let existing = std::fs::read_to_string(out).unwrap_or_default();
        let text = match (existing.find(BEGIN), existing.find(END)) {
            (Some(begin), Some(end)) if begin < end => {
                format!("{}{}{}", &existing[..begin], results.trim_end(), &existing[end + END.len()..])
            }
            _ => format!("# Benchmark results\n\n{results}"),
        };
        if let Some(dir) = out.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(out, text)?;
        Ok(())
    }
}

fn command_line(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .ok()
        .and_then(|output| String::from_utf8(output.stdout).ok())
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|| "unknown".to_owned())
}

fn commit() -> String {
    let hash = command_line("git", &["rev-parse", "--short", "HEAD"]);
    let dirty = !command_line("git", &["status", "--porcelain", "--untracked-files=no"]).is_empty();
    if dirty {
        format!("`{hash}` (+ uncommitted changes)")
    } else {
        format!("`{hash}`")
    }
}

/// The Tauri version both apps link, from the lock file they share.
fn tauri_version() -> String {
    let lock = std::fs::read_to_string("Cargo.lock").unwrap_or_default();
    lock.split("[[package]]")
        .find(|entry| entry.contains("\nname = \"tauri\"\n"))
        .and_then(|entry| entry.lines().find_map(|line| line.strip_prefix("version = ")))
        .map_or("unknown".to_owned(), |version| version.trim_matches('"').to_owned())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(", "))
        .unwrap_or_else(|_| "unknown".to_owned())
}

fn machine() -> String {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let model = cpuinfo
        .lines()
        .find_map(|line| line.strip_prefix("model name"))
        .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_else(|| "unknown CPU".to_owned());
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let memory = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines().find_map(|line| line.strip_prefix("MemTotal:")?.split_whitespace().next()?.parse::<f64>().ok())
        })
        .map_or("unknown".to_owned(), |kib| format!("{:.1} GiB", kib / 1_048_576.0));
    let webkit = command_line("pkg-config", &["--modversion", "webkit2gtk-4.1"]);
    format!(
        "{model}, {cores} cores, {memory} RAM, Linux {}, WebKitGTK {webkit}, Tauri {}, Xvfb (software rendering)",
        command_line("uname", &["-r"]),
        tauri_version()
    )
}
