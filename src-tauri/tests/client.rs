//! The API client against the simulator over real HTTP: success paths, every status mapping,
//! transport faults, and the retry policy.

use std::time::{Duration, Instant};

use unloc_desk::api::{Action, ApiClient, ApiError, Grant, PartnerId};
use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig};

mod common;
use common::{client, client_config, requests_on, spawn_sim, spawn_sim_with};

#[tokio::test]
async fn lists_every_lock_with_grant_address_and_reference() {
    let sim = spawn_sim().await;
    let locks = client(&sim).list_locks().await.unwrap();
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
        let events = client.list_events(lock_id).await.unwrap();
        let expected = sim.events(lock_id).unwrap();
        assert_eq!(events.len(), expected.len(), "{lock_id}");
        assert_eq!(events[0].id, expected[0].id);
        assert_eq!(events[0].created, expected[0].created);
        assert!(events.iter().all(|event| matches!(event.action, Action::Locked | Action::Unlocked)));
    }
    let logged: Vec<_> = sim.requests().into_iter().filter_map(|request| request.lock_id).collect();
    assert!(logged.contains(&fixtures::SLASH_LOCK_ID.to_owned()));
    assert!(client.list_events(fixtures::EMPTY_EVENTS_LOCK_ID).await.unwrap().is_empty());
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
    let locks = client(&sim).list_locks().await.unwrap();
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
    assert!(!client(&sim).list_locks().await.unwrap().is_empty());
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
        assert!(matches!(error, ApiError::Offline { .. } | ApiError::InvalidResponse { .. }), "{fault:?}: {error:?}");
        assert!(requests_on(&sim, Route::Locks) >= 1);
    }
    sim.clear_faults();
    sim.add_fault(FaultRule::times(Route::Locks, Fault::Drop, 1));
    assert!(!client.list_locks().await.unwrap().is_empty(), "one dropped connection is retried");
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
