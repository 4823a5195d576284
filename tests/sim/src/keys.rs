//! Partner keys (E2 create, E3 read, E4 revoke): the request body, the clock-driven state machine, the
//! owner's decisions, simulated use, and the signed app-switch link.
//!
//! A key's reported `state` is never stored: it is computed on every read from the clock, the key's
//! `start`/`end`, the provisioning delay, the owner's approval and whether something ended the key
//! (revocation, failure). So the same inputs always give the same state, and nothing has to tick.
//!
//! Besides the keys `POST /keys` created, the store takes in the keys behind the generated event histories
//! ("history keys", see `data::HistoryKey`) the first time anything addresses one, so E3, E4 and the owner's
//! actions treat them like any other key. They stay out of [`KeyStore::list`].

use std::collections::HashMap;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize, Serializer};
use sha2::Sha256;

use crate::data::{merged, retained, truncate_to_millis, Auth, Event, HistoryKey};
use crate::http;
use crate::rng::SplitMix64;

/// Random stream of key and event ids ("KEYS").
const TAG_KEYS: u64 = 0x4B45_5953;

/// Event `name` when a key issued to a phone number is used and the admin call names nobody.
pub const DEFAULT_KEY_USER_NAME: &str = "Kari Nordmann";

/// The `state` of a key as E3 reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyState {
    /// Being provisioned with the lock vendor (and, by default, while an opt-in owner has not decided).
    Creating,
    /// Provisioned; becomes active at `start`.
    Scheduled,
    /// Usable now.
    Active,
    /// `end` has passed. Terminal.
    Expired,
    /// Something failed (here: the admin `fail` action). Terminal.
    Error,
    /// Revoked by the partner (E4) or the owner, or refused by the owner. Terminal.
    Revoked,
}

impl KeyState {
    /// The wire value, e.g. `"scheduled"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::Scheduled => "scheduled",
            Self::Active => "active",
            Self::Expired => "expired",
            Self::Error => "error",
            Self::Revoked => "revoked",
        }
    }

    /// `revoked`, `expired` and `error` never change again.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Expired | Self::Error | Self::Revoked)
    }
}

/// The owner's decision on a key. Keys on opt-out locks are approved at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Approval {
    Pending,
    Approved,
    Refused,
}

/// How E3 reports a key on an opt-in lock whose owner has not decided yet (v1 documents nothing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PendingApprovalState {
    /// `creating` until the owner approves (the reference's proposal).
    #[default]
    Creating,
    /// `scheduled`/`active` by the clock, although the key cannot be used until approved.
    ScheduledActive,
}

impl PendingApprovalState {
    /// The CLI spelling: `creating` or `scheduled-active`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Creating => "creating",
            Self::ScheduledActive => "scheduled-active",
        }
    }

    /// Parses `creating` or `scheduled-active`.
    pub fn parse(s: &str) -> Result<Self, String> {
        match s.trim() {
            "creating" => Ok(Self::Creating),
            "scheduled-active" => Ok(Self::ScheduledActive),
            other => Err(format!("unknown pending-approval state {other:?} (expected creating or scheduled-active)")),
        }
    }
}

/// A key as the simulator knows it, with the state E3 would report at the time it was read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimKey {
    pub id: String,
    pub lock_id: String,
    /// `None` for a partner key (created with `"msn": null`).
    pub msn: Option<String>,
    #[serde(serialize_with = "millis")]
    pub start: DateTime<Utc>,
    /// `None` = never expires.
    #[serde(serialize_with = "opt_millis")]
    pub end: Option<DateTime<Utc>>,
    pub route: Option<String>,
    /// When `POST /keys` created it (the provisioning delay counts from here).
    #[serde(serialize_with = "millis")]
    pub created: DateTime<Utc>,
    pub approval: Approval,
    /// The state E3 reports.
    pub state: KeyState,
    /// Whether `use` would succeed now: `active` and approved.
    pub usable: bool,
}

/// Why a key operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum KeyError {
    #[error("key not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
}

/// What the admin `use` endpoint may say about the event it adds.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize)]
#[serde(default)]
pub(crate) struct KeyUse {
    /// `unlocked` when absent.
    pub action: Option<String>,
    pub name: Option<String>,
    pub msn: Option<String>,
}

/// How keys behave (from `SimConfig`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct KeyPolicy {
    pub provisioning: Duration,
    pub pending: PendingApprovalState,
}

/// Why a key ended before (or instead of) expiring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    Revoked,
    Failed,
}

/// Where a key came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `POST /keys` on this simulator.
    Created,
    /// The key behind a generated event history, issued long before the simulator started.
    History,
}

#[derive(Debug, Clone)]
struct KeyRecord {
    id: String,
    lock_id: String,
    msn: Option<String>,
    start: DateTime<Utc>,
    end: Option<DateTime<Utc>>,
    route: Option<String>,
    created: DateTime<Utc>,
    approval: Approval,
    ended: Option<Ended>,
    origin: Origin,
}

impl KeyRecord {
    /// The state machine. Order matters: an action that ended the key wins over the clock; provisioning
    /// comes before everything the clock says; a key whose `end` has passed is `expired` even if the owner
    /// never decided (it can never be used any more).
    fn state_at(&self, now: DateTime<Utc>, policy: KeyPolicy) -> KeyState {
        match self.ended {
            Some(Ended::Failed) => return KeyState::Error,
            Some(Ended::Revoked) => return KeyState::Revoked,
            None => {}
        }
        if self.approval == Approval::Refused {
            return KeyState::Revoked;
        }
        // A provisioning delay too large for chrono means "never provisioned".
        let provisioned =
            TimeDelta::from_std(policy.provisioning).ok().and_then(|d| self.created.checked_add_signed(d));
        // History keys were provisioned long ago, whatever `--key-provisioning` says now.
        if self.origin == Origin::Created && provisioned.is_none_or(|t| now < t) {
            return KeyState::Creating;
        }
        if self.end.is_some_and(|end| now >= end) {
            return KeyState::Expired;
        }
        if self.approval == Approval::Pending && policy.pending == PendingApprovalState::Creating {
            return KeyState::Creating;
        }
        if now < self.start {
            KeyState::Scheduled
        } else {
            KeyState::Active
        }
    }

    fn view(&self, now: DateTime<Utc>, policy: KeyPolicy) -> SimKey {
        let state = self.state_at(now, policy);
        SimKey {
            id: self.id.clone(),
            lock_id: self.lock_id.clone(),
            msn: self.msn.clone(),
            start: self.start,
            end: self.end,
            route: self.route.clone(),
            created: self.created,
            approval: self.approval,
            state,
            usable: state == KeyState::Active && self.approval == Approval::Approved,
        }
    }
}

/// All keys of the partner plus the events their simulated use added. Lives behind one mutex.
pub(crate) struct KeyStore {
    policy: KeyPolicy,
    partner_name: String,
    rng: SplitMix64,
    keys: Vec<KeyRecord>,
    index: HashMap<String, usize>,
    /// Events added by `use`, per lock id, oldest first.
    used: HashMap<String, Vec<Event>>,
}

impl KeyStore {
    pub(crate) fn new(seed: u64, policy: KeyPolicy, partner_name: String) -> Self {
        Self {
            policy,
            partner_name,
            rng: SplitMix64::stream(seed, TAG_KEYS, 0),
            keys: Vec::new(),
            index: HashMap::new(),
            used: HashMap::new(),
        }
    }

    /// A fresh id from the seeded stream, distinct from every key id handed out so far.
    fn fresh_key_id(&mut self) -> String {
        loop {
            let id = self.rng.uuid_v4();
            if !self.index.contains_key(&id) {
                return id;
            }
        }
    }

    /// Stores a validated key on a lock with the given grant and returns its id.
    pub(crate) fn create(&mut self, new: NewKey, auth: Auth, now: DateTime<Utc>) -> String {
        let id = self.fresh_key_id();
        self.index.insert(id.clone(), self.keys.len());
        self.keys.push(KeyRecord {
            id: id.clone(),
            lock_id: new.lock_id,
            msn: new.msn,
            start: new.start,
            end: new.end,
            route: new.route,
            created: now,
            approval: match auth {
                Auth::OptIn => Approval::Pending,
                Auth::OptOut => Approval::Approved,
            },
            ended: None,
            origin: Origin::Created,
        });
        id
    }

    /// Whether a key with this id is in the store (created, or a history key taken in already).
    pub(crate) fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Takes in a history key (approved: it has been used), unless it is already here. From then on it is
    /// revoked, failed and used like a created key; `created` is its `start`.
    pub(crate) fn adopt(&mut self, key: &HistoryKey) {
        if self.contains(&key.id) {
            return;
        }
        self.index.insert(key.id.clone(), self.keys.len());
        self.keys.push(KeyRecord {
            id: key.id.clone(),
            lock_id: key.lock_id.clone(),
            msn: key.msn.clone(),
            start: key.start,
            end: key.end,
            route: None,
            created: key.start,
            approval: Approval::Approved,
            ended: None,
            origin: Origin::History,
        });
    }

    fn record(&self, id: &str) -> Option<&KeyRecord> {
        self.keys.get(*self.index.get(id)?)
    }

    fn record_mut(&mut self, id: &str) -> Result<&mut KeyRecord, KeyError> {
        let i = *self.index.get(id).ok_or(KeyError::NotFound)?;
        self.keys.get_mut(i).ok_or(KeyError::NotFound)
    }

    pub(crate) fn get(&self, id: &str, now: DateTime<Utc>) -> Option<SimKey> {
        Some(self.record(id)?.view(now, self.policy))
    }

    /// The keys `POST /keys` created, oldest first (history keys are not listed: there are thousands).
    pub(crate) fn list(&self, now: DateTime<Utc>) -> Vec<SimKey> {
        self.keys.iter().filter(|k| k.origin == Origin::Created).map(|k| k.view(now, self.policy)).collect()
    }

    /// The E3 body of a key, `None` if there is no such key. `generated` are the key's events in the
    /// generated history (a history key's; empty for a created key), oldest first.
    pub(crate) fn key_json(&self, id: &str, now: DateTime<Utc>, generated: &[Event]) -> Option<(String, Vec<u8>)> {
        let key = self.record(id)?;
        let lock_events = self.used.get(&key.lock_id).map(Vec::as_slice).unwrap_or_default();
        let used: Vec<Event> = retained(lock_events, now).iter().filter(|e| e.key_id == key.id).cloned().collect();
        let events = merged(retained(generated, now), &used)
            .into_iter()
            .map(|e| KeyEventBody { action: &e.action, created: e.created, msn: &e.msn, name: &e.name })
            .collect();
        let body = KeyBody {
            id: &key.id,
            lock_id: &key.lock_id,
            state: key.state_at(now, self.policy),
            start: key.start,
            end: key.end,
            events,
        };
        // Serializing strings, enums and timestamps into a Vec cannot fail.
        Some((key.lock_id.clone(), serde_json::to_vec(&body).unwrap_or_default()))
    }

    /// Applies `change` to a key that is not in a terminal state yet; a terminal key is a conflict.
    fn change(
        &mut self,
        id: &str,
        now: DateTime<Utc>,
        change: impl FnOnce(&mut KeyRecord) -> Result<(), KeyError>,
    ) -> Result<SimKey, KeyError> {
        let policy = self.policy;
        let key = self.record_mut(id)?;
        let state = key.state_at(now, policy);
        if state.is_terminal() {
            return Err(KeyError::Conflict(format!("the key is already {}", state.as_str())));
        }
        change(key)?;
        Ok(key.view(now, policy))
    }

    /// E4 (the partner) or the owner revokes a key.
    pub(crate) fn revoke(&mut self, id: &str, now: DateTime<Utc>) -> Result<SimKey, KeyError> {
        self.change(id, now, |k| {
            k.ended = Some(Ended::Revoked);
            Ok(())
        })
    }

    /// The admin `fail` action: the key ends in `error`.
    pub(crate) fn fail(&mut self, id: &str, now: DateTime<Utc>) -> Result<SimKey, KeyError> {
        self.change(id, now, |k| {
            k.ended = Some(Ended::Failed);
            Ok(())
        })
    }

    /// The owner of an opt-in lock approves (`true`) or refuses (`false`) a pending key.
    pub(crate) fn decide(&mut self, id: &str, approve: bool, now: DateTime<Utc>) -> Result<SimKey, KeyError> {
        self.change(id, now, |k| {
            if k.approval != Approval::Pending {
                let decided = match k.approval {
                    Approval::Refused => "refused",
                    _ => "approved",
                };
                return Err(KeyError::Conflict(format!("the key is not awaiting approval (already {decided})")));
            }
            k.approval = if approve { Approval::Approved } else { Approval::Refused };
            Ok(())
        })
    }

    /// Someone uses a key: adds a `locked`/`unlocked` event on its lock. Only an approved, active key can
    /// be used.
    pub(crate) fn use_key(&mut self, id: &str, usage: KeyUse, now: DateTime<Utc>) -> Result<Event, KeyError> {
        let key = self.record(id).ok_or(KeyError::NotFound)?.view(now, self.policy);
        if !key.usable {
            let why = match (key.state, key.approval) {
                (KeyState::Active, _) => "the owner has not approved it yet".to_owned(),
                (KeyState::Creating, Approval::Pending) => {
                    "it is still creating and the owner has not approved it yet".to_owned()
                }
                (state, _) => format!("it is {}", state.as_str()),
            };
            return Err(KeyError::Conflict(format!("the key cannot be used: {why}")));
        }
        let action = usage.action.filter(|a| !a.is_empty()).unwrap_or_else(|| "unlocked".to_owned());
        let (default_name, default_msn) = match &key.msn {
            Some(msn) => (DEFAULT_KEY_USER_NAME.to_owned(), msn.clone()),
            // A partner key is used through Unloc Work: no phone, the partner's name.
            None => (self.partner_name.clone(), String::new()),
        };
        let id = self.rng.uuid_v4();
        let events = self.used.entry(key.lock_id).or_default();
        // Keep the lock's added events in order even if the wall clock stepped back.
        let created = events.last().map_or(truncate_to_millis(now), |last| last.created.max(truncate_to_millis(now)));
        let event = Event {
            id,
            key_id: key.id,
            action,
            name: usage.name.unwrap_or(default_name),
            msn: usage.msn.unwrap_or(default_msn),
            created,
        };
        events.push(event.clone());
        Ok(event)
    }

    /// The events `use` added on a lock, oldest first (retention not applied).
    pub(crate) fn used_events(&self, lock_id: &str) -> &[Event] {
        self.used.get(lock_id).map(Vec::as_slice).unwrap_or_default()
    }
}

/// E3's body. Field order follows the reference's example.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct KeyBody<'a> {
    id: &'a str,
    lock_id: &'a str,
    state: KeyState,
    #[serde(serialize_with = "millis")]
    start: DateTime<Utc>,
    /// `null` for a key that never expires.
    #[serde(serialize_with = "opt_millis")]
    end: Option<DateTime<Utc>>,
    events: Vec<KeyEventBody<'a>>,
}

/// An event as embedded in E3: without `id` and `keyId`.
#[derive(Serialize)]
struct KeyEventBody<'a> {
    action: &'a str,
    #[serde(serialize_with = "millis")]
    created: DateTime<Utc>,
    msn: &'a str,
    name: &'a str,
}

fn millis<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn opt_millis<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match t {
        Some(t) => millis(t, s),
        None => s.serialize_none(),
    }
}

// ---------------------------------------------------------------------------------------------------
// POST /keys body

/// A validated `POST /keys` body (timestamps cut to whole milliseconds, as E3 prints them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NewKey {
    pub lock_id: String,
    pub msn: Option<String>,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    pub route: Option<String>,
    pub return_url: Option<String>,
}

/// Why a `POST /keys` body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum BodyError {
    /// 400: not JSON / not a form, a required field missing, a field of the wrong type.
    Malformed(String),
    /// 422: well-formed, but a value is invalid (phone number, `end` not after `start`).
    Invalid(String),
}

type Fields = serde_json::Map<String, serde_json::Value>;

/// Whether the `Content-Type` says `application/x-www-form-urlencoded`.
fn is_form(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|ct| ct.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
}

/// The body's fields: a JSON object, or a form whose values become strings (an empty value or a bare
/// name becomes `null`, which is how a form says "no value"). Anything that is not a form is read as JSON.
fn fields(content_type: Option<&str>, body: &[u8]) -> Result<Fields, BodyError> {
    if is_form(content_type) {
        let text =
            std::str::from_utf8(body).map_err(|_| BodyError::Malformed("the form body is not UTF-8".to_owned()))?;
        let mut map = Fields::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| {
                http::percent_decode(&s.replace('+', " "))
                    .ok_or_else(|| BodyError::Malformed(format!("bad percent-encoding in the form field {name:?}")))
            };
            let (name, value) = (decode(name)?, decode(value)?);
            let value = if value.is_empty() { serde_json::Value::Null } else { serde_json::Value::String(value) };
            // The first occurrence of a name wins.
            map.entry(name).or_insert(value);
        }
        return Ok(map);
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(map)) => Ok(map),
        Ok(_) => Err(BodyError::Malformed("the body must be a JSON object".to_owned())),
        Err(e) => Err(BodyError::Malformed(format!("the body is not valid JSON: {e}"))),
    }
}

/// The `lockId` of a create request, if the body has one: for the request log, even when a fault answers.
pub(crate) fn peek_lock_id(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    fields(content_type, body).ok()?.get("lockId")?.as_str().map(str::to_owned)
}

fn malformed(msg: String) -> BodyError {
    BodyError::Malformed(msg)
}

/// A string field that may be absent or `null`.
fn opt_string(map: &Fields, name: &str) -> Result<Option<String>, BodyError> {
    match map.get(name) {
        None | Some(serde_json::Value::Null) => Ok(None),
        Some(serde_json::Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(malformed(format!("{name} must be a string"))),
    }
}

fn timestamp(name: &str, s: &str) -> Result<DateTime<Utc>, BodyError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| truncate_to_millis(t.with_timezone(&Utc)))
        .map_err(|e| malformed(format!("{name} must be an RFC 3339 timestamp such as 2018-06-01T20:30:00Z ({e})")))
}

/// E.164 as the reference suggests checking it: `^\+[1-9][0-9]{6,14}$`.
pub(crate) fn is_e164(msn: &str) -> bool {
    let Some(digits) = msn.strip_prefix('+') else { return false };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// Parses and validates a `POST /keys` body: first its shape (400), then its values (422).
pub(crate) fn parse_create_body(content_type: Option<&str>, body: &[u8]) -> Result<NewKey, BodyError> {
    let map = fields(content_type, body)?;
    let lock_id = match map.get("lockId") {
        Some(serde_json::Value::String(s)) => s.clone(),
        None | Some(serde_json::Value::Null) => return Err(malformed("lockId is required".to_owned())),
        Some(_) => return Err(malformed("lockId must be a string".to_owned())),
    };
    let msn = match map.get("msn") {
        None => {
            return Err(malformed(
                "msn is required: a phone number in E.164, or null for a key of the partner itself".to_owned(),
            ))
        }
        Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(malformed("msn must be a string or null".to_owned())),
    };
    let start = match map.get("start") {
        Some(serde_json::Value::String(s)) => timestamp("start", s)?,
        None | Some(serde_json::Value::Null) => return Err(malformed("start is required".to_owned())),
        Some(_) => return Err(malformed("start must be a timestamp string".to_owned())),
    };
    let end = opt_string(&map, "end")?.map(|s| timestamp("end", &s)).transpose()?;
    let route = opt_string(&map, "route")?;
    let return_url = opt_string(&map, "returnUrl")?;
    if let Some(m) = msn.as_deref().filter(|m| !is_e164(m)) {
        return Err(BodyError::Invalid(format!("msn {m:?} is not a phone number in E.164 form such as +4790000000")));
    }
    if end.is_some_and(|end| end <= start) {
        return Err(BodyError::Invalid("end must be after start".to_owned()));
    }
    Ok(NewKey { lock_id, msn, start, end, route, return_url })
}

// ---------------------------------------------------------------------------------------------------
// App switch

/// `hex(HMAC-SHA256(secret, "id={key_id}&r={return_url}&n={partner_id}"))`, lower-case: the `s` parameter
/// of an app-switch link. Values go in raw (not percent-encoded), as in Unloc's examples.
pub fn app_switch_signature(secret: &str, key_id: &str, return_url: &str, partner_id: &str) -> String {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(format!("id={key_id}&r={return_url}&n={partner_id}").as_bytes());
    mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

/// `ai.unloc.pro://use-key?id={key_id}&r={return_url}&n={partner_id}&s={signature}`, values raw.
pub fn app_switch_url(secret: &str, key_id: &str, return_url: &str, partner_id: &str) -> String {
    let s = app_switch_signature(secret, key_id, return_url, partner_id);
    format!("ai.unloc.pro://use-key?id={key_id}&r={return_url}&n={partner_id}&s={s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    const T0: &str = "2025-03-10T12:00:00Z";

    fn policy(pending: PendingApprovalState) -> KeyPolicy {
        KeyPolicy { provisioning: Duration::from_secs(2), pending }
    }

    fn new_key(start: &str, end: Option<&str>) -> NewKey {
        NewKey {
            lock_id: "danalock-00:00:00:00:00:01".into(),
            msn: Some("+4790000000".into()),
            start: t(start),
            end: end.map(t),
            route: None,
            return_url: None,
        }
    }

    fn store(pending: PendingApprovalState) -> KeyStore {
        KeyStore::new(1, policy(pending), "Partner X".into())
    }

    #[test]
    fn app_switch_test_vector() {
        let s = app_switch_signature("secret-123", "117ec32d-5ac3-422b-82de-cbb64540bffd", "myapp://", "partner-x");
        assert_eq!(s, "ebc6e66ede297d1db0668b3564b9131fd9ec698bea3a8a84e68b011de2eee08a");
        assert_eq!(
            app_switch_url("secret-123", "117ec32d-5ac3-422b-82de-cbb64540bffd", "myapp://", "partner-x"),
            "ai.unloc.pro://use-key?id=117ec32d-5ac3-422b-82de-cbb64540bffd&r=myapp://&n=partner-x\
             &s=ebc6e66ede297d1db0668b3564b9131fd9ec698bea3a8a84e68b011de2eee08a"
        );
    }

    #[test]
    fn opt_out_key_goes_creating_scheduled_active_expired() {
        let mut s = store(PendingApprovalState::Creating);
        let id = s.create(new_key("2025-03-10T13:00:00Z", Some("2025-03-10T14:00:00Z")), Auth::OptOut, t(T0));
        let at = |s: &KeyStore, when: &str| s.get(&id, t(when)).unwrap().state;
        assert_eq!(at(&s, "2025-03-10T12:00:01Z"), KeyState::Creating);
        assert_eq!(at(&s, "2025-03-10T12:00:02Z"), KeyState::Scheduled);
        assert_eq!(at(&s, "2025-03-10T13:00:00Z"), KeyState::Active);
        assert_eq!(at(&s, "2025-03-10T13:59:59Z"), KeyState::Active);
        assert_eq!(at(&s, "2025-03-10T14:00:00Z"), KeyState::Expired);
        // Terminal: nothing changes an expired key.
        assert!(matches!(s.revoke(&id, t("2025-03-10T15:00:00Z")), Err(KeyError::Conflict(_))));
        assert!(matches!(s.fail(&id, t("2025-03-10T15:00:00Z")), Err(KeyError::Conflict(_))));
        assert_eq!(at(&s, "2025-03-10T15:00:00Z"), KeyState::Expired);
        // Already started and open-ended: straight to active after provisioning, forever.
        let open = s.create(new_key("2025-03-01T00:00:00Z", None), Auth::OptOut, t(T0));
        assert_eq!(s.get(&open, t("2025-03-10T12:00:02Z")).unwrap().state, KeyState::Active);
        assert_eq!(s.get(&open, t("2125-01-01T00:00:00Z")).unwrap().state, KeyState::Active);
    }

    #[test]
    fn opt_in_waits_for_the_owner_in_either_reporting_mode() {
        for mode in [PendingApprovalState::Creating, PendingApprovalState::ScheduledActive] {
            let mut s = store(mode);
            let id = s.create(new_key("2025-03-10T13:00:00Z", None), Auth::OptIn, t(T0));
            let pending_before_start = s.get(&id, t("2025-03-10T12:30:00Z")).unwrap();
            let pending_after_start = s.get(&id, t("2025-03-10T13:30:00Z")).unwrap();
            assert_eq!(pending_before_start.approval, Approval::Pending);
            assert!(!pending_after_start.usable);
            match mode {
                PendingApprovalState::Creating => {
                    assert_eq!(pending_before_start.state, KeyState::Creating);
                    assert_eq!(pending_after_start.state, KeyState::Creating);
                }
                PendingApprovalState::ScheduledActive => {
                    assert_eq!(pending_before_start.state, KeyState::Scheduled);
                    assert_eq!(pending_after_start.state, KeyState::Active);
                }
            }
            assert!(s.use_key(&id, KeyUse::default(), t("2025-03-10T13:30:00Z")).is_err());
            s.decide(&id, true, t("2025-03-10T13:30:00Z")).unwrap();
            let approved = s.get(&id, t("2025-03-10T13:30:00Z")).unwrap();
            assert_eq!((approved.state, approved.usable), (KeyState::Active, true));
            assert!(matches!(s.decide(&id, true, t("2025-03-10T13:31:00Z")), Err(KeyError::Conflict(_))));
            assert!(matches!(s.decide(&id, false, t("2025-03-10T13:31:00Z")), Err(KeyError::Conflict(_))));

            let refused = s.create(new_key("2025-03-10T13:00:00Z", None), Auth::OptIn, t(T0));
            s.decide(&refused, false, t("2025-03-10T12:10:00Z")).unwrap();
            let r = s.get(&refused, t("2025-03-10T13:30:00Z")).unwrap();
            assert_eq!((r.state, r.approval), (KeyState::Revoked, Approval::Refused));
        }
    }

    #[test]
    fn opt_out_keys_cannot_be_approved_and_a_passed_end_beats_pending() {
        let mut s = store(PendingApprovalState::Creating);
        let out = s.create(new_key("2025-03-10T12:00:00Z", None), Auth::OptOut, t(T0));
        assert_eq!(s.get(&out, t(T0)).unwrap().approval, Approval::Approved);
        assert!(s.decide(&out, true, t(T0)).is_err());
        let pending = s.create(new_key("2025-03-10T12:00:00Z", Some("2025-03-10T13:00:00Z")), Auth::OptIn, t(T0));
        assert_eq!(s.get(&pending, t("2025-03-10T12:59:00Z")).unwrap().state, KeyState::Creating);
        assert_eq!(s.get(&pending, t("2025-03-10T13:00:00Z")).unwrap().state, KeyState::Expired);
        assert!(s.decide(&pending, true, t("2025-03-10T13:00:00Z")).is_err());
    }

    #[test]
    fn revoke_and_fail_are_terminal() {
        let mut s = store(PendingApprovalState::Creating);
        let id = s.create(new_key("2025-03-10T12:00:00Z", Some("2025-03-10T13:00:00Z")), Auth::OptOut, t(T0));
        // Revocable while still creating.
        assert_eq!(s.revoke(&id, t("2025-03-10T12:00:01Z")).unwrap().state, KeyState::Revoked);
        assert_eq!(
            s.revoke(&id, t("2025-03-10T12:00:02Z")),
            Err(KeyError::Conflict("the key is already revoked".into()))
        );
        // Revoked stays revoked after `end` (not expired).
        assert_eq!(s.get(&id, t("2025-03-10T14:00:00Z")).unwrap().state, KeyState::Revoked);
        let failing = s.create(new_key("2025-03-10T12:00:00Z", None), Auth::OptIn, t(T0));
        assert_eq!(s.fail(&failing, t(T0)).unwrap().state, KeyState::Error);
        assert!(s.revoke(&failing, t(T0)).is_err());
        assert!(s.decide(&failing, true, t(T0)).is_err());
        assert_eq!(s.revoke("nope", t(T0)), Err(KeyError::NotFound));
        assert!(s.get("nope", t(T0)).is_none());
    }

    #[test]
    fn use_adds_events_with_defaults() {
        let mut s = store(PendingApprovalState::Creating);
        let person = s.create(new_key("2025-03-10T12:00:00Z", None), Auth::OptOut, t(T0));
        let mut partner_key = new_key("2025-03-10T12:00:00Z", None);
        partner_key.msn = None;
        let partner = s.create(partner_key, Auth::OptOut, t(T0));
        let now = t("2025-03-10T12:00:05.123456Z");
        // Not yet provisioned.
        assert!(s.use_key(&person, KeyUse::default(), t(T0)).is_err());
        let e1 = s.use_key(&person, KeyUse::default(), now).unwrap();
        assert_eq!(
            (e1.action.as_str(), e1.name.as_str(), e1.msn.as_str()),
            ("unlocked", DEFAULT_KEY_USER_NAME, "+4790000000")
        );
        assert_eq!(e1.created, t("2025-03-10T12:00:05.123Z"));
        let usage = KeyUse { action: Some("locked".into()), ..KeyUse::default() };
        let e2 = s.use_key(&partner, usage, now).unwrap();
        assert_eq!((e2.name.as_str(), e2.msn.as_str()), ("Partner X", ""));
        assert_ne!(e1.id, e2.id);
        assert_eq!(s.used_events("danalock-00:00:00:00:00:01"), [e1, e2]);
        let (lock_id, json) = s.key_json(&partner, now, &[]).unwrap();
        assert_eq!(lock_id, "danalock-00:00:00:00:00:01");
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "id": partner, "lockId": "danalock-00:00:00:00:00:01", "state": "active",
                "start": "2025-03-10T12:00:00.000Z", "end": null,
                "events": [{"action": "locked", "created": "2025-03-10T12:00:05.123Z", "msn": "", "name": "Partner X"}]
            })
        );
        assert_eq!(s.use_key("nope", KeyUse::default(), now), Err(KeyError::NotFound));
    }

    #[test]
    fn ids_are_seeded_unique_lower_case_uuids() {
        let ids = |seed| {
            let mut s = KeyStore::new(seed, policy(PendingApprovalState::Creating), "P".into());
            (0..5).map(|_| s.create(new_key(T0, None), Auth::OptOut, t(T0))).collect::<Vec<_>>()
        };
        assert_eq!(ids(1), ids(1));
        assert_ne!(ids(1), ids(2));
        for id in ids(1) {
            assert_eq!(id.len(), 36);
            assert_eq!(id, id.to_lowercase());
        }
    }

    fn json(body: &str) -> Result<NewKey, BodyError> {
        parse_create_body(Some("application/json"), body.as_bytes())
    }

    #[test]
    fn create_body_json() {
        let k = json(r#"{"lockId":"L","msn":"+4790000000","start":"2018-06-01T20:30:00Z","end":null,"x":1}"#).unwrap();
        assert_eq!(k.lock_id, "L");
        assert_eq!(k.msn.as_deref(), Some("+4790000000"));
        assert_eq!(k.start, t("2018-06-01T20:30:00Z"));
        assert_eq!(k.end, None);
        let k = json(
            r#"{"lockId":"L","msn":null,"start":"2018-06-01T22:30:00.1234+02:00","end":"2018-06-02T00:00:00Z",
                "route":"r1","returnUrl":"myapp://"}"#,
        )
        .unwrap();
        assert_eq!(k.msn, None);
        assert_eq!(k.start, t("2018-06-01T20:30:00.123Z"), "to UTC, whole milliseconds");
        assert_eq!((k.route.as_deref(), k.return_url.as_deref()), (Some("r1"), Some("myapp://")));
        // No end key at all = never expires.
        assert_eq!(json(r#"{"lockId":"L","msn":null,"start":"2018-06-01T20:30:00Z"}"#).unwrap().end, None);
    }

    #[test]
    fn create_body_errors() {
        let malformed = [
            "",
            "not json",
            "[]",
            r#"{"msn":null,"start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":7,"msn":null,"start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":4790000000,"start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":null}"#,
            r#"{"lockId":"L","msn":null,"start":"tomorrow"}"#,
            r#"{"lockId":"L","msn":null,"start":1528000000}"#,
            r#"{"lockId":"L","msn":null,"start":"2018-06-01T20:30:00Z","end":"later"}"#,
            r#"{"lockId":"L","msn":null,"start":"2018-06-01T20:30:00Z","route":1}"#,
            r#"{"lockId":"L","msn":null,"start":"2018-06-01T20:30:00Z","returnUrl":false}"#,
        ];
        for body in malformed {
            assert!(matches!(json(body), Err(BodyError::Malformed(_))), "{body}");
        }
        let invalid = [
            r#"{"lockId":"L","msn":"4790000000","start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":"+47 900 00 000","start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":"+0790000000","start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":"+12345","start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":"","start":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":null,"start":"2018-06-01T20:30:00Z","end":"2018-06-01T20:30:00Z"}"#,
            r#"{"lockId":"L","msn":null,"start":"2018-06-01T20:30:00Z","end":"2018-06-01T20:00:00Z"}"#,
        ];
        for body in invalid {
            assert!(matches!(json(body), Err(BodyError::Invalid(_))), "{body}");
        }
    }

    #[test]
    fn create_body_form() {
        let form =
            |body: &str| parse_create_body(Some("application/x-www-form-urlencoded; charset=utf-8"), body.as_bytes());
        let k = form(
            "lockId=danalock-00%3A00%3A00%3A00%3A00%3A01&msn=%2B4790000000&start=2018-06-01T20%3A30%3A00Z&route=a+b",
        )
        .unwrap();
        assert_eq!(k.lock_id, "danalock-00:00:00:00:00:01");
        assert_eq!(k.msn.as_deref(), Some("+4790000000"));
        assert_eq!(k.route.as_deref(), Some("a b"));
        // An empty value is null; a missing name is still missing.
        assert_eq!(form("lockId=L&msn=&start=2018-06-01T20:30:00Z&end=").unwrap().msn, None);
        assert_eq!(form("lockId=L&msn&start=2018-06-01T20:30:00Z").unwrap().msn, None);
        assert!(matches!(form("lockId=L&start=2018-06-01T20:30:00Z"), Err(BodyError::Malformed(_))));
        // A raw '+' is a space in a form: not a phone number.
        assert!(matches!(form("lockId=L&msn=+4790000000&start=2018-06-01T20:30:00Z"), Err(BodyError::Invalid(_))));
        assert!(matches!(form("lockId=L&msn=%zz&start=2018-06-01T20:30:00Z"), Err(BodyError::Malformed(_))));
        assert_eq!(peek_lock_id(Some("application/x-www-form-urlencoded"), b"lockId=a%2Fb").as_deref(), Some("a/b"));
        assert_eq!(peek_lock_id(None, br#"{"lockId":"x"}"#).as_deref(), Some("x"));
        assert_eq!(peek_lock_id(None, b"garbage"), None);
    }

    #[test]
    fn e164() {
        for ok in ["+4790000000", "+19175559999", "+1234567", "+123456789012345"] {
            assert!(is_e164(ok), "{ok}");
        }
        for bad in ["4790000000", "+0790000000", "+123456", "+1234567890123456", "+47 90000000", "+47900a0000", "+", ""]
        {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn pending_mode_parses() {
        assert_eq!(PendingApprovalState::parse("creating"), Ok(PendingApprovalState::Creating));
        assert_eq!(PendingApprovalState::parse("scheduled-active"), Ok(PendingApprovalState::ScheduledActive));
        assert!(PendingApprovalState::parse("active").is_err());
        assert_eq!(PendingApprovalState::default().as_str(), "creating");
    }
}
