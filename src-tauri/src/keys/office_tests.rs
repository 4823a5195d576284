//! Three desks of one office following the same 20 keys, over real HTTP against the simulator and
//! with the throwaway PostgreSQL server (tests/scripts/with-postgres.sh): the simulator's request log
//! shows each key checked once per interval, not once per desk. Three sessions in one process, each
//! with its own local store, API client (its own governor) and team link, as three desks would be.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use secrecy::SecretString;
use unloc_sim::{fixtures, Route, SimConfig, Simulator};

use super::follow::{FollowPolicy, Follower, KeyObserver};
use super::{KeyStatus, KeyView};
use crate::account::Account;
use crate::api::{ApiBase, ApiClient, ClientConfig, GovernorConfig, NewKey, PartnerId};
use crate::session::TeamAttachment;
use crate::store::{CreatedKeyRecord, Store};
use crate::team::testing::server;
use crate::team::{Author, Scope, TeamLink, TeamSettings};

const KEYS: usize = 20;
/// How often each key is asked about (active keys with an end far away: the usable cap).
const INTERVAL: Duration = Duration::from_millis(500);
/// Renewed three times per lease time. Not shorter: on a loaded machine (a build beside the tests)
/// a renewal came over a second late, the lease ran out under a desk still checking its keys, and
/// another desk checked them too. The take-over below does not wait for it: a desk that goes gives
/// its leases up.
const LEASE_TIME: Duration = Duration::from_secs(3);

struct Unheard;

impl KeyObserver for Unheard {
    fn keys_changed(&self, _keys: &[KeyView]) {}
    fn status_changed(&self, _key: &KeyView, _before: KeyStatus) {}
}

fn policy() -> FollowPolicy {
    FollowPolicy {
        first_wait: INTERVAL,
        max_creating: INTERVAL,
        max_awaiting: INTERVAL,
        max_usable: INTERVAL,
        after_failure: INTERVAL,
        ..FollowPolicy::default()
    }
}

/// A client of the simulator whose governor lets every check out at once: the counts then show
/// what the desks asked for, not what a budget let through.
fn client(sim: &Simulator) -> ApiClient {
    let mut config = ClientConfig::new(
        ApiBase::parse(&sim.api_base()).unwrap(),
        PartnerId::parse(sim.partner_id()).unwrap(),
        SecretString::from(sim.token().to_owned()),
    );
    config.governor = GovernorConfig { interval: Duration::from_millis(1), ..GovernorConfig::default() };
    ApiClient::new(config).unwrap()
}

struct Desk {
    name: String,
    account: Arc<Account>,
    team: Arc<TeamAttachment>,
    _follower: Follower,
}

/// A desk that knows the office's keys in its local store and follows them; in team mode when
/// `team` names the database.
fn desk(sim: &Simulator, keys: &[String], team: Option<(&TeamSettings, &SecretString)>, name: &str) -> Desk {
    let account = Arc::new(Account::new(Store::in_memory().unwrap()));
    let now = Utc::now();
    for id in keys {
        let record = CreatedKeyRecord {
            id,
            lock_id: fixtures::HJEMME_LOCK_ID,
            msn: None,
            route: None,
            start: now,
            end: Some(now + chrono::Duration::days(1)),
        };
        account.with_store(|store| store.remember_created_key(&record, now)).unwrap();
    }
    let attachment = Arc::new(TeamAttachment::default());
    if let Some((settings, password)) = team {
        let scope = Scope { partner_id: sim.partner_id().into(), api_base: sim.api_base() };
        let author = Author { user: "Anna".into(), desk: name.into() };
        let link =
            Arc::new(TeamLink::new(settings.clone(), password.clone(), scope, author).with_lease_time(LEASE_TIME));
        // Keys shared as in the app: what one desk learns reaches the others' local stores.
        super::shared::start(&link, Arc::clone(&account), None);
        attachment.set(Some(link));
    }
    let follower = Follower::spawn(
        Arc::new(client(sim)),
        Arc::clone(&account),
        Arc::clone(&attachment),
        Arc::new(Unheard),
        policy(),
    );
    Desk { name: name.into(), account, team: attachment, _follower: follower }
}

/// Each key's checks (`GET /keys/{id}`) in the simulator's log since it was cleared, as times in ms.
fn checks(sim: &Simulator) -> HashMap<String, Vec<u64>> {
    let mut checks: HashMap<String, Vec<u64>> = HashMap::new();
    for request in sim.requests() {
        if let (Some(Route::KeysGet), Some(key_id)) = (request.route, request.key_id) {
            checks.entry(key_id).or_default().push(request.at_ms);
        }
    }
    checks
}

/// The shortest time between two checks of one key, over all keys.
fn shortest_gap(checks: &HashMap<String, Vec<u64>>) -> u64 {
    checks
        .values()
        .flat_map(|times| {
            let mut times = times.clone();
            times.sort_unstable();
            times.windows(2).map(|pair| pair[1] - pair[0]).collect::<Vec<_>>()
        })
        .min()
        .unwrap_or(u64::MAX)
}

async fn office_keys(sim: &Simulator) -> Vec<String> {
    let client = client(sim);
    let mut ids = Vec::new();
    for n in 0..KEYS {
        let key = NewKey {
            lock_id: fixtures::HJEMME_LOCK_ID.into(),
            msn: Some(format!("+47900000{n:02}")),
            start: Utc::now(),
            end: Some(Utc::now() + chrono::Duration::days(1)),
            route: None,
        };
        ids.push(client.create_key(&key).await.unwrap().id);
    }
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_desks_following_twenty_keys_check_each_key_once_per_interval() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let config = SimConfig { lockout_after: 0, key_provisioning: Duration::ZERO, ..SimConfig::default() };
    let sim = unloc_sim::start(config).await.unwrap();
    let keys = office_keys(&sim).await;
    let window = INTERVAL * 8;

    // On their own, three desks ask three times.
    let alone: Vec<Desk> = (1..=3).map(|n| desk(&sim, &keys, None, &format!("PC-{n}"))).collect();
    tokio::time::sleep(INTERVAL).await; // the first checks of never-fetched keys go out at once
    sim.clear_requests();
    tokio::time::sleep(window).await;
    drop(alone);
    let unshared = checks(&sim).values().map(Vec::len).sum::<usize>();
    // (A fixed window: what is counted is what the desks send in it.)

    // Sharing through the team database, the same three desks ask once.
    let shared: Vec<Desk> =
        (1..=3).map(|n| desk(&sim, &keys, Some((&settings, &password)), &format!("PC-{n}"))).collect();
    tokio::time::sleep(INTERVAL).await;
    sim.clear_requests();
    tokio::time::sleep(window).await;
    let seen = checks(&sim);
    let total = seen.values().map(Vec::len).sum::<usize>();
    let rounds = (window.as_millis() / INTERVAL.as_millis()) as usize;
    assert_eq!(seen.len(), KEYS, "every key is followed");
    for (key_id, times) in &seen {
        assert!(times.len() <= rounds + 1, "{key_id} checked {} times in {rounds} intervals", times.len());
    }
    let gap = shortest_gap(&seen);
    assert!(gap >= INTERVAL.as_millis() as u64 * 3 / 4, "a key was checked twice within {gap} ms");
    assert!(unshared >= total * 5 / 2, "alone the desks sent {unshared} checks, sharing {total}: not about a third");

    // The desk holding most leases goes (signs out: its leases are given up): the others take its
    // keys over at once, and still ask once per interval.
    let admin = server.admin(&settings.database).await;
    let holders = |rows: Vec<tokio_postgres::Row>| -> HashMap<String, i64> {
        rows.iter().map(|row| (row.get(0), row.get(1))).collect()
    };
    let count = "SELECT holder, COUNT(*) FROM team_leases GROUP BY holder";
    let before = holders(admin.query(count, &[]).await.unwrap());
    let (busiest, _) = before.iter().max_by_key(|(_, held)| **held).expect("leases are held");
    let gone = shared.iter().position(|desk| busiest.ends_with(&desk.name)).unwrap();
    let mut shared = shared;
    let leaving = shared.remove(gone);
    leaving.team.set(None);
    drop(leaving);
    tokio::time::sleep(INTERVAL * 2).await;
    sim.clear_requests();
    tokio::time::sleep(window).await;
    let seen = checks(&sim);
    assert_eq!(seen.len(), KEYS, "every key is still followed");
    let gap = shortest_gap(&seen);
    assert!(gap >= INTERVAL.as_millis() as u64 * 3 / 4, "after the take-over a key was checked twice within {gap} ms");
    let after = holders(admin.query(count, &[]).await.unwrap());

    // The owner revokes a key: the desk that checks it learns it from Unloc, the other one from
    // the office's database, and Unloc is asked once.
    let revoked = &keys[0];
    sim.clear_requests();
    assert!(sim.owner_revoke_key(revoked));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while shared.iter().any(|desk| {
        let stored = desk.account.with_store(|store| store.key(revoked)).unwrap().unwrap();
        stored.api_state.as_deref() != Some("revoked")
    }) {
        assert!(std::time::Instant::now() < deadline, "not every desk heard of the revoke");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let asked = checks(&sim).get(revoked.as_str()).map_or(0, Vec::len);
    assert_eq!(asked, 1, "Unloc was asked about the revoked key {asked} times");
    assert!(!after.contains_key(busiest.as_str()), "the desk that went holds nothing: {after:?}");
    assert_eq!(after.values().sum::<i64>(), KEYS as i64, "the others hold every key: {after:?}");
}
