//! The office's keys in the shared database: the same [`KeyStore`] as the local store, every row
//! scoped by partner id and API address, and each created key marked with who created it where.

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use secrecy::SecretString;
use tokio_postgres::Row;

use super::connect::{client_config, explain};
use super::lease::Leases;
use super::schema::{self, SchemaState};
use super::{column, Scope, TeamError, TeamProblem, TeamResult, TeamSettings};
use crate::api::Key;
use crate::key_store::KeyStore;
use crate::store::{CreatedKeyRecord, KeyOrigin, StoredKey};

/// Connections one desk keeps open at most: the app makes few, short queries.
const POOL_SIZE: usize = 4;

/// Who writes: the user's name and the computer's, shown on other desks ("created by Anna on
/// OFFICE-PC-2").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Author {
    pub user: String,
    pub desk: String,
}

pub struct TeamKeys {
    pool: Pool,
    scope: Scope,
    author: Author,
    schema: SchemaState,
}

impl TeamKeys {
    /// Connects, brings the shared schema up to date, and keeps a small pool of connections.
    pub async fn open(
        settings: &TeamSettings,
        password: &SecretString,
        scope: Scope,
        author: Author,
    ) -> TeamResult<TeamKeys> {
        let (config, tls) = client_config(settings, password)?;
        // Verified: each connection taken from the pool first answers an empty query. A server that
        // ended its connections (a restart, pg_terminate_backend) says so only when the connection
        // is read next; `Fast` looks at a flag that may not be set yet, and hands the dead
        // connection out again, so the desk's next round would fail too. One round trip per use.
        let manager = Manager::from_config(config, tls, ManagerConfig { recycling_method: RecyclingMethod::Verified });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            // A connection whose network went away without a word (no reset) would hold the
            // check above until TCP gives up: it is dropped after this, and a new one made.
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .recycle_timeout(Some(std::time::Duration::from_secs(5)))
            .build()
            .map_err(|error| TeamError::new(TeamProblem::Other, error.to_string()))?;
        let mut client = checkout(&pool).await?;
        let schema = schema::migrate(&mut client).await?;
        drop(client);
        Ok(TeamKeys { pool, scope, author, schema })
    }

    /// A schema newer than this app: its rows are read, nothing is written.
    pub fn is_read_only(&self) -> bool {
        matches!(self.schema, SchemaState::Newer { .. })
    }

    pub fn schema(&self) -> SchemaState {
        self.schema
    }

    /// This desk's leases on the office's background work, over the same connections. A read-only
    /// (newer) schema gets none: the desk then does its own work, as without team mode.
    pub fn leases(&self, lease_time: std::time::Duration) -> TeamResult<Leases> {
        if let SchemaState::Newer { found, known } = self.schema {
            return Err(TeamError::new(
                TeamProblem::SchemaNewer,
                format!("read-only: the shared schema is version {found}, this app knows up to {known}"),
            ));
        }
        Ok(Leases::new(self.pool.clone(), self.scope.clone(), self.desk_name(), lease_time))
    }

    pub(super) fn scope(&self) -> &Scope {
        &self.scope
    }

    /// How this desk is named in what it writes for the others ("Anna on OFFICE-PC-2").
    pub(super) fn desk_name(&self) -> String {
        format!("{} on {}", self.author.user, self.author.desk)
    }

    pub(super) async fn client(&self) -> TeamResult<deadpool_postgres::Object> {
        checkout(&self.pool).await
    }

    pub(super) async fn writer(&self) -> TeamResult<deadpool_postgres::Object> {
        if let SchemaState::Newer { found, known } = self.schema {
            return Err(TeamError::new(
                TeamProblem::SchemaNewer,
                format!("read-only: the shared schema is version {found}, this app knows up to {known}"),
            ));
        }
        self.client().await
    }
}

pub(super) async fn checkout(pool: &Pool) -> TeamResult<deadpool_postgres::Object> {
    pool.get().await.map_err(|error| match error {
        deadpool_postgres::PoolError::Backend(error) => explain(&error),
        other => TeamError::new(TeamProblem::Unreachable, other.to_string()),
    })
}

fn failed(error: tokio_postgres::Error) -> TeamError {
    explain(&error)
}

const SELECT_KEY: &str = "SELECT id, lock_id, origin, msn, route, start_at, end_at, api_state, created_at, first_seen,
    last_checked, state_since, next_check_at, quiet_checks, first_used, last_used, created_by, created_on_desk,
    revoked_by, revoked_on_desk
    FROM team_keys
    WHERE partner_id = $1 AND api_base = $2";

fn read_key(row: &Row) -> TeamResult<StoredKey> {
    Ok(StoredKey {
        id: column(row, 0)?,
        lock_id: column(row, 1)?,
        origin: match column::<&str>(row, 2)? {
            "created" => KeyOrigin::Created,
            "added" => KeyOrigin::Added,
            _ => KeyOrigin::Events,
        },
        msn: column(row, 3)?,
        route: column(row, 4)?,
        start: column(row, 5)?,
        end: column(row, 6)?,
        api_state: column(row, 7)?,
        created_at: column(row, 8)?,
        first_seen: column(row, 9)?,
        last_checked: column(row, 10)?,
        state_since: column(row, 11)?,
        next_check_at: column(row, 12)?,
        quiet_checks: column::<i32>(row, 13)?.max(0) as u32,
        first_used: column(row, 14)?,
        last_used: column(row, 15)?,
        created_by: column(row, 16)?,
        created_on_desk: column(row, 17)?,
        revoked_by: column(row, 18)?,
        revoked_on_desk: column(row, 19)?,
    })
}

impl TeamKeys {
    /// Sends a key as this desk keeps it (a queued write), without letting it replace a newer word
    /// from another desk: its state only when seen later than the office's, never after a final
    /// state (revoked, expired, failed); what the office lacks (recipient, author) is filled in.
    /// Sending the same key twice changes nothing the second time (and announces nothing).
    pub async fn push(&self, key: &StoredKey) -> TeamResult<()> {
        let client = self.writer().await?;
        client
            .execute(
                "INSERT INTO team_keys AS known (partner_id, api_base, id, lock_id, origin, msn, route, start_at, end_at,
                     api_state, created_at, created_by, created_on_desk, first_seen, last_checked, state_since,
                     first_used, last_used, revoked_by, revoked_on_desk)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)
                 ON CONFLICT (partner_id, api_base, id) DO UPDATE SET
                     origin = CASE WHEN known.origin = 'events' THEN excluded.origin ELSE known.origin END,
                     msn = COALESCE(known.msn, excluded.msn),
                     route = COALESCE(known.route, excluded.route),
                     created_at = COALESCE(known.created_at, excluded.created_at),
                     created_by = COALESCE(known.created_by, excluded.created_by),
                     created_on_desk = COALESCE(known.created_on_desk, excluded.created_on_desk),
                     revoked_on_desk = CASE WHEN known.revoked_by IS NULL THEN excluded.revoked_on_desk ELSE known.revoked_on_desk END,
                     revoked_by = COALESCE(known.revoked_by, excluded.revoked_by),
                     api_state = CASE WHEN team_newer(known.api_state, known.state_since, excluded.api_state, excluded.state_since) THEN excluded.api_state ELSE known.api_state END,
                     start_at = CASE WHEN team_newer(known.api_state, known.state_since, excluded.api_state, excluded.state_since) THEN excluded.start_at ELSE known.start_at END,
                     end_at = CASE WHEN team_newer(known.api_state, known.state_since, excluded.api_state, excluded.state_since) THEN excluded.end_at ELSE known.end_at END,
                     lock_id = CASE WHEN team_newer(known.api_state, known.state_since, excluded.api_state, excluded.state_since) THEN excluded.lock_id ELSE known.lock_id END,
                     state_since = CASE WHEN team_newer(known.api_state, known.state_since, excluded.api_state, excluded.state_since) THEN excluded.state_since
                         ELSE known.state_since END,
                     next_check_at = CASE WHEN team_newer(known.api_state, known.state_since, excluded.api_state, excluded.state_since) AND excluded.api_state IN
                         ('revoked', 'expired', 'error') THEN NULL ELSE known.next_check_at END,
                     last_checked = GREATEST(known.last_checked, excluded.last_checked),
                     first_used = LEAST(known.first_used, excluded.first_used),
                     last_used = GREATEST(known.last_used, excluded.last_used),
                     updated_at = now()
                 WHERE team_newer(known.api_state, known.state_since, excluded.api_state, excluded.state_since)
                     OR known.last_checked IS DISTINCT FROM GREATEST(known.last_checked, excluded.last_checked)
                     OR (known.origin = 'events' AND excluded.origin <> 'events')
                     OR (known.created_by IS NULL AND excluded.created_by IS NOT NULL)
                     OR (known.revoked_by IS NULL AND excluded.revoked_by IS NOT NULL)
                     OR (known.msn IS NULL AND excluded.msn IS NOT NULL)
                     OR known.last_used IS DISTINCT FROM GREATEST(known.last_used, excluded.last_used)",
                &[
                    &self.scope.partner_id,
                    &self.scope.api_base,
                    &key.id,
                    &key.lock_id,
                    &key.origin.as_str(),
                    &key.msn,
                    &key.route,
                    &key.start,
                    &key.end,
                    &key.api_state,
                    &key.created_at,
                    &key.created_by,
                    &key.created_on_desk,
                    &key.first_seen,
                    &key.last_checked,
                    &key.state_since,
                    &key.first_used,
                    &key.last_used,
                    &key.revoked_by,
                    &key.revoked_on_desk,
                ],
            )
            .await
            .map_err(failed)?;
        Ok(())
    }
}

impl KeyStore for TeamKeys {
    type Error = TeamError;

    async fn remember_created_key(&self, key: &CreatedKeyRecord<'_>, now: DateTime<Utc>) -> TeamResult<()> {
        let client = self.writer().await?;
        client
            .execute(
                "INSERT INTO team_keys (partner_id, api_base, id, lock_id, origin, msn, route, start_at, end_at,
                     api_state, created_at, created_by, created_on_desk, first_seen, state_since, next_check_at)
                 VALUES ($1, $2, $3, $4, 'created', $5, $6, $7, $8, 'creating', $9, $10, $11, $9, $9, $9)
                 ON CONFLICT (partner_id, api_base, id) DO UPDATE SET origin = 'created', msn = excluded.msn,
                     route = excluded.route, start_at = excluded.start_at, end_at = excluded.end_at,
                     created_at = excluded.created_at, created_by = excluded.created_by,
                     created_on_desk = excluded.created_on_desk, updated_at = now()",
                &[
                    &self.scope.partner_id,
                    &self.scope.api_base,
                    &key.id,
                    &key.lock_id,
                    &key.msn,
                    &key.route,
                    &key.start,
                    &key.end,
                    &now,
                    &self.author.user,
                    &self.author.desk,
                ],
            )
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn remember_added_key(&self, key: &Key, now: DateTime<Utc>) -> TeamResult<()> {
        let client = self.writer().await?;
        client
            .execute(
                "INSERT INTO team_keys (partner_id, api_base, id, lock_id, origin, first_seen, state_since)
                 VALUES ($1, $2, $3, $4, 'added', $5, $5)
                 ON CONFLICT (partner_id, api_base, id) DO UPDATE SET origin = 'added', updated_at = now()
                 WHERE team_keys.origin = 'events'",
                &[&self.scope.partner_id, &self.scope.api_base, &key.id, &key.lock_id, &now],
            )
            .await
            .map_err(failed)?;
        drop(client);
        self.record_check(key, now).await?;
        Ok(())
    }

    async fn record_check(&self, key: &Key, now: DateTime<Utc>) -> TeamResult<Option<Option<String>>> {
        let client = self.writer().await?;
        // The row is locked while read and written, so two desks checking at once each see the
        // state the other left.
        let row = client
            .query_opt(
                "WITH before AS (
                     SELECT api_state FROM team_keys WHERE partner_id = $1 AND api_base = $2 AND id = $3 FOR UPDATE
                 )
                 UPDATE team_keys SET api_state = $4, start_at = $5, end_at = $6, lock_id = $7, last_checked = $8,
                     state_since = CASE WHEN before.api_state IS DISTINCT FROM $4 THEN $8 ELSE state_since END,
                     quiet_checks = CASE WHEN before.api_state IS DISTINCT FROM $4 THEN 0 ELSE quiet_checks + 1 END,
                     updated_at = now()
                 FROM before WHERE partner_id = $1 AND api_base = $2 AND id = $3
                 RETURNING before.api_state, before.api_state IS DISTINCT FROM $4",
                &[
                    &self.scope.partner_id,
                    &self.scope.api_base,
                    &key.id,
                    &key.state.as_str(),
                    &key.start,
                    &key.end,
                    &key.lock_id,
                    &now,
                ],
            )
            .await
            .map_err(failed)?;
        match row {
            Some(row) if column::<bool>(&row, 1)? => Ok(Some(column(&row, 0)?)),
            _ => Ok(None),
        }
    }

    async fn record_revoked(&self, key_id: &str, now: DateTime<Utc>) -> TeamResult<()> {
        let client = self.writer().await?;
        client
            .execute(
                "UPDATE team_keys SET api_state = 'revoked',
                     state_since = CASE WHEN api_state = 'revoked' THEN state_since ELSE $4 END,
                     next_check_at = NULL, updated_at = now(),
                     revoked_on_desk = CASE WHEN revoked_by IS NULL THEN $6 ELSE revoked_on_desk END,
                     revoked_by = COALESCE(revoked_by, $5)
                 WHERE partner_id = $1 AND api_base = $2 AND id = $3",
                &[&self.scope.partner_id, &self.scope.api_base, &key_id, &now, &self.author.user, &self.author.desk],
            )
            .await
            .map_err(failed)?;
        Ok(())
    }

    async fn key(&self, key_id: &str) -> TeamResult<Option<StoredKey>> {
        let client = self.client().await?;
        let row = client
            .query_opt(&format!("{SELECT_KEY} AND id = $3"), &[&self.scope.partner_id, &self.scope.api_base, &key_id])
            .await
            .map_err(failed)?;
        row.as_ref().map(read_key).transpose()
    }

    async fn keys(&self, lock_id: Option<&str>) -> TeamResult<Vec<StoredKey>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "{SELECT_KEY} AND ($3::text IS NULL OR lock_id = $3)
                     ORDER BY COALESCE(created_at, first_seen) DESC, id"
                ),
                &[&self.scope.partner_id, &self.scope.api_base, &lock_id],
            )
            .await
            .map_err(failed)?;
        rows.iter().map(read_key).collect()
    }
}
