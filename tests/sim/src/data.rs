//! The simulated dataset: the fixed fixture locks, generated Norwegian-looking locks, and their events.
//!
//! Everything is a pure function of the seed, the sizes, the partner name and the anchor instant, so the
//! same configuration always serves the same data. Locks are generated up front (cheap even at 10,000);
//! a lock's events are generated on demand from (seed, lock index) and memoized, so a large dataset never
//! holds millions of events in memory.
//!
//! Every `keyId` in a generated history is a real key of the simulator (a "history key"): its id encodes
//! (lock index, holder) through a keyed bijection, so `GET /keys/{id}` decodes it and rebuilds the key
//! from (seed, lock index) on demand instead of keeping an index of every key of 10,000 locks.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde::{Deserialize, Serialize, Serializer};

use crate::fixtures as fx;
use crate::payloads;
use crate::rng::{feistel62, format_uuid_v4, mix48, mix64, unfeistel62, SplitMix64};

/// Events older than this are never served: Unloc deletes them after "2 months" (GDPR); v2 says 60 days.
pub const RETENTION_DAYS: i64 = 60;
/// Sample events are spread over this many days before the anchor, safely inside the retention.
pub const SPREAD_DAYS: i64 = 59;

/// A lock's `auth` value: this partner's grant on the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Auth {
    /// The owner must approve each key the partner creates.
    #[serde(rename = "opt-in")]
    OptIn,
    /// Keys are approved automatically; the owner may revoke them later.
    #[serde(rename = "opt-out")]
    OptOut,
}

impl Auth {
    /// The wire value, `"opt-in"` or `"opt-out"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OptIn => "opt-in",
            Self::OptOut => "opt-out",
        }
    }
}

/// One element of `GET /locks`. Field order follows the seed document's example; the four address keys
/// are omitted from the JSON (not `null`) when the lock has no address, as in the seed's second example.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lock {
    pub auth: Auth,
    pub data: String,
    pub id: String,
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub street: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postal_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub city: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_iso: Option<String>,
}

/// One element of `GET /locks/{lockId}/events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: String,
    pub key_id: String,
    /// `"locked"` or `"unlocked"`.
    pub action: String,
    /// The person, or the partner's display name for the partner's own use through Unloc Work.
    pub name: String,
    /// E.164 phone number, or `""` for the partner's own use.
    pub msn: String,
    /// Always whole milliseconds; serialized as RFC 3339 UTC with exactly three decimals.
    #[serde(serialize_with = "serialize_millis")]
    pub created: DateTime<Utc>,
}

/// The body of `GET /locks`: `{"locks":[...]}` (the wrapped object, never a bare array).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LocksBody {
    pub locks: Vec<Lock>,
}

/// The body of `GET /locks/{lockId}/events`: `{"events":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventsBody {
    pub events: Vec<Event>,
}

/// Borrowing twin of [`EventsBody`], so serving 100,000 events does not clone them first.
#[derive(Serialize)]
struct EventsBodyRef<'a> {
    events: Vec<&'a Event>,
}

/// Chrono's own `Serialize` drops the fraction when it is zero; the API always prints milliseconds.
fn serialize_millis<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&t.to_rfc3339_opts(SecondsFormat::Millis, true))
}

/// What the dataset is generated from (the data-related part of `SimConfig`).
#[derive(Debug, Clone)]
pub(crate) struct DataSpec {
    pub seed: u64,
    pub locks: usize,
    pub events_per_lock: usize,
    pub busy_lock_events: usize,
    /// Distinct keys in the busy lock's history when above one (see `SimConfig::busy_lock_keys`).
    pub busy_lock_keys: usize,
    pub partner_name: String,
    /// Injection payloads on the locks after the fixtures (see `crate::payloads`).
    pub payloads: bool,
    /// The hostile fixture keeps its hostile texts (off: plain sample texts, for the demo).
    pub hostile_lock: bool,
    /// Sample events lie in the `SPREAD_DAYS` days before this instant (whole milliseconds).
    pub anchor: DateTime<Utc>,
}

/// Memoized events are dropped wholesale past this many locks, bounding memory for huge datasets.
const EVENT_CACHE_LOCKS: usize = 512;

pub(crate) struct Dataset {
    spec: DataSpec,
    locks: Vec<Lock>,
    index: HashMap<String, usize>,
    events_cache: Mutex<HashMap<usize, Arc<Vec<Event>>>>,
    /// `GET /locks` never changes, so its body is serialized once.
    locks_json: Vec<u8>,
}

impl Dataset {
    pub(crate) fn new(mut spec: DataSpec) -> Self {
        spec.anchor = truncate_to_millis(spec.anchor);
        if spec.payloads {
            // Every payload gets its lock, whatever `--locks` says.
            spec.locks = spec.locks.max(payloads::lock_index(payloads::PAYLOADS.len()));
        }
        let (payloads, hostile) = (spec.payloads, spec.hostile_lock);
        let locks: Vec<Lock> = (0..spec.locks).map(|i| make_lock(spec.seed, i, payloads, hostile)).collect();
        let index = locks.iter().enumerate().map(|(i, l)| (l.id.clone(), i)).collect();
        let locks_json = serde_json::to_vec(&LocksBody { locks: locks.clone() })
            // Serializing plain strings and enums into a Vec cannot fail.
            .unwrap_or_default();
        Self { spec, locks, index, events_cache: Mutex::new(HashMap::new()), locks_json }
    }

    pub(crate) fn locks(&self) -> &[Lock] {
        &self.locks
    }

    pub(crate) fn locks_json(&self) -> &[u8] {
        &self.locks_json
    }

    pub(crate) fn anchor(&self) -> DateTime<Utc> {
        self.spec.anchor
    }

    /// The lock with this id, if it is in the dataset.
    pub(crate) fn lock(&self, lock_id: &str) -> Option<&Lock> {
        self.locks.get(*self.index.get(lock_id)?)
    }

    /// Whether key creation on this lock fails because its holder's vendor connection is in error.
    pub(crate) fn vendor_broken(&self, lock_id: &str) -> bool {
        lock_id == fx::BROKEN_VENDOR_LOCK_ID && self.index.contains_key(lock_id)
    }

    /// All generated events of a lock (oldest first), before the retention filter; `None` for an unknown
    /// lock id.
    pub(crate) fn all_events(&self, lock_id: &str) -> Option<Arc<Vec<Event>>> {
        let idx = *self.index.get(lock_id)?;
        // A poisoned cache only means another request panicked mid-insert; the map is still valid.
        let mut cache = self.events_cache.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(ev) = cache.get(&idx) {
            return Some(Arc::clone(ev));
        }
        let events = Arc::new(self.generate_events(idx));
        if cache.len() >= EVENT_CACHE_LOCKS {
            cache.clear();
        }
        cache.insert(idx, Arc::clone(&events));
        Some(events)
    }

    /// The events the API returns at `now`: the generated ones merged with `added` (both sorted oldest
    /// first; the events simulated key use added), none older than `RETENTION_DAYS`, none in the future.
    pub(crate) fn served_events(&self, lock_id: &str, now: DateTime<Utc>, added: &[Event]) -> Option<Vec<Event>> {
        let all = self.all_events(lock_id)?;
        Some(merged(retained(&all, now), retained(added, now)).into_iter().cloned().collect())
    }

    /// The serialized body of `GET /locks/{lock_id}/events` at `now` (see [`Dataset::served_events`]).
    pub(crate) fn events_json(&self, lock_id: &str, now: DateTime<Utc>, added: &[Event]) -> Option<Vec<u8>> {
        let all = self.all_events(lock_id)?;
        let body = EventsBodyRef { events: merged(retained(&all, now), retained(added, now)) };
        // Serializing strings and timestamps into a Vec cannot fail.
        Some(serde_json::to_vec(&body).unwrap_or_default())
    }

    fn event_count(&self, idx: usize) -> usize {
        match self.locks.get(idx).map(|l| l.id.as_str()) {
            Some(fx::EMPTY_EVENTS_LOCK_ID) => 0,
            Some(fx::BUSY_LOCK_ID) if self.spec.busy_lock_events > 0 => self.spec.busy_lock_events,
            _ => self.spec.events_per_lock,
        }
    }

    fn generate_events(&self, idx: usize) -> Vec<Event> {
        let people = self.people_kind(idx);
        let holders = (people, self.people_count(idx));
        generate_events(self.spec.seed, idx, self.event_count(idx), &self.spec.partner_name, self.spec.anchor, holders)
    }

    /// How many people hold keys to lock `idx` when that is set (the busy lock with `busy_lock_keys`),
    /// else drawn from the seed.
    fn people_count(&self, idx: usize) -> Option<usize> {
        let busy = self.locks.get(idx).map(|l| l.id.as_str()) == Some(fx::BUSY_LOCK_ID);
        (busy && self.spec.busy_lock_events > 0 && self.spec.busy_lock_keys > 1).then(|| self.spec.busy_lock_keys - 1)
    }

    /// Whose names the people holding keys to lock `idx` have.
    fn people_kind(&self, idx: usize) -> People {
        if self.spec.hostile_lock && self.locks.get(idx).map(|l| l.id.as_str()) == Some(fx::HOSTILE_LOCK_ID) {
            People::Hostile
        } else if let Some(i) = self.payload_of(idx) {
            People::Payload(i)
        } else {
            People::Normal
        }
    }

    /// The payload index carried by lock `idx`, when payloads are on and it carries one.
    fn payload_of(&self, idx: usize) -> Option<usize> {
        payload_of(self.spec.payloads, idx)
    }

    /// (payload short name, lock id) of the payload locks, in order; empty when payloads are off.
    pub(crate) fn payload_locks(&self) -> Vec<(&'static str, String)> {
        (0..self.locks.len())
            .filter_map(|idx| Some((payloads::PAYLOADS[self.payload_of(idx)?].0, self.locks[idx].id.clone())))
            .collect()
    }
}

/// A key behind the generated history of a lock, rebuilt on demand (see [`Dataset::history_key`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct HistoryKey {
    pub id: String,
    pub lock_id: String,
    /// The person's phone, `None` for the partner's own key (used through Unloc Work).
    pub msn: Option<String>,
    /// Some days before the key's first event.
    pub start: DateTime<Utc>,
    /// `None` (never expires), after its last event but before the anchor (so `expired` when the anchor is
    /// now), or weeks after the anchor (`active`).
    pub end: Option<DateTime<Utc>>,
    /// The key's events in the lock's generated history, oldest first, before the retention filter.
    pub events: Vec<Event>,
}

impl Dataset {
    /// The history key with this id, if `key_id` is one: decodes (lock index, holder) from the id, rebuilds
    /// that lock's key holders from the seed and checks the id is really theirs, then derives the key's
    /// validity from its events. Cheap for ids that are not history keys (no events are generated then).
    pub(crate) fn history_key(&self, key_id: &str) -> Option<HistoryKey> {
        let (idx, slot) = decode_history_key_id(self.spec.seed, key_id)?;
        let lock = self.locks.get(idx)?;
        let holders = self.key_holders(idx);
        let holder = match slot {
            PARTNER_SLOT => Some(&holders.partner),
            slot if slot < PARTNER_SLOT => holders.people.get(slot as usize),
            slot => holders.people.get(slot as usize - 1),
        }?;
        if holder.key_id != key_id {
            return None;
        }
        let events: Vec<Event> = self.all_events(&lock.id)?.iter().filter(|e| e.key_id == key_id).cloned().collect();
        // A holder who never used the lock has no key: nothing ever referenced its id.
        let (first, last) = (events.first()?.created, events.last()?.created);
        let (start, end) = key_terms(self.spec.seed, idx, slot, first, last, self.spec.anchor);
        Some(HistoryKey {
            id: holder.key_id.clone(),
            lock_id: lock.id.clone(),
            msn: (!holder.msn.is_empty()).then(|| holder.msn.clone()),
            start,
            end,
            events,
        })
    }

    fn key_holders(&self, idx: usize) -> KeyHolders {
        let mut rng = SplitMix64::stream(self.spec.seed, TAG_EVENTS, idx as u64);
        let people = (self.people_kind(idx), self.people_count(idx));
        key_holders(&mut rng, self.spec.seed, idx, &self.spec.partner_name, people)
    }
}

/// Two lists sorted oldest first, merged into one (on equal times `a` comes first).
pub(crate) fn merged<'a>(a: &'a [Event], b: &'a [Event]) -> Vec<&'a Event> {
    if b.is_empty() {
        return a.iter().collect();
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.iter().peekable(), b.iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        // `peek` just returned Some, so `next` does too.
        out.extend(if y.created < x.created { b.next() } else { a.next() });
    }
    out.extend(a);
    out.extend(b);
    out
}

/// The slice of `events` (sorted oldest first) that is inside the retention window at `now`.
pub(crate) fn retained(events: &[Event], now: DateTime<Utc>) -> &[Event] {
    let cutoff = now - TimeDelta::days(RETENTION_DAYS);
    let start = events.partition_point(|e| e.created < cutoff);
    let end = events.partition_point(|e| e.created <= now);
    events.get(start..end.max(start)).unwrap_or_default()
}

pub(crate) fn truncate_to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(t.timestamp_millis()).unwrap_or(t)
}

// ---------------------------------------------------------------------------------------------------
// Generation

/// Stream tags keep the random streams of different purposes independent.
const TAG_LOCK: u64 = 0x4C4F_434B; // "LOCK"
const TAG_EVENTS: u64 = 0x4556_4E54; // "EVNT"
const TAG_TOKEN: u64 = 0x544F_4B4E; // "TOKN"
const TAG_HMAC: u64 = 0x484D_4143; // "HMAC"
const TAG_KEY_IDS: u64 = 0x4B49_4453; // "KIDS": keys the bijection inside history key ids
const TAG_KEY_TERMS: u64 = 0x5445_524D; // "TERM": start and end of history keys

/// The holder slot of the partner's own key in a history key id (people are slots 0..=3).
const PARTNER_SLOT: u64 = 7;
/// Bits of a history key id's payload that hold the holder slot; the lock index is above them.
const SLOT_BITS: u32 = 3;
const MASK62: u64 = (1 << 62) - 1;
/// Marks a wide payload: a busy lock's many holders (person `p` from 7 on is slot `p + 1`), with the
/// lock index above `WIDE_SLOT_BITS`.
const WIDE: u64 = 1 << 61;
const WIDE_SLOT_BITS: u32 = 24;

const STREETS: &[&str] = &[
    "Storgata",
    "Kirkegata",
    "Parkveien",
    "Skolegata",
    "Strandgata",
    "Kongens gate",
    "Dronningens gate",
    "Torggata",
    "Markveien",
    "Thereses gate",
    "Bogstadveien",
    "Møllergata",
    "Prinsens gate",
    "Nordre gate",
    "Olav Tryggvasons gate",
    "Sjøgata",
    "Havnegata",
    "Fjellveien",
    "Bjørnstjerne Bjørnsons gate",
    "Løkkeveien",
    "Elvegata",
    "Åsveien",
    "Kirkeveien",
    "Jernbanegata",
];

/// (city, postal codes used there). Oslo appears twice to weigh it like the real market.
const CITIES: &[(&str, &[&str])] = &[
    (
        "Oslo",
        &[
            "0150", "0154", "0167", "0182", "0254", "0351", "0457", "0556", "0661", "0763", "0871", "0960", "1053",
            "1169",
        ],
    ),
    ("Oslo", &["0159", "0170", "0260", "0358", "0462", "0560"]),
    ("Bergen", &["5003", "5006", "5013", "5035", "5055", "5089", "5141"]),
    ("Trondheim", &["7010", "7011", "7030", "7042", "7067"]),
    ("Stavanger", &["4005", "4006", "4010", "4014", "4021"]),
    ("Tromsø", &["9008", "9010", "9019", "9024"]),
    ("Drammen", &["3015", "3019", "3024", "3040"]),
    ("Kristiansand", &["4608", "4610", "4614", "4631"]),
    ("Bodø", &["8003", "8006", "8008", "8012"]),
    ("Fredrikstad", &["1606", "1607", "1614"]),
    ("Ålesund", &["6002", "6003", "6005"]),
    ("Lillehammer", &["2609", "2615"]),
    ("Hamar", &["2317", "2318"]),
];

const FIRST_NAMES: &[&str] = &[
    "Kari", "Ola", "Ingrid", "Lars", "Anne", "Per", "Marit", "Jan", "Nora", "Emil", "Sofie", "Jonas", "Ida", "Magnus",
    "Thea", "Henrik", "Sigrid", "Kristian", "Hanne", "Mohammed", "Aisha", "Trond", "Silje", "Bjørn", "Åse", "Øystein",
    "Liv", "Håkon", "Maja", "Sander",
];

const LAST_NAMES: &[&str] = &[
    "Nordmann",
    "Hansen",
    "Johansen",
    "Olsen",
    "Larsen",
    "Andersen",
    "Pedersen",
    "Nilsen",
    "Kristiansen",
    "Jensen",
    "Karlsen",
    "Johnsen",
    "Pettersen",
    "Eriksen",
    "Berg",
    "Haugen",
    "Hagen",
    "Johannessen",
    "Andreassen",
    "Jacobsen",
    "Dahl",
    "Jørgensen",
    "Halvorsen",
    "Henriksen",
    "Lund",
    "Sørensen",
    "Strand",
    "Solberg",
    "Moen",
    "Bakken",
    "Ali",
    "Nguyen",
];

const LETTERS: &[&str] = &["A", "B", "C", "D", "E", "F"];

/// The default API token for a seed: 32 alphanumerics, like the reference's example key.
pub fn default_token(seed: u64) -> String {
    alphanumerics(seed, TAG_TOKEN, 32)
}

/// The default HMAC secret (signs app-switch links) for a seed: 40 alphanumerics, unrelated to the token.
pub fn default_hmac_secret(seed: u64) -> String {
    alphanumerics(seed, TAG_HMAC, 40)
}

fn alphanumerics(seed: u64, tag: u64, len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = SplitMix64::stream(seed, tag, 0);
    (0..len).map(|_| char::from(*rng.pick(ALPHABET))).collect()
}

fn fixture_lock(i: usize) -> Option<Lock> {
    fn lock(id: &str, name: &str, auth: Auth, data: &str, address: Option<(&str, &str, &str)>) -> Lock {
        Lock {
            auth,
            data: data.to_owned(),
            id: id.to_owned(),
            name: name.to_owned(),
            street: address.map(|a| a.0.to_owned()),
            postal_code: address.map(|a| a.1.to_owned()),
            city: address.map(|a| a.2.to_owned()),
            country_iso: address.map(|_| "no".to_owned()),
        }
    }
    use Auth::{OptIn, OptOut};
    let l = match i {
        0 => lock(fx::HJEMME_LOCK_ID, fx::HJEMME_NAME, OptOut, "customer-001", Some(("Parkveien 4", "0351", "Oslo"))),
        1 => lock(fx::HOVEDINNGANG_LOCK_ID, fx::HOVEDINNGANG_NAME, OptOut, "customer-001", None),
        2 => lock(fx::UUID_LOCK_ID, fx::UUID_LOCK_NAME, OptIn, "kunde-10001", Some(("Kirkegata 15", "0153", "Oslo"))),
        3 => lock(
            fx::HOSTILE_LOCK_ID,
            fx::HOSTILE_NAME,
            OptIn,
            fx::HOSTILE_DATA,
            Some((fx::HOSTILE_STREET, "0182", "Oslo")),
        ),
        4 => lock(fx::EMPTY_DATA_LOCK_ID, fx::EMPTY_DATA_NAME, OptOut, "", None),
        5 => lock(
            fx::EMPTY_EVENTS_LOCK_ID,
            fx::EMPTY_EVENTS_NAME,
            OptOut,
            "kunde-10002",
            Some(("Strandgata 3", "5013", "Bergen")),
        ),
        6 => lock(
            fx::SLASH_LOCK_ID,
            fx::SLASH_LOCK_NAME,
            OptIn,
            "kunde-10003",
            Some(("Olav Tryggvasons gate 24", "7011", "Trondheim")),
        ),
        7 => lock(fx::BUSY_LOCK_ID, fx::BUSY_LOCK_NAME, OptOut, "kunde-10004", Some(("Storgata 1", "0155", "Oslo"))),
        8 => lock(
            fx::BROKEN_VENDOR_LOCK_ID,
            fx::BROKEN_VENDOR_LOCK_NAME,
            OptOut,
            "kunde-10005",
            Some(("Thereses gate 12", "0168", "Oslo")),
        ),
        _ => return None,
    };
    Some(l)
}

/// The payload index carried by lock `idx` (the locks right after the fixtures), when payloads are on.
fn payload_of(payloads_on: bool, idx: usize) -> Option<usize> {
    let i = idx.checked_sub(fx::FIXTURE_COUNT)?;
    (payloads_on && i < payloads::PAYLOADS.len()).then_some(i)
}

fn make_lock(seed: u64, i: usize, payloads_on: bool, hostile_lock: bool) -> Lock {
    if let Some(mut l) = fixture_lock(i) {
        // The demo shows a plain lock where the tests keep the hostile one (same id, grant and holders).
        if l.id == fx::HOSTILE_LOCK_ID && !hostile_lock {
            l.name = fx::PLAIN_BACK_DOOR_NAME.to_owned();
            l.street = Some(fx::PLAIN_BACK_DOOR_STREET.to_owned());
            l.data = "kunde-10006".to_owned();
        }
        return l;
    }
    let mut l = generated_lock(seed, i);
    if let Some(p) = payload_of(payloads_on, i).and_then(payloads::payload) {
        // Same id as without payloads; every owner-written text is the payload, the postal code stays.
        let pi = i - fx::FIXTURE_COUNT;
        l.name = p.to_owned();
        l.street = Some(p.to_owned());
        l.city = Some(p.to_owned());
        l.data = p.to_owned();
        l.postal_code = Some(l.postal_code.take().unwrap_or_else(|| "0150".to_owned()));
        l.country_iso = Some("no".to_owned());
        l.auth = if pi.is_multiple_of(2) { Auth::OptIn } else { Auth::OptOut };
    }
    l
}

fn generated_lock(seed: u64, i: usize) -> Lock {
    let mut rng = SplitMix64::stream(seed, TAG_LOCK, i as u64);
    // 48 bits that are distinct for every lock index (bijection), so ids never collide.
    let hw = mix48((i as u64) ^ mix64(seed ^ TAG_LOCK));
    let mac = (0..6).rev().map(|b| format!("{:02x}", (hw >> (8 * b)) & 0xFF)).collect::<Vec<_>>().join(":");
    let id = match rng.below(4) {
        0 | 1 => format!("danalock-{mac}"),
        2 => format!("doora-{mac}"),
        _ => {
            let a = rng.next_u64();
            format!(
                "{:08X}-{:04X}-4{:03X}-{:04X}-{:012X}",
                a >> 32,
                (a >> 16) & 0xFFFF,
                a & 0x0FFF,
                0x8000 | (rng.next_u64() & 0x3FFF),
                hw
            )
        }
    };
    let name = lock_name(&mut rng);
    let auth = if rng.chance(3, 10) { Auth::OptIn } else { Auth::OptOut };
    let data = format!("kunde-{}", rng.range(10_005, 99_999));
    let has_address = !rng.chance(15, 100);
    let (street, postal_code, city, country_iso) = if has_address {
        let (city, codes) = *rng.pick(CITIES);
        let letter = if rng.chance(1, 8) { *rng.pick(&["A", "B", "C"]) } else { "" };
        let street = format!("{} {}{}", rng.pick(STREETS), rng.range(1, 120), letter);
        (Some(street), Some((*rng.pick(codes)).to_owned()), Some(city.to_owned()), Some("no".to_owned()))
    } else {
        (None, None, None, None)
    };
    Lock { auth, data, id, name, street, postal_code, city, country_iso }
}

fn lock_name(rng: &mut SplitMix64) -> String {
    match rng.below(20) {
        0 => "Hovedinngang".to_owned(),
        1 => format!("Inngang Bygg {}", rng.pick(LETTERS)),
        2 => "Vaskerom".to_owned(),
        3 => format!("Bod {}", rng.range(1, 60)),
        4 => "Port garasje".to_owned(),
        5 => format!("Kontor {}. etg", rng.range(1, 6)),
        6 => "Sykkelbod".to_owned(),
        7 => "Søppelrom".to_owned(),
        8 => "Bakdør".to_owned(),
        9 => "Kjellerdør".to_owned(),
        10 => format!("Oppgang {}", rng.pick(&LETTERS[..4])),
        11 => "Varemottak".to_owned(),
        12 => "Personalinngang".to_owned(),
        13 => "Teknisk rom".to_owned(),
        14 => format!("Loftsbod {}", rng.range(1, 40)),
        15 => "Fellesrom".to_owned(),
        16 => "Postrom".to_owned(),
        17 => "Garasjeport".to_owned(),
        18 => format!("Hovedinngang {} {}", rng.pick(STREETS), rng.range(1, 80)),
        _ => format!("Leilighet H0{}0{}", rng.range(1, 6), rng.range(1, 4)),
    }
}

/// A Norwegian mobile number in E.164: +47 and 8 digits starting with 4 or 9.
fn phone(rng: &mut SplitMix64) -> String {
    let first = if rng.chance(1, 2) { 4 } else { 9 };
    format!("+47{first}{:07}", rng.below(10_000_000))
}

struct KeyHolder {
    key_id: String,
    name: String,
    /// `""` for the partner's own key.
    msn: String,
}

/// What the people holding keys to a lock are called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum People {
    /// Norwegian names and +47 numbers.
    Normal,
    /// The hostile fixture: the first person is [`fx::HOSTILE_PERSON_NAME`].
    Hostile,
    /// A payload lock: every person is named payload `i`, with [`payloads::hostile_msn`] where it has one.
    Payload(usize),
}

/// The people (1 to 4) holding keys to a lock, and the partner's own key.
struct KeyHolders {
    people: Vec<KeyHolder>,
    partner: KeyHolder,
}

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

/// The id of a history key: a version-4 UUID whose random-looking low 62 bits are the keyed bijection of
/// (lock index, slot), and whose high half comes from the lock's event stream.
fn history_key_id(rng: &mut SplitMix64, seed: u64, lock_index: usize, slot: u64) -> String {
    let hi = rng.next_u64();
    // Drawn and dropped: these ids used to be fully random UUIDs, and drawing the same number of values
    // keeps every later draw (names, timestamps, event ids) as it was.
    let _ = rng.next_u64();
    let payload = if slot > PARTNER_SLOT {
        WIDE | ((lock_index as u64) << WIDE_SLOT_BITS) | slot
    } else {
        ((lock_index as u64) << SLOT_BITS) | slot
    };
    format_uuid_v4(hi, feistel62(payload & MASK62, mix64(seed ^ TAG_KEY_IDS)))
}

/// (lock index, slot) of what may be a history key id; `None` when it cannot be one. The caller still has
/// to check that the lock's holder in that slot really has this id.
fn decode_history_key_id(seed: u64, id: &str) -> Option<(usize, u64)> {
    let parts: Vec<&str> = id.split('-').collect();
    let [_, _, _, a, b] = parts.as_slice() else { return None };
    if a.len() != 4 || b.len() != 12 || !a.bytes().chain(b.bytes()).all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let lo = u64::from_str_radix(&format!("{a}{b}"), 16).ok()?;
    let payload = unfeistel62(lo & MASK62, mix64(seed ^ TAG_KEY_IDS));
    if payload & WIDE != 0 {
        let slot = payload & ((1 << WIDE_SLOT_BITS) - 1);
        let lock_index = (payload & !WIDE) >> WIDE_SLOT_BITS;
        return (slot > PARTNER_SLOT).then_some((usize::try_from(lock_index).ok()?, slot));
    }
    let slot = payload & ((1 << SLOT_BITS) - 1);
    Some((usize::try_from(payload >> SLOT_BITS).ok()?, slot))
}

/// The key holders of a lock: the first draws of its event stream. `(kind, count)`: what the people are
/// called, and how many there are when that is set (else 1 to 4, drawn).
fn key_holders(
    rng: &mut SplitMix64,
    seed: u64,
    lock_index: usize,
    partner_name: &str,
    (people, count): (People, Option<usize>),
) -> KeyHolders {
    let drawn = rng.range(1, 4);
    let count = count.map_or(drawn, |count| count as u64);
    let people = (0..count)
        .map(|p| {
            // Person 7 on (only a busy lock has that many) takes the slot after the partner's.
            let slot = if p < PARTNER_SLOT { p } else { p + 1 };
            let key_id = history_key_id(rng, seed, lock_index, slot);
            let name = match people {
                People::Hostile if p == 0 => fx::HOSTILE_PERSON_NAME.to_owned(),
                People::Payload(i) => payloads::payload(i).unwrap_or_default().to_owned(),
                _ => format!("{} {}", rng.pick(FIRST_NAMES), rng.pick(LAST_NAMES)),
            };
            let msn = phone(rng);
            let msn = match people {
                People::Payload(i) => payloads::hostile_msn(i).unwrap_or(msn),
                _ => msn,
            };
            KeyHolder { key_id, name, msn }
        })
        .collect();
    // The partner's own key (created with `msn: null`), used through Unloc Work.
    let partner = KeyHolder {
        key_id: history_key_id(rng, seed, lock_index, PARTNER_SLOT),
        name: partner_name.to_owned(),
        msn: String::new(),
    };
    KeyHolders { people, partner }
}

/// `start` and `end` of a history key from its first and last event. A stream of its own, so the terms
/// do not disturb the events. The partner's own key is mostly open-ended; people's keys are open-ended,
/// expired or still running in roughly equal shares.
fn key_terms(
    seed: u64,
    lock_index: usize,
    slot: u64,
    first: DateTime<Utc>,
    last: DateTime<Utc>,
    anchor: DateTime<Utc>,
) -> (DateTime<Utc>, Option<DateTime<Utc>>) {
    let mut rng = SplitMix64::stream(seed, TAG_KEY_TERMS, ((lock_index as u64) << SLOT_BITS) | slot);
    let at = |ms: i64| DateTime::from_timestamp_millis(ms).unwrap_or(anchor);
    // Keys are created with whole-minute times, one to 30 days before their first use.
    let start_ms = first.timestamp_millis() - rng.range(1, 30) as i64 * DAY_MS - rng.below(12 * HOUR_MS as u64) as i64;
    let start = at(start_ms - start_ms.rem_euclid(60_000));
    let roll = rng.below(10);
    let open_ended = if slot == PARTNER_SLOT { roll < 7 } else { roll < 3 };
    let expired = slot != PARTNER_SLOT && (3..6).contains(&roll);
    let end = if open_ended {
        None
    } else if expired {
        // Between the last use and the anchor: over by the time anyone asks (when the anchor is now).
        let (last_ms, anchor_ms) = (last.timestamp_millis(), anchor.timestamp_millis());
        let gap = (anchor_ms - last_ms).max(1) as u64;
        Some(at(last_ms + 1 + rng.below(gap) as i64))
    } else {
        // Whole hours, one to 120 days after the anchor.
        let end_ms = anchor.timestamp_millis() + rng.range(1, 120) as i64 * DAY_MS;
        Some(at(end_ms - end_ms.rem_euclid(HOUR_MS) + HOUR_MS))
    };
    (start, end)
}

fn generate_events(
    seed: u64,
    lock_index: usize,
    count: usize,
    partner_name: &str,
    anchor: DateTime<Utc>,
    holders: (People, Option<usize>),
) -> Vec<Event> {
    let mut rng = SplitMix64::stream(seed, TAG_EVENTS, lock_index as u64);
    let many = holders.1.is_some();
    let KeyHolders { people, partner } = key_holders(&mut rng, seed, lock_index, partner_name, holders);
    let mut next_person = 0;
    let anchor_ms = anchor.timestamp_millis();
    let midnight = anchor_ms - anchor_ms.rem_euclid(DAY_MS);
    let mut events = Vec::with_capacity(count);
    // Events come in visits: unlocked, then locked again 30 s to 45 min later by the same key.
    while events.len() < count {
        let who = if rng.chance(1, 6) {
            &partner
        } else if many {
            // Every one of a set number of holders uses the lock, in turn.
            next_person += 1;
            &people[(next_person - 1) % people.len()]
        } else {
            rng.pick(&people)
        };
        // 70 % of visits in (Norwegian) working hours, the rest at any time of day.
        let hour = if rng.chance(7, 10) { rng.range(5, 16) } else { rng.range(0, 23) } as i64;
        let within_hour = rng.below(HOUR_MS as u64) as i64;
        let mut day = rng.range(0, SPREAD_DAYS as u64 - 1) as i64;
        let visit_len = rng.range(30_000, 45 * 60_000) as i64;
        let mut start = midnight - day * DAY_MS + hour * HOUR_MS + within_hour;
        if start + visit_len > anchor_ms {
            // Today, but later than the anchor: move it to yesterday so nothing lies in the future.
            day += 1;
            start = midnight - day * DAY_MS + hour * HOUR_MS + within_hour;
        }
        // A visit late yesterday can still end after an anchor just past midnight (a visit lasts up
        // to 45 minutes): it ends at the anchor at the latest, so every event is served from the start.
        let start = start.min(anchor_ms - visit_len);
        for (action, at) in [("unlocked", start), ("locked", start + visit_len)] {
            if events.len() == count {
                break;
            }
            events.push(Event {
                id: rng.uuid_v4(),
                key_id: who.key_id.clone(),
                action: action.to_owned(),
                name: who.name.clone(),
                msn: who.msn.clone(),
                // Out of range only for anchors within days of chrono's limits (year ±262,000).
                created: DateTime::from_timestamp_millis(at).unwrap_or(anchor),
            });
        }
    }
    events.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.id.cmp(&b.id)));
    events
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::time::Instant;

    fn spec(seed: u64, locks: usize) -> DataSpec {
        DataSpec {
            seed,
            locks,
            events_per_lock: 30,
            busy_lock_events: 0,
            busy_lock_keys: 0,
            partner_name: fx::DEFAULT_PARTNER_NAME.to_owned(),
            payloads: false,
            hostile_lock: true,
            anchor: "2025-03-10T12:34:56.789Z".parse().unwrap(),
        }
    }

    #[test]
    fn without_the_hostile_lock_no_lock_or_event_text_carries_markup() {
        let d = Dataset::new(DataSpec { hostile_lock: false, ..spec(1, 40) });
        let plain = &d.locks()[3];
        assert_eq!(
            (plain.id.as_str(), plain.name.as_str(), plain.auth),
            (fx::HOSTILE_LOCK_ID, fx::PLAIN_BACK_DOOR_NAME, Auth::OptIn)
        );
        for l in d.locks() {
            let texts = [Some(&l.name), Some(&l.data), l.street.as_ref(), l.city.as_ref()];
            assert!(texts.into_iter().flatten().all(|t| !t.contains(['<', '>', '"'])), "{l:?}");
            let events = d.all_events(&l.id).unwrap();
            assert!(events.iter().all(|e| !e.name.contains(['<', '>'])), "{}", l.id);
        }
        // Everything else is as with it: the same locks after the fixture.
        let with = Dataset::new(spec(1, 40));
        assert_eq!(d.locks()[4..], with.locks()[4..]);
    }

    #[test]
    fn fixtures_come_first_in_order() {
        let d = Dataset::new(spec(1, 40));
        let ids: Vec<&str> = d.locks()[..fx::FIXTURE_COUNT].iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, fx::FIXTURE_IDS);
        let hjemme = &d.locks()[0];
        assert_eq!(hjemme.name, "Hjemme");
        assert_eq!(hjemme.auth, Auth::OptOut);
        assert_eq!(hjemme.street.as_deref(), Some("Parkveien 4"));
        assert_eq!(hjemme.postal_code.as_deref(), Some("0351"));
        assert_eq!(hjemme.city.as_deref(), Some("Oslo"));
        assert_eq!(hjemme.country_iso.as_deref(), Some("no"));
        let hostile = &d.locks()[3];
        assert_eq!(hostile.name, fx::HOSTILE_NAME);
        assert_eq!(hostile.street.as_deref(), Some(fx::HOSTILE_STREET));
        assert_eq!(hostile.data, fx::HOSTILE_DATA);
        for l in d.locks().iter().take(fx::FIXTURE_COUNT) {
            let opt_in = fx::OPT_IN_FIXTURE_IDS.contains(&l.id.as_str());
            assert_eq!(l.auth == Auth::OptIn, opt_in, "{}", l.id);
        }
        assert_eq!(d.locks()[4].data, "");
        assert!(d.locks()[4].street.is_none());
        assert_eq!(d.all_events(fx::EMPTY_EVENTS_LOCK_ID).unwrap().len(), 0);
        let broken = d.lock(fx::BROKEN_VENDOR_LOCK_ID).unwrap();
        assert_eq!((broken.name.as_str(), broken.auth), (fx::BROKEN_VENDOR_LOCK_NAME, Auth::OptOut));
        assert!(d.vendor_broken(fx::BROKEN_VENDOR_LOCK_ID));
        assert!(!d.vendor_broken(fx::HJEMME_LOCK_ID));
        assert_eq!(d.all_events(fx::BROKEN_VENDOR_LOCK_ID).unwrap().len(), 30);
    }

    #[test]
    fn fewer_locks_than_fixtures_gives_first_fixtures() {
        let d = Dataset::new(spec(1, 3));
        let ids: Vec<&str> = d.locks().iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids, fx::FIXTURE_IDS[..3]);
        assert!(Dataset::new(spec(1, 0)).locks().is_empty());
    }

    #[test]
    fn same_seed_same_data_other_seed_other_data() {
        let a = Dataset::new(spec(7, 200));
        let b = Dataset::new(spec(7, 200));
        let c = Dataset::new(spec(8, 200));
        assert_eq!(a.locks(), b.locks());
        assert_eq!(a.locks_json(), b.locks_json());
        assert_ne!(a.locks(), c.locks());
        for l in a.locks() {
            assert_eq!(a.all_events(&l.id), b.all_events(&l.id));
        }
        let id = &a.locks()[50].id;
        assert_ne!(a.all_events(id), c.all_events(&c.locks()[50].id));
        // A lock's data does not depend on how many locks there are.
        let small = Dataset::new(spec(7, 60));
        assert_eq!(small.locks(), &a.locks()[..60]);
        assert_eq!(small.all_events(id), a.all_events(id));
    }

    #[test]
    fn generated_locks_look_realistic() {
        let d = Dataset::new(spec(1, 2_000));
        let generated = &d.locks()[fx::FIXTURE_COUNT..];
        let n = generated.len() as f64;
        let opt_in = generated.iter().filter(|l| l.auth == Auth::OptIn).count() as f64;
        assert!((0.25..0.35).contains(&(opt_in / n)), "opt-in {}", opt_in / n);
        let no_addr = generated.iter().filter(|l| l.street.is_none()).count() as f64;
        assert!((0.11..0.19).contains(&(no_addr / n)), "no address {}", no_addr / n);
        let mut prefixes = HashSet::new();
        for l in generated {
            let all_or_none =
                [&l.street, &l.postal_code, &l.city, &l.country_iso].iter().all(|f| f.is_some() == l.street.is_some());
            assert!(all_or_none, "{l:?}");
            if let Some(pc) = &l.postal_code {
                assert!(pc.len() == 4 && pc.chars().all(|c| c.is_ascii_digit()), "{pc}");
                assert_eq!(l.country_iso.as_deref(), Some("no"));
            }
            assert!(l.data.starts_with("kunde-"));
            assert!(!l.name.is_empty());
            prefixes.insert(if l.id.starts_with("danalock-") {
                "danalock"
            } else if l.id.starts_with("doora-") {
                "doora"
            } else {
                assert_eq!(l.id.len(), 36, "{}", l.id);
                assert_eq!(l.id, l.id.to_uppercase());
                "uuid"
            });
        }
        assert_eq!(prefixes.len(), 3);
        assert!(generated.iter().any(|l| l.postal_code.as_deref().is_some_and(|p| p.starts_with('0'))));
    }

    #[test]
    fn ten_thousand_locks_are_quick_and_unique() {
        let t = Instant::now();
        let d = Dataset::new(spec(1, 10_000));
        // Generous for a debug build on a slow 2-core machine; it takes a few ms in practice.
        assert!(t.elapsed().as_secs_f64() < 2.0, "{:?}", t.elapsed());
        assert_eq!(d.locks().len(), 10_000);
        let ids: HashSet<&str> = d.locks().iter().map(|l| l.id.as_str()).collect();
        assert_eq!(ids.len(), 10_000);
        // The last lock's events are generated on demand only.
        let last = &d.locks()[9_999].id;
        assert_eq!(d.all_events(last).unwrap().len(), 30);
    }

    #[test]
    fn events_are_realistic_sorted_and_inside_the_window() {
        let d = Dataset::new(spec(3, 100));
        let anchor = d.anchor();
        let mut partner_uses = 0;
        let mut total = 0;
        for l in d.locks() {
            let ev = d.all_events(&l.id).unwrap();
            let expected = if l.id == fx::EMPTY_EVENTS_LOCK_ID { 0 } else { 30 };
            assert_eq!(ev.len(), expected);
            assert!(ev.windows(2).all(|w| w[0].created <= w[1].created));
            let keys: HashSet<&str> = ev.iter().map(|e| e.key_id.as_str()).collect();
            assert!(keys.len() <= 5);
            let ids: HashSet<&str> = ev.iter().map(|e| e.id.as_str()).collect();
            assert_eq!(ids.len(), ev.len());
            for e in ev.iter() {
                total += 1;
                assert!(e.created <= anchor);
                assert!(e.created >= anchor - TimeDelta::days(SPREAD_DAYS));
                assert_eq!(e.created.timestamp_subsec_nanos() % 1_000_000, 0);
                assert!(e.action == "locked" || e.action == "unlocked");
                assert_eq!(e.id, e.id.to_lowercase());
                if e.msn.is_empty() {
                    partner_uses += 1;
                    assert_eq!(e.name, fx::DEFAULT_PARTNER_NAME);
                } else {
                    assert!(e.msn.starts_with("+474") || e.msn.starts_with("+479"), "{}", e.msn);
                    assert_eq!(e.msn.len(), 11);
                    assert!(e.msn[1..].chars().all(|c| c.is_ascii_digit()));
                }
            }
        }
        let share = f64::from(partner_uses) / f64::from(total);
        assert!((0.11..0.23).contains(&share), "partner share {share}");
        let hostile = d.all_events(fx::HOSTILE_LOCK_ID).unwrap();
        assert!(hostile.iter().any(|e| e.name == fx::HOSTILE_PERSON_NAME));
    }

    #[test]
    fn serialized_timestamps_always_have_milliseconds() {
        let e = Event {
            id: "a".into(),
            key_id: "b".into(),
            action: "locked".into(),
            name: "n".into(),
            msn: String::new(),
            created: "2019-08-07T13:14:47Z".parse().unwrap(),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["created"], "2019-08-07T13:14:47.000Z");
        assert_eq!(v["keyId"], "b");
        let back: Event = serde_json::from_value(v).unwrap();
        assert_eq!(back, e);
    }

    #[test]
    fn retention_drops_events_older_than_60_days_and_future_ones() {
        let d = Dataset::new(spec(5, 20));
        let id = &d.locks()[10].id;
        let all = d.all_events(id).unwrap();
        let anchor = d.anchor();
        assert_eq!(d.served_events(id, anchor, &[]).unwrap().len(), all.len());
        // 30 days later about half of the 59-day spread has aged out.
        let later = anchor + TimeDelta::days(30);
        let served = d.served_events(id, later, &[]).unwrap();
        assert!(!served.is_empty() && served.len() < all.len());
        assert!(served.iter().all(|e| e.created >= later - TimeDelta::days(RETENTION_DAYS)));
        // Before the anchor, the events after "now" are not served.
        let earlier = anchor - TimeDelta::days(20);
        assert!(d.served_events(id, earlier, &[]).unwrap().iter().all(|e| e.created <= earlier));
        assert!(d.served_events(id, anchor + TimeDelta::days(61), &[]).unwrap().is_empty());
        assert!(d.served_events("nope", anchor, &[]).is_none());
    }

    #[test]
    fn busy_lock_gets_its_own_count_and_stays_fast() {
        let mut s = spec(1, 40);
        s.busy_lock_events = 100_000;
        let d = Dataset::new(s);
        let t = Instant::now();
        let ev = d.all_events(fx::BUSY_LOCK_ID).unwrap();
        assert_eq!(ev.len(), 100_000);
        assert!(t.elapsed().as_secs_f64() < 10.0, "{:?}", t.elapsed());
        assert_eq!(d.all_events(fx::HJEMME_LOCK_ID).unwrap().len(), 30);
        let json = d.events_json(fx::BUSY_LOCK_ID, d.anchor(), &[]).unwrap();
        let body: EventsBody = serde_json::from_slice(&json).unwrap();
        assert_eq!(body.events.len(), 100_000);
    }

    /// Started just after midnight (UTC), the simulator still serves every generated event at once:
    /// none lies after the anchor (the full benchmark waits for all 100,000 of the busy lock's).
    #[test]
    fn no_event_lies_after_an_anchor_just_past_midnight() {
        for anchor in ["2026-12-03T00:05:00.000Z", "2026-12-03T00:30:00.000Z", "2026-12-03T23:59:59.999Z"] {
            let mut s = spec(1, 40);
            s.busy_lock_events = 100_000;
            s.anchor = anchor.parse().unwrap();
            let d = Dataset::new(s);
            let ev = d.all_events(fx::BUSY_LOCK_ID).unwrap();
            let later = ev.iter().filter(|e| e.created > d.anchor()).count();
            assert_eq!(later, 0, "anchor {anchor}: {later} events after it");
            assert_eq!(d.served_events(fx::BUSY_LOCK_ID, d.anchor(), &[]).unwrap().len(), 100_000, "anchor {anchor}");
        }
    }

    #[test]
    fn a_busy_lock_can_have_a_set_number_of_distinct_keys_each_a_real_key() {
        let mut s = spec(1, 40);
        s.busy_lock_events = 30_000;
        s.busy_lock_keys = 2_000;
        let d = Dataset::new(s);
        let ev = d.all_events(fx::BUSY_LOCK_ID).unwrap();
        let ids: HashSet<&str> = ev.iter().map(|e| e.key_id.as_str()).collect();
        assert_eq!(ids.len(), 2_000);
        for id in ids.iter().step_by(97).chain(ids.iter().take(12)) {
            let key = d.history_key(id).unwrap_or_else(|| panic!("{id} is a history key"));
            assert_eq!(key.lock_id, fx::BUSY_LOCK_ID);
        }
        // Other locks keep their few holders and their ids.
        let plain = Dataset::new(spec(1, 40));
        assert_eq!(d.all_events(fx::HJEMME_LOCK_ID).unwrap(), plain.all_events(fx::HJEMME_LOCK_ID).unwrap());
    }

    #[test]
    fn added_events_are_merged_in_time_order_and_retained() {
        let d = Dataset::new(spec(5, 20));
        let id = fx::HJEMME_LOCK_ID;
        let all = d.all_events(id).unwrap();
        let anchor = d.anchor();
        let added = |at: DateTime<Utc>, eid: &str| Event {
            id: eid.into(),
            key_id: "k".into(),
            action: "unlocked".into(),
            name: "n".into(),
            msn: String::new(),
            created: at,
        };
        // One in the middle of the generated ones, one after all of them, one long gone.
        let middle = all[10].created;
        let extra = [added(anchor - TimeDelta::days(90), "old"), added(middle, "mid"), added(anchor, "new")];
        let served = d.served_events(id, anchor, &extra).unwrap();
        assert_eq!(served.len(), all.len() + 2);
        assert!(served.windows(2).all(|w| w[0].created <= w[1].created));
        assert_eq!(served.last().unwrap().id, "new");
        assert!(!served.iter().any(|e| e.id == "old"));
        let pos = served.iter().position(|e| e.id == "mid").unwrap();
        assert_eq!(served[pos - 1].id, all[10].id, "generated first on equal times");
        let body: EventsBody = serde_json::from_slice(&d.events_json(id, anchor, &extra).unwrap()).unwrap();
        assert_eq!(body.events, served);
    }

    #[test]
    fn every_event_key_is_a_history_key_of_its_lock() {
        let d = Dataset::new(spec(4, 300));
        let anchor = d.anchor();
        let (mut open, mut expired, mut running, mut partner_keys) = (0, 0, 0, 0);
        let mut all_ids = HashSet::new();
        for l in d.locks() {
            let events = d.all_events(&l.id).unwrap();
            let ids: HashSet<&str> = events.iter().map(|e| e.key_id.as_str()).collect();
            for id in ids {
                assert!(all_ids.insert(id.to_owned()), "{id} is used on two locks");
                let k = d.history_key(id).unwrap_or_else(|| panic!("{id} of {} is not a key", l.id));
                assert_eq!((k.id.as_str(), k.lock_id.as_str()), (id, l.id.as_str()));
                let mine: Vec<&Event> = events.iter().filter(|e| e.key_id == id).collect();
                assert_eq!(k.events.len(), mine.len());
                let (first, last) = (mine[0].created, mine[mine.len() - 1].created);
                assert!(k.start < first && first - k.start <= TimeDelta::days(31), "{k:?}");
                assert_eq!(k.start.timestamp_millis() % 60_000, 0);
                assert_eq!(k.msn.as_deref().unwrap_or(""), mine[0].msn);
                if k.msn.is_none() {
                    partner_keys += 1;
                }
                match k.end {
                    None => open += 1,
                    Some(end) if end <= anchor + TimeDelta::milliseconds(1) => {
                        assert!(end > last, "{k:?}");
                        expired += 1;
                    }
                    Some(end) => {
                        assert!(end > anchor + TimeDelta::days(1) && end <= anchor + TimeDelta::days(122), "{k:?}");
                        running += 1;
                    }
                }
                // Lower case like every id the API prints; another case is another (unknown) id.
                assert_eq!(id, id.to_lowercase());
                assert!(d.history_key(&id.to_uppercase()).is_none());
            }
        }
        assert!(partner_keys > 100, "{partner_keys}");
        for (what, n) in [("open-ended", open), ("expired", expired), ("running", running)] {
            assert!(n > 150, "{what}: {n} of {}", all_ids.len());
        }
        // Same seed, same keys; ids that are not history keys are not found (cheaply).
        let again = Dataset::new(spec(4, 300));
        let some = all_ids.iter().next().unwrap();
        assert_eq!(again.history_key(some), d.history_key(some));
        assert!(Dataset::new(spec(5, 300)).history_key(some).is_none());
        for bad in ["", "nope", "117ec32d-5ac3-422b-82de-cbb64540bffd", "zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"] {
            assert!(d.history_key(bad).is_none(), "{bad}");
        }
        // A key of lock 200 is not a key of a dataset with 100 locks; a key of lock 50 is in both.
        let smaller = Dataset::new(spec(4, 100));
        let key_of = |i: usize| d.all_events(&d.locks()[i].id).unwrap()[0].key_id.clone();
        assert!(smaller.history_key(&key_of(200)).is_none());
        assert_eq!(smaller.history_key(&key_of(50)), d.history_key(&key_of(50)));
    }

    #[test]
    fn history_keys_of_ten_thousand_locks_need_no_index() {
        let d = Dataset::new(spec(1, 10_000));
        let last = &d.locks()[9_999].id;
        let key_id = d.all_events(last).unwrap()[0].key_id.clone();
        // Start over so nothing is memoized: one lookup generates one lock's events, not 10,000.
        let d = Dataset::new(spec(1, 10_000));
        let t = Instant::now();
        assert_eq!(d.history_key(&key_id).unwrap().lock_id, *last);
        assert!(t.elapsed().as_secs_f64() < 0.5, "{:?}", t.elapsed());
        assert_eq!(d.events_cache.lock().unwrap().len(), 1);
    }

    #[test]
    fn payload_locks_follow_the_fixtures_and_keep_their_ids() {
        let plain = Dataset::new(spec(1, 40));
        assert!(plain.payload_locks().is_empty());
        let d = Dataset::new(DataSpec { payloads: true, ..spec(1, 40) });
        assert_eq!(d.locks()[..fx::FIXTURE_COUNT], plain.locks()[..fx::FIXTURE_COUNT]);
        let n = payloads::PAYLOADS.len();
        let found = d.payload_locks();
        assert_eq!(found.len(), n);
        for (i, (name, id)) in found.iter().enumerate() {
            let idx = payloads::lock_index(i);
            let (l, before) = (&d.locks()[idx], &plain.locks()[idx]);
            let p = payloads::PAYLOADS[i].1;
            assert_eq!(
                (*name, id.as_str(), l.id.as_str()),
                (payloads::PAYLOADS[i].0, before.id.as_str(), before.id.as_str())
            );
            assert_eq!((l.name.as_str(), l.data.as_str()), (p, p));
            assert_eq!((l.street.as_deref(), l.city.as_deref()), (Some(p), Some(p)));
            let pc = l.postal_code.as_deref().unwrap();
            assert!(pc.len() == 4 && pc.bytes().all(|b| b.is_ascii_digit()), "{pc}");
            assert_eq!(l.auth, if i % 2 == 0 { Auth::OptIn } else { Auth::OptOut });
            let events = d.all_events(id).unwrap();
            let people: Vec<&Event> = events.iter().filter(|e| !e.msn.is_empty()).collect();
            assert!(!people.is_empty());
            for e in people {
                assert_eq!(e.name, p);
                assert_eq!(e.msn.starts_with(&format!("+47{p}")), i % 2 == 1, "{}", e.msn);
            }
            // Every key id is still a history key of its lock.
            assert!(events.iter().all(|e| d.history_key(&e.key_id).is_some_and(|k| k.lock_id == *id)));
        }
        // The generated locks after them are untouched; too few locks are raised to hold every payload.
        assert_eq!(d.locks()[fx::FIXTURE_COUNT + n..], plain.locks()[fx::FIXTURE_COUNT + n..]);
        let small = Dataset::new(DataSpec { payloads: true, ..spec(1, 3) });
        assert_eq!(small.locks().len(), fx::FIXTURE_COUNT + n);
    }

    #[test]
    fn default_token_is_32_alphanumerics_and_seeded() {
        let t = default_token(1);
        assert_eq!(t.len(), 32);
        assert!(t.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_eq!(t, default_token(1));
        assert_ne!(t, default_token(2));
        let h = default_hmac_secret(1);
        assert_eq!(h.len(), 40);
        assert!(h.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(&h[..32], t);
        assert_ne!(h, default_hmac_secret(2));
    }
}
