//! The shared schema: versioned migrations, run by whichever desk starts first.
//!
//! All of them run in one transaction that first takes a transaction-scoped advisory lock: two
//! desks starting together queue on the lock, and the second finds the work done. A schema newer
//! than this app knows is left alone, and the app treats team data as read-only.

use tokio_postgres::Client;

use super::connect::explain;
use super::TeamResult;

/// The advisory lock every desk takes to migrate ("UnlocDsk" in ASCII): one number, so desks of
/// every version agree on it.
const SCHEMA_LOCK: i64 = 0x556e_6c6f_6344_736b;

/// Each entry moves the shared schema one version up; never edit one that has shipped.
/// Every table is scoped by partner id and API address.
pub(crate) const MIGRATIONS: &[&str] = &[
    // 1: keys (every key any desk created, added or saw in a history), with who created them where.
    "CREATE TABLE team_keys (
        partner_id text NOT NULL,
        api_base text NOT NULL,
        id text NOT NULL,
        lock_id text NOT NULL,
        origin text NOT NULL CHECK (origin IN ('created', 'events', 'added')),
        msn text,
        route text,
        start_at timestamptz,
        end_at timestamptz,
        api_state text,
        created_at timestamptz,
        created_by text,
        created_on_desk text,
        first_seen timestamptz NOT NULL,
        last_checked timestamptz,
        state_since timestamptz NOT NULL,
        next_check_at timestamptz,
        quiet_checks integer NOT NULL DEFAULT 0,
        first_used timestamptz,
        last_used timestamptz,
        updated_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (partner_id, api_base, id)
    );
    CREATE INDEX team_keys_by_lock ON team_keys (partner_id, api_base, lock_id);",
    // 2: every written key is announced on the channel `unloc_desk_keys` (LISTEN/NOTIFY), so other
    // desks learn of it at once instead of polling. The payload names the account and the key only.
    "CREATE FUNCTION team_keys_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('unloc_desk_keys',
            json_build_object('partnerId', NEW.partner_id, 'apiBase', NEW.api_base, 'keyId', NEW.id)::text);
        RETURN NULL;
    END
    $$;
    CREATE TRIGGER team_keys_changed AFTER INSERT OR UPDATE ON team_keys
        FOR EACH ROW EXECUTE FUNCTION team_keys_notify();",
    // 3: leases on background work (a key's follow-up, a lock's history sync): which desk does the
    // item for the office, until when (team/lease.rs).
    "CREATE TABLE team_leases (
        partner_id text NOT NULL,
        api_base text NOT NULL,
        work text NOT NULL,
        holder text NOT NULL,
        expires_at timestamptz NOT NULL,
        PRIMARY KEY (partner_id, api_base, work)
    );
    CREATE INDEX team_leases_by_holder ON team_leases (partner_id, api_base, holder);",
    // 4: the rule a queued write from a desk meets (`TeamKeys::push`): its word on a key's state is
    // taken only when newer than the office's, and never after a final state. In the database,
    // so two desks sending in any order end with the same row.
    "CREATE FUNCTION team_newer(known_state text, known_since timestamptz, incoming_state text,
            incoming_since timestamptz) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
        SELECT incoming_state IS NOT NULL AND (known_state IS NULL OR (
            known_state NOT IN ('revoked', 'expired', 'error') AND incoming_since > known_since))
    $$;",
    // 5: the office's activity archive: the events one desk's history sync fetched, for every desk
    // (deduplicated by event id); `seq` is the order they arrived in, for desks to pick up what is new.
    "CREATE TABLE team_events (
        partner_id text NOT NULL,
        api_base text NOT NULL,
        id text NOT NULL,
        lock_id text NOT NULL,
        key_id text NOT NULL,
        action text NOT NULL,
        name text NOT NULL,
        msn text NOT NULL,
        at timestamptz NOT NULL,
        shared_by text NOT NULL,
        seq bigserial NOT NULL,
        PRIMARY KEY (partner_id, api_base, id)
    );
    CREATE INDEX team_events_by_seq ON team_events (partner_id, api_base, seq);",
    // 6: the office's people directory, one row per phone number (a removal stays as a row marked
    // deleted, so a desk that was away hears of it); `seq` says which rows changed since a desk looked.
    "CREATE SEQUENCE team_people_seq;
    CREATE TABLE team_people (
        partner_id text NOT NULL,
        api_base text NOT NULL,
        phone text NOT NULL,
        name text NOT NULL,
        note text,
        deleted boolean NOT NULL,
        changed_at timestamptz NOT NULL,
        changed_by text NOT NULL,
        seq bigint NOT NULL,
        PRIMARY KEY (partner_id, api_base, phone)
    );
    CREATE INDEX team_people_by_seq ON team_people (partner_id, api_base, seq);",
    // 7: who revoked a key with the app, on which desk ("revoked by Bjørn on OFFICE-PC-1"): the
    // first desk to say so keeps it.
    "ALTER TABLE team_keys ADD COLUMN revoked_by text, ADD COLUMN revoked_on_desk text;",
    // 8: the office's archive follows retention: each desk's "Keep history for" (months, NULL for
    // until deleted) and when it last said so; the shortest of the desks heard from lately is the
    // office's (team/archive.rs). Events by time, for that purge.
    "CREATE TABLE team_retention (
        partner_id text NOT NULL,
        api_base text NOT NULL,
        desk text NOT NULL,
        months integer,
        seen_at timestamptz NOT NULL,
        PRIMARY KEY (partner_id, api_base, desk)
    );
    CREATE INDEX team_events_by_time ON team_events (partner_id, api_base, at);",
];

/// The newest shared schema this app knows.
pub const LATEST_SCHEMA: i32 = MIGRATIONS.len() as i32;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    /// At the version this app knows (after any migration it ran).
    Current(i32),
    /// Made by a newer app: read it, write nothing, ask the user to update.
    Newer { found: i32, known: i32 },
}

/// Brings the shared schema up to date.
pub async fn migrate(client: &mut Client) -> TeamResult<SchemaState> {
    migrate_with(client, MIGRATIONS).await
}

/// `migrate` with a given list (tests use slow or extra migrations).
pub(crate) async fn migrate_with(client: &mut Client, migrations: &[&str]) -> TeamResult<SchemaState> {
    let known = migrations.len() as i32;
    let transaction = client.transaction().await.map_err(|error| explain(&error))?;
    let run = async {
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK]).await?;
        transaction
            .batch_execute(
                "CREATE TABLE IF NOT EXISTS unloc_desk_schema (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )",
            )
            .await?;
        let found: i32 =
            transaction.query_one("SELECT COALESCE(MAX(version), 0) FROM unloc_desk_schema", &[]).await?.try_get(0)?;
        if found > known {
            return Ok(SchemaState::Newer { found, known });
        }
        for (index, migration) in migrations.iter().enumerate().skip(found as usize) {
            transaction.batch_execute(migration).await?;
            transaction.execute("INSERT INTO unloc_desk_schema (version) VALUES ($1)", &[&(index as i32 + 1)]).await?;
        }
        Ok(SchemaState::Current(known))
    };
    let state = run.await.map_err(|error: tokio_postgres::Error| explain(&error))?;
    transaction.commit().await.map_err(|error| explain(&error))?;
    Ok(state)
}
