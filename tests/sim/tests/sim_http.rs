//! The simulator over real sockets: raw HTTP/1.1 written by hand on a tokio `TcpStream`, so the tests see
//! exactly the bytes a client would (and no HTTP client library hides a truncated body or a dropped
//! connection).

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unloc_sim::{fixtures as fx, Fault, FaultRule, Route, SimConfig, Simulator};

mod common;
use common::{encode_segment, eventually};

/// A parsed answer. `declared_len` is the Content-Length header, so truncation is visible.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    declared_len: Option<usize>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }
}

/// Sends one request and reads until the server closes. `None` when the server answered nothing.
async fn send(addr: SocketAddr, raw: &[u8]) -> Option<Reply> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw).await.unwrap();
    let mut buf = Vec::new();
    // A reset after a partial answer still leaves what arrived in `buf`.
    let _ = tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf))
        .await
        .expect("server answered within 30 s");
    if buf.is_empty() {
        return None;
    }
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let head = std::str::from_utf8(&buf[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    assert!(status_line.starts_with("HTTP/1.1 "), "{status_line}");
    let status = status_line[9..12].parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.to_owned(), v.trim().to_owned())
        })
        .collect();
    let declared_len =
        headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.parse().unwrap());
    Some(Reply { status, headers, body: buf[split + 4..].to_vec(), declared_len })
}

async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Option<Reply> {
    let mut raw = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\n");
    for (n, v) in headers {
        raw.push_str(&format!("{n}: {v}\r\n"));
    }
    if !body.is_empty() {
        raw.push_str(&format!("Content-Type: application/json\r\nContent-Length: {}\r\n", body.len()));
    }
    raw.push_str("\r\n");
    raw.push_str(body);
    send(addr, raw.as_bytes()).await
}

/// `GET {partner base}{tail}` with the right token and `Accept: application/json`.
async fn api_get(sim: &Simulator, tail: &str) -> Option<Reply> {
    let auth = format!("Bearer {}", sim.token());
    let path = format!("/v1/partners/{}{tail}", sim.partner_id());
    request(sim.addr(), "GET", &path, &[("Authorization", &auth), ("Accept", "application/json")], "").await
}

async fn api_get_ok(sim: &Simulator, tail: &str) -> Reply {
    let r = api_get(sim, tail).await.expect("an answer");
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    r
}

/// `GET` with a chosen Authorization header (or none).
async fn get_with_auth(sim: &Simulator, path: &str, auth: Option<&str>) -> Reply {
    let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
    request(sim.addr(), "GET", path, &headers, "").await.expect("an answer")
}

fn locks_path(sim: &Simulator) -> String {
    format!("/v1/partners/{}/locks", sim.partner_id())
}

fn events_tail(lock_id: &str) -> String {
    format!("/locks/{}/events", encode_segment(lock_id))
}

async fn start(config: SimConfig) -> Simulator {
    unloc_sim::start(config).await.unwrap()
}

async fn small() -> Simulator {
    start(SimConfig { locks: 20, ..SimConfig::default() }).await
}

fn keys(v: &Value) -> BTreeSet<&str> {
    v.as_object().unwrap().keys().map(String::as_str).collect()
}

// ------------------------------------------------------------------------------------------------
// Data shape

#[tokio::test]
async fn locks_have_the_seed_shape() {
    let sim = small().await;
    let r = api_get_ok(&sim, "/locks").await;
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    assert_eq!(r.header("connection"), Some("close"));
    assert_eq!(r.declared_len, Some(r.body.len()));
    let v = r.json();
    assert_eq!(keys(&v), BTreeSet::from(["locks"]), "a wrapped object");
    let locks = v["locks"].as_array().unwrap();
    assert_eq!(locks.len(), 20);
    assert_eq!(
        locks[0],
        serde_json::json!({
            "auth": "opt-out", "data": "customer-001", "id": "danalock-00:00:00:00:00:01",
            "name": "Hjemme", "street": "Parkveien 4", "postalCode": "0351", "city": "Oslo",
            "countryIso": "no"
        })
    );
    // The seed's second example: the address keys are left out, not null.
    assert_eq!(
        locks[1],
        serde_json::json!({
            "auth": "opt-out", "data": "customer-001", "id": "doora-00:00:00:00:00:01",
            "name": "Hovedinngang"
        })
    );
    let all = BTreeSet::from(["id", "name", "auth", "data", "street", "postalCode", "city", "countryIso"]);
    let required = BTreeSet::from(["id", "name", "auth", "data"]);
    for l in locks {
        let k = keys(l);
        assert!(k.is_subset(&all), "{l}");
        assert!(k == required || k == all, "address keys all or none: {l}");
        assert!(l["auth"] == "opt-in" || l["auth"] == "opt-out");
        if k == all {
            assert_eq!(l["countryIso"], "no");
            assert!(l["postalCode"].is_string());
        }
    }
    // The library's view is exactly what was served.
    let served: unloc_sim::LocksBody = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(served.locks, sim.locks());
    let hostile = locks.iter().find(|l| l["id"] == fx::HOSTILE_LOCK_ID).unwrap();
    assert_eq!(hostile["name"], fx::HOSTILE_NAME);
    assert_eq!(hostile["street"], fx::HOSTILE_STREET);
    assert_eq!(hostile["data"], fx::HOSTILE_DATA);
}

#[tokio::test]
async fn events_by_encoded_lock_id() {
    let sim = small().await;
    // ':' as %3A (what the client sends), and also left raw (legal in a path segment).
    let encoded = api_get_ok(&sim, "/locks/danalock-00%3A00%3A00%3A00%3A00%3A01/events").await;
    let raw = api_get_ok(&sim, "/locks/danalock-00:00:00:00:00:01/events").await;
    assert_eq!(encoded.body, raw.body);
    let v = encoded.json();
    assert_eq!(keys(&v), BTreeSet::from(["events"]));
    let events = v["events"].as_array().unwrap();
    assert_eq!(events.len(), 30);
    let mut previous: Option<DateTime<Utc>> = None;
    for e in events {
        assert_eq!(keys(e), BTreeSet::from(["id", "keyId", "action", "name", "msn", "created"]));
        let created = e["created"].as_str().unwrap();
        // RFC 3339 UTC with exactly three decimals: 2019-08-07T13:14:47.350Z
        assert_eq!(created.len(), 24, "{created}");
        assert_eq!(&created[19..20], ".");
        assert!(created.ends_with('Z'));
        let t: DateTime<Utc> = created.parse().unwrap();
        if let Some(p) = previous {
            assert!(p <= t, "oldest first");
        }
        previous = Some(t);
    }
    let served: unloc_sim::EventsBody = serde_json::from_slice(&encoded.body).unwrap();
    assert_eq!(Some(served.events), sim.events(fx::HJEMME_LOCK_ID));

    // '/' inside an id travels as %2F; the upper-case UUID id of the seed works too.
    let slash = api_get_ok(&sim, &events_tail(fx::SLASH_LOCK_ID)).await;
    assert!(events_tail(fx::SLASH_LOCK_ID).contains("%2F"));
    assert_eq!(slash.json()["events"].as_array().unwrap().len(), 30);
    api_get_ok(&sim, &events_tail(fx::UUID_LOCK_ID)).await;
    // An unencoded '/' splits the id: that path does not exist.
    assert_eq!(api_get(&sim, "/locks/nokkelboks-7/B:12/events").await.unwrap().status, 404);
    let empty = api_get_ok(&sim, &events_tail(fx::EMPTY_EVENTS_LOCK_ID)).await;
    assert_eq!(empty.json(), serde_json::json!({"events": []}));

    let log = sim.requests();
    let last = log.iter().rev().find(|r| r.route == Some(Route::Events)).unwrap();
    assert_eq!(last.lock_id.as_deref(), Some(fx::EMPTY_EVENTS_LOCK_ID));
    assert!(log[0].path.contains("%3A"), "the log keeps the raw path");
    assert_eq!(log[0].lock_id.as_deref(), Some(fx::HJEMME_LOCK_ID));
}

#[tokio::test]
async fn same_seed_serves_the_same_bytes() {
    let anchor: DateTime<Utc> = Utc::now() - TimeDelta::days(1);
    let cfg = || SimConfig { seed: 42, locks: 60, anchor: Some(anchor), ..SimConfig::default() };
    let a = start(cfg()).await;
    let b = start(cfg()).await;
    let other = start(SimConfig { seed: 43, ..cfg() }).await;
    assert_eq!(api_get_ok(&a, "/locks").await.body, api_get_ok(&b, "/locks").await.body);
    assert_ne!(api_get_ok(&a, "/locks").await.body, api_get_ok(&other, "/locks").await.body);
    let id = a.locks()[33].id.clone();
    let tail = events_tail(&id);
    assert_eq!(api_get_ok(&a, &tail).await.body, api_get_ok(&b, &tail).await.body);
}

#[tokio::test]
async fn no_event_older_than_60_days() {
    // Events spread over the 59 days before an anchor 30 days ago: about half are past retention.
    let sim =
        start(SimConfig { locks: 12, anchor: Some(Utc::now() - TimeDelta::days(30)), ..SimConfig::default() }).await;
    let mut served = 0;
    for lock in sim.locks() {
        let v = api_get_ok(&sim, &events_tail(&lock.id)).await.json();
        let limit = Utc::now() - TimeDelta::days(60);
        for e in v["events"].as_array().unwrap() {
            let t: DateTime<Utc> = e["created"].as_str().unwrap().parse().unwrap();
            assert!(t >= limit, "{t} is older than 60 days");
            served += 1;
        }
    }
    let generated = 11 * 30;
    assert!(served > 0 && served < generated, "{served} of {generated}");
}

#[tokio::test]
async fn big_datasets_serve() {
    let sim = start(SimConfig { locks: 10_000, busy_lock_events: 100_000, ..SimConfig::default() }).await;
    let locks = api_get_ok(&sim, "/locks").await.json();
    assert_eq!(locks["locks"].as_array().unwrap().len(), 10_000);
    let busy = api_get_ok(&sim, &events_tail(fx::BUSY_LOCK_ID)).await;
    assert_eq!(busy.json()["events"].as_array().unwrap().len(), 100_000);
    let busy_name = sim.locks().into_iter().find(|l| l.id == fx::BUSY_LOCK_ID).unwrap().name;
    assert_eq!(busy_name, "Hovedinngang Storgata 1");
}

// ------------------------------------------------------------------------------------------------
// Auth, lock-out, status codes

#[tokio::test]
async fn unauthorized_requests_get_401() {
    let sim = small().await;
    let path = locks_path(&sim);
    let right = format!("Bearer {}", sim.token());
    let missing = get_with_auth(&sim, &path, None).await;
    assert_eq!(missing.status, 401);
    assert_eq!(missing.json()["error"], "unauthorized");
    assert!(missing.json()["message"].is_string());
    assert_eq!(get_with_auth(&sim, &path, Some("Bearer wrong")).await.status, 401);
    let basic = format!("Basic {}", sim.token());
    assert_eq!(get_with_auth(&sim, &path, Some(&basic)).await.status, 401);
    // The right token for a partner id that does not exist: 401, not 404 (does not reveal partners).
    let other = get_with_auth(&sim, "/v1/partners/someone-else/locks", Some(&right)).await;
    assert_eq!(other.status, 401);
    let other_events =
        get_with_auth(&sim, "/v1/partners/someone-else/locks/doora-00%3A00%3A00%3A00%3A00%3A01/events", Some(&right))
            .await;
    assert_eq!(other_events.status, 401);
    assert_eq!(get_with_auth(&sim, &path, Some(&right)).await.status, 200);
    let log = sim.requests();
    assert_eq!(log.iter().map(|r| r.authorized).collect::<Vec<_>>(), [false, false, false, false, false, true]);
    assert_eq!(log.iter().map(|r| r.status).collect::<Vec<_>>(), [401, 401, 401, 401, 401, 200].map(Some));
}

#[tokio::test]
async fn lockout_after_wrong_tokens_then_cooldown() {
    let sim = start(SimConfig {
        locks: 10,
        lockout_after: 3,
        lockout_window: Duration::from_secs(60),
        lockout_cooldown: Duration::from_millis(1500),
        ..SimConfig::default()
    })
    .await;
    let path = locks_path(&sim);
    let right = format!("Bearer {}", sim.token());
    // A missing token is not a guess and does not count.
    for _ in 0..5 {
        assert_eq!(get_with_auth(&sim, &path, None).await.status, 401);
    }
    assert_eq!(get_with_auth(&sim, &path, Some(&right)).await.status, 200);
    for _ in 0..3 {
        assert_eq!(get_with_auth(&sim, &path, Some("Bearer guess")).await.status, 401);
    }
    let locked = get_with_auth(&sim, &path, Some(&right)).await;
    assert_eq!(locked.status, 403, "even the right token is refused");
    assert_eq!(locked.json()["error"], "forbidden");
    assert_eq!(get_with_auth(&sim, &path, Some("Bearer guess")).await.status, 403);
    let started = Instant::now();
    let cleared =
        eventually(Duration::from_secs(10), || async { get_with_auth(&sim, &path, Some(&right)).await.status == 200 })
            .await;
    assert!(cleared, "the lock-out ends after the cool-down");
    assert!(started.elapsed() < Duration::from_secs(10));

    // And the admin endpoint ends a (long) lock-out at once.
    let sim = start(SimConfig { locks: 10, lockout_after: 1, ..SimConfig::default() }).await;
    let right = format!("Bearer {}", sim.token());
    assert_eq!(get_with_auth(&sim, &path, Some("Bearer guess")).await.status, 401);
    assert_eq!(get_with_auth(&sim, &path, Some(&right)).await.status, 403);
    let reset = request(sim.addr(), "POST", "/__admin/reset-lockout", &[], "").await.unwrap();
    assert_eq!(reset.status, 200);
    assert_eq!(get_with_auth(&sim, &path, Some(&right)).await.status, 200);
    assert_eq!(get_with_auth(&sim, &path, Some("Bearer guess")).await.status, 401);
    sim.reset_lockout();
    assert_eq!(get_with_auth(&sim, &path, Some(&right)).await.status, 200);
}

#[tokio::test]
async fn not_found_method_not_allowed_not_acceptable() {
    let sim = small().await;
    let auth = format!("Bearer {}", sim.token());
    let a = sim.addr();
    let base = format!("/v1/partners/{}", sim.partner_id());
    let unknown_lock = api_get(&sim, &events_tail("danalock-ff:ff:ff:ff:ff:fe")).await.unwrap();
    assert_eq!(unknown_lock.status, 404);
    assert_eq!(unknown_lock.json()["error"], "not_found");
    // `/keys` exists, but only for POST (there is no key list in v1).
    let list_keys = api_get(&sim, "/keys").await.unwrap();
    assert_eq!((list_keys.status, list_keys.header("allow")), (405, Some("POST")));
    assert_eq!(api_get(&sim, "/keys/").await.unwrap().status, 404);
    assert_eq!(api_get(&sim, "").await.unwrap().status, 404);
    assert_eq!(api_get(&sim, "/locks/").await.unwrap().status, 404);
    let outside = get_with_auth(&sim, "/v2/whatever", Some(&auth)).await;
    assert_eq!(outside.status, 404);

    let post = request(a, "POST", &format!("{base}/locks"), &[("Authorization", &auth)], "{}").await.unwrap();
    assert_eq!(post.status, 405);
    assert_eq!(post.header("allow"), Some("GET"));
    let delete =
        request(a, "DELETE", &format!("{base}{}", events_tail(fx::HJEMME_LOCK_ID)), &[("Authorization", &auth)], "")
            .await
            .unwrap();
    assert_eq!(delete.status, 405);

    let accept = |value: &'static str| {
        let auth = auth.clone();
        let path = format!("{base}/locks");
        async move { request(a, "GET", &path, &[("Authorization", &auth), ("Accept", value)], "").await.unwrap().status }
    };
    assert_eq!(accept("text/html").await, 406);
    assert_eq!(accept("text/html, application/xml").await, 406);
    assert_eq!(accept("application/json").await, 200);
    assert_eq!(accept("text/html, */*;q=0.8").await, 200);

    let garbage = send(a, b"NONSENSE\r\n\r\n").await.unwrap();
    assert_eq!(garbage.status, 400);
}

// ------------------------------------------------------------------------------------------------
// Faults

#[tokio::test]
async fn status_faults() {
    let sim = small().await;
    sim.add_fault(FaultRule::parse("locks=status:503").unwrap());
    let r = api_get(&sim, "/locks").await.unwrap();
    assert_eq!(r.status, 503);
    assert_eq!(r.json()["error"], "service_unavailable");
    // Before auth: even without a token the fault answers.
    assert_eq!(get_with_auth(&sim, &locks_path(&sim), None).await.status, 503);
    // Events are not affected by a locks fault.
    api_get_ok(&sim, &events_tail(fx::HJEMME_LOCK_ID)).await;
    sim.clear_faults();
    api_get_ok(&sim, "/locks").await;

    sim.add_fault(FaultRule::parse("events=status:429:retry-after=30*1").unwrap());
    let r = api_get(&sim, &events_tail(fx::HJEMME_LOCK_ID)).await.unwrap();
    assert_eq!(r.status, 429);
    assert_eq!(r.header("retry-after"), Some("30"));
    api_get_ok(&sim, &events_tail(fx::HJEMME_LOCK_ID)).await;

    sim.add_fault(FaultRule::times(
        Route::Any,
        Fault::Status { code: 500, body: Some("oops: not json".into()), retry_after: None },
        1,
    ));
    let r = api_get(&sim, "/locks").await.unwrap();
    assert_eq!((r.status, r.body.as_slice()), (500, b"oops: not json".as_slice()));
}

#[tokio::test]
async fn times_expire_and_star_matches_every_route() {
    let sim = small().await;
    sim.add_fault(FaultRule::parse("events=status:500*2").unwrap());
    let tail = events_tail(fx::HJEMME_LOCK_ID);
    assert_eq!(api_get(&sim, &tail).await.unwrap().status, 500);
    api_get_ok(&sim, "/locks").await;
    assert_eq!(api_get(&sim, &tail).await.unwrap().status, 500);
    api_get_ok(&sim, &tail).await;
    assert!(sim.faults().is_empty(), "used up");

    sim.add_fault(FaultRule::parse("*=status:502*3").unwrap());
    assert_eq!(api_get(&sim, "/locks").await.unwrap().status, 502);
    assert_eq!(api_get(&sim, &tail).await.unwrap().status, 502);
    assert_eq!(api_get(&sim, "/unknown").await.unwrap().status, 502);
    api_get_ok(&sim, "/locks").await;
    // Admin endpoints never get faults.
    sim.add_fault(FaultRule::parse("*=drop").unwrap());
    let admin = request(sim.addr(), "GET", "/__admin/faults", &[], "").await.unwrap();
    assert_eq!(admin.status, 200);
    assert_eq!(admin.json()["faults"][0]["fault"]["kind"], "drop");
}

#[tokio::test]
async fn delay_fault_answers_normally_later() {
    let sim = small().await;
    sim.add_fault(FaultRule::parse("locks=delay:400*1").unwrap());
    let t = Instant::now();
    let r = api_get_ok(&sim, "/locks").await;
    assert!(t.elapsed() >= Duration::from_millis(400));
    assert_eq!(r.json()["locks"].as_array().unwrap().len(), 20);
    // Delayed requests do not hold up others: connections are served concurrently.
    sim.add_fault(FaultRule::parse("locks=delay:1000*8").unwrap());
    let t = Instant::now();
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let (addr, path, auth) = (sim.addr(), locks_path(&sim), format!("Bearer {}", sim.token()));
            tokio::spawn(
                async move { request(addr, "GET", &path, &[("Authorization", &auth)], "").await.unwrap().status },
            )
        })
        .collect();
    for h in handles {
        assert_eq!(h.await.unwrap(), 200);
    }
    // Serially this would take 8 s.
    assert!(t.elapsed() < Duration::from_secs(6), "{:?}", t.elapsed());
}

#[tokio::test]
async fn body_faults() {
    let sim = small().await;
    sim.add_fault(FaultRule::parse("locks=malformed*1").unwrap());
    let r = api_get(&sim, "/locks").await.unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("application/json"));
    assert!(serde_json::from_slice::<Value>(&r.body).is_err());

    sim.add_fault(FaultRule::parse("locks=truncated*1").unwrap());
    let r = api_get(&sim, "/locks").await.unwrap();
    assert_eq!(r.status, 200);
    let declared = r.declared_len.unwrap();
    assert!(r.body.len() < declared, "{} < {declared}", r.body.len());

    sim.add_fault(FaultRule::parse("locks=drop*1").unwrap());
    assert!(api_get(&sim, "/locks").await.is_none(), "no answer at all");

    sim.add_fault(FaultRule::parse("locks=html*1").unwrap());
    let r = api_get(&sim, "/locks").await.unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));

    sim.add_fault(FaultRule::parse("locks=empty*1").unwrap());
    let r = api_get(&sim, "/locks").await.unwrap();
    assert_eq!((r.status, r.declared_len, r.body.len()), (200, Some(0), 0));

    api_get_ok(&sim, "/locks").await;
    let log = sim.requests();
    let faults: Vec<Option<&str>> = log.iter().map(|r| r.fault.as_deref()).collect();
    assert_eq!(faults, [Some("malformed"), Some("truncated"), Some("drop"), Some("html"), Some("empty"), None]);
    assert_eq!(log[2].status, None, "a dropped connection has no status");
}

#[tokio::test]
async fn faults_from_config_apply_from_the_start() {
    let sim = start(SimConfig {
        locks: 10,
        faults: vec![FaultRule::parse("locks=status:503*1").unwrap()],
        ..SimConfig::default()
    })
    .await;
    assert_eq!(api_get(&sim, "/locks").await.unwrap().status, 503);
    api_get_ok(&sim, "/locks").await;
}

// ------------------------------------------------------------------------------------------------
// Admin endpoints

#[tokio::test]
async fn admin_endpoints() {
    let sim = small().await;
    let a = sim.addr();
    let add = |body: &'static str| async move { request(a, "POST", "/__admin/faults", &[], body).await.unwrap() };
    assert_eq!(add(r#"{"route":"locks","fault":"status:503","times":1}"#).await.status, 200);
    assert_eq!(api_get(&sim, "/locks").await.unwrap().status, 503);
    let r = add(r#"{"route":"events","fault":{"kind":"status","code":429,"retryAfter":"9"}}"#).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["faults"].as_array().unwrap().len(), 1);
    let r = api_get(&sim, &events_tail(fx::HJEMME_LOCK_ID)).await.unwrap();
    assert_eq!((r.status, r.header("retry-after")), (429, Some("9")));
    assert_eq!(add(r#"{"route":"keys","fault":"drop"}"#).await.status, 400);
    assert_eq!(add("not json").await.status, 400);

    let listed = request(a, "GET", "/__admin/faults", &[], "").await.unwrap().json();
    assert_eq!(
        listed,
        serde_json::json!({"faults":[{"route":"events","fault":{"kind":"status","code":429,"retryAfter":"9"}}]})
    );
    assert_eq!(request(a, "DELETE", "/__admin/faults", &[], "").await.unwrap().status, 200);
    api_get_ok(&sim, &events_tail(fx::HJEMME_LOCK_ID)).await;

    let log = request(a, "GET", "/__admin/requests", &[], "").await.unwrap().json();
    let log = log["requests"].as_array().unwrap();
    assert_eq!(log.len(), 3, "admin calls are not logged: {log:?}");
    // Arrival times in ms since the start: in order, and not far in the future.
    let times: Vec<u64> = log.iter().map(|entry| entry["atMs"].as_u64().unwrap()).collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]) && times[2] < 60_000, "{times:?}");
    let mut first = log[0].clone();
    first.as_object_mut().unwrap().remove("atMs");
    assert_eq!(
        first,
        serde_json::json!({
            "method": "GET", "path": "/v1/partners/demo-partner/locks", "route": "locks",
            "lockId": null, "keyId": null, "authorized": true, "status": 503, "fault": "status:503"
        })
    );
    assert_eq!(log[2]["route"], "events");
    assert_eq!(log[2]["lockId"], fx::HJEMME_LOCK_ID);
    assert_eq!(log[2]["status"], 200);
    assert_eq!(request(a, "DELETE", "/__admin/requests", &[], "").await.unwrap().status, 200);
    assert!(sim.requests().is_empty());
    sim.clear_requests();

    assert_eq!(request(a, "GET", "/__admin/nothing", &[], "").await.unwrap().status, 404);
    assert_eq!(request(a, "PUT", "/__admin/faults", &[], "").await.unwrap().status, 405);
}

#[tokio::test]
async fn shutdown_frees_the_port() {
    let sim = small().await;
    let addr = sim.addr();
    api_get_ok(&sim, "/locks").await;
    sim.shutdown();
    let gone = eventually(Duration::from_secs(5), || async { TcpStream::connect(addr).await.is_err() }).await;
    assert!(gone);
}

// ------------------------------------------------------------------------------------------------
// The binary

/// Kills the child on drop, so a failing assertion does not leave a server running.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn binary_prints_shell_readable_lines_and_serves() {
    let mut child = Child(
        Command::new(env!("CARGO_BIN_EXE_unloc-sim"))
            .args(["--locks", "12", "--seed", "5", "--fault", "events=status:500*1"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let mut vars = Vec::new();
    // The banner is flushed at once even though stdout is a pipe; reading it must not hang.
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(kv) = line.strip_prefix("UNLOC_") {
            let (k, v) = kv.split_once('=').unwrap();
            vars.push((k.to_owned(), v.to_owned()));
            if vars.len() == 3 {
                break;
            }
        }
    }
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["API_BASE", "PARTNER_ID", "API_TOKEN"]);
    let base = &vars[0].1;
    assert_eq!(vars[1].1, "demo-partner");
    assert_eq!(vars[2].1, unloc_sim::default_token(5));
    let hostport = base.strip_prefix("http://").and_then(|r| r.strip_suffix("/v1")).unwrap();
    assert!(hostport.starts_with("127.0.0.1:"));

    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(hostport).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        write!(
            s,
            "GET /v1/partners/demo-partner{path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\n\r\n",
            vars[2].1
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(get("/locks").starts_with("HTTP/1.1 200 "));
    let events = "/locks/danalock-00%3A00%3A00%3A00%3A00%3A01/events";
    assert!(get(events).starts_with("HTTP/1.1 500 "), "--fault applies");
    assert!(get(events).starts_with("HTTP/1.1 200 "), "... once");
}

#[test]
fn binary_help_and_bad_flags() {
    let help = Command::new(env!("CARGO_BIN_EXE_unloc-sim")).arg("--help").output().unwrap();
    assert!(help.status.success());
    assert!(String::from_utf8_lossy(&help.stdout).contains("--fault ROUTE=SPEC"));
    let bad = Command::new(env!("CARGO_BIN_EXE_unloc-sim")).args(["--fault", "events=explode"]).output().unwrap();
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("explode"));
}

#[tokio::test]
async fn drip_sends_the_normal_answer_slowly() {
    let sim = small().await;
    let normal = api_get_ok(&sim, "/locks").await.body;
    sim.add_fault(FaultRule::parse("locks=drip:10:256*1").unwrap());
    let t = Instant::now();
    let r = api_get_ok(&sim, "/locks").await;
    assert_eq!(r.body, normal);
    let pieces = normal.len().div_ceil(256) as u32;
    assert!(t.elapsed() >= Duration::from_millis(10) * pieces, "{:?} for {pieces} pieces", t.elapsed());
}

#[tokio::test]
async fn reset_cuts_the_body_with_a_tcp_reset() {
    let sim = small().await;
    sim.add_fault(FaultRule::parse("locks=reset*1").unwrap());
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    let raw = format!("GET {} HTTP/1.1\r\nAuthorization: Bearer {}\r\n\r\n", locks_path(&sim), sim.token());
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await.expect("ends");
    assert_eq!(read.unwrap_err().kind(), std::io::ErrorKind::ConnectionReset, "RST, not FIN");
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "the head arrives before the reset: {text}");
    let (_, part) = text.split_once("\r\n\r\n").unwrap();
    assert!(!part.is_empty() && serde_json::from_str::<Value>(part).is_err(), "part of the body");
    assert_eq!(sim.requests()[0].status, Some(200));
}

#[tokio::test]
async fn huge_streams_valid_json_of_the_asked_size() {
    let sim = small().await;
    sim.add_fault(FaultRule::parse("locks=huge:3*1").unwrap());
    let r = api_get_ok(&sim, "/locks").await;
    assert_eq!((r.declared_len, r.body.len()), (Some(3 * 1024 * 1024), 3 * 1024 * 1024));
    assert_eq!(r.json()["locks"].as_array().unwrap().len(), 20, "padding is whitespace: still the real answer");
    // The default is 50 MiB; read it without keeping it.
    sim.add_fault(FaultRule::parse("locks=huge*1").unwrap());
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    let raw = format!("GET {} HTTP/1.1\r\nAuthorization: Bearer {}\r\n\r\n", locks_path(&sim), sim.token());
    s.write_all(raw.as_bytes()).await.unwrap();
    let (mut total, mut chunk) = (0usize, vec![0u8; 256 * 1024]);
    loop {
        let n = tokio::time::timeout(Duration::from_secs(30), s.read(&mut chunk)).await.unwrap().unwrap();
        if n == 0 {
            break;
        }
        total += n;
    }
    assert!(total > 50 * 1024 * 1024 && total < 50 * 1024 * 1024 + 1024, "{total}");
}

#[tokio::test]
async fn json_faults_rewrite_successful_answers_only() {
    let sim = small().await;
    let tail = events_tail(fx::HJEMME_LOCK_ID);
    sim.add_fault(FaultRule::parse("locks=wrong-types*1").unwrap());
    let lock = &api_get_ok(&sim, "/locks").await.json()["locks"][0];
    assert_eq!(
        (lock["name"].as_i64(), lock["id"].as_i64(), lock["auth"].as_str()),
        (Some(42), Some(4711), Some("opt-out"))
    );

    sim.add_fault(FaultRule::parse("events=missing-fields*1").unwrap());
    let event = &api_get_ok(&sim, &tail).await.json()["events"][0];
    assert!(event.get("id").is_none() && event.get("name").is_none(), "{event}");
    assert!(event["keyId"].is_string() && event["created"].is_string());

    sim.add_fault(FaultRule::parse("locks=extra-fields*1").unwrap());
    let body = api_get_ok(&sim, "/locks").await.json();
    assert_eq!(body["firmwareVersion"], "2.4.1");
    assert_eq!(body["locks"][0]["unlocSimExtra"]["nested"][0], 1);
    assert_eq!(body["locks"][0]["name"], fx::HJEMME_NAME, "known fields unchanged");

    sim.add_fault(FaultRule::parse("*=unknown-enum*2").unwrap());
    let lock = &api_get_ok(&sim, "/locks").await.json()["locks"][0];
    assert_eq!((lock["auth"].as_str(), lock["name"].as_str()), (Some("deny"), Some(fx::HJEMME_NAME)));
    let event = &api_get_ok(&sim, &tail).await.json()["events"][0];
    assert_eq!(event["action"], "opened");

    // An error answer passes unchanged (here: no token → 401).
    sim.add_fault(FaultRule::parse("locks=wrong-types*1").unwrap());
    let r = get_with_auth(&sim, &locks_path(&sim), None).await;
    assert_eq!((r.status, r.json()["error"].as_str()), (401, Some("unauthorized")));
}

#[tokio::test]
async fn status_faults_carry_the_headers_of_their_status() {
    let sim = small().await;
    sim.add_fault(FaultRule::parse("locks=status:401*1").unwrap());
    assert_eq!(api_get(&sim, "/locks").await.unwrap().header("www-authenticate"), Some("Bearer"));
    sim.add_fault(FaultRule::parse("keys.get=status:405*1").unwrap());
    assert_eq!(api_get(&sim, "/keys/x").await.unwrap().header("allow"), Some("GET, DELETE"));
    sim.add_fault(FaultRule::parse("locks=status:503:retry-after=120*1").unwrap());
    let r = api_get(&sim, "/locks").await.unwrap();
    assert_eq!((r.status, r.header("retry-after")), (503, Some("120")));
}

#[tokio::test]
async fn every_catalogue_fault_is_injectable_by_name_through_the_admin_endpoint() {
    let sim = small().await;
    assert!(unloc_sim::CATALOGUE.len() >= 25);
    for entry in unloc_sim::CATALOGUE {
        let body = serde_json::json!({"route": "locks", "fault": entry.spec, "times": 1}).to_string();
        let r = request(sim.addr(), "POST", "/__admin/faults", &[], &body).await.unwrap();
        assert_eq!(r.status, 200, "{}: {}", entry.spec, String::from_utf8_lossy(&r.body));
        assert_eq!(sim.faults()[0].fault.spec(), entry.spec);
        sim.clear_faults();
    }
}

#[tokio::test]
async fn tls_to_the_plain_http_port_is_refused_at_once() {
    let sim = small().await;
    let mut s = TcpStream::connect(sim.addr()).await.unwrap();
    // The start of a TLS 1.2 ClientHello record.
    s.write_all(&[0x16, 0x03, 0x01, 0x00, 0xc8, 0x01, 0x00, 0x00, 0xc4, 0x03, 0x03]).await.unwrap();
    let mut buf = Vec::new();
    let t = Instant::now();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await.expect("answered");
    assert!(t.elapsed() < Duration::from_secs(5));
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 400 "));
}
