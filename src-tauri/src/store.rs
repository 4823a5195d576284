//! The local store: one SQLite database per partner account, in the app's data folder.
//!
//! It remembers what the API cannot list — every key this app created, keys first seen in event
//! histories, keys a user added by id — and caches the last locks and events so the app opens with
//! data at once and stays useful offline. A damaged file (and only a damaged one: SQLite says
//! CORRUPT or NOTADB, or the integrity check fails) is set aside with its WAL files and a fresh one
//! started: the cache is rebuilt from the API. A busy, full, read-only or failing disk is reported
//! as what it is ([`StoreProblem`]) and the file is left where it is.

use std::path::{Path, PathBuf};

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::value::RawValue;

use crate::api::{Key, Lock, LockEvent};

mod archive;
mod shared;
mod shared_people;

pub use shared::{merge_shared, shared_is_newer, Queued, Sharing};
pub use shared_people::PersonChange;

pub use archive::{ActivityQuery, ArchivedEvent, RoundState, SliceEnd};

/// Each entry moves the schema one version up; never edit one that has shipped.
const MIGRATIONS: &[&str] = &[
    // 1: cached lists (one JSON document per list: they are only ever read whole) and known keys.
    "CREATE TABLE cached_locks (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        fetched_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE cached_events (
        lock_id TEXT PRIMARY KEY,
        fetched_at TEXT NOT NULL,
        body TEXT NOT NULL
    );
    CREATE TABLE keys (
        id TEXT PRIMARY KEY,
        lock_id TEXT NOT NULL,
        origin TEXT NOT NULL CHECK (origin IN ('created', 'events', 'added')),
        msn TEXT,
        route TEXT,
        start_at TEXT,
        end_at TEXT,
        api_state TEXT,
        created_at TEXT,
        first_seen TEXT NOT NULL,
        last_checked TEXT,
        state_since TEXT,
        next_check_at TEXT,
        quiet_checks INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX keys_by_lock ON keys (lock_id);
    CREATE INDEX keys_by_next_check ON keys (next_check_at);",
    // 2: what the histories say of a key (first and last use), so a key seen only there is shown
    // without asking Unloc about it.
    "ALTER TABLE keys ADD COLUMN first_used TEXT;
    ALTER TABLE keys ADD COLUMN last_used TEXT;",
    // 3: the activity archive (every lock's events, kept beyond Unloc's two months) and where its
    // sync stands. Locks and people are stored once and events point at them, so 1,000,000 events
    // stay small and every filter is an index range (see store/archive.rs).
    "CREATE TABLE archive_locks (
        ref INTEGER PRIMARY KEY,
        lock_id TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL DEFAULT '',
        address TEXT NOT NULL DEFAULT '',
        reference TEXT NOT NULL DEFAULT '',
        search TEXT NOT NULL DEFAULT '',
        granted INTEGER NOT NULL DEFAULT 0,
        in_round INTEGER NOT NULL DEFAULT 0,
        synced_at INTEGER
    );
    CREATE TABLE archive_people (
        ref INTEGER PRIMARY KEY,
        msn TEXT NOT NULL,
        name TEXT NOT NULL,
        search TEXT NOT NULL,
        UNIQUE (msn, name)
    );
    CREATE TABLE archive_events (
        seq INTEGER PRIMARY KEY,
        id TEXT NOT NULL UNIQUE,
        lock_ref INTEGER NOT NULL REFERENCES archive_locks (ref),
        person_ref INTEGER NOT NULL REFERENCES archive_people (ref),
        key_id TEXT NOT NULL,
        action TEXT NOT NULL,
        at INTEGER NOT NULL
    );
    CREATE INDEX archive_events_by_time ON archive_events (at);
    CREATE INDEX archive_events_by_lock ON archive_events (lock_ref, at);
    CREATE INDEX archive_events_by_person ON archive_events (person_ref, at);
    CREATE INDEX archive_events_by_action ON archive_events (action, at);
    CREATE TABLE archive_sync (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        round_started INTEGER,
        round_finished INTEGER,
        last_purge INTEGER
    );
    INSERT INTO archive_sync (id) VALUES (1);",
    // 4: the people directory: a name (and a team or note) for a phone number, in E.164.
    "CREATE TABLE people (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        phone TEXT NOT NULL UNIQUE,
        note TEXT,
        updated_at TEXT NOT NULL
    );",
    // 5: a person is found by their directory name in Activity too: the name in lower case
    // (Rust's lower case, which knows æ, ø and å; SQLite's lower() only knows A to Z).
    "ALTER TABLE people ADD COLUMN search TEXT NOT NULL DEFAULT '';
    UPDATE people SET search = lower(name);",
    // 6: how many events the archive holds, kept by triggers: the Activity count line ("18 of
    // 1,170 events") reads it instead of counting a million rows at every filter change.
    "CREATE TABLE archive_size (id INTEGER PRIMARY KEY CHECK (id = 1), events INTEGER NOT NULL);
    INSERT INTO archive_size (id, events) SELECT 1, count(*) FROM archive_events;
    CREATE TRIGGER archive_grows AFTER INSERT ON archive_events
        BEGIN UPDATE archive_size SET events = events + 1 WHERE id = 1; END;
    CREATE TRIGGER archive_shrinks AFTER DELETE ON archive_events
        BEGIN UPDATE archive_size SET events = events - 1 WHERE id = 1; END;",
    // 7: the time and action indexes carry the lock and the person too, so a count over a date
    // range or an action with a lock or person filter never leaves the index (benchmarks.md).
    "DROP INDEX archive_events_by_time;
    DROP INDEX archive_events_by_action;
    CREATE INDEX archive_events_by_time ON archive_events (at, action, lock_ref, person_ref);
    CREATE INDEX archive_events_by_action ON archive_events (action, at, lock_ref, person_ref);",
    // 8: team mode — who created a key on which desk ("created by Anna on OFFICE-PC-2"), and the
    // keys written here that the office's database has not had yet (sent when it answers again;
    // `version` grows with each write, so a write made while one was being sent is sent too).
    "ALTER TABLE keys ADD COLUMN created_by TEXT;
    ALTER TABLE keys ADD COLUMN created_on_desk TEXT;
    CREATE TABLE team_outbox (
        key_id TEXT PRIMARY KEY,
        queued_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );",
    // 9: in team mode, how far this desk has read what other desks shared (the office's archive),
    // per team database: the last arrival number read.
    "CREATE TABLE team_cursors (name TEXT PRIMARY KEY, seq INTEGER NOT NULL);",
    // 10: the archive's sync paused by the user stays paused after a restart, until resumed.
    "ALTER TABLE archive_sync ADD COLUMN paused INTEGER NOT NULL DEFAULT 0;",
    // 11: in team mode, the people directory's changes made here that the office's database has
    // not had yet: one entry per phone number, its newest change (`version` grows with each).
    "CREATE TABLE people_outbox (
        phone TEXT PRIMARY KEY,
        name TEXT,
        note TEXT,
        deleted INTEGER NOT NULL,
        changed_at TEXT NOT NULL,
        version INTEGER NOT NULL DEFAULT 1
    );",
    // 12: team mode — who revoked a key on which desk ("revoked by Bjørn on OFFICE-PC-1"), shown
    // on every desk like its author.
    "ALTER TABLE keys ADD COLUMN revoked_by TEXT;
    ALTER TABLE keys ADD COLUMN revoked_on_desk TEXT;",
];

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("local database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("local database: {0}")]
    Io(#[from] std::io::Error),
    #[error("local database: stored data could not be read: {0}")]
    Decode(#[from] serde_json::Error),
    #[error("the local database was made by a newer version of Unloc Desk (schema {0})")]
    TooNew(i64),
}

pub type StoreResult<T> = Result<T, StoreError>;

/// What a store error means for the file and for the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreProblem {
    /// The file is not a sound database: the only case in which it is set aside.
    Damaged,
    /// Another connection holds the file locked.
    Busy,
    /// The disk (or the user's quota) is full.
    Full,
    /// The file or its folder may not be written (read-only disk, permissions).
    ReadOnly,
    /// The disk failed to read or write, or the file could not be opened at all.
    Io,
    /// The schema is from a newer version of the app.
    TooNew,
    /// Anything else (a stored value that does not decode, a misuse of SQLite).
    Other,
}

impl StoreError {
    pub fn problem(&self) -> StoreProblem {
        use rusqlite::ErrorCode;
        match self {
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(error, _)) => match error.code {
                ErrorCode::DatabaseCorrupt | ErrorCode::NotADatabase => StoreProblem::Damaged,
                ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreProblem::Busy,
                ErrorCode::DiskFull => StoreProblem::Full,
                ErrorCode::ReadOnly => StoreProblem::ReadOnly,
                ErrorCode::SystemIoFailure | ErrorCode::CannotOpen => StoreProblem::Io,
                _ => StoreProblem::Other,
            },
            StoreError::Sqlite(_) | StoreError::Decode(_) => StoreProblem::Other,
            StoreError::Io(error) => match error.kind() {
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded => StoreProblem::Full,
                std::io::ErrorKind::ReadOnlyFilesystem | std::io::ErrorKind::PermissionDenied => StoreProblem::ReadOnly,
                _ => StoreProblem::Io,
            },
            StoreError::TooNew(_) => StoreProblem::TooNew,
        }
    }
}

/// Where a key record came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyOrigin {
    Created,
    Events,
    Added,
}

impl KeyOrigin {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyOrigin::Created => "created",
            KeyOrigin::Events => "events",
            KeyOrigin::Added => "added",
        }
    }

    fn parse(text: &str) -> Self {
        match text {
            "created" => KeyOrigin::Created,
            "added" => KeyOrigin::Added,
            _ => KeyOrigin::Events,
        }
    }
}

/// A key as the store knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredKey {
    pub id: String,
    pub lock_id: String,
    pub origin: KeyOrigin,
    pub msn: Option<String>,
    pub route: Option<String>,
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    /// The API's last word on the key; `None` until it was first fetched.
    pub api_state: Option<String>,
    pub created_at: Option<DateTime<Utc>>,
    pub first_seen: DateTime<Utc>,
    pub last_checked: Option<DateTime<Utc>>,
    /// When `api_state` last changed (or the key was first known).
    pub state_since: DateTime<Utc>,
    pub next_check_at: Option<DateTime<Utc>>,
    /// Checks in a row that found no change: the follow-up waits longer after each.
    pub quiet_checks: u32,
    /// The earliest and latest use of the key in the cached histories.
    pub first_used: Option<DateTime<Utc>>,
    pub last_used: Option<DateTime<Utc>>,
    /// In team mode: who created the key, on which desk ("created by Anna on OFFICE-PC-2").
    pub created_by: Option<String>,
    pub created_on_desk: Option<String>,
    /// In team mode: who revoked the key with this app, on which desk ("revoked by Bjørn on
    /// OFFICE-PC-1"); `None` when it was revoked elsewhere or before anyone shared.
    pub revoked_by: Option<String>,
    pub revoked_on_desk: Option<String>,
}

/// A new key as this app sent it.
pub struct CreatedKeyRecord<'a> {
    pub id: &'a str,
    pub lock_id: &'a str,
    pub msn: Option<&'a str>,
    pub route: Option<&'a str>,
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
}

/// A person in the directory.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Person {
    pub id: i64,
    pub name: String,
    /// E.164.
    pub phone: String,
    /// A team or a note; `None` when empty.
    pub note: Option<String>,
}

/// A person as entered, before it has an id (the phone already in E.164).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRecord {
    pub name: String,
    pub phone: String,
    pub note: Option<String>,
}

pub struct Store {
    conn: Connection,
    /// In team mode, who writes here: each key written is then queued for the office's database.
    sharing: Option<Sharing>,
}

/// How long opening waits for another connection's lock before saying the file is busy.
const BUSY_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// What opening found.
#[derive(Debug, PartialEq, Eq)]
pub enum Opened {
    Ready,
    /// The file could not be used; it was moved here and a fresh database started.
    Recovered {
        set_aside: PathBuf,
        reason: String,
    },
}

impl Store {
    /// The database file of one partner account (a partner id at one API address).
    pub fn path_for(dir: &Path, partner_id: &str, api_base: &str) -> PathBuf {
        let readable: String =
            partner_id.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').take(40).collect();
        let hash = fnv1a(format!("{partner_id}\n{api_base}").as_bytes());
        dir.join(format!("{readable}-{hash:016x}.sqlite3"))
    }

    /// Opens (or creates) the database at `path`, setting a damaged one aside. Any other
    /// failure is returned and the file left alone: a full or read-only disk is no reason to lose data.
    pub fn open(path: &Path) -> StoreResult<(Store, Opened)> {
        Self::open_waiting(path, BUSY_TIMEOUT)
    }

    /// `open`, waiting at most `busy_timeout` for another connection's lock.
    pub fn open_waiting(path: &Path, busy_timeout: std::time::Duration) -> StoreResult<(Store, Opened)> {
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        let conn = Connection::open(path).map_err(|error| explain(path, error.into()))?;
        match Self::prepare(&conn, busy_timeout) {
            Ok(()) => Ok((Store { conn, sharing: None }, Opened::Ready)),
            Err(error) if error.problem() != StoreProblem::Damaged => Err(explain(path, error)),
            Err(error) => {
                let reason = error.to_string();
                log::warn!("local database {} damaged ({reason}); starting a fresh one", path.display());
                // Moved while the connection is still open: closing it deletes the WAL files it
                // knows by name. Where an open file cannot be renamed (Windows), it is closed first
                // and only the main file is kept.
                let moved = set_aside(path);
                drop(conn);
                let set_aside = match moved {
                    Ok(set_aside) => set_aside,
                    Err(_) => set_aside(path)?,
                };
                let conn = Connection::open(path)?;
                Self::prepare(&conn, busy_timeout)?;
                Ok((Store { conn, sharing: None }, Opened::Recovered { set_aside, reason }))
            }
        }
    }

    /// A database in memory, for tests and for running without a data folder.
    pub fn in_memory() -> StoreResult<Store> {
        let conn = Connection::open_in_memory()?;
        migrate(&conn)?;
        Ok(Store { conn, sharing: None })
    }

    /// Checks the file is a sound database, then brings its schema up to date.
    fn prepare(conn: &Connection, busy_timeout: std::time::Duration) -> StoreResult<()> {
        conn.busy_timeout(busy_timeout)?;
        // A new file opened by two connections at once: the check, switching it to WAL and its
        // first migration can each meet the other connection mid-switch, where SQLite answers
        // "busy" without waiting for the busy timeout. Tried again until the timeout has passed.
        let deadline = std::time::Instant::now() + busy_timeout;
        loop {
            match Self::check_and_migrate(conn) {
                Err(error) if error.problem() == StoreProblem::Busy && std::time::Instant::now() < deadline => {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                other => return other,
            }
        }
    }

    fn check_and_migrate(conn: &Connection) -> StoreResult<()> {
        let check: String = conn.query_row("PRAGMA quick_check", [], |row| row.get(0))?;
        if check != "ok" {
            return Err(StoreError::Sqlite(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_CORRUPT),
                Some(check),
            )));
        }
        conn.pragma_update(None, "journal_mode", "WAL")?;
        migrate(conn)
    }

    /// Sets the connection's page cache (SQLite's `cache_size`: pages if positive, KiB if negative;
    /// its default is -2000) and returns what it was. A long read such as an export touches more
    /// pages than the default holds, and would read the same pages from the file again and again;
    /// the cache shrinks back when set lower.
    pub fn set_page_cache(&self, cache_size: i64) -> StoreResult<i64> {
        let was = self.page_cache()?;
        self.conn.pragma_update(None, "cache_size", cache_size)?;
        Ok(was)
    }

    /// The connection's page cache (`cache_size`, as [`Self::set_page_cache`] takes it).
    pub fn page_cache(&self) -> StoreResult<i64> {
        Ok(self.conn.query_row("PRAGMA cache_size", [], |row| row.get(0))?)
    }

    pub fn schema_version(&self) -> StoreResult<i64> {
        Ok(self.conn.query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    // ---- cached lists ------------------------------------------------------------------------

    pub fn save_locks(&self, locks: &[Lock], fetched_at: DateTime<Utc>) -> StoreResult<()> {
        let body = serde_json::to_string(locks)?;
        self.conn.execute(
            "INSERT INTO cached_locks (id, fetched_at, body) VALUES (1, ?1, ?2)
             ON CONFLICT (id) DO UPDATE SET fetched_at = excluded.fetched_at, body = excluded.body",
            params![timestamp(fetched_at), body],
        )?;
        Ok(())
    }

    pub fn cached_locks(&self) -> StoreResult<Option<(Vec<Lock>, DateTime<Utc>)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT fetched_at, body FROM cached_locks WHERE id = 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        row.map(|(fetched_at, body)| Ok((serde_json::from_str(&body)?, parse_timestamp(&fetched_at)?))).transpose()
    }

    /// The saved list as it was written (the JSON of `save_locks`), not decoded: start-up sends it
    /// to the page as it is. Text that is not JSON is an error, as in `cached_locks`.
    pub fn cached_locks_json(&self) -> StoreResult<Option<(Box<RawValue>, DateTime<Utc>)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT fetched_at, body FROM cached_locks WHERE id = 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        row.map(|(fetched_at, body)| Ok((RawValue::from_string(body)?, parse_timestamp(&fetched_at)?))).transpose()
    }

    /// Caches a lock's events and remembers every key id they mention.
    pub fn save_events(&mut self, lock_id: &str, events: &[LockEvent], fetched_at: DateTime<Utc>) -> StoreResult<()> {
        let body = serde_json::to_string(events)?;
        let transaction = self.conn.transaction()?;
        transaction.execute(
            "INSERT INTO cached_events (lock_id, fetched_at, body) VALUES (?1, ?2, ?3)
             ON CONFLICT (lock_id) DO UPDATE SET fetched_at = excluded.fetched_at, body = excluded.body",
            params![lock_id, timestamp(fetched_at), body],
        )?;
        {
            // The API does not say whom a key was for; the person who used it does (an empty phone
            // is the partner's own staff through Unloc Work, so it tells nothing). The history also
            // says when the key was used: shown as is, so these keys need not be asked about.
            let mut remember = transaction.prepare_cached(
                "INSERT INTO keys (id, lock_id, origin, msn, first_seen, state_since, next_check_at, first_used, last_used)
                 VALUES (?1, ?2, 'events', ?4, ?3, ?3, ?3, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET msn = COALESCE(keys.msn, excluded.msn),
                     first_used = min(COALESCE(keys.first_used, excluded.first_used), excluded.first_used),
                     last_used = max(COALESCE(keys.last_used, excluded.last_used), excluded.last_used)",
            )?;
            let now = timestamp(fetched_at);
            let mut seen: std::collections::HashMap<&str, SeenInHistory<'_>> = std::collections::HashMap::new();
            for event in events.iter().filter(|event| !event.key_id.is_empty()) {
                let phone = Some(event.msn.as_str()).filter(|msn| !msn.is_empty());
                let key = seen.entry(event.key_id.as_str()).or_insert(SeenInHistory {
                    msn: None,
                    first_used: event.created,
                    last_used: event.created,
                });
                key.msn = key.msn.or(phone);
                key.first_used = key.first_used.min(event.created);
                key.last_used = key.last_used.max(event.created);
            }
            for (key_id, key) in seen {
                remember.execute(params![
                    key_id,
                    lock_id,
                    now,
                    key.msn,
                    timestamp(key.first_used),
                    timestamp(key.last_used)
                ])?;
            }
        }
        transaction.commit()?;
        Ok(())
    }

    /// For tests: every write fails from now on, as on a full or read-only disk.
    #[cfg(test)]
    pub fn refuse_writes(&self) {
        self.conn.pragma_update(None, "query_only", true).expect("query_only");
    }

    /// For tests: the archive's events table is gone from now on, so every read of it fails.
    #[cfg(test)]
    pub fn lose_the_archived_events(&self) {
        self.conn.execute_batch("ALTER TABLE archive_events RENAME TO archive_events_lost").expect("rename");
    }

    pub fn cached_events(&self, lock_id: &str) -> StoreResult<Option<(Vec<LockEvent>, DateTime<Utc>)>> {
        let row: Option<(String, String)> = self
            .conn
            .query_row("SELECT fetched_at, body FROM cached_events WHERE lock_id = ?1", [lock_id], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()?;
        row.map(|(fetched_at, body)| Ok((serde_json::from_str(&body)?, parse_timestamp(&fetched_at)?))).transpose()
    }

    // ---- keys ----------------------------------------------------------------------------------

    pub fn remember_created_key(&self, key: &CreatedKeyRecord<'_>, now: DateTime<Utc>) -> StoreResult<()> {
        let (by, desk) = self.sharing.as_ref().map(|sharing| (&sharing.user, &sharing.desk)).unzip();
        let now = timestamp(now);
        self.conn.execute(
            "INSERT INTO keys (id, lock_id, origin, msn, route, start_at, end_at, api_state, created_at,
                               first_seen, state_since, next_check_at, created_by, created_on_desk)
             VALUES (?1, ?2, 'created', ?3, ?4, ?5, ?6, 'creating', ?7, ?7, ?7, ?7, ?8, ?9)
             ON CONFLICT (id) DO UPDATE SET origin = 'created', msn = excluded.msn, route = excluded.route,
                start_at = excluded.start_at, end_at = excluded.end_at, created_at = excluded.created_at,
                created_by = excluded.created_by, created_on_desk = excluded.created_on_desk",
            params![
                key.id,
                key.lock_id,
                key.msn,
                key.route,
                timestamp(key.start),
                key.end.map(timestamp),
                now,
                by,
                desk
            ],
        )?;
        self.queue_for_team(key.id)
    }

    /// Remembers a key the user added by id, with what the API said of it.
    /// A key the user asked for by id; one seen in a history until now is followed from now on.
    pub fn remember_added_key(&self, key: &Key, now: DateTime<Utc>) -> StoreResult<()> {
        let now_text = timestamp(now);
        self.conn.execute(
            "INSERT INTO keys (id, lock_id, origin, first_seen, state_since) VALUES (?1, ?2, 'added', ?3, ?3)
             ON CONFLICT (id) DO UPDATE SET origin = 'added' WHERE keys.origin = 'events'",
            params![key.id, key.lock_id, now_text],
        )?;
        self.record_check(key, now)?;
        Ok(())
    }

    /// Stores what `GET /keys/{id}` said. Returns the previous API state when it changed.
    pub fn record_check(&self, key: &Key, now: DateTime<Utc>) -> StoreResult<Option<Option<String>>> {
        let Some(before) = self.key(&key.id)? else {
            return Ok(None);
        };
        let state = key.state.as_str();
        let changed = before.api_state.as_deref() != Some(state);
        let now_text = timestamp(now);
        self.conn.execute(
            "UPDATE keys SET api_state = ?2, start_at = ?3, end_at = ?4, lock_id = ?5, last_checked = ?6,
                 state_since = CASE WHEN ?7 THEN ?6 ELSE state_since END,
                 quiet_checks = CASE WHEN ?7 THEN 0 ELSE quiet_checks + 1 END
             WHERE id = ?1",
            params![key.id, state, timestamp(key.start), key.end.map(timestamp), key.lock_id, now_text, changed],
        )?;
        self.queue_for_team(&key.id)?;
        Ok(changed.then_some(before.api_state))
    }

    /// Marks a key as revoked by this app (after DELETE answered 200 or 409). In team mode the
    /// first desk to revoke it is remembered as the one who did.
    pub fn record_revoked(&self, key_id: &str, now: DateTime<Utc>) -> StoreResult<()> {
        let (by, desk) = self.sharing.as_ref().map(|sharing| (&sharing.user, &sharing.desk)).unzip();
        let now = timestamp(now);
        self.conn.execute(
            "UPDATE keys SET api_state = 'revoked', state_since = CASE WHEN api_state = 'revoked' THEN state_since ELSE ?2 END,
                 next_check_at = NULL,
                 revoked_on_desk = CASE WHEN revoked_by IS NULL THEN ?4 ELSE revoked_on_desk END,
                 revoked_by = COALESCE(revoked_by, ?3)
             WHERE id = ?1",
            params![key_id, now, by, desk],
        )?;
        self.queue_for_team(key_id)
    }

    pub fn schedule_check(&self, key_id: &str, at: Option<DateTime<Utc>>) -> StoreResult<()> {
        self.conn.execute("UPDATE keys SET next_check_at = ?2 WHERE id = ?1", params![key_id, at.map(timestamp)])?;
        Ok(())
    }

    pub fn key(&self, key_id: &str) -> StoreResult<Option<StoredKey>> {
        let mut statement = self.conn.prepare_cached(&format!("{SELECT_KEY} WHERE id = ?1"))?;
        let mut rows = statement.query([key_id])?;
        rows.next()?.map(read_key).transpose()
    }

    /// Every known key (of one lock, or all), newest first.
    pub fn keys(&self, lock_id: Option<&str>) -> StoreResult<Vec<StoredKey>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "{SELECT_KEY} WHERE (?1 IS NULL OR lock_id = ?1) ORDER BY COALESCE(created_at, first_seen) DESC, id"
        ))?;
        let mut rows = statement.query([lock_id])?;
        let mut keys = Vec::new();
        while let Some(row) = rows.next()? {
            keys.push(read_key(row)?);
        }
        Ok(keys)
    }

    /// Keys the follow-up follows (created or added here) whose next check is due at `now`.
    pub fn due_keys(&self, now: DateTime<Utc>) -> StoreResult<Vec<StoredKey>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "{SELECT_KEY} WHERE origin <> 'events' AND next_check_at IS NOT NULL AND next_check_at <= ?1
             ORDER BY next_check_at LIMIT 50"
        ))?;
        let mut rows = statement.query([timestamp(now)])?;
        let mut keys = Vec::new();
        while let Some(row) = rows.next()? {
            keys.push(read_key(row)?);
        }
        Ok(keys)
    }

    /// The one key seen only in histories to check next at `now` (the longest due, the latest used
    /// first): these are checked one at a time, at the follow-up's slow history pace.
    pub fn due_history_key(&self, now: DateTime<Utc>) -> StoreResult<Option<StoredKey>> {
        let mut statement = self.conn.prepare_cached(&format!(
            "{SELECT_KEY} WHERE origin = 'events' AND next_check_at IS NOT NULL AND next_check_at <= ?1
             ORDER BY next_check_at, last_used DESC LIMIT 1"
        ))?;
        let mut rows = statement.query([timestamp(now)])?;
        rows.next()?.map(read_key).transpose()
    }

    /// When the earliest scheduled check of a followed key (`history: false`) or of a key seen only
    /// in histories (`history: true`) is due.
    pub fn next_due(&self, history: bool) -> StoreResult<Option<DateTime<Utc>>> {
        let next: Option<String> = self.conn.query_row(
            "SELECT MIN(next_check_at) FROM keys WHERE next_check_at IS NOT NULL AND (origin = 'events') = ?1",
            [history],
            |row| row.get(0),
        )?;
        next.map(|text| parse_timestamp(&text)).transpose()
    }
    // ---- the people directory ----------------------------------------------------------------

    /// Everyone in the directory, by name.
    pub fn people(&self) -> StoreResult<Vec<Person>> {
        let mut statement =
            self.conn.prepare_cached("SELECT id, name, phone, note FROM people ORDER BY name COLLATE NOCASE, id")?;
        let rows = statement.query_map([], read_person)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn person(&self, id: i64) -> StoreResult<Option<Person>> {
        Ok(self
            .conn
            .query_row("SELECT id, name, phone, note FROM people WHERE id = ?1", [id], read_person)
            .optional()?)
    }

    pub fn person_by_phone(&self, phone: &str) -> StoreResult<Option<Person>> {
        Ok(self
            .conn
            .query_row("SELECT id, name, phone, note FROM people WHERE phone = ?1", [phone], read_person)
            .optional()?)
    }

    /// Adds a person (`id` None) or changes one; returns it as stored. A phone another person
    /// already has is refused by the table (a UNIQUE constraint): the caller checks first.
    pub fn save_person(
        &self,
        id: Option<i64>,
        person: &PersonRecord,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<Person>> {
        let before = match id {
            Some(id) => self.person(id)?,
            None => None,
        };
        let changed_at = now;
        let now = timestamp(now);
        let id = match id {
            None => {
                self.conn.execute(
                    "INSERT INTO people (name, phone, note, updated_at, search) VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![person.name, person.phone, person.note, now, person.name.to_lowercase()],
                )?;
                self.conn.last_insert_rowid()
            }
            Some(id) => {
                let changed = self.conn.execute(
                    "UPDATE people SET name = ?2, phone = ?3, note = ?4, updated_at = ?5, search = ?6 WHERE id = ?1",
                    params![id, person.name, person.phone, person.note, now, person.name.to_lowercase()],
                )?;
                if changed == 0 {
                    return Ok(None);
                }
                id
            }
        };
        // The office knows a person by their number: a new number is the old one gone.
        if let Some(before) = before.filter(|before| before.phone != person.phone) {
            self.queue_person(&before.phone, None, changed_at)?;
        }
        self.queue_person(&person.phone, Some(person), changed_at)?;
        self.person(id)
    }

    /// Removes a person from the directory; their keys stay as they are. False when not there.
    pub fn delete_person(&self, id: i64) -> StoreResult<bool> {
        let Some(person) = self.person(id)? else {
            return Ok(false);
        };
        let deleted = self.conn.execute("DELETE FROM people WHERE id = ?1", [id])? > 0;
        if deleted {
            self.queue_person(&person.phone, None, Utc::now())?;
        }
        Ok(deleted)
    }

    /// Adds every person in one transaction: all of them, or (on any failure) none.
    pub fn add_people(&mut self, people: &[PersonRecord], now: DateTime<Utc>) -> StoreResult<usize> {
        self.add_people_planned(now, |_| Ok::<_, StoreError>(((), people.to_vec()))).map(|((), added)| added)
    }

    /// An import: `plan` chooses who to add from the directory as it is, and they are added, in one
    /// transaction. Nobody else can add a number between the look and the adding, and a failure
    /// (of the plan or of any insert) adds nobody. Returns what the plan said and how many were added.
    pub fn add_people_planned<T, E: From<StoreError>>(
        &mut self,
        now: DateTime<Utc>,
        plan: impl FnOnce(&[Person]) -> Result<(T, Vec<PersonRecord>), E>,
    ) -> Result<(T, usize), E> {
        let changed_at = now;
        let now = timestamp(now);
        let sharing = self.sharing.is_some();
        let transaction =
            self.conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(StoreError::from)?;
        let listed = {
            let mut statement = transaction
                .prepare_cached("SELECT id, name, phone, note FROM people ORDER BY name COLLATE NOCASE, id")
                .map_err(StoreError::from)?;
            let rows = statement.query_map([], read_person).map_err(StoreError::from)?;
            rows.collect::<Result<Vec<_>, _>>().map_err(StoreError::from)?
        };
        let (planned, people) = plan(&listed)?;
        let added = (|| -> StoreResult<usize> {
            {
                let mut insert = transaction.prepare_cached(
                    "INSERT INTO people (name, phone, note, updated_at, search) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for person in &people {
                    insert.execute(params![person.name, person.phone, person.note, now, person.name.to_lowercase()])?;
                }
            }
            if sharing {
                for person in &people {
                    shared_people::queue(&transaction, &person.phone, Some(person), changed_at)?;
                }
            }
            Ok(people.len())
        })()?;
        transaction.commit().map_err(StoreError::from)?;
        Ok((planned, added))
    }
}

fn read_person(row: &rusqlite::Row<'_>) -> rusqlite::Result<Person> {
    Ok(Person { id: row.get(0)?, name: row.get(1)?, phone: row.get(2)?, note: row.get(3)? })
}

const SELECT_KEY: &str = "SELECT id, lock_id, origin, msn, route, start_at, end_at, api_state, created_at, first_seen,
    last_checked, state_since, next_check_at, quiet_checks, first_used, last_used, created_by, created_on_desk,
    revoked_by, revoked_on_desk FROM keys";

fn read_key(row: &rusqlite::Row<'_>) -> StoreResult<StoredKey> {
    let optional_time = |index: usize| -> StoreResult<Option<DateTime<Utc>>> {
        row.get::<_, Option<String>>(index)?.map(|text| parse_timestamp(&text)).transpose()
    };
    Ok(StoredKey {
        id: row.get(0)?,
        lock_id: row.get(1)?,
        origin: KeyOrigin::parse(&row.get::<_, String>(2)?),
        msn: row.get(3)?,
        route: row.get(4)?,
        start: optional_time(5)?,
        end: optional_time(6)?,
        api_state: row.get(7)?,
        created_at: optional_time(8)?,
        first_seen: parse_timestamp(&row.get::<_, String>(9)?)?,
        last_checked: optional_time(10)?,
        state_since: parse_timestamp(&row.get::<_, String>(11)?)?,
        next_check_at: optional_time(12)?,
        quiet_checks: row.get(13)?,
        first_used: optional_time(14)?,
        last_used: optional_time(15)?,
        created_by: row.get(16)?,
        created_on_desk: row.get(17)?,
        revoked_by: row.get(18)?,
        revoked_on_desk: row.get(19)?,
    })
}

/// What one save of a history says about one key.
struct SeenInHistory<'a> {
    msn: Option<&'a str>,
    first_used: DateTime<Utc>,
    last_used: DateTime<Utc>,
}

fn migrate(conn: &Connection) -> StoreResult<()> {
    migrate_through(conn, MIGRATIONS)
}

/// Brings the schema from its version to the last of `steps` (the app's: `MIGRATIONS`).
fn migrate_through(conn: &Connection, steps: &[&str]) -> StoreResult<()> {
    let latest = steps.len() as i64;
    // The version is read inside a write transaction: two connections opening a new file at
    // once (two start-up calls of a first silent sign-in) take turns, and the second finds
    // the first's work done instead of creating the same tables again.
    let transaction = rusqlite::Transaction::new_unchecked(conn, rusqlite::TransactionBehavior::Immediate)?;
    let version: i64 = transaction.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if version > latest {
        return Err(StoreError::TooNew(version));
    }
    if version == latest {
        return Ok(()); // nothing to write: the transaction ends unused
    }
    // Every step still to take, in one transaction: a new file is written (and synced to disk)
    // once, not once per step, which is most of a first sign-in's wait for its database; and a
    // step that fails leaves the file at the version before all of them, never halfway.
    for migration in &steps[version as usize..] {
        transaction.execute_batch(migration)?;
    }
    transaction.pragma_update(None, "user_version", latest)?;
    transaction.commit()?;
    Ok(())
}

/// SQLite says only "unable to open" when a database cannot be opened for writing: where the
/// folder refuses a new file, that (read-only, full) is the better answer.
fn explain(path: &Path, error: StoreError) -> StoreError {
    if error.problem() != StoreProblem::Io {
        return error;
    }
    let probe = with_suffix(path, ".probe");
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            error
        }
        Err(refused) if refused.kind() == std::io::ErrorKind::AlreadyExists => error,
        Err(refused) => StoreError::Io(refused),
    }
}

/// Moves a damaged database and its WAL files aside, under names that keep them together (the
/// WAL may hold the newest pages, so someone recovering the file needs it); returns where it went.
fn set_aside(path: &Path) -> StoreResult<PathBuf> {
    let stamp = Utc::now().format("%Y%m%dT%H%M%S");
    let aside = path.with_extension(format!("sqlite3.damaged-{stamp}"));
    if path.exists() {
        std::fs::rename(path, &aside)?;
    }
    for suffix in ["-wal", "-shm"] {
        let companion = with_suffix(path, suffix);
        if companion.exists() {
            std::fs::rename(&companion, with_suffix(&aside, suffix))?;
        }
    }
    Ok(aside)
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Stored timestamps sort as text: always UTC with milliseconds.
fn timestamp(moment: DateTime<Utc>) -> String {
    moment.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn parse_timestamp(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).map(|moment| moment.with_timezone(&Utc)).map_err(|error| {
        StoreError::Sqlite(rusqlite::Error::InvalidColumnType(0, error.to_string(), rusqlite::types::Type::Text))
    })
}

/// A stable, dependency-free file-name hash (not for security).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::{Grant, KeyState};

    fn moment(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn lock(id: &str) -> Lock {
        Lock {
            id: id.into(),
            name: "Bakdør".into(),
            auth: Grant::OptIn,
            data: Some("kunde-1".into()),
            street: None,
            postal_code: None,
            city: None,
            country_iso: None,
        }
    }

    fn event(id: &str, key_id: &str) -> LockEvent {
        serde_json::from_value(serde_json::json!({
            "id": id, "keyId": key_id, "action": "unlocked", "name": "Kari", "msn": "+4790000000",
            "created": "2026-11-01T10:00:00.000Z"
        }))
        .unwrap()
    }

    fn api_key(id: &str, state: KeyState) -> Key {
        Key {
            id: id.into(),
            lock_id: "l1".into(),
            state,
            start: moment("2026-11-01T10:00:00Z"),
            end: None,
            events: Vec::new(),
        }
    }

    #[test]
    fn a_new_database_is_at_the_latest_schema() {
        let store = Store::in_memory().unwrap();
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_database_some_versions_behind_is_brought_up_to_date() {
        let dir = tempdir();
        let path = dir.join("account.sqlite3");
        let old = Connection::open(&path).unwrap();
        migrate_through(&old, &MIGRATIONS[..2]).unwrap();
        drop(old);
        let (store, opened) = Store::open(&path).unwrap();
        assert_eq!(opened, Opened::Ready);
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
        store.save_locks(&[lock("a")], Utc::now()).unwrap();
    }

    #[test]
    fn a_step_that_fails_leaves_the_schema_where_it_was() {
        let conn = Connection::open_in_memory().unwrap();
        let steps = ["CREATE TABLE first (id INTEGER)", "CREATE TABLE second (id INTEGER)", "CREATE TABLE broken ("];
        migrate_through(&conn, &steps[..1]).unwrap();
        assert!(migrate_through(&conn, &steps).is_err());
        let version: i64 = conn.query_row("PRAGMA user_version", [], |row| row.get(0)).unwrap();
        assert_eq!(version, 1, "not halfway up");
        let second: i64 =
            conn.query_row("SELECT count(*) FROM sqlite_master WHERE name = 'second'", [], |row| row.get(0)).unwrap();
        assert_eq!(second, 0, "the step before the failing one was not kept either");
    }

    #[test]
    fn caches_locks_and_events_and_reads_them_back() {
        let mut store = Store::in_memory().unwrap();
        assert!(store.cached_locks().unwrap().is_none());
        let at = moment("2026-11-26T10:00:00Z");
        store.save_locks(&[lock("a"), lock("b:c")], at).unwrap();
        let (locks, fetched) = store.cached_locks().unwrap().unwrap();
        assert_eq!(locks.len(), 2);
        assert_eq!(fetched, at);
        store.save_events("a", &[event("e1", "k1"), event("e2", "k1"), event("e3", "k2")], at).unwrap();
        assert_eq!(store.cached_events("a").unwrap().unwrap().0.len(), 3);
        assert!(store.cached_events("b:c").unwrap().is_none());
    }

    #[test]
    fn keys_seen_in_events_are_remembered_once_and_scheduled_for_a_check() {
        let mut store = Store::in_memory().unwrap();
        let at = moment("2026-11-26T10:00:00Z");
        store.save_events("a", &[event("e1", "k1"), event("e2", "k1"), event("e3", "k2")], at).unwrap();
        store.save_events("a", &[event("e1", "k1")], at).unwrap();
        let keys = store.keys(Some("a")).unwrap();
        assert_eq!(keys.len(), 2);
        assert!(keys.iter().all(|key| key.origin == KeyOrigin::Events && key.api_state.is_none()));
        assert!(
            keys.iter().all(|key| key.msn.as_deref() == Some("+4790000000")),
            "the recipient comes from the events"
        );
        // Seen only in a history: not followed, but one at a time at the history pace.
        assert!(store.due_keys(at).unwrap().is_empty(), "history keys are not followed one by one");
        assert!(store.due_history_key(at).unwrap().is_some());
        assert_eq!(store.next_due(false).unwrap(), None);
        assert_eq!(store.next_due(true).unwrap(), Some(at));
    }

    #[test]
    fn a_history_says_when_a_key_was_first_and_last_used_across_saves() {
        let mut store = Store::in_memory().unwrap();
        let at = moment("2026-11-26T10:00:00Z");
        let used = |id: &str, when: &str| LockEvent { created: moment(when), ..event(id, "k1") };
        store.save_events("a", &[used("e1", "2026-11-20T08:00:00Z"), used("e2", "2026-11-22T09:00:00Z")], at).unwrap();
        store.save_events("a", &[used("e3", "2026-11-25T07:00:00Z"), used("e4", "2026-11-21T07:00:00Z")], at).unwrap();
        let key = store.key("k1").unwrap().unwrap();
        assert_eq!(key.first_used, Some(moment("2026-11-20T08:00:00Z")));
        assert_eq!(key.last_used, Some(moment("2026-11-25T07:00:00Z")));
    }

    #[test]
    fn the_partners_own_use_does_not_name_a_recipient_and_a_created_key_keeps_its_own() {
        let mut store = Store::in_memory().unwrap();
        let at = moment("2026-11-26T10:00:00Z");
        let mut own_use = event("e1", "k1");
        own_use.msn = String::new();
        store.save_events("a", &[own_use], at).unwrap();
        assert_eq!(store.key("k1").unwrap().unwrap().msn, None);
        let record =
            CreatedKeyRecord { id: "k2", lock_id: "a", msn: Some("+4791111111"), route: None, start: at, end: None };
        store.remember_created_key(&record, at).unwrap();
        store.save_events("a", &[event("e2", "k2")], at).unwrap();
        assert_eq!(store.key("k2").unwrap().unwrap().msn.as_deref(), Some("+4791111111"));
    }

    #[test]
    fn a_created_key_keeps_what_was_sent_and_tracks_state_changes() {
        let store = Store::in_memory().unwrap();
        let now = moment("2026-11-26T10:00:00Z");
        let record = CreatedKeyRecord {
            id: "k1",
            lock_id: "l1",
            msn: Some("+4790000000"),
            route: Some("tirsdag"),
            start: now,
            end: Some(moment("2026-11-26T12:00:00Z")),
        };
        store.remember_created_key(&record, now).unwrap();
        let key = store.key("k1").unwrap().unwrap();
        assert_eq!(key.origin, KeyOrigin::Created);
        assert_eq!(key.api_state.as_deref(), Some("creating"));
        assert_eq!(key.msn.as_deref(), Some("+4790000000"));

        let later = moment("2026-11-26T10:00:05Z");
        assert_eq!(store.record_check(&api_key("k1", KeyState::Creating), later).unwrap(), None);
        assert_eq!(store.key("k1").unwrap().unwrap().quiet_checks, 1);
        let changed = store.record_check(&api_key("k1", KeyState::Active), later).unwrap();
        assert_eq!(changed, Some(Some("creating".to_owned())));
        let key = store.key("k1").unwrap().unwrap();
        assert_eq!((key.quiet_checks, key.state_since), (0, later));
        assert_eq!(key.msn.as_deref(), Some("+4790000000"), "a check keeps what only this app knows");
    }

    #[test]
    fn revoking_stops_the_follow_up() {
        let store = Store::in_memory().unwrap();
        let now = moment("2026-11-26T10:00:00Z");
        store.remember_added_key(&api_key("k1", KeyState::Active), now).unwrap();
        store.schedule_check("k1", Some(now)).unwrap();
        store.record_revoked("k1", now).unwrap();
        let key = store.key("k1").unwrap().unwrap();
        assert_eq!(key.api_state.as_deref(), Some("revoked"));
        assert_eq!(key.next_check_at, None);
        assert!(store.next_due(false).unwrap().is_none());
    }

    fn record(name: &str, phone: &str) -> PersonRecord {
        PersonRecord { name: name.into(), phone: phone.into(), note: None }
    }

    #[test]
    fn people_are_listed_by_name_edited_and_removed() {
        let store = Store::in_memory().unwrap();
        let now = moment("2026-11-26T10:00:00Z");
        let ola = store.save_person(None, &record("ola", "+4791111111"), now).unwrap().unwrap();
        let kari = store.save_person(None, &record("Kari", "+4790000000"), now).unwrap().unwrap();
        let names = |store: &Store| store.people().unwrap().into_iter().map(|p| p.name).collect::<Vec<_>>();
        assert_eq!(names(&store), ["Kari", "ola"], "by name, whatever the case");
        let moved = PersonRecord { note: Some("Team Nord".into()), ..record("Kari Nordmann", "+4792222222") };
        let edited = store.save_person(Some(kari.id), &moved, now).unwrap().unwrap();
        assert_eq!((edited.id, edited.note.as_deref()), (kari.id, Some("Team Nord")));
        assert_eq!(store.person_by_phone("+4792222222").unwrap(), Some(edited));
        assert_eq!(store.person_by_phone("+4790000000").unwrap(), None);
        assert_eq!(store.save_person(Some(999), &record("x", "+4793333333"), now).unwrap(), None);
        assert!(store.delete_person(ola.id).unwrap());
        assert!(!store.delete_person(ola.id).unwrap());
        assert_eq!(names(&store), ["Kari Nordmann"]);
    }

    #[test]
    fn a_number_belongs_to_one_person_only() {
        let store = Store::in_memory().unwrap();
        let now = moment("2026-11-26T10:00:00Z");
        store.save_person(None, &record("Kari", "+4790000000"), now).unwrap();
        let error = store.save_person(None, &record("Ola", "+4790000000"), now).unwrap_err();
        assert!(error.to_string().contains("UNIQUE"), "{error}");
    }

    #[test]
    fn adding_many_people_is_all_or_nothing() {
        let mut store = Store::in_memory().unwrap();
        let now = moment("2026-11-26T10:00:00Z");
        store.save_person(None, &record("Kari", "+4790000000"), now).unwrap();
        let batch = [record("Ola", "+4791111111"), record("Per", "+4792222222"), record("Kari 2", "+4790000000")];
        assert!(store.add_people(&batch, now).is_err());
        assert_eq!(store.people().unwrap().len(), 1, "nothing of a failed batch is kept");
        assert_eq!(store.add_people(&batch[..2], now).unwrap(), 2);
        assert_eq!(store.people().unwrap().len(), 3);
    }

    #[test]
    fn a_numbers_events_come_from_every_archived_history_newest_first_with_the_directory_name() {
        let mut store = Store::in_memory().unwrap();
        let now = moment("2026-11-26T10:00:00Z");
        let used =
            |id: &str, msn: &str, when: &str| LockEvent { msn: msn.into(), created: moment(when), ..event(id, "k1") };
        store
            .archive_events(
                "a",
                &[used("e1", "+4790000000", "2026-11-20T08:00:00Z"), used("e2", "+4791111111", "2026-11-21T08:00:00Z")],
                None,
            )
            .unwrap();
        store
            .archive_events(
                "b",
                &[used("e3", "+4790000000", "2026-11-22T08:00:00Z"), used("e4", "+4790000000", "2026-11-19T08:00:00Z")],
                None,
            )
            .unwrap();
        store.save_person(None, &record("Kari Nordmann", "+4790000000"), now).unwrap();
        let found = store.archived_events_of_phone("+4790000000", 2).unwrap();
        let ids: Vec<(&str, &str)> = found.iter().map(|event| (event.lock_id.as_str(), event.id.as_str())).collect();
        assert_eq!(ids, [("b", "e3"), ("a", "e1")]);
        assert!(found.iter().all(|event| event.person.as_deref() == Some("Kari Nordmann")));
        assert!(store.archived_events_of_phone("+4799999999", 10).unwrap().is_empty());
    }

    #[test]
    fn reopening_keeps_everything() {
        let dir = tempdir();
        let path = Store::path_for(&dir, "demo-partner", "http://127.0.0.1:1/v1");
        let now = moment("2026-11-26T10:00:00Z");
        {
            let (store, opened) = Store::open(&path).unwrap();
            assert_eq!(opened, Opened::Ready);
            store.save_locks(&[lock("a")], now).unwrap();
            store.remember_added_key(&api_key("k1", KeyState::Scheduled), now).unwrap();
        }
        let (store, opened) = Store::open(&path).unwrap();
        assert_eq!(opened, Opened::Ready);
        assert_eq!(store.cached_locks().unwrap().unwrap().0.len(), 1);
        assert_eq!(store.key("k1").unwrap().unwrap().api_state.as_deref(), Some("scheduled"));
    }

    #[test]
    fn a_damaged_file_is_set_aside_and_a_fresh_database_started() {
        let dir = tempdir();
        let path = dir.join("account.sqlite3");
        std::fs::write(&path, b"this is not a database at all, just some text that happens to be here").unwrap();
        let (store, opened) = Store::open(&path).unwrap();
        let Opened::Recovered { set_aside, .. } = opened else { panic!("expected recovery, got {opened:?}") };
        assert!(set_aside.exists());
        assert!(std::fs::read(&set_aside).unwrap().starts_with(b"this is not"));
        assert!(store.cached_locks().unwrap().is_none());
        store.save_locks(&[lock("a")], Utc::now()).unwrap();
    }

    #[test]
    fn a_damaged_file_takes_its_wal_files_along() {
        let dir = tempdir();
        let path = dir.join("account.sqlite3");
        std::fs::write(&path, vec![0x5a; 8192]).unwrap();
        std::fs::write(with_suffix(&path, "-wal"), b"wal pages").unwrap();
        std::fs::write(with_suffix(&path, "-shm"), b"shared memory").unwrap();
        let (_store, opened) = Store::open(&path).unwrap();
        let Opened::Recovered { set_aside, .. } = opened else { panic!("expected recovery, got {opened:?}") };
        assert_eq!(std::fs::read(with_suffix(&set_aside, "-wal")).unwrap(), b"wal pages");
        // SQLite rewrites the shared-memory index while it looks at the file; it only has to come along.
        assert!(with_suffix(&set_aside, "-shm").exists());
    }

    /// Names in `dir` of files set aside as damaged.
    fn set_aside_files(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.contains(".damaged-"))
            .collect()
    }

    #[test]
    fn a_file_that_cannot_be_opened_is_an_io_problem_and_stays() {
        let dir = tempdir();
        let path = dir.join("account.sqlite3");
        std::fs::create_dir(&path).unwrap();
        let error = Store::open(&path).err().expect("a folder is not a database");
        assert_eq!(error.problem(), StoreProblem::Io, "{error}");
        assert!(path.is_dir());
        assert!(set_aside_files(&dir).is_empty());
    }

    #[test]
    fn a_busy_database_is_busy_not_damaged() {
        let dir = tempdir();
        let path = dir.join("account.sqlite3");
        drop(Store::open(&path).unwrap());
        let holder = Connection::open(&path).unwrap();
        holder
            .execute_batch("PRAGMA journal_mode = DELETE; PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE;")
            .unwrap();
        let error = Store::open_waiting(&path, std::time::Duration::from_millis(50)).err().expect("the file is locked");
        assert_eq!(error.problem(), StoreProblem::Busy, "{error}");
        assert!(set_aside_files(&dir).is_empty());
        drop(holder);
        let (store, opened) = Store::open(&path).unwrap();
        assert_eq!(opened, Opened::Ready);
        assert_eq!(store.schema_version().unwrap(), MIGRATIONS.len() as i64);
    }

    #[test]
    fn a_read_only_connection_refuses_writes_as_read_only() {
        let dir = tempdir();
        let path = dir.join("account.sqlite3");
        drop(Store::open(&path).unwrap());
        let conn = Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
        let store = Store { conn, sharing: None };
        let error = store.save_locks(&[lock("a")], Utc::now()).unwrap_err();
        assert_eq!(error.problem(), StoreProblem::ReadOnly, "{error}");
    }

    #[test]
    fn a_database_from_a_newer_version_is_left_alone() {
        let dir = tempdir();
        let path = dir.join("account.sqlite3");
        Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
        assert!(matches!(Store::open(&path), Err(StoreError::TooNew(99))));
        assert!(path.exists());
    }

    #[test]
    fn two_partner_accounts_get_two_files() {
        let dir = tempdir();
        let first = Store::path_for(&dir, "partner-a", "https://api.unloc.app/v1");
        let second = Store::path_for(&dir, "partner-b", "https://api.unloc.app/v1");
        let same_id_elsewhere = Store::path_for(&dir, "partner-a", "http://127.0.0.1:9/v1");
        assert_ne!(first, second);
        assert_ne!(first, same_id_elsewhere);
        assert_eq!(first, Store::path_for(&dir, "partner-a", "https://api.unloc.app/v1"));
        let hostile = Store::path_for(&dir, "../../etc/passwd", "x");
        assert_eq!(hostile.parent().unwrap(), dir.as_path());
    }

    fn tempdir() -> PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "unloc-store-test-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}

#[cfg(test)]
mod opening_together {
    use super::*;

    /// Two start-up calls of a first silent sign-in open a new account file at the same moment:
    /// both get the store ready (the second once the first has set it up), neither a "damaged" one.
    #[test]
    fn two_connections_opening_a_new_file_at_once_both_find_it_ready() {
        let dir =
            std::env::temp_dir().join(format!("unloc-store-together-{}-{}", std::process::id(), fastrand::u32(..)));
        for round in 0..10 {
            let path = dir.join(format!("round-{round}.sqlite3"));
            let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
            let openers: Vec<_> = (0..2)
                .map(|_| {
                    let (barrier, path) = (barrier.clone(), path.clone());
                    std::thread::spawn(move || {
                        barrier.wait();
                        Store::open(&path).map(|(_, opened)| opened).map_err(|error| error.to_string())
                    })
                })
                .collect();
            for opener in openers {
                assert_eq!(opener.join().unwrap(), Ok(Opened::Ready), "round {round}");
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
