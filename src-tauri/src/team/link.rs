//! The signed-in session's link to the office's database: where it is, for whom, and whether it
//! answers. The session holds at most one (`session::TeamAttachment`); a desk on its own has none.
//!
//! Opening the link sends nothing: the shared store is connected on first use, so a desk whose
//! server is down starts and works from its local store all the same. Background work that belongs
//! to the link (live updates, sending queued writes, teamshare's lease) is kept here and stops when
//! the link is dropped — when sharing stops, the settings change, or the session ends.

use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{watch, Notify, OnceCell};
use tokio::task::AbortHandle;

use super::keys::{Author, TeamKeys};
use super::lease::{keep_renewed, Leases, LEASE_TIME};
use super::listen::{listen, KeyChanges};
use super::{Scope, TeamProblem, TeamResult, TeamSettings};
use crate::sync::lock;

/// Whether the desk's team data is current: what the UI says about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// Not tried yet (the link was just made).
    Connecting,
    /// Connected and listening: what the desk shows is the office's.
    Current,
    /// The server cannot be reached (or refused): the desk works from its local copy, writes are
    /// queued, and the link keeps trying.
    NotCurrent { problem: TeamProblem, since: DateTime<Utc> },
}

pub struct TeamLink {
    settings: TeamSettings,
    password: SecretString,
    scope: Scope,
    author: Author,
    keys: OnceCell<TeamKeys>,
    leases: OnceCell<Arc<Leases>>,
    lease_time: Duration,
    reach: watch::Sender<Reach>,
    /// Rung after a write on this desk, so it is sent at once rather than at the next round.
    nudge: Notify,
    tasks: Mutex<Vec<AbortHandle>>,
}

impl TeamLink {
    /// A link to the database in `settings` for `scope`'s rows; nothing is sent yet.
    pub fn new(settings: TeamSettings, password: SecretString, scope: Scope, author: Author) -> Self {
        TeamLink {
            settings,
            password,
            scope,
            author,
            keys: OnceCell::new(),
            leases: OnceCell::new(),
            lease_time: LEASE_TIME,
            reach: watch::Sender::new(Reach::Connecting),
            nudge: Notify::new(),
            tasks: Mutex::default(),
        }
    }

    /// Leases that last `lease_time` instead of [`LEASE_TIME`] (tests of a desk going away).
    pub fn with_lease_time(mut self, lease_time: Duration) -> Self {
        self.lease_time = lease_time;
        self
    }

    pub fn settings(&self) -> &TeamSettings {
        &self.settings
    }

    /// Whether this link is to the database of `settings` with `password`.
    pub fn is_for(&self, settings: &TeamSettings, password: &SecretString) -> bool {
        self.settings == *settings && self.password.expose_secret() == password.expose_secret()
    }

    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    pub fn author(&self) -> &Author {
        &self.author
    }

    /// The shared key store, connected (and its schema brought up to date) on first use; a failed
    /// first use is tried again on the next.
    pub async fn keys(&self) -> TeamResult<&TeamKeys> {
        self.keys
            .get_or_try_init(|| TeamKeys::open(&self.settings, &self.password, self.scope.clone(), self.author.clone()))
            .await
    }

    /// This desk's leases on the office's background work, renewed for as long as the link lives;
    /// made on first use, like the store.
    pub async fn leases(&self) -> TeamResult<Arc<Leases>> {
        let leases = self
            .leases
            .get_or_try_init(|| async {
                let leases = Arc::new(self.keys().await?.leases(self.lease_time)?);
                self.spawn(keep_renewed(Arc::clone(&leases)));
                Ok::<_, super::TeamError>(leases)
            })
            .await?;
        Ok(Arc::clone(leases))
    }

    /// A connection of its own that hears of every key written in this account.
    pub async fn listen(&self) -> TeamResult<KeyChanges> {
        listen(&self.settings, &self.password, self.scope.clone()).await
    }

    pub fn reach(&self) -> Reach {
        self.reach.borrow().clone()
    }

    /// Records whether the server answers; `true` when that changed what the UI should say.
    pub fn set_reach(&self, reach: Reach) -> bool {
        self.reach.send_if_modified(|now| {
            let changed = std::mem::discriminant(now) != std::mem::discriminant(&reach);
            if changed {
                *now = reach;
            }
            changed
        })
    }

    /// Something was written here: send it now.
    pub fn nudge(&self) {
        self.nudge.notify_one();
    }

    /// Resolves at the next `nudge` (or at once if one came since the last wait).
    pub async fn nudged(&self) {
        self.nudge.notified().await;
    }

    /// Runs `work` for as long as this link lives.
    pub fn spawn(&self, work: impl Future<Output = ()> + Send + 'static) {
        let handle = tokio::spawn(work).abort_handle();
        let mut tasks = lock(&self.tasks);
        tasks.retain(|task| !task.is_finished());
        tasks.push(handle);
    }

    /// Stops the link's background work (the tasks hold the link, so dropping it alone would not).
    /// Its leases are given up on the way, so the other desks take the work over at once.
    pub fn stop(&self) {
        for task in lock(&self.tasks).drain(..) {
            task.abort();
        }
        if let (Some(leases), Ok(runtime)) = (self.leases.get(), tokio::runtime::Handle::try_current()) {
            let leases = Arc::clone(leases);
            runtime.spawn(async move {
                if let Err(error) = leases.release_all().await {
                    log::info!("team database: leases not given up ({error}); they run out by themselves");
                }
            });
        }
    }
}

impl Author {
    /// This desk's author: the name given in Settings → Team, else the computer account's full
    /// name (or its user name), and the computer's name.
    pub fn of_this_desk(your_name: Option<&str>) -> Author {
        let given = your_name.map(str::trim).filter(|name| !name.is_empty()).map(str::to_owned);
        let user = given
            .or_else(|| whoami::realname().ok().map(|name| name.trim().to_owned()).filter(|name| !name.is_empty()))
            .or_else(|| whoami::username().ok())
            .unwrap_or_else(|| "?".into());
        let desk = whoami::hostname().ok().filter(|name| !name.trim().is_empty()).unwrap_or_else(|| "?".into());
        Author { user, desk }
    }
}
