//! One desk at a time for each piece of background work: a key's follow-up check, a lock's history
//! sync. A desk holds a lease on an item (a row: the item, the holding desk, until when) and renews
//! it while it runs; a desk that is gone stops renewing, and once its lease has run out another desk
//! takes the item over. So Unloc hears each key's check and each lock's sync once per interval
//! however many desks the office runs, inside one desk's request budget.
//!
//! Times are the server's (`now()`), so desks whose clocks disagree still agree on who holds what.
//! An item is claimed with `FOR UPDATE SKIP LOCKED`: two desks claiming at once never wait on each
//! other, and each item goes to exactly one of them.

use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::Pool;

use super::keys::checkout;
use super::{Scope, TeamResult};

/// How long a lease lasts without renewal: how long an item waits for another desk when its
/// holder went away without a word (closed the lid, lost the network).
pub const LEASE_TIME: Duration = Duration::from_secs(2 * 60);

/// A piece of background work that one desk at a time does for the whole office.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Work {
    /// The follow-up checks of one key (`GET /keys/{id}`).
    KeyCheck(String),
    /// The history sync of one lock (`GET /locks/{id}/events`).
    LockHistory(String),
}

impl Work {
    fn name(&self) -> String {
        match self {
            Work::KeyCheck(key_id) => format!("key:{key_id}"),
            Work::LockHistory(lock_id) => format!("lock:{lock_id}"),
        }
    }
}

/// One desk's leases in one partner account.
pub struct Leases {
    pool: Pool,
    scope: Scope,
    holder: String,
    lease_time: Duration,
}

impl Leases {
    /// `holder` names this desk to the others; it must differ between desks of one office.
    pub(crate) fn new(pool: Pool, scope: Scope, holder: String, lease_time: Duration) -> Self {
        Leases { pool, scope, holder, lease_time }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    pub fn lease_time(&self) -> Duration {
        self.lease_time
    }

    /// Claims what it can of `work` and returns what this desk holds now: items no desk held, items
    /// whose lease ran out, and items this desk held already (renewed). An item another desk holds
    /// (or is claiming this very moment) is left to it.
    pub async fn claim(&self, work: &[Work]) -> TeamResult<Vec<Work>> {
        if work.is_empty() {
            return Ok(Vec::new());
        }
        let names: Vec<String> = work.iter().map(Work::name).collect();
        let client = checkout(&self.pool).await?;
        // New items are inserted; known ones that are free are locked (skipping any another desk
        // has locked) and taken. Both parts see the table as the statement began, so a row another
        // desk inserts meanwhile is neither inserted twice nor taken from it.
        let rows = client
            .query(
                "WITH wanted AS (SELECT DISTINCT unnest($3::text[]) AS work),
                 inserted AS (
                     INSERT INTO team_leases (partner_id, api_base, work, holder, expires_at)
                     SELECT $1, $2, work, $4, now() + make_interval(secs => $5) FROM wanted
                     ON CONFLICT (partner_id, api_base, work) DO NOTHING
                     RETURNING work
                 ),
                 free AS (
                     SELECT lease.work FROM team_leases lease JOIN wanted ON lease.work = wanted.work
                     WHERE lease.partner_id = $1 AND lease.api_base = $2
                         AND (lease.holder = $4 OR lease.expires_at < now())
                     FOR UPDATE OF lease SKIP LOCKED
                 ),
                 taken AS (
                     UPDATE team_leases lease SET holder = $4, expires_at = now() + make_interval(secs => $5)
                     FROM free WHERE lease.partner_id = $1 AND lease.api_base = $2 AND lease.work = free.work
                     RETURNING lease.work
                 )
                 SELECT work FROM inserted UNION SELECT work FROM taken",
                &[&self.scope.partner_id, &self.scope.api_base, &names, &self.holder, &self.lease_seconds()],
            )
            .await
            .map_err(|error| super::connect::explain(&error))?;
        let held: std::collections::HashSet<String> =
            rows.iter().map(|row| super::column(row, 0)).collect::<TeamResult<_>>()?;
        Ok(work.iter().filter(|item| held.contains(&item.name())).cloned().collect())
    }

    /// Whether this desk holds `work` now (claiming it when it is free).
    pub async fn holds(&self, work: Work) -> TeamResult<bool> {
        Ok(!self.claim(std::slice::from_ref(&work)).await?.is_empty())
    }

    /// Extends every lease this desk holds; returns how many.
    pub async fn renew(&self) -> TeamResult<u64> {
        let client = checkout(&self.pool).await?;
        client
            .execute(
                "UPDATE team_leases SET expires_at = now() + make_interval(secs => $4)
                 WHERE partner_id = $1 AND api_base = $2 AND holder = $3",
                &[&self.scope.partner_id, &self.scope.api_base, &self.holder, &self.lease_seconds()],
            )
            .await
            .map_err(|error| super::connect::explain(&error))
    }

    /// Gives up these items (a key settled, a lock no longer granted): nobody need do them.
    pub async fn release(&self, work: &[Work]) -> TeamResult<()> {
        let names: Vec<String> = work.iter().map(Work::name).collect();
        let client = checkout(&self.pool).await?;
        client
            .execute(
                "DELETE FROM team_leases WHERE partner_id = $1 AND api_base = $2 AND holder = $3
                     AND work = ANY($4::text[])",
                &[&self.scope.partner_id, &self.scope.api_base, &self.holder, &names],
            )
            .await
            .map_err(|error| super::connect::explain(&error))?;
        Ok(())
    }

    /// Gives up every lease of this desk (signing out, sharing stopped): the other desks take the
    /// work over at once instead of after the lease time.
    pub async fn release_all(&self) -> TeamResult<()> {
        let client = checkout(&self.pool).await?;
        client
            .execute(
                "DELETE FROM team_leases WHERE partner_id = $1 AND api_base = $2 AND holder = $3",
                &[&self.scope.partner_id, &self.scope.api_base, &self.holder],
            )
            .await
            .map_err(|error| super::connect::explain(&error))?;
        Ok(())
    }

    fn lease_seconds(&self) -> f64 {
        self.lease_time.as_secs_f64()
    }
}

/// Renews a desk's leases for as long as it runs, three times per lease time (a renewal lost to a
/// network blip leaves two more before the lease runs out). When it stops (the link dropped, the
/// app gone) the leases run out by themselves and other desks take the work over.
pub async fn keep_renewed(leases: Arc<Leases>) {
    let mut ticks = tokio::time::interval(leases.lease_time / 3);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        if let Err(error) = leases.renew().await {
            log::info!("team database: leases not renewed now ({error})");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::time::Instant;

    use super::super::testing::server;
    use super::super::{Author, TeamKeys};
    use super::*;

    fn scope(partner_id: &str) -> Scope {
        Scope { partner_id: partner_id.into(), api_base: "https://partner.unloc.app/v1".into() }
    }

    /// A desk of the office: its own store handle (its own connections), its own name.
    async fn desk(settings: &super::super::TeamSettings, password: &secrecy::SecretString, name: &str) -> TeamKeys {
        let author = Author { user: "Anna".into(), desk: name.into() };
        TeamKeys::open(settings, password, scope("p1"), author).await.unwrap()
    }

    fn keys(count: usize) -> Vec<Work> {
        (0..count).map(|n| Work::KeyCheck(format!("key-{n}"))).collect()
    }

    #[tokio::test]
    async fn three_desks_claiming_together_each_item_goes_to_exactly_one() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let mut work = keys(20);
        work.extend((0..5).map(|n| Work::LockHistory(format!("lock-{n}"))));
        let desks = [
            desk(&settings, &password, "PC-1").await,
            desk(&settings, &password, "PC-2").await,
            desk(&settings, &password, "PC-3").await,
        ];
        let leases: Vec<Leases> = desks.iter().map(|desk| desk.leases(LEASE_TIME).unwrap()).collect();
        for round in 0..3 {
            // All at once, every desk asking for every item, several times over.
            let (a, b, c) = tokio::join!(leases[0].claim(&work), leases[1].claim(&work), leases[2].claim(&work));
            let held = [a.unwrap(), b.unwrap(), c.unwrap()];
            let mut owners = std::collections::HashMap::new();
            for (desk, items) in held.iter().enumerate() {
                for item in items {
                    if let Some(other) = owners.insert(item.clone(), desk) {
                        panic!("round {round}: {item:?} went to desk {other} and desk {desk}");
                    }
                }
            }
            assert_eq!(owners.len(), work.len(), "round {round}: every item has a desk");
            if round == 0 {
                continue;
            }
            // A held lease stays with its desk: the same split every round.
            let again: Vec<HashSet<Work>> = held.iter().map(|items| items.iter().cloned().collect()).collect();
            let (a, b, c) = tokio::join!(leases[0].claim(&work), leases[1].claim(&work), leases[2].claim(&work));
            let now: Vec<HashSet<Work>> =
                [a.unwrap(), b.unwrap(), c.unwrap()].into_iter().map(|items| items.into_iter().collect()).collect();
            assert_eq!(again, now, "round {round}: the leases stayed where they were");
        }
    }

    #[tokio::test]
    async fn another_partner_account_has_leases_of_its_own() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let ours = desk(&settings, &password, "PC-1").await.leases(LEASE_TIME).unwrap();
        let theirs =
            TeamKeys::open(&settings, &password, scope("p2"), Author { user: "Ola".into(), desk: "PC-9".into() })
                .await
                .unwrap()
                .leases(LEASE_TIME)
                .unwrap();
        assert_eq!(ours.claim(&keys(3)).await.unwrap().len(), 3);
        assert_eq!(theirs.claim(&keys(3)).await.unwrap().len(), 3, "the same key ids in another account");
    }

    /// Claims `work` for `desk` until it gets it, for at most `within`.
    async fn taken_within(desk: &Leases, work: &[Work], within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if desk.claim(work).await.unwrap().len() == work.len() {
                return started.elapsed();
            }
            assert!(started.elapsed() < within, "not taken over within {within:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    #[tokio::test]
    async fn a_desk_that_keeps_renewing_keeps_its_leases_and_a_desk_gone_is_taken_over() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let lease_time = Duration::from_secs(1);
        let first = Arc::new(desk(&settings, &password, "PC-1").await.leases(lease_time).unwrap());
        let second = desk(&settings, &password, "PC-2").await.leases(lease_time).unwrap();
        let work = keys(4);
        assert_eq!(first.claim(&work).await.unwrap().len(), 4);
        let keeper = tokio::spawn(keep_renewed(Arc::clone(&first)));
        // Three lease times go by while the first desk renews: the second desk gets nothing.
        // (A wait that proves nothing happens cannot be a wait for a condition.)
        let until = Instant::now() + lease_time * 3;
        while Instant::now() < until {
            assert!(second.claim(&work).await.unwrap().is_empty(), "taken from a desk that renews");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // The first desk goes away without a word: its leases run out and the second takes over.
        keeper.abort();
        let took = taken_within(&second, &work, Duration::from_secs(5)).await;
        assert!(took <= lease_time + Duration::from_millis(500), "taken over after {took:?}");
        assert!(first.claim(&work).await.unwrap().is_empty(), "the desk that went away lost them");
    }

    #[tokio::test]
    async fn released_leases_are_taken_over_at_once() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let first = desk(&settings, &password, "PC-1").await.leases(LEASE_TIME).unwrap();
        let second = desk(&settings, &password, "PC-2").await.leases(LEASE_TIME).unwrap();
        let work = keys(3);
        assert_eq!(first.claim(&work).await.unwrap().len(), 3);
        assert!(second.claim(&work).await.unwrap().is_empty());
        first.release(&work[..1]).await.unwrap();
        assert_eq!(second.claim(&work).await.unwrap(), work[..1], "a released item is free");
        first.release_all().await.unwrap();
        assert_eq!(second.claim(&work).await.unwrap(), work, "signing out hands everything over");
    }
}
