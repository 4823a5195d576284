//! Shared by the app's integration tests: one way to start the simulator, one way to build a client or
//! the app's access (sign-in, session) against it, tuned so that retries cost milliseconds. Each test
//! file says `mod common;`.

// Every test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use unloc_desk::access::Access;
use unloc_desk::api::{ApiBase, ApiClient, ClientConfig, GovernorConfig, PartnerId, RetryPolicy};
use unloc_desk::environment::EnvDefaults;
use unloc_desk::secrets::{MemoryStore, SecretStore};
use unloc_sim::{Route, SimConfig, Simulator};

/// The client's timeout in tests: longer than a slow but working answer, shorter than `delay:3000`.
pub const REQUEST_TIMEOUT: Duration = Duration::from_millis(1_500);

/// The simulator's defaults without the lock-out, so tests with wrong tokens cannot trip it.
pub fn sim_config() -> SimConfig {
    SimConfig { lockout_after: 0, ..SimConfig::default() }
}

pub async fn spawn_sim() -> Simulator {
    spawn_sim_with(sim_config()).await
}

pub async fn spawn_sim_with(config: SimConfig) -> Simulator {
    unloc_sim::start(config).await.expect("the simulator starts")
}

/// A client configuration for `api_base` with the simulator's partner id and `token`: the app's retry
/// policy (3 attempts) and the governor's rules with short waits and a budget for many requests, and
/// short timeouts.
pub fn client_config_at(api_base: &str, sim: &Simulator, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        ApiBase::parse(api_base).unwrap(),
        PartnerId::parse(sim.partner_id()).unwrap(),
        SecretString::from(token.to_owned()),
    );
    config.connect_timeout = Duration::from_secs(2);
    config.request_timeout = REQUEST_TIMEOUT;
    config.retry =
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(10), max_wait: Duration::from_secs(2) };
    config.governor = GovernorConfig {
        interval: Duration::from_millis(1),
        first_pause: Duration::from_millis(10),
        ..GovernorConfig::default()
    };
    config
}

/// [`client_config_at`] the simulator itself.
pub fn client_config(sim: &Simulator, token: &str) -> ClientConfig {
    client_config_at(&sim.api_base(), sim, token)
}

/// A client of the simulator with its right token.
pub fn client(sim: &Simulator) -> ApiClient {
    ApiClient::new(client_config(sim, sim.token())).unwrap()
}

/// How many requests for `route` reached the simulator (a client's attempts).
pub fn requests_on(sim: &Simulator, route: Route) -> usize {
    sim.requests().iter().filter(|request| request.route == Some(route)).count()
}

/// The app's access (sign-in and session) over `secrets`, with retries that cost milliseconds.
pub fn access_with(secrets: Arc<dyn SecretStore>, env: EnvDefaults) -> Access {
    Access::new(secrets, env).with_client_tuning(|mut config| {
        config.retry.base_delay = Duration::from_millis(5);
        config.governor.interval = Duration::from_millis(1);
        config.governor.first_pause = Duration::from_millis(10);
        config
    })
}

/// [`access_with`] an in-memory keychain and no environment defaults.
pub fn access() -> Access {
    access_with(Arc::new(MemoryStore::default()), EnvDefaults::default())
}
