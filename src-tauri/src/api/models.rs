//! Typed models of the Unloc Partner API v1 responses (locks and lock events).
//!
//! Decoding is tolerant the way the reference asks: unknown fields are ignored,
//! optional fields are `Option`, and unknown `auth`/`action` values are kept verbatim
//! instead of failing the whole list. A list item that still cannot be read is skipped and
//! counted by the list decoders ([`LockList`], [`EventList`] in `decode`).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The partner's grant on a lock (`auth`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grant {
    /// The owner must approve each key in the Unloc app before it works.
    OptIn,
    /// Keys are approved automatically; the owner may revoke them later.
    OptOut,
    /// A value this client does not know yet, kept as sent; "" when `auth` was null, absent or not
    /// text. Never treated as opt-out: the UI says "Approval rule unknown".
    Unknown(String),
}

impl Grant {
    fn unstated() -> Self {
        Grant::Unknown(String::new())
    }

    pub fn as_str(&self) -> &str {
        match self {
            Grant::OptIn => "opt-in",
            Grant::OptOut => "opt-out",
            Grant::Unknown(other) => other,
        }
    }

    fn from_wire(value: String) -> Self {
        match value.as_str() {
            "opt-in" => Grant::OptIn,
            "opt-out" => Grant::OptOut,
            _ => Grant::Unknown(value),
        }
    }
}

impl Serialize for Grant {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Grant {
    /// Text as sent; anything else (null, a number...) is an unknown rule, not an unreadable lock.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Wire {
            Text(String),
            Other(serde::de::IgnoredAny),
        }
        Ok(match Wire::deserialize(deserializer)? {
            Wire::Text(text) => Grant::from_wire(text),
            Wire::Other(_) => Grant::unstated(),
        })
    }
}

/// What happened at a lock (`action`).
///
/// Shaped like `Grant` on purpose (known values, anything else kept verbatim): the two differ in
/// what a non-text value means, so each spells out its own wire rules rather than share a macro.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Locked,
    Unlocked,
    Unknown(String),
}

impl Action {
    pub fn as_str(&self) -> &str {
        match self {
            Action::Locked => "locked",
            Action::Unlocked => "unlocked",
            Action::Unknown(other) => other,
        }
    }

    /// An action as text (a stored one, or Unloc's word for it).
    pub fn from_text(value: &str) -> Self {
        Action::from_wire(value.to_owned())
    }

    fn from_wire(value: String) -> Self {
        match value.as_str() {
            "locked" => Action::Locked,
            "unlocked" => Action::Unlocked,
            _ => Action::Unknown(value),
        }
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Action::from_wire)
    }
}

/// A lock this partner may issue keys for (`GET /locks`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    pub id: String,
    pub name: String,
    /// Absent reads as unknown, like null.
    #[serde(default = "Grant::unstated")]
    pub auth: Grant,
    /// The partner's own reference (e.g. a customer number). The seed says it is
    /// always there, but only Unloc can set it, so an absent or null value is tolerated.
    #[serde(default)]
    pub data: Option<String>,
    #[serde(default)]
    pub street: Option<String>,
    #[serde(default)]
    pub postal_code: Option<String>,
    #[serde(default)]
    pub city: Option<String>,
    #[serde(default)]
    pub country_iso: Option<String>,
}

impl Lock {
    pub fn is_opt_in(&self) -> bool {
        self.auth == Grant::OptIn
    }
}

/// One use of a partner key on a lock (`GET /locks/{lockId}/events`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LockEvent {
    pub id: String,
    pub key_id: String,
    pub action: Action,
    /// A null name is read as "": one odd event must not hide a lock's whole history.
    #[serde(deserialize_with = "null_as_empty")]
    pub name: String,
    /// E.164 phone, or "" when the partner's own staff used the key through Unloc Work.
    #[serde(default, deserialize_with = "null_as_empty")]
    pub msn: String,
    #[serde(with = "millis_utc")]
    pub created: DateTime<Utc>,
}

/// A key's state as the API reports it (`GET /keys/{id}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyState {
    Creating,
    Scheduled,
    Active,
    Expired,
    Error,
    Revoked,
    Unknown(String),
}

impl KeyState {
    pub fn as_str(&self) -> &str {
        match self {
            KeyState::Creating => "creating",
            KeyState::Scheduled => "scheduled",
            KeyState::Active => "active",
            KeyState::Expired => "expired",
            KeyState::Error => "error",
            KeyState::Revoked => "revoked",
            KeyState::Unknown(other) => other,
        }
    }

    pub fn from_wire(value: &str) -> Self {
        match value {
            "creating" => KeyState::Creating,
            "scheduled" => KeyState::Scheduled,
            "active" => KeyState::Active,
            "expired" => KeyState::Expired,
            "error" => KeyState::Error,
            "revoked" => KeyState::Revoked,
            other => KeyState::Unknown(other.to_owned()),
        }
    }
}

impl Serialize for KeyState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for KeyState {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(|value| KeyState::from_wire(&value))
    }
}

/// One use of a key, as embedded in `GET /keys/{id}` (no id or keyId there).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyUse {
    pub action: Action,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub name: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    pub msn: String,
    #[serde(with = "millis_utc")]
    pub created: DateTime<Utc>,
}

/// `GET /keys/{id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Key {
    pub id: String,
    pub lock_id: String,
    pub state: KeyState,
    #[serde(with = "millis_utc")]
    pub start: DateTime<Utc>,
    /// Null or absent for a key that never expires.
    #[serde(default, with = "optional_millis_utc")]
    pub end: Option<DateTime<Utc>>,
    /// Null or absent reads as none: one odd field must not hide the key's state.
    #[serde(default, deserialize_with = "null_as_empty_list")]
    pub events: Vec<KeyUse>,
}

/// The body of `POST /keys`. `msn` is always sent, `null` meaning a key for the partner itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NewKey {
    pub lock_id: String,
    pub msn: Option<String>,
    #[serde(serialize_with = "seconds_utc")]
    pub start: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "optional_seconds_utc")]
    pub end: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// The answer to `POST /keys` (202): the new key's id.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatedKey {
    pub id: String,
    #[serde(default)]
    pub app_switch_url: Option<String>,
}

fn null_as_empty_list<'de, D: Deserializer<'de>, T: Deserialize<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

fn null_as_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<String, D::Error> {
    Ok(Option::<String>::deserialize(deserializer)?.unwrap_or_default())
}

/// Requests carry whole seconds, as in the reference's examples.
fn seconds_utc<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&value.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

fn optional_seconds_utc<S: Serializer>(value: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(moment) => seconds_utc(moment, serializer),
        None => serializer.serialize_none(),
    }
}

pub(crate) mod optional_millis_utc {
    use chrono::{DateTime, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(moment) => super::millis_utc::serialize(moment, serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(deserializer)? {
            None => Ok(None),
            Some(text) => super::millis_utc::parse(&text).map(Some).map_err(serde::de::Error::custom),
        }
    }
}

/// `GET /locks`: the locks that could be read, and how many could not (skipped, details logged).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LockList {
    pub locks: Vec<Lock>,
    pub skipped: usize,
}

/// `GET /locks/{lockId}/events`: the events that could be read, and how many could not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventList {
    pub events: Vec<LockEvent>,
    pub skipped: usize,
}

/// Timestamps go to the UI in the API's own form: RFC 3339, UTC, milliseconds.
pub(crate) mod millis_utc {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_rfc3339_opts(SecondsFormat::Millis, true))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse(&text).map_err(serde::de::Error::custom)
    }

    /// RFC 3339, and only instants whose UTC form is RFC 3339 too (years 0000–9999): anything
    /// else could be read but never written back (to the UI or the store).
    pub fn parse(text: &str) -> Result<DateTime<Utc>, String> {
        use chrono::Datelike;
        let moment = DateTime::parse_from_rfc3339(text).map_err(|error| error.to_string())?.with_timezone(&Utc);
        if (0..=9999).contains(&moment.year()) {
            Ok(moment)
        } else {
            Err(format!("timestamp out of range: {text}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::api::seed_examples::{SEED_EVENTS, SEED_LOCKS};
    #[test]
    fn decodes_the_seed_locks_with_and_without_address() {
        let locks = crate::api::decode::locks(SEED_LOCKS.as_bytes()).unwrap().locks;
        assert_eq!(locks.len(), 2);
        assert_eq!(locks[0].postal_code.as_deref(), Some("0351"));
        assert_eq!(locks[0].auth, Grant::OptOut);
        assert_eq!(locks[1].street, None);
        assert_eq!(locks[1].data.as_deref(), Some("customer-001"));
    }

    #[test]
    fn decodes_the_seed_event() {
        let body = crate::api::decode::events(SEED_EVENTS.as_bytes()).unwrap();
        let event = &body.events[0];
        assert_eq!(event.action, Action::Unlocked);
        assert_eq!(event.msn, "+19175559999");
        assert_eq!(event.created.timestamp_millis(), 1_565_183_687_350);
    }

    #[test]
    fn keeps_unknown_grant_and_action_values() {
        let lock: Lock = serde_json::from_str(r#"{"id":"x","name":"n","auth":"deny-later","data":"d"}"#).unwrap();
        assert_eq!(lock.auth, Grant::Unknown("deny-later".into()));
        assert_eq!(serde_json::to_value(&lock).unwrap()["auth"], "deny-later");
        let event: LockEvent = serde_json::from_str(
            r#"{"id":"e","keyId":"k","action":"viewedCode","name":"n","msn":"","created":"2026-01-01T00:00:00Z"}"#,
        )
        .unwrap();
        assert_eq!(event.action, Action::Unknown("viewedCode".into()));
    }

    #[test]
    fn a_null_absent_or_odd_auth_is_an_unknown_rule_never_opt_out() {
        for body in [
            r#"{"id":"x","name":"n","auth":null}"#,
            r#"{"id":"x","name":"n"}"#,
            r#"{"id":"x","name":"n","auth":42}"#,
            r#"{"id":"x","name":"n","auth":{"mode":"opt-out"}}"#,
        ] {
            let lock: Lock = serde_json::from_str(body).unwrap();
            assert_eq!(lock.auth, Grant::Unknown(String::new()), "{body}");
            assert!(!lock.is_opt_in());
            assert_ne!(lock.auth, Grant::OptOut);
        }
    }

    #[test]
    fn ignores_unknown_fields_and_tolerates_null_data() {
        let lock: Lock = serde_json::from_str(
            r#"{"id":"x","name":"n","auth":"opt-in","data":null,"lockHolder":{"a":1},"battery":3}"#,
        )
        .unwrap();
        assert!(lock.is_opt_in());
        assert_eq!(lock.data, None);
    }

    #[test]
    fn accepts_the_legacy_bare_array() {
        let locks = crate::api::decode::locks(br#"[{"id":"x","name":"n","auth":"opt-out"}]"#).unwrap().locks;
        assert_eq!(locks[0].id, "x");
    }

    #[test]
    fn rejects_an_event_without_a_timestamp() {
        let result =
            serde_json::from_str::<LockEvent>(r#"{"id":"e","keyId":"k","action":"locked","name":"n","msn":""}"#);
        assert!(result.is_err());
    }

    #[test]
    fn serializes_timestamps_with_milliseconds_in_utc() {
        let event: LockEvent = serde_json::from_str(
            r#"{"id":"e","keyId":"k","action":"locked","name":"n","msn":"","created":"2026-03-01T10:00:00+01:00"}"#,
        )
        .unwrap();
        assert_eq!(serde_json::to_value(&event).unwrap()["created"], "2026-03-01T09:00:00.000Z");
    }

    #[test]
    fn decodes_the_reference_key_with_its_uses() {
        let key: Key = serde_json::from_str(
            r#"{"id":"117ec32d-5ac3-422b-82de-cbb64540bffd","lockId":"danalock-d4:b5:8f:59:47:79","state":"revoked",
            "start":"2018-06-05T11:00:00.000Z","end":"2018-06-10T17:00:00.000Z","events":[
            {"action":"locked","created":"2018-06-05T11:36:49.235Z","msn":"+4792443609","name":"Kari Nordmann"},
            {"action":"unlocked","created":"2018-06-05T12:37:47.024Z","msn":"","name":"Partner X"}]}"#,
        )
        .unwrap();
        assert_eq!(key.state, KeyState::Revoked);
        assert_eq!(key.events.len(), 2);
        assert!(key.end.is_some());
    }

    #[test]
    fn an_open_ended_key_has_no_end_whether_null_or_absent() {
        for body in [
            r#"{"id":"k","lockId":"l","state":"active","start":"2026-01-01T00:00:00Z","end":null}"#,
            r#"{"id":"k","lockId":"l","state":"inactive","start":"2026-01-01T00:00:00Z"}"#,
        ] {
            let key: Key = serde_json::from_str(body).unwrap();
            assert_eq!(key.end, None);
            assert!(key.events.is_empty());
        }
        let key: Key =
            serde_json::from_str(r#"{"id":"k","lockId":"l","state":"inactive","start":"2026-01-01T00:00:00Z"}"#)
                .unwrap();
        assert_eq!(key.state, KeyState::Unknown("inactive".into()));
    }

    #[test]
    fn a_new_key_sends_msn_always_and_end_only_when_set() {
        let start = DateTime::parse_from_rfc3339("2026-06-01T20:30:00.250Z").unwrap().with_timezone(&Utc);
        let body =
            serde_json::to_value(NewKey { lock_id: "l".into(), msn: None, start, end: None, route: None }).unwrap();
        assert_eq!(body, serde_json::json!({"lockId":"l","msn":null,"start":"2026-06-01T20:30:00Z"}));
    }
}
