//! The office's people directory in the shared database: one row per phone number, the newest
//! change any desk made to it. A change older than the one the office has is refused, so a desk
//! back from a day offline never overwrites what a colleague changed meanwhile; sending a change
//! twice leaves one row. Writers of one account take turns (an advisory lock), so the change
//! numbers (`seq`) become visible in order and a desk that read up to one has missed nothing below.

use super::connect::explain;
use super::keys::TeamKeys;
use super::{column, TeamResult};
use crate::store::PersonChange;

impl TeamKeys {
    /// Sends one change made on this desk; the office keeps it only when it is newer than its own.
    pub async fn push_person(&self, change: &PersonChange) -> TeamResult<()> {
        let mut client = self.writer().await?;
        let transaction = client.transaction().await.map_err(|error| explain(&error))?;
        transaction
            .execute(
                "SELECT pg_advisory_xact_lock(hashtext('unloc_desk_people ' || $1 || ' ' || $2))",
                &[&self.scope().partner_id, &self.scope().api_base],
            )
            .await
            .map_err(|error| explain(&error))?;
        transaction
            .execute(
                "INSERT INTO team_people (partner_id, api_base, phone, name, note, deleted, changed_at, changed_by, seq)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, nextval('team_people_seq'))
                 ON CONFLICT (partner_id, api_base, phone) DO UPDATE SET name = excluded.name, note = excluded.note,
                     deleted = excluded.deleted, changed_at = excluded.changed_at, changed_by = excluded.changed_by,
                     seq = excluded.seq
                 WHERE team_people.changed_at < excluded.changed_at",
                &[
                    &self.scope().partner_id,
                    &self.scope().api_base,
                    &change.phone,
                    &change.name,
                    &change.note,
                    &change.deleted,
                    &change.changed_at,
                    &self.desk_name(),
                ],
            )
            .await
            .map_err(|error| explain(&error))?;
        transaction.commit().await.map_err(|error| explain(&error))
    }

    /// Up to `limit` people changed after change number `after` (0: all), and the number to ask
    /// after next time.
    pub async fn people_changed(&self, after: i64, limit: i64) -> TeamResult<(Vec<PersonChange>, i64)> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT phone, name, note, deleted, changed_at, seq FROM team_people
                 WHERE partner_id = $1 AND api_base = $2 AND seq > $3 ORDER BY seq LIMIT $4",
                &[&self.scope().partner_id, &self.scope().api_base, &after, &limit],
            )
            .await
            .map_err(|error| explain(&error))?;
        let next = match rows.last() {
            Some(row) => column(row, 5)?,
            None => after,
        };
        let changes = rows
            .iter()
            .map(|row| {
                Ok(PersonChange {
                    phone: column(row, 0)?,
                    name: column(row, 1)?,
                    note: column(row, 2)?,
                    deleted: column(row, 3)?,
                    changed_at: column(row, 4)?,
                    version: 0,
                })
            })
            .collect::<TeamResult<_>>()?;
        Ok((changes, next))
    }
}
