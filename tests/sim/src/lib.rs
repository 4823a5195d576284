//! `unloc-sim`: a faithful, deterministic stand-in for the Unloc partner API v1
//! (`https://api.unloc.app/v1/partners/{partnerId}`), served over real HTTP/1.1 on 127.0.0.1.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let sim = unloc_sim::start(unloc_sim::SimConfig::default()).await?;
//! // Point the client at sim.api_base() with sim.partner_id() and sim.token().
//! sim.add_fault(unloc_sim::FaultRule::parse("events=status:503*1").expect("valid spec"));
//! // Keys the client creates can be driven like the lock owner would: sim.approve_key(&id), ...
//! # Ok(()) }
//! ```
//!
//! See `tests/sim/README.md` for the CLI, the admin endpoints and the fault specs.

use std::collections::VecDeque;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

pub mod cli;
mod data;
pub mod expected;
mod fault;
pub mod fixtures;
mod http;
mod keys;
pub mod payloads;
mod rng;
mod server;

pub use data::{
    default_hmac_secret, default_token, Auth, Event, EventsBody, Lock, LocksBody, RETENTION_DAYS, SPREAD_DAYS,
};
pub use fault::{
    catalogue, CatalogueEntry, Fault, FaultParseError, FaultRule, Route, CATALOGUE, DEFAULT_DRIP, DEFAULT_HUGE_MB,
    DEFAULT_REDIRECT_LOCATION,
};
pub use keys::{
    app_switch_signature, app_switch_url, Approval, KeyState, PendingApprovalState, SimKey, DEFAULT_KEY_USER_NAME,
};
pub use server::RecordedRequest;

use server::{lock, LockoutPolicy, State};

/// Everything the simulator can be told. `Default` is what the binary runs without flags.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Seeds all generated data (and the default token).
    pub seed: u64,
    /// Total number of locks, fixtures included (fewer than the fixtures = only the first ones).
    pub locks: usize,
    /// Events of each lock (except the empty-events fixture, which has none).
    pub events_per_lock: usize,
    /// When above zero, the fixture "Hovedinngang Storgata 1" gets this many events instead.
    pub busy_lock_events: usize,
    /// When above one (with `busy_lock_events`), the busy lock's history uses this many distinct keys,
    /// the partner's own among them, each at least once when there are enough events.
    pub busy_lock_keys: usize,
    pub partner_id: String,
    /// Display name shown as `name` on events of the partner's own (Unloc Work) use.
    pub partner_name: String,
    /// The bearer token. Must not be empty.
    pub token: String,
    /// 0 = a random free port.
    pub port: u16,
    /// Wrong tokens within `lockout_window` that trigger the 403 lock-out; 0 disables it.
    pub lockout_after: u32,
    pub lockout_window: Duration,
    /// How long the lock-out lasts (every request gets 403, even with the right token).
    pub lockout_cooldown: Duration,
    /// Faults active from the start.
    pub faults: Vec<FaultRule>,
    /// The instant sample events are spread back from (over `SPREAD_DAYS` days). `None` = the start
    /// time. Pin it to get byte-identical event timestamps across runs.
    pub anchor: Option<DateTime<Utc>>,
    /// Signs the `appSwitchUrl` of created keys. Must not be empty.
    pub hmac_secret: String,
    /// How long a new key stays `creating` (provisioning with the lock vendor).
    pub key_provisioning: Duration,
    /// What `GET /keys/{id}` reports for a key on an opt-in lock the owner has not approved yet.
    pub pending_approval_state: PendingApprovalState,
    /// Injection payloads (see [`payloads`]) on the locks right after the fixtures, one lock each. Raises
    /// `locks` to at least `FIXTURE_COUNT + PAYLOADS.len()` when it is smaller.
    pub payloads: bool,
    /// The hostile fixture ([`fixtures::HOSTILE_LOCK_ID`]) with its markup and script texts (the default);
    /// `false` gives that lock plain sample texts instead ([`fixtures::PLAIN_BACK_DOOR_NAME`]), for the demo
    /// and the README's screenshots. Same id, same grant, same key holders.
    pub hostile_lock: bool,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 1,
            locks: 40,
            events_per_lock: 30,
            busy_lock_events: 0,
            busy_lock_keys: 0,
            partner_id: fixtures::DEFAULT_PARTNER_ID.to_owned(),
            partner_name: fixtures::DEFAULT_PARTNER_NAME.to_owned(),
            token: default_token(1),
            port: 0,
            lockout_after: 5,
            lockout_window: Duration::from_secs(60),
            lockout_cooldown: Duration::from_secs(300),
            faults: Vec::new(),
            anchor: None,
            hmac_secret: default_hmac_secret(1),
            key_provisioning: Duration::from_secs(2),
            pending_approval_state: PendingApprovalState::Creating,
            payloads: false,
            hostile_lock: true,
        }
    }
}

/// A running simulator. Dropping it (or [`Simulator::shutdown`]) stops the server and its connections.
pub struct Simulator {
    state: Arc<State>,
    addr: SocketAddr,
    task: JoinHandle<()>,
}

/// Binds 127.0.0.1 (`config.port`, 0 = any free port), spawns the server on the current tokio runtime
/// and returns at once. Fails on bind errors, or with `InvalidInput` for an empty token, partner id or
/// HMAC secret.
pub async fn start(config: SimConfig) -> std::io::Result<Simulator> {
    if config.token.is_empty() || config.partner_id.is_empty() || config.hmac_secret.is_empty() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "token, partner id and HMAC secret must not be empty",
        ));
    }
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, config.port)).await?;
    let addr = listener.local_addr()?;
    let data = data::Dataset::new(data::DataSpec {
        seed: config.seed,
        locks: config.locks,
        events_per_lock: config.events_per_lock,
        busy_lock_events: config.busy_lock_events,
        busy_lock_keys: config.busy_lock_keys,
        partner_name: config.partner_name.clone(),
        payloads: config.payloads,
        hostile_lock: config.hostile_lock,
        anchor: config.anchor.unwrap_or_else(Utc::now),
    });
    let mut faults = fault::FaultTable::default();
    for rule in config.faults {
        faults.add(rule);
    }
    let keys = keys::KeyStore::new(
        config.seed,
        keys::KeyPolicy { provisioning: config.key_provisioning, pending: config.pending_approval_state },
        config.partner_name.clone(),
    );
    let state = Arc::new(State {
        data,
        partner_id: config.partner_id,
        token: config.token,
        lockout_policy: LockoutPolicy {
            after: config.lockout_after,
            window: config.lockout_window,
            cooldown: config.lockout_cooldown,
        },
        lockout: Mutex::default(),
        faults: Mutex::new(faults),
        requests: Mutex::new(VecDeque::new()),
        hmac_secret: config.hmac_secret,
        keys: Mutex::new(keys),
        started: std::time::Instant::now(),
    });
    let task = tokio::spawn(server::serve(listener, Arc::clone(&state)));
    Ok(Simulator { state, addr, task })
}

impl Simulator {
    /// `http://127.0.0.1:PORT/v1` — the client appends `/partners/{id}/...`.
    pub fn api_base(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// `http://127.0.0.1:PORT/v1/partners/{partnerId}` (partner id not encoded; the default needs none).
    pub fn partner_base(&self) -> String {
        format!("{}/partners/{}", self.api_base(), self.state.partner_id)
    }

    pub fn partner_id(&self) -> &str {
        &self.state.partner_id
    }

    pub fn token(&self) -> &str {
        &self.state.token
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The locks exactly as `GET /locks` serves them.
    pub fn locks(&self) -> Vec<Lock> {
        self.state.data.locks().to_vec()
    }

    /// (payload short name, lock id) of the locks carrying the injection payloads, in [`payloads::PAYLOADS`]
    /// order (lock `i` carries payload `i`); empty unless [`SimConfig::payloads`] is on.
    pub fn payload_locks(&self) -> Vec<(&'static str, String)> {
        self.state.data.payload_locks()
    }

    /// The events `GET /locks/{lock_id}/events` would serve now (retention applied, simulated key use
    /// included); `None` for an unknown lock.
    pub fn events(&self, lock_id: &str) -> Option<Vec<Event>> {
        let added = lock(&self.state.keys).used_events(lock_id).to_vec();
        self.state.data.served_events(lock_id, Utc::now(), &added)
    }

    /// The secret that signs `appSwitchUrl`s (see [`app_switch_signature`]).
    pub fn hmac_secret(&self) -> &str {
        &self.state.hmac_secret
    }

    /// Every key `POST /keys` created so far, oldest first, with the state `GET /keys/{id}` would report
    /// now. The keys behind the generated event histories are not listed (see [`Simulator::key`]).
    pub fn keys(&self) -> Vec<SimKey> {
        lock(&self.state.keys).list(Utc::now())
    }

    /// One key, as in [`Simulator::keys`]: a created one, or one of the keys behind the generated events
    /// (every `keyId` in [`Simulator::events`] is found here).
    pub fn key(&self, key_id: &str) -> Option<SimKey> {
        self.state.ensure_key(key_id);
        lock(&self.state.keys).get(key_id, Utc::now())
    }

    /// The owner of an opt-in lock approves a pending key. `false` if there is no such key, it is not
    /// pending (opt-out keys are approved at creation), or it has already ended.
    pub fn approve_key(&self, key_id: &str) -> bool {
        self.state.ensure_key(key_id);
        lock(&self.state.keys).decide(key_id, true, Utc::now()).is_ok()
    }

    /// The owner refuses a pending key: it becomes `revoked`. `false` as for [`Simulator::approve_key`].
    pub fn refuse_key(&self, key_id: &str) -> bool {
        self.state.ensure_key(key_id);
        lock(&self.state.keys).decide(key_id, false, Utc::now()).is_ok()
    }

    /// The owner revokes a key (any state but `revoked`, `expired`, `error`). `false` otherwise.
    pub fn owner_revoke_key(&self, key_id: &str) -> bool {
        self.state.ensure_key(key_id);
        lock(&self.state.keys).revoke(key_id, Utc::now()).is_ok()
    }

    /// Provisioning fails: the key ends in `error` (any state but `revoked`, `expired`, `error`).
    pub fn fail_key(&self, key_id: &str) -> bool {
        self.state.ensure_key(key_id);
        lock(&self.state.keys).fail(key_id, Utc::now()).is_ok()
    }

    /// Someone uses the key: adds an event with this `action` (`"unlocked"`, `"locked"`; an empty one
    /// means `"unlocked"`) to the key's lock, by [`DEFAULT_KEY_USER_NAME`] with the key's `msn`, or for a
    /// partner key by the partner's name with `msn` `""`. Only an approved, `active` key can be used;
    /// otherwise (or for an unknown key) the error says why.
    pub fn use_key(&self, key_id: &str, action: &str) -> Result<(), String> {
        self.state.ensure_key(key_id);
        let usage = keys::KeyUse { action: Some(action.to_owned()), ..keys::KeyUse::default() };
        lock(&self.state.keys).use_key(key_id, usage, Utc::now()).map(|_| ()).map_err(|e| e.to_string())
    }

    /// The instant the sample events were spread back from.
    pub fn anchor(&self) -> DateTime<Utc> {
        self.state.data.anchor()
    }

    pub fn add_fault(&self, rule: FaultRule) {
        lock(&self.state.faults).add(rule);
    }

    pub fn clear_faults(&self) {
        lock(&self.state.faults).clear();
    }

    /// The active fault rules (limited ones with their remaining count).
    pub fn faults(&self) -> Vec<FaultRule> {
        lock(&self.state.faults).rules().to_vec()
    }

    /// The API requests seen so far, oldest first (admin requests are not logged).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).iter().cloned().collect()
    }

    pub fn clear_requests(&self) {
        lock(&self.state.requests).clear();
    }

    /// Ends a lock-out at once and forgets earlier wrong tokens.
    pub fn reset_lockout(&self) {
        lock(&self.state.lockout).reset();
    }

    /// Stops the server (same as dropping it).
    pub fn shutdown(self) {}
}

impl Drop for Simulator {
    fn drop(&mut self) {
        // Aborting the accept loop drops the listener (frees the port) and its JoinSet of connection
        // tasks, which aborts them too.
        self.task.abort();
    }
}
