//! Shared by the app's integration tests: one way to start the simulator, one way to build a client or
//! the app's access (sign-in, session) against it, tuned so that retries cost milliseconds. Each test
//! file says `mod common;`.

// Every test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use secrecy::SecretString;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::watch;
use unloc_desk::access::Access;
use unloc_desk::api::{ApiBase, ApiClient, ClientConfig, GovernorConfig, PartnerId, RetryPolicy};
use unloc_desk::environment::EnvDefaults;
use unloc_desk::secrets::{MemoryStore, SecretStore};
use unloc_sim::{Route, SimConfig, Simulator};

/// The client's longest silence in tests (`ClientConfig::read_timeout`): longer than the pauses of a
/// slow but working answer, shorter than `delay:3000`.
pub const READ_TIMEOUT: Duration = Duration::from_millis(1_500);

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
    test_client_config(api_base, sim.partner_id(), token)
}

/// [`client_config_at`] without a simulator: for a [`RawServer`] or another process.
pub fn test_client_config(api_base: &str, partner_id: &str, token: &str) -> ClientConfig {
    let mut config = ClientConfig::new(
        ApiBase::parse(api_base).unwrap(),
        PartnerId::parse(partner_id).unwrap(),
        SecretString::from(token.to_owned()),
    );
    config.connect_timeout = Duration::from_secs(2);
    config.read_timeout = READ_TIMEOUT;
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

/// What a [`RawServer`] does with each connection, once it has read the request's head.
#[derive(Debug, Clone)]
pub enum Answer {
    /// Closes the connection without a byte of answer.
    Nothing,
    /// Writes `head`, then `chunk` `times` times (`None`: until the client goes away), then closes.
    Stream { head: String, chunk: Vec<u8>, times: Option<usize> },
}

/// One connection a [`RawServer`] served.
#[derive(Debug, Clone)]
pub struct Connection {
    /// The request's first line, e.g. `GET /v1/partners/p/locks HTTP/1.1` or `CONNECT host:443 HTTP/1.1`.
    pub request_line: String,
    /// The whole request head, to look for headers (`Authorization`).
    pub head: String,
    /// Bytes of answer the client took before the server finished (or the client went away).
    pub written: u64,
}

/// A small HTTP/1.1 server on loopback for what the simulator cannot be: a redirect target, a proxy, a
/// server of endless error bodies. It records every connection once it is over.
pub struct RawServer {
    addr: SocketAddr,
    accepted: Arc<AtomicUsize>,
    served: watch::Receiver<Vec<Connection>>,
    task: tokio::task::JoinHandle<()>,
}

impl RawServer {
    pub async fn start(answer: Answer) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("a free loopback port");
        let addr = listener.local_addr().expect("a bound listener has an address");
        let (record, served) = watch::channel(Vec::new());
        let accepted = Arc::new(AtomicUsize::new(0));
        let counter = Arc::clone(&accepted);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                counter.fetch_add(1, Ordering::SeqCst);
                let (answer, record) = (answer.clone(), record.clone());
                tokio::spawn(async move {
                    let connection = serve(stream, answer).await;
                    record.send_modify(|served| served.push(connection));
                });
            }
        });
        RawServer { addr, accepted, served, task }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// How many connections were accepted so far (counted at once, before they are served).
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    /// The connections served to their end so far.
    pub fn connections(&self) -> Vec<Connection> {
        self.served.borrow().clone()
    }

    /// Waits until `count` connections have been served to their end; fails after 20 s.
    pub async fn served(&self, count: usize) -> Vec<Connection> {
        let mut served = self.served.clone();
        let wait = served.wait_for(|connections| connections.len() >= count);
        let connections = tokio::time::timeout(Duration::from_secs(20), wait)
            .await
            .expect("the raw server's connections ended")
            .expect("the raw server is running")
            .clone();
        connections
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: tokio::net::TcpStream, answer: Answer) -> Connection {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte up to the blank line: the body (if any) is of no interest here.
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match stream.read(&mut byte).await {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    let head = String::from_utf8_lossy(&head).into_owned();
    let request_line = head.lines().next().unwrap_or_default().to_owned();
    let mut written = 0u64;
    if let Answer::Stream { head: answer_head, chunk, times } = answer {
        if stream.write_all(answer_head.as_bytes()).await.is_ok() {
            let mut sent = 0;
            while times.is_none_or(|times| sent < times) {
                if stream.write_all(&chunk).await.is_err() {
                    break;
                }
                written += chunk.len() as u64;
                sent += 1;
            }
            let _ = stream.shutdown().await;
        }
    }
    Connection { request_line, head, written }
}
