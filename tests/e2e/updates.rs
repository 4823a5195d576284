//! Updates: an update is offered, installed only when the user says so, and refused when its signature
//! is not the app's.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use unloc_sim::SimConfig;

use crate::harness::*;

/// A loopback update server: `latest.json` offers 9.9.9, signed with a key that is not the app's.
fn serve_update() -> TestResult<(u16, Arc<AtomicUsize>)> {
    use std::io::{Read, Write};
    let fixtures = fixtures_dir().join("update");
    let payload = std::fs::read(fixtures.join("unloc-desk-9.9.9.tar.gz"))?;
    let signature = std::fs::read_to_string(fixtures.join("unloc-desk-9.9.9.tar.gz.sig"))?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let url = format!("http://127.0.0.1:{port}/unloc-desk-9.9.9.tar.gz");
    let platform = json!({ "signature": signature.trim(), "url": url });
    let manifest = json!({
        "version": "9.9.9",
        "notes": "A test release",
        "pub_date": "2026-11-26T00:00:00Z",
        "platforms": {
            "linux-x86_64": platform, "linux-x86_64-appimage": platform,
            "linux-x86_64-deb": platform, "linux-x86_64-rpm": platform,
        }
    })
    .to_string();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let read = stream.read(&mut request).unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..read]);
            counter.fetch_add(1, Ordering::SeqCst);
            let (kind, body): (&str, &[u8]) = if head.starts_with("GET /latest.json") {
                ("application/json", manifest.as_bytes())
            } else {
                ("application/octet-stream", &payload)
            };
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes()).and_then(|()| stream.write_all(body));
        }
    });
    Ok((port, hits))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_offered_and_a_wrongly_signed_one_is_refused() -> TestResult {
    let (port, hits) = serve_update()?;
    let endpoint = format!("http://127.0.0.1:{port}/latest.json");
    scenario("update", SimConfig { lockout_after: 0, hostile_lock: false, locks: 10, ..SimConfig::default() })
        .env("UNLOC_UPDATER_ENDPOINT", &endpoint)
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            sign_in(client, sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            click(client, "#nav-settings").await?;
            click(client, "#update-check").await?;
            let status = wait_for_js(
                client,
                "the offer",
                "const s = document.querySelector('#update-status')?.textContent ?? ''; return s.includes('9.9.9') && s",
            )
            .await?;
            ensure!(hits.load(Ordering::SeqCst) >= 1, "the update server was never asked");
            ensure!(status.as_str().unwrap_or_default().contains("available"), "status: {status}");
            wait_visible(client, "#update-available").await?;
            screenshot(client, "view-update-offered").await?;
            // Nothing is installed until the user says so; then the bad signature is refused.
            click(client, "#update-install").await?;
            let error =
                wait_for_js(client, "the refusal", "return document.querySelector('#update-error')?.textContent.trim()")
                    .await?;
            let error = error.as_str().unwrap_or_default().to_owned();
            ensure!(error.contains("refused") || error.contains("signature"), "refusal: {error}");
            // The app is still here and working.
            click(client, "#nav-locks").await?;
            wait_visible(client, "#locks-view").await?;
            screenshot(client, "view-update-refused").await?;
            Ok(())
        })
        .await
}
