//! Signing in and out against the simulator, with an in-memory keychain.

use std::sync::Arc;
use std::time::Duration;

use secrecy::ExposeSecret;
use unloc_desk::error::ErrorKind;
use unloc_desk::secrets::{MemoryStore, SecretStore};
use unloc_desk::session::{EnvDefaults, Sessions};
use unloc_sim::{Fault, FaultRule, Route, SimConfig, Simulator};

async fn sim() -> Simulator {
    unloc_sim::start(SimConfig { lockout_after: 0, ..SimConfig::default() }).await.unwrap()
}

fn sessions(secrets: Arc<dyn SecretStore>, env: EnvDefaults) -> Sessions {
    Sessions::new(secrets, env).with_client_tuning(|mut config| {
        config.retry.base_delay = Duration::from_millis(5);
        config
    })
}

#[tokio::test]
async fn a_right_token_is_checked_kept_in_the_keychain_and_opens_a_session() {
    let sim = sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let sessions = sessions(keychain.clone(), EnvDefaults::default());
    let (info, locks) = sessions.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    assert!(info.token_saved);
    assert_eq!(info.partner_id, sim.partner_id());
    assert_eq!(locks.len(), sim.locks().len());
    assert_eq!(keychain.get(sim.partner_id()).unwrap().unwrap().expose_secret(), sim.token());
    assert!(sessions.client().await.is_ok());
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_nothing_is_stored() {
    let sim = sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let sessions = sessions(keychain.clone(), EnvDefaults::default());
    let error = sessions.sign_in(sim.partner_id(), "not-the-token", Some(&sim.api_base())).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(keychain.get(sim.partner_id()).unwrap().is_none());
    assert_eq!(sessions.client().await.unwrap_err().kind, ErrorKind::NotSignedIn);
}

#[tokio::test]
async fn input_is_checked_before_any_request() {
    let sim = sim().await;
    let sessions = sessions(Arc::new(MemoryStore::default()), EnvDefaults::default());
    let base = sim.api_base();
    let field = |error: unloc_desk::error::AppError| (error.kind, error.field);
    assert_eq!(
        field(sessions.sign_in("", sim.token(), Some(&base)).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("partnerId"))
    );
    assert_eq!(
        field(sessions.sign_in("demo partner", sim.token(), Some(&base)).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("partnerId"))
    );
    assert_eq!(
        field(sessions.sign_in(sim.partner_id(), "  ", Some(&base)).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("token"))
    );
    assert_eq!(
        field(sessions.sign_in(sim.partner_id(), sim.token(), Some("http://example.com/v1")).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("apiBase"))
    );
    assert!(sim.requests().is_empty(), "no request may leave before the input is valid");
}

#[tokio::test]
async fn the_demo_token_from_the_environment_stands_in_for_an_empty_field() {
    let sim = sim().await;
    let (base, partner, token) = (sim.api_base(), sim.partner_id().to_owned(), sim.token().to_owned());
    let env = EnvDefaults::from_lookup(|name| match name {
        "UNLOC_API_BASE" => Some(base.clone()),
        "UNLOC_PARTNER_ID" => Some(partner.clone()),
        "UNLOC_API_TOKEN" => Some(token.clone()),
        _ => None,
    });
    assert_eq!(env.default_api_base().as_str(), sim.api_base());
    let keychain = Arc::new(MemoryStore::default());
    let sessions = sessions(keychain.clone(), env);
    let (info, _) = sessions.sign_in(sim.partner_id(), "", None).await.unwrap();
    assert_eq!(info.api_base, sim.api_base());
    assert!(keychain.get(sim.partner_id()).unwrap().is_some());
}

#[tokio::test]
async fn an_insecure_base_in_the_environment_is_ignored() {
    let env = EnvDefaults::from_lookup(|name| (name == "UNLOC_API_BASE").then(|| "http://10.0.0.1/v1".to_owned()));
    assert_eq!(env.default_api_base().as_str(), "https://api.unloc.app/v1");
}

#[tokio::test]
async fn a_later_start_signs_in_silently_from_the_keychain() {
    let sim = sim().await;
    let keychain: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    sessions(keychain.clone(), EnvDefaults::default())
        .sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base()))
        .await
        .unwrap();

    let next_start = sessions(keychain, EnvDefaults::default());
    assert!(next_start.restore(sim.partner_id(), Some(&sim.api_base())).await.unwrap());
    let locks = next_start.call(|client| async move { client.list_locks().await }).await.unwrap();
    assert_eq!(locks.len(), sim.locks().len());
}

#[tokio::test]
async fn nothing_in_the_keychain_means_no_silent_sign_in() {
    let sessions = sessions(Arc::new(MemoryStore::default()), EnvDefaults::default());
    assert!(!sessions.restore("demo-partner", None).await.unwrap());
}

#[tokio::test]
async fn signing_out_removes_the_token() {
    let sim = sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let sessions = sessions(keychain.clone(), EnvDefaults::default());
    sessions.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    sessions.sign_out().await.unwrap();
    assert!(keychain.get(sim.partner_id()).unwrap().is_none());
    assert_eq!(sessions.client().await.unwrap_err().kind, ErrorKind::NotSignedIn);
}

#[tokio::test]
async fn a_token_rejected_later_is_forgotten() {
    let sim = sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let sessions = sessions(keychain.clone(), EnvDefaults::default());
    sessions.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    sim.add_fault(FaultRule::always(Route::Locks, Fault::Status { code: 401, body: None, retry_after: None }));
    let error = sessions.call(|client| async move { client.list_locks().await }).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(keychain.get(sim.partner_id()).unwrap().is_none());
}

#[tokio::test]
async fn a_keychain_that_refuses_still_lets_this_run_work_and_says_so() {
    let sim = sim().await;
    let sessions = sessions(Arc::new(MemoryStore::unavailable()), EnvDefaults::default());
    let (info, _) = sessions.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    assert!(!info.token_saved);
    assert_eq!(info.problem.unwrap().kind, ErrorKind::KeychainUnavailable);
    assert!(sessions.client().await.is_ok());
}

#[tokio::test]
async fn a_keychain_that_refuses_at_start_is_reported() {
    let sessions = sessions(Arc::new(MemoryStore::unavailable()), EnvDefaults::default());
    let error = sessions.restore("demo-partner", None).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::KeychainUnavailable);
}
