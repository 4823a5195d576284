//! People: a name for a phone number, shown in a lock's keys and history and the keys list, found by
//! search, picked in the key form, imported from a file; a person's page, and "revoke all" with each
//! key's result checked against the simulator's request log and key states.

use std::time::Duration;

use fantoccini::Client;
use serde_json::json;

use unloc_sim::{fixtures, Fault, FaultRule, Route, SimConfig};

use crate::accessibility::{axe_source, axe_violations};
use crate::harness::*;

pub(crate) async fn add_person(client: &Client, name: &str, phone: &str, note: &str) -> TestResult {
    click(client, "#nav-people").await?;
    wait_visible(client, "#people-view").await?;
    click(client, "#people-add").await?;
    fill(client, "#person-name", name).await?;
    fill(client, "#person-phone", phone).await?;
    fill(client, "#person-note", note).await?;
    click(client, "#person-save").await?;
    wait_for_js(
        client,
        "the person's page",
        &format!("return document.querySelector('#person-title')?.textContent === {}", json!(name)),
    )
    .await?;
    Ok(())
}

pub(crate) async fn open_person(client: &Client, search: &str) -> TestResult {
    click(client, "#nav-people").await?;
    wait_visible(client, "#people-view").await?;
    fill(client, "#people-search", search).await?;
    click(client, "#people-view tr[data-person-id] .person-name").await?;
    wait_visible(client, "#person-view").await?;
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn people_have_names_everywhere_and_all_their_keys_can_be_revoked() -> TestResult {
    let config = SimConfig {
        lockout_after: 0,
        hostile_lock: false,
        locks: 20,
        key_provisioning: Duration::from_millis(300),
        ..SimConfig::default()
    };
    scenario("people", config)
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_visible(client, "#locks-view").await?;

            // An empty directory says what to do.
            click(client, "#nav-people").await?;
            visible_text(client, "#people-empty").await?;
            add_person(client, "Kari Nordmann", "900 00 021", "Team Nord").await?;
            let details = text_of(client, "#person-details").await?;
            ensure!(details.contains("+47 900 00 021") && details.contains("Team Nord"), "details: {details}");

            // The key form offers her; her name shows on the key and, once she used it, in the history.
            open_lock(client, fixtures::HJEMME_LOCK_ID, fixtures::HJEMME_NAME).await?;
            click(client, "#new-key").await?;
            let picked = client.execute(
                "const select = document.querySelector('#key-person');
                 const option = [...select.options].find((o) => o.textContent.startsWith('Kari Nordmann'));
                 select.value = option.value; select.dispatchEvent(new Event('change'));
                 return document.querySelector('#key-msn').value;", vec![]).await?;
            ensure!(picked == json!("+47 900 00 021"), "picking Kari filled in {picked}");
            ensure!(visible_text(client, "#key-msn-person").await?.contains("Kari Nordmann"), "the form did not say whose number");
            click(client, "#key-submit").await?;
            let first = wait_for_key(sim, "+4790000021").await?;
            wait_key_status(client, &first, "active").await?;
            let recipient = text_of(client, &format!("#lock-keys tr[data-key-id=\"{first}\"] .key-recipient")).await?;
            ensure!(recipient.contains("Kari Nordmann") && recipient.contains("+47 900 00 021"), "recipient: {recipient}");
            sim.use_key(&first, "unlocked")?;
            click(client, "#lock-view [data-ref=\"refresh\"]").await?;
            wait_for_js(client, "Kari's name in the history", "return [...document.querySelectorAll('#lock-view tr[data-event-id] .event-who')].some((td) => td.textContent === 'Kari Nordmann')").await?;
            fill(client, "#events-search", "nordmann").await?;
            wait_for_js(client, "the history found by her name", "return document.querySelectorAll('#lock-view tr[data-event-id]').length === 1").await?;
            screenshot(client, "view-lock-named").await?;

            // Two more keys of hers: one the owner revokes in the Unloc app meanwhile.
            open_lock(client, fixtures::HOVEDINNGANG_LOCK_ID, fixtures::HOVEDINNGANG_NAME).await?;
            click(client, "#new-key").await?;
            fill(client, "#key-msn", "900 00 021").await?;
            click(client, "#key-submit").await?;
            let second = new_key_of_kari(sim, &[first.as_str()]).await?;
            wait_key_status(client, &second, "active").await?;
            open_lock(client, fixtures::UUID_LOCK_ID, fixtures::UUID_LOCK_NAME).await?;
            click(client, "#new-key").await?;
            fill(client, "#key-msn", "90000021").await?;
            click(client, "#key-submit").await?;
            let third = new_key_of_kari(sim, &[first.as_str(), second.as_str()]).await?;
            wait_key_status(client, &third, "awaitingApproval").await?;
            ensure!(sim.owner_revoke_key(&second), "the simulator refused the owner's revoke");

            // The keys list names her and finds her keys by her name.
            click(client, "#nav-keys").await?;
            fill(client, "#keys-search", "kari").await?;
            wait_for_js(client, "her three keys by name", "return document.querySelectorAll('#keys-view tr[data-key-id]').length === 3").await?;
            click(client, "#nav-awaiting").await?;
            let waiting = visible_text(client, &format!("#awaiting-view tr[data-key-id=\"{third}\"] .key-recipient")).await?;
            ensure!(waiting.contains("Kari Nordmann"), "awaiting approval shows {waiting}");

            // Her page: her keys and the visit.
            open_person(client, "team nord").await?;
            wait_for_js(client, "her three keys", "return document.querySelectorAll('#person-keys tr[data-key-id]').length === 3").await?;
            wait_for_js(client, "her visit", "return document.querySelectorAll('#person-events tr[data-event-id]').length === 1").await?;
            screenshot(client, "view-person").await?;
            let axe = axe_source()?;
            let violations = axe_violations(client, &axe).await?;
            ensure!(violations.is_empty(), "a person's page: {violations:?}");

            // Revoke all: the question lists each key; the first DELETE meets a server error.
            sim.add_fault(FaultRule::times(Route::KeysDelete, Fault::Status { code: 500, body: None, retry_after: None }, 1));
            sim.clear_requests();
            click(client, "#person-revoke-all").await?;
            wait_visible(client, "#confirm-dialog").await?;
            let listed = client.execute("return [...document.querySelectorAll('#confirm-body li[data-key-id]')].map((li) => li.dataset.keyId).sort()", vec![]).await?;
            let mut ids = vec![first.clone(), second.clone(), third.clone()];
            ids.sort();
            ensure!(listed == json!(ids), "the question listed {listed}");
            screenshot(client, "view-person-revoke-confirm").await?;
            click(client, "#confirm-yes").await?;
            wait_for_js(client, "a result per key", "return document.querySelectorAll('#person-revoke-results li[data-outcome]').length === 3").await?;
            let outcomes = client.execute("return Object.fromEntries([...document.querySelectorAll('#person-revoke-results li')].map((li) => [li.dataset.keyId, [li.dataset.outcome, li.textContent]]))", vec![]).await?;
            let outcome = |id: &str| outcomes[id][0].as_str().unwrap_or_default().to_owned();
            let failed: Vec<&String> = ids.iter().filter(|id| outcome(id) == "failed").collect();
            ensure!(failed.len() == 1, "one key should fail (the injected 500): {outcomes}");
            ensure!(outcomes[failed[0].as_str()][1].as_str().unwrap_or_default().contains("Unloc"), "the failure says why: {outcomes}");
            for id in ids.iter().filter(|id| *id != failed[0]) {
                let expected = if *id == second { "alreadyRevoked" } else { "revoked" };
                ensure!(outcome(id) == expected, "{id} should be {expected}: {outcomes}");
            }
            for id in &ids {
                let state = sim.key(id).map(|key| key.state.as_str().to_owned()).unwrap_or_default();
                let expected = if id == failed[0] && id != &second { "not revoked" } else { "revoked" };
                ensure!((state == "revoked") == (expected == "revoked"), "{id}: simulator says {state}, expected {expected}");
            }
            let deletes = sim.requests().iter().filter(|request| request.route == Some(Route::KeysDelete)).count();
            ensure!(deletes == 3, "one DELETE per key, no retry: {deletes}");
            screenshot(client, "view-person-revoked").await?;
            let violations = axe_violations(client, &axe).await?;
            ensure!(violations.is_empty(), "a person's page after revoke all: {violations:?}");

            // Import from a file (the OS dialog cannot be driven: the command takes the path).
            let csv = scenario.home.join("people.csv");
            // A name typed by someone else is text, never markup (every payload sets window.__pwned).
            let hostile = fixtures::HOSTILE_PERSON_NAME.replace('"', "'");
            std::fs::write(&csv, format!("Navn;Mobil;Team\n{hostile};911 11 121;<b>Sør</b>\nOla igjen;91111121;\nPer;123;\n;92222121;\n"))?;
            let preview = invoke(client, "preview_people_import", json!({ "path": csv })).await?;
            ensure!(preview["ok"]["ready"] == json!(1) && preview["ok"]["skippedCount"] == json!(3), "preview: {preview}");
            let not_a_sheet = scenario.home.join("photo.xlsx");
            std::fs::write(&not_a_sheet, b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")?;
            let refused = invoke(client, "import_people", json!({ "path": not_a_sheet })).await?;
            ensure!(refused["error"]["kind"] == json!("invalidInput") && refused["error"]["field"] == json!("file"), "not a spreadsheet: {refused}");
            let imported = invoke(client, "import_people", json!({ "path": csv })).await?;
            ensure!(imported["ok"]["imported"] == json!(1), "import: {imported}");
            click(client, "#nav-people").await?;
            fill(client, "#people-search", "").await?;
            wait_for_js(client, "the imported person", "return document.querySelectorAll('#people-view tr[data-person-id]').length === 2").await?;
            let names = client.execute("return [...document.querySelectorAll('#people-view .person-name')].map((td) => td.textContent)", vec![]).await?;
            ensure!(names.as_array().is_some_and(|names| names.contains(&json!(hostile))), "the hostile name is not shown as text: {names}");
            ensure!(text_of(client, "#people-view").await?.contains("<b>Sør</b>"), "the note is not shown as text");
            assert_nothing_executed(client).await?;
            let violations = axe_violations(client, &axe).await?;
            ensure!(violations.is_empty(), "People: {violations:?}");
            screenshot(client, "view-people").await?;
            Ok(())
        })
        .await
}

/// The id of a key for Kari's number other than `known`.
async fn new_key_of_kari(sim: &unloc_sim::Simulator, known: &[&str]) -> TestResult<String> {
    for _ in 0..100 {
        let found = sim
            .keys()
            .into_iter()
            .find(|key| key.msn.as_deref() == Some("+4790000021") && !known.contains(&key.id.as_str()));
        if let Some(key) = found {
            return Ok(key.id);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("no new key for +4790000021 reached the simulator".into())
}
