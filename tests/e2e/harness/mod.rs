//! What every scenario stands on: the `ensure!` macros, starting a scenario (skip unless enabled, one at
//! a time, its own simulator, app folders and tauri-driver, a screenshot on failure), and the paths.
//!
//! A scenario is only its body:
//! `scenario("name", config).run(async |client, scenario| { ... Ok(()) }).await`
//! (`.env(..)` adds to the app's environment; `.sessions(..)` for several app starts on one simulator;
//! `.time_limit(..)` when its steps need more than the 5 minutes every scenario has, see `limit.rs`).

mod limit;
mod page;
mod processes;
mod secrets;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder};
use serde_json::json;
use unloc_sim::{SimConfig, Simulator};

use limit::{at_most, Limit, FAILURE_SCREENSHOT_LIMIT, SCENARIO_LIMIT};

pub use fantoccini::Locator;
pub use limit::step;
pub use page::*;
pub use processes::Process;
pub use secrets::*;

/// A fixed zone without daylight saving, so expected local times are exact: UTC+3, shown as "UTC+3" (never "Etc/GMT-3").
const TEST_TZ: &str = "Etc/GMT-3";
/// How long a wait for the page lasts before the scenario fails.
pub const WAIT: Duration = Duration::from_secs(20);
/// How long the first load of 100,000 events may take: a debug build decodes, saves and hands them to
/// the window, and on a loaded 2-core CI machine that once took longer than [`WAIT`] (speed is measured
/// by the benchmark in a release build, not here).
pub const BIG_LOAD_WAIT: Duration = Duration::from_secs(90);

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

/// Like assert_eq!, but fails the scenario with an error (see `ensure!`).
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

pub(crate) use {ensure, ensure_eq};

pub type TestResult<T = ()> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

/// Locks a mutex whose holder may have panicked (a failed scenario): the driver it guards is still
/// the one to stop.
fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The scenarios share one display and one keychain: run them one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The repository's root folder (this crate is `tests/e2e`).
pub fn workspace_root() -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    crate_dir.parent().and_then(Path::parent).expect("tests/e2e sits two folders below the root").to_path_buf()
}

/// Files this suite brings along (`tests/e2e/fixtures`).
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// Screenshots of each view and of any failure: `tests/artifacts/`.
pub fn artifacts_dir() -> PathBuf {
    let dir = workspace_root().join("tests").join("artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts folder");
    dir
}

fn app_binary() -> PathBuf {
    // The install test (tests/scripts/install-test.sh) points this at the binary the .deb installed.
    if let Some(installed) = std::env::var_os("UNLOC_INSTALLED_APP") {
        return PathBuf::from(installed);
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from).unwrap_or_else(|| workspace_root().join("target"));
    let binary = target.join("debug").join("unloc-desk");
    assert!(binary.exists(), "{} is missing: run `cargo build -p unloc-desk` first", binary.display());
    binary
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// When a scenario runs at all.
enum Gate {
    /// With UNLOC_E2E=1 (the test command); otherwise it says it was skipped.
    E2e,
    /// Only after tests/scripts/install-test.sh installed the package (UNLOC_INSTALLED_APP); such a
    /// scenario is `#[ignore]`d, and run without an installed app it fails rather than pass unseen.
    Installed,
}

impl Gate {
    fn open(&self) -> bool {
        match self {
            Gate::E2e | Gate::Installed => {
                if std::env::var("UNLOC_E2E").as_deref() == Ok("1") {
                    return true;
                }
                #[allow(clippy::print_stderr)] // tells a developer running plain `cargo test` how to run these
                {
                    eprintln!("skipped: the end-to-end suite runs with tests/scripts/run-tests.sh (UNLOC_E2E=1)");
                }
                false
            }
        }
    }

    /// Why a scenario cannot run although its gate is open.
    fn missing(&self) -> Option<&'static str> {
        match self {
            Gate::Installed if std::env::var_os("UNLOC_INSTALLED_APP").is_none() => {
                Some("no installed app: tests/scripts/install-test.sh sets UNLOC_INSTALLED_APP")
            }
            _ => None,
        }
    }
}

/// A scenario about to start: see [`scenario`].
pub struct Setup {
    name: &'static str,
    config: SimConfig,
    env: Vec<(String, String)>,
    gate: Gate,
    audit_after_close: bool,
    time_limit: Duration,
}

/// A scenario named `name` (its folder and its failure screenshot `tests/artifacts/<name>-failure.png`)
/// against a simulator started with `config`.
pub fn scenario(name: &'static str, config: SimConfig) -> Setup {
    Setup { name, config, env: Vec::new(), gate: Gate::E2e, audit_after_close: false, time_limit: SCENARIO_LIMIT }
}

impl Setup {
    /// Sets a variable in the app's environment (after the defaults, so it can replace one).
    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    /// After each app start has closed, the secrets audit reads every file the app left (data, config,
    /// cache, log) for the simulator's token: what is written at shutdown counts too.
    pub fn audit_secrets_after_close(mut self) -> Self {
        self.audit_after_close = true;
        self
    }

    /// Gives the scenario's steps `limit` instead of the default 5 minutes (`limit::SCENARIO_LIMIT`):
    /// past it the scenario fails, naming its last step, and its app and drivers are stopped.
    pub fn time_limit(mut self, limit: Duration) -> Self {
        self.time_limit = limit;
        self
    }

    /// Runs only against the installed package (tests/scripts/install-test.sh sets UNLOC_INSTALLED_APP);
    /// without it the scenario fails, so mark it `#[ignore]` for the main run.
    pub fn only_when_installed(mut self) -> Self {
        self.gate = Gate::Installed;
        self
    }

    /// One app start: the steps get the WebDriver client and the scenario (its simulator and folder).
    pub async fn run(self, steps: impl AsyncFnOnce(&Client, &Scenario) -> TestResult) -> TestResult {
        let Some((serial, scenario)) = self.begin().await? else { return Ok(()) };
        let outcome = scenario.run(steps).await;
        // The app and its driver are stopped before the next scenario may start.
        drop(scenario);
        drop(serial);
        outcome
    }

    /// Several app starts on one simulator and one app folder (restarts): the steps call
    /// `scenario.run(..)` for each start and may change the simulator or the files in between.
    /// The time limit counts from the first start and covers them all.
    pub async fn sessions(self, steps: impl AsyncFnOnce(&Scenario) -> TestResult) -> TestResult {
        let Some((serial, scenario)) = self.begin().await? else { return Ok(()) };
        let limit = Limit::starting_now(scenario.name, scenario.time_limit);
        *lock(&scenario.session_limit) = Some(limit.clone());
        // Each `scenario.run` stops at the limit itself, with a screenshot; this outer limit, a
        // minute later, catches a hang between app starts (a second desk, the simulator).
        let outcome = match limit.with_grace(Duration::from_secs(60)).run(steps(&scenario)).await {
            Ok(outcome) => outcome,
            Err(ran_out) => {
                scenario.stop_everything();
                Err(ran_out.message.into())
            }
        };
        if outcome.is_ok() {
            report_time(&limit);
        }
        drop(scenario);
        drop(serial);
        outcome
    }

    /// The scenario's simulator and folders, with the turn to run (scenarios run one at a time);
    /// `None` when the suite is not enabled (plain `cargo test`).
    async fn begin(self) -> TestResult<Option<(tokio::sync::MutexGuard<'static, ()>, Scenario)>> {
        if !self.gate.open() {
            return Ok(None);
        }
        if let Some(missing) = self.gate.missing() {
            return Err(missing.into());
        }
        let serial = SERIAL.lock().await;
        let mut scenario = Scenario::start(self.name, self.config, &self.env, self.audit_after_close).await?;
        scenario.time_limit = self.time_limit;
        Ok(Some((serial, scenario)))
    }
}

/// Everything one scenario owns: its simulator, its own app folders, its driver.
pub struct Scenario {
    name: &'static str,
    pub sim: Simulator,
    /// The app's XDG data, config and cache folders, and its log `app.log`.
    pub home: PathBuf,
    /// Replaced once if the app hangs while starting (see `open_app`).
    driver: std::sync::Mutex<Driver>,
    /// What the driver was started with, to start it again.
    env: Vec<(String, String)>,
    audit_after_close: bool,
    /// How long its steps may take.
    time_limit: Duration,
    /// In `Setup::sessions`: the one limit all its app starts share.
    session_limit: std::sync::Mutex<Option<Limit>>,
}

impl Scenario {
    async fn start(
        name: &'static str,
        config: SimConfig,
        env: &[(String, String)],
        audit_after_close: bool,
    ) -> TestResult<Self> {
        let sim = unloc_sim::start(config).await?;
        let home = std::env::temp_dir().join(format!("unloc-e2e-{}-{}", name, std::process::id()));
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home)?;
        let driver = std::sync::Mutex::new(Driver::start(&home, &sim, env)?);
        forget_token(&sim);
        Ok(Scenario {
            name,
            sim,
            home,
            driver,
            env: env.to_vec(),
            audit_after_close,
            time_limit: SCENARIO_LIMIT,
            session_limit: std::sync::Mutex::new(None),
        })
    }

    /// Runs the steps against a freshly started app; on failure keeps a screenshot. Steps that run
    /// past the scenario's time limit fail it, naming the last step; the app and its drivers are
    /// then stopped, so the next scenario can run.
    pub async fn run(&self, steps: impl AsyncFnOnce(&Client, &Scenario) -> TestResult) -> TestResult {
        let client = self.open_app().await?;
        let shared = lock(&self.session_limit).clone();
        let limit = shared.clone().unwrap_or_else(|| Limit::starting_now(self.name, self.time_limit));
        let (outcome, ran_out) = match limit.run(steps(&client, self)).await {
            Ok(outcome) => (outcome, false),
            Err(ran_out) => (Err(ran_out.message.into()), true),
        };
        if outcome.is_err() {
            save_failure_screenshot(&client, self.name).await;
        }
        if ran_out {
            // The driver may be what hangs: nothing more is asked of it.
            self.stop_everything();
        }
        let _ = at_most(Duration::from_secs(10), client.close()).await;
        if shared.is_none() && outcome.is_ok() {
            report_time(&limit);
        }
        // The next start on these folders must not meet this app still closing (one instance per folder).
        let exited = self.wait_for_the_app_to_exit().await;
        outcome?;
        exited?;
        if self.audit_after_close {
            let files = audit_files(&self.home, self.sim.token())?;
            #[allow(clippy::print_stderr)] // the audit's figures belong in the test output
            {
                eprintln!("secrets audit after the app closed: {files} files, no token in UTF-8, UTF-16 or base64");
            }
        }
        Ok(())
    }
}

impl Scenario {
    /// Starts the app in a new WebDriver session. A start that hangs (no window within 60 s) is
    /// reported with what the app and its driver were doing — the tail of the log and the state of
    /// each app process — and tried once more on a fresh driver after the hung app is stopped: on a
    /// loaded machine WebKitWebDriver has been seen to wait for a start forever. A second hang fails
    /// the scenario, and so does anything else (a crash or a refused start) at once.
    async fn open_app(&self) -> TestResult<Client> {
        let port = lock(&self.driver).port;
        match open_app(port).await {
            Err(StartFailure::Hung) => {}
            Err(StartFailure::Other(error)) => return Err(error),
            Ok(client) => return Ok(client),
        }
        #[allow(clippy::print_stderr)] // a hung start and its diagnosis belong in the test output
        {
            eprintln!("the app did not start within 60 s; trying once more on a fresh driver\n{}", self.diagnosis());
        }
        self.stop_the_app();
        let fresh = Driver::start(&self.home, &self.sim, &self.env)?;
        let port = fresh.port;
        drop(std::mem::replace(&mut *lock(&self.driver), fresh));
        match open_app(port).await {
            Ok(client) => Ok(client),
            Err(StartFailure::Hung) => {
                Err(format!("the app did not start within 60 s, twice\n{}", self.diagnosis()).into())
            }
            Err(StartFailure::Other(error)) => Err(error),
        }
    }

    /// The app processes of this scenario (by their data folder).
    fn app_processes(&self) -> Vec<PathBuf> {
        let binary = app_binary();
        let marker = format!("XDG_DATA_HOME={}", self.home.join("data").display());
        std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .filter(|pid| {
                std::fs::read_link(pid.join("exe")).is_ok_and(|exe| exe == binary)
                    && std::fs::read(pid.join("environ"))
                        .is_ok_and(|environ| environ.split(|byte| *byte == 0).any(|var| var == marker.as_bytes()))
            })
            .collect()
    }

    /// What a hung start looked like: each app process's state and where its threads wait, and the
    /// last lines of the log the app and its driver write.
    fn diagnosis(&self) -> String {
        let mut lines = Vec::new();
        let processes = self.app_processes();
        if processes.is_empty() {
            lines.push("no app process of this scenario is running".to_owned());
        }
        for pid in processes {
            let stat = std::fs::read_to_string(pid.join("stat")).unwrap_or_default();
            lines.push(format!("app process {}: {}", pid.display(), stat.trim()));
            for task in std::fs::read_dir(pid.join("task")).into_iter().flatten().flatten() {
                let name = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
                let wchan = std::fs::read_to_string(task.path().join("wchan")).unwrap_or_default();
                lines.push(format!("  thread {} waits in {}", name.trim(), wchan.trim()));
            }
        }
        let log = std::fs::read_to_string(self.home.join("app.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        lines.push("last lines of app.log:".to_owned());
        lines.extend(tail.into_iter().rev().map(|line| format!("  {line}")));
        lines.join("\n")
    }

    /// The processes this scenario runs now: its tauri-driver, everything below it (WebKitWebDriver,
    /// the app, WebKit's helpers) and any app process on its folders.
    pub fn processes(&self) -> Vec<Process> {
        let driver = lock(&self.driver).child.id();
        let mut found: Vec<Process> = Process::find(driver).into_iter().collect();
        found.extend(processes::descendants(driver));
        for pid in self.app_processes() {
            let process = pid.file_name().and_then(|name| name.to_str()?.parse().ok()).and_then(Process::find);
            if let Some(process) = process.filter(|process| !found.contains(process)) {
                found.push(process);
            }
        }
        found
    }

    /// Kills every process of this scenario at once (a scenario past its time limit: its driver may
    /// not answer a polite stop).
    fn stop_everything(&self) {
        let processes = self.processes();
        lock(&self.driver).kill_now();
        for process in &processes {
            process.kill();
        }
    }

    fn stop_the_app(&self) {
        for pid in self.app_processes() {
            if let Some(pid) = pid.file_name().and_then(|name| name.to_str()) {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
        }
    }

    /// Waits until no process of the app binary runs with this scenario's folders: closing the WebDriver
    /// session ends the app, but it may still be writing (and WebKit tidying) for a moment, and a new
    /// start on the same folders would meet it (the app is one instance per data folder).
    async fn wait_for_the_app_to_exit(&self) -> TestResult {
        let deadline = Instant::now() + WAIT;
        loop {
            let running = !self.app_processes().is_empty();
            if !running {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err("the app kept running after its WebDriver session closed".into());
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

/// A second app instance beside a scenario's own — another desk of the same office: its own app
/// folders, log and tauri-driver (its own port), against the scenario's simulator. Made by
/// [`Scenario::second_desk`]; its folders go when it is dropped.
pub struct Desk {
    name: String,
    /// Its own name (`b`), for a timed-out scenario's message.
    desk: String,
    pub home: PathBuf,
    driver: Driver,
}

impl Scenario {
    /// Another app instance (another desk) on this scenario's simulator, with `env` on top of the
    /// scenario's own environment.
    pub fn second_desk(&self, name: &str, env: &[(&str, &str)]) -> TestResult<Desk> {
        let home = self
            .home
            .with_file_name(format!("{}-{name}", self.home.file_name().and_then(|n| n.to_str()).unwrap_or("desk")));
        let _ = std::fs::remove_dir_all(&home);
        let mut all_env = self.env.clone();
        all_env.extend(env.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
        let driver = Driver::start(&home, &self.sim, &all_env)?;
        Ok(Desk { name: format!("{}-{name}", self.name), desk: name.to_owned(), home, driver })
    }
}

impl Desk {
    /// Starts this desk's app and runs the steps with its client; on failure keeps a screenshot
    /// (`tests/artifacts/<scenario>-<desk>-failure.png`). The app is closed afterwards. Its steps
    /// count against the scenario's time limit, and a step of theirs named in a timed-out
    /// scenario's message says it was on this desk; its processes stop when it is dropped.
    pub async fn run(&self, steps: impl AsyncFnOnce(&Client) -> TestResult) -> TestResult {
        let client = open_app(self.driver.port).await.map_err(|failure| match failure {
            StartFailure::Hung => "the second desk's app did not start within 60 s".into(),
            StartFailure::Other(error) => error,
        })?;
        let outcome = limit::on_desk(&self.desk, steps(&client)).await;
        if outcome.is_err() {
            save_failure_screenshot(&client, &self.name).await;
            // Its folders go with it: keep what its log said.
            let log = std::fs::read_to_string(self.home.join("app.log")).unwrap_or_default();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            let tail: Vec<&str> = tail.into_iter().rev().collect();
            let _ = std::fs::write(artifacts_dir().join(format!("{}-failure.log", self.name)), tail.join("\n"));
        }
        let _ = at_most(Duration::from_secs(10), client.close()).await;
        outcome
    }
}

impl Drop for Desk {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

impl Drop for Scenario {
    fn drop(&mut self) {
        forget_token(&self.sim);
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

/// One tauri-driver (and so one app process per WebDriver session) with the environment a
/// scenario asks for. Stopped with SIGTERM (SIGKILL would leave WebKitWebDriver running), and
/// whatever it started that outlives it is killed.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    fn start(home: &Path, sim: &Simulator, extra_env: &[(String, String)]) -> TestResult<Self> {
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
            // The computer's file dialogs cannot be driven: exports and imports take the test's paths.
            .env("UNLOC_TEST_ANY_FILE", "1")
            .env("TZ", TEST_TZ)
            // The app turns WebKit's compositing off where there is no GPU (src-tauri/src/drawing.rs),
            // and Xvfb has none; but WebKitWebDriver's screenshot then never returns under the dark
            // GTK theme (the accessibility scenario hung CI on 2026-12-02). The suite keeps
            // compositing on, as a user's own setting may (drawing.rs's tests cover the switch).
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "0")
            .env("LANG", "en_US.UTF-8")
            .env("LANGUAGE", "en")
            .env("RUST_LOG", "debug");
        // Everything the driver and the app print goes to one log, which the secrets audit reads.
        std::fs::create_dir_all(home)?;
        // Appended to: a driver started again after a hung start keeps what the first one wrote.
        let log = std::fs::OpenOptions::new().create(true).append(true).open(home.join("app.log"))?;
        command.stdout(Stdio::from(log.try_clone()?)).stderr(Stdio::from(log));
        for (name, value) in extra_env {
            command.env(name, value);
        }
        let child = command
            .spawn()
            .map_err(|error| format!("could not start tauri-driver (tests/scripts/setup.sh installs it): {error}"))?;
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
}

/// Why a start failed: it hung (no answer within 60 s), or anything else.
enum StartFailure {
    Hung,
    Other(Box<dyn std::error::Error + Send + Sync>),
}

/// Starts the app in a new WebDriver session on the driver at `port` (a timeout instead of a hang).
/// On a busy machine WebKitWebDriver now and then drops the session request, closing the
/// connection without an answer: that one failure is tried again. Anything else — the app crashing
/// or refusing to start — fails the scenario at once: a crash on the first launch is what some
/// scenarios are there to catch, and a retry would hide it.
async fn open_app(port: u16) -> Result<Client, StartFailure> {
    const ATTEMPTS: usize = 3;
    for attempt in 1..=ATTEMPTS {
        let mut capabilities = serde_json::Map::new();
        capabilities.insert("tauri:options".into(), json!({ "application": app_binary() }));
        let mut builder = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new());
        builder.capabilities(capabilities);
        let url = format!("http://127.0.0.1:{port}");
        match tokio::time::timeout(Duration::from_secs(60), builder.connect(&url)).await {
            Ok(Ok(client)) => return Ok(client),
            Ok(Err(error)) if is_session_drop(&error) && attempt < ATTEMPTS => {
                #[allow(clippy::print_stderr)] // a retried start belongs in the test output
                {
                    eprintln!("WebKitWebDriver dropped the session request ({error}); trying again");
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
            Ok(Err(error)) => return Err(StartFailure::Other(format!("the app did not start: {error}").into())),
            Err(_) => return Err(StartFailure::Hung),
        }
    }
    unreachable!("the last attempt returns")
}

/// WebKitWebDriver's known hiccup: the connection closed before any answer to the new-session request
/// (not a WebDriver error, which is what a crashed or refused app gives). The HTTP client reports it
/// as "client error (SendRequest)" on top and says "connection closed" (hyper's IncompleteMessage)
/// only further down its chain of causes, so the whole chain is read.
fn is_session_drop(error: &fantoccini::error::NewSessionError) -> bool {
    use fantoccini::error::NewSessionError;
    match error {
        NewSessionError::Lost(_) => true,
        NewSessionError::Failed(inner) => closed_before_answer(inner),
        NewSessionError::FailedC(inner) => closed_before_answer(inner),
        _ => false,
    }
}

fn closed_before_answer(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(current) = cause {
        let text = format!("{current} {current:?}").to_lowercase();
        if ["connection closed", "incompletemessage", "connection reset"].iter().any(|sign| text.contains(sign)) {
            return true;
        }
        cause = current.source();
    }
    false
}

impl Driver {
    /// Kills tauri-driver and everything it started, without asking (a scenario past its limit).
    fn kill_now(&mut self) {
        let started = processes::descendants(self.child.id());
        let _ = self.child.kill();
        let _ = self.child.wait();
        for process in &started {
            process.kill();
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return; // already ended (and its id may be another process's by now)
        }
        let started = processes::descendants(self.child.id());
        let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // A WebKitWebDriver or app that did not end with its tauri-driver.
        for process in &started {
            process.kill();
        }
    }
}

/// Keeps `tests/artifacts/<name>-failure.png` if the driver gives a screenshot in time.
async fn save_failure_screenshot(client: &Client, name: &str) {
    let path = artifacts_dir().join(format!("{name}-failure.png"));
    match at_most(FAILURE_SCREENSHOT_LIMIT, client.screenshot()).await {
        Some(Ok(png)) => {
            let _ = std::fs::write(&path, png);
        }
        Some(Err(_)) => {}
        None => {
            #[allow(clippy::print_stderr)] // why a failed scenario has no screenshot belongs in the test output
            {
                eprintln!(
                    "{name}: no failure screenshot: the driver did not give one within {} s",
                    FAILURE_SCREENSHOT_LIMIT.as_secs()
                );
            }
        }
    }
}

/// How long a scenario took of its limit, for the test output (a scenario nearing it shows there).
fn report_time(limit: &Limit) {
    #[allow(clippy::print_stderr)] // the scenario's time belongs in the test output
    {
        eprintln!("{}", limit.used());
    }
}

/// Every file below `dir` (none if it does not exist).
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
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
