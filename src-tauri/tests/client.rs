//! The API client against the simulator over real HTTP: success paths, every status mapping,
//! transport faults, the retry policy, the governor's shared pause, and tolerant list decoding.

use std::time::{Duration, Instant};

use chrono::Utc;
use unloc_desk::api::{Action, ApiClient, ApiError, Grant, NewKey, PartnerId, RetryPolicy};
use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig, Simulator};

mod common;
use common::{client, client_config, requests_on, spawn_sim, spawn_sim_with, test_client_config, Answer, RawServer};

#[tokio::test]
async fn lists_every_lock_with_grant_address_and_reference() {
    let sim = spawn_sim().await;
    let list = client(&sim).list_locks().await.unwrap();
    assert_eq!(list.skipped, 0);
    let locks = list.locks;
    assert_eq!(locks.len(), sim.locks().len());
    let hjemme = locks.iter().find(|lock| lock.id == fixtures::HJEMME_LOCK_ID).unwrap();
    assert_eq!(hjemme.name, fixtures::HJEMME_NAME);
    assert_eq!(hjemme.auth, Grant::OptOut);
    assert_eq!(hjemme.postal_code.as_deref(), Some("0351"));
    let no_address = locks.iter().find(|lock| lock.id == fixtures::HOVEDINNGANG_LOCK_ID).unwrap();
    assert_eq!(no_address.street, None);
    let opt_in = locks.iter().filter(|lock| lock.is_opt_in()).count();
    let expected = sim.locks().iter().filter(|lock| lock.auth.as_str() == "opt-in").count();
    assert_eq!(opt_in, expected);
    assert!(opt_in >= fixtures::OPT_IN_FIXTURE_IDS.len());
}

#[tokio::test]
async fn lists_events_of_a_lock_whose_id_contains_colons_and_slashes() {
    let sim = spawn_sim().await;
    let client = client(&sim);
    for lock_id in [fixtures::HJEMME_LOCK_ID, fixtures::SLASH_LOCK_ID, fixtures::UUID_LOCK_ID] {
        let events = client.list_events(lock_id).await.unwrap().events;
        let expected = sim.events(lock_id).unwrap();
        assert_eq!(events.len(), expected.len(), "{lock_id}");
        assert_eq!(events[0].id, expected[0].id);
        assert_eq!(events[0].created, expected[0].created);
        assert!(events.iter().all(|event| matches!(event.action, Action::Locked | Action::Unlocked)));
    }
    let logged: Vec<_> = sim.requests().into_iter().filter_map(|request| request.lock_id).collect();
    assert!(logged.contains(&fixtures::SLASH_LOCK_ID.to_owned()));
    assert!(client.list_events(fixtures::EMPTY_EVENTS_LOCK_ID).await.unwrap().events.is_empty());
}

#[tokio::test]
async fn a_wrong_token_is_unauthorized_and_never_retried() {
    let sim = spawn_sim().await;
    let client = ApiClient::new(client_config(&sim, "wrong-token-000000000000000000")).unwrap();
    assert_eq!(client.list_locks().await.unwrap_err(), ApiError::Unauthorized);
    assert_eq!(requests_on(&sim, Route::Locks), 1);
}

#[tokio::test]
async fn an_unknown_partner_is_unauthorized() {
    let sim = spawn_sim().await;
    let mut config = client_config(&sim, sim.token());
    config.partner_id = PartnerId::parse("someone-else").unwrap();
    assert_eq!(ApiClient::new(config).unwrap().list_locks().await.unwrap_err(), ApiError::Unauthorized);
}

#[tokio::test]
async fn the_lock_out_is_reported_and_not_retried() {
    let sim = spawn_sim_with(SimConfig { lockout_after: 2, ..SimConfig::default() }).await;
    let wrong = ApiClient::new(client_config(&sim, "wrong-token-000000000000000000")).unwrap();
    for _ in 0..2 {
        assert_eq!(wrong.list_locks().await.unwrap_err(), ApiError::Unauthorized);
    }
    sim.clear_requests();
    assert_eq!(client(&sim).list_locks().await.unwrap_err(), ApiError::LockedOut);
    assert_eq!(requests_on(&sim, Route::Locks), 1, "a lock-out must not be retried");
}

#[tokio::test]
async fn an_unknown_lock_is_not_found() {
    let sim = spawn_sim().await;
    assert_eq!(client(&sim).list_events("danalock-ff:ff:ff:ff:ff:ff").await.unwrap_err(), ApiError::NotFound);
}

#[tokio::test]
async fn each_status_maps_to_its_error() {
    let sim = spawn_sim().await;
    let client = client(&sim);
    let cases = [
        (400, ApiError::BadRequest { detail: Some("injected fault".into()) }),
        (404, ApiError::NotFound),
        (405, ApiError::MethodNotAllowed),
        (406, ApiError::NotAcceptable),
        (429, ApiError::RateLimited { retry_after: None }),
        (500, ApiError::Server { status: 500 }),
        (502, ApiError::Server { status: 502 }),
        (503, ApiError::Maintenance { retry_after: None }),
    ];
    for (code, expected) in cases {
        sim.clear_faults();
        sim.add_fault(FaultRule::always(Route::Locks, Fault::Status { code, body: None, retry_after: None }));
        assert_eq!(client.list_locks().await.unwrap_err(), expected, "status {code}");
    }
}

#[tokio::test]
async fn server_errors_are_retried_until_the_server_recovers() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::times(Route::Locks, Fault::Status { code: 500, body: None, retry_after: None }, 2));
    let locks = client(&sim).list_locks().await.unwrap().locks;
    assert_eq!(locks.len(), sim.locks().len());
    assert_eq!(requests_on(&sim, Route::Locks), 3);
}

#[tokio::test]
async fn gives_up_after_three_attempts() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::always(Route::Events, Fault::Status { code: 502, body: None, retry_after: None }));
    let error = client(&sim).list_events(fixtures::HJEMME_LOCK_ID).await.unwrap_err();
    assert_eq!(error, ApiError::Server { status: 502 });
    assert_eq!(requests_on(&sim, Route::Events), 3);
}

#[tokio::test]
async fn waits_as_long_as_retry_after_asks_before_retrying() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::times(
        Route::Locks,
        Fault::Status { code: 429, body: None, retry_after: Some("1".into()) },
        1,
    ));
    let started = Instant::now();
    client(&sim).list_locks().await.unwrap();
    assert!(started.elapsed() >= Duration::from_secs(1), "retried before Retry-After expired");
}

#[tokio::test]
async fn a_long_retry_after_goes_to_the_user_instead_of_waiting() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::always(
        Route::Locks,
        Fault::Status { code: 429, body: None, retry_after: Some("120".into()) },
    ));
    let error = client(&sim).list_locks().await.unwrap_err();
    assert_eq!(error, ApiError::RateLimited { retry_after: Some(Duration::from_secs(120)) });
    assert_eq!(requests_on(&sim, Route::Locks), 1);
}

#[tokio::test]
async fn nothing_is_sent_before_a_long_retry_after_expires() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::times(
        Route::Locks,
        Fault::Status { code: 429, body: None, retry_after: Some("120".into()) },
        1,
    ));
    let client = client(&sim);
    assert!(matches!(client.list_locks().await.unwrap_err(), ApiError::RateLimited { .. }));
    sim.clear_requests();
    // The fault is gone, but Unloc asked for two minutes of quiet: the client keeps it.
    let error = client.list_events(fixtures::HJEMME_LOCK_ID).await.unwrap_err();
    let ApiError::RateLimited { retry_after: Some(wait) } = error else { panic!("{error:?}") };
    assert!(wait > Duration::from_secs(100), "{wait:?}");
    assert!(sim.requests().is_empty(), "a request was sent before Retry-After expired");
}

#[tokio::test]
async fn times_out_if_the_server_takes_too_long() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::always(Route::Locks, Fault::Delay { ms: 3_000 }));
    let mut config = client_config(&sim, sim.token());
    config.retry.max_attempts = 1;
    let error = ApiClient::new(config).unwrap().list_locks().await.unwrap_err();
    assert_eq!(error, ApiError::Timeout);
}

#[tokio::test]
async fn a_slow_answer_within_the_timeout_is_fine() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::times(Route::Locks, Fault::Delay { ms: 200 }, 1));
    assert!(!client(&sim).list_locks().await.unwrap().locks.is_empty());
}

#[tokio::test]
async fn undecodable_answers_are_invalid_responses() {
    let sim = spawn_sim().await;
    let client = client(&sim);
    for fault in [Fault::Malformed, Fault::Html, Fault::Empty] {
        sim.clear_faults();
        sim.add_fault(FaultRule::always(Route::Locks, fault.clone()));
        let error = client.list_locks().await.unwrap_err();
        assert!(matches!(error, ApiError::InvalidResponse { .. }), "{fault:?} gave {error:?}");
    }
}

#[tokio::test]
async fn a_truncated_or_dropped_answer_is_retried_then_reported() {
    let sim = spawn_sim().await;
    let client = client(&sim);
    for fault in [Fault::Truncated, Fault::Drop] {
        sim.clear_faults();
        sim.clear_requests();
        sim.add_fault(FaultRule::always(Route::Locks, fault.clone()));
        let error = client.list_locks().await.unwrap_err();
        // A broken connection is a network problem, not garbage: offline, after every attempt.
        assert!(matches!(error, ApiError::Offline { .. }), "{fault:?}: {error:?}");
        assert_eq!(requests_on(&sim, Route::Locks), 3, "{fault:?} is retried until the attempts run out");
    }
    sim.clear_faults();
    sim.add_fault(FaultRule::times(Route::Locks, Fault::Drop, 1));
    assert!(!client.list_locks().await.unwrap().locks.is_empty(), "one dropped connection is retried");
}

#[tokio::test]
async fn nothing_listening_is_offline() {
    let sim = spawn_sim().await;
    let config = client_config(&sim, sim.token());
    drop(sim);
    let client = ApiClient::new(config).unwrap();
    let error = client.list_locks().await.unwrap_err();
    assert!(matches!(error, ApiError::Offline { .. }), "{error:?}");
}

#[tokio::test]
async fn error_messages_never_contain_the_token() {
    let sim = spawn_sim().await;
    let token = sim.token().to_owned();
    sim.add_fault(FaultRule::always(
        Route::Locks,
        Fault::Status { code: 400, body: Some(format!(r#"{{"message":"bad token {token}"}}"#)), retry_after: None },
    ));
    let error = client(&sim).list_locks().await.unwrap_err();
    assert!(!error.to_string().contains(&token), "{error}");
    assert!(!format!("{error:?}").contains(&token));
}

// --- The governor: one pause for every route ----------------------------------------------------

/// Waits (polling the simulator's log, no fixed sleep) until a request with `status` was answered.
async fn logged_status(sim: &Simulator, status: u16) -> unloc_sim::RecordedRequest {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(request) = sim.requests().into_iter().find(|request| request.status == Some(status)) {
                return request;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the request was answered")
}

#[tokio::test]
async fn a_429_with_retry_after_on_one_route_quiets_every_route_until_it_expires() {
    let sim = spawn_sim().await;
    let key_id = sim.events(fixtures::HJEMME_LOCK_ID).unwrap()[0].key_id.clone();
    sim.add_fault(FaultRule::times(
        Route::Locks,
        Fault::Status { code: 429, body: None, retry_after: Some("3".into()) },
        1,
    ));
    let mut config = client_config(&sim, sim.token());
    // The app's own waiting rule (up to 10 s), so the 3 s are waited out rather than reported.
    config.retry.max_wait = RetryPolicy::default().max_wait;
    let client = std::sync::Arc::new(ApiClient::new(config).unwrap());
    let locks = tokio::spawn({
        let client = std::sync::Arc::clone(&client);
        async move { client.list_locks().await }
    });
    // Once the client has the 429 (its governor is paused), not merely once Unloc sent it.
    tokio::time::timeout(Duration::from_secs(10), async {
        while client.governor_status().paused.is_none() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the 429 arrived");
    let refused = logged_status(&sim, 429).await;
    // Three requests to other routes while the pause is on (the bug: they went out at once).
    let asked = Instant::now();
    let (events, key, other_events) = tokio::join!(
        client.list_events(fixtures::HJEMME_LOCK_ID),
        client.get_key(&key_id),
        client.list_events(fixtures::UUID_LOCK_ID),
    );
    assert!(asked.elapsed() >= Duration::from_secs(2), "the requests waited for the pause");
    assert!(events.is_ok() && key.is_ok() && other_events.is_ok());
    assert_eq!(locks.await.unwrap().unwrap().locks.len(), sim.locks().len(), "the read was retried after the pause");
    let after: Vec<_> = sim.requests().into_iter().filter(|request| request.at_ms > refused.at_ms).collect();
    assert_eq!(after.len(), 4, "{after:?}");
    for request in &after {
        assert!(
            request.at_ms >= refused.at_ms + 3_000,
            "{} {} went out inside Retry-After",
            request.method,
            request.path
        );
    }
}

#[tokio::test]
async fn a_503_with_a_long_retry_after_is_said_at_once_on_every_route_without_a_request() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::times(
        Route::Events,
        Fault::Status { code: 503, body: None, retry_after: Some("600".into()) },
        1,
    ));
    let client = client(&sim);
    let error = client.list_events(fixtures::HJEMME_LOCK_ID).await.unwrap_err();
    assert_eq!(error, ApiError::Maintenance { retry_after: Some(Duration::from_secs(600)) });
    sim.clear_requests();
    let error = client.list_locks().await.unwrap_err();
    let ApiError::Maintenance { retry_after: Some(wait) } = error else { panic!("{error:?}") };
    assert!(wait > Duration::from_secs(590) && wait <= Duration::from_secs(600), "{wait:?}");
    assert!(sim.requests().is_empty(), "nothing is sent during the pause");
}

#[tokio::test]
async fn a_lock_out_quiets_the_client_until_a_new_sign_in() {
    let sim = spawn_sim().await;
    sim.add_fault(FaultRule::times(Route::Locks, Fault::Status { code: 403, body: None, retry_after: None }, 1));
    let client = client(&sim);
    assert_eq!(client.list_locks().await.unwrap_err(), ApiError::LockedOut);
    sim.clear_requests();
    // Every further click is told at once, and Unloc hears nothing.
    for _ in 0..3 {
        assert_eq!(client.list_events(fixtures::HJEMME_LOCK_ID).await.unwrap_err(), ApiError::LockedOut);
    }
    assert!(sim.requests().is_empty(), "{:?}", sim.requests());
    // A new sign-in makes a new client: it may try again.
    let signed_in_again = ApiClient::new(client_config(&sim, sim.token())).unwrap();
    assert!(!signed_in_again.list_locks().await.unwrap().locks.is_empty());
}

// --- Tolerant lists ------------------------------------------------------------------------------

/// The simulator's locks as JSON, with `change` applied to the lock at `index`.
fn locks_body(sim: &Simulator, index: usize, change: impl FnOnce(&mut serde_json::Value)) -> String {
    let mut locks = serde_json::to_value(sim.locks()).unwrap();
    change(&mut locks[index]);
    serde_json::json!({ "locks": locks }).to_string()
}

/// Spoils one lock of a list answer.
type Spoil = fn(&mut serde_json::Value);

fn answer_once(sim: &Simulator, route: Route, body: String) {
    sim.add_fault(FaultRule::times(route, Fault::Status { code: 200, body: Some(body), retry_after: None }, 1));
}

#[tokio::test]
async fn one_unreadable_lock_among_forty_is_skipped_and_counted() {
    let sim = spawn_sim().await;
    assert_eq!(sim.locks().len(), 40);
    let client = client(&sim);
    let changes: [(&str, Spoil); 4] = [
        ("a number as its name", |lock| lock["name"] = serde_json::json!(42)),
        ("no id", |lock| drop(lock.as_object_mut().unwrap().remove("id"))),
        ("a null name", |lock| lock["name"] = serde_json::Value::Null),
        ("a list as its id", |lock| lock["id"] = serde_json::json!(["x"])),
    ];
    for (what, change) in changes {
        answer_once(&sim, Route::Locks, locks_body(&sim, 5, change));
        let list = client.list_locks().await.unwrap_or_else(|error| panic!("{what}: {error:?}"));
        assert_eq!((list.locks.len(), list.skipped), (39, 1), "{what}");
        assert!(list.locks.iter().all(|lock| lock.id != sim.locks()[5].id), "{what}");
    }
}

#[tokio::test]
async fn a_lock_with_a_null_auth_is_shown_with_an_unknown_rule_never_opt_out() {
    let sim = spawn_sim().await;
    let opt_out = sim.locks().iter().position(|lock| lock.auth.as_str() == "opt-out").unwrap();
    answer_once(&sim, Route::Locks, locks_body(&sim, opt_out, |lock| lock["auth"] = serde_json::Value::Null));
    let list = client(&sim).list_locks().await.unwrap();
    assert_eq!((list.locks.len(), list.skipped), (40, 0));
    let lock = &list.locks[opt_out];
    assert_eq!(lock.id, sim.locks()[opt_out].id);
    assert_eq!(lock.auth, Grant::Unknown(String::new()));
    assert!(!lock.is_opt_in());
}

#[tokio::test]
async fn an_unreadable_event_is_skipped_and_counted() {
    let sim = spawn_sim().await;
    let mut events = serde_json::to_value(sim.events(fixtures::HJEMME_LOCK_ID).unwrap()).unwrap();
    let total = events.as_array().unwrap().len();
    events[0]["created"] = serde_json::json!("yesterday");
    events[1].as_object_mut().unwrap().remove("id");
    answer_once(&sim, Route::Events, serde_json::json!({ "events": events }).to_string());
    let list = client(&sim).list_events(fixtures::HJEMME_LOCK_ID).await.unwrap();
    assert_eq!((list.events.len(), list.skipped), (total - 2, 2));
}

// --- The token goes to the configured address only ------------------------------------------------

#[tokio::test]
async fn a_redirect_to_another_server_is_an_error_and_nothing_reaches_that_server() {
    let sim = spawn_sim().await;
    let elsewhere = RawServer::start(Answer::Nothing).await;
    let client = client(&sim);
    let new_key = NewKey {
        lock_id: fixtures::HJEMME_LOCK_ID.to_owned(),
        msn: Some("+4790000000".to_owned()),
        start: Utc::now(),
        end: None,
        route: None,
    };
    for code in [301, 302, 303, 307, 308] {
        sim.clear_faults();
        sim.clear_requests();
        // The same path on the other server, so a client that followed would find what it asked for.
        let fault = |path: &str| Fault::Redirect { code, location: Some(format!("{}{path}", elsewhere.url())) };
        let partner_path = format!("/v1/partners/{}", sim.partner_id());
        sim.add_fault(FaultRule::always(Route::Locks, fault(&format!("{partner_path}/locks"))));
        sim.add_fault(FaultRule::always(Route::KeysCreate, fault(&format!("{partner_path}/keys"))));
        let expected = ApiError::InvalidResponse {
            detail: format!("Unloc answered with a redirect ({code}), which this app does not follow"),
        };
        assert_eq!(client.list_locks().await.unwrap_err(), expected, "GET, {code}");
        // 307 and 308 ask for the same method and body again: the key would be created over there.
        assert_eq!(client.create_key(&new_key).await.unwrap_err(), expected, "POST, {code}");
        assert_eq!((requests_on(&sim, Route::Locks), requests_on(&sim, Route::KeysCreate)), (1, 1), "not retried");
    }
    assert_eq!(elsewhere.accepted(), 0, "the other server got a connection: {:?}", elsewhere.connections());
}

/// A 404 whose body is 50 MiB of JSON white space, announced with its length or sent in chunks.
fn huge_error_answer(chunked: bool) -> Answer {
    const PIECE: usize = 64 * 1024;
    const PIECES: usize = 800;
    let (framing, chunk) = if chunked {
        let mut chunk = format!("{PIECE:x}\r\n").into_bytes();
        chunk.extend(std::iter::repeat_n(b' ', PIECE));
        chunk.extend_from_slice(b"\r\n");
        ("Transfer-Encoding: chunked".to_owned(), chunk)
    } else {
        (format!("Content-Length: {}", PIECE * PIECES), vec![b' '; PIECE])
    };
    let head = format!("HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n{framing}\r\n\r\n");
    Answer::Stream { head, chunk, times: Some(PIECES) }
}

#[tokio::test]
async fn a_50_mib_error_body_is_not_read_whole_with_or_without_its_length() {
    for chunked in [false, true] {
        let server = RawServer::start(huge_error_answer(chunked)).await;
        let client =
            ApiClient::new(test_client_config(&format!("{}/v1", server.url()), "partner", "a-token-of-some-length"))
                .unwrap();
        assert_eq!(client.list_locks().await.unwrap_err(), ApiError::NotFound, "chunked: {chunked}");
        // The client stopped reading (at 64 KiB, or at once on the announced length) and hung up; what
        // the server got rid of is at most what the two sockets' buffers hold, far below 50 MiB.
        let served = server.served(1).await;
        assert_eq!(served.len(), 1, "not retried");
        assert!(served[0].written < 16 * 1024 * 1024, "chunked: {chunked}, {} bytes were taken", served[0].written);
    }
}
