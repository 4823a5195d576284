//! The Activity filter's benchmark: an archive of N events (1,000,000 unless `--events` says otherwise)
//! in a database file, then the time of a filter change — the count and the first window of rows,
//! exactly what the Activity view asks for (`activity::page`) — for each kind of filter, the median
//! of several runs each; then the Activity export of a tenth of the archive (100,000 rows of
//! 1,000,000) as .xlsx and as .csv. Prints a table for a person and, last, one JSON line for the benchmark
//! driver (tests/bench/driver). Run it from a release build: `cargo run --release -p unloc-desk
//! --example activity_bench`.

// A benchmark's output is its report: printing is what it is for.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset, TimeZone, Utc};
use unloc_desk::account::Account;
use unloc_desk::activity::{self, ActivityFilter, DateRange};
use unloc_desk::api::{Lock, LockEvent};
use unloc_desk::export::activity::export_activity_in;
use unloc_desk::export::tables::Words;
use unloc_desk::export::{FileFormat, Language, Target};
use unloc_desk::store::Store;

const LOCKS: usize = 2_000;
const PEOPLE: usize = 5_000;
/// The events lie in the year before `now`.
const SPREAD_MS: i64 = 365 * 24 * 3600 * 1000;
const WINDOW: u64 = 200;
const RUNS: usize = 7;

type BenchResult<T = ()> = Result<T, Box<dyn std::error::Error>>;

struct Args {
    events: usize,
    dir: PathBuf,
}

fn args() -> BenchResult<Args> {
    let mut events = 1_000_000;
    let mut dir = std::env::temp_dir().join("unloc-activity-bench");
    let mut given = std::env::args().skip(1);
    while let Some(arg) = given.next() {
        let mut value = || given.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--events" => events = value()?.parse()?,
            "--dir" => dir = PathBuf::from(value()?),
            other => return Err(format!("unknown argument {other} (--events N, --dir PATH)").into()),
        }
    }
    Ok(Args { events, dir })
}

/// A small, fast, reproducible generator (the same archive every run).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

fn lock(n: usize) -> Lock {
    const CITIES: [&str; 10] =
        ["Oslo", "Bergen", "Trondheim", "Stavanger", "Drammen", "Tromsø", "Bodø", "Ålesund", "Moss", "Hamar"];
    serde_json::from_value(serde_json::json!({
        "id": format!("lock-{n:05}"), "name": format!("Oppgang {n}"), "auth": "opt-out",
        "data": format!("kunde-{n:05}"), "street": format!("Storgata {}", n % 200 + 1),
        "postalCode": format!("{:04}", n % 9000 + 100), "city": CITIES[n % CITIES.len()]
    }))
    .expect("a valid lock")
}

fn person(n: usize) -> (String, String) {
    (format!("Person {n:04} Nordmann"), format!("+479{n:07}"))
}

/// Fills the archive once; a file from an earlier run with the same size is used as it is.
fn archive(args: &Args, now: DateTime<Utc>) -> BenchResult<Account> {
    std::fs::create_dir_all(&args.dir)?;
    let path = args.dir.join(format!("archive-{}.sqlite3", args.events));
    let (store, _) = Store::open(&path)?;
    let account = Account::new(store);
    if account.with_store(|store| store.archived_events())? == args.events as u64 {
        eprintln!("activity-bench: using the archive of {} events in {}", args.events, path.display());
        return Ok(account);
    }
    let began = Instant::now();
    let locks: Vec<Lock> = (0..LOCKS).map(lock).collect();
    account.remember_locks(&locks, now)?;
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let per_lock = args.events.div_ceil(LOCKS);
    let mut made = 0;
    for lock in &locks {
        let events: Vec<LockEvent> = (0..per_lock.min(args.events - made))
            .map(|i| {
                let (name, msn) = person(rng.below(PEOPLE));
                let at = now - chrono::Duration::milliseconds((rng.below(SPREAD_MS as usize)) as i64);
                serde_json::from_value(serde_json::json!({
                    "id": format!("{:08x}-0000-4000-8000-{:012x}", made + i, rng.below(1 << 40)),
                    "keyId": format!("key-{}", rng.below(50_000)),
                    "action": if rng.below(2) == 0 { "locked" } else { "unlocked" },
                    "name": name, "msn": msn,
                    "created": at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                }))
                .expect("a valid event")
            })
            .collect();
        made += events.len();
        account.with_store(|store| store.archive_events(&lock.id, &events, None))?;
    }
    eprintln!("activity-bench: archived {made} events in {:.1} s", began.elapsed().as_secs_f64());
    Ok(account)
}

fn median(mut times: Vec<Duration>) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn main() -> BenchResult {
    let args = args()?;
    let zone = FixedOffset::east_opt(3600).ok_or("zone")?;
    let now_utc = Utc::now();
    let account = archive(&args, now_utc)?;
    let now = zone.from_utc_datetime(&now_utc.naive_utc());
    let filter = |range: Option<DateRange>, lock: &str, person: &str, action: Option<&str>| ActivityFilter {
        range,
        lock: lock.into(),
        person: person.into(),
        action: action.map(str::to_owned),
    };
    let cases = [
        ("no filter", filter(None, "", "", None)),
        ("this month", filter(Some(DateRange::ThisMonth), "", "", None)),
        ("last week", filter(Some(DateRange::LastWeek), "", "", None)),
        ("one customer (reference)", filter(None, "kunde-01234", "", None)),
        ("a city's locks (a tenth)", filter(None, "bergen", "", None)),
        ("one person (phone)", filter(None, "", "900 01 234", None)),
        ("one person (name)", filter(None, "", "person 0777", None)),
        ("locked only", filter(None, "", "", Some("locked"))),
        ("last month, a city, locked", filter(Some(DateRange::LastMonth), "oslo", "", Some("locked"))),
        ("this week, one person, unlocked", filter(Some(DateRange::ThisWeek), "", "person 0042", Some("unlocked"))),
    ];
    let mut worst = Duration::ZERO;
    let mut lines = Vec::new();
    for (name, filter) in &cases {
        let mut times = Vec::with_capacity(RUNS);
        let mut total = 0;
        for _ in 0..RUNS {
            let began = Instant::now();
            let page = activity::page(&account, filter, &now, 0, WINDOW, true)?;
            times.push(began.elapsed());
            total = page.total.unwrap_or_default();
        }
        let time = median(times);
        worst = worst.max(time);
        println!("{name:<34} {:>9} events  {:>7.1} ms", total, time.as_secs_f64() * 1000.0);
        lines.push(format!("{name} {:.0} ms", time.as_secs_f64() * 1000.0));
    }
    // Scrolling deep into the unfiltered list: a window far down, without a count.
    let deep = args.events as u64 / 2;
    let mut times = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        let began = Instant::now();
        activity::page(&account, &ActivityFilter::default(), &now, deep, WINDOW, false)?;
        times.push(began.elapsed());
    }
    let scroll = median(times);
    println!(
        "{:<34} {:>9}         {:>7.1} ms",
        "a window halfway down (scrolling)",
        deep,
        scroll.as_secs_f64() * 1000.0
    );
    let (export_rows, export_xlsx, export_csv) = export_times(&args, &account, &now, &cases[4].1)?;
    println!(
        "{}",
        serde_json::json!({
            "events": args.events,
            "worstFilterMs": worst.as_secs_f64() * 1000.0,
            "scrollWindowMs": scroll.as_secs_f64() * 1000.0,
            "filters": lines,
            "exportRows": export_rows,
            "exportXlsxMs": export_xlsx.as_secs_f64() * 1000.0,
            "exportCsvMs": export_csv.as_secs_f64() * 1000.0,
        })
    );
    Ok(())
}

/// The Activity export of `filter` (a tenth of the archive: 100,000 rows of 1,000,000), as the
/// `export_activity` command runs it — the archive read, the table built, the file written beside
/// its place, synced and renamed in — once per format, median of EXPORT_RUNS each.
fn export_times(
    args: &Args,
    account: &Account,
    now: &DateTime<FixedOffset>,
    filter: &ActivityFilter,
) -> BenchResult<(usize, Duration, Duration)> {
    const EXPORT_RUNS: usize = 3;
    let words = Words::new(Language::Nb, "Europe/Oslo");
    let mut rows = 0;
    let mut medians = Vec::new();
    for format in [FileFormat::Xlsx, FileFormat::Csv] {
        let target = Target { path: args.dir.join("export"), format, language: Language::Nb };
        let mut times = Vec::with_capacity(EXPORT_RUNS);
        for _ in 0..EXPORT_RUNS {
            let began = Instant::now();
            let done = export_activity_in(account, filter, now, &target, &words)?;
            times.push(began.elapsed());
            rows = done.rows;
            std::fs::remove_file(&done.path)?;
        }
        let time = median(times);
        println!("{:<34} {:>9} rows    {:>7.1} ms", format!("export ({format:?})"), rows, time.as_secs_f64() * 1000.0);
        medians.push(time);
    }
    Ok((rows, medians[0], medians[1]))
}
