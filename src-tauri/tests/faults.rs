//! The hostile world: every fault of the simulator's catalogue (`unloc_sim::CATALOGUE`) against the real
//! API client, plus the failures a server cannot cause (connection refused, DNS, TLS). Each test checks
//! the exact `ApiError`, the `ErrorKind` the UI gets (as the shared fault table `unloc_sim::expected`
//! says, where the fault is one of its rows), that the message says something specific without the
//! token, how often the request was sent, and that the call returns within seconds.

use std::future::Future;
use std::time::{Duration, Instant};

use chrono::Utc;
use unloc_desk::api::{Action, ApiClient, ApiError, Grant, KeyState, NewKey, MAX_HISTORY_BYTES};
use unloc_desk::error::{AppError, ErrorKind};
use unloc_sim::expected::{expected, expected_error};
use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig, Simulator};

mod common;
use common::{client, client_config, client_config_at, requests_on, sim_config, spawn_sim_with, READ_TIMEOUT};

/// No test may take longer than this: a fault must end in an error, never in a hang.
const NEVER_HANGS: Duration = Duration::from_secs(20);

async fn sim() -> Simulator {
    spawn_sim_with(SimConfig { locks: 20, ..sim_config() }).await
}

/// Injects `spec` on `route` until the test ends.
fn inject(sim: &Simulator, route: Route, spec: &str) {
    sim.add_fault(FaultRule::always(route, Fault::parse(spec).unwrap()));
}

/// Runs the call, failing the test if it does not return within `NEVER_HANGS`.
async fn returns<T>(call: impl Future<Output = T>) -> T {
    tokio::time::timeout(NEVER_HANGS, call).await.expect("the client call returned instead of hanging")
}

/// What the UI gets for `error`: asserts the kind (as the app names it, `ErrorKind::as_str`) and that
/// the message is specific and token-free, and returns the message for further checks.
fn reported(error: &ApiError, kind: &str, token: &str) -> String {
    let app = AppError::from(error.clone());
    assert_eq!(app.kind.as_str(), kind, "{error:?}");
    assert!(!app.message.trim().is_empty(), "{error:?} has no message");
    assert!(!app.message.contains(token), "the token leaked into {:?}", app.message);
    assert!(!format!("{error:?}").contains(token), "the token leaked into {error:?}");
    app.message
}

fn new_key() -> NewKey {
    NewKey {
        lock_id: fixtures::HJEMME_LOCK_ID.to_owned(),
        msn: Some("+4790000000".to_owned()),
        start: Utc::now(),
        end: None,
        route: None,
    }
}

/// `GET /locks` under a fault: the error, how many requests reached the simulator, and what the UI is
/// told, already checked against the shared fault table (`unloc_sim::expected`): kind, message words
/// and number of requests.
async fn locks_under(spec: &str) -> (ApiError, usize, String) {
    let sim = sim().await;
    inject(&sim, Route::Locks, spec);
    let error = returns(client(&sim).list_locks()).await.expect_err(spec);
    let message = reported(&error, expected_error(spec), sim.token());
    let table = expected(spec).expect("a row of the fault table");
    assert!(message.contains(table.message), "{spec}: {message:?} lacks {:?}", table.message);
    let requests = requests_on(&sim, Route::Locks);
    assert_eq!(requests, table.attempts, "{spec}: requests sent");
    (error, requests, message)
}

/// `POST /keys` under a fault: the error, how many requests reached the simulator, and the simulator
/// (to check what it holds). The message is checked by each test: on a write, 403 is a refusal, not the
/// lock-out the shared table names for a read.
async fn key_creation_under(spec: &str) -> (ApiError, usize, Simulator) {
    let sim = sim().await;
    inject(&sim, Route::KeysCreate, spec);
    let error = returns(client(&sim).create_key(&new_key())).await.expect_err(spec);
    (error, requests_on(&sim, Route::KeysCreate), sim)
}

// --- Statuses ------------------------------------------------------------------------------------

#[tokio::test]
async fn a_400_is_an_internal_error_with_the_servers_detail_and_not_retried() {
    let (error, requests, message) = locks_under("status:400").await;
    assert_eq!(error, ApiError::BadRequest { detail: Some("injected fault".into()) });
    assert!(message.contains("(400)") && message.contains("injected fault"), "{message}");
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_401_asks_for_a_new_token_and_is_never_retried() {
    let (error, requests, message) = locks_under("status:401").await;
    assert_eq!(error, ApiError::Unauthorized);
    assert!(message.contains("(401)"));
    assert_eq!(requests, 1, "repeating a refused token prolongs Unloc's lock-out");
}

#[tokio::test]
async fn a_403_on_a_read_is_the_lock_out_and_not_retried() {
    let (error, requests, message) = locks_under("status:403").await;
    assert_eq!(error, ApiError::LockedOut);
    assert!(message.contains("(403)"));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_403_on_key_creation_is_a_refusal_with_the_servers_detail() {
    let (error, requests, sim) = key_creation_under("status:403").await;
    assert_eq!(error, ApiError::Forbidden { detail: Some("injected fault".into()) });
    assert!(reported(&error, ErrorKind::Forbidden.as_str(), sim.token()).contains("(403)"));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_404_is_not_found_and_not_retried() {
    let (error, requests, message) = locks_under("status:404").await;
    assert_eq!(error, ApiError::NotFound);
    assert!(message.contains("(404)"));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_405_is_an_answer_the_app_cannot_use() {
    let (error, requests, message) = locks_under("status:405").await;
    assert_eq!(error, ApiError::MethodNotAllowed);
    assert!(message.contains("(405)"));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_406_is_an_answer_the_app_cannot_use() {
    let (error, requests, message) = locks_under("status:406").await;
    assert_eq!(error, ApiError::NotAcceptable);
    assert!(message.contains("(406)"));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_409_on_key_creation_is_a_conflict_and_never_resent() {
    let (error, requests, sim) = key_creation_under("status:409").await;
    assert_eq!(error, ApiError::Conflict { detail: Some("injected fault".into()) });
    assert!(reported(&error, expected_error("status:409"), sim.token()).contains("(409)"));
    assert_eq!(requests, 1);
    assert!(sim.keys().is_empty(), "a status fault creates nothing");
}

#[tokio::test]
async fn a_422_on_key_creation_is_invalid_input_with_the_servers_detail() {
    let (error, requests, sim) = key_creation_under("status:422").await;
    assert_eq!(error, ApiError::Invalid { detail: Some("injected fault".into()) });
    assert!(reported(&error, expected_error("status:422"), sim.token()).contains("(422)"));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_429_without_retry_after_is_retried_with_backoff_then_reported() {
    let (error, requests, message) = locks_under("status:429").await;
    assert_eq!(error, ApiError::RateLimited { retry_after: None });
    assert!(message.contains("(429)"));
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn a_429_with_a_short_retry_after_is_waited_out_and_the_read_succeeds() {
    let sim = sim().await;
    sim.add_fault(FaultRule::times(Route::Locks, Fault::parse("status:429:retry-after=1").unwrap(), 1));
    let started = Instant::now();
    let locks = returns(client(&sim).list_locks()).await.unwrap().locks;
    assert_eq!(locks.len(), sim.locks().len());
    assert!(started.elapsed() >= Duration::from_secs(1), "retried before Retry-After passed");
    assert_eq!(requests_on(&sim, Route::Locks), 2);
}

#[tokio::test]
async fn a_429_with_retry_after_that_persists_reports_how_long_to_wait() {
    let (error, requests, _) = locks_under("status:429:retry-after=1").await;
    assert_eq!(error, ApiError::RateLimited { retry_after: Some(Duration::from_secs(1)) });
    assert_eq!(AppError::from(error).retry_after_secs, Some(1));
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn a_500_is_retried_then_reported_as_a_server_problem() {
    let (error, requests, message) = locks_under("status:500").await;
    assert_eq!(error, ApiError::Server { status: 500 });
    assert!(message.contains("500"));
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn a_502_is_retried_then_reported_as_a_server_problem() {
    let (error, requests, message) = locks_under("status:502").await;
    assert_eq!(error, ApiError::Server { status: 502 });
    assert!(message.contains("502"));
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn maintenance_with_a_long_retry_after_goes_to_the_user_at_once() {
    let (error, requests, message) = locks_under("status:503:retry-after=120").await;
    assert_eq!(error, ApiError::Maintenance { retry_after: Some(Duration::from_secs(120)) });
    assert!(message.contains("maintenance"));
    assert_eq!(AppError::from(error).retry_after_secs, Some(120));
    assert_eq!(requests, 1, "two minutes is longer than the client will keep the user waiting");
}

// --- Transport ----------------------------------------------------------------------------------

#[tokio::test]
async fn an_answer_slower_than_the_timeout_is_a_timeout_after_three_tries() {
    let started = Instant::now();
    let (error, requests, message) = locks_under("delay:3000").await;
    assert_eq!(error, ApiError::Timeout);
    assert!(message.contains("in time"));
    assert_eq!(requests, 3);
    assert!(started.elapsed() < READ_TIMEOUT * 3 + Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_body_dripping_in_within_the_timeout_is_read_completely() {
    let sim = sim().await;
    // 20 locks are about 3 KB: some 12 pieces of 256 bytes, 40 ms apart, well inside the timeout.
    inject(&sim, Route::Locks, "drip:40:256");
    let started = Instant::now();
    let locks = returns(client(&sim).list_locks()).await.unwrap().locks;
    assert_eq!(locks.len(), sim.locks().len());
    assert_eq!(locks[0].name, fixtures::HJEMME_NAME);
    assert!(started.elapsed() >= Duration::from_millis(400), "it did drip: {:?}", started.elapsed());
    assert_eq!(requests_on(&sim, Route::Locks), 1);
}

#[tokio::test]
async fn a_body_that_keeps_arriving_longer_than_the_read_timeout_is_read_completely() {
    // The catalogue's `drip` (64 bytes every 50 ms) needs about 2.5 s for 20 locks: longer than these
    // tests' read timeout, but never silent for long. The timeout is for silence, not for a whole answer.
    let sim = sim().await;
    inject(&sim, Route::Locks, "drip");
    let started = Instant::now();
    let locks = returns(client(&sim).list_locks()).await.unwrap().locks;
    assert_eq!(locks.len(), sim.locks().len());
    assert!(started.elapsed() > READ_TIMEOUT, "the answer took longer than the read timeout: {:?}", started.elapsed());
    assert_eq!(requests_on(&sim, Route::Locks), 1);
}

#[tokio::test]
async fn a_body_that_goes_silent_longer_than_the_read_timeout_is_a_timeout_after_three_tries() {
    // The head at once, then 2.5 s of silence before each kilobyte: more than the 1.5 s read timeout.
    let sim = sim().await;
    inject(&sim, Route::Locks, "drip:2500:1024");
    let started = Instant::now();
    let error = returns(client(&sim).list_locks()).await.unwrap_err();
    assert_eq!(error, ApiError::Timeout);
    reported(&error, ErrorKind::Timeout.as_str(), sim.token());
    assert_eq!(requests_on(&sim, Route::Locks), 3);
    // Each try gave up after one silence, not after the 7.5 s the whole answer would take.
    assert!(started.elapsed() < READ_TIMEOUT * 3 + Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_connection_closed_without_an_answer_is_offline_after_three_tries() {
    let (error, requests, message) = locks_under("drop").await;
    assert!(matches!(error, ApiError::Offline { .. }), "{error:?}");
    assert!(message.starts_with("could not reach Unloc: "));
    assert_eq!(requests, 3);
}

// A connection that breaks mid-body is a network problem, not garbage: offline, and retried.
#[tokio::test]
async fn a_connection_reset_mid_body_is_offline_after_three_tries() {
    let (error, requests, message) = locks_under("reset").await;
    assert_eq!(error, ApiError::Offline { reason: "the connection broke while the answer was arriving".into() });
    assert!(message.contains("broke"));
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn a_body_shorter_than_its_content_length_is_offline_after_three_tries() {
    let (error, requests, message) = locks_under("truncated").await;
    assert_eq!(error, ApiError::Offline { reason: "the connection broke while the answer was arriving".into() });
    assert!(message.contains("broke"));
    assert_eq!(requests, 3);
}

#[tokio::test]
async fn nothing_listening_is_offline_with_the_refusal_as_reason() {
    let sim = sim().await;
    let config = client_config(&sim, sim.token());
    let token = sim.token().to_owned();
    // Dropping the simulator closes its port: a connection there is refused.
    drop(sim);
    let error = returns(ApiClient::new(config).unwrap().list_locks()).await.unwrap_err();
    let ApiError::Offline { reason } = &error else { panic!("{error:?}") };
    assert!(reason.to_lowercase().contains("refused"), "{reason}");
    reported(&error, ErrorKind::Offline.as_str(), &token);
}

#[tokio::test]
async fn an_unknown_host_is_offline_with_the_name_lookup_as_reason() {
    let sim = sim().await;
    let config = client_config_at("https://unloc-desk-test.invalid/v1", &sim, sim.token());
    let error = returns(ApiClient::new(config).unwrap().list_locks()).await.unwrap_err();
    let ApiError::Offline { reason } = &error else { panic!("{error:?}") };
    // The resolver's wording differs between systems; it is not one of the other transport failures.
    assert!(!reason.is_empty() && !reason.to_lowercase().contains("refused"), "{reason}");
    reported(&error, ErrorKind::Offline.as_str(), sim.token());
    assert_eq!(requests_on(&sim, Route::Locks), 0);
}

#[tokio::test]
async fn tls_to_a_server_without_tls_is_offline_with_the_handshake_as_reason() {
    let sim = sim().await;
    let base = format!("https://127.0.0.1:{}/v1", sim.addr().port());
    let error =
        returns(ApiClient::new(client_config_at(&base, &sim, sim.token())).unwrap().list_locks()).await.unwrap_err();
    let ApiError::Offline { reason } = &error else { panic!("{error:?}") };
    // rustls' own words for a plain-HTTP answer to its ClientHello.
    assert!(reason.contains("InvalidContentType"), "{reason}");
    reported(&error, ErrorKind::Offline.as_str(), sim.token());
    assert_eq!(requests_on(&sim, Route::Locks), 0, "no HTTP request ever got through");
}

// --- Bodies -------------------------------------------------------------------------------------

#[tokio::test]
async fn invalid_json_is_an_invalid_response_and_not_retried() {
    let (error, requests, message) = locks_under("malformed").await;
    assert!(matches!(error, ApiError::InvalidResponse { .. }), "{error:?}");
    assert!(message.starts_with("Unloc's answer could not be understood"));
    assert_eq!(requests, 1);
}

// Items that cannot be read are skipped and counted (the details go to the log); the envelope is
// intact, so the answer is too. Here every item is spoilt, so every item is counted.
#[tokio::test]
async fn items_with_fields_of_the_wrong_type_are_skipped_and_counted() {
    let sim = sim().await;
    let history = sim.events(fixtures::HJEMME_LOCK_ID).unwrap().len();
    inject(&sim, Route::Events, "wrong-types");
    let events = returns(client(&sim).list_events(fixtures::HJEMME_LOCK_ID)).await.unwrap();
    assert_eq!((events.events.len(), events.skipped), (0, history));
    assert_eq!(requests_on(&sim, Route::Events), 1);
    // The same on the lock list.
    inject(&sim, Route::Locks, "wrong-types");
    let locks = returns(client(&sim).list_locks()).await.unwrap();
    assert_eq!((locks.locks.len(), locks.skipped), (0, sim.locks().len()));
}

#[tokio::test]
async fn items_missing_required_fields_are_skipped_and_counted() {
    let sim = sim().await;
    let history = sim.events(fixtures::HJEMME_LOCK_ID).unwrap().len();
    inject(&sim, Route::Events, "missing-fields");
    let events = returns(client(&sim).list_events(fixtures::HJEMME_LOCK_ID)).await.unwrap();
    assert_eq!((events.events.len(), events.skipped), (0, history));
    inject(&sim, Route::Locks, "missing-fields");
    let locks = returns(client(&sim).list_locks()).await.unwrap();
    assert_eq!((locks.locks.len(), locks.skipped), (0, sim.locks().len()));
}

#[tokio::test]
async fn unknown_extra_fields_are_ignored() {
    let sim = sim().await;
    inject(&sim, Route::Any, "extra-fields");
    let client = client(&sim);
    let locks = returns(client.list_locks()).await.unwrap().locks;
    assert_eq!(locks.len(), sim.locks().len());
    assert_eq!((locks[0].id.as_str(), locks[0].auth.clone()), (fixtures::HJEMME_LOCK_ID, Grant::OptOut));
    let events = returns(client.list_events(fixtures::HJEMME_LOCK_ID)).await.unwrap().events;
    assert_eq!(events.len(), sim.events(fixtures::HJEMME_LOCK_ID).unwrap().len());
    let key = returns(client.get_key(&events[0].key_id)).await.unwrap();
    assert_eq!(key.lock_id, fixtures::HJEMME_LOCK_ID);
}

#[tokio::test]
async fn unknown_enum_values_decode_and_are_kept() {
    let sim = sim().await;
    inject(&sim, Route::Any, "unknown-enum");
    let client = client(&sim);
    let locks = returns(client.list_locks()).await.unwrap().locks;
    assert_eq!(locks.len(), sim.locks().len());
    assert!(locks.iter().all(|lock| lock.auth == Grant::Unknown("deny".into())), "{:?}", locks[0].auth);
    assert!(!locks[0].is_opt_in());
    let events = returns(client.list_events(fixtures::HJEMME_LOCK_ID)).await.unwrap().events;
    assert!(events.iter().all(|event| event.action == Action::Unknown("opened".into())));
    // The keys behind the history are real keys: their state comes back unknown too.
    let key = returns(client.get_key(&events[0].key_id)).await.unwrap();
    assert_eq!(key.state, KeyState::Unknown("inactive".into()));
    assert!(key.events.iter().all(|used| used.action.as_str() == "opened"));
}

#[tokio::test]
async fn an_html_page_with_status_200_is_an_invalid_response() {
    let (error, requests, _) = locks_under("html").await;
    assert!(matches!(error, ApiError::InvalidResponse { .. }), "{error:?}");
    assert_eq!(requests, 1);
}

// Never followed: the request and its token would go to whatever address the redirect names.
#[tokio::test]
async fn a_redirect_is_an_invalid_response_saying_so_and_never_followed() {
    let (error, requests, message) = locks_under("redirect:307").await;
    assert_eq!(
        error,
        ApiError::InvalidResponse {
            detail: "Unloc answered with a redirect (307), which this app does not follow".into()
        }
    );
    assert!(message.contains("redirect"), "{message}");
    assert_eq!(requests, 1, "a redirect is not retried");
}

#[tokio::test]
async fn an_empty_body_is_an_invalid_response_saying_so() {
    let (error, requests, message) = locks_under("empty").await;
    assert_eq!(error, ApiError::InvalidResponse { detail: "the answer was empty".into() });
    assert!(message.contains("empty"));
    assert_eq!(requests, 1);
}

#[tokio::test]
async fn a_50_mib_answer_is_read_and_decoded() {
    let sim = sim().await;
    inject(&sim, Route::Locks, "huge");
    let started = Instant::now();
    // The tests' read timeout of 1.5 s: however long the whole answer takes, it keeps arriving.
    let locks = returns(client(&sim).list_locks()).await.unwrap().locks;
    assert_eq!(locks.len(), sim.locks().len(), "the padding is whitespace around the real answer");
    assert_eq!(requests_on(&sim, Route::Locks), 1);
    assert!(started.elapsed() < NEVER_HANGS);
}

#[tokio::test]
async fn an_answer_over_64_mib_is_refused_without_reading_it() {
    let sim = sim().await;
    inject(&sim, Route::Locks, "huge:80");
    let started = Instant::now();
    let error = returns(client(&sim).list_locks()).await.unwrap_err();
    assert_eq!(error, ApiError::TooLarge { limit_mb: 64 });
    assert!(reported(&error, expected_error("huge:80"), sim.token()).contains("64 MB"));
    assert_eq!(requests_on(&sim, Route::Locks), 1);
    // Refused on its Content-Length: 80 MiB were never read.
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_history_over_its_size_cap_has_its_own_error_not_an_unexpected_answer() {
    let sim = sim().await;
    let limit_mb = MAX_HISTORY_BYTES / 1024 / 1024;
    inject(&sim, Route::Events, &format!("huge:{}", limit_mb + 2));
    let started = Instant::now();
    let error = returns(client(&sim).list_events(fixtures::HJEMME_LOCK_ID)).await.unwrap_err();
    assert_eq!(error, ApiError::TooLarge { limit_mb });
    assert!(reported(&error, ErrorKind::TooLarge.as_str(), sim.token()).contains(&format!("{limit_mb} MB")));
    assert_eq!(requests_on(&sim, Route::Events), 1, "too large is not retried");
    assert!(started.elapsed() < Duration::from_secs(2), "refused on its Content-Length: {:?}", started.elapsed());
}
