//! The activity archive in the local store: every lock's events, kept beyond Unloc's two months,
//! and the cursor of the sync that fills it (which round, which locks are done), so a sync stopped
//! half-way (the app closed or killed) goes on where it was.
//!
//! Locks and people are stored once (`archive_locks`, `archive_people`) and each event points at
//! them: a filter by lock or person first finds the few matching locks or people, then reads the
//! events of those through an index on (lock or person, time). Events are deduplicated by their id.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::types::Value;
use rusqlite::{params, params_from_iter, OptionalExtension};

use super::{Store, StoreResult};
use crate::api::{Lock, LockEvent};

/// A filter over the archive, in the words SQL needs; `activity` builds it from what the user chose.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityQuery {
    /// Events at or after this moment.
    pub from: Option<DateTime<Utc>>,
    /// Events before this moment.
    pub until: Option<DateTime<Utc>>,
    /// Lower-case words that must all be in a lock's name, address or reference.
    pub lock_words: Vec<String>,
    /// Lower-case words that must all be in a person's name or phone (digits only for a phone).
    pub person_words: Vec<String>,
    /// One action (`locked`, `unlocked`, or another word Unloc used).
    pub action: Option<String>,
}

/// The columns [`read_archived_event`] reads, in its order: an event (`e`) with its lock (`l`), the
/// person Unloc named (`p`) and that phone's name in People.
const ARCHIVED_EVENT_COLUMNS: &str = "SELECT e.id, l.lock_id, l.name, l.address, l.reference, e.key_id, e.action,
    p.name, p.msn, e.at, (SELECT d.name FROM people AS d WHERE d.phone = p.msn)";

fn read_archived_event(row: &rusqlite::Row) -> rusqlite::Result<ArchivedEvent> {
    Ok(ArchivedEvent {
        id: row.get(0)?,
        lock_id: row.get(1)?,
        lock_name: row.get(2)?,
        lock_address: row.get(3)?,
        lock_reference: row.get(4)?,
        key_id: row.get(5)?,
        action: row.get(6)?,
        name: row.get(7)?,
        msn: row.get(8)?,
        at: from_millis(row.get(9)?),
        person: row.get(10)?,
    })
}

/// Where a slice of [`Store::activity_slice`] ended: its last event's time (ms) and `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SliceEnd {
    at: i64,
    seq: i64,
}

/// One archived event with its lock and person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedEvent {
    pub id: String,
    pub lock_id: String,
    pub lock_name: String,
    pub lock_address: String,
    pub lock_reference: String,
    pub key_id: String,
    pub action: String,
    /// The person's name as Unloc gave it with the event.
    pub name: String,
    /// E.164, or "" for the partner's own use through Unloc Work.
    pub msn: String,
    /// The name of this phone in the office's own directory (People), if it has one.
    pub person: Option<String>,
    pub at: DateTime<Utc>,
}

/// Where the sync stands: the round under way (or the last one) and how far it got.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoundState {
    pub started: Option<DateTime<Utc>>,
    /// When the last round finished (before `started` while a round is under way).
    pub finished: Option<DateTime<Utc>>,
    pub total: u64,
    pub done: u64,
    pub last_purge: Option<DateTime<Utc>>,
}

impl RoundState {
    pub fn under_way(&self) -> bool {
        match (self.started, self.finished) {
            (Some(started), Some(finished)) => finished < started,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }
}

fn millis(moment: DateTime<Utc>) -> i64 {
    moment.timestamp_millis()
}

fn from_millis(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms).single().unwrap_or_default()
}

/// What a lock is searched by: its name, address and reference, lower-case.
fn lock_search(name: &str, address: &str, reference: &str) -> String {
    format!("{name}\n{address}\n{reference}").to_lowercase()
}

/// What a person is searched by: the name (lower-case), the phone, and the phone's digits alone so
/// "900 00 021" and "4790000021" both find "+4790000021".
fn person_search(name: &str, msn: &str) -> String {
    let digits: String = msn.chars().filter(char::is_ascii_digit).collect();
    format!("{}\n{msn}\n{digits}", name.to_lowercase())
}

fn address_of(lock: &Lock) -> String {
    let place = [lock.postal_code.as_deref(), lock.city.as_deref()].into_iter().flatten().collect::<Vec<_>>().join(" ");
    [lock.street.as_deref().unwrap_or(""), place.as_str()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Store {
    /// Remembers the partner's locks for the archive: names to search by (kept after a lock is no
    /// longer granted, so its old events still say where they happened) and which are granted now.
    pub fn archive_locks(&mut self, locks: &[Lock]) -> StoreResult<()> {
        let transaction = self.conn.transaction()?;
        transaction.execute("UPDATE archive_locks SET granted = 0", [])?;
        {
            let mut upsert = transaction.prepare_cached(
                "INSERT INTO archive_locks (lock_id, name, address, reference, search, granted)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1)
                 ON CONFLICT (lock_id) DO UPDATE SET name = excluded.name, address = excluded.address,
                     reference = excluded.reference, search = excluded.search, granted = 1",
            )?;
            for lock in locks {
                let address = address_of(lock);
                let reference = lock.data.as_deref().unwrap_or("");
                let search = lock_search(&lock.name, &address, reference);
                upsert.execute(params![lock.id, lock.name, address, reference, search])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// Adds a lock's events to the archive; those already there (by event id) and those from before
    /// `keep_from` (older than the retention) are left out. Returns how many were new.
    pub fn archive_events(
        &mut self,
        lock_id: &str,
        events: &[LockEvent],
        keep_from: Option<DateTime<Utc>>,
    ) -> StoreResult<usize> {
        let transaction = self.conn.transaction()?;
        transaction
            .execute("INSERT INTO archive_locks (lock_id) VALUES (?1) ON CONFLICT (lock_id) DO NOTHING", [lock_id])?;
        let lock_ref: i64 =
            transaction.query_row("SELECT ref FROM archive_locks WHERE lock_id = ?1", [lock_id], |row| row.get(0))?;
        let mut added = 0;
        {
            let mut person = transaction.prepare_cached(
                "INSERT INTO archive_people (msn, name, search) VALUES (?1, ?2, ?3)
                 ON CONFLICT (msn, name) DO UPDATE SET search = excluded.search RETURNING ref",
            )?;
            let mut insert = transaction.prepare_cached(
                "INSERT INTO archive_events (id, lock_ref, person_ref, key_id, action, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (id) DO NOTHING",
            )?;
            let mut people: HashMap<(&str, &str), i64> = HashMap::new();
            let floor = keep_from.map(millis).unwrap_or(i64::MIN);
            for event in events.iter().filter(|event| millis(event.created) >= floor) {
                let who = (event.msn.as_str(), event.name.as_str());
                let person_ref = match people.get(&who) {
                    Some(found) => *found,
                    None => {
                        let found: i64 =
                            person.query_row(params![who.0, who.1, person_search(who.1, who.0)], |row| row.get(0))?;
                        people.insert(who, found);
                        found
                    }
                };
                added += insert.execute(params![
                    event.id,
                    lock_ref,
                    person_ref,
                    event.key_id,
                    event.action.as_str(),
                    millis(event.created)
                ])?;
            }
        }
        transaction.commit()?;
        Ok(added)
    }

    /// How many archived events match.
    pub fn activity_count(&self, query: &ActivityQuery) -> StoreResult<u64> {
        let (condition, values) = condition(query);
        let sql = format!("SELECT count(*) FROM archive_events AS e WHERE {condition}");
        Ok(self.conn.prepare_cached(&sql)?.query_row(params_from_iter(values), |row| row.get::<_, i64>(0))? as u64)
    }

    /// The matching events from position `offset` on (newest first), at most `limit` of them.
    pub fn activity_rows(&self, query: &ActivityQuery, offset: u64, limit: u64) -> StoreResult<Vec<ArchivedEvent>> {
        let mut rows = Vec::with_capacity(limit.min(1_000) as usize);
        self.activity_each(query, offset, limit, |event| rows.push(event))?;
        Ok(rows)
    }

    /// Every matching event from `offset` on (newest first, at most `limit`), handed over one at a
    /// time: a list's window, or a whole export without holding it in memory.
    pub fn activity_each(
        &self,
        query: &ActivityQuery,
        offset: u64,
        limit: u64,
        mut each: impl FnMut(ArchivedEvent),
    ) -> StoreResult<()> {
        let (condition, mut values) = condition(query);
        // The page is chosen on the events alone (an index walk), then joined with its locks and people.
        let sql = format!(
            "{ARCHIVED_EVENT_COLUMNS}
             FROM (SELECT seq FROM archive_events AS e WHERE {condition} ORDER BY at DESC, seq DESC LIMIT ? OFFSET ?) AS page
             CROSS JOIN archive_events AS e ON e.seq = page.seq
             CROSS JOIN archive_locks AS l ON l.ref = e.lock_ref
             CROSS JOIN archive_people AS p ON p.ref = e.person_ref
             ORDER BY e.at DESC, e.seq DESC"
        );
        values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        values.push(Value::Integer(i64::try_from(offset).unwrap_or(i64::MAX)));
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params_from_iter(values))?;
        while let Some(row) = rows.next()? {
            each(read_archived_event(row)?);
        }
        Ok(())
    }

    /// The `seq` of the newest archived row: what an export in slices reads up to, so events the
    /// sync archives while it runs neither shift its slices nor show up half-way.
    pub fn last_archived_seq(&self) -> StoreResult<i64> {
        Ok(self.conn.query_row("SELECT COALESCE(MAX(seq), 0) FROM archive_events", [], |row| row.get(0))?)
    }

    /// Where the slices of [`Self::activity_slice`] end when the matching events archived up to
    /// `up_to` are read `every` at a time: the time (ms) of every `every`-th event newest first, and
    /// of the last one. One pass over the matching events' times, sorted once.
    pub fn activity_slice_floors(&self, query: &ActivityQuery, up_to: i64, every: u64) -> StoreResult<Vec<i64>> {
        let (condition, mut values) = condition(query);
        values.push(Value::Integer(up_to));
        let mut statement = self.conn.prepare_cached(&format!(
            "SELECT e.at FROM archive_events AS e WHERE {condition} AND e.seq <= ? ORDER BY at DESC, seq DESC"
        ))?;
        let mut rows = statement.query(params_from_iter(values))?;
        let (mut floors, mut seen, mut last) = (Vec::new(), 0u64, None);
        while let Some(row) = rows.next()? {
            let at: i64 = row.get(0)?;
            seen += 1;
            last = Some(at);
            if seen % every.max(1) == 0 {
                floors.push(at);
                last = None;
            }
        }
        floors.extend(last);
        Ok(floors)
    }

    /// One slice of the matching events archived up to `up_to` (a `seq`), newest first: at most
    /// `limit` of them, those after `after` (where the previous slice ended; `None` for the first)
    /// and, given a `floor` (from [`Self::activity_slice_floors`]), none older than that time.
    /// Returns the events and where this slice ended (`None` when it found none). Without a floor
    /// a filter the lock or person index answers sorts every match older than `after` for each slice
    /// (a 100,000-row export read 1,050,000); with it, each slice sorts only its own.
    pub fn activity_slice(
        &self,
        query: &ActivityQuery,
        up_to: i64,
        after: Option<SliceEnd>,
        floor: Option<i64>,
        limit: u64,
    ) -> StoreResult<(Vec<ArchivedEvent>, Option<SliceEnd>)> {
        let (condition, mut values) = condition(query);
        values.push(Value::Integer(up_to));
        let resume = match after {
            Some(end) => {
                values.extend([Value::Integer(end.at), Value::Integer(end.at), Value::Integer(end.seq)]);
                "AND e.at <= ? AND (e.at < ? OR e.seq < ?)"
            }
            None => "",
        };
        let floor = match floor {
            Some(at) => {
                values.push(Value::Integer(at));
                "AND e.at >= ?"
            }
            None => "",
        };
        values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        let sql = format!(
            "{ARCHIVED_EVENT_COLUMNS}, e.seq
             FROM (SELECT seq FROM archive_events AS e WHERE {condition} AND e.seq <= ? {resume} {floor}
                   ORDER BY at DESC, seq DESC LIMIT ?) AS page
             CROSS JOIN archive_events AS e ON e.seq = page.seq
             CROSS JOIN archive_locks AS l ON l.ref = e.lock_ref
             CROSS JOIN archive_people AS p ON p.ref = e.person_ref
             ORDER BY e.at DESC, e.seq DESC"
        );
        let mut statement = self.conn.prepare_cached(&sql)?;
        let mut rows = statement.query(params_from_iter(values))?;
        let mut events = Vec::with_capacity(limit.min(10_000) as usize);
        let mut end = None;
        while let Some(row) = rows.next()? {
            end = Some(SliceEnd { at: row.get(9)?, seq: row.get(11)? });
            events.push(read_archived_event(row)?);
        }
        Ok((events, end))
    }

    /// The newest archived events of one phone number (E.164), newest first, at most `limit`:
    /// a person's recent activity.
    pub fn archived_events_of_phone(&self, msn: &str, limit: u64) -> StoreResult<Vec<ArchivedEvent>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "{ARCHIVED_EVENT_COLUMNS}
             FROM archive_people AS p
             CROSS JOIN archive_events AS e ON e.person_ref = p.ref
             CROSS JOIN archive_locks AS l ON l.ref = e.lock_ref
             WHERE p.msn = ?1 ORDER BY e.at DESC, e.seq DESC LIMIT ?2"
        ))?;
        let rows = statement.query_map(params![msn, i64::try_from(limit).unwrap_or(i64::MAX)], read_archived_event)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// How many events the archive holds.
    pub fn archived_events(&self) -> StoreResult<u64> {
        Ok(self.conn.query_row("SELECT events FROM archive_size WHERE id = 1", [], |row| row.get::<_, i64>(0))? as u64)
    }

    /// Deletes archived events from before `cutoff` (the retention); returns how many.
    pub fn purge_archive_before(&mut self, cutoff: DateTime<Utc>, now: DateTime<Utc>) -> StoreResult<usize> {
        let transaction = self.conn.transaction()?;
        let purged = transaction.execute("DELETE FROM archive_events WHERE at < ?1", [millis(cutoff)])?;
        // People with no event left are personal data too.
        transaction.execute(
            "DELETE FROM archive_people WHERE NOT EXISTS
                 (SELECT 1 FROM archive_events WHERE archive_events.person_ref = archive_people.ref)",
            [],
        )?;
        transaction.execute("UPDATE archive_sync SET last_purge = ?1 WHERE id = 1", [millis(now)])?;
        transaction.commit()?;
        Ok(purged)
    }

    /// Deletes every archived event and person, the saved history of every lock and what was
    /// learned from histories (the keys only seen in them, with their phone numbers, and every key's
    /// first and last use), and gives the space back to the disk so the deleted data is left
    /// neither in the file's free pages nor in its write-ahead log.
    pub fn delete_local_history(&mut self) -> StoreResult<()> {
        let transaction = self.conn.transaction()?;
        transaction.execute_batch(
            "DELETE FROM archive_events;
             DELETE FROM archive_people;
             DELETE FROM cached_events;
             DELETE FROM keys WHERE origin = 'events';
             UPDATE keys SET first_used = NULL, last_used = NULL;",
        )?;
        transaction.commit()?;
        self.conn.execute_batch("VACUUM; PRAGMA wal_checkpoint(TRUNCATE);")?;
        Ok(())
    }

    // ---- the sync's cursor -----------------------------------------------------------------------

    /// How far this desk has read a team database's shared rows (`name` says which database and
    /// which rows); 0 before the first read.
    pub fn team_cursor(&self, name: &str) -> StoreResult<i64> {
        Ok(self
            .conn
            .query_row("SELECT seq FROM team_cursors WHERE name = ?1", [name], |row| row.get(0))
            .optional()?
            .unwrap_or(0))
    }

    pub fn set_team_cursor(&self, name: &str, seq: i64) -> StoreResult<()> {
        self.conn.execute(
            "INSERT INTO team_cursors (name, seq) VALUES (?1, ?2) ON CONFLICT (name) DO UPDATE SET seq = excluded.seq",
            params![name, seq],
        )?;
        Ok(())
    }

    pub fn round_state(&self) -> StoreResult<RoundState> {
        let (started, finished, last_purge): (Option<i64>, Option<i64>, Option<i64>) = self.conn.query_row(
            "SELECT round_started, round_finished, last_purge FROM archive_sync WHERE id = 1",
            [],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )?;
        let (total, done): (i64, i64) = self.conn.query_row(
            "SELECT count(*), count(synced_at >= ?1 OR NULL) FROM archive_locks WHERE in_round = 1",
            [started.unwrap_or(i64::MAX)],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )?;
        Ok(RoundState {
            started: started.map(from_millis),
            finished: finished.map(from_millis),
            total: total as u64,
            done: done as u64,
            last_purge: last_purge.map(from_millis),
        })
    }

    /// The user paused the sync (kept until they resume it, across restarts).
    pub fn sync_paused(&self) -> StoreResult<bool> {
        Ok(self.conn.query_row("SELECT paused FROM archive_sync WHERE id = 1", [], |row| row.get(0))?)
    }

    pub fn set_sync_paused(&self, paused: bool) -> StoreResult<()> {
        self.conn.execute("UPDATE archive_sync SET paused = ?1 WHERE id = 1", [paused])?;
        Ok(())
    }

    /// Starts a round over every lock granted now.
    pub fn start_round(&mut self, now: DateTime<Utc>) -> StoreResult<()> {
        let transaction = self.conn.transaction()?;
        transaction.execute("UPDATE archive_locks SET in_round = granted", [])?;
        transaction.execute("UPDATE archive_sync SET round_started = ?1 WHERE id = 1", [millis(now)])?;
        transaction.commit()?;
        Ok(())
    }

    /// The next lock of the round under way that has not been fetched in it yet.
    pub fn next_lock_to_sync(&self) -> StoreResult<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT lock_id FROM archive_locks, archive_sync
                 WHERE archive_sync.id = 1 AND in_round = 1
                   AND (archive_sync.round_finished IS NULL OR archive_sync.round_finished < archive_sync.round_started)
                   AND (synced_at IS NULL OR synced_at < archive_sync.round_started)
                 ORDER BY ref LIMIT 1",
                [],
                |row| row.get(0),
            )
            .optional()?)
    }

    /// This lock is done for the round (fetched, or found no longer granted).
    pub fn settle_lock(&self, lock_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn
            .execute("UPDATE archive_locks SET synced_at = ?1 WHERE lock_id = ?2", params![millis(now), lock_id])?;
        Ok(())
    }

    pub fn finish_round(&self, now: DateTime<Utc>) -> StoreResult<()> {
        self.conn.execute("UPDATE archive_sync SET round_finished = ?1 WHERE id = 1", [millis(now)])?;
        Ok(())
    }
}

/// The WHERE clause of a query over `archive_events AS e`, and its values in order.
fn condition(query: &ActivityQuery) -> (String, Vec<Value>) {
    let mut parts = vec!["1".to_owned()];
    let mut values = Vec::new();
    if let Some(from) = query.from {
        parts.push("e.at >= ?".into());
        values.push(Value::Integer(millis(from)));
    }
    if let Some(until) = query.until {
        parts.push("e.at < ?".into());
        values.push(Value::Integer(millis(until)));
    }
    if let Some(action) = &query.action {
        parts.push("e.action = ?".into());
        values.push(Value::Text(action.clone()));
    }
    // A person is also found by the name the office's directory (People) gives the phone.
    let person_text = "(search || char(10) || COALESCE((SELECT d.search FROM people AS d WHERE d.phone = msn), ''))";
    for (column, table, words, text) in [
        ("lock_ref", "archive_locks", &query.lock_words, "search"),
        ("person_ref", "archive_people", &query.person_words, person_text),
    ] {
        if words.is_empty() {
            continue;
        }
        let all = vec![format!("instr({text}, ?) > 0"); words.len()].join(" AND ");
        parts.push(format!("e.{column} IN (SELECT ref FROM {table} WHERE {all})"));
        values.extend(words.iter().map(|word| Value::Text(word.clone())));
    }
    (parts.join(" AND "), values)
}
