//! Injection payloads for the "hostile world" tests (`SimConfig::payloads`, CLI `--payloads`).
//!
//! With payloads on, the locks right after the fixtures (indices [`FIXTURE_COUNT`]`..`, one per payload)
//! carry payload `i` as their `name`, `street`, `city` and `data`, and as the `name` of every person in
//! their events; on odd `i` the people's `msn` is `"+47"` followed by the payload (not E.164 on purpose).
//! Their ids stay the ordinary generated ids: find them with `Simulator::payload_locks`.
//!
//! Every payload that would execute if injected sets `window.__pwned` (the canary); the UI must show all
//! of them as plain text.
//!
//! [`FIXTURE_COUNT`]: crate::fixtures::FIXTURE_COUNT

use crate::fixtures::FIXTURE_COUNT;

/// The JavaScript global a successful injection sets.
pub const CANARY: &str = "window.__pwned";

/// Ten times a string literal, as a literal.
macro_rules! ten {
    ($s:expr) => {
        concat!($s, $s, $s, $s, $s, $s, $s, $s, $s, $s)
    };
}

/// 2,000 characters (and bytes) of "Langtnavn" repeated: 222 times and "La".
pub const LONG: &str = concat!(
    ten!(ten!("Langtnavn")),
    ten!(ten!("Langtnavn")),
    ten!("Langtnavn"),
    ten!("Langtnavn"),
    "Langtnavn",
    "Langtnavn",
    "La"
);

/// (short name, payload).
pub const PAYLOADS: &[(&str, &str)] = &[
    ("script-tag", "<script>window.__pwned=1</script>"),
    ("img-onerror", r#"<img src=x onerror="window.__pwned=1">"#),
    ("svg-onload", r#"<svg onload="window.__pwned=1">"#),
    ("attribute-breaker", r#"" onmouseover="window.__pwned=1" x=""#),
    ("javascript-url", "javascript:window.__pwned=1"),
    ("javascript-link", r#"<a href="javascript:window.__pwned=1">klikk</a>"#),
    ("markup-breaker", "</td></tr></table><style>*{display:none}</style>"),
    ("rtl-override", "\u{202E}kcol\u{202C} Bakdør"),
    ("long", LONG),
    ("emoji-combining", "🔑🚪 Å̈̈̈ n̶o̶r̶d̶"),
    ("null-byte", "Bod\u{0000}12"),
    ("html-entity", "&lt;b&gt;&amp;amp;"),
    ("template-breaker", "${window.__pwned=1}{{7*7}}"),
];

/// Payload `i`'s text (`PAYLOADS[i].1`); `None` past the end.
pub fn payload(i: usize) -> Option<&'static str> {
    PAYLOADS.get(i).map(|p| p.1)
}

/// Index (in `GET /locks`) of the lock carrying payload `i`.
pub const fn lock_index(i: usize) -> usize {
    FIXTURE_COUNT + i
}

/// The `msn` of the people in the events of the lock carrying payload `i`: `"+47"` + payload on odd `i`
/// (not a phone number: must be shown as text), `None` (an ordinary +47 number) on even `i`.
pub fn hostile_msn(i: usize) -> Option<String> {
    (i % 2 == 1).then(|| format!("+47{}", payload(i).unwrap_or_default()))
}
