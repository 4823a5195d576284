//! Every type the UI receives, in one place: what the commands resolve to and the events carry.
//! docs/architecture.md is the same contract in words; change both together.
//!
//! Locks and events go to the UI as the API client decoded them, settings as they are saved,
//! and errors as `AppError`: they are re-exported here so this module lists the whole contract.

use chrono::{DateTime, Utc};
use serde::Serialize;

pub use crate::api::{Lock, LockEvent};
pub use crate::error::AppError;
pub use crate::settings::{Language, Settings};
pub use crate::store::Person;

/// What the UI needs to open: `get_startup`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Startup {
    pub version: &'static str,
    pub settings: Settings,
    pub signed_in: bool,
    pub token_from_environment: bool,
    pub default_api_base: String,
    /// The operating system's language as a BCP 47 tag (e.g. "nb-NO"), for the "system" language setting.
    /// Read in Rust because a webview's `navigator.language` does not follow the OS everywhere.
    pub system_language: Option<String>,
    pub problem: Option<AppError>,
    /// The signed-in account's saved locks, as `cached_locks` gives them: the locks view paints
    /// them without asking again. `None` when signed out or when nothing is saved.
    pub cached_locks: Option<CachedLocksPage>,
}

/// The signed-in partner, as the UI may see it (no token): `sign_in`.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SessionInfo {
    pub partner_id: String,
    pub api_base: String,
    /// False when the keychain refused the token: this run works, the next one asks again.
    pub token_saved: bool,
    pub problem: Option<AppError>,
}

/// `list_locks`, `cached_locks`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LocksPage {
    pub locks: Vec<Lock>,
    #[serde(with = "millis_utc")]
    pub fetched_at: DateTime<Utc>,
    pub from_cache: bool,
    /// Locks Unloc sent that could not be read and are not shown (the UI says how many).
    pub skipped: usize,
}

/// `cached_locks`: a `LocksPage` whose locks are the saved JSON, sent as it was saved (decoding
/// and encoding 10,000 locks again would delay the first rows of every start).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedLocksPage {
    pub locks: Box<serde_json::value::RawValue>,
    #[serde(with = "millis_utc")]
    pub fetched_at: DateTime<Utc>,
    pub from_cache: bool,
    pub skipped: usize,
}

/// `sign_in`: the session, and the locks page the token was checked with (the list is not
/// fetched a second time).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SignInReply {
    #[serde(flatten)]
    pub session: SessionInfo,
    pub locks_page: LocksPage,
}

/// `list_events`, `cached_events`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct EventsPage {
    pub lock_id: String,
    /// Newest first, the order people read a history in.
    pub events: Vec<LockEvent>,
    #[serde(with = "millis_utc")]
    pub fetched_at: DateTime<Utc>,
    pub from_cache: bool,
    /// Events Unloc sent that could not be read and are not shown.
    pub skipped: usize,
}

/// What the UI shows for a key; the rule from the API's state is in keys/status.rs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum KeyStatus {
    Creating,
    AwaitingApproval,
    Scheduled,
    Active,
    Expired,
    Failed,
    Revoked,
    Unknown,
    /// Known only from an event history and not asked about (yet): shown from what the history says.
    SeenInHistory,
}

/// A key as the UI sees it: the key commands and the `keys-changed` event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyView {
    pub id: String,
    pub lock_id: String,
    pub lock_name: Option<String>,
    pub lock_opt_in: Option<bool>,
    pub msn: Option<String>,
    pub route: Option<String>,
    #[serde(with = "optional_millis_utc")]
    pub start: Option<DateTime<Utc>>,
    #[serde(with = "optional_millis_utc")]
    pub end: Option<DateTime<Utc>>,
    pub api_state: Option<String>,
    pub status: KeyStatus,
    pub origin: &'static str,
    #[serde(with = "optional_millis_utc")]
    pub created_at: Option<DateTime<Utc>>,
    #[serde(with = "millis_utc")]
    pub first_seen: DateTime<Utc>,
    #[serde(with = "optional_millis_utc")]
    pub last_checked: Option<DateTime<Utc>>,
    #[serde(with = "optional_millis_utc")]
    pub waiting_since: Option<DateTime<Utc>>,
    /// The first and last use the cached histories show.
    #[serde(with = "optional_millis_utc")]
    pub first_used: Option<DateTime<Utc>>,
    #[serde(with = "optional_millis_utc")]
    pub last_used: Option<DateTime<Utc>>,
    pub settled: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub already_revoked: Option<bool>,
    /// In team mode: who created the key and on which desk ("created by Anna on OFFICE-PC-2").
    pub created_by: Option<String>,
    pub created_on_desk: Option<String>,
    /// In team mode: who revoked the key with this app and on which desk ("revoked by Bjørn on
    /// OFFICE-PC-1"); null when it was revoked elsewhere.
    pub revoked_by: Option<String>,
    pub revoked_on_desk: Option<String>,
}

/// Whether this desk's team data is current (team mode), for the line the window shows.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct TeamStatus {
    /// Settings → Team names a database and this session is linked to it.
    pub linked: bool,
    /// `connecting`, `current` or `notCurrent`.
    pub state: &'static str,
    /// When not current: the `TeamProblem` kind (`unreachable`, `wrongPassword`…).
    pub problem: Option<&'static str>,
    #[serde(with = "optional_millis_utc")]
    pub since: Option<DateTime<Utc>>,
    /// Keys written here that the office's database has not had yet.
    pub queued: usize,
}

/// One event of a person in the activity archive, with its lock: a person's page.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonEvent {
    pub id: String,
    pub lock_id: String,
    /// As the archive last saw it (owner-written: hostile text).
    pub lock_name: String,
    pub key_id: String,
    /// `locked`, `unlocked`, or an unknown word kept verbatim.
    pub action: String,
    #[serde(with = "millis_utc")]
    pub at: DateTime<Utc>,
}

/// `person_page`: a person, every key known for their number, their latest events.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PersonPage {
    pub person: Person,
    pub keys: Vec<KeyView>,
    /// Newest first, from the activity archive (no request to Unloc).
    pub events: Vec<PersonEvent>,
}

/// What became of one key of `revoke_keys`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokeOutcome {
    pub key_id: String,
    /// `revoked`, `alreadyRevoked` (Unloc said it was before) or `failed` (then `error` says why).
    pub outcome: &'static str,
    pub key: Option<KeyView>,
    pub error: Option<AppError>,
}

/// A row of an import file that is not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkippedRow {
    /// The row's number as the spreadsheet shows it (the header is row 1).
    pub row: usize,
    /// `missingName`, `missingPhone`, `invalidPhone`, `duplicate` (the same number on an earlier
    /// row: `detail` is that row) or `alreadyListed` (`detail` is the listed person's name).
    pub reason: &'static str,
    /// What the row's phone cell holds, as text.
    pub phone: String,
    pub detail: Option<String>,
}

/// A row an import adds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ImportRow {
    pub row: usize,
    pub name: String,
    pub phone: String,
    pub note: Option<String>,
}

/// `preview_people_import` (`imported` 0) and `import_people`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeopleImport {
    pub file_name: String,
    /// Rows with anything in them, the header not counted.
    pub rows: usize,
    /// Rows that are (or would be) added.
    pub ready: usize,
    pub imported: usize,
    /// The first rows to be added, for the preview.
    pub sample: Vec<ImportRow>,
    /// Skipped rows, the first few hundred; `skipped_count` is all of them.
    pub skipped: Vec<SkippedRow>,
    pub skipped_count: usize,
}

/// An update the user may install: `check_for_update` and the `update-available` event.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateInfo {
    pub version: String,
    pub current_version: String,
    pub notes: Option<String>,
}

/// `activity_page`: a window of the Activity list (newest first) and, when asked, how many match.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityPage {
    /// Position of the first row in the whole filtered list.
    pub offset: u64,
    pub rows: Vec<ActivityRow>,
    /// How many events match the filter (only when asked: scrolling needs no new count).
    pub total: Option<u64>,
    /// How many events the archive holds in all.
    pub archived: Option<u64>,
}

/// One archived event of the Activity list.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ActivityRow {
    pub id: String,
    pub lock_id: String,
    /// Owner-written texts: hostile, shown as text only.
    pub lock_name: String,
    pub lock_address: String,
    pub lock_reference: String,
    pub key_id: String,
    pub action: String,
    /// The name Unloc gave with the event.
    pub name: String,
    pub msn: String,
    /// The name of this phone in the office's own directory of people, when it has one (shown
    /// instead of the phone); `None` until that directory exists.
    pub person: Option<String>,
    #[serde(with = "millis_utc")]
    pub at: DateTime<Utc>,
}

/// `activity_sync_status`: how far the archive's background sync is.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct SyncStatus {
    /// `waiting` (to start, or for the next round), `running`, `paused`, `retrying` (offline or Unloc
    /// asked to wait), `stopped` (Unloc refused the token), `off` (not signed in).
    pub state: &'static str,
    pub locks_done: u64,
    pub locks_total: u64,
    #[serde(with = "optional_millis_utc")]
    pub last_finished: Option<DateTime<Utc>>,
    /// Grows whenever events were added or removed: the list asks for its rows again.
    pub changes: u64,
}

/// What an export wrote: `export_lock_history`, `export_keys`. The UI says "312 rows saved to …".
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportDone {
    /// Where the file is: the chosen path, with the format's extension added when it lacked it.
    pub path: String,
    pub rows: usize,
}

/// `visits_report`: "Visits per customer" for one month, as the report screen shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitsReport {
    /// `yyyy-mm`, as asked.
    pub month: String,
    /// Per lock and person, by lock name, then person.
    pub rows: Vec<VisitRow>,
}

/// One person's visits (unlocks) at one lock in the month.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VisitRow {
    pub lock_id: String,
    pub lock_name: String,
    pub lock_address: String,
    pub lock_reference: String,
    /// The People name of the phone, else the name Unloc gave.
    pub person: String,
    /// E.164, or "" for the partner's own use through Unloc Work.
    pub phone: String,
    pub visits: u64,
    #[serde(with = "millis_utc")]
    pub first: DateTime<Utc>,
    #[serde(with = "millis_utc")]
    pub last: DateTime<Utc>,
}

/// Times go to the UI as RFC 3339, UTC, with milliseconds (the API's own form).
mod millis_utc {
    use chrono::{DateTime, SecondsFormat, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&value.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

mod optional_millis_utc {
    use chrono::{DateTime, Utc};
    use serde::Serializer;

    pub fn serialize<S: Serializer>(value: &Option<DateTime<Utc>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(moment) => super::millis_utc::serialize(moment, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_statuses_and_times_serialize_as_the_ui_reads_them() {
        assert_eq!(serde_json::to_value(KeyStatus::AwaitingApproval).unwrap(), "awaitingApproval");
        let at = DateTime::parse_from_rfc3339("2026-11-26T10:00:00.5+01:00").unwrap().with_timezone(&Utc);
        let page = LocksPage { locks: Vec::new(), fetched_at: at, from_cache: true, skipped: 2 };
        assert_eq!(
            serde_json::to_value(page).unwrap(),
            serde_json::json!({"locks": [], "fetchedAt": "2026-11-26T09:00:00.500Z", "fromCache": true, "skipped": 2})
        );
    }
}
