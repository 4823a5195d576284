//! What the user can export, as tables: a lock's saved history and the known keys. Each heading
//! and word comes from the UI's catalog, in the language the user reads the app in.

use std::collections::{HashMap, HashSet};

use chrono::{Local, TimeZone};

use crate::account::Account;
use crate::api::{Action, LockEvent};
use crate::catalog::Catalog;
use crate::error::{AppError, ErrorKind, Result};
use crate::export::{save, Cell, Language, Table, Target};
use crate::keys::status;
use crate::views::{ExportDone, KeyStatus, KeyView};

/// Headings and words in one language, and the name of the zone times are written in.
pub struct Words {
    catalog: Catalog,
    zone_name: String,
}

impl Words {
    pub fn new(language: Language, zone_name: impl Into<String>) -> Self {
        Words { catalog: Catalog::for_language(language.tag()), zone_name: zone_name.into() }
    }

    /// The words for the user's language and this computer's time zone (the one times are written in).
    pub fn local(language: Language) -> Self {
        Words::new(language, local_zone_name())
    }

    pub(super) fn text(&self, key: &str) -> String {
        self.catalog.text(key, &[])
    }

    pub(super) fn time_heading(&self, key: &str) -> String {
        self.catalog.text(key, &[("zone", &self.zone_name)])
    }

    fn action(&self, action: &Action) -> String {
        match action {
            Action::Locked => self.text("events.action.locked"),
            Action::Unlocked => self.text("events.action.unlocked"),
            // An action this app does not know yet is shown as Unloc wrote it.
            Action::Unknown(other) => other.clone(),
        }
    }

    /// An action word as the archive keeps it (Unloc's own word).
    pub(super) fn action_word(&self, action: &str) -> String {
        match action {
            "locked" => self.text("events.action.locked"),
            "unlocked" => self.text("events.action.unlocked"),
            other => other.to_owned(),
        }
    }

    fn key_status(&self, status: KeyStatus) -> String {
        let name = serde_json::to_value(status).ok().and_then(|value| value.as_str().map(str::to_owned));
        self.text(&format!("keyStatus.{}", name.unwrap_or_default()))
    }
}

/// The zone `chrono::Local` converts to: `TZ` when set (as chrono reads it), else the system's zone.
fn local_zone_name() -> String {
    std::env::var("TZ")
        .ok()
        .map(|zone| zone.trim_start_matches(':').trim().to_owned())
        .filter(|zone| !zone.is_empty() && !zone.starts_with('/'))
        .or_else(|| iana_time_zone::get_timezone().ok())
        .unwrap_or_else(|| "local time".to_owned())
}

/// A lock's history as the app saved it, newest first. `people` names phones (E.164 → the name the
/// office gave it in People), which go before the name Unloc sent, as in Activity.
pub fn lock_history_table(
    lock_name: &str,
    events: &[LockEvent],
    people: &HashMap<String, String>,
    words: &Words,
) -> Table {
    let mut events: Vec<&LockEvent> = events.iter().collect();
    events.sort_by_key(|event| std::cmp::Reverse(event.created));
    Table {
        sheet: words.text("export.sheet.history"),
        headings: vec![
            words.time_heading("export.col.time"),
            words.text("export.col.lock"),
            words.text("export.col.action"),
            words.text("export.col.person"),
            words.text("export.col.phone"),
            words.text("export.col.keyId"),
        ],
        rows: events
            .into_iter()
            .map(|event| {
                vec![
                    Cell::Time(event.created),
                    Cell::text(lock_name),
                    Cell::text(words.action(&event.action)),
                    Cell::text(people.get(&event.msn).unwrap_or(&event.name)),
                    Cell::text(&event.msn),
                    Cell::text(&event.key_id),
                ]
            })
            .collect(),
    }
}

/// The known keys, as the Keys view lists them.
pub fn keys_table(keys: &[KeyView], words: &Words) -> Table {
    Table {
        sheet: words.text("export.sheet.keys"),
        headings: vec![
            words.text("keys.col.status"),
            words.text("export.col.lock"),
            words.text("keys.col.recipient"),
            words.time_heading("export.col.start"),
            words.time_heading("export.col.end"),
            words.text("keys.col.route"),
            words.time_heading("export.col.lastUsed"),
            words.time_heading("export.col.lastChecked"),
            words.text("export.col.keyId"),
        ],
        rows: keys
            .iter()
            .map(|key| {
                vec![
                    Cell::text(words.key_status(key.status)),
                    Cell::text(key.lock_name.as_deref().unwrap_or(&key.lock_id)),
                    Cell::text(key.msn.as_deref().unwrap_or_default()),
                    Cell::optional_time(key.start),
                    Cell::optional_time(key.end),
                    Cell::text(key.route.as_deref().unwrap_or_default()),
                    Cell::optional_time(key.last_used),
                    Cell::optional_time(key.last_checked),
                    Cell::text(&key.id),
                ]
            })
            .collect(),
    }
}

/// Which events of a lock's saved history the lock view shows (`historySelection` in
/// ui/js/views/lock-export.js): the ids of the rows shown, or of the rows hidden when those are fewer
/// (for 100,000 events, 90,000 of them shown, that is 10,000 ids over IPC instead of 90,000) — with
/// how many rows the view shows and which history it shows them from, so the file holds exactly the
/// rows on screen or is not written.
#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShownEvents {
    /// How many rows the view shows (what the file name offered says).
    pub rows: usize,
    /// The view's whole history, summed up ([`history_digest`]).
    pub history: HistoryDigest,
    #[serde(flatten)]
    pub ids: ShownIds,
}

#[derive(Debug, Clone, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ShownIds {
    /// The rows shown are these events.
    Only(Vec<String>),
    /// The rows shown are the view's history but these events.
    Except(Vec<String>),
}

/// The ids of a history in a few characters, in any order: their number, and two 32-bit sums of a
/// hash of each id's UTF-16 code units (FNV-1a, and djb2 with xor) as 16 hex digits. The same as
/// `historyDigest` in ui/js/views/lock-export.js.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct HistoryDigest {
    pub count: usize,
    pub sum: String,
}

pub fn history_digest<'a>(ids: impl IntoIterator<Item = &'a str>) -> HistoryDigest {
    let (mut a, mut b, mut count) = (0u32, 0u32, 0);
    for id in ids {
        let (mut h1, mut h2) = (0x811c_9dc5_u32, 5381_u32);
        for unit in id.encode_utf16() {
            h1 = (h1 ^ u32::from(unit)).wrapping_mul(0x0100_0193);
            h2 = h2.wrapping_mul(33) ^ u32::from(unit);
        }
        a = a.wrapping_add(h1);
        b = b.wrapping_add(h2);
        count += 1;
    }
    HistoryDigest { count, sum: format!("{a:08x}{b:08x}") }
}

/// The events of `history` the view shows, or why they cannot be had exactly (`Conflict`): the
/// hidden ids name rows only of the history the view had, and the rows must be as many as it showed.
fn shown_events(mut history: Vec<LockEvent>, shown: &ShownEvents) -> Result<Vec<LockEvent>> {
    match &shown.ids {
        ShownIds::Only(ids) => {
            let ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
            history.retain(|event| ids.contains(event.id.as_str()));
        }
        ShownIds::Except(ids) => {
            if history_digest(history.iter().map(|event| event.id.as_str())) != shown.history {
                return Err(history_changed("the saved history is not the one on screen"));
            }
            let ids: HashSet<&str> = ids.iter().map(String::as_str).collect();
            history.retain(|event| !ids.contains(event.id.as_str()));
        }
    }
    if history.len() != shown.rows {
        return Err(history_changed(&format!("{} of the {} events shown are saved", history.len(), shown.rows)));
    }
    Ok(history)
}

fn history_changed(detail: &str) -> AppError {
    AppError::new(ErrorKind::Conflict, format!("the lock's history changed since Export was clicked: {detail}"))
}

/// Exports the history of `lock_id` the app has saved (no request to Unloc), in local time: every
/// saved event, or with `shown` exactly the rows the lock view shows under its search and filter
/// (the user exports what they see), else nothing (a `Conflict` error).
pub fn export_lock_history(
    account: &Account,
    lock_id: &str,
    shown: Option<&ShownEvents>,
    target: &Target,
) -> Result<ExportDone> {
    export_lock_history_in(account, lock_id, shown, target, &Words::local(target.language), &Local)
}

pub fn export_lock_history_in<Tz: TimeZone>(
    account: &Account,
    lock_id: &str,
    shown: Option<&ShownEvents>,
    target: &Target,
    words: &Words,
    zone: &Tz,
) -> Result<ExportDone> {
    let mut events = account.history(lock_id)?;
    if let Some(shown) = shown {
        events = shown_events(events, shown)?;
    }
    let name = account.lock_info(lock_id).name.unwrap_or_else(|| lock_id.to_owned());
    let people =
        account.with_store(|store| store.people())?.into_iter().map(|person| (person.phone, person.name)).collect();
    save(&lock_history_table(&name, &events, &people, words), target, zone)
}

/// Exports every known key (the local record; no request to Unloc), in local time.
pub fn export_keys(account: &Account, target: &Target) -> Result<ExportDone> {
    let keys = status::views(account, None)?;
    save(&keys_table(&keys, &Words::local(target.language)), target, &Local)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::FileFormat;
    use crate::store::Store;
    use chrono::{FixedOffset, Utc};

    fn event(id: &str, action: &str, created: &str) -> LockEvent {
        serde_json::from_value(serde_json::json!({
            "id": id, "keyId": format!("key-{id}"), "action": action, "name": "=HYPERLINK(\"x\")",
            "msn": "+4790000000", "created": created,
        }))
        .unwrap()
    }

    #[test]
    fn a_history_is_newest_first_in_the_users_words_with_the_zone_named() {
        let words = Words::new(Language::Nb, "Europe/Oslo");
        let events = [
            event("1", "locked", "2026-11-01T08:00:00.000Z"),
            event("2", "unlocked", "2026-11-02T08:00:00.000Z"),
            event("3", "jammed", "2026-10-30T08:00:00.000Z"),
        ];
        let table = lock_history_table("Bod 12", &events, &HashMap::new(), &words);
        assert_eq!(table.sheet, "Hendelseslogg");
        assert_eq!(table.headings, ["Tidspunkt (Europe/Oslo)", "Lås", "Hendelse", "Person", "Telefon", "Nøkkel-ID"]);
        let actions: Vec<_> = table.rows.iter().map(|row| row[2].clone()).collect();
        assert_eq!(actions, [Cell::text("Låst opp"), Cell::text("Låst"), Cell::text("jammed")]);
        assert_eq!(table.rows[0][5], Cell::text("key-2"));
    }

    #[test]
    fn the_saved_history_of_a_lock_is_exported_without_asking_unloc() {
        let account = Account::new(Store::in_memory().unwrap());
        let mut kari = event("3", "unlocked", "2026-11-03T08:00:00.000Z");
        kari.name = "Kari".into();
        kari.msn = "+4790000001".into();
        let events = [
            event("1", "locked", "2026-11-01T08:00:00.000Z"),
            event("2", "unlocked", "2026-11-02T08:00:00.000Z"),
            kari,
        ];
        account.with_store(|store| store.save_events("lock-1", &events, Utc::now())).unwrap();
        let named =
            crate::store::PersonRecord { name: "Kari Nordmann".into(), phone: "+4790000001".into(), note: None };
        account.with_store(|store| store.save_person(None, &named, Utc::now())).unwrap();
        let dir = std::env::temp_dir().join(format!("unloc-export-history-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target { path: dir.join("historikk"), format: FileFormat::Csv, language: Language::En };
        let zone = FixedOffset::east_opt(3600).unwrap();
        let words = Words::new(Language::En, "Europe/Oslo");
        let done = export_lock_history_in(&account, "lock-1", None, &target, &words, &zone).unwrap();
        assert_eq!(done.rows, 3);
        assert!(done.path.ends_with("historikk.csv"));
        let text = std::fs::read_to_string(&done.path).unwrap();
        let lines: Vec<&str> = text.trim_start_matches('\u{FEFF}').lines().collect();
        assert_eq!(lines[0], "Time (Europe/Oslo),Lock,Event,Person,Phone,Key ID");
        // No lock list is cached, so the lock is named by its id; the person's formula stays text.
        // A phone the office named in People is shown by that name, as in Activity.
        assert_eq!(lines[1], "2026-11-03 09:00:00,lock-1,Unlocked,Kari Nordmann,'+4790000001,key-3");
        assert_eq!(lines[2], r#"2026-11-02 09:00:00,lock-1,Unlocked,"'=HYPERLINK(""x"")",'+4790000000,key-2"#);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    fn only(ids: &[&str], rows: usize, history: &[&str]) -> ShownEvents {
        ShownEvents {
            rows,
            history: history_digest(history.iter().copied()),
            ids: ShownIds::Only(ids.iter().map(|id| id.to_string()).collect()),
        }
    }

    fn except(ids: &[&str], rows: usize, history: &[&str]) -> ShownEvents {
        ShownEvents { ids: ShownIds::Except(ids.iter().map(|id| id.to_string()).collect()), ..only(&[], rows, history) }
    }

    #[test]
    fn a_filtered_history_exports_exactly_the_events_shown_or_nothing() {
        let account = Account::new(Store::in_memory().unwrap());
        let events = [
            event("1", "locked", "2026-11-01T08:00:00.000Z"),
            event("2", "unlocked", "2026-11-02T08:00:00.000Z"),
            event("3", "locked", "2026-11-03T08:00:00.000Z"),
        ];
        account.with_store(|store| store.save_events("lock-1", &events, Utc::now())).unwrap();
        let dir = std::env::temp_dir().join(format!("unloc-export-shown-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target { path: dir.join("historikk.csv"), format: FileFormat::Csv, language: Language::En };
        let words = Words::new(Language::En, "UTC");
        let export = |shown: &ShownEvents| {
            let _ = std::fs::remove_file(&target.path);
            export_lock_history_in(&account, "lock-1", Some(shown), &target, &words, &Utc)
        };
        let written = || {
            let text = std::fs::read_to_string(&target.path).unwrap();
            text.trim_start_matches('\u{FEFF}')
                .lines()
                .skip(1)
                .map(|line| line.rsplit(',').next().unwrap().to_owned())
                .collect::<Vec<_>>()
        };
        let saved = ["1", "2", "3"];
        // The view shows events 3 and 1 (say, "Locked"): named, or by the one it hides.
        for shown in [only(&["3", "1"], 2, &saved), except(&["2"], 2, &saved)] {
            assert_eq!(export(&shown).unwrap().rows, 2, "{shown:?}");
            assert_eq!(written(), ["key-3", "key-1"], "the shown events, newest first: {shown:?}");
        }
        // Nothing hidden: all of it; nothing shown: an empty file, not the whole history.
        assert_eq!(export(&except(&[], 3, &saved)).unwrap().rows, 3);
        assert_eq!(export(&only(&[], 0, &saved)).unwrap().rows, 0);

        // What the view showed cannot be had exactly: no file, and a conflict to say so. The view had
        // another history (1, 2 and 4, event 2 hidden: the hidden ids say nothing of event 3, though
        // the rows would be as many), or shows an event not saved.
        for shown in [except(&["2"], 2, &["1", "2", "4"]), only(&["3", "1", "gone"], 3, &["1", "2", "3", "gone"])] {
            let error = export(&shown).unwrap_err();
            assert_eq!(error.kind, ErrorKind::Conflict, "{shown:?}");
            assert!(!target.path.exists(), "a file written for {shown:?}");
        }
        // A history the view had with event 4 since gone: the rows it shows named, they are written.
        assert_eq!(export(&only(&["3", "1"], 2, &["1", "2", "3", "4"])).unwrap().rows, 2);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_history_fetched_but_not_saved_is_exported_as_the_view_shows_it() {
        let account = Account::new(Store::in_memory().unwrap());
        let older =
            [event("1", "locked", "2026-11-01T08:00:00.000Z"), event("2", "unlocked", "2026-11-02T08:00:00.000Z")];
        account.remember_history("lock-1", &older, Utc::now()).unwrap();
        // The disk fills: the newer history (event 3 came) is fetched and shown, but not saved.
        account.with_store(|store| store.refuse_writes());
        let newer = [older[0].clone(), older[1].clone(), event("3", "locked", "2026-11-03T08:00:00.000Z")];
        assert!(account.remember_history("lock-1", &newer, Utc::now()).is_err());
        // Opened again with no network, the lock shows that history, not the older saved one.
        let offline = crate::locks::cached_events(&account, "lock-1").expect("a history to show");
        assert_eq!(offline.events.len(), 3, "the history fetched last, as shown before");
        let dir = std::env::temp_dir().join(format!("unloc-export-unsaved-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target { path: dir.join("historikk.csv"), format: FileFormat::Csv, language: Language::En };
        let words = Words::new(Language::En, "UTC");
        let shown = [only(&["3", "1"], 2, &["1", "2", "3"]), except(&["2"], 2, &["1", "2", "3"])];
        for shown in shown {
            let done = export_lock_history_in(&account, "lock-1", Some(&shown), &target, &words, &Utc).unwrap();
            assert_eq!(done.rows, 2, "{shown:?}");
            let text = std::fs::read_to_string(&target.path).unwrap();
            assert!(text.contains(",key-3") && text.contains(",key-1") && !text.contains(",key-2"), "{text}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_history_digest_is_the_one_the_lock_view_sends() {
        // The same ids give the same digest in ui-units.mjs ("historyDigest"), in any order.
        let ids = ["ev-1", "ev-2", "Bod ø 😀", ""];
        let digest = history_digest(ids);
        assert_eq!(digest, HistoryDigest { count: 4, sum: "77af9f5d60e85241".into() });
        assert_eq!(history_digest(ids.iter().rev().copied()), digest);
        assert_ne!(history_digest(["ev-1", "ev-2", "ev-3"]).sum, history_digest(["ev-1", "ev-2", "ev-4"]).sum);
    }
}
