//! Shared by the simulator's own tests: how a careful client encodes a path segment, and waiting for a
//! condition without fixed sleeps. Each test file says `mod common;`.

use std::future::Future;
use std::time::{Duration, Instant};

/// Percent-encodes a path segment the way a careful client does (unreserved characters stay).
pub fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => char::from(b).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `check` until it is true or `limit` passes (no fixed sleeps).
// Not every test file waits for something.
#[allow(dead_code)]
pub async fn eventually<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let start = Instant::now();
    while start.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    false
}
