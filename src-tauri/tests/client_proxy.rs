//! A proxy in the environment (`HTTP_PROXY`, `HTTPS_PROXY`, `ALL_PROXY`) is not used for a loopback API
//! base: the simulator is reached directly, and the plain-http request with its token never passes
//! through a proxy. Any other address still goes through the proxy an office may need.
//!
//! The proxy is read from the environment when a client is built, and changing the environment of a
//! running test process is unsafe (other threads may read it; `unsafe` is forbidden here). So the test
//! runs its client in a child process of this very test binary, started with the proxy variables set.

use std::process::Command;

use unloc_desk::api::{ApiClient, ApiError};
use unloc_sim::Route;

mod common;
use common::{requests_on, spawn_sim, test_client_config, Answer, RawServer};

/// The test that runs in the child process, by its name in this binary.
const CHILD: &str = "child_lists_locks_with_a_proxy_in_its_environment";
const PROXY_VARIABLES: [&str; 6] = ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"];

#[tokio::test]
async fn a_loopback_api_base_is_reached_directly_though_the_environment_names_a_proxy() {
    let sim = spawn_sim().await;
    // A proxy that notes each request and closes the connection without an answer.
    let proxy = RawServer::start(Answer::Nothing).await;
    let mut child = Command::new(std::env::current_exe().expect("the test binary's path"));
    child.args(["--exact", CHILD, "--ignored", "--test-threads=1", "--nocapture"]);
    for name in PROXY_VARIABLES {
        child.env(name, proxy.url());
    }
    // NO_PROXY would exempt addresses on its own; REQUEST_METHOD (CGI) makes HTTP_PROXY be ignored.
    for name in ["NO_PROXY", "no_proxy", "REQUEST_METHOD"] {
        child.env_remove(name);
    }
    child
        .env("UNLOC_TEST_API_BASE", sim.api_base())
        .env("UNLOC_TEST_PARTNER_ID", sim.partner_id())
        .env("UNLOC_TEST_TOKEN", sim.token());
    // The simulator and the proxy run on this runtime while the child runs on a blocking thread.
    let output = tokio::task::spawn_blocking(move || child.output()).await.unwrap().expect("the child starts");
    let printed = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    assert!(output.status.success(), "the child failed:\n{printed}");
    assert!(printed.contains(&format!("{CHILD} ... ok")), "the child did not run its test:\n{printed}");
    assert_eq!(requests_on(&sim, Route::Locks), 1, "the loopback request reached the simulator directly");
    // The proxy was in force: the request to another address went to it (a CONNECT tunnel), and that
    // was the only thing it ever saw.
    let connections = proxy.served(1).await;
    let lines: Vec<&str> = connections.iter().map(|connection| connection.request_line.as_str()).collect();
    assert_eq!(lines, ["CONNECT unloc-desk-test.invalid:443 HTTP/1.1"], "what the proxy saw");
}

/// Runs only in the child process the test above starts (its environment names the proxy).
#[tokio::test]
#[ignore = "run by a_loopback_api_base_is_reached_directly_though_the_environment_names_a_proxy, in a process with a proxy in its environment"]
async fn child_lists_locks_with_a_proxy_in_its_environment() {
    let setting = |name: &str| std::env::var(name).unwrap_or_else(|_| panic!("{name} is set by the parent test"));
    assert!(std::env::var("HTTP_PROXY").is_ok(), "run by the parent test, with a proxy in the environment");
    let (partner_id, token) = (setting("UNLOC_TEST_PARTNER_ID"), setting("UNLOC_TEST_TOKEN"));
    let mut loopback = test_client_config(&setting("UNLOC_TEST_API_BASE"), &partner_id, &token);
    loopback.retry.max_attempts = 1;
    let locks = ApiClient::new(loopback).unwrap().list_locks().await.expect("the simulator answers directly");
    assert!(!locks.locks.is_empty());
    // The same environment, an address that is not loopback: through the proxy, which gives no answer.
    let mut elsewhere = test_client_config("https://unloc-desk-test.invalid/v1", &partner_id, &token);
    elsewhere.retry.max_attempts = 1;
    let error = ApiClient::new(elsewhere).unwrap().list_locks().await.unwrap_err();
    assert!(matches!(error, ApiError::Offline { .. }), "{error:?}");
}
