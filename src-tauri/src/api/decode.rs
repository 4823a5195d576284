//! Decoders for the Unloc Partner API's answers: the bytes of a body in, typed values or
//! [`ApiError::InvalidResponse`] out. Pure functions, so that the client and the fuzz tests
//! (`tests/decoders_prop.rs`) go through the very same code.
//!
//! None of them panics, whatever the bytes: serde_json refuses nesting deeper than 128 levels
//! instead of overflowing the stack, and the models keep unknown `auth`/`action`/`state`
//! values instead of failing.
//!
//! Lists are read item by item: a lock or event that cannot be read (wrong types, no `id`, a
//! number as a name...) is skipped and counted, so one odd item never hides the rest. Only a
//! broken envelope (not JSON, no list where the list belongs) fails the whole answer.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeOwned, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;

use super::error::ApiError;
use super::models::{CreatedKey, EventList, Key, Lock, LockEvent, LockList};

/// Error details shown to people are cut to this many characters.
const MAX_DETAIL_CHARS: usize = 200;
/// The fields an error body's human text is looked for in, in this order. Unloc's v1 error
/// bodies are undocumented, so the usual names are tried.
const DETAIL_FIELDS: [&str; 5] = ["message", "detail", "error_description", "title", "error"];

/// How many reasons for skipped items one answer writes to the log.
const LOGGED_REASONS: usize = 5;

/// `GET /locks`: the wrapped `{"locks":[...]}` body or the pre-1.0 bare array.
pub fn locks(bytes: &[u8]) -> Result<LockList, ApiError> {
    locks_redacting(bytes, "")
}

/// [`locks`], with every parser detail cleaned as [`json_redacting`] does.
pub(crate) fn locks_redacting(bytes: &[u8], token: &str) -> Result<LockList, ApiError> {
    #[derive(Deserialize)]
    struct Wrapped {
        locks: Tolerant<Lock>,
    }
    let list = if first_byte(bytes) == Some(b'[') {
        json_redacting::<Tolerant<Lock>>(bytes, token)?
    } else {
        json_redacting::<Wrapped>(bytes, token)?.locks
    };
    list.log_skipped("locks", token);
    Ok(LockList { locks: list.items, skipped: list.skipped.len() })
}

/// `GET /locks/{lockId}/events`: `{"events":[...]}`.
pub fn events(bytes: &[u8]) -> Result<EventList, ApiError> {
    events_redacting(bytes, "")
}

/// [`events`], with every parser detail cleaned as [`json_redacting`] does.
pub(crate) fn events_redacting(bytes: &[u8], token: &str) -> Result<EventList, ApiError> {
    #[derive(Deserialize)]
    struct Wrapped {
        events: Tolerant<LockEvent>,
    }
    let list = json_redacting::<Wrapped>(bytes, token)?.events;
    list.log_skipped("events", token);
    Ok(EventList { events: list.items, skipped: list.skipped.len() })
}

fn first_byte(bytes: &[u8]) -> Option<u8> {
    bytes.iter().copied().find(|byte| !byte.is_ascii_whitespace())
}

/// A JSON array whose items are decoded one at a time: those that read as `T` are kept, the
/// reasons the others could not be read are collected. Each item is first taken as raw JSON
/// text (serde_json skips it without recursion, however deep), so a bad item cannot spoil its
/// neighbours.
struct Tolerant<T> {
    items: Vec<T>,
    /// Why each skipped item could not be read, in order: "item 3: missing field `id`".
    skipped: Vec<String>,
}

impl<T> Tolerant<T> {
    /// The details go to the log, cleaned like any parser detail; the UI only gets the count.
    fn log_skipped(&self, what: &str, token: &str) {
        if self.skipped.is_empty() {
            return;
        }
        let reasons: Vec<String> =
            self.skipped.iter().take(LOGGED_REASONS).map(|reason| clean(reason, token)).collect();
        log::warn!(
            "{} {what} from Unloc could not be read and are not shown: {}",
            self.skipped.len(),
            reasons.join("; ")
        );
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Tolerant<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(TolerantVisitor(PhantomData))
    }
}

struct TolerantVisitor<T>(PhantomData<T>);

impl<'de, T: DeserializeOwned> Visitor<'de> for TolerantVisitor<T> {
    type Value = Tolerant<T>;

    fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("a list")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut list =
            Tolerant { items: Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096)), skipped: Vec::new() };
        let mut index = 0usize;
        while let Some(raw) = seq.next_element::<&'de RawValue>()? {
            match serde_json::from_str::<T>(raw.get()) {
                Ok(item) => list.items.push(item),
                Err(error) => list.skipped.push(format!("item {index}: {error}")),
            }
            index += 1;
        }
        Ok(list)
    }
}

/// `GET /keys/{keyId}`.
pub fn key(bytes: &[u8]) -> Result<Key, ApiError> {
    json(bytes)
}

/// The 202 answer to `POST /keys`.
pub fn created_key(bytes: &[u8]) -> Result<CreatedKey, ApiError> {
    json(bytes)
}

/// Any JSON answer body, with the client's error mapping: every failure is
/// `InvalidResponse`, and an empty body says so in plain words.
pub(crate) fn json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    json_redacting(bytes, "")
}

/// [`json`], with the parser's detail cleaned like an error body's ([`error_detail`]): serde_json
/// quotes pieces of the body in its messages ("invalid type: string \"…\""), so the detail is
/// cut to single-line visible text of at most 200 characters and never contains `token`.
pub(crate) fn json_redacting<T: DeserializeOwned>(bytes: &[u8], token: &str) -> Result<T, ApiError> {
    serde_json::from_slice(bytes).map_err(|error| ApiError::InvalidResponse {
        detail: if bytes.is_empty() { "the answer was empty".to_owned() } else { clean(&error.to_string(), token) },
    })
}

/// The human part of an error body (4xx/5xx), if any: single-line text of at most
/// 200 characters, without control, line-separator or bidirectional-override characters, and never
/// containing `token` (a token shorter than 8 characters is not looked for: it would blank
/// out ordinary letters, and real tokens are 32+ characters).
///
/// Same rule as the client's own `error_detail`, with three hardenings: control characters are
/// removed *before* the token is looked for (so a token split by a NUL or a newline cannot slip
/// through once the NUL is dropped), bidi controls (e.g. U+202E) are dropped so a server cannot
/// make the text read backwards, and so are U+2028/U+2029, line breaks that are not control characters.
pub fn error_detail(bytes: &[u8], token: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    let text = DETAIL_FIELDS.iter().find_map(|field| value.get(field).and_then(|v| v.as_str()))?;
    let text = clean(text, token);
    (!text.trim().is_empty()).then_some(text)
}

/// Visible single-line text without `token`, at most 200 characters, no trailing white space.
fn clean(text: &str, token: &str) -> String {
    let visible: String = text.chars().filter(|&c| !is_hidden(c)).collect();
    let mut text: String = redact(visible, token).chars().take(MAX_DETAIL_CHARS).collect();
    text.truncate(text.trim_end().len());
    text
}

/// Replaces every occurrence of `token`, again until none is left: one pass can leave a new
/// occurrence where a replacement meets its neighbours. Terminates because each replacement
/// shortens the text (`[token]` is 7 bytes, the token at least 8).
fn redact(mut text: String, token: &str) -> String {
    if token.len() < 8 {
        return text;
    }
    while text.contains(token) {
        text = text.replace(token, "[token]");
    }
    text
}

/// Characters an error detail does not show: controls (line breaks, NUL, escapes), the Unicode line and
/// paragraph separators, and those that reorder the text around them (bidi embeddings, overrides,
/// isolates and marks).
fn is_hidden(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{2028}' | '\u{2029}' | '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Action, Grant, KeyState, LockList};

    use crate::api::seed_examples::{SEED_EVENTS, SEED_KEY, SEED_LOCKS};

    fn invalid_detail<T: std::fmt::Debug>(result: Result<T, ApiError>) -> String {
        match result {
            Err(ApiError::InvalidResponse { detail }) => detail,
            other => panic!("expected InvalidResponse, got {other:?}"),
        }
    }

    #[test]
    fn decodes_the_seed_locks_wrapped_and_bare() {
        let wrapped = locks(SEED_LOCKS.as_bytes()).unwrap();
        assert_eq!(wrapped.skipped, 0);
        let wrapped = wrapped.locks;
        assert_eq!(wrapped.len(), 2);
        assert_eq!(wrapped[0].id, "danalock-00:00:00:00:00:01");
        assert_eq!(wrapped[0].auth, Grant::OptOut);
        assert_eq!(wrapped[0].country_iso.as_deref(), Some("no"));
        assert_eq!(wrapped[1].street, None);
        let bare = locks(br#"[{"id":"x","name":"n","auth":"opt-in"}]"#).unwrap().locks;
        assert!(bare[0].is_opt_in());
    }

    #[test]
    fn decodes_the_seed_events() {
        let events = events(SEED_EVENTS.as_bytes()).unwrap().events;
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].action, Action::Unlocked);
        assert_eq!(events[0].key_id, "f7d5f434-e8be-4a5b-ab2f-243d68fe7e88");
        assert_eq!(events[0].created.timestamp_millis(), 1_565_183_687_350);
    }

    #[test]
    fn decodes_the_reference_key() {
        let key = key(SEED_KEY.as_bytes()).unwrap();
        assert_eq!(key.state, KeyState::Revoked);
        assert_eq!(key.lock_id, "danalock-d4:b5:8f:59:47:79");
        assert_eq!(key.events.len(), 2);
        assert_eq!(key.events[1].msn, "");
        assert!(key.end.is_some());
    }

    #[test]
    fn decodes_the_created_key() {
        let created = created_key(br#"{"id":"117ec32d-5ac3-422b-82de-cbb64540bffd"}"#).unwrap();
        assert_eq!(created.id, "117ec32d-5ac3-422b-82de-cbb64540bffd");
        assert_eq!(created.app_switch_url, None);
        let created = created_key(br#"{"id":"k","appSwitchUrl":"unloc://keys/k"}"#).unwrap();
        assert_eq!(created.app_switch_url.as_deref(), Some("unloc://keys/k"));
    }

    #[test]
    fn an_empty_answer_says_so() {
        assert_eq!(invalid_detail(locks(b"")), "the answer was empty");
        assert_eq!(invalid_detail(events(b"")), "the answer was empty");
        assert_eq!(invalid_detail(key(b"")), "the answer was empty");
        assert_eq!(invalid_detail(created_key(b"")), "the answer was empty");
    }

    #[test]
    fn a_broken_envelope_is_an_invalid_response() {
        assert!(invalid_detail(locks(br#"{"locks":{}}"#)).contains("expected a list"));
        assert!(invalid_detail(locks(br#"{"locks":null}"#)).contains("expected a list"));
        assert!(invalid_detail(locks(br#"{"lock":[]}"#)).contains("missing field `locks`"));
        assert!(invalid_detail(locks(br#"{"locks":[{"id":"x"},"#)).contains("EOF"));
        assert!(invalid_detail(events(br#"[]"#)).contains("invalid length 0"));
        assert!(invalid_detail(key(br#"{"id":"k","lockId":"l","state":"active","start":"yesterday"}"#))
            .contains("premature end of input"));
        assert!(invalid_detail(created_key(b"<html>502 Bad Gateway</html>")).contains("expected value"));
    }

    #[test]
    fn unreadable_locks_are_skipped_and_counted_and_the_rest_shown() {
        let body = br#"{"locks":[
            {"id":"a","name":"Good","auth":"opt-in"},
            {"id":"b","name":42,"auth":"opt-out"},
            {"name":"No id","auth":"opt-out"},
            {"id":"d","name":null,"auth":"opt-out"},
            {"id":4711,"name":"Number id","auth":"opt-out"},
            null, 17, "text", [],
            {"id":"e","name":"Null auth","auth":null}]}"#;
        let list = locks(body).unwrap();
        let ids: Vec<&str> = list.locks.iter().map(|lock| lock.id.as_str()).collect();
        assert_eq!(ids, ["a", "e"]);
        assert_eq!(list.skipped, 8);
        assert_eq!(list.locks[1].auth, Grant::Unknown(String::new()));
    }

    #[test]
    fn unreadable_events_are_skipped_and_counted_and_the_rest_shown() {
        let good = r#"{"id":"e1","keyId":"k","action":"locked","name":"n","msn":"","created":"2026-01-01T00:00:00Z"}"#;
        let body = format!(
            r#"{{"events":[{good},{{"keyId":"k","action":"locked","name":"n","created":"2026-01-01T00:00:00Z"}},
            {{"id":"e3","keyId":"k","action":"locked","name":"n","created":"yesterday"}},{good}]}}"#
        );
        let list = events(body.as_bytes()).unwrap();
        assert_eq!((list.events.len(), list.skipped), (2, 2));
    }

    #[test]
    fn very_deep_nesting_is_refused_or_skipped_never_a_stack_overflow() {
        let deep = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        invalid_detail(locks(deep.as_bytes()));
        // Items are skipped without recursion, however deep they go: only that item is lost.
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(locks(deep.as_bytes()).unwrap(), LockList { locks: Vec::new(), skipped: 1 });
        let deep = format!(r#"{{"events":[{{"id":{}1{}}}]}}"#, r#"[{"a":"#.repeat(50_000), "}]".repeat(50_000));
        assert_eq!(events(deep.as_bytes()).unwrap().skipped, 1);
        let deep = format!(r#"{{"events":[{{"extra":{}1{}}}]}}"#, r#"[{"a":"#.repeat(50_000), "}]".repeat(50_000));
        assert_eq!(events(deep.as_bytes()).unwrap().skipped, 1);
    }

    #[test]
    fn error_details_are_short_visible_text_without_the_token() {
        let token = "s3cret-token-value";
        assert_eq!(
            error_detail(br#"{"message":"token s3cret-token-value is wrong"}"#, token).unwrap(),
            "token [token] is wrong"
        );
        // A NUL or a newline inside the token used to survive the redaction and then be dropped.
        assert_eq!(error_detail(br#"{"detail":"s3cret-\u0000token-value"}"#, token).unwrap(), "[token]");
        assert_eq!(error_detail(br#"{"detail":"s3cret-\ntoken-value"}"#, token).unwrap(), "[token]");
        assert_eq!(error_detail("{\"title\":\"\u{202E}gnp.exe\"}".as_bytes(), token).unwrap(), "gnp.exe");
        assert_eq!(error_detail("{\"title\":\"one\u{2028}two\"}".as_bytes(), token).unwrap(), "onetwo");
        let long = format!(r#"{{"error":"{}\nline"}}"#, "x".repeat(500));
        assert_eq!(error_detail(long.as_bytes(), "t").unwrap().chars().count(), MAX_DETAIL_CHARS);
        assert_eq!(error_detail(br#"{"message":" \t "}"#, token), None);
        assert_eq!(error_detail(br#"{"message":42,"error":"boom"}"#, token).as_deref(), Some("boom"));
        assert_eq!(error_detail(b"<html>oops</html>", token), None);
    }

    #[test]
    fn parser_details_are_redacted_like_error_details() {
        let token = "s3cret-token-value";
        // A string where a number belongs: serde_json quotes the string in its message.
        let body = r#"["s3cret-token-value \u202e\n\u0007 trailing"]"#;
        let plain = invalid_detail(
            serde_json::from_slice::<Vec<u8>>(body.as_bytes())
                .map_err(|error| ApiError::InvalidResponse { detail: error.to_string() }),
        );
        assert!(plain.contains(token), "the raw message quotes the body: {plain}");
        let detail = invalid_detail(json_redacting::<Vec<u8>>(body.as_bytes(), token));
        assert!(!detail.contains(token), "{detail}");
        assert!(detail.contains("[token]"), "{detail}");
        assert!(!detail.chars().any(is_hidden), "{detail:?}");
        let long = format!("[{}]", serde_json::to_string(&"y".repeat(500)).unwrap());
        assert_eq!(invalid_detail(json::<Vec<u8>>(long.as_bytes())).chars().count(), MAX_DETAIL_CHARS);
    }

    #[test]
    fn a_token_rebuilt_by_one_replacement_pass_is_replaced_too() {
        // One pass over "xx[token]yy" leaves "x[token]y", which is the token itself.
        assert_eq!(error_detail(br#"{"message":"xx[token]yy"}"#, "x[token]y").unwrap(), "[token]");
    }
}
