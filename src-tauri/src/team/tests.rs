//! Against the real throwaway server (tests/scripts/with-postgres.sh): what "Test connection"
//! says for each problem, migrations under concurrency, a newer schema, and the shared key suite.

use secrecy::{ExposeSecret, SecretString};

use super::keys::Author;
use super::schema::{migrate_with, SchemaState, MIGRATIONS};
use super::testing::{server, unique};
use super::*;
use crate::key_store::{suite, KeyStore};

fn author() -> Author {
    Author { user: "Anna".into(), desk: "OFFICE-PC-2".into() }
}

/// A key this app created on lock "l1", starting 2026-11-01 10:00 UTC.
fn created_key(id: &str) -> crate::store::CreatedKeyRecord<'_> {
    crate::store::CreatedKeyRecord {
        id,
        lock_id: "l1",
        msn: None,
        route: None,
        start: suite::moment("2026-11-01T10:00:00.000Z"),
        end: None,
    }
}

/// A fresh database in which this desk (Anna's, partner p1) created key `id`: its settings and
/// password, the desk's shared store, and a plain connection to look at (or change) it under the app.
async fn desk_with_a_created_key(
    server: &super::testing::Server,
    id: &str,
) -> (TeamSettings, SecretString, TeamKeys, tokio_postgres::Client) {
    let (settings, password) = server.fresh_database().await;
    let store = TeamKeys::open(&settings, &password, scope("p1"), author()).await.unwrap();
    store.remember_created_key(&created_key(id), suite::moment("2026-11-01T09:00:00.000Z")).await.unwrap();
    let client = connect(&settings, &password).await.unwrap();
    (settings, password, store, client)
}

fn scope(partner_id: &str) -> Scope {
    Scope { partner_id: partner_id.into(), api_base: "https://partner.unloc.app/v1".into() }
}

/// Runs "Test connection" and returns its outcome, checking its detail never holds the password.
async fn outcome(settings: &TeamSettings, password: &SecretString) -> (&'static str, String) {
    let check = test_connection(settings, password).await;
    let detail = check.detail.clone().unwrap_or_default();
    assert!(!detail.contains(password.expose_secret()), "the password is in the detail: {detail}");
    (check.outcome, detail)
}

#[tokio::test]
async fn a_fresh_database_is_set_up_and_the_test_says_ok() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let check = test_connection(&settings, &password).await;
    assert_eq!((check.outcome, check.schema_version), ("ok", Some(LATEST_SCHEMA)), "{check:?}");
    // Testing again finds the schema in place.
    assert_eq!(test_connection(&settings, &password).await.outcome, "ok");
}

#[tokio::test]
async fn a_wrong_password_is_named() {
    let Some(server) = server() else { return };
    let (settings, _) = server.fresh_database().await;
    let typed = SecretString::from("not-the-password-4711".to_owned());
    let (said, detail) = outcome(&settings, &typed).await;
    assert_eq!(said, "wrongPassword", "{detail}");
}

#[tokio::test]
async fn a_missing_database_is_named() {
    let Some(server) = server() else { return };
    let (mut settings, password) = server.fresh_database().await;
    settings.database = unique("no_such_database");
    let (said, detail) = outcome(&settings, &password).await;
    assert_eq!(said, "databaseMissing", "{detail}");
}

#[tokio::test]
async fn a_user_who_may_not_connect_has_no_rights() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let outsider = unique("outsider");
    let admin = server.admin("postgres").await;
    admin.batch_execute(&format!("CREATE ROLE {outsider} LOGIN PASSWORD 'outsider-pw'")).await.unwrap();
    admin.batch_execute(&format!("REVOKE CONNECT ON DATABASE {} FROM PUBLIC", settings.database)).await.unwrap();
    let settings = server.settings(&settings.database, &outsider);
    let (said, detail) = outcome(&settings, &SecretString::from("outsider-pw".to_owned())).await;
    assert_eq!(said, "noRights", "{detail}");
    drop(password);
}

#[tokio::test]
async fn a_user_who_may_not_create_the_tables_has_no_rights() {
    let Some(server) = server() else { return };
    // The database belongs to the administrator: since PostgreSQL 15 others may not create tables
    // in its public schema.
    let database = unique("office");
    let guest = unique("guest");
    let admin = server.admin("postgres").await;
    admin.batch_execute(&format!("CREATE DATABASE {database}")).await.unwrap();
    admin.batch_execute(&format!("CREATE ROLE {guest} LOGIN PASSWORD 'guest-pw'")).await.unwrap();
    let settings = server.settings(&database, &guest);
    let (said, detail) = outcome(&settings, &SecretString::from("guest-pw".to_owned())).await;
    assert_eq!(said, "noRights", "{detail}");
}

#[tokio::test]
async fn a_port_where_nothing_listens_is_unreachable() {
    let Some(server) = server() else { return };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = listener.local_addr().unwrap().port();
    drop(listener);
    let mut settings = server.settings("postgres", &server.admin_user);
    settings.port = closed_port;
    let (said, detail) = outcome(&settings, &SecretString::from(server.admin_password.clone())).await;
    assert_eq!(said, "unreachable", "{detail}");
}

/// A server that stops (or an administrator who ends the desk's connection) answers a running query
/// with "terminating connection due to administrator command": the office is out of reach for now,
/// not an unexplained error.
#[tokio::test]
async fn a_connection_the_server_ends_mid_query_is_unreachable() {
    let Some(server) = server() else { return };
    let settings = server.settings("postgres", &server.admin_user);
    let password = SecretString::from(server.admin_password.clone());
    let desk = connect(&settings, &password).await.unwrap();
    let desk_pid: i32 = desk.query_one("SELECT pg_backend_pid()", &[]).await.unwrap().get(0);
    let admin = connect(&settings, &password).await.unwrap();
    // Prepared first, so the server is inside pg_sleep (not between two messages) when it ends.
    let sleep = desk.prepare("SELECT pg_sleep(30)").await.unwrap();
    let ending = async {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            let sleeping: i64 = admin
                .query_one(
                    "SELECT COUNT(*) FROM pg_stat_activity WHERE pid = $1 AND wait_event = 'PgSleep'",
                    &[&desk_pid],
                )
                .await
                .unwrap()
                .get(0);
            if sleeping == 1 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "the desk's query never began to sleep (pid {desk_pid})");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        admin.execute("SELECT pg_terminate_backend($1)", &[&desk_pid]).await.unwrap();
    };
    let asked = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        tokio::join!(desk.query_one(&sleep, &[]), ending)
    });
    let (answer, ()) = asked.await.expect("the desk's query was answered within a minute");
    let error = super::connect::explain(&answer.unwrap_err());
    assert_eq!(error.problem, TeamProblem::Unreachable, "{}", error.detail);
    assert!(error.detail.contains("57P01"), "the server's own words: {}", error.detail);
}

#[tokio::test]
async fn tls_is_required_for_a_server_on_another_computer() {
    let Some(server) = server() else { return };
    let mut settings = server.settings("postgres", &server.admin_user);
    for host in ["192.0.2.2", "db.office.example", "::ffff:10.0.0.1"] {
        settings.host = host.into();
        let started = std::time::Instant::now();
        let (said, detail) = outcome(&settings, &SecretString::from(server.admin_password.clone())).await;
        assert_eq!(said, "tlsRequired", "{host}: {detail}");
        assert!(started.elapsed() < std::time::Duration::from_secs(1), "refused before any connection attempt");
    }
    assert!(is_loopback("localhost") && is_loopback("127.0.0.1") && is_loopback("[::1]"));
}

#[tokio::test]
async fn a_server_that_wants_tls_says_so_and_verify_full_with_its_ca_gets_in() {
    let Some(server) = server() else { return };
    let password = SecretString::from("tls-only-password".to_owned());
    let mut settings = server.settings("postgres", &server.tls_only_user);
    let (said, detail) = outcome(&settings, &password).await;
    assert_eq!(said, "tlsRequiredByServer", "{detail}");

    // verify-full with the CA the IT person gave: in (the role may not create tables in the
    // administrator's database, which proves the connection was made).
    settings.host = "localhost".into();
    settings.tls = TeamTls::VerifyFull;
    settings.ca_file = Some(server.ca_file.clone());
    let (said, detail) = outcome(&settings, &password).await;
    assert_eq!(said, "noRights", "{detail}");

    // Without it, the certificate is not one the computer trusts.
    settings.ca_file = None;
    let (said, detail) = outcome(&settings, &password).await;
    assert_eq!(said, "certificateNotTrusted", "{detail}");

    settings.ca_file = Some("/nonexistent/ca.pem".into());
    let (said, detail) = outcome(&settings, &password).await;
    assert_eq!(said, "caFileUnreadable", "{detail}");
}

#[tokio::test]
async fn verify_full_checks_the_host_name_too() {
    let Some(server) = server() else { return };
    let (mut settings, password) = server.fresh_database().await;
    settings.tls = TeamTls::VerifyFull;
    settings.ca_file = Some(server.ca_file.clone());
    settings.host = "127.0.0.1".into();
    assert_eq!(outcome(&settings, &password).await.0, "ok", "the certificate names 127.0.0.1");
    // The same server (with-postgres.sh listens there too) under an address its certificate
    // does not carry.
    settings.host = "127.0.0.2".into();
    let (said, detail) = outcome(&settings, &password).await;
    assert_eq!(said, "certificateNotTrusted", "{detail}");
    settings.tls = TeamTls::Off;
    assert_eq!(outcome(&settings, &password).await.0, "ok", "the same server, reached without TLS");
}

#[tokio::test]
async fn two_desks_migrating_at_once_do_not_race() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    // Slow migrations widen the window in which two unguarded desks would both see version 0.
    let slow: Vec<String> = (1..=3)
        .map(|step| format!("SELECT pg_sleep(0.2); CREATE TABLE step_{step} (id integer PRIMARY KEY)"))
        .collect();
    let slow: Vec<&str> = slow.iter().map(String::as_str).collect();
    let mut first = connect(&settings, &password).await.unwrap();
    let mut second = connect(&settings, &password).await.unwrap();
    let (a, b) = tokio::join!(migrate_with(&mut first, &slow), migrate_with(&mut second, &slow));
    assert_eq!(a.unwrap(), SchemaState::Current(3));
    assert_eq!(b.unwrap(), SchemaState::Current(3));
    let applied: Vec<i32> = first
        .query("SELECT version FROM unloc_desk_schema ORDER BY version", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(applied, [1, 2, 3], "each migration ran once");

    // The app's own migrations, from two stores opening together.
    let (settings, password) = server.fresh_database().await;
    let (a, b) = tokio::join!(
        TeamKeys::open(&settings, &password, scope("p1"), author()),
        TeamKeys::open(&settings, &password, scope("p1"), author())
    );
    assert_eq!(a.unwrap().schema(), SchemaState::Current(LATEST_SCHEMA));
    assert_eq!(b.unwrap().schema(), SchemaState::Current(LATEST_SCHEMA));
}

#[tokio::test]
async fn a_schema_newer_than_the_app_is_read_only_with_a_message() {
    let Some(server) = server() else { return };
    let (settings, password, _, client) = desk_with_a_created_key(&server, "k1").await;
    // A newer app has been here.
    let newer = LATEST_SCHEMA + 1;
    client.execute("INSERT INTO unloc_desk_schema (version) VALUES ($1)", &[&newer]).await.unwrap();

    let check = test_connection(&settings, &password).await;
    assert_eq!((check.outcome, check.schema_version), ("schemaNewer", Some(newer)), "{check:?}");

    let store = TeamKeys::open(&settings, &password, scope("p1"), author()).await.unwrap();
    assert!(store.is_read_only());
    assert_eq!(store.keys(None).await.unwrap().len(), 1, "what is there is still read");
    match store.record_revoked("k1", suite::moment("2026-11-01T11:00:00.000Z")).await {
        Err(error) => assert_eq!(error.problem, TeamProblem::SchemaNewer),
        other => panic!("a write was not refused: {other:?}"),
    }
    assert_eq!(store.key("k1").await.unwrap().unwrap().api_state.as_deref(), Some("creating"), "nothing written");
    // Nothing of the newer schema was touched: its version stays.
    let versions: i64 = client.query_one("SELECT COUNT(*) FROM unloc_desk_schema", &[]).await.unwrap().get(0);
    assert_eq!(versions, i64::from(newer));
    assert_eq!(MIGRATIONS.len() as i32, LATEST_SCHEMA);
}

#[tokio::test]
async fn the_shared_database_passes_the_shared_suite() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    // Each case in a partner account of its own on one database: scoping keeps them apart.
    suite::run(|| {
        let (settings, password) = (settings.clone(), password.clone());
        async move { TeamKeys::open(&settings, &password, scope(&unique("partner")), author()).await.unwrap() }
    })
    .await;
}

#[tokio::test]
async fn two_partners_on_one_database_see_only_their_own_keys() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let first = TeamKeys::open(&settings, &password, scope("partner-a"), author()).await.unwrap();
    let second = TeamKeys::open(&settings, &password, scope("partner-b"), author()).await.unwrap();
    suite::two_partner_accounts_see_only_their_own_keys(&first, &second).await;
    // The same partner id at another API address is another account too.
    let elsewhere = Scope { partner_id: "partner-a".into(), api_base: "http://127.0.0.1:9/v1".into() };
    let elsewhere = TeamKeys::open(&settings, &password, elsewhere, author()).await.unwrap();
    assert!(elsewhere.keys(None).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_created_key_says_who_created_it_on_which_desk() {
    let Some(server) = server() else { return };
    let (.., client) = desk_with_a_created_key(&server, "k9").await;
    let row = client.query_one("SELECT created_by, created_on_desk FROM team_keys WHERE id = 'k9'", &[]).await.unwrap();
    assert_eq!((row.get::<_, String>(0), row.get::<_, String>(1)), ("Anna".into(), "OFFICE-PC-2".into()));
}

#[tokio::test]
async fn a_revoked_key_says_who_revoked_it_first_on_which_desk() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let anna = TeamKeys::open(&settings, &password, scope("p1"), author()).await.unwrap();
    let bjorn_author = Author { user: "Bjørn".into(), desk: "OFFICE-PC-1".into() };
    let bjorn = TeamKeys::open(&settings, &password, scope("p1"), bjorn_author).await.unwrap();
    let created = created_key("k7");
    anna.remember_created_key(&created, suite::moment("2026-11-01T09:00:00.000Z")).await.unwrap();
    bjorn.record_revoked("k7", suite::moment("2026-11-01T11:00:00.000Z")).await.unwrap();
    // Anna's desk revoking it too (Unloc answered 409) does not take the deed from Bjørn.
    anna.record_revoked("k7", suite::moment("2026-11-01T11:01:00.000Z")).await.unwrap();
    let key = anna.key("k7").await.unwrap().unwrap();
    assert_eq!(
        (key.revoked_by.as_deref(), key.revoked_on_desk.as_deref(), key.created_by.as_deref()),
        (Some("Bjørn"), Some("OFFICE-PC-1"), Some("Anna"))
    );
}

#[tokio::test]
async fn a_key_created_on_one_desk_is_heard_on_another_within_two_seconds() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let desk_a = TeamKeys::open(&settings, &password, scope("p1"), author()).await.unwrap();
    let other_partner = TeamKeys::open(&settings, &password, scope("p2"), author()).await.unwrap();
    let mut desk_b = listen(&settings, &password, scope("p1")).await.unwrap();
    let created = created_key;
    let now = suite::moment("2026-11-01T09:00:00.000Z");
    // Another partner's key first: desk B must not hear of it.
    other_partner.remember_created_key(&created("theirs"), now).await.unwrap();
    desk_a.remember_created_key(&created("k-live"), now).await.unwrap();
    let heard = tokio::time::timeout(std::time::Duration::from_secs(2), desk_b.next()).await;
    assert_eq!(heard.expect("heard within 2 s"), Some("k-live".to_owned()));
    // A revoke is a write too.
    desk_a.record_revoked("k-live", now).await.unwrap();
    let heard = tokio::time::timeout(std::time::Duration::from_secs(2), desk_b.next()).await;
    assert_eq!(heard.expect("heard within 2 s"), Some("k-live".to_owned()));
}

fn event_months_ago(id: &str, months: u32) -> crate::api::LockEvent {
    crate::api::LockEvent {
        id: id.into(),
        key_id: "k1".into(),
        action: crate::api::Action::from_text("unlocked"),
        name: "Kari".into(),
        msn: "+4790000001".into(),
        created: chrono::Utc::now().checked_sub_months(chrono::Months::new(months)).unwrap(),
    }
}

async fn shared_event_ids(client: &tokio_postgres::Client, partner_id: &str) -> Vec<String> {
    let rows =
        client.query("SELECT id FROM team_events WHERE partner_id = $1 ORDER BY id", &[&partner_id]).await.unwrap();
    rows.iter().map(|row| row.get(0)).collect()
}

#[tokio::test]
async fn the_office_archive_keeps_events_as_long_as_the_shortest_retention_of_the_desks_heard_from() {
    let Some(server) = server() else { return };
    let (settings, password) = server.fresh_database().await;
    let anna = TeamKeys::open(&settings, &password, scope("p1"), author()).await.unwrap();
    let bjorn_author = Author { user: "Bjørn".into(), desk: "OFFICE-PC-1".into() };
    let bjorn = TeamKeys::open(&settings, &password, scope("p1"), bjorn_author).await.unwrap();
    let other_partner = TeamKeys::open(&settings, &password, scope("p2"), author()).await.unwrap();
    let events = [event_months_ago("e01", 1), event_months_ago("e05", 5), event_months_ago("e13", 13)];
    assert_eq!(anna.share_events("l1", &events).await.unwrap(), 3);
    other_partner.share_events("l9", &[event_months_ago("theirs", 30)]).await.unwrap();
    let client = connect(&settings, &password).await.unwrap();

    // Anna keeps 12 months: the office's copy follows.
    let purge = anna.purge_shared_events(Some(12)).await.unwrap();
    assert_eq!(purge, SharedPurge { deleted: 1, office_months: Some(12) });
    // Bjørn keeps everything: the shorter rule still holds for the office.
    let purge = bjorn.purge_shared_events(None).await.unwrap();
    assert_eq!(purge, SharedPurge { deleted: 0, office_months: Some(12) });
    // Bjørn keeps 2 months: the shortest wins.
    let purge = bjorn.purge_shared_events(Some(2)).await.unwrap();
    assert_eq!(purge, SharedPurge { deleted: 1, office_months: Some(2) });
    assert_eq!(shared_event_ids(&client, "p1").await, ["e01"]);
    // What the office's rule no longer keeps is not shared again by a desk that keeps longer.
    assert_eq!(anna.share_events("l1", &events).await.unwrap(), 0);
    assert_eq!(shared_event_ids(&client, "p1").await, ["e01"]);
    // Another partner's archive is not touched by this one's rule.
    assert_eq!(shared_event_ids(&client, "p2").await, ["theirs"]);

    // A desk not heard from for over 35 days (it left the office) no longer counts.
    client
        .execute("UPDATE team_retention SET seen_at = now() - interval '40 days' WHERE months = 2", &[])
        .await
        .unwrap();
    let purge = anna.purge_shared_events(Some(12)).await.unwrap();
    assert_eq!(purge.office_months, Some(12));
    assert_eq!(anna.share_events("l1", &events[1..2]).await.unwrap(), 1, "5 months old: kept by the office again");

    // "Delete all local history" with the office's copy: this partner's shared events all go.
    assert_eq!(bjorn.delete_shared_events().await.unwrap(), 2);
    assert!(shared_event_ids(&client, "p1").await.is_empty());
    assert_eq!(shared_event_ids(&client, "p2").await, ["theirs"]);
}

#[tokio::test]
async fn a_column_of_an_unexpected_type_is_an_error_naming_it_not_a_panic() {
    let Some(server) = server() else { return };
    let (_, _, store, client) = desk_with_a_created_key(&server, "k1").await;
    // Another program changed the shared schema under the app.
    client.batch_execute("ALTER TABLE team_keys ALTER COLUMN quiet_checks TYPE bigint").await.unwrap();
    let error = store.key("k1").await.unwrap_err();
    assert_eq!(error.problem, TeamProblem::Other);
    assert!(error.to_string().contains("quiet_checks"), "{error}");
    assert!(store.keys(None).await.is_err());
}
