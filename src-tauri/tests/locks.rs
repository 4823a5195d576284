//! Locks and event histories below the UI (`locks`): what reaches the local store, and what a
//! 404 does to it — against the simulator over real HTTP.

use unloc_desk::access::Access;
use unloc_desk::error::ErrorKind;
use unloc_desk::locks;
use unloc_sim::{fixtures, Fault, FaultRule, Route, Simulator};

mod common;
use common::{access, spawn_sim};

async fn signed_in() -> (Simulator, Access) {
    let sim = spawn_sim().await;
    let access = access();
    access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    (sim, access)
}

#[tokio::test]
async fn a_history_is_kept_newest_first_for_an_offline_start() {
    // The simulator stops when `_sim` is dropped, at the end of the test.
    let (_sim, access) = signed_in().await;
    let caller = access.caller().await.unwrap();
    let page = locks::events(&caller, access.follow_up(), access.archive(), fixtures::HJEMME_LOCK_ID).await.unwrap();
    assert!(!page.events.is_empty() && !page.from_cache);
    assert!(page.events.windows(2).all(|pair| pair[0].created >= pair[1].created), "newest first");
    let cached = locks::cached_events(caller.account(), fixtures::HJEMME_LOCK_ID).expect("the history was kept");
    assert!(cached.from_cache);
    assert_eq!(cached.events, page.events);
}

#[tokio::test]
async fn a_lock_unloc_no_longer_grants_leaves_the_saved_list() {
    let (sim, access) = signed_in().await;
    let caller = access.caller().await.unwrap();
    let before = saved_locks(caller.account()).len();
    sim.add_fault(FaultRule::always(Route::Events, Fault::Status { code: 404, body: None, retry_after: None }));
    let error =
        locks::events(&caller, access.follow_up(), access.archive(), fixtures::HJEMME_LOCK_ID).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    let after = saved_locks(caller.account());
    assert_eq!(after.len(), before - 1);
    assert!(after.iter().all(|lock| lock.id != fixtures::HJEMME_LOCK_ID));
}

/// The saved list `cached_locks` sends (as saved, not decoded), decoded here.
fn saved_locks(account: &unloc_desk::account::Account) -> Vec<unloc_desk::api::Lock> {
    let page = locks::cached(account).expect("sign-in keeps the locks");
    serde_json::from_str(page.locks.get()).expect("the saved list is locks")
}
