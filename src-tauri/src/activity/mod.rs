//! Activity: every event of every lock, from the local archive, filtered by date range, lock or
//! customer, person and action — and the background sync (`sync`) that keeps the archive filled
//! and the retention that keeps it from growing beyond what the office chose to keep.
//!
//! The filter is resolved here (a date range in the user's time zone, weeks starting on Monday,
//! the search words folded) and run as SQL over indexed tables in `store::archive`; the UI asks for
//! the window of rows it shows, never for the whole list. `query` is what an export reuses.

pub mod sync;

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, TimeZone, Utc};
use serde::Deserialize;

use crate::account::Account;
use crate::activity::sync::{purge, ArchiveSync, Retention};
use crate::error::{AppError, Result};
use crate::settings::KEEP_HISTORY_CHOICES;
use crate::store::{ActivityQuery, ArchivedEvent};
use crate::views::{ActivityPage, ActivityRow};

/// The most rows one window may ask for.
pub const MAX_WINDOW: u64 = 1_000;

/// A date range as the user picks it; days are the user's local days.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", tag = "preset")]
pub enum DateRange {
    Today,
    Yesterday,
    ThisWeek,
    LastWeek,
    ThisMonth,
    LastMonth,
    /// From the start of `from` to the end of `to` (both included; either may be left open).
    Between {
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    },
}

/// What the Activity view's filters say.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActivityFilter {
    #[serde(default)]
    pub range: Option<DateRange>,
    /// Words to find in a lock's name, address or the partner's reference.
    #[serde(default)]
    pub lock: String,
    /// Words to find in a person's name or phone.
    #[serde(default)]
    pub person: String,
    /// `locked`, `unlocked`, or another action word; `None`: every action.
    #[serde(default)]
    pub action: Option<String>,
}

/// The first moment of a local day. Where a day starts inside a gap of the clock (a daylight-saving
/// change at midnight), the day starts at the first moment that exists.
fn start_of_day<Tz: TimeZone>(day: NaiveDate, zone: &Tz) -> DateTime<Utc> {
    let midnight = day.and_hms_opt(0, 0, 0).unwrap_or_default();
    (0..=3)
        .find_map(|hours| zone.from_local_datetime(&(midnight + chrono::Duration::hours(hours))).earliest())
        .map(|moment| moment.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// The moments a range covers: from (included) and until (excluded), in UTC, for a user whose clock
/// reads `now`. Weeks start on Monday.
pub fn bounds<Tz: TimeZone>(range: &DateRange, now: &DateTime<Tz>) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let zone = now.timezone();
    let today = now.date_naive();
    let day_after = |day: NaiveDate| day.checked_add_days(Days::new(1)).unwrap_or(day);
    let monday = today - Days::new(u64::from(today.weekday().num_days_from_monday()));
    let first_of_month = today.with_day(1).unwrap_or(today);
    let days = |from: NaiveDate, until: NaiveDate| (Some(start_of_day(from, &zone)), Some(start_of_day(until, &zone)));
    match range {
        DateRange::Today => days(today, day_after(today)),
        DateRange::Yesterday => days(today - Days::new(1), today),
        DateRange::ThisWeek => days(monday, monday + Days::new(7)),
        DateRange::LastWeek => days(monday - Days::new(7), monday),
        DateRange::ThisMonth => days(first_of_month, first_of_month + Months::new(1)),
        DateRange::LastMonth => days(first_of_month - Months::new(1), first_of_month),
        DateRange::Between { from, to } => {
            (from.map(|day| start_of_day(day, &zone)), to.map(|day| start_of_day(day_after(day), &zone)))
        }
    }
}

/// Search words: lower-case, split on white space.
fn words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_lowercase).collect()
}

/// A person is found by name or phone; a phone typed with spaces ("900 00 021") is one number.
fn person_words(text: &str) -> Vec<String> {
    let looks_like_phone =
        text.chars().any(|c| c.is_ascii_digit()) && text.chars().all(|c| c.is_ascii_digit() || " +-()".contains(c));
    if looks_like_phone {
        vec![text.chars().filter(char::is_ascii_digit).collect()]
    } else {
        words(text)
    }
}

/// The filter as SQL needs it, for a user whose clock reads `now`.
pub fn query<Tz: TimeZone>(filter: &ActivityFilter, now: &DateTime<Tz>) -> ActivityQuery {
    let (from, until) = filter.range.as_ref().map(|range| bounds(range, now)).unwrap_or((None, None));
    ActivityQuery {
        from,
        until,
        lock_words: words(&filter.lock),
        person_words: person_words(&filter.person),
        action: filter.action.clone().filter(|action| !action.is_empty()),
    }
}

fn row(event: ArchivedEvent) -> ActivityRow {
    ActivityRow {
        id: event.id,
        lock_id: event.lock_id,
        lock_name: event.lock_name,
        lock_address: event.lock_address,
        lock_reference: event.lock_reference,
        key_id: event.key_id,
        action: event.action,
        name: event.name,
        msn: event.msn,
        person: event.person,
        at: event.at,
    }
}

/// A window of the filtered Activity list, newest first, with the counts when `count` is asked for
/// (a new filter) and without them while scrolling.
pub fn page<Tz: TimeZone>(
    account: &Account,
    filter: &ActivityFilter,
    now: &DateTime<Tz>,
    offset: u64,
    limit: u64,
    count: bool,
) -> Result<ActivityPage> {
    if limit > MAX_WINDOW {
        return Err(AppError::invalid_input("limit", format!("at most {MAX_WINDOW} rows at a time")));
    }
    let query = query(filter, now);
    let page = account.with_store(|store| -> crate::store::StoreResult<ActivityPage> {
        let rows = store.activity_rows(&query, offset, limit)?.into_iter().map(row).collect();
        let (total, archived) =
            if count { (Some(store.activity_count(&query)?), Some(store.archived_events()?)) } else { (None, None) };
        Ok(ActivityPage { offset, rows, total, archived })
    })?;
    Ok(page)
}

/// The retention the user chose (`None`: until deleted), if it is one Settings offers.
pub fn retention_choice(months: Option<u32>) -> Result<Retention> {
    match months {
        Some(months) if !KEEP_HISTORY_CHOICES.contains(&months) => {
            Err(AppError::invalid_input("keepHistoryMonths", format!("{months} months is not a choice")))
        }
        months => Ok(Retention(months)),
    }
}

/// Keeps history for the new retention from now on, and purges what it no longer keeps at once.
pub fn apply_retention(archive: &ArchiveSync, account: Option<&Account>, retention: Retention) {
    archive.set_retention(retention);
    if let Some(account) = account {
        if purge(account, retention, Utc::now()) > 0 {
            archive.changed();
        }
    }
}

/// "Delete all local history": every archived event and every saved lock history.
pub fn delete_local_history(account: &Account, archive: &ArchiveSync) -> Result<()> {
    account.delete_local_history()?;
    archive.changed();
    log::info!("all local history deleted at the user's request");
    Ok(())
}

/// In team mode, with "Delete all local history" and the user's second yes: the office's shared
/// copy of the history goes too (other desks keep their local copies). Returns whether the team
/// database took it (false: it could not be reached or refused; nothing was deleted there).
pub async fn delete_office_history(team: &crate::session::TeamAttachment) -> bool {
    let Some(link) = team.get() else {
        return false;
    };
    let deleted = async { link.keys().await?.delete_shared_events().await };
    match deleted.await {
        Ok(count) => {
            log::info!("the office's shared history deleted at the user's request ({count} events)");
            true
        }
        Err(error) => {
            log::warn!("the office's shared history could not be deleted: {error}");
            false
        }
    }
}

#[cfg(test)]
mod office_tests;
#[cfg(test)]
mod tests;
