//! Where the time of a user-facing step goes, for the benchmark (tests/bench) to read from a
//! release build: debug lines under one log target, off unless asked for
//! (`RUST_LOG=warn,unloc_desk::timing=debug`). Durations only: never a value the user typed.

use std::time::Duration;

/// The log target of the timing lines.
pub const TIMING: &str = "unloc_desk::timing";

/// A duration in milliseconds, for a timing line.
pub fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// When this process began its work (the first call, made first thing in `run`): the start-up's
/// timing lines count from it, so a slow step before the page exists shows which one it was.
pub fn since_launch() -> Duration {
    static LAUNCHED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
    LAUNCHED.get_or_init(std::time::Instant::now).elapsed()
}
