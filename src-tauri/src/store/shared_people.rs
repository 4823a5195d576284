//! Team mode in the local store, for the people directory: each change made here waits in an
//! outbox (one entry per phone number, its newest change) until the office's database has it; a
//! change from another desk is taken in unless a newer change made here still waits to be sent.
//! The office knows a person by their phone number (one number belongs to one person).

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use super::{parse_timestamp, timestamp, PersonRecord, Store, StoreResult};

/// A change to one person: their name and note, or their removal (`deleted`), made at `changed_at`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonChange {
    pub phone: String,
    pub name: String,
    pub note: Option<String>,
    pub deleted: bool,
    pub changed_at: DateTime<Utc>,
    /// The outbox entry's version when read (0 for a change from the office).
    pub version: i64,
}

/// Queues a change (`person` None: removed) for the office's database.
pub(super) fn queue(
    conn: &Connection,
    phone: &str,
    person: Option<&PersonRecord>,
    changed_at: DateTime<Utc>,
) -> StoreResult<()> {
    conn.execute(
        "INSERT INTO people_outbox (phone, name, note, deleted, changed_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (phone) DO UPDATE SET name = excluded.name, note = excluded.note, deleted = excluded.deleted,
             changed_at = excluded.changed_at, version = version + 1",
        params![
            phone,
            person.map(|person| person.name.as_str()),
            person.and_then(|person| person.note.as_deref()),
            person.is_none(),
            timestamp(changed_at)
        ],
    )?;
    Ok(())
}

impl Store {
    pub(super) fn queue_person(
        &self,
        phone: &str,
        person: Option<&PersonRecord>,
        changed_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        if self.sharing.is_none() {
            return Ok(());
        }
        queue(&self.conn, phone, person, changed_at)
    }

    /// The oldest queued changes, at most `limit`.
    pub fn people_outbox(&self, limit: usize) -> StoreResult<Vec<PersonChange>> {
        let mut statement = self.conn.prepare_cached(
            "SELECT phone, name, note, deleted, changed_at, version FROM people_outbox ORDER BY changed_at, phone LIMIT ?1",
        )?;
        let rows = statement.query_map([limit as i64], |row| {
            Ok((
                row.get::<_, String>(0)?,
                row.get::<_, Option<String>>(1)?,
                row.get::<_, Option<String>>(2)?,
                row.get::<_, bool>(3)?,
                row.get::<_, String>(4)?,
                row.get::<_, i64>(5)?,
            ))
        })?;
        let mut changes = Vec::new();
        for row in rows {
            let (phone, name, note, deleted, changed_at, version) = row?;
            let changed_at = parse_timestamp(&changed_at)?;
            changes.push(PersonChange { phone, name: name.unwrap_or_default(), note, deleted, changed_at, version });
        }
        Ok(changes)
    }

    /// Queues every person of the directory not queued already, each as of its last change: what a
    /// desk knew before it joined the office goes to the office too (an older word than the
    /// office's own is refused there).
    pub fn queue_every_person(&self) -> StoreResult<usize> {
        if self.sharing.is_none() {
            return Ok(0);
        }
        Ok(self.conn.execute(
            "INSERT INTO people_outbox (phone, name, note, deleted, changed_at)
             SELECT phone, name, note, 0, updated_at FROM people WHERE true ON CONFLICT (phone) DO NOTHING",
            [],
        )?)
    }

    pub fn people_outbox_len(&self) -> StoreResult<usize> {
        let count: i64 = self.conn.query_row("SELECT COUNT(*) FROM people_outbox", [], |row| row.get(0))?;
        Ok(count as usize)
    }

    /// The office has `change`: it leaves the outbox, unless the person was changed again since.
    pub fn person_sent(&self, change: &PersonChange) -> StoreResult<()> {
        self.conn.execute(
            "DELETE FROM people_outbox WHERE phone = ?1 AND version = ?2",
            params![change.phone, change.version],
        )?;
        Ok(())
    }

    /// Takes in a change from the office, unless a newer one made here waits to be sent; true when
    /// the directory changed. Nothing is queued: it came from the office.
    pub fn take_in_person(&self, change: &PersonChange) -> StoreResult<bool> {
        let waiting: Option<String> = self
            .conn
            .query_row("SELECT changed_at FROM people_outbox WHERE phone = ?1", [&change.phone], |row| row.get(0))
            .optional()?;
        if let Some(waiting) = waiting {
            if parse_timestamp(&waiting)? >= change.changed_at {
                return Ok(false);
            }
            // The office's is newer: what waited here is superseded.
            self.conn.execute("DELETE FROM people_outbox WHERE phone = ?1", [&change.phone])?;
        }
        if change.deleted {
            return Ok(self.conn.execute("DELETE FROM people WHERE phone = ?1", [&change.phone])? > 0);
        }
        let changed = self.conn.execute(
            "INSERT INTO people (name, phone, note, updated_at, search) VALUES (?1, ?2, ?3, ?4, ?5)
             ON CONFLICT (phone) DO UPDATE SET name = excluded.name, note = excluded.note,
                 updated_at = excluded.updated_at, search = excluded.search
             WHERE people.name IS NOT excluded.name OR people.note IS NOT excluded.note",
            params![change.name, change.phone, change.note, timestamp(change.changed_at), change.name.to_lowercase()],
        )?;
        Ok(changed > 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Sharing;

    fn moment(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn office(name: &str, at: &str) -> PersonChange {
        PersonChange {
            phone: "+4790000000".into(),
            name: name.into(),
            note: None,
            deleted: false,
            changed_at: moment(at),
            version: 0,
        }
    }

    #[test]
    fn a_change_from_the_office_never_replaces_a_newer_one_waiting_here() {
        let mut store = Store::in_memory().unwrap();
        store.set_sharing(Some(Sharing { user: "Anna".into(), desk: "PC-1".into() }));
        let record = PersonRecord { name: "Kari here".into(), phone: "+4790000000".into(), note: None };
        store.save_person(None, &record, moment("2026-12-01T10:00:00Z")).unwrap();
        let names = |store: &Store| store.people().unwrap().into_iter().map(|person| person.name).collect::<Vec<_>>();

        assert!(!store.take_in_person(&office("Kari older", "2026-12-01T09:00:00Z")).unwrap());
        assert_eq!(names(&store), ["Kari here"]);
        assert_eq!(store.people_outbox_len().unwrap(), 1, "still to send");

        assert!(store.take_in_person(&office("Kari newer", "2026-12-01T11:00:00Z")).unwrap());
        assert_eq!(names(&store), ["Kari newer"]);
        assert_eq!(store.people_outbox_len().unwrap(), 0, "what waited here is superseded");
    }

    #[test]
    fn without_sharing_nothing_is_queued() {
        let store = Store::in_memory().unwrap();
        let record = PersonRecord { name: "Kari".into(), phone: "+4790000000".into(), note: None };
        store.save_person(None, &record, Utc::now()).unwrap();
        assert_eq!(store.people_outbox_len().unwrap(), 0);
        assert_eq!(store.queue_every_person().unwrap(), 0);
    }
}
