//! Property-based fuzzing of every decoder of the Unloc API's answers (`unloc_desk::api::decode`):
//! whatever a hostile or broken server sends, decoding never panics and fails only as
//! `ApiError::InvalidResponse`; well-formed documents with hostile values decode and keep what matters.
//!
//! Three kinds of input per decoder: (i) bytes (random, and seed documents cut or mutated),
//! (ii) arbitrary JSON values, with the real field names mixed in, (iii) structurally valid
//! documents with random values. Bounded so the whole file takes seconds in a debug build;
//! `UNLOC_FUZZ_CASES=20000 cargo test -p unloc-desk --test decoders_prop` runs every target
//! that many cases instead (`PROPTEST_RNG_SEED` replays a run).

use std::fmt::Debug;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, NaiveDate, SecondsFormat, Utc};
use proptest::prelude::*;
use proptest::sample::{select, Index};
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{json, Map, Number, Value};
use unloc_desk::api::{decode, Action, ApiError, Grant, KeyState};

// ---------------------------------------------------------------------------------------------
// Running
// ---------------------------------------------------------------------------------------------

/// Cases for one target: `default`, or `UNLOC_FUZZ_CASES` when set.
fn cases(default: u32) -> u32 {
    std::env::var("UNLOC_FUZZ_CASES")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .filter(|&n| n > 0)
        .unwrap_or(default)
}

const BYTES_CASES: u32 = 2000;
const VALUE_CASES: u32 = 500;
const STRUCTURED_CASES: u32 = 500;

/// Runs one fuzz target and says how many cases it ran and how long it took.
fn fuzz<S: Strategy>(
    target: &str,
    default_cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) where
    S::Value: Debug,
{
    let config = Config {
        cases: cases(default_cases),
        // Failures are printed with their shrunk input; nothing is written next to the sources.
        failure_persistence: None,
        max_shrink_time: 60_000,
        ..Config::default()
    };
    let planned = config.cases;
    let mut runner = TestRunner::new(config);
    let started = Instant::now();
    let result = runner.run(&strategy, test);
    report(target, planned, started.elapsed(), result.is_ok());
    if let Err(failure) = result {
        panic!("{target}: {failure}");
    }
}

#[allow(clippy::print_stderr)]
fn report(target: &str, cases: u32, elapsed: Duration, passed: bool) {
    let outcome = if passed { "passed" } else { "FAILED" };
    eprintln!("fuzz {target}: {outcome}, {cases} cases planned, {:.2} s", elapsed.as_secs_f64());
}

/// What every decoder may answer: a value, or `InvalidResponse` (with the plain words for an empty body).
fn ok_or_invalid<T: Debug>(bytes: &[u8], result: &Result<T, ApiError>) -> Result<(), TestCaseError> {
    match result {
        Ok(_) => Ok(()),
        Err(ApiError::InvalidResponse { detail }) => {
            prop_assert!(!detail.is_empty());
            if bytes.is_empty() {
                prop_assert_eq!(detail.as_str(), "the answer was empty");
            }
            Ok(())
        }
        Err(other) => Err(TestCaseError::fail(format!("not an InvalidResponse: {other:?}"))),
    }
}

/// Every decoder on the same bytes.
fn all_decoders(bytes: &[u8]) -> Result<(), TestCaseError> {
    ok_or_invalid(bytes, &decode::locks(bytes))?;
    ok_or_invalid(bytes, &decode::events(bytes))?;
    ok_or_invalid(bytes, &decode::key(bytes))?;
    ok_or_invalid(bytes, &decode::created_key(bytes))?;
    error_detail_is_safe(bytes, "s3cret-token-value-0123456789")
}

// ---------------------------------------------------------------------------------------------
// Hostile text
// ---------------------------------------------------------------------------------------------

const HOSTILE: &[&str] = &[
    "",
    " ",
    "\0",
    "a\0b",
    "\u{202E}",
    "\u{202E}gnp.exe",
    "\u{200F}\u{2067}\u{2069}\u{061C}",
    "\u{FEFF}",
    "\u{FFFD}",
    "\u{10FFFF}",
    "\u{1F512}\u{1F513}",
    "e\u{301}\u{302}\u{303}\u{304}",
    "Z̷̢̛a̶l̵g̸o̴",
    "𝕌𝕟𝕝𝕠𝕔",
    "Ø Æ Å ß",
    "مرحبا",
    "\"",
    "\\",
    "\\u0000",
    "\\ud800",
    "\n",
    "\r\n",
    "\t",
    "\u{0085}\u{2028}\u{2029}",
    "\u{1b}[31m",
    "</script><script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "'; DROP TABLE locks; --",
    "${jndi:ldap://x}",
    "%s%n%x",
    "../../../../etc/passwd",
    "C:\\Windows\\System32",
    "javascript:alert(1)",
    "unloc://keys/../../evil",
    "null",
    "true",
    "{}",
    "[]",
    "1e999",
    "-0",
    "NaN",
    "opt-in",
    "opt-out",
    "OPT-IN",
    " opt-in",
    "opt-in\0",
    "locked",
    "unlocked",
    "Locked",
    "creating",
    "scheduled",
    "active",
    "expired",
    "error",
    "revoked",
    "2019-08-07T13:14:47.350Z",
    "+4792443609",
];

/// Every field name any decoder looks at, and the error-body fields.
const FIELD_NAMES: &[&str] = &[
    "locks",
    "events",
    "id",
    "name",
    "auth",
    "data",
    "street",
    "postalCode",
    "city",
    "countryIso",
    "keyId",
    "action",
    "msn",
    "created",
    "lockId",
    "state",
    "start",
    "end",
    "appSwitchUrl",
    "message",
    "detail",
    "error_description",
    "title",
    "error",
    "response",
];

/// Hostile text of everyday length.
fn short_text() -> BoxedStrategy<String> {
    prop_oneof![
        4 => any::<String>(),
        2 => "[a-z0-9 :+.-]{0,24}",
        3 => select(HOSTILE).prop_map(str::to_owned),
        2 => prop::collection::vec(select(HOSTILE), 0..6).prop_map(|parts| parts.concat()),
        1 => select(FIELD_NAMES).prop_map(str::to_owned),
    ]
    .boxed()
}

/// Hostile text, now and then very long (up to 70,000 characters).
fn hostile_text() -> BoxedStrategy<String> {
    prop_oneof![
        24 => short_text(),
        1 => (select(HOSTILE), 1usize..2_000).prop_map(|(part, times)| part.repeat(times)),
        1 => (any::<char>(), 10_000usize..70_000).prop_map(|(c, times)| c.to_string().repeat(times)),
    ]
    .boxed()
}

fn key_name() -> BoxedStrategy<String> {
    prop_oneof![3 => select(FIELD_NAMES).prop_map(str::to_owned), 2 => short_text()].boxed()
}

/// A field name no decoder knows, so adding it must change nothing.
fn unknown_field() -> BoxedStrategy<String> {
    short_text().prop_map(|name| format!("x-{name}")).boxed()
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

/// An RFC 3339 timestamp as the server might write it, and the instant it means.
#[derive(Debug, Clone)]
struct Stamp {
    text: String,
    instant: DateTime<Utc>,
}

fn stamp() -> BoxedStrategy<Stamp> {
    let offset = prop_oneof![
        Just((String::from("Z"), 0i64)),
        Just((String::from("z"), 0i64)),
        Just((String::from("-00:00"), 0i64)),
        (any::<bool>(), 0i64..24, 0i64..60).prop_map(|(east, hours, minutes)| {
            let seconds = hours * 3600 + minutes * 60;
            let sign = if east { '+' } else { '-' };
            (format!("{sign}{hours:02}:{minutes:02}"), if east { seconds } else { -seconds })
        }),
    ];
    let any_date = (0i32..=9999, 1u32..=12, 1u32..=31).prop_filter_map("no such day", |(year, month, day)| {
        NaiveDate::from_ymd_opt(year, month, day).map(|_| (year, month, day))
    });
    // The first and last days of 4-digit years, where an offset can push the instant out of them.
    let date = prop_oneof![40 => any_date, 1 => Just((0, 1, 1)), 1 => Just((9999, 12, 31))];
    // 60: a leap second, which RFC 3339 allows at the end of any minute.
    let second = prop_oneof![20 => 0u32..60, 1 => Just(60u32)];
    let fraction = proptest::option::of("[0-9]{1,9}");
    (date, 0u32..24, 0u32..60, second, fraction, offset, select(&['T', 't'][..]))
        .prop_map(|((year, month, day), hour, minute, second, fraction, (offset, offset_seconds), separator)| {
            let nanos = fraction.as_deref().map_or(0, |digits| format!("{digits:0<9}").parse::<u32>().unwrap());
            let text = format!(
                "{year:04}-{month:02}-{day:02}{separator}{hour:02}:{minute:02}:{second:02}{}{offset}",
                fraction.map(|digits| format!(".{digits}")).unwrap_or_default()
            );
            // The instant worked out from Unix seconds, not by chrono's own RFC 3339 parser.
            let (second, nanos) = if second == 60 { (59, 1_000_000_000 + nanos) } else { (second, nanos) };
            let local = NaiveDate::from_ymd_opt(year, month, day)
                .unwrap()
                .and_hms_nano_opt(hour, minute, second, nanos)
                .unwrap()
                .and_utc()
                .timestamp();
            let instant = DateTime::from_timestamp(local - offset_seconds, nanos).unwrap();
            Stamp { text, instant }
        })
        .boxed()
}

/// Timestamp-like text that is often not a valid timestamp at all.
fn timestamp_text() -> BoxedStrategy<String> {
    prop_oneof![
        2 => stamp().prop_map(|stamp| stamp.text),
        1 => "[0-9]{1,6}-[0-9]{1,3}-[0-9]{1,3}[Tt ][0-9]{1,3}:[0-9]{1,3}:[0-9]{1,3}(\\.[0-9]{0,20})?([Zz]|[+-][0-9]{1,3}:[0-9]{1,3})?",
        1 => select(&[
            "2019-02-29T00:00:00Z",
            "2019-08-07T24:00:00Z",
            "2019-08-07T23:59:60.999999999+23:59",
            "9999-12-31T23:59:59.999999999-23:59",
            "0000-01-01T00:00:00+23:59",
            "+10000-01-01T00:00:00Z",
            "-0001-01-01T00:00:00Z",
            "2019-08-07T13:14:47.1234567890123Z",
            "2019-08-07T13:14:47Z\0",
            "2019-08-07 13:14:47Z",
            "1565183687350",
        ][..])
        .prop_map(str::to_owned),
    ]
    .boxed()
}

/// How the app itself writes an instant (to the UI and the local store): UTC, milliseconds.
fn millis(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The instant to the millisecond, as it comes back from the app's own output.
fn truncated_to_millis(instant: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(&millis(instant)).unwrap().with_timezone(&Utc)
}

/// Whether `millis(instant)` is RFC 3339 again (a 4-digit year in UTC). The decoders accept only
/// such instants: the others could be read but never written back (to the UI or the store).
fn writable(instant: DateTime<Utc>) -> bool {
    (0..=9999).contains(&instant.year())
}

/// A valid document whose timestamps are all writable decodes; otherwise it is refused as invalid.
fn refused_unless_writable<T: Debug>(
    result: Result<T, ApiError>,
    stamps: &[&Stamp],
) -> Result<Option<T>, TestCaseError> {
    match result {
        Ok(value) => {
            prop_assert!(stamps.iter().all(|stamp| writable(stamp.instant)), "accepted unwritable {:?}", stamps);
            Ok(Some(value))
        }
        Err(ApiError::InvalidResponse { detail }) if !stamps.iter().all(|stamp| writable(stamp.instant)) => {
            prop_assert!(detail.contains("out of range"), "{}", detail);
            Ok(None)
        }
        Err(error) => Err(TestCaseError::fail(format!("valid document refused: {error}"))),
    }
}

// ---------------------------------------------------------------------------------------------
// (i) bytes
// ---------------------------------------------------------------------------------------------

const SEEDS: &[&str] = &[
    r#"{"locks":[{"auth":"opt-out","data":"customer-001","id":"danalock-00:00:00:00:00:01","name":"Hjemme","street":"Parkveien 4","postalCode":"0351","city":"Oslo","countryIso":"no"},{"auth":"opt-out","data":"customer-001","id":"doora-00:00:00:00:00:01","name":"Hovedinngang"}]}"#,
    r#"[{"id":"x","name":"n","auth":"opt-in","data":null}]"#,
    r#"{"events":[{"id":"0001b180-09ae-473d-ad7f-a46d6895feed","keyId":"f7d5f434-e8be-4a5b-ab2f-243d68fe7e88","action":"unlocked","name":"Franz Ferdinand","msn":"+19175559999","created":"2019-08-07T13:14:47.350Z"}]}"#,
    r#"{"id":"117ec32d-5ac3-422b-82de-cbb64540bffd","lockId":"danalock-d4:b5:8f:59:47:79","state":"revoked","start":"2018-06-05T11:00:00.000Z","end":"2018-06-10T17:00:00.000Z","events":[{"action":"locked","created":"2018-06-05T11:36:49.235Z","msn":"+4792443609","name":"Kari Nordmann"}]}"#,
    r#"{"id":"k","lockId":"l","state":"inactive","start":"2026-01-01T00:00:00+01:00","end":null}"#,
    r#"{"id":"117ec32d-5ac3-422b-82de-cbb64540bffd","appSwitchUrl":"unloc://keys/117ec32d"}"#,
    r#"{"message":"token s3cret-token-value-0123456789 is wrong","error":"invalid_token"}"#,
    r#"{"response":"OK"}"#,
    r#"{"id":"a","id":"b","name":"n","auth":"opt-in"}"#,
    r#"{"locks":[{"id":"\ud800","name":"\u0000\u202e","auth":"opt-in"}]}"#,
    r#"{"locks":[],"locks":[]}"#,
    r#"{"events":[{"id":1e999,"keyId":-0,"action":12345678901234567890123,"name":true,"created":null}]}"#,
    "\u{FEFF}{\"locks\":[]}",
    " \t\r\n[] \n",
    "<html><body>502 Bad Gateway</body></html>",
    "null",
    "",
];

#[derive(Debug, Clone)]
enum Edit {
    Replace(Index, u8),
    Insert(Index, u8),
    Delete(Index),
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<Index>(), any::<u8>()).prop_map(|(at, byte)| Edit::Replace(at, byte)),
        (any::<Index>(), select(&b"{}[]\",:\\0en-\x00\xff\xc3"[..])).prop_map(|(at, byte)| Edit::Insert(at, byte)),
        any::<Index>().prop_map(Edit::Delete),
    ]
}

fn apply(mut bytes: Vec<u8>, edits: &[Edit]) -> Vec<u8> {
    for edit in edits {
        match *edit {
            Edit::Replace(ref at, byte) if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes[at] = byte;
            }
            Edit::Insert(ref at, byte) => {
                let at = at.index(bytes.len() + 1);
                bytes.insert(at, byte);
            }
            Edit::Delete(ref at) if !bytes.is_empty() => {
                let at = at.index(bytes.len());
                bytes.remove(at);
            }
            _ => {}
        }
    }
    bytes
}

fn hostile_bytes() -> BoxedStrategy<Vec<u8>> {
    let seed = || select(SEEDS).prop_map(|text| text.as_bytes().to_vec());
    prop_oneof![
        2 => prop::collection::vec(any::<u8>(), 0..512),
        1 => prop::collection::vec(select(&b"{}[]\":,0-9.eE+-tfnul \\"[..]), 0..256),
        4 => (seed(), prop::collection::vec(edit(), 1..8)).prop_map(|(bytes, edits)| apply(bytes, &edits)),
        2 => (seed(), any::<Index>()).prop_map(|(bytes, at)| {
            let cut = at.index(bytes.len() + 1);
            bytes[..cut].to_vec()
        }),
        1 => (seed(), prop::collection::vec(any::<u8>(), 1..16)).prop_map(|(mut bytes, tail)| {
            bytes.extend(tail);
            bytes
        }),
        1 => seed(),
    ]
    .boxed()
}

#[test]
fn bytes_never_panic_in_locks() {
    fuzz("locks/bytes", BYTES_CASES, hostile_bytes(), |bytes| ok_or_invalid(&bytes, &decode::locks(&bytes)));
}

#[test]
fn bytes_never_panic_in_events() {
    fuzz("events/bytes", BYTES_CASES, hostile_bytes(), |bytes| ok_or_invalid(&bytes, &decode::events(&bytes)));
}

#[test]
fn bytes_never_panic_in_key() {
    fuzz("key/bytes", BYTES_CASES, hostile_bytes(), |bytes| ok_or_invalid(&bytes, &decode::key(&bytes)));
}

#[test]
fn bytes_never_panic_in_created_key() {
    fuzz("created_key/bytes", BYTES_CASES, hostile_bytes(), |bytes| {
        ok_or_invalid(&bytes, &decode::created_key(&bytes))
    });
}

#[test]
fn bytes_never_panic_in_error_detail() {
    fuzz("error_detail/bytes", BYTES_CASES, hostile_bytes(), |bytes| {
        error_detail_is_safe(&bytes, "s3cret-token-value-0123456789")
    });
}

// ---------------------------------------------------------------------------------------------
// (ii) arbitrary JSON values
// ---------------------------------------------------------------------------------------------

/// Scalars, with everyday-length strings.
fn small_leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => any::<f64>().prop_map(|float| Number::from_f64(float).map_or(Value::Null, Value::Number)),
        4 => short_text().prop_map(Value::String),
        2 => timestamp_text().prop_map(Value::String),
    ]
    .boxed()
}

/// Scalars, now and then a very long string, array or object (thousands of entries, real field names among them).
fn json_leaf() -> BoxedStrategy<Value> {
    let long_string =
        hostile_text().prop_filter_map("long", |text| (text.len() > 1_000).then_some(Value::String(text)));
    let long_array = (small_leaf(), 1_000usize..10_000).prop_map(|(leaf, length)| Value::Array(vec![leaf; length]));
    let long_object = (prop::collection::vec(small_leaf(), 1..4), 1_000usize..5_000).prop_map(|(leaves, length)| {
        let fields = (0..length).map(|i| {
            let name = if i % 7 == 0 { FIELD_NAMES[i / 7 % FIELD_NAMES.len()].to_owned() } else { format!("f{i}") };
            (name, leaves[i % leaves.len()].clone())
        });
        Value::Object(fields.collect())
    });
    prop_oneof![60 => small_leaf(), 1 => long_string, 1 => long_array, 1 => long_object].boxed()
}

fn nested(leaf: BoxedStrategy<Value>, depth: u32, size: u32) -> BoxedStrategy<Value> {
    leaf.prop_recursive(depth, size, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
            prop::collection::vec((key_name(), inner), 0..8)
                .prop_map(|fields| Value::Object(fields.into_iter().collect())),
        ]
    })
    .boxed()
}

/// Any JSON value: nested up to 6 levels, up to about 100 nodes.
fn json_value() -> BoxedStrategy<Value> {
    nested(json_leaf(), 6, 96)
}

/// A field's value: mostly a scalar, sometimes a small structure.
fn field_value() -> BoxedStrategy<Value> {
    prop_oneof![4 => json_leaf(), 1 => nested(small_leaf(), 2, 12)].boxed()
}

/// An object carrying (most of) one model's field names with arbitrary values, plus noise.
fn shaped(fields: &'static [&'static str]) -> BoxedStrategy<Value> {
    let field = |name: &'static str| proptest::option::weighted(0.8, field_value()).prop_map(move |v| (name, v));
    let known: Vec<_> = fields.iter().map(|&name| field(name)).collect();
    (known, prop::collection::vec((key_name(), field_value()), 0..3))
        .prop_map(|(known, extra)| {
            let mut object: Map<String, Value> = extra.into_iter().collect();
            for (name, value) in known {
                if let Some(value) = value {
                    object.insert(name.to_owned(), value);
                }
            }
            Value::Object(object)
        })
        .boxed()
}

const LOCK_FIELDS: &[&str] = &["id", "name", "auth", "data", "street", "postalCode", "city", "countryIso"];
const EVENT_FIELDS: &[&str] = &["id", "keyId", "action", "name", "msn", "created"];
const KEY_FIELDS: &[&str] = &["id", "lockId", "state", "start", "end", "events"];
const KEY_USE_FIELDS: &[&str] = &["action", "name", "msn", "created"];
const CREATED_KEY_FIELDS: &[&str] = &["id", "appSwitchUrl"];

fn list_of(item: BoxedStrategy<Value>) -> BoxedStrategy<Value> {
    prop::collection::vec(item, 0..6).prop_map(Value::Array).boxed()
}

fn locks_document() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => json_value(),
        1 => json_value().prop_map(|locks| json!({ "locks": locks })),
        2 => list_of(shaped(LOCK_FIELDS)).prop_map(|locks| json!({ "locks": locks })),
        1 => list_of(shaped(LOCK_FIELDS)),
    ]
    .boxed()
}

fn events_document() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => json_value(),
        1 => json_value().prop_map(|events| json!({ "events": events })),
        2 => list_of(shaped(EVENT_FIELDS)).prop_map(|events| json!({ "events": events })),
    ]
    .boxed()
}

fn key_document() -> BoxedStrategy<Value> {
    let with_uses = (shaped(KEY_FIELDS), list_of(shaped(KEY_USE_FIELDS))).prop_map(|(mut key, uses)| {
        key["events"] = uses;
        key
    });
    prop_oneof![2 => json_value(), 2 => shaped(KEY_FIELDS), 2 => with_uses].boxed()
}

fn created_key_document() -> BoxedStrategy<Value> {
    prop_oneof![2 => json_value(), 2 => shaped(CREATED_KEY_FIELDS)].boxed()
}

fn error_document() -> BoxedStrategy<Value> {
    prop_oneof![
        2 => json_value(),
        2 => shaped(&["message", "detail", "error_description", "title", "error"]),
    ]
    .boxed()
}

#[test]
fn json_values_never_panic_in_locks() {
    fuzz("locks/json", VALUE_CASES, locks_document(), |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        ok_or_invalid(&bytes, &decode::locks(&bytes))
    });
}

#[test]
fn json_values_never_panic_in_events() {
    fuzz("events/json", VALUE_CASES, events_document(), |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        ok_or_invalid(&bytes, &decode::events(&bytes))
    });
}

#[test]
fn json_values_never_panic_in_key() {
    fuzz("key/json", VALUE_CASES, key_document(), |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        ok_or_invalid(&bytes, &decode::key(&bytes))
    });
}

#[test]
fn json_values_never_panic_in_created_key() {
    fuzz("created_key/json", VALUE_CASES, created_key_document(), |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        ok_or_invalid(&bytes, &decode::created_key(&bytes))
    });
}

#[test]
fn json_values_never_panic_in_error_detail() {
    fuzz("error_detail/json", VALUE_CASES, error_document(), |value| {
        let bytes = serde_json::to_vec(&value).unwrap();
        error_detail_is_safe(&bytes, "s3cret-token-value-0123456789")
    });
}

#[test]
fn json_values_never_panic_in_any_decoder() {
    // Each decoder also gets the others' documents (a server mixing up its answers).
    let any_document = prop_oneof![locks_document(), events_document(), key_document(), created_key_document()];
    fuzz("all/json", VALUE_CASES / 2, any_document, |value| all_decoders(&serde_json::to_vec(&value).unwrap()));
}

/// Nesting deeper than the decoder's limit is refused, never a stack overflow; and from none of these
/// documents is anything read: a key decoder refuses it, a list decoder refuses it or skips every item.
#[test]
fn deep_nesting_is_refused_or_skipped_without_overflowing_the_stack() {
    let refused = |result: Option<ApiError>| matches!(result, Some(ApiError::InvalidResponse { .. }));
    for depth in [127, 128, 129, 1_000, 100_000] {
        for (open, close) in [("[", "]"), (r#"{"locks":"#, "}"), (r#"{"events":[{"id":"#, "}]}"), (r#"{"x":"#, "}")] {
            let bytes = format!("{}null{}", open.repeat(depth), close.repeat(depth)).into_bytes();
            all_decoders(&bytes).unwrap();
            let at = format!("at depth {depth} under {open:?}");
            match decode::locks(&bytes) {
                Ok(list) => assert!(list.locks.is_empty(), "locks read {at}: {:?}", list.locks),
                Err(error) => assert!(refused(Some(error.clone())), "locks {at}: {error:?}"),
            }
            match decode::events(&bytes) {
                Ok(list) => assert!(list.events.is_empty(), "events read {at}: {:?}", list.events),
                Err(error) => assert!(refused(Some(error.clone())), "events {at}: {error:?}"),
            }
            let key = decode::key(&bytes).err();
            assert!(refused(key.clone()), "key {at}: {key:?}");
            let created = decode::created_key(&bytes).err();
            assert!(refused(created.clone()), "created key {at}: {created:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------------
// (iii) structurally valid documents with random values
// ---------------------------------------------------------------------------------------------

/// An optional field: left out, `null`, or a value.
#[derive(Debug, Clone)]
enum Field<T> {
    Absent,
    Null,
    Present(T),
}

impl<T> Field<T> {
    fn put(&self, object: &mut Value, name: &str, to_json: impl Fn(&T) -> Value) {
        match self {
            Field::Absent => {}
            Field::Null => object[name] = Value::Null,
            Field::Present(value) => object[name] = to_json(value),
        }
    }

    fn value(&self) -> Option<&T> {
        match self {
            Field::Present(value) => Some(value),
            Field::Absent | Field::Null => None,
        }
    }
}

fn field<T: Debug + Clone + 'static>(value: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Field<T>> {
    prop_oneof![1 => Just(Field::Absent), 1 => Just(Field::Null), 2 => value.prop_map(Field::Present)].boxed()
}

/// A field that may be left out but, as the models stand, not be `null`
/// (kept so the structured cases stay as they were written).
fn absent_or<T: Debug + Clone + 'static>(value: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Field<T>> {
    prop_oneof![1 => Just(Field::Absent), 2 => value.prop_map(Field::Present)].boxed()
}

fn wire_value(known: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![2 => select(known).prop_map(str::to_owned), 1 => hostile_text()].boxed()
}

fn unknown_fields() -> BoxedStrategy<Vec<(String, Value)>> {
    prop::collection::vec((unknown_field(), field_value()), 0..3).boxed()
}

fn with_unknown_fields(mut object: Value, extra: &[(String, Value)]) -> Value {
    for (name, value) in extra {
        object[name.as_str()] = value.clone();
    }
    object
}

#[derive(Debug, Clone)]
struct LockDoc {
    id: String,
    name: String,
    auth: String,
    data: Field<String>,
    street: Field<String>,
    postal_code: Field<String>,
    city: Field<String>,
    country_iso: Field<String>,
    extra: Vec<(String, Value)>,
}

impl LockDoc {
    fn to_json(&self) -> Value {
        let mut object = json!({ "id": self.id, "name": self.name, "auth": self.auth });
        let text = |text: &String| Value::String(text.clone());
        self.data.put(&mut object, "data", text);
        self.street.put(&mut object, "street", text);
        self.postal_code.put(&mut object, "postalCode", text);
        self.city.put(&mut object, "city", text);
        self.country_iso.put(&mut object, "countryIso", text);
        with_unknown_fields(object, &self.extra)
    }
}

fn lock_doc() -> impl Strategy<Value = LockDoc> {
    (
        (hostile_text(), hostile_text(), wire_value(&["opt-in", "opt-out"])),
        (
            field(hostile_text()),
            field(hostile_text()),
            field(hostile_text()),
            field(hostile_text()),
            field(hostile_text()),
        ),
        unknown_fields(),
    )
        .prop_map(|((id, name, auth), (data, street, postal_code, city, country_iso), extra)| LockDoc {
            id,
            name,
            auth,
            data,
            street,
            postal_code,
            city,
            country_iso,
            extra,
        })
}

fn expected_grant(wire: &str) -> Grant {
    match wire {
        "opt-in" => Grant::OptIn,
        "opt-out" => Grant::OptOut,
        other => Grant::Unknown(other.to_owned()),
    }
}

fn expected_action(wire: &str) -> Action {
    match wire {
        "locked" => Action::Locked,
        "unlocked" => Action::Unlocked,
        other => Action::Unknown(other.to_owned()),
    }
}

fn expected_state(wire: &str) -> KeyState {
    match wire {
        "creating" => KeyState::Creating,
        "scheduled" => KeyState::Scheduled,
        "active" => KeyState::Active,
        "expired" => KeyState::Expired,
        "error" => KeyState::Error,
        "revoked" => KeyState::Revoked,
        other => KeyState::Unknown(other.to_owned()),
    }
}

#[test]
fn valid_locks_decode_and_round_trip() {
    let strategy = (prop::collection::vec(lock_doc(), 0..5), any::<bool>(), unknown_fields());
    fuzz("locks/structured", STRUCTURED_CASES, strategy, |(docs, bare, extra)| {
        let list = Value::Array(docs.iter().map(LockDoc::to_json).collect());
        let body = if bare { list } else { with_unknown_fields(json!({ "locks": list }), &extra) };
        let list = decode::locks(&serde_json::to_vec(&body).unwrap())
            .map_err(|error| TestCaseError::fail(format!("valid locks refused: {error}")))?;
        prop_assert_eq!(list.skipped, 0);
        let locks = list.locks;
        prop_assert_eq!(locks.len(), docs.len());
        for (lock, doc) in locks.iter().zip(&docs) {
            prop_assert_eq!(&lock.id, &doc.id);
            prop_assert_eq!(&lock.name, &doc.name);
            prop_assert_eq!(lock.auth.as_str(), doc.auth.as_str());
            prop_assert_eq!(&lock.auth, &expected_grant(&doc.auth));
            prop_assert_eq!(lock.data.as_ref(), doc.data.value());
            prop_assert_eq!(lock.street.as_ref(), doc.street.value());
            prop_assert_eq!(lock.postal_code.as_ref(), doc.postal_code.value());
            prop_assert_eq!(lock.city.as_ref(), doc.city.value());
            prop_assert_eq!(lock.country_iso.as_ref(), doc.country_iso.value());
        }
        // What the app hands on (to the UI and the store) reads back the same.
        let again = decode::locks(&serde_json::to_vec(&locks).unwrap()).unwrap();
        prop_assert_eq!(again.skipped, 0);
        prop_assert_eq!(again.locks, locks);
        Ok(())
    });
}

#[derive(Debug, Clone)]
struct EventDoc {
    id: String,
    key_id: String,
    action: String,
    /// Always sent; `None` is `null`.
    name: Option<String>,
    msn: Field<String>,
    created: Stamp,
    extra: Vec<(String, Value)>,
}

impl EventDoc {
    fn to_json(&self) -> Value {
        let mut object = json!({
            "id": self.id, "keyId": self.key_id, "action": self.action, "name": self.name, "created": self.created.text,
        });
        self.msn.put(&mut object, "msn", |text| Value::String(text.clone()));
        with_unknown_fields(object, &self.extra)
    }
}

fn event_doc() -> impl Strategy<Value = EventDoc> {
    (
        (
            hostile_text(),
            hostile_text(),
            wire_value(&["locked", "unlocked"]),
            proptest::option::weighted(0.8, hostile_text()),
        ),
        field(prop_oneof![Just(String::new()), "\\+[0-9]{6,15}", hostile_text()]),
        stamp(),
        unknown_fields(),
    )
        .prop_map(|((id, key_id, action, name), msn, created, extra)| EventDoc {
            id,
            key_id,
            action,
            name,
            msn,
            created,
            extra,
        })
}

#[test]
fn valid_events_decode_and_round_trip() {
    let strategy = (prop::collection::vec(event_doc(), 0..5), unknown_fields());
    fuzz("events/structured", STRUCTURED_CASES, strategy, |(docs, extra)| {
        let body =
            with_unknown_fields(json!({ "events": docs.iter().map(EventDoc::to_json).collect::<Vec<_>>() }), &extra);
        let list = decode::events(&serde_json::to_vec(&body).unwrap())
            .map_err(|error| TestCaseError::fail(format!("valid events refused: {error}")))?;
        // An event whose time could not be written back (UI, store) is skipped and counted, not kept.
        let readable: Vec<&EventDoc> = docs.iter().filter(|doc| writable(doc.created.instant)).collect();
        prop_assert_eq!(list.skipped, docs.len() - readable.len());
        let events = list.events;
        prop_assert_eq!(events.len(), readable.len());
        for (event, doc) in events.iter().zip(readable) {
            prop_assert_eq!(&event.id, &doc.id);
            prop_assert_eq!(&event.key_id, &doc.key_id);
            prop_assert_eq!(event.action.as_str(), doc.action.as_str());
            prop_assert_eq!(&event.action, &expected_action(&doc.action));
            prop_assert_eq!(event.name.as_str(), doc.name.as_deref().unwrap_or(""));
            prop_assert_eq!(event.msn.as_str(), doc.msn.value().map_or("", String::as_str));
            prop_assert_eq!(event.created, doc.created.instant, "{}", doc.created.text);
        }
        // What the app hands on (to the UI and the store) reads back the same, to the millisecond.
        let again = decode::events(&serde_json::to_vec(&json!({ "events": events })).unwrap()).unwrap();
        prop_assert_eq!(again.skipped, 0);
        for (back, event) in again.events.iter().zip(&events) {
            prop_assert_eq!(back.created, truncated_to_millis(event.created));
            prop_assert_eq!((&back.id, &back.key_id, &back.action), (&event.id, &event.key_id, &event.action));
            prop_assert_eq!((&back.name, &back.msn), (&event.name, &event.msn));
        }
        Ok(())
    });
}

#[derive(Debug, Clone)]
struct KeyUseDoc {
    action: String,
    name: Field<String>,
    msn: Field<String>,
    created: Stamp,
}

#[derive(Debug, Clone)]
struct KeyDoc {
    id: String,
    lock_id: String,
    state: String,
    start: Stamp,
    end: Field<Stamp>,
    uses: Field<Vec<KeyUseDoc>>,
    extra: Vec<(String, Value)>,
}

impl KeyDoc {
    fn to_json(&self) -> Value {
        let mut object =
            json!({ "id": self.id, "lockId": self.lock_id, "state": self.state, "start": self.start.text });
        self.end.put(&mut object, "end", |stamp| Value::String(stamp.text.clone()));
        self.uses.put(&mut object, "events", |uses| {
            let uses = uses.iter().map(|key_use| {
                let mut object = json!({ "action": key_use.action, "created": key_use.created.text });
                key_use.name.put(&mut object, "name", |text| Value::String(text.clone()));
                key_use.msn.put(&mut object, "msn", |text| Value::String(text.clone()));
                object
            });
            Value::Array(uses.collect())
        });
        with_unknown_fields(object, &self.extra)
    }
}

fn key_doc() -> impl Strategy<Value = KeyDoc> {
    let key_use = (wire_value(&["locked", "unlocked"]), field(hostile_text()), field(hostile_text()), stamp())
        .prop_map(|(action, name, msn, created)| KeyUseDoc { action, name, msn, created });
    (
        (
            hostile_text(),
            hostile_text(),
            wire_value(&["creating", "scheduled", "active", "expired", "error", "revoked"]),
        ),
        (stamp(), field(stamp())),
        absent_or(prop::collection::vec(key_use, 0..4)),
        unknown_fields(),
    )
        .prop_map(|((id, lock_id, state), (start, end), uses, extra)| KeyDoc {
            id,
            lock_id,
            state,
            start,
            end,
            uses,
            extra,
        })
}

#[test]
fn valid_keys_decode_and_round_trip() {
    fuzz("key/structured", STRUCTURED_CASES, key_doc(), |doc| {
        let uses = doc.uses.value().map(Vec::as_slice).unwrap_or_default();
        let stamps: Vec<&Stamp> = [&doc.start]
            .into_iter()
            .chain(doc.end.value())
            .chain(uses.iter().map(|key_use| &key_use.created))
            .collect();
        let Some(key) = refused_unless_writable(decode::key(&serde_json::to_vec(&doc.to_json()).unwrap()), &stamps)?
        else {
            return Ok(());
        };
        prop_assert_eq!(&key.id, &doc.id);
        prop_assert_eq!(&key.lock_id, &doc.lock_id);
        prop_assert_eq!(key.state.as_str(), doc.state.as_str());
        prop_assert_eq!(&key.state, &expected_state(&doc.state));
        prop_assert_eq!(key.start, doc.start.instant, "{}", doc.start.text);
        prop_assert_eq!(key.end, doc.end.value().map(|stamp| stamp.instant));
        prop_assert_eq!(key.events.len(), uses.len());
        for (key_use, doc) in key.events.iter().zip(uses) {
            prop_assert_eq!(&key_use.action, &expected_action(&doc.action));
            prop_assert_eq!(key_use.name.as_str(), doc.name.value().map_or("", String::as_str));
            prop_assert_eq!(key_use.msn.as_str(), doc.msn.value().map_or("", String::as_str));
            prop_assert_eq!(key_use.created, doc.created.instant, "{}", doc.created.text);
        }
        let again = decode::key(&serde_json::to_vec(&key).unwrap()).unwrap();
        prop_assert_eq!(again.start, truncated_to_millis(key.start));
        prop_assert_eq!(again.end, key.end.map(truncated_to_millis));
        prop_assert_eq!((&again.id, &again.lock_id, &again.state), (&key.id, &key.lock_id, &key.state));
        prop_assert_eq!(again.events.len(), key.events.len());
        for (back, key_use) in again.events.iter().zip(&key.events) {
            prop_assert_eq!(back.created, truncated_to_millis(key_use.created));
            prop_assert_eq!((&back.action, &back.name, &back.msn), (&key_use.action, &key_use.name, &key_use.msn));
        }
        Ok(())
    });
}

#[test]
fn valid_created_keys_decode() {
    let strategy = (hostile_text(), field(hostile_text()), unknown_fields());
    fuzz("created_key/structured", STRUCTURED_CASES, strategy, |(id, url, extra)| {
        let mut body = json!({ "id": id });
        url.put(&mut body, "appSwitchUrl", |text| Value::String(text.clone()));
        let created = decode::created_key(&serde_json::to_vec(&with_unknown_fields(body, &extra)).unwrap())
            .map_err(|error| TestCaseError::fail(format!("valid answer refused: {error}")))?;
        prop_assert_eq!(&created.id, &id);
        prop_assert_eq!(created.app_switch_url.as_ref(), url.value());
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Error bodies
// ---------------------------------------------------------------------------------------------

/// What an error detail may look like: short, one visible line, never the token.
fn error_detail_is_safe(bytes: &[u8], token: &str) -> Result<(), TestCaseError> {
    let Some(detail) = decode::error_detail(bytes, token) else {
        return Ok(());
    };
    prop_assert!(detail.chars().count() <= 200, "too long: {}", detail.chars().count());
    prop_assert!(!detail.trim().is_empty());
    prop_assert_eq!(detail.trim_end(), detail.as_str());
    prop_assert!(!detail.chars().any(is_hidden), "control, separator or bidi character in {:?}", detail);
    if token.len() >= 8 {
        prop_assert!(!detail.contains(token), "token {:?} in {:?}", token, detail);
    }
    Ok(())
}

/// What an error detail must not show: controls, line/paragraph separators, bidi controls.
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{2028}' | '\u{2029}')
        || matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn token() -> BoxedStrategy<String> {
    prop_oneof![
        4 => "[A-Za-z0-9._~+/=-]{8,48}",
        1 => "[a-z\\[\\]]{8,12}",
        1 => Just(String::from("x[token]y")),
        1 => hostile_text().prop_filter("long enough", |text| text.len() >= 8),
        1 => "[a-z]{0,7}",
    ]
    .boxed()
}

/// An error body whose text mixes the token (whole, or split by control characters), hostile text and `[token]`.
fn error_body() -> BoxedStrategy<(String, Value)> {
    (
        token(),
        prop::collection::vec(
            (0u8..4, hostile_text(), any::<Index>(), select(&['\0', '\n', '\r', '\u{7f}', '\u{202E}', '\u{85}'][..])),
            0..6,
        ),
        select(&["message", "detail", "error_description", "title", "error"][..]),
        field_value(),
    )
        .prop_map(|(token, pieces, field, other)| {
            let mut text = String::new();
            for (kind, hostile, at, control) in pieces {
                match kind {
                    0 => text.push_str(&token),
                    1 => {
                        let mut split: Vec<char> = token.chars().collect();
                        let at = at.index(split.len() + 1);
                        split.insert(at, control);
                        text.extend(split);
                    }
                    2 => text.push_str("[token]"),
                    _ => text.push_str(&hostile),
                }
            }
            let body = json!({ field: text, "other": other });
            (token, body)
        })
        .boxed()
}

#[test]
fn error_details_never_show_the_token_or_hostile_characters() {
    fuzz("error_detail/structured", STRUCTURED_CASES, error_body(), |(token, body)| {
        let bytes = serde_json::to_vec(&body).unwrap();
        error_detail_is_safe(&bytes, &token)?;
        // When the chosen field shows something within its first 200 visible characters, there is a
        // detail (redaction only shortens: `[token]` is shorter than any token it replaces).
        let (_, text) = body.as_object().unwrap().iter().find(|(name, _)| *name != "other").unwrap();
        let mut visible = text.as_str().unwrap().chars().filter(|&c| !is_hidden(c));
        if visible.by_ref().take(200).any(|c| !c.is_whitespace()) {
            prop_assert!(decode::error_detail(&bytes, &token).is_some());
        }
        Ok(())
    });
}

// ---------------------------------------------------------------------------------------------
// Bugs this fuzzing found in models.rs, fixed there; these keep them fixed.
// ---------------------------------------------------------------------------------------------

/// `LockEvent::msn` (and `KeyUse::name`/`msn`) are `#[serde(default)] String`: an explicit `null`
/// fails the whole answer, so one odd event hides a lock's entire history.
#[test]
fn a_null_msn_or_name_does_not_fail_the_whole_history() {
    let events = decode::events(
        br#"{"events":[{"id":"e","keyId":"k","action":"locked","name":"n","msn":null,"created":"2026-01-01T00:00:00Z"}]}"#,
    );
    assert_eq!(events.unwrap().events[0].msn, "");
    let key = decode::key(
        br#"{"id":"k","lockId":"l","state":"active","start":"2026-01-01T00:00:00Z",
            "events":[{"action":"locked","name":null,"msn":null,"created":"2026-01-01T00:00:00Z"}]}"#,
    );
    assert_eq!(key.unwrap().events[0].name, "");
}

/// A valid timestamp near the ends of the 4-digit years decodes to an instant whose UTC form
/// is not RFC 3339 any more (`+10000-…`, `-0001-…`): what the app writes out (UI, store) cannot be read back.
#[test]
fn an_instant_beyond_year_9999_in_utc_is_refused_rather_than_kept_unwritable() {
    for created in ["9999-12-31T23:59:59-01:00", "0000-01-01T00:00:00+01:00"] {
        let body =
            format!(r#"{{"events":[{{"id":"e","keyId":"k","action":"locked","name":"n","created":"{created}"}}]}}"#);
        // Skipped (and counted) now that one odd event no longer fails the whole history.
        let list = decode::events(body.as_bytes()).unwrap();
        assert_eq!((list.events.len(), list.skipped), (0, 1), "{created}");
    }
}

/// An explicit `"events": null` used to fail the whole `GET /keys/{id}` answer (fixed in models.rs).
#[test]
fn a_null_events_list_does_not_fail_the_whole_key() {
    let key = decode::key(br#"{"id":"k","lockId":"l","state":"active","start":"2026-01-01T00:00:00Z","events":null}"#);
    assert!(key.unwrap().events.is_empty());
}
