//! What the user can export, as tables: a lock's saved history and the known keys. Each heading
//! and word comes from the UI's catalog, in the language the user reads the app in.

use std::collections::{HashMap, HashSet};

use chrono::{Local, TimeZone};

use crate::account::Account;
use crate::api::{Action, LockEvent};
use crate::catalog::Catalog;
use crate::error::Result;
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

/// Exports the history of `lock_id` the app has saved (no request to Unloc), in local time: every
/// saved event, or with `shown` only those (the ids of the rows the lock view shows under its search
/// and filter: the user exports what they see).
pub fn export_lock_history(
    account: &Account,
    lock_id: &str,
    shown: Option<&[String]>,
    target: &Target,
) -> Result<ExportDone> {
    export_lock_history_in(account, lock_id, shown, target, &Words::local(target.language), &Local)
}

pub fn export_lock_history_in<Tz: TimeZone>(
    account: &Account,
    lock_id: &str,
    shown: Option<&[String]>,
    target: &Target,
    words: &Words,
    zone: &Tz,
) -> Result<ExportDone> {
    let mut events =
        account.with_store(|store| store.cached_events(lock_id))?.map(|(events, _)| events).unwrap_or_default();
    if let Some(shown) = shown {
        let shown: HashSet<&str> = shown.iter().map(String::as_str).collect();
        events.retain(|event| shown.contains(event.id.as_str()));
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

    #[test]
    fn a_filtered_history_exports_only_the_events_shown() {
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
        // The view shows events 3 and 1 (say, "Locked"); an id no longer saved is no row.
        let shown = ["3".to_owned(), "1".to_owned(), "gone".to_owned()];
        let done = export_lock_history_in(&account, "lock-1", Some(&shown), &target, &words, &Utc).unwrap();
        assert_eq!(done.rows, 2);
        let text = std::fs::read_to_string(&done.path).unwrap();
        let keys: Vec<&str> =
            text.trim_start_matches('\u{FEFF}').lines().skip(1).map(|line| line.rsplit(',').next().unwrap()).collect();
        assert_eq!(keys, ["key-3", "key-1"], "the shown events, newest first");
        // Nothing shown is an empty file, not the whole history.
        let done = export_lock_history_in(&account, "lock-1", Some(&[]), &target, &words, &Utc).unwrap();
        assert_eq!(done.rows, 0);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
