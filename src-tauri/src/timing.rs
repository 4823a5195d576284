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
