//! The archive's background sync: in rounds, every granted lock's history is fetched (as background
//! work through the request governor, one lock at a time) and its new events archived. Where a round
//! stands is kept in the store, so a round stopped half-way (the app closed or killed) goes on with
//! the locks it had not done. Retention is applied at start and daily, in team mode to the office's
//! archive too (the shortest retention of the office's desks, `team::archive`). The sync can be paused; it
//! stops for good after a 401 or a lock-out (nothing more is sent until the user signs in again).
//! In team mode each lock's history is fetched by one desk of the office, the one holding its lease
//! (`team::Leases`), which adds the events to the office's archive; the other desks pass the lock by
//! in their round and copy what the office's archive has new into their own after each lock.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Months, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::account::Account;
use crate::api::{ApiClient, ApiError, LockEvent, Priority};
use crate::session::TeamAttachment;
use crate::store::RoundState;
use crate::sync::lock;
use crate::team::Work;
use crate::views::SyncStatus;

/// How often and how soon the sync runs.
#[derive(Debug, Clone)]
pub struct SyncPolicy {
    /// The wait after sign-in before the first round, unless the Activity view asks at once:
    /// signing in and opening a lock stay quiet.
    pub start_delay: Duration,
    /// A new round starts this long after the last one started.
    pub round_every: Duration,
    /// The wait after a failure that may pass (offline, Unloc's trouble, a disk that refused).
    pub after_failure: Duration,
    /// How often old events are purged (also once at start).
    pub purge_every: Duration,
    /// In team mode, how often a desk between rounds copies what other desks added to the office's
    /// archive.
    pub copy_every: Duration,
}

impl Default for SyncPolicy {
    fn default() -> Self {
        SyncPolicy {
            start_delay: Duration::from_secs(3 * 60),
            round_every: Duration::from_secs(60 * 60),
            after_failure: Duration::from_secs(60),
            purge_every: Duration::from_secs(24 * 60 * 60),
            copy_every: Duration::from_secs(60),
        }
    }
}

/// How long archived events are kept: a number of months, or until deleted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention(pub Option<u32>);

impl Retention {
    /// The first moment still kept at `now`.
    pub fn cutoff(self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        self.0.and_then(|months| now.checked_sub_months(Months::new(months)))
    }
}

/// Purges what the retention no longer keeps; returns how many events went.
pub fn purge(account: &Account, retention: Retention, now: DateTime<Utc>) -> usize {
    let cutoff = retention.cutoff(now).unwrap_or(DateTime::<Utc>::MIN_UTC);
    match account.with_store(|store| store.purge_archive_before(cutoff, now)) {
        Ok(purged) => {
            if purged > 0 {
                log::info!("activity archive: {purged} events older than the retention deleted");
            }
            purged
        }
        Err(error) => {
            log::warn!("activity archive: could not purge old events: {error}");
            0
        }
    }
}

/// In team mode, records this desk's retention for the office and deletes from the office's
/// archive what the office's retention (the shortest of its desks') no longer keeps
/// (`team::TeamKeys::purge_shared_events`). The team database out of reach leaves it for the next purge.
pub async fn purge_shared(team: &TeamAttachment, retention: Retention) {
    let Some(link) = team.get() else {
        return;
    };
    let purged = async { link.keys().await?.purge_shared_events(retention.0).await };
    match purged.await {
        Ok(purge) if purge.deleted > 0 => log::info!(
            "office's activity archive: {} events older than the office's retention ({:?} months) deleted",
            purge.deleted,
            purge.office_months
        ),
        Ok(_) => {}
        Err(error) => log::info!("office's activity archive: not purged now ({error})"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Off,
    Waiting,
    Running,
    Retrying,
    Stopped,
}

struct Shared {
    phase: Mutex<Phase>,
    round: Mutex<RoundState>,
    changes: AtomicU64,
    paused: AtomicBool,
    /// Someone looks at the Activity view: the first round need not wait for the start delay.
    asked: AtomicBool,
    retention: Mutex<Retention>,
    nudge: Notify,
}

impl Shared {
    /// A session's state before its store is read: off, nothing fetched, not paused.
    fn new(retention: Retention, changes: u64) -> Self {
        Shared {
            phase: Mutex::new(Phase::Off),
            round: Mutex::default(),
            changes: AtomicU64::new(changes),
            paused: AtomicBool::new(false),
            asked: AtomicBool::new(false),
            retention: Mutex::new(retention),
            nudge: Notify::new(),
        }
    }

    fn set_phase(&self, phase: Phase) {
        *lock(&self.phase) = phase;
    }

    fn retention(&self) -> Retention {
        *lock(&self.retention)
    }

    /// Sleeps `wait`, or less when nudged (asked to start, resumed, a setting changed).
    async fn rest(&self, wait: Duration) {
        let _ = tokio::time::timeout(wait, self.nudge.notified()).await;
    }
}

/// The sync of the signed-in account's archive; `start` with a session, `stop` when it ends.
pub struct ArchiveSync {
    policy: SyncPolicy,
    /// The current session's state; each session gets its own ([`Self::load`]). The task of the
    /// session before runs on until the new one is spawned (sign-in over a session saves the list
    /// first), and writes only into its own: its progress never shows as the new session's.
    shared: Mutex<Arc<Shared>>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl ArchiveSync {
    pub fn new(policy: SyncPolicy, retention: Retention) -> Self {
        let shared = Arc::new(Shared::new(retention, 0));
        ArchiveSync { policy, shared: Mutex::new(shared), task: Mutex::new(None) }
    }

    fn shared(&self) -> Arc<Shared> {
        Arc::clone(&lock(&self.shared))
    }

    /// Syncs this account's archive, instead of any account synced before; `team` is the session's
    /// link to the office, if any.
    pub fn start(&self, client: Arc<ApiClient>, account: Arc<Account>, team: Arc<TeamAttachment>) {
        self.load(&account);
        self.spawn(client, account, team);
    }

    /// The part of [`Self::start`] that reads the store: a new session's state, from where its
    /// round stands and whether the user paused the sync, nothing of the session before. Sign-in
    /// does it before the store is busy saving the list.
    pub fn load(&self, account: &Account) {
        let before = self.shared();
        // The count of changes goes on (one more: another account's archive), so a list on
        // screen that compares it asks again.
        let shared = Shared::new(before.retention(), before.changes.load(Ordering::SeqCst) + 1);
        shared.set_phase(Phase::Waiting);
        if let Ok(round) = account.with_store(|store| store.round_state()) {
            *lock(&shared.round) = round;
        }
        // A pause the user chose holds until they resume, whatever happened in between.
        match account.with_store(|store| store.sync_paused()) {
            Ok(paused) => shared.paused.store(paused, Ordering::SeqCst),
            Err(error) => log::warn!("activity archive: could not read whether the sync is paused: {error}"),
        }
        *lock(&self.shared) = Arc::new(shared);
    }

    /// The part of [`Self::start`] after [`Self::load`]: the sync's task, which waits for the
    /// store only when it works.
    pub fn spawn(&self, client: Arc<ApiClient>, account: Arc<Account>, team: Arc<TeamAttachment>) {
        let shared = self.shared();
        let task = tokio::spawn(run(client, account, team, shared, self.policy.clone()));
        if let Some(previous) = lock(&self.task).replace(task) {
            previous.abort();
        }
    }

    /// Stops the sync at once, wherever it is: the store keeps where the round stands.
    pub fn stop(&self) {
        if let Some(task) = lock(&self.task).take() {
            task.abort();
        }
        let shared = self.shared();
        shared.set_phase(Phase::Off);
        shared.asked.store(false, Ordering::SeqCst);
    }

    /// Someone wants the history now: start the first round without waiting for the start delay.
    pub fn ask(&self) {
        let shared = self.shared();
        shared.asked.store(true, Ordering::SeqCst);
        shared.nudge.notify_one();
    }

    /// Pauses or resumes the sync of `account`'s archive; the choice is kept in its store, so a
    /// paused sync stays paused after a restart.
    pub fn set_paused(&self, account: &Account, paused: bool) -> crate::error::Result<()> {
        account.with_store(|store| store.set_sync_paused(paused))?;
        let shared = self.shared();
        shared.paused.store(paused, Ordering::SeqCst);
        shared.nudge.notify_one();
        Ok(())
    }

    pub fn retention(&self) -> Retention {
        self.shared().retention()
    }

    /// A new retention: events older than it are purged now (by the caller) and never archived again.
    pub fn set_retention(&self, retention: Retention) {
        *lock(&self.shared().retention) = retention;
    }

    /// The archive changed outside the sync (purged, deleted, a history the user opened).
    /// Archives a history the user's own request brought (so the sync need not ask for it again),
    /// off the reply's path and in slices: a busy lock's 100,000 events take seconds to write, and
    /// neither the history on screen nor anything else that needs the local store may wait for that.
    pub fn archive_fetched(
        &self,
        account: Arc<Account>,
        lock_id: &str,
        events: Vec<LockEvent>,
        fetched_at: DateTime<Utc>,
    ) {
        const SLICE: usize = 5_000;
        let keep_from = self.retention().cutoff(fetched_at);
        let shared = self.shared();
        let lock_id = lock_id.to_owned();
        let work = move || {
            let mut added = 0;
            for slice in events.chunks(SLICE) {
                match account.with_store(|store| store.archive_events(&lock_id, slice, keep_from)) {
                    Ok(count) => added += count,
                    Err(error) => {
                        log::warn!("could not archive the events of {lock_id}: {error}");
                        break;
                    }
                }
            }
            if added > 0 {
                shared.changes.fetch_add(1, Ordering::SeqCst);
            }
        };
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => drop(runtime.spawn_blocking(work)),
            Err(_) => work(),
        }
    }

    pub fn changed(&self) {
        self.shared().changes.fetch_add(1, Ordering::SeqCst);
    }

    pub fn status(&self) -> SyncStatus {
        let shared = self.shared();
        let phase = *lock(&shared.phase);
        let round = *lock(&shared.round);
        let paused = shared.paused.load(Ordering::SeqCst);
        let state = match phase {
            Phase::Off => "off",
            Phase::Stopped => "stopped",
            _ if paused => "paused",
            Phase::Waiting => "waiting",
            Phase::Running => "running",
            Phase::Retrying => "retrying",
        };
        SyncStatus {
            state,
            locks_done: round.done,
            locks_total: round.total,
            last_finished: round.finished,
            changes: shared.changes.load(Ordering::SeqCst),
        }
    }
}

impl Drop for ArchiveSync {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What one lock's fetch means for the round.
enum Outcome {
    /// Archived (or found no longer granted, or unreadable): the lock is done for this round.
    Settled,
    /// Try again later (offline, Unloc busy): wait this long.
    Later(Duration),
    /// Unloc refused the token or locked the partner out: nothing more is sent.
    Stop,
}

async fn run(
    client: Arc<ApiClient>,
    account: Arc<Account>,
    team: Arc<TeamAttachment>,
    shared: Arc<Shared>,
    policy: SyncPolicy,
) {
    if !shared.asked.load(Ordering::SeqCst) {
        shared.rest(policy.start_delay).await;
    }
    loop {
        if shared.paused.load(Ordering::SeqCst) {
            shared.nudge.notified().await;
            continue;
        }
        let now = Utc::now();
        let round = match account.with_store(|store| store.round_state()) {
            Ok(round) => round,
            Err(error) => {
                log::warn!("activity archive unreadable: {error}");
                shared.set_phase(Phase::Retrying);
                shared.rest(policy.after_failure).await;
                continue;
            }
        };
        *lock(&shared.round) = round;
        let purge_due = round.last_purge.is_none_or(|last| now >= last + policy.purge_every);
        if purge_due {
            if purge(&account, shared.retention(), now) > 0 {
                shared.changes.fetch_add(1, Ordering::SeqCst);
            }
            purge_shared(&team, shared.retention()).await;
        }
        if !round.under_way() {
            let next = round.started.map_or(now, |started| started + policy.round_every);
            if now < next {
                shared.set_phase(Phase::Waiting);
                let mut wait = (next - now).to_std().unwrap_or_default().min(policy.purge_every);
                if team.get().is_some() {
                    copy_shared(&team, &account, &shared).await;
                    wait = wait.min(policy.copy_every);
                }
                shared.rest(wait).await;
                continue;
            }
            if let Err(error) = account.with_store(|store| store.start_round(now)) {
                log::warn!("activity archive: could not start a round: {error}");
                shared.set_phase(Phase::Retrying);
                shared.rest(policy.after_failure).await;
            }
            continue;
        }
        shared.set_phase(Phase::Running);
        let next_lock = match account.with_store(|store| store.next_lock_to_sync()) {
            Ok(next_lock) => next_lock,
            Err(error) => {
                log::warn!("activity archive unreadable: {error}");
                shared.rest(policy.after_failure).await;
                continue;
            }
        };
        let Some(lock_id) = next_lock else {
            if let Err(error) = account.with_store(|store| store.finish_round(Utc::now())) {
                log::warn!("activity archive: could not close the round: {error}");
                shared.rest(policy.after_failure).await;
            }
            continue;
        };
        let outcome = if this_desk_syncs(&team, &lock_id).await {
            fetch(&client, &account, &team, &shared, &lock_id).await
        } else {
            Outcome::Settled
        };
        copy_shared(&team, &account, &shared).await;
        match outcome {
            Outcome::Settled => {
                if let Err(error) = account.with_store(|store| store.settle_lock(&lock_id, Utc::now())) {
                    log::warn!("activity archive: could not note {lock_id} as done: {error}");
                    shared.set_phase(Phase::Retrying);
                    shared.rest(policy.after_failure).await;
                }
            }
            Outcome::Later(wait) => {
                shared.set_phase(Phase::Retrying);
                shared.rest(wait.max(policy.after_failure)).await;
            }
            Outcome::Stop => {
                shared.set_phase(Phase::Stopped);
                return;
            }
        }
    }
}

/// Adds what this desk fetched to the office's archive. Not reached now, the next round's fetch
/// shares it again (the office's archive keeps each event once).
async fn share(team: &TeamAttachment, lock_id: &str, events: &[LockEvent]) {
    let Some(link) = team.get() else {
        return;
    };
    let shared = async { link.keys().await?.share_events(lock_id, events).await };
    if let Err(error) = shared.await {
        log::info!("activity archive: the events of {lock_id} were not shared now ({error})");
    }
}

/// Whether this desk fetches the lock's history: always on its own; in team mode when it holds the
/// lock's lease (claimed now when free), or when the team database cannot be reached.
async fn this_desk_syncs(team: &TeamAttachment, lock_id: &str) -> bool {
    let Some(link) = team.get() else {
        return true;
    };
    let held = async { link.leases().await?.holds(Work::LockHistory(lock_id.to_owned())).await };
    match held.await {
        Ok(held) => held,
        Err(error) => {
            log::info!("activity archive: the team's leases cannot be had now, this desk syncs {lock_id} ({error})");
            true
        }
    }
}

/// How many shared events are read at a time.
const SHARED_PAGE: i64 = 5_000;

/// Copies into the local archive what other desks added to the office's archive since this desk
/// last looked. The team database out of reach leaves it for the next time.
async fn copy_shared(team: &TeamAttachment, account: &Account, shared: &Shared) {
    let Some(link) = team.get() else {
        return;
    };
    let Ok(office) = link.keys().await else {
        return;
    };
    let settings = link.settings();
    let cursor_name = format!("events {}:{}/{}", settings.host, settings.port, settings.database);
    loop {
        let Ok(after) = account.with_store(|store| store.team_cursor(&cursor_name)) else {
            return;
        };
        let page = match office.shared_events(after, SHARED_PAGE).await {
            Ok(page) => page,
            Err(error) => {
                log::info!("activity archive: the office's archive cannot be read now ({error})");
                return;
            }
        };
        let keep_from = shared.retention().cutoff(Utc::now());
        let mut by_lock: std::collections::HashMap<String, Vec<LockEvent>> = std::collections::HashMap::new();
        for (lock_id, event) in page.events.iter().cloned() {
            by_lock.entry(lock_id).or_default().push(event);
        }
        let stored = account.with_store(|store| -> crate::store::StoreResult<usize> {
            let mut added = 0;
            for (lock_id, events) in &by_lock {
                added += store.archive_events(lock_id, events, keep_from)?;
            }
            store.set_team_cursor(&cursor_name, page.next)?;
            Ok(added)
        });
        match stored {
            Ok(added) if added > 0 => {
                shared.changes.fetch_add(1, Ordering::SeqCst);
            }
            Ok(_) => {}
            Err(error) => {
                log::warn!("activity archive: could not store the office's events: {error}");
                return;
            }
        }
        if (page.events.len() as i64) < SHARED_PAGE {
            return;
        }
    }
}

async fn fetch(
    client: &ApiClient,
    account: &Account,
    team: &TeamAttachment,
    shared: &Shared,
    lock_id: &str,
) -> Outcome {
    match client.with_priority(Priority::Background).list_events(lock_id).await {
        Ok(list) => {
            let keep_from = shared.retention().cutoff(Utc::now());
            match account.with_store(|store| store.archive_events(lock_id, &list.events, keep_from)) {
                Ok(added) => {
                    if added > 0 {
                        shared.changes.fetch_add(1, Ordering::SeqCst);
                    }
                    share(team, lock_id, &list.events).await;
                    Outcome::Settled
                }
                Err(error) => {
                    log::warn!("activity archive: could not store the events of {lock_id}: {error}");
                    Outcome::Later(Duration::ZERO)
                }
            }
        }
        Err(ApiError::Unauthorized | ApiError::LockedOut) => {
            log::warn!("activity archive: Unloc refused the token; the sync stops until the next sign-in");
            Outcome::Stop
        }
        Err(error) if error.is_transient() => {
            log::info!("activity archive: the history of {lock_id} could not be fetched now ({error})");
            Outcome::Later(error.retry_after().unwrap_or_default())
        }
        Err(error) => {
            // No longer granted, too large, unreadable: asking again this round would not help.
            log::warn!("activity archive: the history of {lock_id} was skipped this round: {error}");
            Outcome::Settled
        }
    }
}
