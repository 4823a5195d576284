use chrono::{FixedOffset, NaiveDate};

use super::sync::Retention;
use super::*;
use crate::api::{Grant, Lock, LockEvent};
use crate::store::{KeyOrigin, Store};

fn moment(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

fn lock(id: &str, name: &str, city: &str, reference: &str) -> Lock {
    Lock {
        id: id.into(),
        name: name.into(),
        auth: Grant::OptOut,
        data: Some(reference.into()),
        street: Some("Storgata 1".into()),
        postal_code: Some("0155".into()),
        city: Some(city.into()),
        country_iso: Some("NO".into()),
    }
}

fn event(id: &str, name: &str, msn: &str, action: &str, at: &str) -> LockEvent {
    serde_json::from_value(serde_json::json!({
        "id": id, "keyId": format!("key-{name}"), "action": action, "name": name, "msn": msn, "created": at
    }))
    .unwrap()
}

/// An account with two locks and a few events of Kari and Ola on them.
fn account() -> Account {
    let account = Account::new(Store::in_memory().unwrap());
    let locks = [lock("l1", "Bakdør", "Oslo", "kunde-17"), lock("l2", "Port", "Bergen", "kunde-42")];
    account.remember_locks(&locks, moment("2026-11-30T12:00:00Z")).unwrap();
    account
        .with_store(|store| {
            store.archive_events(
                "l1",
                &[
                    event("e1", "Kari", "+4790000001", "unlocked", "2026-11-30T07:00:00.000Z"),
                    event("e2", "Kari", "+4790000001", "locked", "2026-11-30T07:05:00.000Z"),
                    event("e3", "Ola", "+4790000002", "unlocked", "2026-11-24T10:00:00.000Z"),
                ],
                None,
            )?;
            store.archive_events(
                "l2",
                &[
                    event("e4", "Ola", "+4790000002", "unlocked", "2026-11-29T23:30:00.000Z"),
                    event("e5", "Vaktmester AS", "", "unlocked", "2026-10-15T09:00:00.000Z"),
                ],
                None,
            )
        })
        .unwrap();
    account
}

/// Monday 30 November 2026, 12:00 in UTC+1 (a fixed zone: the boundaries below are exact).
fn now() -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339("2026-11-30T12:00:00+01:00").unwrap()
}

fn ids(account: &Account, filter: &ActivityFilter) -> Vec<String> {
    page(account, filter, &now(), 0, 100, true).unwrap().rows.into_iter().map(|row| row.id).collect()
}

#[test]
fn the_same_events_fetched_again_are_stored_once() {
    let account = account();
    let again = account
        .with_store(|store| {
            store.archive_events(
                "l1",
                &[event("e1", "Kari", "+4790000001", "unlocked", "2026-11-30T07:00:00.000Z")],
                None,
            )
        })
        .unwrap();
    assert_eq!(again, 0, "nothing new");
    let page = page(&account, &ActivityFilter::default(), &now(), 0, 100, true).unwrap();
    assert_eq!(page.total, Some(5));
    assert_eq!(page.archived, Some(5));
    assert_eq!(ids(&account, &ActivityFilter::default()), ["e2", "e1", "e4", "e3", "e5"], "newest first");
}

#[test]
fn a_window_is_the_rows_from_its_offset_without_a_count_while_scrolling() {
    let account = account();
    let window = page(&account, &ActivityFilter::default(), &now(), 2, 2, false).unwrap();
    assert_eq!(window.rows.iter().map(|row| row.id.as_str()).collect::<Vec<_>>(), ["e4", "e3"]);
    assert_eq!((window.offset, window.total), (2, None));
    assert_eq!(window.rows[0].lock_name, "Port");
    assert_eq!(window.rows[0].lock_address, "Storgata 1, 0155 Bergen");
    assert_eq!(window.rows[0].lock_reference, "kunde-42");
    assert!(page(&account, &ActivityFilter::default(), &now(), 0, MAX_WINDOW + 1, false).is_err());
}

#[test]
fn filters_by_lock_or_customer_person_and_action() {
    let account = account();
    let by = |lock: &str, person: &str, action: Option<&str>| ActivityFilter {
        lock: lock.into(),
        person: person.into(),
        action: action.map(str::to_owned),
        ..ActivityFilter::default()
    };
    assert_eq!(ids(&account, &by("bakdør", "", None)), ["e2", "e1", "e3"], "by name");
    assert_eq!(ids(&account, &by("BERGEN", "", None)), ["e4", "e5"], "by address");
    assert_eq!(ids(&account, &by("kunde-17", "", None)), ["e2", "e1", "e3"], "by reference");
    assert_eq!(ids(&account, &by("", "kari", None)), ["e2", "e1"], "by name");
    assert_eq!(ids(&account, &by("", "900 00 002", None)), ["e4", "e3"], "a phone typed with spaces");
    assert_eq!(ids(&account, &by("", "+4790000002", None)), ["e4", "e3"], "a phone in E.164");
    assert_eq!(ids(&account, &by("", "vaktmester", None)), ["e5"], "the partner's own use by its name");
    assert_eq!(ids(&account, &by("", "", Some("locked"))), ["e2"]);
    assert_eq!(ids(&account, &by("oslo", "ola", Some("unlocked"))), ["e3"], "all filters together");
    assert!(ids(&account, &by("trondheim", "", None)).is_empty());
}

#[test]
fn date_ranges_are_local_days_and_weeks_start_on_monday() {
    let zone = FixedOffset::east_opt(3600).unwrap();
    let local = |text: &str| Some(moment(text));
    let range = |range: DateRange| bounds(&range, &now());
    assert_eq!(range(DateRange::Today), (local("2026-11-29T23:00:00Z"), local("2026-11-30T23:00:00Z")));
    assert_eq!(range(DateRange::Yesterday), (local("2026-11-28T23:00:00Z"), local("2026-11-29T23:00:00Z")));
    // Monday 30 November is the first day of this week.
    assert_eq!(range(DateRange::ThisWeek), (local("2026-11-29T23:00:00Z"), local("2026-12-06T23:00:00Z")));
    assert_eq!(range(DateRange::LastWeek), (local("2026-11-22T23:00:00Z"), local("2026-11-29T23:00:00Z")));
    assert_eq!(range(DateRange::ThisMonth), (local("2026-10-31T23:00:00Z"), local("2026-11-30T23:00:00Z")));
    assert_eq!(range(DateRange::LastMonth), (local("2026-09-30T23:00:00Z"), local("2026-10-31T23:00:00Z")));
    let sunday = zone.with_ymd_and_hms(2026, 11, 29, 23, 59, 59).unwrap();
    assert_eq!(
        bounds(&DateRange::ThisWeek, &sunday),
        (local("2026-11-22T23:00:00Z"), local("2026-11-29T23:00:00Z")),
        "a Sunday ends its week"
    );
    let january = zone.with_ymd_and_hms(2027, 1, 5, 8, 0, 0).unwrap();
    assert_eq!(
        bounds(&DateRange::LastMonth, &january),
        (local("2026-11-30T23:00:00Z"), local("2026-12-31T23:00:00Z")),
        "last month across a new year"
    );
    let day = |text: &str| Some(NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap());
    let between = DateRange::Between { from: day("2026-11-24"), to: day("2026-11-29") };
    assert_eq!(range(between), (local("2026-11-23T23:00:00Z"), local("2026-11-29T23:00:00Z")), "both days included");
    assert_eq!(range(DateRange::Between { from: None, to: day("2026-11-29") }).0, None);
}

#[test]
fn days_that_daylight_saving_shortens_or_lengthens_are_whole_local_days() {
    use chrono_tz::{America::Santiago, Europe::Oslo};
    let local = |text: &str| Some(moment(text));
    // Oslo springs forward on 29 March 2026 (a 23-hour day) and falls back on 25 October (25 hours).
    let spring = Oslo.with_ymd_and_hms(2026, 3, 29, 12, 0, 0).unwrap();
    assert_eq!(bounds(&DateRange::Today, &spring), (local("2026-03-28T23:00:00Z"), local("2026-03-29T22:00:00Z")));
    let autumn = Oslo.with_ymd_and_hms(2026, 10, 25, 12, 0, 0).unwrap();
    assert_eq!(bounds(&DateRange::Today, &autumn), (local("2026-10-24T22:00:00Z"), local("2026-10-25T23:00:00Z")));
    assert_eq!(
        bounds(&DateRange::ThisMonth, &autumn),
        (local("2026-09-30T22:00:00Z"), local("2026-10-31T23:00:00Z")),
        "a month across the change"
    );
    // Santiago springs forward at midnight (6 September 2026): that day has no 00:00 and starts at
    // 01:00 local time, the moment the clocks jump to.
    let no_midnight = Santiago.with_ymd_and_hms(2026, 9, 6, 12, 0, 0).unwrap();
    assert_eq!(bounds(&DateRange::Today, &no_midnight).0, local("2026-09-06T04:00:00Z"));
    assert_eq!(bounds(&DateRange::Yesterday, &no_midnight).1, local("2026-09-06T04:00:00Z"));
}

#[test]
fn a_date_range_finds_the_events_of_those_local_days() {
    let account = account();
    let range = |range: DateRange| ActivityFilter { range: Some(range), ..ActivityFilter::default() };
    // e4 happened 23:30 UTC on Sunday the 29th: already Monday the 30th at UTC+1.
    assert_eq!(ids(&account, &range(DateRange::Today)), ["e2", "e1", "e4"]);
    assert!(ids(&account, &range(DateRange::Yesterday)).is_empty());
    assert_eq!(ids(&account, &range(DateRange::LastWeek)), ["e3"]);
    assert_eq!(ids(&account, &range(DateRange::LastMonth)), ["e5"]);
    let filter: ActivityFilter =
        serde_json::from_value(serde_json::json!({"range": {"preset": "between", "from": "2026-11-24", "to": null}}))
            .unwrap();
    assert_eq!(ids(&account, &filter), ["e2", "e1", "e4", "e3"], "the UI's custom range");
}

#[test]
fn retention_purges_older_events_and_people_left_without_events() {
    let account = account();
    let now = moment("2027-01-10T12:00:00Z");
    // Two months back from 10 January is 10 November: e5 (15 October) goes.
    assert_eq!(sync::purge(&account, Retention(Some(2)), now), 1);
    assert_eq!(ids(&account, &ActivityFilter::default()), ["e2", "e1", "e4", "e3"]);
    assert_eq!(
        page(&account, &ActivityFilter::default(), &super::tests::now(), 0, 1, true).unwrap().archived,
        Some(4),
        "the count follows"
    );
    let person = ActivityFilter { person: "vaktmester".into(), ..ActivityFilter::default() };
    assert!(ids(&account, &person).is_empty());
    assert_eq!(sync::purge(&account, Retention(None), now), 0, "until deleted keeps everything");
    // An event older than the retention is not archived again when Unloc still sends it.
    let keep_from = Retention(Some(2)).cutoff(now);
    let added = account
        .with_store(|store| {
            store.archive_events(
                "l2",
                &[event("e5", "Vaktmester AS", "", "unlocked", "2026-10-15T09:00:00.000Z")],
                keep_from,
            )
        })
        .unwrap();
    assert_eq!(added, 0);
    assert_eq!(account.with_store(|store| store.round_state()).unwrap().last_purge, Some(now));
}

#[test]
fn deleting_all_local_history_leaves_no_event_person_or_saved_history() {
    let account = account();
    account
        .with_store(|store| {
            store.save_events(
                "l1",
                &[event("e9", "Kari", "+4790000001", "unlocked", "2026-11-30T07:00:00.000Z")],
                Utc::now(),
            )
        })
        .unwrap();
    let learned_from_history = || {
        let keys = account.with_store(|store| store.keys(None)).unwrap();
        keys.iter().filter(|key| key.origin == KeyOrigin::Events || key.last_used.is_some()).count()
    };
    assert_eq!(learned_from_history(), 1, "the history taught the store a key and its use");
    let archive = sync::ArchiveSync::new(sync::SyncPolicy::default(), Retention(Some(12)));
    let before = archive.status().changes;
    delete_local_history(&account, &archive).unwrap();
    assert_eq!(learned_from_history(), 0, "no key, phone or time of use learned from a history is left");
    let emptied = page(&account, &ActivityFilter::default(), &now(), 0, 100, true).unwrap();
    assert_eq!((emptied.total, emptied.archived), (Some(0), Some(0)));
    assert!(account.with_store(|store| store.cached_events("l1")).unwrap().is_none());
    let person = ActivityFilter { person: "kari".into(), ..ActivityFilter::default() };
    assert!(ids(&account, &person).is_empty());
    assert!(archive.status().changes > before, "the list is told to ask again");
    // The locks stay known: a lock filter still works on what comes next.
    account
        .with_store(|store| {
            store.archive_events(
                "l1",
                &[event("e10", "Kari", "+4790000001", "unlocked", "2026-11-30T08:00:00.000Z")],
                None,
            )
        })
        .unwrap();
    assert_eq!(ids(&account, &ActivityFilter { lock: "bakdør".into(), ..ActivityFilter::default() }), ["e10"]);
}

#[test]
fn a_round_goes_on_from_its_recorded_cursor_after_a_restart() {
    let dir = std::env::temp_dir().join(format!("unloc-archive-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("cursor.sqlite3");
    let _ = std::fs::remove_file(&path);
    let started = moment("2026-11-30T12:00:00Z");
    {
        let (mut store, _) = Store::open(&path).unwrap();
        let locks: Vec<Lock> = (1..=3).map(|n| lock(&format!("l{n}"), "Lås", "Oslo", "k")).collect();
        store.archive_locks(&locks).unwrap();
        store.start_round(started).unwrap();
        assert_eq!(store.next_lock_to_sync().unwrap().as_deref(), Some("l1"));
        store.settle_lock("l1", started + chrono::Duration::seconds(1)).unwrap();
        // The app is killed here.
    }
    let (store, _) = Store::open(&path).unwrap();
    let round = store.round_state().unwrap();
    assert!(round.under_way());
    assert_eq!((round.done, round.total), (1, 3));
    assert_eq!(store.next_lock_to_sync().unwrap().as_deref(), Some("l2"), "l1 is not fetched again");
    store.settle_lock("l2", started + chrono::Duration::seconds(2)).unwrap();
    store.settle_lock("l3", started + chrono::Duration::seconds(3)).unwrap();
    assert_eq!(store.next_lock_to_sync().unwrap(), None);
    store.finish_round(started + chrono::Duration::seconds(4)).unwrap();
    let round = store.round_state().unwrap();
    assert!(!round.under_way());
    assert_eq!(round.finished, Some(started + chrono::Duration::seconds(4)));
    drop(store);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_the_retentions_settings_offers_are_taken() {
    assert_eq!(retention_choice(Some(6)).unwrap(), Retention(Some(6)));
    assert_eq!(retention_choice(None).unwrap(), Retention(None));
    assert_eq!(retention_choice(Some(7)).unwrap_err().field, Some("keepHistoryMonths"));
    assert_eq!(Retention(Some(2)).cutoff(moment("2026-12-31T10:00:00Z")), Some(moment("2026-10-31T10:00:00Z")));
}

#[test]
fn a_person_is_named_and_found_by_the_office_directory() {
    let account = account();
    crate::people::save(&account, None, "Kari Ødegård", "+4790000001", Some("Team Nord")).unwrap();
    let now = moment("2026-11-30T12:00:00Z").with_timezone(&FixedOffset::east_opt(3600).unwrap());
    for search in ["ødegård", "kari ødegård", "KARI"] {
        let filter = ActivityFilter { person: search.into(), ..ActivityFilter::default() };
        let rows = page(&account, &filter, &now, 0, 100, true).unwrap().rows;
        let found: Vec<(&str, Option<&str>)> =
            rows.iter().map(|row| (row.id.as_str(), row.person.as_deref())).collect();
        assert_eq!(found, [("e2", Some("Kari Ødegård")), ("e1", Some("Kari Ødegård"))], "{search}");
    }
    let everyone = page(&account, &ActivityFilter::default(), &now, 0, 100, true).unwrap().rows;
    let ola = everyone.iter().find(|row| row.id == "e3").unwrap();
    assert_eq!(ola.person, None, "a number the directory does not know has no directory name");
}
