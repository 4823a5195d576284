//! End to end: the real Unloc Desk binary under Xvfb, driven over WebDriver (tauri-driver +
//! WebKitWebDriver), against one simulator per scenario, with the real Secret Service keychain.
//!
//! Run by the README's test command (`tests/scripts/run-tests.sh`), which builds the app once, starts
//! Xvfb, a private D-Bus session and gnome-keyring, and sets UNLOC_E2E=1. Without UNLOC_E2E the
//! scenarios say they were skipped; with it, anything missing is a failure, never a skip.
//! Screenshots of each view, and of any failure, land in `tests/artifacts/`. One scenario alone:
//! `cargo build -p unloc-desk --bins && UNLOC_E2E=1 UNLOC_REAL_KEYCHAIN=1 tests/scripts/with-desktop.sh
//! cargo test -p unloc-e2e -- --test-threads=1 SCENARIO_NAME`.
//!
//! One test binary: `harness` is what every scenario stands on (starting a scenario, waits, clicks,
//! screenshots, `ensure!`, the secrets audit, each scenario's time limit); every other module is one area of the app.
//! To add a scenario, put it in its area's file as
//! `#[tokio::test(flavor = "multi_thread", worker_threads = 2)] async fn what_it_shows() -> TestResult {
//! scenario("short-name", config).run(async |client, scenario| { ... Ok(()) }).await }`.
//! To add an area: create `tests/e2e/<area>.rs` opening with a `//!` line and `use crate::harness::*;`,
//! and add `mod <area>;` below. A step two areas need goes into `harness/page.rs`.

mod harness;

mod accessibility;
mod activity;
mod activity_export;
mod budget;
mod damage;
mod export;
mod faults;
mod files;
mod injection;
mod installed;
mod keys;
mod language;
mod layout;
mod locks;
mod offline;
mod people;
mod session;
mod team;
mod team_desks;
mod time_limit;
mod updates;
