//! Keys over real sockets: `POST /keys`, `GET /keys/{id}`, `DELETE /keys/{id}`, the clock-driven state
//! machine, the owner's decisions and simulated use through `/__admin/keys`, and faults on the key routes.
//! Raw HTTP/1.1 written by hand, as in `sim_http.rs`; waits poll with a limit, never sleep a fixed time.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unloc_sim::{fixtures as fx, Approval, FaultRule, KeyState, PendingApprovalState, Route, SimConfig, Simulator};

mod common;
use common::{encode_segment, eventually};

/// Short, so the tests see keys leave `creating` quickly.
const PROVISIONING: Duration = Duration::from_millis(200);
/// Generous: a loaded 2-core machine may be slow, and the loops end as soon as the condition holds.
const LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// One request on a fresh connection; `None` when the server closed without answering.
async fn send(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<Reply> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\n", body.len());
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await.expect("an answer in 30 s");
    if buf.is_empty() {
        return None;
    }
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = std::str::from_utf8(&buf[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap()[9..12].parse().unwrap();
    let headers = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_owned(), v.trim().to_owned())
        })
        .collect();
    Some(Reply { status, headers, body: buf[split + 4..].to_vec() })
}

/// An authorized API call under the partner base, with a body of the given content type.
async fn api(sim: &Simulator, method: &str, tail: &str, content_type: &str, body: &str) -> Option<Reply> {
    let auth = format!("Bearer {}", sim.token());
    let path = format!("/v1/partners/{}{tail}", sim.partner_id());
    let headers = [("Authorization", auth.as_str()), ("Accept", "application/json"), ("Content-Type", content_type)];
    send(sim.addr(), method, &path, &headers, body).await
}

async fn post_keys(sim: &Simulator, body: &Value) -> Reply {
    api(sim, "POST", "/keys", "application/json", &body.to_string()).await.expect("an answer")
}

async fn get_key(sim: &Simulator, id: &str) -> Reply {
    api(sim, "GET", &format!("/keys/{id}"), "application/json", "").await.expect("an answer")
}

async fn delete_key(sim: &Simulator, id: &str) -> Reply {
    api(sim, "DELETE", &format!("/keys/{id}"), "application/json", "").await.expect("an answer")
}

async fn state_of(sim: &Simulator, id: &str) -> String {
    let r = get_key(sim, id).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["state"].as_str().unwrap().to_owned()
}

async fn admin(sim: &Simulator, method: &str, path: &str, body: &str) -> Reply {
    send(sim.addr(), method, path, &[], body).await.expect("an answer")
}

async fn wait_for_state(sim: &Simulator, id: &str, want: &str) {
    let reached = eventually(LIMIT, || async { state_of(sim, id).await == want }).await;
    assert!(reached, "key {id} never became {want}; it is {}", state_of(sim, id).await);
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn from_now(ms: i64) -> String {
    ts(Utc::now() + TimeDelta::milliseconds(ms))
}

/// The tests' base configuration: a small dataset and a short provisioning delay.
fn config() -> SimConfig {
    SimConfig { locks: 12, key_provisioning: PROVISIONING, ..SimConfig::default() }
}

async fn start(config: SimConfig) -> Simulator {
    unloc_sim::start(config).await.unwrap()
}

async fn sim() -> Simulator {
    start(config()).await
}

/// Creates a key and returns its id (asserting 202).
async fn create(sim: &Simulator, lock_id: &str, start: &str, end: Option<&str>) -> String {
    let mut body = json!({ "lockId": lock_id, "msn": "+4790000000", "start": start });
    if let Some(end) = end {
        body["end"] = json!(end);
    }
    let r = post_keys(sim, &body).await;
    assert_eq!(r.status, 202, "{}", r.text());
    r.json()["id"].as_str().unwrap().to_owned()
}

/// The keys of a JSON object, sorted (whatever order serde_json keeps them in).
fn field_names(v: &Value) -> Vec<&str> {
    let mut names: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    names.sort_unstable();
    names
}

fn assert_key_id(id: &str) {
    assert_eq!(id.len(), 36, "{id}");
    assert_eq!(id.split('-').map(str::len).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
    assert!(id.chars().all(|c| c == '-' || c.is_ascii_digit() || ('a'..='f').contains(&c)), "{id}");
}

// ------------------------------------------------------------------------------------------------
// Create, read, the state machine

#[tokio::test]
async fn an_opt_out_key_is_creating_then_active() {
    let sim = start(SimConfig { key_provisioning: Duration::from_millis(800), ..config() }).await;
    let started = Instant::now();
    let r =
        post_keys(&sim, &json!({"lockId": fx::HJEMME_LOCK_ID, "msn": "+4790000000", "start": from_now(-60_000)})).await;
    assert_eq!(r.status, 202);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    let body = r.json();
    assert_eq!(body.as_object().unwrap().keys().collect::<Vec<_>>(), ["id"], "no appSwitchUrl without returnUrl");
    let id = body["id"].as_str().unwrap().to_owned();
    assert_key_id(&id);

    let first = get_key(&sim, &id).await;
    // Only meaningful while the (slow-ish) provisioning surely lasts; on a very slow machine it is skipped.
    if started.elapsed() < Duration::from_millis(700) {
        assert_eq!(first.json()["state"], "creating");
    }
    wait_for_state(&sim, &id, "active").await;
    // The provisioning delay was respected.
    assert!(started.elapsed() >= Duration::from_millis(800));

    let v = get_key(&sim, &id).await.json();
    assert_eq!(field_names(&v), ["end", "events", "id", "lockId", "start", "state"]);
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["lockId"], fx::HJEMME_LOCK_ID);
    assert_eq!(v["end"], Value::Null, "open-ended");
    assert_eq!(v["events"], json!([]));
    let start = v["start"].as_str().unwrap();
    assert_eq!((start.len(), &start[19..20], start.ends_with('Z')), (24, ".", true), "{start}");

    let keys = sim.keys();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0].id, id);
    assert_eq!((keys[0].state, keys[0].approval, keys[0].usable), (KeyState::Active, Approval::Approved, true));
    assert_eq!(keys[0].msn.as_deref(), Some("+4790000000"));
    assert_eq!(sim.key(&id), Some(keys[0].clone()));
}

#[tokio::test]
async fn a_future_start_is_scheduled_then_active_and_a_passed_end_expired() {
    let sim = sim().await;
    // Starts 2.5 s from now: scheduled once provisioned (0.2 s), active at the start.
    let later = create(&sim, fx::HOVEDINNGANG_LOCK_ID, &from_now(2_500), None).await;
    // Already started, ends 2.5 s from now: active once provisioned, then expired.
    let ending = create(&sim, fx::HJEMME_LOCK_ID, &from_now(-60_000), Some(&from_now(2_500))).await;
    wait_for_state(&sim, &later, "scheduled").await;
    wait_for_state(&sim, &ending, "active").await;
    wait_for_state(&sim, &later, "active").await;
    wait_for_state(&sim, &ending, "expired").await;
    let v = get_key(&sim, &ending).await.json();
    assert!(v["end"].as_str().unwrap().ends_with('Z'));
    // Expired is terminal: revoking it is a conflict, and it stays expired.
    assert_eq!(delete_key(&sim, &ending).await.status, 409);
    assert_eq!(state_of(&sim, &ending).await, "expired");
    assert!(!sim.owner_revoke_key(&ending));

    // A window that ended before it was even created: creating, then straight to expired.
    let past = create(&sim, fx::HJEMME_LOCK_ID, &from_now(-120_000), Some(&from_now(-60_000))).await;
    wait_for_state(&sim, &past, "expired").await;
}

#[tokio::test]
async fn an_opt_in_key_waits_for_the_owner() {
    let sim = sim().await;
    let id = create(&sim, fx::UUID_LOCK_ID, &from_now(-60_000), None).await;
    // Past the provisioning delay it is still creating: the owner has not approved.
    let provisioned = eventually(LIMIT, || async {
        sim.key(&id).is_some_and(|k| Utc::now() > k.created + TimeDelta::milliseconds(250))
    })
    .await;
    assert!(provisioned);
    assert_eq!(state_of(&sim, &id).await, "creating");
    let pending = sim.key(&id).unwrap();
    assert_eq!((pending.approval, pending.usable), (Approval::Pending, false));
    // Nobody can use it yet.
    let used = admin(&sim, "POST", &format!("/__admin/keys/{id}/use"), "").await;
    assert_eq!(used.status, 409, "{}", used.text());
    assert_eq!(used.json()["error"], "conflict");
    assert!(sim.use_key(&id, "unlocked").is_err());

    let approved = admin(&sim, "POST", &format!("/__admin/keys/{id}/approve"), "").await;
    assert_eq!(approved.status, 200, "{}", approved.text());
    assert_eq!(approved.json()["key"]["approval"], "approved");
    assert_eq!(state_of(&sim, &id).await, "active");
    // Decided once: approving or refusing again is a conflict.
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{id}/approve"), "").await.status, 409);
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{id}/refuse"), "").await.status, 409);
    assert!(!sim.approve_key(&id));
    assert_eq!(sim.use_key(&id, "unlocked"), Ok(()));

    // A refusal revokes the key.
    let refused = create(&sim, fx::SLASH_LOCK_ID, &from_now(-60_000), None).await;
    let r = admin(&sim, "POST", &format!("/__admin/keys/{refused}/refuse"), "").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["key"]["state"], "revoked");
    assert_eq!(state_of(&sim, &refused).await, "revoked");
    assert!(!sim.approve_key(&refused));
    assert_eq!(delete_key(&sim, &refused).await.status, 409, "already revoked");

    // Opt-out keys are approved at creation: nothing to approve.
    let opt_out = create(&sim, fx::HJEMME_LOCK_ID, &from_now(0), None).await;
    assert_eq!(sim.key(&opt_out).unwrap().approval, Approval::Approved);
    assert!(!sim.approve_key(&opt_out));
    // And the library approves too.
    let lib = create(&sim, fx::HOSTILE_LOCK_ID, &from_now(-1_000), None).await;
    assert!(sim.approve_key(&lib));
    wait_for_state(&sim, &lib, "active").await;
    let refused_lib = create(&sim, fx::HOSTILE_LOCK_ID, &from_now(-1_000), None).await;
    assert!(sim.refuse_key(&refused_lib));
    assert_eq!(sim.key(&refused_lib).unwrap().state, KeyState::Revoked);
}

#[tokio::test]
async fn scheduled_active_reporting_shows_the_clock_while_unusable() {
    let sim = start(SimConfig { pending_approval_state: PendingApprovalState::ScheduledActive, ..config() }).await;
    let now_key = create(&sim, fx::UUID_LOCK_ID, &from_now(-60_000), None).await;
    let later_key = create(&sim, fx::UUID_LOCK_ID, &from_now(3_600_000), None).await;
    wait_for_state(&sim, &now_key, "active").await;
    wait_for_state(&sim, &later_key, "scheduled").await;
    // Reported active, but the owner has not approved: not usable.
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{now_key}/use"), "").await.status, 409);
    let listed = admin(&sim, "GET", "/__admin/keys", "").await.json();
    let k = &listed["keys"][0];
    assert_eq!(
        (k["state"].as_str(), k["approval"].as_str(), k["usable"].as_bool()),
        (Some("active"), Some("pending"), Some(false))
    );
    assert!(sim.approve_key(&now_key));
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{now_key}/use"), "").await.status, 200);
}

// ------------------------------------------------------------------------------------------------
// Revoke

#[tokio::test]
async fn revoke_once_then_conflict_and_still_readable() {
    let sim = sim().await;
    let id = create(&sim, fx::HJEMME_LOCK_ID, &from_now(-60_000), None).await;
    wait_for_state(&sim, &id, "active").await;
    let r = delete_key(&sim, &id).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({"response": "OK"}));
    let again = delete_key(&sim, &id).await;
    assert_eq!(again.status, 409);
    assert_eq!(again.json()["error"], "conflict");
    let v = get_key(&sim, &id).await.json();
    assert_eq!((v["id"].as_str(), v["state"].as_str()), (Some(id.as_str()), Some("revoked")));
    // A revoked key cannot be used.
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{id}/use"), "").await.status, 409);

    // Revocable while still creating, too.
    let fresh = create(&sim, fx::HJEMME_LOCK_ID, &from_now(0), None).await;
    assert_eq!(delete_key(&sim, &fresh).await.status, 200);
    assert_eq!(state_of(&sim, &fresh).await, "revoked");

    let unknown = "117ec32d-5ac3-422b-82de-cbb64540bffd";
    assert_eq!(delete_key(&sim, unknown).await.status, 404);
    let missing = get_key(&sim, unknown).await;
    assert_eq!((missing.status, missing.json()["error"].as_str()), (404, Some("not_found")));
}

// ------------------------------------------------------------------------------------------------
// Validation and errors

#[tokio::test]
async fn bad_bodies_unknown_and_broken_locks_create_nothing() {
    let sim = sim().await;
    let start = from_now(0);
    let cases: Vec<(u16, String)> = vec![
        (400, json!({"lockId": fx::HJEMME_LOCK_ID, "start": start}).to_string()),
        (400, "{\"lockId\": ".to_owned()),
        (400, "[]".to_owned()),
        (400, String::new()),
        (400, json!({"msn": null, "start": start}).to_string()),
        (400, json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null}).to_string()),
        (400, json!({"lockId": fx::HJEMME_LOCK_ID, "msn": 4790000000_u64, "start": start}).to_string()),
        (400, json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null, "start": "tomorrow"}).to_string()),
        (422, json!({"lockId": fx::HJEMME_LOCK_ID, "msn": "90000000", "start": start}).to_string()),
        (422, json!({"lockId": fx::HJEMME_LOCK_ID, "msn": "+47 900 00 000", "start": start}).to_string()),
        (422, json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null, "start": start, "end": from_now(-1_000)}).to_string()),
        (422, json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null, "start": start, "end": start}).to_string()),
        (404, json!({"lockId": "danalock-ff:ff:ff:ff:ff:fe", "msn": null, "start": start}).to_string()),
        (403, json!({"lockId": fx::BROKEN_VENDOR_LOCK_ID, "msn": null, "start": start}).to_string()),
    ];
    for (want, body) in &cases {
        let r = api(&sim, "POST", "/keys", "application/json", body).await.unwrap();
        assert_eq!(r.status, *want, "{body} → {}", r.text());
        assert!(r.json()["message"].is_string());
    }
    assert!(sim.keys().is_empty(), "no failed request creates a key");
    // The broken-vendor lock is listed and has a history: only key creation fails.
    assert!(sim.locks().iter().any(|l| l.id == fx::BROKEN_VENDOR_LOCK_ID && l.name == fx::BROKEN_VENDOR_LOCK_NAME));
    let events = format!("/locks/{}/events", encode_segment(fx::BROKEN_VENDOR_LOCK_ID));
    assert_eq!(api(&sim, "GET", &events, "application/json", "").await.unwrap().status, 200);
    let log = sim.requests();
    assert!(log.iter().all(|r| r.route == Some(Route::KeysCreate) || r.route == Some(Route::Events)));
    assert_eq!(log[cases.len() - 1].lock_id.as_deref(), Some(fx::BROKEN_VENDOR_LOCK_ID));
    assert_eq!(log[cases.len() - 1].key_id, None);
}

#[tokio::test]
async fn keys_routes_check_auth_method_and_accept() {
    let sim = sim().await;
    let body = json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null, "start": from_now(0)}).to_string();
    let path = format!("/v1/partners/{}/keys", sim.partner_id());
    let no_token = send(sim.addr(), "POST", &path, &[("Content-Type", "application/json")], &body).await.unwrap();
    assert_eq!(no_token.status, 401);
    let html_only = send(
        sim.addr(),
        "POST",
        &path,
        &[("Authorization", &format!("Bearer {}", sim.token())), ("Accept", "text/html")],
        &body,
    )
    .await
    .unwrap();
    assert_eq!(html_only.status, 406);
    assert!(sim.keys().is_empty());
    let put = api(&sim, "PUT", "/keys/abc", "application/json", "").await.unwrap();
    assert_eq!((put.status, put.header("allow")), (405, Some("GET, DELETE")));
    let other_partner = send(
        sim.addr(),
        "GET",
        "/v1/partners/someone-else/keys/abc",
        &[("Authorization", &format!("Bearer {}", sim.token()))],
        "",
    )
    .await
    .unwrap();
    assert_eq!(other_partner.status, 401);
}

#[tokio::test]
async fn a_form_encoded_body_is_accepted() {
    let sim = sim().await;
    let form = format!(
        "lockId={}&msn=%2B4790000000&start={}&route=tur+1&returnUrl=myapp%3A%2F%2F",
        encode_segment(fx::HJEMME_LOCK_ID),
        encode_segment(&from_now(-60_000))
    );
    let r = api(&sim, "POST", "/keys", "application/x-www-form-urlencoded", &form).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    let id = r.json()["id"].as_str().unwrap().to_owned();
    let key = sim.key(&id).unwrap();
    assert_eq!(key.lock_id, fx::HJEMME_LOCK_ID);
    assert_eq!(key.msn.as_deref(), Some("+4790000000"));
    assert_eq!(key.route.as_deref(), Some("tur 1"));
    assert_eq!(key.end, None);
    assert!(r.json()["appSwitchUrl"].as_str().unwrap().contains("&r=myapp://&"));
    // A form says "null" with an empty value; the field must still be there.
    let partner_key =
        format!("lockId={}&msn=&start={}", encode_segment(fx::HJEMME_LOCK_ID), encode_segment(&from_now(0)));
    let r = api(&sim, "POST", "/keys", "application/x-www-form-urlencoded", &partner_key).await.unwrap();
    assert_eq!(r.status, 202, "{}", r.text());
    assert_eq!(sim.key(r.json()["id"].as_str().unwrap()).unwrap().msn, None);
    let no_msn = format!("lockId={}&start={}", encode_segment(fx::HJEMME_LOCK_ID), encode_segment(&from_now(0)));
    assert_eq!(api(&sim, "POST", "/keys", "application/x-www-form-urlencoded", &no_msn).await.unwrap().status, 400);
}

#[tokio::test]
async fn app_switch_url_is_signed_with_the_hmac_secret() {
    let sim = start(SimConfig { partner_id: "partner-x".into(), hmac_secret: "secret-123".into(), ..config() }).await;
    assert_eq!(sim.hmac_secret(), "secret-123");
    let r = post_keys(
        &sim,
        &json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null, "start": from_now(0), "returnUrl": "myapp://"}),
    )
    .await;
    assert_eq!(r.status, 202);
    let v = r.json();
    let id = v["id"].as_str().unwrap();
    let url = v["appSwitchUrl"].as_str().unwrap();
    let (prefix, s) = url.split_once("&s=").unwrap();
    assert_eq!(prefix, format!("ai.unloc.pro://use-key?id={id}&r=myapp://&n=partner-x"));
    assert_eq!(s, unloc_sim::app_switch_signature("secret-123", id, "myapp://", "partner-x"));
    assert_eq!(s.len(), 64);
    assert!(s.chars().all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c)));
    assert_eq!(url, unloc_sim::app_switch_url("secret-123", id, "myapp://", "partner-x"));
    // The documented test vector, through the public function.
    assert_eq!(
        unloc_sim::app_switch_signature("secret-123", "117ec32d-5ac3-422b-82de-cbb64540bffd", "myapp://", "partner-x"),
        "ebc6e66ede297d1db0668b3564b9131fd9ec698bea3a8a84e68b011de2eee08a"
    );
    // The default secret is derived from the seed.
    let default = start(config()).await;
    assert_eq!(default.hmac_secret(), unloc_sim::default_hmac_secret(1));
}

// ------------------------------------------------------------------------------------------------
// Use and events

#[tokio::test]
async fn use_adds_an_event_seen_in_the_lock_history_and_the_key() {
    let sim = sim().await;
    let events_tail = format!("/locks/{}/events", encode_segment(fx::HJEMME_LOCK_ID));
    let before = api(&sim, "GET", &events_tail, "application/json", "").await.unwrap().json();
    let before = before["events"].as_array().unwrap().clone();
    assert_eq!(before.len(), 30);

    let id = create(&sim, fx::HJEMME_LOCK_ID, &from_now(-60_000), None).await;
    wait_for_state(&sim, &id, "active").await;
    let r = admin(
        &sim,
        "POST",
        &format!("/__admin/keys/{id}/use"),
        r#"{"action":"unlocked","name":"Ola Nordmann","msn":"+4791111111"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let event = r.json()["event"].clone();
    assert_eq!(event["keyId"], id.as_str());
    sim.use_key(&id, "locked").unwrap();

    // E7: both at the end, oldest first, fresh ids, this key's id.
    let after = api(&sim, "GET", &events_tail, "application/json", "").await.unwrap().json();
    let after = after["events"].as_array().unwrap().clone();
    assert_eq!(after.len(), 32);
    assert_eq!(after[..30], before[..]);
    let (first, second) = (&after[30], &after[31]);
    assert_eq!(first, &event);
    assert_eq!(
        (first["keyId"].as_str(), first["action"].as_str(), first["name"].as_str(), first["msn"].as_str()),
        (Some(id.as_str()), Some("unlocked"), Some("Ola Nordmann"), Some("+4791111111"))
    );
    assert_eq!(
        (second["keyId"].as_str(), second["action"].as_str(), second["name"].as_str(), second["msn"].as_str()),
        (Some(id.as_str()), Some("locked"), Some(unloc_sim::DEFAULT_KEY_USER_NAME), Some("+4790000000"))
    );
    assert!(before.iter().all(|e| e["id"] != first["id"] && e["id"] != second["id"]));
    assert_ne!(first["id"], second["id"]);
    let created = |e: &Value| e["created"].as_str().unwrap().parse::<DateTime<Utc>>().unwrap();
    assert!(created(&before[29]) <= created(first) && created(first) <= created(second));
    // The library's view is what was served.
    let served: unloc_sim::EventsBody = serde_json::from_value(json!({ "events": after })).unwrap();
    assert_eq!(Some(served.events), sim.events(fx::HJEMME_LOCK_ID));

    // E3: the same two, without id and keyId.
    let key = get_key(&sim, &id).await.json();
    let embedded = key["events"].as_array().unwrap();
    assert_eq!(embedded.len(), 2);
    for (e, full) in embedded.iter().zip([first, second]) {
        let fields = field_names(e);
        assert_eq!(fields, ["action", "created", "msn", "name"]);
        for f in fields {
            assert_eq!(e[f], full[f]);
        }
    }

    // A partner key (msn null) is used through Unloc Work: the partner's name, msn "".
    let r = post_keys(&sim, &json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null, "start": from_now(-1_000)})).await;
    let partner_key = r.json()["id"].as_str().unwrap().to_owned();
    wait_for_state(&sim, &partner_key, "active").await;
    let r = admin(&sim, "POST", &format!("/__admin/keys/{partner_key}/use"), "").await;
    assert_eq!(r.status, 200);
    let e = &r.json()["event"];
    assert_eq!(
        (e["name"].as_str(), e["msn"].as_str(), e["action"].as_str()),
        (Some(fx::DEFAULT_PARTNER_NAME), Some(""), Some("unlocked"))
    );
    // Only the partner key's own event is embedded in its details.
    assert_eq!(get_key(&sim, &partner_key).await.json()["events"].as_array().unwrap().len(), 1);
    // Another lock's history is untouched.
    let other = format!("/locks/{}/events", encode_segment(fx::EMPTY_EVENTS_LOCK_ID));
    assert_eq!(api(&sim, "GET", &other, "application/json", "").await.unwrap().json(), json!({"events": []}));
}

#[tokio::test]
async fn use_refuses_keys_that_cannot_open() {
    let use_path = |id: &str| format!("/__admin/keys/{id}/use");
    // Provisioning that outlasts the test: the key is surely still creating.
    let slow = start(SimConfig { key_provisioning: Duration::from_secs(600), ..config() }).await;
    let creating = create(&slow, fx::HJEMME_LOCK_ID, &from_now(-60_000), None).await;
    let r = admin(&slow, "POST", &use_path(&creating), "").await;
    assert_eq!(r.status, 409);
    assert!(r.json()["message"].as_str().unwrap().contains("creating"), "{}", r.text());
    assert!(slow.fail_key(&creating));
    assert_eq!(state_of(&slow, &creating).await, "error");
    assert_eq!(admin(&slow, "POST", &use_path(&creating), "").await.status, 409);

    let sim = sim().await;
    let scheduled = create(&sim, fx::HJEMME_LOCK_ID, &from_now(3_600_000), None).await;
    wait_for_state(&sim, &scheduled, "scheduled").await;
    let r = admin(&sim, "POST", &use_path(&scheduled), "").await;
    assert_eq!(r.status, 409);
    assert!(r.json()["message"].as_str().unwrap().contains("scheduled"), "{}", r.text());
    assert_eq!(admin(&sim, "POST", &use_path("no-such-key"), "").await.status, 404);
    assert_eq!(admin(&sim, "POST", &use_path(&scheduled), "{not json").await.status, 400);
    assert_eq!(sim.use_key("no-such-key", "unlocked").unwrap_err(), "key not found");
}

// ------------------------------------------------------------------------------------------------
// Admin endpoints

#[tokio::test]
async fn admin_key_endpoints() {
    let sim = sim().await;
    let a = create(&sim, fx::UUID_LOCK_ID, &from_now(-60_000), Some(&from_now(3_600_000))).await;
    let b = create(&sim, fx::HJEMME_LOCK_ID, &from_now(-60_000), None).await;
    let listed = admin(&sim, "GET", "/__admin/keys", "").await;
    assert_eq!(listed.status, 200);
    let keys = listed.json()["keys"].as_array().unwrap().clone();
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["id"], a.as_str());
    assert_eq!(keys[0]["lockId"], fx::UUID_LOCK_ID);
    assert_eq!(keys[0]["approval"], "pending");
    assert_eq!(keys[0]["msn"], "+4790000000");
    assert!(keys[0]["end"].is_string());
    assert_eq!(keys[1]["approval"], "approved");
    assert_eq!(keys[1]["end"], Value::Null);
    let one = admin(&sim, "GET", &format!("/__admin/keys/{b}"), "").await;
    assert_eq!(one.json()["key"]["id"], b.as_str());

    // The owner revokes; failures end in error; both terminal.
    let r = admin(&sim, "POST", &format!("/__admin/keys/{a}/revoke"), "").await;
    assert_eq!((r.status, r.json()["key"]["state"].as_str()), (200, Some("revoked")));
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{a}/revoke"), "").await.status, 409);
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{a}/approve"), "").await.status, 409);
    assert_eq!(delete_key(&sim, &a).await.status, 409);
    let r = admin(&sim, "POST", &format!("/__admin/keys/{b}/fail"), "").await;
    assert_eq!((r.status, r.json()["key"]["state"].as_str()), (200, Some("error")));
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{b}/fail"), "").await.status, 409);
    assert_eq!(state_of(&sim, &b).await, "error");
    assert!(!sim.owner_revoke_key(&b));
    assert!(!sim.fail_key(&b));

    let c = create(&sim, fx::HJEMME_LOCK_ID, &from_now(-60_000), None).await;
    assert!(sim.owner_revoke_key(&c));
    assert_eq!(sim.key(&c).unwrap().state, KeyState::Revoked);

    assert_eq!(admin(&sim, "POST", "/__admin/keys/nope/approve", "").await.status, 404);
    assert_eq!(admin(&sim, "GET", "/__admin/keys/nope", "").await.status, 404);
    assert_eq!(admin(&sim, "POST", &format!("/__admin/keys/{c}/explode"), "").await.status, 404);
    let wrong = admin(&sim, "GET", &format!("/__admin/keys/{c}/approve"), "").await;
    assert_eq!((wrong.status, wrong.header("allow")), (405, Some("POST")));
    assert_eq!(admin(&sim, "POST", "/__admin/keys", "").await.status, 405);
    assert!(
        !sim.approve_key("nope") && !sim.refuse_key("nope") && !sim.owner_revoke_key("nope") && !sim.fail_key("nope")
    );
    // Admin calls are not logged as API requests.
    assert!(sim.requests().iter().all(|r| r.route == Some(Route::KeysCreate)
        || r.route == Some(Route::KeysGet)
        || r.route == Some(Route::KeysDelete)));
}

#[tokio::test]
async fn key_ids_follow_the_seed() {
    let ids = |seed| async move {
        let sim = start(SimConfig { seed, ..config() }).await;
        let mut out = Vec::new();
        for _ in 0..3 {
            out.push(create(&sim, fx::HJEMME_LOCK_ID, &from_now(0), None).await);
        }
        out
    };
    let a = ids(7).await;
    assert_eq!(a, ids(7).await);
    assert_ne!(a, ids(8).await);
    for id in &a {
        assert_key_id(id);
    }
}

// ------------------------------------------------------------------------------------------------
// Faults and the request log

#[tokio::test]
async fn faults_on_key_routes() {
    let sim = sim().await;
    let body = json!({"lockId": fx::HJEMME_LOCK_ID, "msn": null, "start": from_now(-60_000)});
    sim.add_fault(FaultRule::parse("keys.create=status:503*1").unwrap());
    let r = post_keys(&sim, &body).await;
    assert_eq!(r.status, 503);
    assert!(sim.keys().is_empty(), "a status fault creates no key");
    let id = create(&sim, fx::HJEMME_LOCK_ID, &from_now(-60_000), None).await;

    sim.add_fault(FaultRule::parse("keys.get=drop*1").unwrap());
    assert!(api(&sim, "GET", &format!("/keys/{id}"), "application/json", "").await.is_none());
    assert_eq!(get_key(&sim, &id).await.status, 200);

    sim.add_fault(FaultRule::parse("keys.delete=status:500*1").unwrap());
    assert_eq!(delete_key(&sim, &id).await.status, 500);
    assert_ne!(state_of(&sim, &id).await, "revoked", "the fault answered instead");
    assert_eq!(delete_key(&sim, &id).await.status, 200);

    // A delayed create still creates (the answer is only late); `*` covers the key routes too.
    sim.add_fault(FaultRule::parse("keys.create=delay:300*1").unwrap());
    let t = Instant::now();
    assert_eq!(post_keys(&sim, &body).await.status, 202);
    assert!(t.elapsed() >= Duration::from_millis(300));
    sim.add_fault(FaultRule::parse("*=status:502*3").unwrap());
    assert_eq!(post_keys(&sim, &body).await.status, 502);
    assert_eq!(get_key(&sim, &id).await.status, 502);
    assert_eq!(delete_key(&sim, &id).await.status, 502);
    assert_eq!(sim.keys().len(), 2);

    // Admin faults accept the new route names.
    let r = admin(&sim, "POST", "/__admin/faults", r#"{"route":"keys.get","fault":"status:429","times":1}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(get_key(&sim, &id).await.status, 429);

    let log = sim.requests();
    let routes: Vec<&str> = log.iter().map(|r| r.route.map_or("?", Route::as_str)).collect();
    assert_eq!(
        routes,
        [
            "keys.create",
            "keys.create",
            "keys.get",
            "keys.get",
            "keys.delete",
            "keys.get",
            "keys.delete",
            "keys.create",
            "keys.create",
            "keys.get",
            "keys.delete",
            "keys.get"
        ]
    );
    // keys.create: the body's lock id even under a fault; the new key's id when one was created.
    assert_eq!(
        (log[0].lock_id.as_deref(), log[0].key_id.as_deref(), log[0].status),
        (Some(fx::HJEMME_LOCK_ID), None, Some(503))
    );
    assert_eq!((log[1].lock_id.as_deref(), log[1].key_id.as_deref()), (Some(fx::HJEMME_LOCK_ID), Some(id.as_str())));
    // keys.get / keys.delete: the path's key id, and its lock once the key was looked up.
    assert_eq!(
        (log[2].key_id.as_deref(), log[2].status, log[2].fault.as_deref()),
        (Some(id.as_str()), None, Some("drop"))
    );
    assert_eq!((log[3].lock_id.as_deref(), log[3].key_id.as_deref()), (Some(fx::HJEMME_LOCK_ID), Some(id.as_str())));
    assert_eq!((log[6].lock_id.as_deref(), log[6].status), (Some(fx::HJEMME_LOCK_ID), Some(200)));
    let admin_log = admin(&sim, "GET", "/__admin/requests", "").await.json();
    assert_eq!(admin_log["requests"][1]["keyId"], id.as_str());
    assert_eq!(admin_log["requests"][1]["route"], "keys.create");
}

#[tokio::test]
async fn every_key_id_in_the_event_history_is_a_real_key() {
    let sim = start(SimConfig { locks: 60, ..config() }).await;
    let (mut active, mut expired) = (Vec::new(), Vec::new());
    for lock in sim.locks() {
        let events = sim.events(&lock.id).unwrap();
        let mut key_ids: Vec<&str> = events.iter().map(|e| e.key_id.as_str()).collect();
        key_ids.sort_unstable();
        key_ids.dedup();
        for id in key_ids {
            let r = get_key(&sim, id).await;
            assert_eq!(r.status, 200, "{id} on {}: {}", lock.id, r.text());
            let key = r.json();
            assert_eq!((key["id"].as_str(), key["lockId"].as_str()), (Some(id), Some(lock.id.as_str())));
            let mine: Vec<&unloc_sim::Event> = events.iter().filter(|e| e.key_id == id).collect();
            let start: DateTime<Utc> = key["start"].as_str().unwrap().parse().unwrap();
            assert!(start < mine[0].created, "{key}");
            // E3 lists the key's own uses, as E7 does (without id and keyId).
            let uses = key["events"].as_array().unwrap();
            assert_eq!(uses.len(), mine.len());
            assert_eq!(
                uses[0],
                json!({"action": mine[0].action, "created": ts(mine[0].created),
                "msn": mine[0].msn, "name": mine[0].name})
            );
            let lib = sim.key(id).unwrap();
            assert_eq!(lib.msn.as_deref().unwrap_or(""), mine[0].msn, "msn null for the partner's own key");
            assert_eq!(lib.approval, Approval::Approved);
            match key["state"].as_str().unwrap() {
                "active" => {
                    let end = key["end"].as_str().map(|e| e.parse::<DateTime<Utc>>().unwrap());
                    assert!(end.is_none_or(|end| end > Utc::now()), "{key}");
                    active.push(id.to_owned());
                }
                "expired" => {
                    let end: DateTime<Utc> = key["end"].as_str().unwrap().parse().unwrap();
                    assert!(end <= Utc::now() && end > mine[mine.len() - 1].created, "{key}");
                    expired.push(id.to_owned());
                }
                other => panic!("history key {id} is {other}"),
            }
        }
    }
    assert!(active.len() > 10 && expired.len() > 10, "{} active, {} expired", active.len(), expired.len());
    assert!(sim.keys().is_empty(), "Simulator::keys lists only keys created through POST /keys");
    let listed = admin(&sim, "GET", "/__admin/keys", "").await.json();
    assert_eq!(listed["keys"], json!([]));

    // E4 works on them like on created keys: revoked, then 409; an expired one is already over (409).
    let id = &active[0];
    assert_eq!(delete_key(&sim, id).await.json(), json!({"response": "OK"}));
    assert_eq!(state_of(&sim, id).await, "revoked");
    assert_eq!(delete_key(&sim, id).await.status, 409);
    assert_eq!(delete_key(&sim, &expired[0]).await.status, 409);
    assert_eq!(sim.key(id).unwrap().state, KeyState::Revoked);
    let admin_view = admin(&sim, "GET", &format!("/__admin/keys/{}", active[1]), "").await;
    assert_eq!((admin_view.status, admin_view.json()["key"]["usable"].as_bool()), (200, Some(true)));

    // An active history key can be used: the new event joins its lock's history and its E3 events.
    let before = get_key(&sim, &active[1]).await.json()["events"].as_array().unwrap().len();
    sim.use_key(&active[1], "locked").unwrap();
    let after = get_key(&sim, &active[1]).await.json();
    assert_eq!(after["events"].as_array().unwrap().len(), before + 1);
    assert_eq!(after["events"][before]["action"], "locked");
    assert_eq!(sim.events(after["lockId"].as_str().unwrap()).unwrap().last().unwrap().key_id, active[1]);
    assert!(sim.keys().is_empty());

    // An id that looks like one but belongs to no history is still unknown.
    assert_eq!(get_key(&sim, "117ec32d-5ac3-422b-82de-cbb64540bffd").await.status, 404);
    assert!(sim.key("117ec32d-5ac3-422b-82de-cbb64540bffd").is_none());
}

#[tokio::test]
async fn history_keys_follow_the_seed() {
    let a = start(config()).await;
    let b = start(config()).await;
    let c = start(SimConfig { seed: 2, ..config() }).await;
    let id = a.events(fx::HJEMME_LOCK_ID).unwrap()[0].key_id.clone();
    assert_eq!(get_key(&a, &id).await.body, get_key(&b, &id).await.body);
    assert_eq!(get_key(&c, &id).await.status, 404, "another seed, other keys");
}
