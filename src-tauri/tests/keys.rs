//! Keys end to end below the UI: create, follow, approve/refuse, revoke, add by id — against the
//! simulator over real HTTP, with the local store and the background follow-up.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use unloc_desk::access::Access;
use unloc_desk::error::ErrorKind;
use unloc_desk::keys::follow::{FollowPolicy, KeyObserver};
use unloc_desk::keys::{actions, KeyStatus, KeyView};
use unloc_desk::locks;
use unloc_sim::{fixtures, Route, SimConfig, Simulator};

mod common;
use common::{access, requests_on, sim_config, spawn_sim_with};

#[derive(Default)]
struct Recorder {
    changed: Mutex<Vec<KeyView>>,
    transitions: Mutex<Vec<(String, KeyStatus, KeyStatus)>>,
}

impl KeyObserver for Recorder {
    fn keys_changed(&self, keys: &[KeyView]) {
        self.changed.lock().unwrap().extend_from_slice(keys);
    }
    fn status_changed(&self, key: &KeyView, before: KeyStatus) {
        self.transitions.lock().unwrap().push((key.id.clone(), before, key.status));
    }
}

fn fast_policy() -> FollowPolicy {
    FollowPolicy {
        first_wait: Duration::from_millis(50),
        max_creating: Duration::from_millis(200),
        max_awaiting: Duration::from_millis(200),
        max_usable: Duration::from_secs(60),
        after_failure: Duration::from_millis(200),
        ..FollowPolicy::default()
    }
}

async fn sim() -> Simulator {
    spawn_sim_with(SimConfig { key_provisioning: Duration::from_millis(150), ..sim_config() }).await
}

async fn signed_in(sim: &Simulator, store_dir: Option<std::path::PathBuf>) -> (Access, Arc<Recorder>) {
    signed_in_with(sim, store_dir, fast_policy()).await
}

async fn signed_in_with(
    sim: &Simulator,
    store_dir: Option<std::path::PathBuf>,
    policy: FollowPolicy,
) -> (Access, Arc<Recorder>) {
    let recorder = Arc::new(Recorder::default());
    let mut access = access().with_key_follow_up(recorder.clone(), policy);
    if let Some(dir) = store_dir {
        access = access.with_store_dir(dir);
    }
    access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    (access, recorder)
}

async fn wait_for_status(access: &Access, key_id: &str, status: KeyStatus) -> KeyView {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let keys = actions::list(&access.keys().await.unwrap(), None).await.unwrap();
        let key = keys.into_iter().find(|key| key.id == key_id).expect("the key is known");
        if key.status == status {
            return key;
        }
        assert!(Instant::now() < deadline, "key {key_id} stayed {:?}, expected {status:?}", key.status);
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

#[tokio::test]
async fn a_key_on_an_opt_out_lock_becomes_active_by_itself() {
    let sim = sim().await;
    let (access, recorder) = signed_in(&sim, None).await;
    let key = actions::create(
        &access.keys().await.unwrap(),
        fixtures::HJEMME_LOCK_ID,
        "+4790000001",
        None,
        None,
        Some("tirsdag"),
    )
    .await
    .unwrap();
    assert_eq!(key.status, KeyStatus::Creating);
    assert_eq!(key.route.as_deref(), Some("tirsdag"));
    assert_eq!(key.lock_name.as_deref(), Some(fixtures::HJEMME_NAME));
    let active = wait_for_status(&access, &key.id, KeyStatus::Active).await;
    assert!(active.last_checked.is_some());
    assert!(recorder.transitions.lock().unwrap().contains(&(key.id.clone(), KeyStatus::Creating, KeyStatus::Active)));
    assert!(recorder.changed.lock().unwrap().iter().any(|view| view.id == key.id && view.status == KeyStatus::Active));
}

#[tokio::test]
async fn a_key_on_an_opt_in_lock_awaits_the_owner_until_approved() {
    let sim = sim().await;
    let (access, recorder) = signed_in(&sim, None).await;
    let key = actions::create(&access.keys().await.unwrap(), fixtures::UUID_LOCK_ID, "+4790000002", None, None, None)
        .await
        .unwrap();
    assert_eq!(key.status, KeyStatus::AwaitingApproval);
    assert!(key.waiting_since.is_some());
    // Well past provisioning it still waits: only the owner can move it on.
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        wait_for_status(&access, &key.id, KeyStatus::AwaitingApproval).await.status,
        KeyStatus::AwaitingApproval
    );
    assert!(sim.approve_key(&key.id));
    wait_for_status(&access, &key.id, KeyStatus::Active).await;
    assert!(recorder.transitions.lock().unwrap().contains(&(
        key.id.clone(),
        KeyStatus::AwaitingApproval,
        KeyStatus::Active
    )));
}

#[tokio::test]
async fn a_refused_key_ends_revoked() {
    let sim = sim().await;
    let (access, recorder) = signed_in(&sim, None).await;
    let key = actions::create(&access.keys().await.unwrap(), fixtures::UUID_LOCK_ID, "+4790000003", None, None, None)
        .await
        .unwrap();
    assert!(sim.refuse_key(&key.id));
    let revoked = wait_for_status(&access, &key.id, KeyStatus::Revoked).await;
    assert!(revoked.settled);
    assert!(recorder.transitions.lock().unwrap().contains(&(key.id, KeyStatus::AwaitingApproval, KeyStatus::Revoked)));
}

#[tokio::test]
async fn revoking_twice_is_harmless() {
    let sim = sim().await;
    let (access, _) = signed_in(&sim, None).await;
    let key = actions::create(&access.keys().await.unwrap(), fixtures::HJEMME_LOCK_ID, "+4790000004", None, None, None)
        .await
        .unwrap();
    let first = actions::revoke(&access.keys().await.unwrap(), &key.id).await.unwrap();
    assert_eq!((first.status, first.already_revoked), (KeyStatus::Revoked, Some(false)));
    let second = actions::revoke(&access.keys().await.unwrap(), &key.id).await.unwrap();
    assert_eq!((second.status, second.already_revoked), (KeyStatus::Revoked, Some(true)));
}

#[tokio::test]
async fn a_bad_phone_number_is_refused_before_any_request() {
    let sim = sim().await;
    let (access, _) = signed_in(&sim, None).await;
    sim.clear_requests();
    for bad in ["90000000", "+47 900 00 000", "+479000", ""] {
        let error = actions::create(&access.keys().await.unwrap(), fixtures::HJEMME_LOCK_ID, bad, None, None, None)
            .await
            .unwrap_err();
        assert_eq!((error.kind, error.field), (ErrorKind::InvalidInput, Some("msn")), "{bad}");
    }
    assert!(sim.requests().iter().all(|request| request.route != Some(Route::KeysCreate)));
}

#[tokio::test]
async fn a_lock_with_a_broken_vendor_connection_is_refused_clearly() {
    let sim = sim().await;
    let (access, _) = signed_in(&sim, None).await;
    let error = actions::create(
        &access.keys().await.unwrap(),
        fixtures::BROKEN_VENDOR_LOCK_ID,
        "+4790000005",
        None,
        None,
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(error.kind, ErrorKind::Forbidden);
    assert!(
        actions::list(&access.keys().await.unwrap(), None).await.unwrap().is_empty(),
        "a refused key is not remembered"
    );
}

#[tokio::test]
async fn a_key_created_elsewhere_can_be_followed_by_its_id() {
    let sim = sim().await;
    let (elsewhere, _) = signed_in(&sim, None).await;
    let key =
        actions::create(&elsewhere.keys().await.unwrap(), fixtures::HJEMME_LOCK_ID, "+4790000006", None, None, None)
            .await
            .unwrap();
    let (here, _) = signed_in(&sim, None).await;
    let added = actions::add(&here.keys().await.unwrap(), &key.id).await.unwrap();
    assert_eq!(added.origin, "added");
    wait_for_status(&here, &key.id, KeyStatus::Active).await;
    let error = actions::add(&here.keys().await.unwrap(), "no-such-key").await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::NotFound);
    let error = actions::add(&here.keys().await.unwrap(), "two words").await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::InvalidInput);
}

#[tokio::test]
async fn refresh_asks_now_and_keys_survive_a_restart() {
    let sim = sim().await;
    let dir = std::env::temp_dir().join(format!("unloc-keys-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let key_id = {
        let (access, _) = signed_in(&sim, Some(dir.clone())).await;
        let key =
            actions::create(&access.keys().await.unwrap(), fixtures::UUID_LOCK_ID, "+4790000007", None, None, None)
                .await
                .unwrap();
        sim.approve_key(&key.id);
        key.id
    };
    let (access, _) = signed_in(&sim, Some(dir.clone())).await;
    // Unloc may still be provisioning the approved key: refresh until it is active.
    let deadline = Instant::now() + Duration::from_secs(10);
    let key = loop {
        let keys = actions::refresh(&access.keys().await.unwrap(), Some(fixtures::UUID_LOCK_ID)).await.unwrap();
        let key = keys.into_iter().find(|key| key.id == key_id).expect("remembered across access");
        if key.status == KeyStatus::Active || Instant::now() > deadline {
            break key;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(key.status, KeyStatus::Active);
    assert_eq!(key.msn.as_deref(), Some("+4790000007"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn two_partner_accounts_are_kept_apart() {
    let dir = std::env::temp_dir().join(format!("unloc-keys-apart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let first = sim().await;
    let second = spawn_sim_with(SimConfig { partner_id: "other-partner".into(), ..sim_config() }).await;
    let (access, _) = signed_in(&first, Some(dir.clone())).await;
    actions::create(&access.keys().await.unwrap(), fixtures::HJEMME_LOCK_ID, "+4790000008", None, None, None)
        .await
        .unwrap();
    let (other, _) = signed_in(&second, Some(dir.clone())).await;
    assert!(actions::list(&other.keys().await.unwrap(), None).await.unwrap().is_empty());
    assert_eq!(actions::list(&access.keys().await.unwrap(), None).await.unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn signing_out_stops_the_follow_up() {
    let sim = sim().await;
    let (access, _) = signed_in(&sim, None).await;
    actions::create(&access.keys().await.unwrap(), fixtures::UUID_LOCK_ID, "+4790000009", None, None, None)
        .await
        .unwrap();
    access.sign_out().await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    sim.clear_requests();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(sim.requests().is_empty(), "requests after sign-out: {:?}", sim.requests());
}

/// A busy lock: 4,000 events from 400 distinct keys.
async fn busy_sim() -> Simulator {
    spawn_sim_with(SimConfig { locks: 12, busy_lock_events: 4_000, busy_lock_keys: 400, ..sim_config() }).await
}

#[tokio::test]
async fn keys_seen_only_in_a_busy_history_are_shown_from_it_and_not_checked_one_by_one() {
    let sim = busy_sim().await;
    // A history pace longer than the test: only the first key of the trickle may be asked about.
    let policy = FollowPolicy { history_pace: Duration::from_secs(3600), ..fast_policy() };
    let (access, _) = signed_in_with(&sim, None, policy).await;
    sim.clear_requests();
    let caller = access.caller().await.unwrap();
    locks::events(&caller, access.follow_up(), access.archive(), fixtures::BUSY_LOCK_ID).await.unwrap();
    // Opening the lock's keys asks Unloc about the keys that may change: none of these.
    let keys = actions::refresh(&access.keys().await.unwrap(), Some(fixtures::BUSY_LOCK_ID)).await.unwrap();
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(requests_on(&sim, Route::KeysGet) <= 1, "{} key checks", requests_on(&sim, Route::KeysGet));
    assert_eq!(keys.len(), 400);
    let seen: Vec<&KeyView> = keys.iter().filter(|key| key.status == KeyStatus::SeenInHistory).collect();
    assert!(seen.len() >= 399, "{} of 400 seen in history", seen.len());
    assert!(seen.iter().all(|key| key.last_used.is_some() && key.first_used <= key.last_used));
}

#[tokio::test]
async fn keys_seen_only_in_histories_are_checked_at_the_history_pace() {
    let sim = busy_sim().await;
    let policy = FollowPolicy { history_pace: Duration::from_millis(300), ..fast_policy() };
    let (access, _) = signed_in_with(&sim, None, policy).await;
    sim.clear_requests();
    let caller = access.caller().await.unwrap();
    locks::events(&caller, access.follow_up(), access.archive(), fixtures::BUSY_LOCK_ID).await.unwrap();
    let opened = Instant::now();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let checks = requests_on(&sim, Route::KeysGet);
    // One at once, then one per 300 ms: at most 1 + 1.5 s / 300 ms (plus the time the history took).
    let allowed = 1 + (opened.elapsed().as_millis() / 300) as usize;
    assert!((2..=allowed).contains(&checks), "{checks} key checks in {:?}", opened.elapsed());
    let keys = actions::list(&access.keys().await.unwrap(), Some(fixtures::BUSY_LOCK_ID)).await.unwrap();
    assert!(
        keys.iter().filter(|key| key.status != KeyStatus::SeenInHistory).count() >= 2,
        "checked keys show their state"
    );
}

#[tokio::test]
async fn revoking_a_persons_keys_says_what_became_of_each() {
    use unloc_sim::{Fault, FaultRule};
    let sim = sim().await;
    let (access, _) = signed_in(&sim, None).await;
    let context = access.keys().await.unwrap();
    let mut ids = Vec::new();
    for lock_id in [fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_LOCK_ID] {
        ids.push(actions::create(&context, lock_id, "+4790000009", None, None, None).await.unwrap().id);
    }
    // The second was revoked before (here or by the owner); the first meets a server error.
    actions::revoke(&context, &ids[1]).await.unwrap();
    sim.add_fault(FaultRule::times(Route::KeysDelete, Fault::Status { code: 500, body: None, retry_after: None }, 1));
    sim.clear_requests();
    let outcomes = actions::revoke_many(&context, &ids).await;
    let words: Vec<(&str, &str)> = outcomes.iter().map(|o| (o.key_id.as_str(), o.outcome)).collect();
    assert_eq!(words, [(ids[0].as_str(), "failed"), (ids[1].as_str(), "alreadyRevoked"), (ids[2].as_str(), "revoked")]);
    assert_eq!(outcomes[0].error.as_ref().map(|error| error.kind.clone()), Some(ErrorKind::Server));
    assert_ne!(
        outcomes[0].key.as_ref().map(|key| key.status),
        Some(KeyStatus::Revoked),
        "a failed revoke changes nothing"
    );
    let deletes = sim.requests().iter().filter(|request| request.route == Some(Route::KeysDelete)).count();
    assert_eq!(deletes, 3, "one DELETE per key, no retry of a DELETE");
    let sim_state = |id: &str| sim.key(id).unwrap().state.as_str();
    assert_ne!(sim_state(&ids[0]), "revoked");
    assert_eq!([sim_state(&ids[1]), sim_state(&ids[2])], ["revoked", "revoked"]);
}

#[tokio::test]
async fn after_a_rejected_token_no_more_keys_are_sent() {
    use unloc_sim::{Fault, FaultRule};
    let sim = sim().await;
    let (access, _) = signed_in(&sim, None).await;
    let context = access.keys().await.unwrap();
    let mut ids = Vec::new();
    for _ in 0..3 {
        ids.push(
            actions::create(&context, fixtures::HJEMME_LOCK_ID, "+4790000010", None, None, None).await.unwrap().id,
        );
    }
    sim.add_fault(FaultRule::always(Route::KeysDelete, Fault::Status { code: 401, body: None, retry_after: None }));
    sim.clear_requests();
    let outcomes = actions::revoke_many(&context, &ids).await;
    let kinds: Vec<_> = outcomes.iter().map(|o| (o.outcome, o.error.as_ref().map(|e| e.kind.clone()))).collect();
    assert_eq!(kinds, vec![("failed", Some(ErrorKind::Unauthorized)); 3]);
    let deletes = sim.requests().iter().filter(|request| request.route == Some(Route::KeysDelete)).count();
    assert_eq!(deletes, 1, "nothing more is sent once Unloc rejected the token");
}
