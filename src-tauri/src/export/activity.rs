//! The Activity view's current filter and the "Visits per customer" report of one month, as tables:
//! both read from the local archive of every lock's events (no request to Unloc).
//!
//! A visit is one unlock: the report counts, per lock and person, how many times the person unlocked
//! it in the month, and when first and last. A person is their phone number (named from People when
//! the office has named it), or, for the partner's own use through Unloc Work, the name Unloc gave.

use std::collections::BTreeMap;

use chrono::{DateTime, Local, Months, NaiveDate, TimeZone};

use crate::account::Account;
use crate::activity::{query, ActivityFilter, DateRange};
use crate::error::{AppError, Result};
use crate::export::tables::Words;
use crate::export::{save, save_rows, Cell, Table, Target};
use crate::store::{ActivityQuery, ArchivedEvent, StoreError, StoreResult};
use crate::views::{ExportDone, VisitRow, VisitsReport};

/// The Activity export's headings, in the order of [`activity_row`]'s cells.
pub fn activity_headings(words: &Words) -> Vec<String> {
    vec![
        words.time_heading("export.col.time"),
        words.text("export.col.lock"),
        words.text("export.col.address"),
        words.text("export.col.reference"),
        words.text("export.col.action"),
        words.text("export.col.person"),
        words.text("export.col.phone"),
        words.text("export.col.keyId"),
    ]
}

/// The words for Unloc's two actions, looked up once for a whole export.
pub struct ActionWords {
    locked: String,
    unlocked: String,
}

impl ActionWords {
    pub fn new(words: &Words) -> Self {
        ActionWords { locked: words.action_word("locked"), unlocked: words.action_word("unlocked") }
    }

    /// An action as the archive keeps it (Unloc's word), in the user's words; one this app does not
    /// know is written as Unloc wrote it.
    fn of<'a>(&'a self, action: &'a str) -> &'a str {
        match action {
            "locked" => &self.locked,
            "unlocked" => &self.unlocked,
            other => other,
        }
    }
}

/// One event as a row of the Activity export, its text borrowed from the event.
pub fn activity_row<'a>(event: &'a ArchivedEvent, actions: &'a ActionWords) -> [Cell<'a>; 8] {
    [
        Cell::Time(event.at),
        Cell::borrowed(&event.lock_name),
        Cell::borrowed(&event.lock_address),
        Cell::borrowed(&event.lock_reference),
        Cell::borrowed(actions.of(&event.action)),
        Cell::borrowed(event.person.as_deref().unwrap_or(&event.name)),
        Cell::borrowed(&event.msn),
        Cell::borrowed(&event.key_id),
    ]
}

/// The unlocks among `events`, counted per lock and person (one row of the report each, the shape
/// the report screen shows and the export writes); by lock name, then person.
pub fn count_visits(events: &[ArchivedEvent]) -> Vec<VisitRow> {
    let mut by_lock_and_person: BTreeMap<(String, String), VisitRow> = BTreeMap::new();
    for event in events.iter().filter(|event| event.action == "unlocked") {
        let who = if event.msn.is_empty() { format!("name:{}", event.name) } else { event.msn.clone() };
        by_lock_and_person
            .entry((event.lock_id.clone(), who))
            .and_modify(|visits| {
                visits.visits += 1;
                visits.first = visits.first.min(event.at);
                visits.last = visits.last.max(event.at);
            })
            .or_insert_with(|| VisitRow {
                lock_id: event.lock_id.clone(),
                lock_name: event.lock_name.clone(),
                lock_address: event.lock_address.clone(),
                lock_reference: event.lock_reference.clone(),
                person: event.person.clone().unwrap_or_else(|| event.name.clone()),
                phone: event.msn.clone(),
                visits: 1,
                first: event.at,
                last: event.at,
            });
    }
    let mut visits: Vec<VisitRow> = by_lock_and_person.into_values().collect();
    visits.sort_by(|a, b| {
        (&a.lock_name, &a.lock_reference, &a.person).cmp(&(&b.lock_name, &b.lock_reference, &b.person))
    });
    visits
}

pub fn visits_table(visits: &[VisitRow], words: &Words) -> Table {
    Table {
        sheet: words.text("export.sheet.visits"),
        headings: vec![
            words.text("export.col.lock"),
            words.text("export.col.address"),
            words.text("export.col.reference"),
            words.text("export.col.person"),
            words.text("export.col.phone"),
            words.text("export.col.visits"),
            words.time_heading("export.col.firstVisit"),
            words.time_heading("export.col.lastVisit"),
        ],
        rows: visits
            .iter()
            .map(|visit| {
                vec![
                    Cell::text(&visit.lock_name),
                    Cell::text(&visit.lock_address),
                    Cell::text(&visit.lock_reference),
                    Cell::text(&visit.person),
                    Cell::text(&visit.phone),
                    Cell::Count(visit.visits),
                    Cell::Time(visit.first),
                    Cell::Time(visit.last),
                ]
            })
            .collect(),
    }
}

/// `2026-11` as the first day of that month; anything else is refused.
pub fn parse_month(text: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(&format!("{}-01", text.trim()), "%Y-%m-%d")
        .map_err(|_| AppError::invalid_input("month", "a month is written yyyy-mm"))
}

/// Every archived event the filter finds, newest first, for a user whose clock reads `now`: read
/// in slices, the store let go between them.
fn matching<Tz: TimeZone>(
    account: &Account,
    filter: &ActivityFilter,
    now: &DateTime<Tz>,
) -> Result<Vec<ArchivedEvent>> {
    let query = query(filter, now);
    let up_to = account.with_store(|store| store.last_archived_seq())?;
    let mut events = Vec::new();
    each_slice(account, &query, up_to, |slice| {
        events.extend(slice);
        Ok::<_, AppError>(())
    })?;
    Ok(events)
}

/// Reads the events of `query` archived up to `up_to`, newest first, EXPORT_SLICE at a time, and
/// hands each slice to `take` with the store let go. Where each slice ends is found first, in one
/// pass, so each slice's read is bounded on both sides (`Store::activity_slice_floors`).
///
/// The slices are read on a thread of their own, at most two ahead of `take`: reading the archive
/// and writing the file each take a large part of an export's time, and this way they overlap.
fn each_slice<E: From<StoreError>>(
    account: &Account,
    query: &ActivityQuery,
    up_to: i64,
    mut take: impl FnMut(Vec<ArchivedEvent>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let was = account.with_store(|store| store.set_page_cache(EXPORT_PAGE_CACHE))?;
    let read = std::thread::scope(|scope| {
        let (slices, read_slices) = std::sync::mpsc::sync_channel::<Vec<ArchivedEvent>>(1);
        let read_ahead = move || {
            each_slice_read(account, query, up_to, |events| slices.send(events).map_err(|_| ReadStopped::TakerStopped))
        };
        let reader = match std::thread::Builder::new().name("export-read".into()).spawn_scoped(scope, read_ahead) {
            Ok(reader) => reader,
            // No thread to be had: read and take in turn, as before the read-ahead.
            Err(error) => {
                log::warn!("an export reads without reading ahead (no thread: {error})");
                return each_slice_read(account, query, up_to, take);
            }
        };
        let taken = read_slices.iter().try_for_each(&mut take);
        // When `take` failed, the reader's next send fails and it stops.
        drop(read_slices);
        let read = reader.join().unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        match (taken, read) {
            (Err(error), _) => Err(error),
            (Ok(()), Err(ReadStopped::Store(error))) => Err(E::from(error)),
            // Cannot happen (the slices are let go only after the taker's last one), but were it to,
            // a file without its last rows must not pass for a finished export.
            (Ok(()), Err(ReadStopped::TakerStopped)) => {
                Err(E::from(StoreError::Io(std::io::Error::other("the export's reading stopped before its last rows"))))
            }
            (Ok(()), Ok(())) => Ok(()),
        }
    });
    // The read's own outcome is what the user hears about; a cache left large costs only memory.
    if let Err(error) = account.with_store(|store| store.set_page_cache(was)) {
        log::warn!("the page cache was not set back after an export's read: {error}");
    }
    read
}

/// Why the reading thread of an export stopped early.
enum ReadStopped {
    Store(StoreError),
    /// The rows' taker failed and let go of the slices.
    TakerStopped,
}

impl From<StoreError> for ReadStopped {
    fn from(error: StoreError) -> Self {
        ReadStopped::Store(error)
    }
}

/// The page cache while an export reads (`cache_size`, KiB when negative: 32 MiB): a tenth of a
/// 1,000,000-event archive touches ~20 MiB of pages, out of the file's order.
const EXPORT_PAGE_CACHE: i64 = -32 * 1024;

fn each_slice_read<E: From<StoreError>>(
    account: &Account,
    query: &ActivityQuery,
    up_to: i64,
    mut take: impl FnMut(Vec<ArchivedEvent>) -> std::result::Result<(), E>,
) -> std::result::Result<(), E> {
    let floors = account.with_store(|store| store.activity_slice_floors(query, up_to, EXPORT_SLICE))?;
    let mut after = None;
    for floor in floors {
        let (events, end) =
            account.with_store(|store| store.activity_slice(query, up_to, after, Some(floor), EXPORT_SLICE))?;
        after = end.or(after);
        take(events)?;
    }
    // Nothing is left unless the floors missed something (the retention removed events between the
    // two passes only ever leaves less): read on without a floor until a slice is not full.
    loop {
        let (events, end) =
            account.with_store(|store| store.activity_slice(query, up_to, after, None, EXPORT_SLICE))?;
        let full = events.len() as u64 == EXPORT_SLICE;
        if !events.is_empty() {
            take(events)?;
        }
        match end {
            Some(end) if full => after = Some(end),
            _ => return Ok(()),
        }
    }
}

/// Exports what the Activity view shows for `filter`, in local time.
pub fn export_activity(account: &Account, filter: &ActivityFilter, target: &Target) -> Result<ExportDone> {
    export_activity_in(account, filter, &Local::now(), target, &Words::local(target.language))
}

/// How many events an export reads at a time: the store is held for one slice (some milliseconds),
/// never for the whole export, so the sync and the views go on meanwhile. (Before the slices, the
/// count and the slices' floors are each one pass over the matching events' times: tens of ms for
/// 100,000 of 1,000,000 events, a few hundred for all of them.)
const EXPORT_SLICE: u64 = 5_000;

/// Every event `filter` finds, newest first, written as they are read: counted first (so a filter
/// with more rows than Excel takes is refused before anything is read), then read in slices among
/// the events archived when the export began.
pub fn export_activity_in<Tz: TimeZone>(
    account: &Account,
    filter: &ActivityFilter,
    now: &DateTime<Tz>,
    target: &Target,
    words: &Words,
) -> Result<ExportDone> {
    let query = query(filter, now);
    let (rows, up_to) = account.with_store(|store| -> StoreResult<(u64, i64)> {
        Ok((store.activity_count(&query)?, store.last_archived_seq()?))
    })?;
    let actions = ActionWords::new(words);
    let sheet = words.text("export.sheet.activity");
    save_rows(&sheet, &activity_headings(words), rows, target, &now.timezone(), |write| {
        each_slice(account, &query, up_to, |events| {
            events.iter().try_for_each(|event| write(&activity_row(event, &actions)))
        })
    })
}

/// Exports the visits report of `month` (`yyyy-mm`, the user's local days), in local time.
pub fn export_visits(account: &Account, month: &str, target: &Target) -> Result<ExportDone> {
    export_visits_in(account, month, &Local::now(), target, &Words::local(target.language))
}

pub fn export_visits_in<Tz: TimeZone>(
    account: &Account,
    month: &str,
    now: &DateTime<Tz>,
    target: &Target,
    words: &Words,
) -> Result<ExportDone> {
    let visits = visits_in(account, month, now)?;
    save(&visits_table(&visits, words), target, &now.timezone())
}

/// The visits report of `month` (`yyyy-mm`, local days of `now`'s zone): what the report screen
/// shows and what its export writes.
pub fn visits_in<Tz: TimeZone>(account: &Account, month: &str, now: &DateTime<Tz>) -> Result<Vec<VisitRow>> {
    let first = parse_month(month)?;
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .ok_or_else(|| AppError::invalid_input("month", "a month is written yyyy-mm"))?;
    let filter = ActivityFilter {
        range: Some(DateRange::Between { from: Some(first), to: Some(last) }),
        action: Some("unlocked".to_owned()),
        ..ActivityFilter::default()
    };
    Ok(count_visits(&matching(account, &filter, now)?))
}

/// The visits report of `month` in this computer's time zone, for the report screen.
pub fn visits_report(account: &Account, month: &str) -> Result<VisitsReport> {
    let visits = visits_in(account, month, &Local::now())?;
    Ok(VisitsReport { month: month.trim().to_owned(), rows: visits })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Lock, LockEvent};
    use crate::export::{FileFormat, Language};
    use crate::store::Store;
    use chrono::{FixedOffset, Utc};

    fn event(id: &str, action: &str, name: &str, msn: &str, created: &str) -> LockEvent {
        serde_json::from_value(serde_json::json!({
            "id": id, "keyId": "k", "action": action, "name": name, "msn": msn, "created": created,
        }))
        .unwrap()
    }

    fn lock(id: &str, name: &str, reference: &str) -> Lock {
        serde_json::from_value(serde_json::json!({"id": id, "name": name, "auth": "opt-out", "data": reference}))
            .unwrap()
    }

    /// An account whose archive holds two customers' locks and a month and a bit of their use.
    fn archived() -> Account {
        let account = Account::new(Store::in_memory().unwrap());
        account
            .with_store(|store| -> crate::store::StoreResult<()> {
                store.archive_locks(&[lock("a", "=Kunde A", "k-1"), lock("b", "Kunde B", "k-2")])?;
                store.archive_events(
                    "a",
                    &[
                        event("1", "unlocked", "Kari", "+4790000001", "2026-11-03T07:00:00.000Z"),
                        event("2", "locked", "Kari", "+4790000001", "2026-11-03T07:30:00.000Z"),
                        event("3", "unlocked", "Kari", "+4790000001", "2026-11-20T07:00:00.000Z"),
                        event("4", "unlocked", "Ola", "+4790000002", "2026-11-10T12:00:00.000Z"),
                        // 23:30 UTC on 30 November is 1 December in Oslo: next month's.
                        event("5", "unlocked", "Ola", "+4790000002", "2026-11-30T23:30:00.000Z"),
                        event("6", "unlocked", "Kari", "+4790000001", "2026-10-31T23:30:00.000Z"),
                    ],
                    None,
                )?;
                store.archive_events(
                    "b",
                    &[event("7", "unlocked", "Renhold AS", "", "2026-11-15T09:00:00.000Z")],
                    None,
                )?;
                Ok(())
            })
            .unwrap();
        account
    }

    fn oslo_now() -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00+01:00").unwrap()
    }

    fn read(path: &str) -> Vec<String> {
        std::fs::read_to_string(path).unwrap().trim_start_matches('\u{FEFF}').lines().map(str::to_owned).collect()
    }

    #[test]
    fn the_visits_of_a_month_are_counted_per_lock_and_person_in_local_days() {
        let dir = std::env::temp_dir().join(format!("unloc-export-visits-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target { path: dir.join("besok.csv"), format: FileFormat::Csv, language: Language::Nb };
        let words = Words::new(Language::Nb, "Europe/Oslo");
        let done = export_visits_in(&archived(), "2026-11", &oslo_now(), &target, &words).unwrap();
        let lines = read(&done.path);
        assert_eq!(
            lines[0],
            "Lås;Adresse;Egen referanse;Person;Telefon;Besøk (låst opp);Første besøk (Europe/Oslo);Siste besøk (Europe/Oslo)"
        );
        // Kari: 1 November 00:30 Oslo (31 October UTC) counts, the lock is not a visit; Ola's visit at
        // 00:30 on 1 December Oslo does not. The lock's name that looks like a formula stays text.
        assert_eq!(
            &lines[1..],
            [
                "'=Kunde A;;k-1;Kari;'+4790000001;3;2026-11-01 00:30:00;2026-11-20 08:00:00",
                "'=Kunde A;;k-1;Ola;'+4790000002;1;2026-11-10 13:00:00;2026-11-10 13:00:00",
                "Kunde B;;k-2;Renhold AS;;1;2026-11-15 10:00:00;2026-11-15 10:00:00",
            ]
        );
        assert_eq!(done.rows, 3);
        for nonsense in ["november", "+262142-12"] {
            let error = export_visits_in(&archived(), nonsense, &oslo_now(), &target, &words).unwrap_err();
            assert_eq!(error.field, Some("month"), "{nonsense}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_report_screen_gets_the_rows_the_export_writes_with_each_lock_id_and_people_names() {
        let account = archived();
        let kari = crate::store::PersonRecord { name: "Kari Nordmann".into(), phone: "+4790000001".into(), note: None };
        account.with_store(|store| store.save_person(None, &kari, Utc::now())).unwrap();
        let rows = visits_in(&account, "2026-11", &oslo_now()).unwrap();
        let summary: Vec<_> = rows
            .iter()
            .map(|row| (row.lock_id.as_str(), row.person.as_str(), row.phone.as_str(), row.visits))
            .collect();
        assert_eq!(
            summary,
            [("a", "Kari Nordmann", "+4790000001", 3), ("a", "Ola", "+4790000002", 1), ("b", "Renhold AS", "", 1)]
        );
        assert_eq!(rows[0].first, "2026-10-31T23:30:00Z".parse::<DateTime<Utc>>().unwrap());
        assert_eq!(rows[0].last, "2026-11-20T07:00:00Z".parse::<DateTime<Utc>>().unwrap());
        let json = serde_json::to_value(&rows[2]).unwrap();
        assert_eq!(json["lockReference"], "k-2");
        assert_eq!(json["first"], "2026-11-15T09:00:00.000Z");
        assert_eq!(visits_in(&account, "2026-13", &oslo_now()).unwrap_err().field, Some("month"));
    }

    #[test]
    fn the_activity_export_holds_what_the_filter_finds_newest_first() {
        let dir = std::env::temp_dir().join(format!("unloc-export-activity-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target { path: dir.join("aktivitet.csv"), format: FileFormat::Csv, language: Language::En };
        let words = Words::new(Language::En, "Europe/Oslo");
        let filter = ActivityFilter { person: "Ola".into(), ..ActivityFilter::default() };
        let done = export_activity_in(&archived(), &filter, &oslo_now(), &target, &words).unwrap();
        let lines = read(&done.path);
        assert_eq!(lines[0], "Time (Europe/Oslo),Lock,Address,Your reference,Event,Person,Phone,Key ID");
        assert_eq!(
            &lines[1..],
            [
                "2026-12-01 00:30:00,'=Kunde A,,k-1,Unlocked,Ola,'+4790000002,k",
                "2026-11-10 13:00:00,'=Kunde A,,k-1,Unlocked,Ola,'+4790000002,k",
            ]
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// `count` unlocks at lock "a", seven to a second (ties the slices must not split wrongly), each
    /// with its own key id.
    fn many(count: usize) -> Account {
        many_at_once(count, 7)
    }

    /// `count` events on lock "a", `at_once` of them at each second.
    fn many_at_once(count: usize, at_once: usize) -> Account {
        let account = Account::new(Store::in_memory().unwrap());
        let start = "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let events: Vec<LockEvent> = (0..count)
            .map(|i| {
                let at = start + chrono::Duration::seconds((i / at_once) as i64);
                let mut event = event(&format!("e{i}"), "unlocked", "Kari", "+4790000001", &at.to_rfc3339());
                event.key_id = format!("k{i:05}");
                event
            })
            .collect();
        account
            .with_store(|store| -> crate::store::StoreResult<()> {
                store.archive_locks(&[lock("a", "Kunde A", "k-1")])?;
                store.archive_events("a", &events, None)?;
                Ok(())
            })
            .unwrap();
        account
    }

    /// Exports what `filter` finds in `account` as CSV and checks it holds `count` events, each
    /// once, newest first.
    fn assert_exported_once_newest_first(account: &Account, filter: &ActivityFilter, count: usize) {
        let dir = std::env::temp_dir().join(format!("unloc-export-slices-{}", fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        let target = Target { path: dir.join("alt.csv"), format: FileFormat::Csv, language: Language::En };
        let words = Words::new(Language::En, "UTC");
        let done = export_activity_in(account, filter, &oslo_now(), &target, &words).unwrap();
        assert_eq!(done.rows, count);
        let lines = read(&done.path);
        let keys: Vec<&str> = lines[1..].iter().map(|line| line.rsplit(',').next().unwrap()).collect();
        let mut unique = keys.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!((keys.len(), unique.len()), (count, count), "every event once");
        // Event i is at or after event i - 1 and archived after it: newest first is k(count-1) … k00000.
        let expected: Vec<String> = (0..count).rev().map(|i| format!("k{i:05}")).collect();
        assert!(keys == expected, "newest first, and within a second the later archived first");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_activity_export_of_several_slices_holds_every_event_once_newest_first() {
        let count = 2 * EXPORT_SLICE as usize + 17;
        let account = many(count);
        assert_exported_once_newest_first(&account, &ActivityFilter::default(), count);
        // The larger page cache of the export's read is given back: SQLite's default, -2000 KiB.
        assert_eq!(account.with_store(|store| store.page_cache()).unwrap(), -2000);
    }

    /// The slices end inside runs of events at the same second (the floor is a time, and the
    /// slice after it starts within the same second), and the lock filter reads through the lock's
    /// index instead of the time's.
    #[test]
    fn an_export_whose_slices_end_among_events_of_the_same_second_holds_each_once() {
        let count = 2 * EXPORT_SLICE as usize + 1_234;
        let by_lock = ActivityFilter { lock: "kunde a".into(), ..ActivityFilter::default() };
        assert_exported_once_newest_first(&many_at_once(count, 3_001), &by_lock, count);
        assert_exported_once_newest_first(&many_at_once(count, 3_001), &ActivityFilter::default(), count);
    }

    #[test]
    fn the_slice_floors_are_the_time_of_every_nth_event_and_of_the_last() {
        let account = many_at_once(12, 1);
        let query = query(&ActivityFilter::default(), &oslo_now());
        let up_to = account.with_store(|store| store.last_archived_seq()).unwrap();
        let start = "2026-11-01T00:00:00Z".parse::<DateTime<Utc>>().unwrap().timestamp_millis();
        let seconds = |floors: Vec<i64>| floors.into_iter().map(|at| (at - start) / 1000).collect::<Vec<_>>();
        let floors = |every| account.with_store(|store| store.activity_slice_floors(&query, up_to, every)).unwrap();
        assert_eq!(seconds(floors(5)), [7, 2, 0]);
        assert_eq!(seconds(floors(4)), [8, 4, 0]);
        assert_eq!(seconds(floors(100)), [0]);
    }

    #[test]
    fn events_archived_between_two_slices_neither_shift_the_slices_nor_join_them() {
        let account = many(30);
        let query = query(&ActivityFilter::default(), &oslo_now());
        let up_to = account.with_store(|store| store.last_archived_seq()).unwrap();
        let (first, end) = account.with_store(|store| store.activity_slice(&query, up_to, None, None, 10)).unwrap();
        // The sync archives newer and older events of the lock while the export writes the first slice.
        let late = [
            event("new", "unlocked", "Ola", "+4790000002", "2026-11-30T00:00:00Z"),
            event("old", "unlocked", "Ola", "+4790000002", "2026-10-01T00:00:00Z"),
        ];
        account.with_store(|store| store.archive_events("a", &late, None)).unwrap();
        let (rest, _) = account.with_store(|store| store.activity_slice(&query, up_to, end, None, 100)).unwrap();
        let ids: Vec<&str> = first.iter().chain(&rest).map(|event| event.id.as_str()).collect();
        let expected: Vec<String> = (0..30).rev().map(|i| format!("e{i}")).collect();
        assert_eq!(ids, expected);
    }

    /// Runs `work` on a thread of its own and gives its outcome, failing the test after a minute:
    /// a read-ahead left waiting for a taker that has gone would otherwise hang the test run.
    fn within_a_minute<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> T {
        let (done, outcome) = std::sync::mpsc::channel();
        std::thread::spawn(move || done.send(work()));
        match outcome.recv_timeout(std::time::Duration::from_secs(60)) {
            Ok(outcome) => outcome,
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!("the export did not end within a minute"),
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => panic!("the export's thread panicked"),
        }
    }

    #[test]
    fn a_writer_that_fails_ends_the_export_with_its_error_without_waiting_for_the_reading() {
        let account = std::sync::Arc::new(many(6 * EXPORT_SLICE as usize));
        let exporting = account.clone();
        let (outcome, slices) = within_a_minute(move || {
            let query = query(&ActivityFilter::default(), &oslo_now());
            let up_to = exporting.with_store(|store| store.last_archived_seq()).unwrap();
            let mut slices = 0;
            let outcome = each_slice(&exporting, &query, up_to, |_| {
                slices += 1;
                Err(AppError::invalid_input("disk", "the disk is full"))
            });
            (outcome, slices)
        });
        let error = outcome.expect_err("the writer's failure is the export's");
        assert!(error.to_string().contains("the disk is full"), "{error}");
        assert_eq!(slices, 1, "nothing is handed to a writer after it failed");
        assert_eq!(account.with_store(|store| store.page_cache()).unwrap(), -2000);
    }

    #[test]
    fn a_read_that_fails_midway_is_the_exports_error_not_a_shorter_file() {
        let count = 6 * EXPORT_SLICE as usize;
        let account = std::sync::Arc::new(many(count));
        let (outcome, taken) = within_a_minute(move || {
            let query = query(&ActivityFilter::default(), &oslo_now());
            let up_to = account.with_store(|store| store.last_archived_seq()).unwrap();
            let mut taken = 0;
            let outcome = each_slice(&account, &query, up_to, |slice| {
                if taken == 0 {
                    // The archive fails while the first slice is being written.
                    account.with_store(|store| store.lose_the_archived_events());
                }
                taken += slice.len();
                Ok::<_, AppError>(())
            });
            (outcome, taken)
        });
        assert!(taken < count, "the lost table was read to the end ({taken} events)");
        let error = outcome.expect_err("a read that failed is not a finished export");
        assert!(error.to_string().contains("archive_events"), "{error}");
    }
}
