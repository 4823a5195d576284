//! Each scenario's time limit, and the step it was in when the limit ran out.
//!
//! A WebDriver call that never returns (WebKitWebDriver's screenshot once hung under the dark GTK
//! theme) would otherwise hold the whole suite until CI gives up. Every harness step (a wait, a
//! click, a screenshot, a command call) says what it is doing with [`step`]; when the scenario's
//! time runs out, the failure names the scenario and that last step, and the harness saves a
//! screenshot under a short limit of its own and stops the scenario's processes.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a scenario's steps may take unless it asks for more (`Setup::time_limit`): generous,
/// for a loaded 2-core CI machine (the longest scenarios take two to three minutes there).
pub const SCENARIO_LIMIT: Duration = Duration::from_secs(5 * 60);

/// How long saving the screenshot of a scenario that ran out of time may take: the driver may be
/// what hangs.
pub const FAILURE_SCREENSHOT_LIMIT: Duration = Duration::from_secs(10);

tokio::task_local! {
    /// The step the running scenario is in (set while its steps run, see [`Limit::run`]).
    static CURRENT_STEP: Arc<Mutex<String>>;
    /// Which app instance the steps drive, when it is not the scenario's own (a second desk).
    static DESK: String;
}

/// Says what the scenario is doing now; the message of a scenario that runs out of time names the
/// last one. Outside a scenario it does nothing.
pub fn step(what: impl Into<String>) {
    let what = what.into();
    let what = DESK.try_with(|desk| format!("on desk {desk}: {what}")).unwrap_or(what);
    let _ = CURRENT_STEP.try_with(|current| *super::lock(current) = what);
}

/// Runs `work` as the steps of the desk `name`: its steps say so in a timed-out scenario's message.
pub async fn on_desk<T>(name: &str, work: impl Future<Output = T>) -> T {
    DESK.scope(name.to_owned(), work).await
}

/// One scenario's limit: its name, how long it may take and until when.
#[derive(Clone)]
pub struct Limit {
    scenario: &'static str,
    length: Duration,
    deadline: Instant,
    last_step: Arc<Mutex<String>>,
}

/// The scenario ran out of time: what to say about it.
#[derive(Debug)]
pub struct RanOut {
    pub message: String,
}

impl Limit {
    /// A limit of `length` for `scenario`, counted from now.
    pub fn starting_now(scenario: &'static str, length: Duration) -> Self {
        let last_step = Arc::new(Mutex::new("starting".to_owned()));
        Limit { scenario, length, deadline: Instant::now() + length, last_step }
    }

    /// The same limit with `extra` more time: an outer level's, which must not cut short the inner
    /// level's cleanup after its own limit ran out.
    pub fn with_grace(&self, extra: Duration) -> Self {
        Limit { deadline: self.deadline + extra, ..self.clone() }
    }

    /// Runs `work` until the deadline, recording its steps. When time runs out first, `work` is
    /// dropped where it waited and the answer says which scenario and which step.
    pub async fn run<T>(&self, work: impl Future<Output = T>) -> Result<T, RanOut> {
        let deadline = tokio::time::Instant::from_std(self.deadline);
        let recorded = CURRENT_STEP.scope(self.last_step.clone(), work);
        tokio::time::timeout_at(deadline, recorded).await.map_err(|_| RanOut {
            message: format!(
                "scenario `{}` ran out of its time limit of {} s; its last step: {}",
                self.scenario,
                self.length.as_secs(),
                super::lock(&self.last_step)
            ),
        })
    }

    /// For the test output: how long the scenario took of its limit.
    pub fn used(&self) -> String {
        let started = self.deadline.checked_sub(self.length).unwrap_or(self.deadline);
        format!(
            "scenario `{}` took {} s of its {} s limit",
            self.scenario,
            started.elapsed().as_secs(),
            self.length.as_secs()
        )
    }
}

/// Runs `work` for at most `limit`; `None` when it did not finish (for the cleanup of a scenario
/// whose driver may hang).
pub async fn at_most<T>(limit: Duration, work: impl Future<Output = T>) -> Option<T> {
    tokio::time::timeout(limit, work).await.ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A limit that does not work would leave these tests waiting forever: they fail instead.
    async fn or_fail<T>(limited: impl Future<Output = T>) -> T {
        tokio::time::timeout(Duration::from_secs(10), limited).await.expect("the limit did not fire within 10 s")
    }

    #[tokio::test]
    async fn a_hanging_step_fails_the_scenario_in_time_naming_the_scenario_and_the_step() {
        let limit = Limit::starting_now("hangs-on-purpose", Duration::from_millis(300));
        let started = Instant::now();
        let hung = limit.run(async {
            step("waiting for `#locks-view` to be visible");
            tokio::time::sleep(Duration::from_millis(10)).await;
            step("taking the screenshot `view-locks`");
            std::future::pending::<()>().await;
        });
        let outcome = or_fail(hung).await;
        let took = started.elapsed();
        let message = outcome.expect_err("a step that never returns runs out of time").message;
        assert!(took < Duration::from_secs(5), "the limit fired after {took:?}");
        assert!(message.contains("scenario `hangs-on-purpose`"), "{message}");
        assert!(message.contains("its last step: taking the screenshot `view-locks`"), "{message}");
    }

    #[tokio::test]
    async fn steps_that_finish_in_time_give_their_answer() {
        let limit = Limit::starting_now("quick", Duration::from_secs(60));
        assert_eq!(limit.run(async { 7 }).await.ok(), Some(7));
    }

    #[tokio::test]
    async fn a_second_desk_s_steps_name_the_desk() {
        let limit = Limit::starting_now("two-desks", Duration::from_millis(200));
        let outcome = or_fail(limit.run(on_desk("b", async {
            step("clicking `#team-save`");
            std::future::pending::<()>().await;
        })))
        .await;
        let message = outcome.expect_err("runs out of time").message;
        assert!(message.contains("its last step: on desk b: clicking `#team-save`"), "{message}");
    }

    #[tokio::test]
    async fn an_outer_limit_with_grace_outlasts_the_inner_one() {
        let inner = Limit::starting_now("nested", Duration::from_millis(100));
        let outer = inner.with_grace(Duration::from_secs(30));
        let outcome = or_fail(outer.run(async {
            let ran_out = inner.run(std::future::pending::<()>()).await.expect_err("the inner limit fires");
            // The inner level's cleanup takes a while; the outer limit lets it finish.
            tokio::time::sleep(Duration::from_millis(300)).await;
            ran_out.message
        }))
        .await;
        assert!(outcome.expect("the outer limit waits for the cleanup").contains("scenario `nested`"));
    }
}
