//! Following keys until they settle: each unsettled key is asked about again after a wait that
//! grows while nothing changes (no tight polling), and the observer hears of every change.
//! Keys seen only in event histories are not followed one by one: one of them at most is asked
//! about per `history_pace` (a busy lock names thousands). Every check also leaves a note in memory,
//! so a store that cannot be written (disk full, read-only) never makes the loop ask again at once.
//! The follow-up stops on sign-out (the task is aborted) and after 401/403 (nothing more is sent
//! until the user acts: retrying a refused token prolongs Unloc's lock-out).
//! In team mode each key is checked by one desk of the office at a time, the one holding its lease
//! (`team::Leases`): the others leave it until the lease could have run out, and hear of its state
//! through the shared store. Without team mode, or while the team database cannot be reached, a
//! desk checks its keys itself.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::account::Account;
use crate::api::{ApiClient, ApiError, Priority};
use crate::keys::status;
use crate::keys::{KeyStatus, KeyView};
use crate::session::TeamAttachment;
use crate::store::{KeyOrigin, StoredKey};
use crate::sync::lock;
use crate::team::Work;

/// Told about key changes; implemented by the app shell (events to the UI, desktop notifications).
pub trait KeyObserver: Send + Sync {
    /// These keys' status changed (or they were first learned about).
    fn keys_changed(&self, keys: &[KeyView]);
    /// One key moved from `before` to its current status.
    fn status_changed(&self, key: &KeyView, before: KeyStatus);
    /// In team mode: the office's database began or stopped answering (the UI says whether
    /// team data is current).
    fn team_changed(&self) {}
    /// In team mode: another desk changed the people directory and this desk took it in (the UI
    /// reloads names).
    fn people_changed(&self) {}
}

/// How long to wait before asking about a key again. The waits grow while nothing changes.
#[derive(Debug, Clone)]
pub struct FollowPolicy {
    pub first_wait: Duration,
    /// Longest wait while Unloc provisions a key (`creating` on an opt-out lock).
    pub max_creating: Duration,
    /// Longest wait while the owner has not decided: people want to know soon. The Awaiting
    /// approval view says "about once a minute" (`awaiting.pace` in ui/locales), and
    /// `waits_grow_while_nothing_changes_up_to_a_cap` holds this at 60 s.
    pub max_awaiting: Duration,
    /// Longest wait for a usable key (the owner may revoke it at any time).
    pub max_usable: Duration,
    /// The wait for an active key without an end: nothing is due to happen to it.
    pub unending_active: Duration,
    /// Wait after a failed check (offline, server trouble), and the least wait before a key is
    /// asked about again when its next check could not be stored.
    pub after_failure: Duration,
    /// At most one key seen only in histories is asked about per this (the background trickle).
    pub history_pace: Duration,
    /// The least wait before a key seen only in histories is asked about again.
    pub history_recheck: Duration,
}

impl Default for FollowPolicy {
    fn default() -> Self {
        FollowPolicy {
            first_wait: Duration::from_secs(2),
            max_creating: Duration::from_secs(30),
            max_awaiting: Duration::from_secs(60),
            max_usable: Duration::from_secs(15 * 60),
            unending_active: Duration::from_secs(6 * 60 * 60),
            after_failure: Duration::from_secs(60),
            // Well within the budget of one request per 10 s per account for background work.
            history_pace: Duration::from_secs(30),
            history_recheck: Duration::from_secs(6 * 60 * 60),
        }
    }
}

impl FollowPolicy {
    /// When to check a key next; `None` once nothing more can happen to it.
    pub fn next_check(&self, status: KeyStatus, key: &StoredKey, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let grown = self.first_wait.saturating_mul(1 << key.quiet_checks.min(16));
        let wait = match status {
            KeyStatus::Expired | KeyStatus::Failed | KeyStatus::Revoked => return None,
            KeyStatus::SeenInHistory => Duration::ZERO,
            KeyStatus::Unknown if key.api_state.is_none() => Duration::ZERO,
            KeyStatus::Unknown => grown.min(self.max_usable),
            KeyStatus::Creating => grown.min(self.max_creating),
            KeyStatus::AwaitingApproval => grown.min(self.max_awaiting),
            // A scheduled key turns active at its start, an active one expires at its end: look then.
            KeyStatus::Scheduled => until(now, key.start).min(self.max_usable),
            KeyStatus::Active if key.end.is_none() => self.unending_active,
            KeyStatus::Active => until(now, key.end).min(self.max_usable),
        };
        let wait = if key.origin == KeyOrigin::Events { wait.max(self.history_recheck) } else { wait };
        Some(now + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX))
    }
}

fn until(now: DateTime<Utc>, moment: Option<DateTime<Utc>>) -> Duration {
    moment
        .and_then(|moment| (moment - now).to_std().ok())
        .map(|wait| wait + Duration::from_secs(1))
        .unwrap_or(Duration::MAX)
}

/// The follow-up of the signed-in account's keys and the observer that hears of changes. It runs
/// from `start` (a session began) to `stop` (it ended); without an observer nothing runs, as no
/// one would hear of the answers.
pub struct FollowUp {
    observer: Option<Arc<dyn KeyObserver>>,
    policy: FollowPolicy,
    running: Mutex<Option<Follower>>,
}

impl FollowUp {
    pub fn new(observer: Option<Arc<dyn KeyObserver>>, policy: FollowPolicy) -> Self {
        FollowUp { observer, policy, running: Mutex::new(None) }
    }

    pub fn policy(&self) -> &FollowPolicy {
        &self.policy
    }

    /// Who hears of key changes (the app shell), if anyone.
    pub fn observer(&self) -> Option<Arc<dyn KeyObserver>> {
        self.observer.clone()
    }

    /// Follows this account's keys, instead of any account followed before; `team` is the
    /// session's link to the office, if any (it may come and go while the follow-up runs).
    pub fn start(&self, client: Arc<ApiClient>, account: Arc<Account>, team: Arc<TeamAttachment>) {
        let follower = self
            .observer
            .as_ref()
            .map(|observer| Follower::spawn(client, account, team, Arc::clone(observer), self.policy.clone()));
        *lock(&self.running) = follower;
    }

    pub fn stop(&self) {
        lock(&self.running).take();
    }

    /// Lets the follow-up look at due keys now.
    pub fn wake(&self) {
        if let Some(follower) = lock(&self.running).as_ref() {
            follower.wake();
        }
    }

    /// Tells the observer (the UI) that these keys changed.
    pub fn announce(&self, keys: &[KeyView]) {
        if let (Some(observer), false) = (&self.observer, keys.is_empty()) {
            observer.keys_changed(keys);
        }
    }

    pub fn status_changed(&self, key: &KeyView, before: KeyStatus) {
        if let Some(observer) = &self.observer {
            observer.status_changed(key, before);
        }
    }
}

/// The background follow-up of one signed-in account. Dropping it stops it.
pub struct Follower {
    task: JoinHandle<()>,
    wake: Arc<Notify>,
}

impl Follower {
    pub fn spawn(
        client: Arc<ApiClient>,
        account: Arc<Account>,
        team: Arc<TeamAttachment>,
        observer: Arc<dyn KeyObserver>,
        policy: FollowPolicy,
    ) -> Self {
        let wake = Arc::new(Notify::new());
        let task = tokio::spawn(follow(client, account, team, observer, policy, Arc::clone(&wake)));
        Follower { task, wake }
    }

    /// Look at due keys now (after a key was created or added).
    pub fn wake(&self) {
        self.wake.notify_one();
    }
}

impl Drop for Follower {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn follow(
    client: Arc<ApiClient>,
    account: Arc<Account>,
    team: Arc<TeamAttachment>,
    observer: Arc<dyn KeyObserver>,
    policy: FollowPolicy,
    wake: Arc<Notify>,
) {
    // The first key seen only in histories waits one pace too: signing in and opening a lock stay quiet.
    let mut pace = Pace { next_history: Some(tokio::time::Instant::now() + policy.history_pace), ..Pace::default() };
    loop {
        let now = Utc::now();
        let mut due = match account.with_store(|store| store.due_keys(now)) {
            Ok(due) => due,
            Err(error) => {
                log::warn!("key follow-up: store unreadable: {error}");
                Vec::new()
            }
        };
        // One key seen only in histories, when the history pace allows one now.
        if pace.history_allowed(tokio::time::Instant::now()) {
            if let Some(key) = account.with_store(|store| store.due_history_key(now)).ok().flatten() {
                if !pace.is_held(&key) {
                    pace.history_sent(tokio::time::Instant::now(), &policy);
                    due.push(key);
                }
            }
        }
        let mut changed = Vec::new();
        let mut asked = false;
        due.retain(|key| !pace.is_held(key));
        let due = this_desks_share(&team, &account, due).await;
        for key in due {
            pace.hold(&key, &policy);
            asked = true;
            // Nobody is waiting for these answers: clicks go first.
            match check_key(&client, &account, &policy, &key.id, Priority::Background).await {
                Ok(Some((view, before))) => {
                    observer.status_changed(&view, before);
                    changed.push(view);
                }
                Ok(None) => {}
                Err(ApiError::Unauthorized | ApiError::LockedOut) => {
                    log::warn!("key follow-up stopped: Unloc refused the token");
                    observer.keys_changed(&changed);
                    return;
                }
                Err(ApiError::RateLimited { retry_after }) => {
                    let wait = retry_after.unwrap_or(policy.after_failure);
                    log::info!("key follow-up: rate limited, waiting {wait:?}");
                    postpone(&account, &key.id, wait);
                    break;
                }
                Err(error) => log::info!("key follow-up: {} not checked ({error})", key.id),
            }
        }
        if !changed.is_empty() {
            observer.keys_changed(&changed);
        }
        let wait = pace.next_wait(&account, tokio::time::Instant::now(), asked);
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
        }
    }
}

/// The due keys this desk checks: all of them on its own; in team mode those whose lease it holds
/// (claimed now when free). A lease outlives its key's settling (the holder renews it with the rest
/// until it leaves): given up at once, another desk that has not heard of the final state yet
/// would claim it and ask Unloc again. The others are left until their lease could have run out, when this
/// desk asks again whether their desk is still there. A team database that cannot be reached
/// leaves the desk checking all its keys itself: followed twice is better than not followed.
async fn this_desks_share(team: &TeamAttachment, account: &Account, due: Vec<StoredKey>) -> Vec<StoredKey> {
    let Some(link) = team.get().filter(|_| !due.is_empty()) else {
        return due;
    };
    let work: Vec<Work> = due.iter().map(|key| Work::KeyCheck(key.id.clone())).collect();
    let leases = match link.leases().await {
        Ok(leases) => leases,
        Err(error) => {
            log::info!("key follow-up: the team's leases cannot be had now, this desk checks its keys ({error})");
            return due;
        }
    };
    let held: HashSet<String> = match leases.claim(&work).await {
        Ok(held) => held
            .into_iter()
            .filter_map(|work| match work {
                Work::KeyCheck(key_id) => Some(key_id),
                Work::LockHistory(_) => None,
            })
            .collect(),
        Err(error) => {
            log::info!("key follow-up: the team's leases cannot be had now, this desk checks its keys ({error})");
            return due;
        }
    };
    let (mine, others): (Vec<_>, Vec<_>) = due.into_iter().partition(|key| held.contains(&key.id));
    for key in others {
        postpone(account, &key.id, leases.lease_time());
    }
    mine
}

/// What the follow-up remembers in memory: when the next key seen only in histories may be asked
/// about, and which keys it asked about with the schedule they had then (until when not to ask again
/// while the store still shows that schedule, i.e. when the new one could not be written).
#[derive(Default)]
struct Pace {
    next_history: Option<tokio::time::Instant>,
    held: HashMap<String, (Option<DateTime<Utc>>, tokio::time::Instant)>,
}

impl Pace {
    fn history_allowed(&self, now: tokio::time::Instant) -> bool {
        self.next_history.is_none_or(|next| next <= now)
    }

    fn history_sent(&mut self, now: tokio::time::Instant, policy: &FollowPolicy) {
        self.next_history = Some(now + policy.history_pace);
    }

    fn hold(&mut self, key: &StoredKey, policy: &FollowPolicy) {
        let until = tokio::time::Instant::now() + policy.after_failure;
        self.held.insert(key.id.clone(), (key.next_check_at, until));
    }

    /// Asked about already, and the store still shows the schedule it had then.
    fn is_held(&self, key: &StoredKey) -> bool {
        let now = tokio::time::Instant::now();
        self.held.get(&key.id).is_some_and(|(schedule, until)| *schedule == key.next_check_at && *until > now)
    }

    /// How long to sleep: until the next followed key is due, or the next history key (at the
    /// history pace); a schedule already past is one the store could not move on, so the wait is
    /// then until the notes in memory expire.
    /// `asked`: keys were asked about this round, so more may be due behind them (go on soon).
    fn next_wait(&mut self, account: &Account, now: tokio::time::Instant, asked: bool) -> Duration {
        self.held.retain(|_, (_, until)| *until > now);
        let held_until = self.held.values().map(|(_, until)| *until).min().filter(|_| !asked);
        let wait_for = |moment: DateTime<Utc>| -> Duration {
            match (moment - Utc::now()).to_std() {
                Ok(wait) => wait,
                // Due already: either not asked yet (go soon) or held (wait for the note to expire).
                Err(_) => held_until.map_or(Duration::ZERO, |until| until.saturating_duration_since(now)),
            }
        };
        let followed = account.with_store(|store| store.next_due(false)).ok().flatten().map(wait_for);
        let history = account.with_store(|store| store.next_due(true)).ok().flatten().map(|moment| {
            let pace = self.next_history.map_or(Duration::ZERO, |next| next.saturating_duration_since(now));
            wait_for(moment).max(pace)
        });
        followed
            .into_iter()
            .chain(history)
            .min()
            .unwrap_or(Duration::from_secs(600))
            .clamp(Duration::from_millis(200), Duration::from_secs(600))
    }
}

/// Asks the API about one key now and records the answer. Returns the new view and the status
/// before, when the status changed. Failures are scheduled for a later try. `priority`: whether
/// someone is waiting (a refresh they asked for) or not (the follow-up).
pub async fn check_key(
    client: &ApiClient,
    account: &Account,
    policy: &FollowPolicy,
    key_id: &str,
    priority: Priority,
) -> Result<Option<(KeyView, KeyStatus)>, ApiError> {
    let before = status::view_by_id(account, key_id).ok().flatten().map(|view| view.status);
    match client.with_priority(priority).get_key(key_id).await {
        Ok(api_key) => {
            let now = Utc::now();
            let stored = account.with_store(|store| {
                store.record_check(&api_key, now)?;
                store.key(key_id)
            });
            let Ok(Some(stored)) = stored else {
                return Ok(None);
            };
            let view = status::view(account, &stored);
            let next = policy.next_check(view.status, &stored, now);
            if let Err(error) = account.with_store(|store| store.schedule_check(key_id, next)) {
                log::warn!("could not schedule the next check of {key_id}: {error}");
            }
            Ok(match before {
                Some(before) if before != view.status => Some((view, before)),
                _ => None,
            })
        }
        Err(ApiError::NotFound) => {
            // Not (or no longer) this partner's key: stop asking.
            let _ = account.with_store(|store| store.schedule_check(key_id, None));
            Err(ApiError::NotFound)
        }
        Err(error) => {
            if !matches!(error, ApiError::RateLimited { .. }) {
                postpone(account, key_id, policy.after_failure);
            }
            Err(error)
        }
    }
}

fn postpone(account: &Account, key_id: &str, wait: Duration) {
    let at = Utc::now() + chrono::Duration::from_std(wait).unwrap_or(chrono::Duration::MAX);
    if let Err(error) = account.with_store(|store| store.schedule_check(key_id, Some(at))) {
        log::warn!("could not postpone the check of {key_id}: {error}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(api_state: Option<&str>, quiet_checks: u32) -> StoredKey {
        let now = Utc::now();
        StoredKey {
            id: "k".into(),
            lock_id: "l".into(),
            origin: KeyOrigin::Created,
            msn: None,
            route: None,
            start: Some(now + chrono::Duration::hours(2)),
            end: Some(now + chrono::Duration::hours(5)),
            api_state: api_state.map(str::to_owned),
            created_at: Some(now),
            first_seen: now,
            last_checked: None,
            state_since: now,
            next_check_at: None,
            quiet_checks,
            first_used: None,
            last_used: None,
            created_by: None,
            created_on_desk: None,
            revoked_by: None,
            revoked_on_desk: None,
        }
    }

    fn wait(status: KeyStatus, key: &StoredKey) -> Option<i64> {
        let now = Utc::now();
        FollowPolicy::default().next_check(status, key, now).map(|at| (at - now).num_seconds())
    }

    #[test]
    fn settled_keys_are_not_asked_again() {
        for status in [KeyStatus::Revoked, KeyStatus::Expired, KeyStatus::Failed] {
            assert_eq!(wait(status, &stored(Some("revoked"), 0)), None);
        }
    }

    #[test]
    fn waits_grow_while_nothing_changes_up_to_a_cap() {
        assert_eq!(wait(KeyStatus::AwaitingApproval, &stored(Some("creating"), 0)), Some(2));
        assert_eq!(wait(KeyStatus::AwaitingApproval, &stored(Some("creating"), 2)), Some(8));
        assert_eq!(wait(KeyStatus::AwaitingApproval, &stored(Some("creating"), 10)), Some(60));
        assert_eq!(wait(KeyStatus::Creating, &stored(Some("creating"), 10)), Some(30));
    }

    #[test]
    fn a_never_fetched_key_is_asked_at_once() {
        assert_eq!(wait(KeyStatus::Unknown, &stored(None, 0)), Some(0));
    }

    #[test]
    fn a_scheduled_key_is_looked_at_when_it_starts_or_within_fifteen_minutes() {
        let key = stored(Some("scheduled"), 0);
        assert_eq!(wait(KeyStatus::Scheduled, &key), Some(15 * 60));
        let mut soon = key.clone();
        soon.start = Some(Utc::now() + chrono::Duration::seconds(30));
        let seconds = wait(KeyStatus::Scheduled, &soon).unwrap();
        assert!((29..=31).contains(&seconds), "{seconds}");
    }

    #[test]
    fn an_active_key_without_an_end_is_asked_again_after_six_hours() {
        let mut key = stored(Some("active"), 0);
        key.end = None;
        assert_eq!(wait(KeyStatus::Active, &key), Some(6 * 60 * 60));
    }

    #[test]
    fn a_key_seen_only_in_histories_is_asked_again_after_six_hours_at_the_soonest() {
        let mut key = stored(Some("creating"), 0);
        key.origin = KeyOrigin::Events;
        assert_eq!(wait(KeyStatus::Creating, &key), Some(6 * 60 * 60));
        assert_eq!(wait(KeyStatus::Revoked, &key), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_key_whose_next_check_could_not_be_stored_is_not_asked_again_at_once() {
        let policy = FollowPolicy::default();
        let mut pace = Pace::default();
        let key = stored(Some("creating"), 0);
        pace.hold(&key, &policy);
        assert!(pace.is_held(&key), "the store still shows the old schedule");
        let mut moved_on = key.clone();
        moved_on.next_check_at = Some(Utc::now());
        assert!(!pace.is_held(&moved_on), "a new schedule in the store is followed");
        tokio::time::advance(policy.after_failure).await;
        assert!(!pace.is_held(&key), "the note in memory ends after the failure wait");
    }

    #[tokio::test(start_paused = true)]
    async fn at_most_one_history_key_per_history_pace() {
        let policy = FollowPolicy::default();
        let mut pace = Pace::default();
        let start = tokio::time::Instant::now();
        assert!(pace.history_allowed(start));
        pace.history_sent(start, &policy);
        assert!(!pace.history_allowed(start + policy.history_pace - Duration::from_millis(1)));
        assert!(pace.history_allowed(start + policy.history_pace));
        assert!(policy.history_pace >= Duration::from_secs(10), "the budget: one per 10 s per account");
    }
}
