//! Signing in and out (`access`) against the simulator, with an in-memory keychain.

use std::sync::Arc;

use secrecy::ExposeSecret;
use unloc_desk::environment::EnvDefaults;
use unloc_desk::error::{AppError, ErrorKind};
use unloc_desk::secrets::{legacy_token_account, token_account, MemoryStore, SecretStore};
use unloc_desk::settings::Settings;
use unloc_sim::{Fault, FaultRule, Route};

mod common;
use common::{access_with, spawn_sim};

/// The keychain account of the simulator's partner at the simulator's address.
fn account(sim: &unloc_sim::Simulator) -> String {
    token_account(sim.partner_id(), sim.api_base())
}

#[tokio::test]
async fn a_right_token_is_checked_kept_in_the_keychain_and_opens_a_session() {
    let sim = spawn_sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let access = access_with(keychain.clone(), EnvDefaults::default());
    let (info, locks) = access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    assert!(info.token_saved);
    assert_eq!(info.partner_id, sim.partner_id());
    assert_eq!((locks.locks.len(), locks.skipped), (sim.locks().len(), 0));
    assert_eq!(keychain.get(&account(&sim)).unwrap().unwrap().expose_secret(), sim.token());
    assert!(access.session().await.is_ok());
}

#[tokio::test]
async fn a_wrong_token_is_refused_and_nothing_is_stored() {
    let sim = spawn_sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let access = access_with(keychain.clone(), EnvDefaults::default());
    let error = access.sign_in(sim.partner_id(), "not-the-token", Some(&sim.api_base())).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(keychain.get(&account(&sim)).unwrap().is_none());
    assert_eq!(access.session().await.err().unwrap().kind, ErrorKind::NotSignedIn);
}

/// The files in a test's accounts folder, by name.
fn files_in(dir: &std::path::Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut names: Vec<String> =
        entries.map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_failed_sign_in_leaves_no_database_and_a_right_one_keeps_its_locks_in_one() {
    // The database opens while the list is fetched; a refused sign-in must not leave it behind.
    let sim = spawn_sim().await;
    let dir = std::env::temp_dir().join(format!("unloc-session-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let access = access_with(Arc::new(MemoryStore::default()), EnvDefaults::default()).with_store_dir(dir.clone());
    let error = access.sign_in(sim.partner_id(), "not-the-token", Some(&sim.api_base())).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert_eq!(files_in(&dir), Vec::<String>::new());

    access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    let kept = files_in(&dir);
    assert!(kept.iter().any(|name| name.ends_with(".sqlite3")), "{kept:?}");
    let cached = unloc_desk::locks::cached(&access.session().await.unwrap().account).expect("the list was saved");
    let saved: Vec<serde_json::Value> = serde_json::from_str(cached.locks.get()).expect("a JSON list");
    assert_eq!(saved.len(), sim.locks().len());

    // A refused sign-in later leaves the database of earlier ones alone.
    access.sign_in(sim.partner_id(), "not-the-token", Some(&sim.api_base())).await.unwrap_err();
    assert_eq!(files_in(&dir), kept);
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn input_is_checked_before_any_request() {
    let sim = spawn_sim().await;
    let access = access_with(Arc::new(MemoryStore::default()), EnvDefaults::default());
    let base = sim.api_base();
    let field = |error: unloc_desk::error::AppError| (error.kind, error.field);
    assert_eq!(
        field(access.sign_in("", sim.token(), Some(&base)).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("partnerId"))
    );
    assert_eq!(
        field(access.sign_in("demo partner", sim.token(), Some(&base)).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("partnerId"))
    );
    assert_eq!(
        field(access.sign_in(sim.partner_id(), "  ", Some(&base)).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("token"))
    );
    assert_eq!(
        field(access.sign_in(sim.partner_id(), sim.token(), Some("http://example.com/v1")).await.unwrap_err()),
        (ErrorKind::InvalidInput, Some("apiBase"))
    );
    assert!(sim.requests().is_empty(), "no request may leave before the input is valid");
}

#[tokio::test]
async fn the_demo_token_from_the_environment_stands_in_for_an_empty_field() {
    let sim = spawn_sim().await;
    let (base, partner, token) = (sim.api_base(), sim.partner_id().to_owned(), sim.token().to_owned());
    let env = EnvDefaults::from_lookup(|name| match name {
        "UNLOC_API_BASE" => Some(base.clone()),
        "UNLOC_PARTNER_ID" => Some(partner.clone()),
        "UNLOC_API_TOKEN" => Some(token.clone()),
        _ => None,
    });
    assert_eq!(env.default_api_base().as_str(), sim.api_base());
    let keychain = Arc::new(MemoryStore::default());
    let access = access_with(keychain.clone(), env);
    let (info, _) = access.sign_in(sim.partner_id(), "", None).await.unwrap();
    assert_eq!(info.api_base, sim.api_base());
    assert!(keychain.get(&account(&sim)).unwrap().is_some());
}

#[tokio::test]
async fn an_insecure_base_in_the_environment_is_ignored() {
    let env = EnvDefaults::from_lookup(|name| (name == "UNLOC_API_BASE").then(|| "http://10.0.0.1/v1".to_owned()));
    assert_eq!(env.default_api_base().as_str(), "https://api.unloc.app/v1");
}

#[tokio::test]
async fn a_later_start_signs_in_silently_from_the_keychain() {
    let sim = spawn_sim().await;
    let keychain: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    access_with(keychain.clone(), EnvDefaults::default())
        .sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base()))
        .await
        .unwrap();

    let next_start = access_with(keychain, EnvDefaults::default());
    assert!(next_start.restore(sim.partner_id(), Some(&sim.api_base())).await.unwrap());
    let locks =
        next_start.caller().await.unwrap().call(|client| async move { client.list_locks().await }).await.unwrap();
    assert_eq!(locks.locks.len(), sim.locks().len());
}

#[tokio::test]
async fn nothing_in_the_keychain_means_no_silent_sign_in() {
    let access = access_with(Arc::new(MemoryStore::default()), EnvDefaults::default());
    assert!(!access.restore("demo-partner", None).await.unwrap());
}

#[tokio::test]
async fn signing_out_removes_the_token() {
    let sim = spawn_sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let access = access_with(keychain.clone(), EnvDefaults::default());
    access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    access.sign_out().await.unwrap();
    assert!(keychain.get(&account(&sim)).unwrap().is_none());
    assert_eq!(access.session().await.err().unwrap().kind, ErrorKind::NotSignedIn);
}

#[tokio::test]
async fn a_token_rejected_later_is_forgotten() {
    let sim = spawn_sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let access = access_with(keychain.clone(), EnvDefaults::default());
    access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    sim.add_fault(FaultRule::always(Route::Locks, Fault::Status { code: 401, body: None, retry_after: None }));
    let error =
        access.caller().await.unwrap().call(|client| async move { client.list_locks().await }).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);
    assert!(keychain.get(&account(&sim)).unwrap().is_none());
}

#[tokio::test]
async fn a_keychain_that_refuses_still_lets_this_run_work_and_says_so() {
    let sim = spawn_sim().await;
    let access = access_with(Arc::new(MemoryStore::unavailable()), EnvDefaults::default());
    let (info, _) = access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    assert!(!info.token_saved);
    assert_eq!(info.problem.unwrap().kind, ErrorKind::KeychainUnavailable);
    assert!(access.session().await.is_ok());
}

#[tokio::test]
async fn a_keychain_that_refuses_at_start_is_reported() {
    let access = access_with(Arc::new(MemoryStore::unavailable()), EnvDefaults::default());
    let error = access.restore("demo-partner", None).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::KeychainUnavailable);
}

#[tokio::test]
async fn startup_signs_the_saved_partner_in_silently_and_tells_of_a_damaged_settings_file() {
    let sim = spawn_sim().await;
    let keychain: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    access_with(keychain.clone(), EnvDefaults::default())
        .sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base()))
        .await
        .unwrap();
    let settings = Settings {
        partner_id: Some(sim.partner_id().to_owned()),
        api_base: Some(sim.api_base()),
        ..Settings::default()
    };
    let damaged = AppError::new(ErrorKind::SettingsReset, "the settings file was damaged");
    let startup = access_with(keychain, EnvDefaults::default()).startup(settings, Some(damaged)).await;
    assert!(startup.signed_in);
    assert_eq!(startup.problem.unwrap().kind, ErrorKind::SettingsReset);
}

#[tokio::test]
async fn startup_uses_the_environments_partner_and_a_refusing_keychain_outranks_other_problems() {
    let env = EnvDefaults::from_lookup(|name| (name == "UNLOC_PARTNER_ID").then(|| "demo-partner".to_owned()));
    let access = access_with(Arc::new(MemoryStore::unavailable()), env);
    let damaged = AppError::new(ErrorKind::SettingsReset, "the settings file was damaged");
    let startup = access.startup(Settings::default(), Some(damaged)).await;
    assert!(!startup.signed_in);
    assert_eq!(startup.settings.partner_id.as_deref(), Some("demo-partner"));
    assert_eq!(startup.problem.unwrap().kind, ErrorKind::KeychainUnavailable);
}

#[tokio::test]
async fn startup_without_a_partner_does_not_touch_the_keychain() {
    let startup = access_with(Arc::new(MemoryStore::unavailable()), EnvDefaults::default())
        .startup(Settings::default(), None)
        .await;
    assert!(!startup.signed_in);
    assert!(startup.problem.is_none(), "{:?}", startup.problem);
}

#[tokio::test]
async fn a_token_is_read_back_only_for_the_address_it_was_saved_for() {
    let (here, elsewhere) = (spawn_sim().await, spawn_sim().await);
    assert_eq!(here.partner_id(), elsewhere.partner_id(), "one partner id at two addresses");
    let keychain: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    access_with(keychain.clone(), EnvDefaults::default())
        .sign_in(here.partner_id(), here.token(), Some(&here.api_base()))
        .await
        .unwrap();

    let next_start = access_with(keychain.clone(), EnvDefaults::default());
    assert!(!next_start.restore(here.partner_id(), Some(&elsewhere.api_base())).await.unwrap());
    assert!(next_start.caller().await.is_err(), "no session, so nothing can be sent anywhere");
    assert!(next_start.restore(here.partner_id(), Some(&here.api_base())).await.unwrap());
    assert!(keychain.get(&token_account(here.partner_id(), elsewhere.api_base())).unwrap().is_none());
    assert!(elsewhere.requests().is_empty());
}

#[tokio::test]
async fn a_token_kept_the_old_way_is_used_only_for_unlocs_own_address_and_moved() {
    let keychain: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    let old_token = secrecy::SecretString::from("a-token-kept-by-an-older-version".to_owned());
    keychain.set(&legacy_token_account("partner-old"), &old_token).unwrap();

    // Another address (here a simulator's): the old entry is not used.
    let sim = spawn_sim().await;
    let access = access_with(keychain.clone(), EnvDefaults::default());
    assert!(!access.restore("partner-old", Some(&sim.api_base())).await.unwrap());
    assert!(sim.requests().is_empty());

    // Unloc's production address: used, and moved under the partner id and the address.
    assert!(access.restore("partner-old", None).await.unwrap());
    let moved = keychain.get(&token_account("partner-old", "https://api.unloc.app/v1")).unwrap();
    assert_eq!(moved.unwrap().expose_secret(), "a-token-kept-by-an-older-version");
    assert!(keychain.get(&legacy_token_account("partner-old")).unwrap().is_none());
}

#[tokio::test]
async fn a_sign_in_replaces_a_token_kept_the_old_way() {
    let sim = spawn_sim().await;
    let keychain: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
    keychain.set(&legacy_token_account(sim.partner_id()), &secrecy::SecretString::from("old".to_owned())).unwrap();
    let access = access_with(keychain.clone(), EnvDefaults::default());
    access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    assert!(keychain.get(&legacy_token_account(sim.partner_id())).unwrap().is_none());
    assert!(keychain.get(&account(&sim)).unwrap().is_some());
}

#[tokio::test]
async fn a_late_401_for_a_previous_partner_leaves_the_current_session_alone() {
    let first = spawn_sim().await;
    let second =
        common::spawn_sim_with(unloc_sim::SimConfig { partner_id: "second-partner".into(), ..common::sim_config() })
            .await;
    let keychain = Arc::new(MemoryStore::default());
    let access = access_with(keychain.clone(), EnvDefaults::default());
    access.sign_in(first.partner_id(), first.token(), Some(&first.api_base())).await.unwrap();
    let first_caller = access.caller().await.unwrap();

    // The user signs in as another partner while a call of the first is still under way.
    access.sign_in(second.partner_id(), second.token(), Some(&second.api_base())).await.unwrap();
    first.add_fault(FaultRule::always(Route::Locks, Fault::Status { code: 401, body: None, retry_after: None }));
    let error = first_caller.call(|client| async move { client.list_locks().await }).await.unwrap_err();
    assert_eq!(error.kind, ErrorKind::Unauthorized);

    let current = access.session().await.expect("still signed in");
    assert_eq!(current.client.partner_id().as_str(), "second-partner");
    assert!(keychain.get(&account(&second)).unwrap().is_some(), "the current token is kept");
}

/// The seam of team mode: a signed-in session holds a link to the office's database when Settings
/// → Team names one whose password is kept, scoped to the partner and address signed in; saving
/// "no team database" or signing out takes it away. Nothing is sent to the database for this.
#[tokio::test]
async fn a_team_database_in_the_settings_is_linked_to_the_session_and_unlinked_on_sign_out() {
    use unloc_desk::team::{password_account, TeamSettings, TeamTls};
    let sim = spawn_sim().await;
    let keychain = Arc::new(MemoryStore::default());
    let access = access_with(keychain.clone(), EnvDefaults::default());
    let settings = TeamSettings {
        host: "127.0.0.1".into(),
        port: 9, // nothing listens: linking must not need the server
        database: "unloc_desk".into(),
        user: "unloc_desk".into(),
        tls: TeamTls::Off,
        ca_file: None,
        your_name: Some("Anna".into()),
    };
    access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
    access.attach_team(Some(&settings)).await.unwrap();
    assert!(access.session().await.unwrap().team().is_none(), "no password kept: the desk stays on its own");

    keychain.set(&password_account(&settings), &secrecy::SecretString::from("pw".to_owned())).unwrap();
    access.attach_team(Some(&settings)).await.unwrap();
    let link = access.session().await.unwrap().team().expect("linked");
    assert_eq!(link.scope().partner_id, sim.partner_id());
    assert_eq!(link.scope().api_base, sim.api_base().to_string());
    assert_eq!(link.author().user, "Anna");

    access.attach_team(Some(&settings)).await.unwrap();
    let again = access.session().await.unwrap().team().unwrap();
    assert!(Arc::ptr_eq(&link, &again), "the same settings keep the same link");

    access.attach_team(None).await.unwrap();
    assert!(access.session().await.unwrap().team().is_none(), "sharing stopped");
    access.attach_team(Some(&settings)).await.unwrap();
    let session = access.session().await.unwrap();
    access.sign_out().await.unwrap();
    assert!(session.team().is_none(), "signing out unlinks the ended session");
}
