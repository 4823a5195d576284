//! The office's activity archive: the events a desk's history sync fetched (the desk holding that
//! lock's lease) go to the shared database too, so every desk's local archive fills from one fetch.
//! Events are deduplicated by their id; desks pick up what is new by the order events arrived in.
//! Writers of one account take turns (a transaction-scoped advisory lock), so arrival numbers
//! become visible in order: a desk that has read up to a number has missed nothing below it.
//!
//! Retention: the office's archive keeps events as long as the shortest "Keep history for" of the
//! desks heard from in the last 35 days (personal data goes as soon as any
//! desk's rule says so; a desk that left the office stops counting). Each desk's daily purge
//! records its choice and deletes what the office's rule no longer keeps, and nothing older than
//! that rule is shared again.

use chrono::{DateTime, Utc};

use super::connect::explain;
use super::keys::TeamKeys;
use super::{column, TeamResult};
use crate::api::{Action, LockEvent};

/// Events picked up from the office's archive: each with its lock, and where to go on from.
#[derive(Debug, Default)]
pub struct SharedEvents {
    pub events: Vec<(String, LockEvent)>,
    /// The arrival number to ask after next time.
    pub next: i64,
}

/// The office's retention in months (`$1`, `$2`: the account): the shortest of the desks that
/// purged in the last 35 days (desks purge at start and daily), NULL when none limits it.
const OFFICE_MONTHS: &str = "SELECT min(months) FROM team_retention
     WHERE partner_id = $1 AND api_base = $2 AND months IS NOT NULL AND seen_at > now() - interval '35 days'";

/// What a purge of the office's archive did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SharedPurge {
    /// Events deleted from the office's archive.
    pub deleted: u64,
    /// The office's retention in months (the shortest of the desks heard from), `None`: until deleted.
    pub office_months: Option<i32>,
}

impl TeamKeys {
    /// Records this desk's retention (`months`, `None`: until deleted) for the office, and deletes
    /// from the office's archive what the office's retention (the shortest) no longer keeps.
    pub async fn purge_shared_events(&self, months: Option<u32>) -> TeamResult<SharedPurge> {
        let months = months.map(|months| months.min(i32::MAX as u32) as i32);
        let mut client = self.writer().await?;
        let transaction = client.transaction().await.map_err(|error| explain(&error))?;
        let scope = self.scope();
        transaction
            .execute(
                "INSERT INTO team_retention (partner_id, api_base, desk, months, seen_at) VALUES ($1, $2, $3, $4, now())
                 ON CONFLICT (partner_id, api_base, desk) DO UPDATE SET months = excluded.months, seen_at = now()",
                &[&scope.partner_id, &scope.api_base, &self.desk_name(), &months],
            )
            .await
            .map_err(|error| explain(&error))?;
        let office_months: Option<i32> = transaction
            .query_one(OFFICE_MONTHS, &[&scope.partner_id, &scope.api_base])
            .await
            .map_err(|error| explain(&error))?
            .try_get(0)
            .map_err(|error| explain(&error))?;
        let deleted = transaction
            .execute(
                &format!(
                    "DELETE FROM team_events WHERE partner_id = $1 AND api_base = $2
                     AND at < now() - make_interval(months => ({OFFICE_MONTHS}))"
                ),
                &[&scope.partner_id, &scope.api_base],
            )
            .await
            .map_err(|error| explain(&error))?;
        transaction.commit().await.map_err(|error| explain(&error))?;
        Ok(SharedPurge { deleted, office_months })
    }

    /// Deletes every event of the account from the office's archive (the user asked, on one desk,
    /// with "Delete all local history"); returns how many went. Desks keep their local copies.
    pub async fn delete_shared_events(&self) -> TeamResult<u64> {
        let client = self.writer().await?;
        client
            .execute(
                "DELETE FROM team_events WHERE partner_id = $1 AND api_base = $2",
                &[&self.scope().partner_id, &self.scope().api_base],
            )
            .await
            .map_err(|error| explain(&error))
    }

    /// Adds a lock's events to the office's archive (those it holds already are left as they are);
    /// returns how many were new.
    pub async fn share_events(&self, lock_id: &str, events: &[LockEvent]) -> TeamResult<u64> {
        if events.is_empty() {
            return Ok(0);
        }
        let ids: Vec<&str> = events.iter().map(|event| event.id.as_str()).collect();
        let keys: Vec<&str> = events.iter().map(|event| event.key_id.as_str()).collect();
        let actions: Vec<&str> = events.iter().map(|event| event.action.as_str()).collect();
        let names: Vec<&str> = events.iter().map(|event| event.name.as_str()).collect();
        let msns: Vec<&str> = events.iter().map(|event| event.msn.as_str()).collect();
        let times: Vec<DateTime<Utc>> = events.iter().map(|event| event.created).collect();
        let mut client = self.writer().await?;
        let transaction = client.transaction().await.map_err(|error| explain(&error))?;
        transaction
            .execute(
                "SELECT pg_advisory_xact_lock(hashtext('unloc_desk_events ' || $1 || ' ' || $2))",
                &[&self.scope().partner_id, &self.scope().api_base],
            )
            .await
            .map_err(|error| explain(&error))?;
        let added = transaction
            .execute(
                &format!(
                    "INSERT INTO team_events (partner_id, api_base, id, lock_id, key_id, action, name, msn, at, shared_by)
                 SELECT $1, $2, id, $3, key_id, action, name, msn, at, $9
                 FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $10::timestamptz[])
                     AS event (id, key_id, action, name, msn, at)
                 WHERE at >= COALESCE(now() - make_interval(months => ({OFFICE_MONTHS})), '-infinity')
                 ON CONFLICT (partner_id, api_base, id) DO NOTHING"
                ),
                &[
                    &self.scope().partner_id,
                    &self.scope().api_base,
                    &lock_id,
                    &ids,
                    &keys,
                    &actions,
                    &names,
                    &msns,
                    &self.desk_name(),
                    &times,
                ],
            )
            .await
            .map_err(|error| explain(&error))?;
        transaction.commit().await.map_err(|error| explain(&error))?;
        Ok(added)
    }

    /// Up to `limit` events other desks shared after arrival number `after` (0: from the start).
    pub async fn shared_events(&self, after: i64, limit: i64) -> TeamResult<SharedEvents> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT lock_id, id, key_id, action, name, msn, at, seq FROM team_events
                 WHERE partner_id = $1 AND api_base = $2 AND seq > $3 AND shared_by <> $4
                 ORDER BY seq LIMIT $5",
                &[&self.scope().partner_id, &self.scope().api_base, &after, &self.desk_name(), &limit],
            )
            .await
            .map_err(|error| explain(&error))?;
        let next = match rows.last() {
            Some(row) => column::<i64>(row, 7)?.max(after),
            None => after,
        };
        let events = rows
            .iter()
            .map(|row| {
                let event = LockEvent {
                    id: column(row, 1)?,
                    key_id: column(row, 2)?,
                    action: Action::from_text(column(row, 3)?),
                    name: column(row, 4)?,
                    msn: column(row, 5)?,
                    created: column(row, 6)?,
                };
                Ok((column(row, 0)?, event))
            })
            .collect::<TeamResult<_>>()?;
        Ok(SharedEvents { events, next })
    }
}
