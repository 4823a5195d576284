//! Team mode in the local store: the keys written here that wait for the office's database (the
//! outbox), and keys other desks wrote, merged in without letting an older word replace a newer one.
//!
//! The local store stays the offline cache: every write lands here first and is queued; the
//! team link sends the queue when the server answers and removes what it sent.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::{timestamp, Store, StoreResult, StoredKey};

/// Who writes on this desk, while it shares with an office.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sharing {
    pub user: String,
    pub desk: String,
}

/// A queued key: its id and the version of its queue entry when read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub key_id: String,
    pub version: i64,
}

/// States nothing follows: a key that reached one never leaves it.
fn is_final(api_state: Option<&str>) -> bool {
    matches!(api_state, Some("revoked" | "expired" | "error"))
}

/// `shared`'s word on a key replaces `known`'s when it is newer: a state seen later (or the first
/// state at all), never a state after a final one. The database applies the same rule
/// (`team::keys`), so two desks writing in any order end with the same row.
pub fn shared_is_newer(known: &StoredKey, shared: &StoredKey) -> bool {
    match (&known.api_state, &shared.api_state) {
        (_, None) => false,
        (None, Some(_)) => true,
        (Some(_), Some(_)) => !is_final(known.api_state.as_deref()) && shared.state_since > known.state_since,
    }
}

/// The key as this desk should keep it after hearing `shared` from the office: `None` when that
/// changes nothing. What only this desk knows (its own follow-up schedule) stays as it was; what is
/// missing here is taken from the office.
pub fn merge_shared(known: Option<&StoredKey>, shared: &StoredKey) -> Option<StoredKey> {
    let Some(known) = known else {
        // Scheduled here as well: the follow-up's lease (team::Leases) decides which desk checks
        // it, and another takes over when that desk goes away.
        let next_check_at = (!is_final(shared.api_state.as_deref())).then(Utc::now);
        return Some(StoredKey { next_check_at, quiet_checks: 0, ..shared.clone() });
    };
    let mut merged = known.clone();
    if shared_is_newer(known, shared) {
        merged.api_state = shared.api_state.clone();
        merged.state_since = shared.state_since;
        merged.start = shared.start;
        merged.end = shared.end;
        merged.lock_id = shared.lock_id.clone();
        if is_final(shared.api_state.as_deref()) {
            merged.next_check_at = None;
        }
    }
    merged.last_checked = merged.last_checked.max(shared.last_checked);
    if known.origin == super::KeyOrigin::Events {
        merged.origin = shared.origin;
    }
    let fill = |mine: &mut Option<String>, theirs: &Option<String>| {
        if mine.is_none() {
            mine.clone_from(theirs);
        }
    };
    fill(&mut merged.msn, &shared.msn);
    fill(&mut merged.route, &shared.route);
    fill(&mut merged.created_by, &shared.created_by);
    fill(&mut merged.created_on_desk, &shared.created_on_desk);
    if merged.revoked_by.is_none() {
        // Who revoked it and where belong together: both from the same desk's word.
        merged.revoked_by.clone_from(&shared.revoked_by);
        merged.revoked_on_desk.clone_from(&shared.revoked_on_desk);
    }
    merged.created_at = merged.created_at.or(shared.created_at);
    merged.first_used = min_some(merged.first_used, shared.first_used);
    merged.last_used = merged.last_used.max(shared.last_used);
    (merged != *known).then_some(merged)
}

fn min_some(a: Option<DateTime<Utc>>, b: Option<DateTime<Utc>>) -> Option<DateTime<Utc>> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Store {
    /// Team mode on (`Some`: who writes here) or off. While on, every key written is queued.
    pub fn set_sharing(&mut self, sharing: Option<Sharing>) {
        self.sharing = sharing;
    }

    pub(super) fn queue_for_team(&self, key_id: &str) -> StoreResult<()> {
        if self.sharing.is_none() {
            return Ok(());
        }
        self.conn.execute(
            "INSERT INTO team_outbox (key_id, queued_at) VALUES (?1, ?2)
             ON CONFLICT (key_id) DO UPDATE SET version = version + 1",
            params![key_id, timestamp(Utc::now())],
        )?;
        Ok(())
    }

    /// The oldest queued keys, at most `limit`.
    pub fn team_outbox(&self, limit: usize) -> StoreResult<Vec<Queued>> {
        let mut statement =
            self.conn.prepare_cached("SELECT key_id, version FROM team_outbox ORDER BY queued_at, key_id LIMIT ?1")?;
        let rows =
            statement.query_map([limit as i64], |row| Ok(Queued { key_id: row.get(0)?, version: row.get(1)? }))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    pub fn team_outbox_len(&self) -> StoreResult<usize> {
        let count: i64 = self.conn.query_row("SELECT COUNT(*) FROM team_outbox", [], |row| row.get(0))?;
        Ok(count as usize)
    }

    /// The office's database has `queued`: it leaves the queue, unless the key was written again
    /// since it was read (then that newer write is still to send).
    pub fn sent_to_team(&self, queued: &Queued) -> StoreResult<()> {
        self.conn.execute(
            "DELETE FROM team_outbox WHERE key_id = ?1 AND version = ?2",
            params![queued.key_id, queued.version],
        )?;
        Ok(())
    }

    /// Takes in a key as the office's database has it (written by any desk). Returns the key as
    /// now kept when that changed anything. Nothing is queued: it came from the office.
    pub fn merge_shared_key(&self, shared: &StoredKey) -> StoreResult<Option<StoredKey>> {
        let known = self.key(&shared.id)?;
        let Some(merged) = merge_shared(known.as_ref(), shared) else {
            return Ok(None);
        };
        let time = |moment: Option<DateTime<Utc>>| moment.map(timestamp);
        self.conn.execute(
            "INSERT INTO keys (id, lock_id, origin, msn, route, start_at, end_at, api_state, created_at, first_seen,
                 last_checked, state_since, next_check_at, quiet_checks, first_used, last_used, created_by,
                 created_on_desk, revoked_by, revoked_on_desk)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
             ON CONFLICT (id) DO UPDATE SET lock_id = excluded.lock_id, origin = excluded.origin, msn = excluded.msn,
                 route = excluded.route, start_at = excluded.start_at, end_at = excluded.end_at,
                 api_state = excluded.api_state, created_at = excluded.created_at, last_checked = excluded.last_checked,
                 state_since = excluded.state_since, next_check_at = excluded.next_check_at,
                 first_used = excluded.first_used, last_used = excluded.last_used, created_by = excluded.created_by,
                 created_on_desk = excluded.created_on_desk, revoked_by = excluded.revoked_by,
                 revoked_on_desk = excluded.revoked_on_desk",
            params![
                merged.id,
                merged.lock_id,
                merged.origin.as_str(),
                merged.msn,
                merged.route,
                time(merged.start),
                time(merged.end),
                merged.api_state,
                time(merged.created_at),
                timestamp(merged.first_seen),
                time(merged.last_checked),
                timestamp(merged.state_since),
                time(merged.next_check_at),
                merged.quiet_checks,
                time(merged.first_used),
                time(merged.last_used),
                merged.created_by,
                merged.created_on_desk,
                merged.revoked_by,
                merged.revoked_on_desk,
            ],
        )?;
        Ok(Some(merged))
    }

    /// Whether the queue holds `key_id` (tests).
    pub fn is_queued_for_team(&self, key_id: &str) -> StoreResult<bool> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM team_outbox WHERE key_id = ?1", [key_id], |_| Ok(()))
            .optional()?
            .is_some())
    }
}
