//! `cargo run -p unloc-desk --example fault_table`: every fault of the simulator's catalogue against the
//! real API client, as a table of what the client reported, whether it retried, and whether that is what
//! the shared table expects: the `ErrorKind`, the words of the message, the number of requests, and an
//! end within the time those requests may take. A hang or a message with the token fails whatever its
//! kind. Exits non-zero if any row fails, so it doubles as a check.
//!
//! What is expected, and on which call, comes from the shared table `unloc_sim::expected` (also used by
//! the client tests and the end-to-end faults scenario): most faults hit `GET /locks`; 409 and 422 hit
//! `POST /keys`, where they occur. Connection refused, DNS
//! and TLS failures cannot come from the simulator; those rows point the client at a closed port,
//! `https://unloc-desk-test.invalid/v1` and `https://` to the plain-HTTP simulator.

// The table on stdout is this example's whole output.
#![allow(clippy::print_stdout)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::SecretString;
use unloc_desk::api::{ApiBase, ApiClient, ApiError, ClientConfig, NewKey, PartnerId, RetryPolicy};
use unloc_desk::error::{AppError, ErrorKind};
use unloc_sim::expected::{expected, Call, Report};
use unloc_sim::{fixtures, FaultRule, SimConfig, Simulator};

/// The client's longest silence: short enough that `delay:3000` times out (`drip` keeps arriving).
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
/// A row that takes longer than this is a hang, reported as a failure.
const HANG: Duration = Duration::from_secs(30);

struct Row {
    fault: String,
    reported: String,
    retried: String,
    ok: bool,
}

fn config(api_base: &str, sim: &Simulator) -> ClientConfig {
    let mut config = ClientConfig::new(
        // Every base used here is valid: the simulator's loopback http, or https.
        ApiBase::parse(api_base).expect("a valid API base"),
        PartnerId::parse(sim.partner_id()).expect("the simulator's partner id is valid"),
        SecretString::from(sim.token().to_owned()),
    );
    config.connect_timeout = REQUEST_TIMEOUT;
    config.read_timeout = REQUEST_TIMEOUT;
    // The app's policy (3 attempts, Retry-After honoured up to a limit), with short back-off.
    config.retry =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(10), max_wait: Duration::from_secs(2) };
    config
}

/// What one call ended in.
enum Outcome {
    Success(String),
    /// The kind and message the UI gets.
    Error(ErrorKind, String),
    /// The message carried the token (the text says so without it).
    Leaked,
    Hung,
}

impl Outcome {
    fn text(&self) -> String {
        match self {
            Outcome::Success(text) => format!("ok: {text}"),
            Outcome::Error(kind, message) => format!("{}: {message}", kind.as_str()),
            Outcome::Leaked => "(message contained the token!)".to_owned(),
            Outcome::Hung => format!("HUNG for {} s", HANG.as_secs()),
        }
    }
}

/// Runs one call, at most `HANG` long.
async fn run(client: &ApiClient, call: Call, token: &str) -> Outcome {
    match tokio::time::timeout(HANG, call_once(client, call, token)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Hung,
    }
}

async fn call_once(client: &ApiClient, call: Call, token: &str) -> Outcome {
    let result = match call {
        Call::ListLocks => {
            client.list_locks().await.map(|list| format!("{} locks, {} skipped", list.locks.len(), list.skipped))
        }
        Call::CreateKey => {
            let key = NewKey {
                lock_id: fixtures::HJEMME_LOCK_ID.to_owned(),
                msn: Some("+4790000000".to_owned()),
                start: Utc::now(),
                end: None,
                route: None,
            };
            client.create_key(&key).await.map(|created| format!("key {}", created.id))
        }
    };
    match result {
        Ok(text) => Outcome::Success(text),
        Err(error) => describe(error, token),
    }
}

fn describe(error: ApiError, token: &str) -> Outcome {
    let app = AppError::from(error);
    // The table is meant to be pasted into issues: a message with the token is not shown, and fails.
    if app.message.contains(token) {
        return Outcome::Leaked;
    }
    let mut message = app.message;
    if let Some(wait) = app.retry_after_secs {
        message.push_str(&format!(" [retry after {wait} s]"));
    }
    Outcome::Error(app.kind, message)
}

/// Whether the outcome is the expected one: the kind, and the message's words (a hang or a leak is
/// never expected, whatever kind it would have been given).
fn verdict(report: Report, message: &str, got: &Outcome) -> bool {
    match (report, got) {
        (Report::Success, Outcome::Success(_)) => true,
        (Report::Error(want), Outcome::Error(kind, text)) => kind.as_str() == want && text.contains(message),
        _ => false,
    }
}

/// The longest a row may take: each request up to the timeout, plus the Retry-After waits and
/// back-off between them (at most `max_wait`, 2 s, in all here).
fn time_allowed(attempts: usize) -> Duration {
    REQUEST_TIMEOUT * u32::try_from(attempts).unwrap_or(u32::MAX) + Duration::from_secs(2)
}

async fn catalogue_row(sim: &Simulator, spec: &str, what: &str) -> Row {
    let Some(expected) = expected(spec) else {
        return Row {
            fault: spec.to_owned(),
            reported: format!("no expected outcome in unloc_sim::expected for this catalogue entry ({what})"),
            retried: "-".to_owned(),
            ok: false,
        };
    };
    let (call, route) = (expected.call, expected.call.route());
    sim.clear_faults();
    sim.clear_requests();
    let fault = match unloc_sim::Fault::parse(spec) {
        Ok(fault) => fault,
        Err(error) => {
            return Row { fault: spec.to_owned(), reported: error.to_string(), retried: "-".to_owned(), ok: false }
        }
    };
    sim.add_fault(FaultRule::always(route, fault));
    let client = match ApiClient::new(config(&sim.api_base(), sim)) {
        Ok(client) => client,
        Err(error) => {
            return Row { fault: spec.to_owned(), reported: error.to_string(), retried: "-".into(), ok: false }
        }
    };
    let started = Instant::now();
    let outcome = run(&client, call, sim.token()).await;
    let elapsed = started.elapsed();
    sim.clear_faults();
    let sent = sim.requests().iter().filter(|request| request.route == Some(route)).count();
    let mut problems = Vec::new();
    if !verdict(expected.report, expected.message, &outcome) {
        problems.push(match expected.report {
            Report::Success => "expected success".to_owned(),
            Report::Error(kind) => format!("expected {kind}: …{}…", expected.message),
        });
    }
    if sent != expected.attempts {
        problems.push(format!("expected {} request(s)", expected.attempts));
    }
    let allowed = time_allowed(expected.attempts);
    if elapsed > allowed {
        problems.push(format!("expected within {:.1} s", allowed.as_secs_f64()));
    }
    let on = call.as_str();
    Row {
        fault: format!("{spec} ({on})"),
        reported: format!("{} ({:.1} s)", outcome.text(), elapsed.as_secs_f64()),
        retried: requests_text(sent),
        ok: problems.is_empty(),
    }
    .with_problems(&problems)
}

/// The "retried?" column for a number of requests.
fn requests_text(sent: usize) -> String {
    match sent {
        0 => "no request".to_owned(),
        1 => "no".to_owned(),
        n => format!("yes ({n} requests)"),
    }
}

impl Row {
    /// A failing row says what was expected instead.
    fn with_problems(mut self, problems: &[String]) -> Self {
        if !problems.is_empty() {
            self.reported.push_str(&format!(" — {}", problems.join("; ")));
        }
        self
    }
}

/// Failures the server cannot cause: the client is pointed somewhere else.
async fn client_side_row(sim: &Simulator, name: &str, api_base: &str) -> Row {
    let started = Instant::now();
    let client = match ApiClient::new(config(api_base, sim)) {
        Ok(client) => client,
        Err(error) => {
            return Row { fault: name.to_owned(), reported: error.to_string(), retried: "-".into(), ok: false }
        }
    };
    let outcome = run(&client, Call::ListLocks, sim.token()).await;
    let elapsed = started.elapsed();
    let mut problems = Vec::new();
    if !verdict(Report::Error(ErrorKind::Offline.as_str()), "could not reach Unloc", &outcome) {
        problems.push("expected offline: …could not reach Unloc…".to_owned());
    }
    // Three attempts, each failing before the timeout.
    let allowed = time_allowed(3);
    if elapsed > allowed {
        problems.push(format!("expected within {:.1} s", allowed.as_secs_f64()));
    }
    Row {
        fault: name.to_owned(),
        reported: format!("{} ({:.1} s)", outcome.text(), elapsed.as_secs_f64()),
        // The simulator never sees these requests, so it cannot count attempts.
        retried: "n/a".to_owned(),
        ok: problems.is_empty(),
    }
    .with_problems(&problems)
}

fn print_table(rows: &[Row]) {
    let headers = ["fault", "what the client reported (ErrorKind: message)", "retried?", "outcome"];
    let cells: Vec<[String; 4]> = rows
        .iter()
        .map(|row| {
            let outcome = if row.ok { "OK" } else { "FAIL" };
            [row.fault.clone(), row.reported.clone(), row.retried.clone(), outcome.to_owned()]
        })
        .collect();
    let mut widths = headers.map(|h| h.chars().count());
    for row in &cells {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        let padded: Vec<String> = cells.iter().zip(widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
        format!("| {} |", padded.join(" | "))
    };
    println!("{}", line(headers));
    let rule: Vec<String> = widths.iter().map(|width| "-".repeat(*width)).collect();
    println!("|-{}-|", rule.join("-|-"));
    for row in &cells {
        println!("{}", line([&row[0], &row[1], &row[2], &row[3]]));
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    // 9 locks (the fixtures) keep the table quick; no lock-out, so 401 rows do not trip it.
    let sim = match unloc_sim::start(SimConfig { locks: 9, lockout_after: 0, ..SimConfig::default() }).await {
        Ok(sim) => sim,
        Err(error) => {
            println!("cannot start the simulator: {error}");
            return ExitCode::FAILURE;
        }
    };
    println!(
        "Unloc API client vs. the simulator's fault catalogue ({} faults); client read timeout {} s, \
         3 attempts for reads, Retry-After honoured up to 2 s, POST never retried.\n",
        unloc_sim::CATALOGUE.len(),
        REQUEST_TIMEOUT.as_secs()
    );
    let mut rows = Vec::new();
    for entry in unloc_sim::CATALOGUE {
        rows.push(catalogue_row(&sim, entry.spec, entry.what).await);
    }
    // A port that was just free: bind, note it, release it.
    let closed_port = match std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()) {
        Ok(addr) => addr.port(),
        Err(_) => 9,
    };
    let tls_base = format!("https://127.0.0.1:{}/v1", sim.addr().port());
    let refused_base = format!("http://127.0.0.1:{closed_port}/v1");
    for (name, base) in [
        ("connection refused (closed port)", refused_base.as_str()),
        ("DNS failure (unloc-desk-test.invalid)", "https://unloc-desk-test.invalid/v1"),
        ("TLS failure (https to plain HTTP)", tls_base.as_str()),
    ] {
        rows.push(client_side_row(&sim, name, base).await);
    }
    print_table(&rows);
    let failed = rows.iter().filter(|row| !row.ok).count();
    println!("\n{} rows, {} OK, {failed} FAIL", rows.len(), rows.len() - failed);
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
