//! Updates that install themselves — but only when the user says so.
//!
//! The app looks for a new version shortly after start and then at most once a day. A found
//! update is offered in the UI (`update-available`); nothing is downloaded or installed until the
//! user presses "Install and restart", so work in progress is never interrupted. An update whose
//! signature does not match the public key in tauri.conf.json is refused. A failed or offline
//! check is only logged: it is no error of the user's, and it does not count as the day's check.

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tauri::{AppHandle, Emitter, Manager, Runtime};
use tauri_plugin_updater::{Update, UpdaterExt};

use crate::error::{AppError, ErrorKind, Result};
use crate::sync::lock;
use crate::views::UpdateInfo;

pub const UPDATE_AVAILABLE: &str = "update-available";
const FIRST_CHECK_AFTER: Duration = Duration::from_secs(10);
const CHECK_EVERY: chrono::Duration = chrono::Duration::hours(24);

/// The reqwest the updater plugin builds its clients with: `configure_client` hands us its builder.
type UpdaterClientBuilder = reqwest::ClientBuilder;

/// Limits on the updater's requests. There is no limit on a whole request: the download may be a
/// large bundle on a slow office line, and a cut-off download starts again from nothing. Only a
/// connection that cannot be made, or goes silent, is given up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestLimits {
    pub connect: Duration,
    /// The longest wait for the next bytes of an answer.
    pub silence: Duration,
}

pub const REQUEST_LIMITS: RequestLimits =
    RequestLimits { connect: Duration::from_secs(30), silence: Duration::from_secs(60) };

impl RequestLimits {
    /// Sets these limits on a client the updater is building, for the check and the download alike.
    /// (The plugin's own `timeout` would limit the whole download, so it is never set.)
    pub fn apply(self, client: UpdaterClientBuilder) -> UpdaterClientBuilder {
        client.connect_timeout(self.connect).read_timeout(self.silence)
    }
}

/// The update found by the last check, kept until the user installs it.
#[derive(Default)]
pub struct PendingUpdate(Mutex<Option<Update>>);

/// When the app last looked for an update; kept by the app shell in the settings.
pub trait CheckLog: Send + Sync + 'static {
    fn last_check(&self, app: &AppHandle) -> Option<DateTime<Utc>>;
    fn record_check(&self, app: &AppHandle, at: DateTime<Utc>);
}

/// The time to remember as the last check: only a check that got an answer counts, so a failed one
/// (offline, server down) is tried again at the next hourly look instead of a day later.
pub fn time_to_remember<T, E>(outcome: &std::result::Result<T, E>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    outcome.as_ref().ok().map(|_| now)
}

/// Whether a check is due: none ever made, or the last one a day ago or more.
pub fn check_due(last_check: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_check.is_none_or(|last| now - last >= CHECK_EVERY || last > now)
}

/// Debug builds only: tests point the updater at a loopback server and their own key.
fn test_overrides() -> (Option<String>, Option<String>) {
    if cfg!(debug_assertions) {
        (std::env::var("UNLOC_UPDATER_ENDPOINT").ok(), std::env::var("UNLOC_UPDATER_PUBKEY").ok())
    } else {
        (None, None)
    }
}

async fn find_update<R: Runtime>(app: &AppHandle<R>) -> std::result::Result<Option<Update>, String> {
    let mut builder = app.updater_builder().configure_client(|client| REQUEST_LIMITS.apply(client));
    let (endpoint, pubkey) = test_overrides();
    if let Some(endpoint) = endpoint {
        let url = endpoint.parse().map_err(|error| format!("bad test endpoint: {error}"))?;
        builder = builder.endpoints(vec![url]).map_err(|error| error.to_string())?;
    }
    if let Some(pubkey) = pubkey {
        builder = builder.pubkey(pubkey);
    }
    let updater = builder.build().map_err(|error| error.to_string())?;
    updater.check().await.map_err(|error| error.to_string())
}

fn info_of(update: &Update) -> UpdateInfo {
    UpdateInfo {
        version: update.version.clone(),
        current_version: update.current_version.clone(),
        notes: update.body.clone().filter(|notes| !notes.trim().is_empty()),
    }
}

/// Looks for an update and, if there is one, tells the UI. Never fails loudly.
async fn check_quietly(app: &AppHandle, log: &dyn CheckLog) {
    let result = find_update(app).await;
    if let Some(checked) = time_to_remember(&result, Utc::now()) {
        log.record_check(app, checked);
    }
    match result {
        Ok(Some(update)) => {
            let info = info_of(&update);
            log::info!("update {} available", info.version);
            *lock(&app.state::<PendingUpdate>().0) = Some(update);
            if let Err(error) = app.emit(UPDATE_AVAILABLE, &info) {
                log::warn!("could not offer the update: {error}");
            }
        }
        Ok(None) => log::info!("no update available"),
        Err(error) => log::info!("update check failed (ignored): {error}"),
    }
}

/// At start (after a short while, so start-up stays fast) and then daily, while the app runs.
pub fn spawn_background_checks(app: AppHandle, log: impl CheckLog) {
    tauri::async_runtime::spawn(async move {
        tokio::time::sleep(FIRST_CHECK_AFTER).await;
        loop {
            if check_due(log.last_check(&app), Utc::now()) {
                check_quietly(&app, &log).await;
            }
            tokio::time::sleep(Duration::from_secs(60 * 60)).await;
        }
    });
}

/// Looks for an update now ("Check for updates" in Settings) and keeps it for `install`.
/// Failures are errors here: the user asked, so they are said plainly.
pub async fn check_now<R: Runtime>(app: &AppHandle<R>, pending: &PendingUpdate) -> Result<Option<UpdateInfo>> {
    let found = find_update(app).await.map_err(|error| AppError::new(ErrorKind::Offline, error))?;
    let info = found.as_ref().map(info_of);
    *lock(&pending.0) = found;
    Ok(info)
}

/// Downloads the offered update, checks its signature and installs it (the caller restarts).
pub async fn install(pending: &PendingUpdate) -> Result<()> {
    let mut update = lock(&pending.0)
        .take()
        .ok_or_else(|| AppError::new(ErrorKind::NotFound, "no update is waiting to be installed"))?;
    // No limit on the whole download (see `RequestLimits`): a slow line must be able to fetch it all.
    update.timeout = None;
    let bytes = update.download(|_, _| {}, || {}).await.map_err(|error| match error {
        tauri_plugin_updater::Error::Minisign(_) | tauri_plugin_updater::Error::SignatureUtf8(_) => {
            AppError::new(ErrorKind::UpdateRejected, format!("the update's signature is not valid: {error}"))
        }
        other => AppError::new(ErrorKind::Offline, format!("the update could not be downloaded: {other}")),
    })?;
    // `download` already verifies; checking again here keeps the rule visible: no valid signature, no install.
    update.verify(&bytes).map_err(|error| {
        AppError::new(ErrorKind::UpdateRejected, format!("the update's signature is not valid: {error}"))
    })?;
    update.install(&bytes).map_err(|error| AppError::internal(format!("the update could not be installed: {error}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_failed_check_is_not_remembered_so_the_next_hourly_look_tries_again() {
        let yesterday = Some(at("2026-11-25T11:00:00Z"));
        let now = at("2026-11-26T12:00:00Z");
        let failed: std::result::Result<Option<()>, String> = Err("offline".into());
        let answered: std::result::Result<Option<()>, String> = Ok(None);
        assert_eq!(time_to_remember(&failed, now), None);
        assert_eq!(time_to_remember(&answered, now), Some(now));
        let after_failure = time_to_remember(&failed, now).or(yesterday);
        assert!(check_due(after_failure, now + chrono::Duration::hours(1)));
        let after_answer = time_to_remember(&answered, now).or(yesterday);
        assert!(!check_due(after_answer, now + chrono::Duration::hours(1)));
    }

    /// Serves one request: promises `promised` bytes of body, sends `sent` of them one at a time,
    /// `pause` apart, then keeps the connection open and silent until the test ends. Returns the URL.
    async fn serve_slowly(promised: usize, sent: usize, pause: Duration) -> String {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut request = [0u8; 4096];
            let _ = stream.read(&mut request).await;
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {promised}\r\n\r\n");
            stream.write_all(head.as_bytes()).await.unwrap();
            for _ in 0..sent {
                tokio::time::sleep(pause).await;
                if stream.write_all(b"x").await.is_err() {
                    return;
                }
            }
            std::future::pending::<()>().await;
        });
        format!("http://{address}/bundle")
    }

    async fn download(url: &str, limits: RequestLimits) -> std::result::Result<usize, reqwest::Error> {
        let client = limits.apply(crate::api::http_client_builder()).build()?;
        Ok(client.get(url).send().await?.bytes().await?.len())
    }

    #[tokio::test]
    async fn a_download_that_keeps_arriving_is_never_cut_off_however_long_it_takes() {
        // 40 pauses of 75 ms: three times the (shortened) silence limit in all, never silent for long.
        let limits = RequestLimits { silence: Duration::from_secs(1), ..REQUEST_LIMITS };
        let url = serve_slowly(40, 40, Duration::from_millis(75)).await;
        assert_eq!(download(&url, limits).await.unwrap(), 40);
    }

    #[tokio::test]
    async fn a_download_that_goes_silent_is_given_up() {
        let limits = RequestLimits { silence: Duration::from_secs(1), ..REQUEST_LIMITS };
        // One byte of the two promised arrives, then nothing.
        let url = serve_slowly(2, 1, Duration::ZERO).await;
        let outcome = tokio::time::timeout(Duration::from_secs(10), download(&url, limits))
            .await
            .expect("a silent download must be given up, not waited for forever");
        assert!(outcome.is_err_and(|error| error.is_timeout()));
    }

    #[test]
    fn checks_at_most_daily() {
        let now = at("2026-11-26T12:00:00Z");
        assert!(check_due(None, now));
        assert!(!check_due(Some(at("2026-11-26T08:00:00Z")), now));
        assert!(check_due(Some(at("2026-11-25T11:59:00Z")), now));
        assert!(check_due(Some(at("2027-01-01T00:00:00Z")), now), "a clock that went back does not stop checks");
    }
}
