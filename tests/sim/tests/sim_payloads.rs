//! The injection payloads (`SimConfig::payloads`) over raw HTTP/1.1: they arrive JSON-escaped, and decode
//! to exactly the payload text (null byte, right-to-left override, 2,000 characters and all).

use std::net::SocketAddr;
use std::time::Duration;

use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use unloc_sim::{fixtures as fx, payloads, SimConfig, Simulator};

mod common;
use common::encode_segment;

/// `GET /v1/partners/{id}{tail}` with the right token; (status, raw body bytes).
async fn api_get(sim: &Simulator, tail: &str) -> (u16, Vec<u8>) {
    let addr: SocketAddr = sim.addr();
    let raw = format!(
        "GET /v1/partners/{}{tail} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {}\r\n\
         Accept: application/json\r\nConnection: close\r\n\r\n",
        sim.partner_id(),
        sim.token()
    );
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(raw.as_bytes()).await.unwrap();
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), s.read_to_end(&mut buf)).await.unwrap().unwrap();
    let split = buf.windows(4).position(|w| w == b"\r\n\r\n").expect("a complete head");
    let status = std::str::from_utf8(&buf[9..12]).unwrap().parse().unwrap();
    (status, buf[split + 4..].to_vec())
}

/// Checks the raw bytes are escaped JSON (no raw control characters such as the null byte), then decodes.
fn decode(body: &[u8]) -> Value {
    assert!(!body.iter().any(|b| *b < 0x20), "a raw control character in the body");
    serde_json::from_slice(body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(body)))
}

#[tokio::test]
async fn payloads_arrive_json_escaped_and_intact() {
    let config = SimConfig { lockout_after: 0, locks: 12, payloads: true, ..SimConfig::default() };
    let sim = unloc_sim::start(config).await.unwrap();
    let n = payloads::PAYLOADS.len();
    assert!(n >= 12);
    assert_eq!(payloads::LONG.chars().count(), 2_000);
    assert!(payloads::LONG.starts_with("LangtnavnLangtnavn"));
    let found = sim.payload_locks();
    assert_eq!(found.len(), n);

    let (status, body) = api_get(&sim, "/locks").await;
    assert_eq!(status, 200);
    // The null byte travels as \u0000, quotes as \" (serde_json leaves '<' and U+202E as they are).
    let text = String::from_utf8(body.clone()).unwrap();
    assert!(text.contains(r#""Bod\u000012""#), "null byte escaped");
    assert!(text.contains(r#""\" onmouseover=\"window.__pwned=1\" x=\"""#), "quotes escaped");
    let locks = decode(&body)["locks"].as_array().unwrap().clone();
    // --locks 12 is raised so that every payload has its lock; the fixtures stay first, unchanged.
    assert_eq!(locks.len(), fx::FIXTURE_COUNT + n);
    let ids: Vec<&str> = locks.iter().map(|l| l["id"].as_str().unwrap()).collect();
    assert_eq!(ids[..fx::FIXTURE_COUNT], fx::FIXTURE_IDS);
    assert_eq!(locks[3]["name"], fx::HOSTILE_NAME);

    for (i, (short, id)) in found.iter().enumerate() {
        let (name, p) = payloads::PAYLOADS[i];
        assert_eq!(*short, name);
        let lock = &locks[payloads::lock_index(i)];
        assert_eq!(lock["id"], id.as_str());
        for field in ["name", "street", "city", "data"] {
            assert_eq!(lock[field].as_str(), Some(p), "{name}: {field}");
        }
        let pc = lock["postalCode"].as_str().unwrap();
        assert!(pc.len() == 4 && pc.bytes().all(|b| b.is_ascii_digit()), "{name}: {pc}");
        assert_eq!(lock["auth"], if i % 2 == 0 { "opt-in" } else { "opt-out" });

        let (status, body) = api_get(&sim, &format!("/locks/{}/events", encode_segment(id))).await;
        assert_eq!(status, 200, "{name}");
        let events = decode(&body)["events"].as_array().unwrap().clone();
        let people: Vec<&Value> = events.iter().filter(|e| e["msn"] != "").collect();
        assert!(!people.is_empty(), "{name}");
        for e in people {
            assert_eq!(e["name"].as_str(), Some(p), "{name}");
            let msn = e["msn"].as_str().unwrap();
            match payloads::hostile_msn(i) {
                Some(hostile) => assert_eq!(msn, hostile, "{name}"),
                None => assert!(msn.starts_with("+47") && msn[1..].bytes().all(|b| b.is_ascii_digit()), "{msn}"),
            }
        }
    }
    // Spot checks of the exact texts, independent of the table.
    let by_name = |short: &str| {
        let i = payloads::PAYLOADS.iter().position(|(s, _)| *s == short).unwrap();
        locks[payloads::lock_index(i)]["name"].as_str().unwrap().to_owned()
    };
    assert_eq!(by_name("null-byte"), "Bod\u{0}12");
    assert_eq!(by_name("rtl-override"), "\u{202E}kcol\u{202C} Bakdør");
    assert_eq!(by_name("long").len(), 2_000);
    assert_eq!(by_name("emoji-combining"), "🔑🚪 Å̈̈̈ n̶o̶r̶d̶");
    assert_eq!(by_name("html-entity"), "&lt;b&gt;&amp;amp;");

    // Without the flag nothing changes.
    let plain = unloc_sim::start(SimConfig { lockout_after: 0, locks: 12, ..SimConfig::default() }).await.unwrap();
    assert!(plain.payload_locks().is_empty());
    assert_eq!(plain.locks().len(), 12);
}

#[test]
fn every_executable_payload_uses_the_canary() {
    for (name, p) in payloads::PAYLOADS {
        let executable = ["<script", "onerror", "onload", "onmouseover", "javascript:", "${"];
        if executable.iter().any(|x| p.contains(x)) {
            assert!(p.contains(payloads::CANARY), "{name}");
        }
    }
    let names: std::collections::HashSet<&str> = payloads::PAYLOADS.iter().map(|(n, _)| *n).collect();
    assert_eq!(names.len(), payloads::PAYLOADS.len(), "short names are unique");
}
