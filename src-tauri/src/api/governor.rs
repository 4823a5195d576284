//! The one gate every request to Unloc passes, user-triggered or background, read or write: a bound on
//! requests in flight, a sustained budget with a small burst, one pause shared by every route (a `429`
//! or `503` anywhere, or the `403` lock-out, quiets the whole client), and user requests ahead of
//! background ones. Nothing else in the app waits between requests; this module owns every such wait.
//!
//! Time is `tokio::time`, so the unit tests run on paused time and prove the limits exactly.

use std::collections::BTreeSet;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// Who is waiting for the answer. User-triggered requests go ahead of background ones in the queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    /// Someone clicked and is looking at the screen.
    User,
    /// Follow-up nobody is waiting for (key states, refreshes).
    Background,
}

/// Every limit of the governor, in one place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovernorConfig {
    /// Requests on the wire at the same time.
    pub concurrency: usize,
    /// The sustained budget: one request per `interval` on average (500 ms is 2 requests a second).
    pub interval: Duration,
    /// How many requests may leave back to back after a quiet spell (the budget's burst).
    pub burst: u32,
    /// The pause after a `429`/`503` without `Retry-After`; it doubles with each further one in a row.
    pub first_pause: Duration,
    /// The longest pause any answer can impose: a larger `Retry-After` is cut to this.
    pub max_pause: Duration,
    /// How long a `403` lock-out stops everything (Unloc's cool-down), unless the user signs in again.
    pub lockout_pause: Duration,
}

impl Default for GovernorConfig {
    fn default() -> Self {
        GovernorConfig {
            concurrency: 4,
            interval: Duration::from_millis(500),
            burst: 4,
            first_pause: Duration::from_secs(1),
            max_pause: Duration::from_secs(60 * 60),
            lockout_pause: Duration::from_secs(5 * 60),
        }
    }
}

/// Why the client is quiet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PauseCause {
    /// `429 Too Many Requests`.
    RateLimited,
    /// `503`: maintenance or overload.
    Unavailable,
    /// `403` on a read: Unloc's lock-out after wrong tokens.
    LockedOut,
}

/// A request was not sent because the client is paused for longer than the caller would wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Paused {
    pub cause: PauseCause,
    /// How long the pause still lasts.
    pub remaining: Duration,
}

/// What an answer means for everyone else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// An answer that says nothing about load (a success, a 404, a 500...).
    Answered,
    /// `429`/`503`: pause every route, for `retry_after` or else exponentially.
    SlowDown { cause: PauseCause, retry_after: Option<Duration> },
    /// The lock-out: pause every route for the lock-out time.
    LockedOut,
}

/// What the governor is doing now, for tests and for a status line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GovernorStatus {
    pub in_flight: usize,
    pub queued_user: usize,
    pub queued_background: usize,
    /// Requests let through since the client was made.
    pub admitted: u64,
    pub paused: Option<Paused>,
}

struct Pause {
    cause: PauseCause,
    until: Instant,
}

struct State {
    in_flight: usize,
    /// Waiting requests in the order they go: priority first, then arrival.
    queue: BTreeSet<(Priority, u64)>,
    next_ticket: u64,
    /// The budget as a "theoretical arrival time": the moment the budget is back to full use if
    /// nothing else is sent. A request may go while this is at most `burst - 1` intervals ahead of now.
    budget_mark: Option<Instant>,
    pause: Option<Pause>,
    /// Pauses without `Retry-After` in a row: the next one lasts `first_pause * 2^this`.
    slowdowns_in_a_row: u32,
    admitted: u64,
}

pub struct Governor {
    config: GovernorConfig,
    state: Mutex<State>,
    changed: Notify,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor").field("config", &self.config).field("status", &self.status()).finish()
    }
}

/// The right to have one request on the wire; dropping it frees the place.
#[must_use]
pub struct Permit<'a> {
    governor: &'a Governor,
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        let mut state = self.governor.state();
        state.in_flight = state.in_flight.saturating_sub(1);
        drop(state);
        self.governor.changed.notify_waiters();
    }
}

/// Takes a waiting request out of the queue however its wait ends (admitted, refused, or cancelled).
struct QueuePlace<'a> {
    governor: &'a Governor,
    place: (Priority, u64),
}

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        let removed = self.governor.state().queue.remove(&self.place);
        if removed {
            self.governor.changed.notify_waiters();
        }
    }
}

enum Decision {
    Go,
    Refuse(Paused),
    WaitUntil(Instant),
    WaitForChange,
}

impl Governor {
    pub fn new(config: GovernorConfig) -> Self {
        Governor {
            config,
            state: Mutex::new(State {
                in_flight: 0,
                queue: BTreeSet::new(),
                next_ticket: 0,
                budget_mark: None,
                pause: None,
                slowdowns_in_a_row: 0,
                admitted: 0,
            }),
            changed: Notify::new(),
        }
    }

    /// Waits until one more request may go: not before `not_before` (a retry's back-off), after
    /// every user request that came earlier (and every earlier one of the same priority), while
    /// fewer than `concurrency` are in flight, within the budget, and after any pause. A pause that
    /// still lasts longer than `patience` is not waited for: the caller hears of it at once.
    pub async fn admit(
        &self,
        priority: Priority,
        patience: Duration,
        not_before: Option<Instant>,
    ) -> Result<Permit<'_>, Paused> {
        if let Some(moment) = not_before {
            tokio::time::sleep_until(moment).await;
        }
        let place = {
            let mut state = self.state();
            let place = (priority, state.next_ticket);
            state.next_ticket = state.next_ticket.wrapping_add(1);
            state.queue.insert(place);
            QueuePlace { governor: self, place }
        };
        loop {
            // Registered before the state is read, so a change in between is not missed.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            match self.decide(place.place, patience) {
                Decision::Go => return Ok(Permit { governor: self }),
                Decision::Refuse(paused) => return Err(paused),
                Decision::WaitUntil(moment) => {
                    tokio::select! {
                        () = tokio::time::sleep_until(moment) => {}
                        () = &mut changed => {}
                    }
                }
                Decision::WaitForChange => changed.await,
            }
        }
    }

    fn decide(&self, place: (Priority, u64), patience: Duration) -> Decision {
        let now = Instant::now();
        let mut state = self.state();
        if let Some(pause) = &state.pause {
            if pause.until > now {
                let remaining = pause.until.saturating_duration_since(now);
                if remaining > patience {
                    return Decision::Refuse(Paused { cause: pause.cause, remaining });
                }
                return Decision::WaitUntil(pause.until);
            }
            state.pause = None;
        }
        if state.queue.first() != Some(&place) || state.in_flight >= self.config.concurrency.max(1) {
            return Decision::WaitForChange;
        }
        let ahead_allowed = self.config.interval.saturating_mul(self.config.burst.max(1) - 1);
        if let Some(mark) = state.budget_mark {
            // The budget allows this request once the mark is no more than the burst ahead of now.
            if let Some(allowed_at) = mark.checked_sub(ahead_allowed).filter(|allowed_at| *allowed_at > now) {
                return Decision::WaitUntil(allowed_at);
            }
        }
        let from = state.budget_mark.map_or(now, |mark| mark.max(now));
        state.budget_mark = Some(later(from, self.config.interval));
        state.in_flight += 1;
        state.admitted += 1;
        state.queue.remove(&place);
        drop(state);
        // The next in the queue may go too (another free place, budget left).
        self.changed.notify_waiters();
        Decision::Go
    }

    /// Takes note of what an answer means for every other request.
    pub fn observe(&self, verdict: Verdict) {
        let now = Instant::now();
        let mut state = self.state();
        let (cause, length) = match verdict {
            Verdict::Answered => {
                state.slowdowns_in_a_row = 0;
                return;
            }
            Verdict::LockedOut => (PauseCause::LockedOut, self.config.lockout_pause),
            Verdict::SlowDown { cause, retry_after: Some(asked) } => (cause, asked.min(self.config.max_pause)),
            Verdict::SlowDown { cause, retry_after: None } => {
                let doubling = 1u32.checked_shl(state.slowdowns_in_a_row).unwrap_or(u32::MAX);
                state.slowdowns_in_a_row = state.slowdowns_in_a_row.saturating_add(1);
                (cause, self.config.first_pause.saturating_mul(doubling).min(self.config.max_pause))
            }
        };
        let until = later(now, length);
        // A shorter pause never cuts a longer one short.
        let longer = state.pause.as_ref().is_none_or(|pause| pause.until < until);
        if longer {
            state.pause = Some(Pause { cause, until });
            log::info!("Unloc asked for quiet ({cause:?}): no request for {length:?}");
        }
        drop(state);
        self.changed.notify_waiters();
    }

    pub fn status(&self) -> GovernorStatus {
        let now = Instant::now();
        let state = self.state();
        let queued_user = state.queue.iter().filter(|(priority, _)| *priority == Priority::User).count();
        GovernorStatus {
            in_flight: state.in_flight,
            queued_user,
            queued_background: state.queue.len() - queued_user,
            admitted: state.admitted,
            paused: state
                .pause
                .as_ref()
                .filter(|pause| pause.until > now)
                .map(|pause| Paused { cause: pause.cause, remaining: pause.until.saturating_duration_since(now) }),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every unlock, so a panic elsewhere does not spoil it.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// `moment + length` without the panic `Instant + Duration` has on overflow; lengths are capped
/// well below any overflow, so the fallback (an hour, then no wait) is never reached in practice.
fn later(moment: Instant, length: Duration) -> Instant {
    moment.checked_add(length).or_else(|| moment.checked_add(Duration::from_secs(60 * 60))).unwrap_or(moment)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    const PATIENT: Duration = Duration::from_secs(60 * 60 * 24);

    fn governor(config: GovernorConfig) -> Arc<Governor> {
        Arc::new(Governor::new(config))
    }

    fn unlimited_budget() -> GovernorConfig {
        GovernorConfig { interval: Duration::ZERO, ..GovernorConfig::default() }
    }

    /// A wait that must end soon: a test fails instead of hanging when the queue is stuck.
    async fn bounded<T>(wait: impl std::future::Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(1), wait).await.expect("the governor let the request go or refused it")
    }

    /// Lets every spawned task run until it waits for time or for another task.
    async fn settle() {
        for _ in 0..20 {
            tokio::task::yield_now().await;
        }
    }

    /// Starts `count` requests that each hold their place for `hold`, recording when each was let through.
    fn spawn_requests(
        governor: &Arc<Governor>,
        count: usize,
        priority: Priority,
        hold: Duration,
        log: &Arc<Mutex<Vec<(usize, Instant)>>>,
        first_id: usize,
    ) -> Vec<tokio::task::JoinHandle<()>> {
        (0..count)
            .map(|n| {
                let governor = Arc::clone(governor);
                let log = Arc::clone(log);
                tokio::spawn(async move {
                    let _permit = governor.admit(priority, PATIENT, None).await.unwrap();
                    log.lock().unwrap().push((first_id + n, Instant::now()));
                    tokio::time::sleep(hold).await;
                })
            })
            .collect()
    }

    #[tokio::test(start_paused = true)]
    async fn no_more_than_the_concurrency_bound_are_in_flight() {
        let governor = governor(unlimited_budget());
        let log = Arc::new(Mutex::new(Vec::new()));
        let tasks = spawn_requests(&governor, 10, Priority::User, Duration::from_secs(1), &log, 0);
        settle().await;
        assert_eq!(governor.status().in_flight, 4);
        assert_eq!(governor.status().queued_user, 6);
        for task in tasks {
            task.await.unwrap();
        }
        // 10 requests, 4 at a time, one second each: three rounds.
        let log = log.lock().unwrap();
        let start = log[0].1;
        let rounds: Vec<u64> = log.iter().map(|(_, at)| (*at - start).as_secs()).collect();
        assert_eq!(rounds, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2]);
        assert_eq!(governor.status().in_flight, 0);
    }

    #[tokio::test(start_paused = true)]
    async fn the_budget_allows_a_burst_then_two_requests_a_second() {
        let governor = governor(GovernorConfig { concurrency: 100, ..GovernorConfig::default() });
        let start = Instant::now();
        let mut sent = Vec::new();
        for _ in 0..12 {
            let _permit = governor.admit(Priority::User, PATIENT, None).await.unwrap();
            sent.push((Instant::now() - start).as_millis());
        }
        assert_eq!(sent, [0, 0, 0, 0, 500, 1000, 1500, 2000, 2500, 3000, 3500, 4000]);
        // After a quiet spell the burst is back.
        tokio::time::sleep(Duration::from_secs(10)).await;
        let again = Instant::now();
        for _ in 0..4 {
            let _permit = governor.admit(Priority::User, PATIENT, None).await.unwrap();
        }
        assert_eq!(Instant::now(), again);
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_on_one_request_pauses_every_request_for_its_retry_after() {
        let governor = governor(unlimited_budget());
        let start = Instant::now();
        governor
            .observe(Verdict::SlowDown { cause: PauseCause::RateLimited, retry_after: Some(Duration::from_secs(3)) });
        let log = Arc::new(Mutex::new(Vec::new()));
        let tasks = spawn_requests(&governor, 3, Priority::Background, Duration::ZERO, &log, 0);
        let user = spawn_requests(&governor, 2, Priority::User, Duration::ZERO, &log, 10);
        for task in tasks.into_iter().chain(user) {
            task.await.unwrap();
        }
        let log = log.lock().unwrap();
        assert_eq!(log.len(), 5);
        assert!(log.iter().all(|(_, at)| *at - start == Duration::from_secs(3)), "{log:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn a_503_pauses_too_and_a_pause_longer_than_the_patience_is_refused_at_once() {
        let governor = governor(unlimited_budget());
        governor
            .observe(Verdict::SlowDown { cause: PauseCause::Unavailable, retry_after: Some(Duration::from_secs(120)) });
        let start = Instant::now();
        let refused = governor.admit(Priority::User, Duration::from_secs(10), None).await.err().unwrap();
        assert_eq!(refused, Paused { cause: PauseCause::Unavailable, remaining: Duration::from_secs(120) });
        assert_eq!(Instant::now(), start, "refused without waiting");
        assert_eq!(governor.status().queued_user, 0, "a refused request leaves the queue");
        // A patient caller waits the pause out.
        let _permit = governor.admit(Priority::User, PATIENT, None).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(120));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_is_capped_at_an_hour() {
        let governor = governor(unlimited_budget());
        for asked in [Duration::from_secs(u64::MAX), Duration::MAX, Duration::from_secs(2 * 60 * 60)] {
            governor.observe(Verdict::SlowDown { cause: PauseCause::RateLimited, retry_after: Some(asked) });
            let paused = governor.status().paused.unwrap();
            assert_eq!(paused.remaining, Duration::from_secs(60 * 60), "{asked:?}");
        }
        let start = Instant::now();
        let _permit = governor.admit(Priority::Background, PATIENT, None).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(60 * 60));
    }

    #[tokio::test(start_paused = true)]
    async fn without_retry_after_the_pause_doubles_from_one_second_and_resets_after_an_answer() {
        let governor = governor(unlimited_budget());
        let mut pauses = Vec::new();
        for _ in 0..5 {
            governor.observe(Verdict::SlowDown { cause: PauseCause::RateLimited, retry_after: None });
            let start = Instant::now();
            let _permit = governor.admit(Priority::User, PATIENT, None).await.unwrap();
            pauses.push((Instant::now() - start).as_secs());
        }
        assert_eq!(pauses, [1, 2, 4, 8, 16]);
        governor.observe(Verdict::Answered);
        governor.observe(Verdict::SlowDown { cause: PauseCause::Unavailable, retry_after: None });
        assert_eq!(governor.status().paused.unwrap().remaining, Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_exponential_pause_never_overflows_and_stops_at_the_cap() {
        let governor = governor(unlimited_budget());
        for _ in 0..200 {
            governor.observe(Verdict::SlowDown { cause: PauseCause::RateLimited, retry_after: None });
        }
        assert_eq!(governor.status().paused.unwrap().remaining, Duration::from_secs(60 * 60));
    }

    #[tokio::test(start_paused = true)]
    async fn a_shorter_pause_does_not_cut_a_longer_one_short() {
        let governor = governor(unlimited_budget());
        governor
            .observe(Verdict::SlowDown { cause: PauseCause::RateLimited, retry_after: Some(Duration::from_secs(30)) });
        governor
            .observe(Verdict::SlowDown { cause: PauseCause::RateLimited, retry_after: Some(Duration::from_secs(1)) });
        assert_eq!(governor.status().paused.unwrap().remaining, Duration::from_secs(30));
    }

    #[tokio::test(start_paused = true)]
    async fn the_lock_out_pauses_everything_for_five_minutes() {
        let governor = governor(unlimited_budget());
        governor.observe(Verdict::LockedOut);
        let start = Instant::now();
        let refused = governor.admit(Priority::User, Duration::from_secs(10), None).await.err().unwrap();
        assert_eq!(refused, Paused { cause: PauseCause::LockedOut, remaining: Duration::from_secs(300) });
        tokio::time::sleep(Duration::from_secs(299)).await;
        assert!(bounded(governor.admit(Priority::Background, Duration::ZERO, None)).await.is_err(), "still locked out");
        tokio::time::sleep(Duration::from_secs(1)).await;
        let _permit = bounded(governor.admit(Priority::User, Duration::ZERO, None)).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(300));
    }

    #[tokio::test(start_paused = true)]
    async fn user_requests_go_ahead_of_background_ones_that_waited_longer() {
        let governor = governor(GovernorConfig { concurrency: 1, ..unlimited_budget() });
        let log = Arc::new(Mutex::new(Vec::new()));
        // One request holds the only place; three background ones queue, then two user ones.
        let mut tasks = spawn_requests(&governor, 1, Priority::Background, Duration::from_secs(1), &log, 0);
        settle().await;
        tasks.extend(spawn_requests(&governor, 3, Priority::Background, Duration::from_secs(1), &log, 1));
        settle().await;
        tasks.extend(spawn_requests(&governor, 2, Priority::User, Duration::from_secs(1), &log, 10));
        settle().await;
        assert_eq!((governor.status().queued_user, governor.status().queued_background), (2, 3));
        for task in tasks {
            task.await.unwrap();
        }
        let order: Vec<usize> = log.lock().unwrap().iter().map(|(id, _)| *id).collect();
        assert_eq!(order, [0, 10, 11, 1, 2, 3]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_cancelled_wait_leaves_the_queue_and_lets_the_next_go() {
        let governor = governor(GovernorConfig { concurrency: 1, ..unlimited_budget() });
        let held = governor.admit(Priority::User, PATIENT, None).await.unwrap();
        let waiting = {
            let governor = Arc::clone(&governor);
            tokio::spawn(async move { governor.admit(Priority::User, PATIENT, None).await.map(drop) })
        };
        settle().await;
        assert_eq!(governor.status().queued_user, 1);
        waiting.abort();
        settle().await;
        assert_eq!(governor.status().queued_user, 0);
        drop(held);
        // A place left behind would block the queue for good: the next request must go at once.
        assert!(bounded(governor.admit(Priority::Background, Duration::ZERO, None)).await.is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn a_back_off_waits_before_queueing() {
        let governor = governor(unlimited_budget());
        let start = Instant::now();
        let _permit = governor.admit(Priority::User, PATIENT, Some(start + Duration::from_millis(700))).await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_millis(700));
    }
}
