//! Two desks of one office syncing the activity archive, over real HTTP against the simulator and
//! with the throwaway PostgreSQL server (tests/scripts/with-postgres.sh): each lock's history is
//! fetched by one desk, and both desks' local archives end up with every event.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use secrecy::SecretString;
use unloc_sim::{Route, SimConfig, Simulator};

use super::sync::{ArchiveSync, Retention, SyncPolicy};
use crate::account::Account;
use crate::api::{ApiBase, ApiClient, ClientConfig, GovernorConfig, PartnerId};
use crate::session::TeamAttachment;
use crate::store::Store;
use crate::team::testing::server;
use crate::team::{Author, Scope, TeamLink, TeamSettings};

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
    account: Arc<Account>,
    sync: ArchiveSync,
}

async fn desk(sim: &Simulator, settings: &TeamSettings, password: &SecretString, name: &str) -> Desk {
    let client = Arc::new(client(sim));
    let account = Arc::new(Account::new(Store::in_memory().unwrap()));
    let locks = client.list_locks().await.unwrap();
    account.remember_locks(&locks.locks, Utc::now()).unwrap();
    let team = Arc::new(TeamAttachment::default());
    let scope = Scope { partner_id: sim.partner_id().into(), api_base: sim.api_base() };
    let author = Author { user: "Anna".into(), desk: name.into() };
    team.set(Some(Arc::new(TeamLink::new(settings.clone(), password.clone(), scope, author))));
    let policy = SyncPolicy {
        start_delay: Duration::ZERO,
        round_every: Duration::from_secs(3600),
        after_failure: Duration::from_millis(50),
        copy_every: Duration::from_millis(100),
        ..SyncPolicy::default()
    };
    let sync = ArchiveSync::new(policy, Retention(None));
    sync.start(client, Arc::clone(&account), team);
    Desk { account, sync }
}

fn archived(desk: &Desk) -> u64 {
    desk.account.with_store(|store| store.archived_events()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_desks_fetch_each_history_once_and_both_archives_hold_every_event() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let config = SimConfig { lockout_after: 0, locks: 12, events_per_lock: 25, ..SimConfig::default() };
    let sim = unloc_sim::start(config).await.unwrap();
    let every_event: u64 = sim.locks().iter().map(|lock| sim.events(&lock.id).unwrap_or_default().len() as u64).sum();
    sim.clear_requests();

    let desks = [desk(&sim, &settings, &password, "PC-1").await, desk(&sim, &settings, &password, "PC-2").await];
    let deadline = Instant::now() + Duration::from_secs(20);
    while desks.iter().any(|desk| archived(desk) < every_event || desk.sync.status().last_finished.is_none()) {
        let counts: Vec<u64> = desks.iter().map(archived).collect();
        assert!(Instant::now() < deadline, "archives {counts:?} of {every_event} events");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(desks.iter().map(archived).collect::<Vec<_>>(), [every_event, every_event], "no event twice");

    let mut fetched: HashMap<String, usize> = HashMap::new();
    for request in sim.requests() {
        if request.route == Some(Route::Events) && request.status == Some(200) {
            *fetched.entry(request.lock_id.unwrap_or_default()).or_default() += 1;
        }
    }
    assert_eq!(fetched.len(), sim.locks().len(), "every lock's history was fetched: {fetched:?}");
    assert!(fetched.values().all(|times| *times == 1), "a history fetched twice: {fetched:?}");
}
