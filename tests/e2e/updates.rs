//! Updates: an update is offered, installed only when the user says so, and refused when its signature
//! is not the app's.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use serde_json::json;
use unloc_sim::SimConfig;

use crate::harness::*;

/// What the update server was asked for.
struct Asked {
    /// `latest.json`: the check.
    manifest: Arc<AtomicUsize>,
    /// The update itself: the download.
    payload: Arc<AtomicUsize>,
}

/// A loopback update server: `latest.json` offers 9.9.9, signed with a key that is not the app's.
fn serve_update() -> TestResult<(u16, Asked)> {
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
    let asked = Asked { manifest: Arc::new(AtomicUsize::new(0)), payload: Arc::new(AtomicUsize::new(0)) };
    let (manifest_hits, payload_hits) = (asked.manifest.clone(), asked.payload.clone());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            let mut request = [0u8; 4096];
            let read = stream.read(&mut request).unwrap_or(0);
            let head = String::from_utf8_lossy(&request[..read]);
            let (kind, body): (&str, &[u8]) = if head.starts_with("GET /latest.json") {
                manifest_hits.fetch_add(1, Ordering::SeqCst);
                ("application/json", manifest.as_bytes())
            } else {
                payload_hits.fetch_add(1, Ordering::SeqCst);
                ("application/octet-stream", &payload)
            };
            let header = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = stream.write_all(header.as_bytes()).and_then(|()| stream.write_all(body));
        }
    });
    Ok((port, asked))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_update_is_offered_and_a_wrongly_signed_one_is_refused() -> TestResult {
    let (port, asked) = serve_update()?;
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
            ensure!(asked.manifest.load(Ordering::SeqCst) >= 1, "the update server was never asked");
            ensure!(status.as_str().unwrap_or_default().contains("available"), "status: {status}");
            wait_visible(client, "#update-available").await?;
            screenshot(client, "view-update-offered").await?;
            // Nothing is downloaded until the user says so, even while the offer stays on screen.
            click(client, "#nav-locks").await?;
            wait_visible(client, "#locks-view").await?;
            click(client, "#nav-settings").await?;
            wait_visible(client, "#update-available").await?;
            ensure_eq!(asked.payload.load(Ordering::SeqCst), 0, "the update was downloaded before the user pressed Install");
            // Install: downloaded once, and the bad signature is refused.
            // The button sits at the foot of a taller Settings page now (Team database, Keep history
            // for): in the middle of the view, WebKitWebDriver's pointer click lands on it.
            client
                .execute("document.querySelector('#update-install').scrollIntoView({ block: 'center' }); return true;", vec![])
                .await?;
            click(client, "#update-install").await?;
            let error =
                wait_for_js(client, "the refusal", "return document.querySelector('#update-error')?.textContent.trim()")
                    .await?;
            let error = error.as_str().unwrap_or_default().to_owned();
            ensure!(error.contains("refused") || error.contains("signature"), "refusal: {error}");
            ensure_eq!(asked.payload.load(Ordering::SeqCst), 1, "Install downloads the update once");
            // The app is still here and working.
            click(client, "#nav-locks").await?;
            wait_visible(client, "#locks-view").await?;
            screenshot(client, "view-update-refused").await?;
            Ok(())
        })
        .await
}
