//! One HTTP client for the Unloc Partner API: built once, authenticated, with timeouts, typed
//! errors, and every request through one [`Governor`] (concurrency, budget, shared pauses) with a
//! careful retry policy for idempotent reads.
//!
//! The token goes to the configured API address and nowhere else: redirects are never followed (a
//! 3xx is an error), and a loopback address (the simulator) is reached directly, never through a
//! proxy from the environment.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};
use secrecy::zeroize::Zeroizing;
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::governor::{Governor, GovernorConfig, GovernorStatus, PauseCause, Paused, Priority, Verdict};
use super::models::{CreatedKey, EventList, Key, LockList, NewKey};
use super::url_rules::{encode_segment, ApiBase, PartnerId};

/// Bodies larger than this are refused rather than read into memory; the largest lock list
/// (10,000 locks) is about 2 MB.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;
/// Only the human text of an error body is used; a huge one is not worth reading.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;
/// A lock's event history may be larger: two months of a very busy door. 128 MiB is some 600,000
/// events; a larger history is refused with its own error ([`ApiError::TooLarge`]).
pub const MAX_HISTORY_BYTES: usize = 128 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    /// The first back-off after a server error, timeout or broken connection (429/503 wait for the
    /// governor's shared pause instead).
    pub base_delay: Duration,
    /// The longest a request waits for a pause (Retry-After, lock-out): longer pauses go to the
    /// user at once instead.
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_attempts: 3, base_delay: Duration::from_millis(300), max_wait: Duration::from_secs(10) }
    }
}

pub struct ClientConfig {
    pub api_base: ApiBase,
    pub partner_id: PartnerId,
    pub token: SecretString,
    pub connect_timeout: Duration,
    /// The longest silence while waiting for an answer: for its head, then between two pieces of its
    /// body. There is no limit on a whole answer: a 100 MiB history on a slow office line takes
    /// minutes but keeps arriving; only an answer that stops arriving is given up.
    pub read_timeout: Duration,
    pub retry: RetryPolicy,
    /// Concurrency, budget and pauses of every request this client sends.
    pub governor: GovernorConfig,
}

impl ClientConfig {
    pub fn new(api_base: ApiBase, partner_id: PartnerId, token: SecretString) -> Self {
        ClientConfig {
            api_base,
            partner_id,
            token,
            connect_timeout: Duration::from_secs(5),
            read_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
            governor: GovernorConfig::default(),
        }
    }
}

pub struct ApiClient {
    http: reqwest::Client,
    /// `{base}/partners/{partnerId}`, the partner id already encoded.
    partner_root: String,
    partner_id: PartnerId,
    api_base: ApiBase,
    token: SecretString,
    /// `Bearer {token}`, built once and shared by every request (see [`bearer`]); `None` when the
    /// token cannot be a header value, and every request is then `Unauthorized`.
    authorization: Option<HeaderValue>,
    retry: RetryPolicy,
    /// Every request of this client passes here; a new client (a new sign-in) starts without pauses.
    governor: Governor,
}

impl std::fmt::Debug for ApiClient {
    // Hand-written so that no debug print can ever show the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("partner_root", &self.partner_root).finish_non_exhaustive()
    }
}

/// The client's requests at one priority: `client.with_priority(Priority::Background).get_key(id)`.
#[derive(Debug, Clone, Copy)]
pub struct Prioritized<'a> {
    client: &'a ApiClient,
    priority: Priority,
}

/// The one place an HTTP client of the app is begun: Unloc's client below, and the updater's limits
/// tested against a real connection (the updater plugin builds its own client in the shipped app and
/// hands it to `updates` to limit). Every HTTP client made here uses the app's crypto provider.
pub fn http_client_builder() -> reqwest::ClientBuilder {
    // reqwest brings no crypto provider of its own (feature rustls-no-provider): the app uses ring.
    // Installing it again is a harmless error.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
}

impl ApiClient {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let mut builder = http_client_builder()
            .user_agent(concat!("UnlocDesk/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .read_timeout(config.read_timeout)
            // A redirect would take the request elsewhere; it is reported instead (`status_error`).
            .redirect(reqwest::redirect::Policy::none())
            .https_only(false); // ApiBase already allows plain http only on loopback.
        if config.api_base.is_loopback() {
            // HTTP(S)_PROXY/ALL_PROXY (and a system proxy) are for reaching the world; a proxy would
            // see this plain-http loopback traffic, token included. Anything else keeps the proxy
            // an office may need to reach Unloc (https through it is a tunnel the proxy cannot read).
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|error| ApiError::Offline { reason: format!("could not set up the connection: {error}") })?;
        let partner_root =
            format!("{}/partners/{}", config.api_base.as_str(), encode_segment(config.partner_id.as_str()));
        Ok(ApiClient {
            http,
            partner_root,
            partner_id: config.partner_id,
            api_base: config.api_base,
            authorization: bearer(&config.token),
            token: config.token,
            retry: config.retry,
            governor: Governor::new(config.governor),
        })
    }

    pub fn partner_id(&self) -> &PartnerId {
        &self.partner_id
    }

    pub fn api_base(&self) -> &ApiBase {
        &self.api_base
    }

    /// What the governor is doing now (in flight, queued, paused).
    pub fn governor_status(&self) -> GovernorStatus {
        self.governor.status()
    }

    /// This client's requests at `priority`; the plain methods below are `Priority::User`.
    pub fn with_priority(&self, priority: Priority) -> Prioritized<'_> {
        Prioritized { client: self, priority }
    }

    /// `GET /locks`: every lock the owners granted this partner (unreadable ones counted, not shown).
    pub async fn list_locks(&self) -> Result<LockList, ApiError> {
        self.with_priority(Priority::User).list_locks().await
    }

    /// `GET /locks/{lockId}/events`: every use of this partner's keys on one lock (two months at most).
    pub async fn list_events(&self, lock_id: &str) -> Result<EventList, ApiError> {
        self.with_priority(Priority::User).list_events(lock_id).await
    }

    /// `POST /keys`: asks Unloc to create a key. See [`Prioritized::create_key`].
    pub async fn create_key(&self, key: &NewKey) -> Result<CreatedKey, ApiError> {
        self.with_priority(Priority::User).create_key(key).await
    }

    /// `GET /keys/{keyId}`: a key's state, validity and uses.
    pub async fn get_key(&self, key_id: &str) -> Result<Key, ApiError> {
        self.with_priority(Priority::User).get_key(key_id).await
    }

    /// `DELETE /keys/{keyId}`: revokes a key at once. A second revoke answers 409 (`Conflict`).
    pub async fn revoke_key(&self, key_id: &str) -> Result<(), ApiError> {
        self.with_priority(Priority::User).revoke_key(key_id).await
    }

    /// Sends one request through the governor, retrying an idempotent one after transient failures:
    /// 429/503 wait for the shared pause, other failures back off exponentially with jitter.
    async fn send(&self, priority: Priority, request: Request<'_>, max_body: usize) -> Result<Vec<u8>, ApiError> {
        let mut attempt = 1;
        let mut not_before = None;
        let mut last_error: Option<ApiError> = None;
        loop {
            let permit = match self.governor.admit(priority, self.retry.max_wait, not_before).await {
                Ok(permit) => permit,
                // A retry that would wait too long reports what Unloc last said.
                Err(paused) => return Err(last_error.unwrap_or_else(|| paused_error(paused))),
            };
            let result = self.send_unchecked(&request, max_body).await;
            self.governor.observe(verdict_of(&result));
            drop(permit);
            let error = match result {
                Ok(bytes) => return Ok(bytes),
                Err(error) => error,
            };
            if !(request.idempotent() && error.is_transient() && attempt < self.retry.max_attempts) {
                return Err(error);
            }
            if error.retry_after().is_some_and(|asked| asked > self.retry.max_wait) {
                // Longer than we keep anyone waiting: said at once; the pause keeps everyone quiet.
                return Err(error);
            }
            not_before = match error {
                // The governor's shared pause is the wait.
                ApiError::RateLimited { .. } | ApiError::Maintenance { .. } => None,
                _ => {
                    let now = tokio::time::Instant::now();
                    Some(now.checked_add(self.back_off(attempt)).unwrap_or(now))
                }
            };
            log::info!("{} {} failed ({error}); attempt {}", request.method, self.redact(request.url), attempt + 1);
            last_error = Some(error);
            attempt += 1;
        }
    }

    /// The wait before attempt `attempt + 1` after a server error, timeout or broken connection.
    fn back_off(&self, attempt: u32) -> Duration {
        let exponential = self.retry.base_delay.saturating_mul(1 << attempt.saturating_sub(1).min(8));
        // Full jitter keeps many desktops that lost the network together from coming back in step.
        let jitter = exponential.mul_f64(fastrand::f64() * 0.5);
        exponential.saturating_add(jitter).min(self.retry.max_wait)
    }

    async fn send_unchecked(&self, request: &Request<'_>, max_body: usize) -> Result<Vec<u8>, ApiError> {
        let mut builder = self.http.request(request.method.clone(), request.url);
        if let Some(body) = &request.body {
            builder = builder.header(reqwest::header::CONTENT_TYPE, "application/json").body(body.clone());
        }
        // A clone shares the one zeroizing buffer (no new copy of the token per request).
        let authorization = self.authorization.clone().ok_or(ApiError::Unauthorized)?;
        builder = builder.header(AUTHORIZATION, authorization);
        let response = builder.send().await.map_err(transport_error)?;
        let status = response.status();
        if status.is_success() {
            return read_body(response, max_body).await;
        }
        let retry_after = parse_retry_after(response.headers(), chrono::Utc::now());
        let detail = read_body(response, MAX_ERROR_BODY_BYTES).await.ok().and_then(|bytes| self.error_detail(&bytes));
        Err(status_error(status, request.method == Method::GET, retry_after, detail))
    }

    /// The human part of an error body, if any (hardened in `decode::error_detail`).
    fn error_detail(&self, bytes: &[u8]) -> Option<String> {
        super::decode::error_detail(bytes, self.token.expose_secret())
    }

    /// Whatever text leaves this client, the token is not in it.
    fn redact(&self, text: &str) -> String {
        let token = self.token.expose_secret();
        // A very short "token" would blank out ordinary letters; real tokens are 32+ characters.
        if token.len() < 8 {
            text.to_owned()
        } else {
            text.replace(token, "[token]")
        }
    }
}

impl Prioritized<'_> {
    /// `GET /locks`: every lock the owners granted this partner; a lock that cannot be read is
    /// skipped and counted (`LockList::skipped`), only a broken envelope fails the answer.
    pub async fn list_locks(self) -> Result<LockList, ApiError> {
        let url = format!("{}/locks", self.client.partner_root);
        let bytes = self.client.send(self.priority, Request::get(&url), MAX_BODY_BYTES).await?;
        super::decode::locks_redacting(&bytes, self.client.token.expose_secret())
    }

    /// `GET /locks/{lockId}/events`: every use of this partner's keys on one lock (two months at
    /// most), unreadable events skipped and counted. Up to [`MAX_HISTORY_BYTES`].
    pub async fn list_events(self, lock_id: &str) -> Result<EventList, ApiError> {
        let url = format!("{}/locks/{}/events", self.client.partner_root, encode_segment(lock_id));
        let bytes = self.client.send(self.priority, Request::get(&url), MAX_HISTORY_BYTES).await?;
        super::decode::events_redacting(&bytes, self.client.token.expose_secret())
    }

    /// `POST /keys`: asks Unloc to create a key. Asynchronous on Unloc's side: the key starts
    /// as `creating`. Never retried: a retry after a lost answer could create a second key.
    pub async fn create_key(self, key: &NewKey) -> Result<CreatedKey, ApiError> {
        let body = serde_json::to_vec(key).map_err(|error| ApiError::InvalidResponse { detail: error.to_string() })?;
        let url = format!("{}/keys", self.client.partner_root);
        let request = Request { method: Method::POST, url: &url, body: Some(body) };
        let bytes = self.client.send(self.priority, request, MAX_BODY_BYTES).await?;
        json(&bytes, self.client.token.expose_secret())
    }

    /// `GET /keys/{keyId}`: a key's state, validity and uses.
    pub async fn get_key(self, key_id: &str) -> Result<Key, ApiError> {
        let url = format!("{}/keys/{}", self.client.partner_root, encode_segment(key_id));
        let bytes = self.client.send(self.priority, Request::get(&url), MAX_BODY_BYTES).await?;
        json(&bytes, self.client.token.expose_secret())
    }

    /// `DELETE /keys/{keyId}`: revokes a key at once. A second revoke answers 409 (`Conflict`).
    pub async fn revoke_key(self, key_id: &str) -> Result<(), ApiError> {
        let url = format!("{}/keys/{}", self.client.partner_root, encode_segment(key_id));
        // Only the status matters: the documented body is `{"response":"OK"}`, but any 2xx will do.
        let request = Request { method: Method::DELETE, url: &url, body: None };
        self.client.send(self.priority, request, MAX_BODY_BYTES).await.map(drop)
    }
}

/// The `Authorization` header for `token`, marked sensitive: its `Debug` shows no token, and HTTP/2
/// never puts it in the header compression table. `None` if the token holds characters a header
/// cannot carry.
///
/// Where the token lives, and for how long: the `SecretString` is zeroized when the client is dropped,
/// and this header's bytes, built in place (capacity reserved up front, so no reallocation leaves a
/// stale copy), sit in a `Zeroizing` buffer shared by every request, wiped when the client and the last
/// request holding a clone are gone. What remains beyond our reach: the copies hyper and rustls make
/// while writing a request (their buffers are reused and freed, not wiped). The Unloc token is one
/// long-lived credential the app keeps for the whole session anyway, so that window is what it costs
/// to send it at all.
fn bearer(token: &SecretString) -> Option<HeaderValue> {
    const PREFIX: &[u8] = b"Bearer ";
    let token = token.expose_secret().as_bytes();
    let mut value = Zeroizing::new(Vec::with_capacity(PREFIX.len() + token.len()));
    value.extend_from_slice(PREFIX);
    value.extend_from_slice(token);
    // `from_maybe_shared` keeps a `Bytes` as it is, so the header owns the zeroizing buffer itself.
    let mut header = HeaderValue::from_maybe_shared(hyper::body::Bytes::from_owner(value)).ok()?;
    header.set_sensitive(true);
    Some(header)
}

fn json<T: DeserializeOwned>(bytes: &[u8], token: &str) -> Result<T, ApiError> {
    super::decode::json_redacting(bytes, token)
}

/// One HTTP request, kept so that it can be sent again.
struct Request<'a> {
    method: Method,
    url: &'a str,
    body: Option<Vec<u8>>,
}

impl<'a> Request<'a> {
    fn get(url: &'a str) -> Self {
        Request { method: Method::GET, url, body: None }
    }

    /// Only reads are sent again: a repeated POST could make a second key, a repeated DELETE
    /// would answer 409 for a revoke that worked.
    fn idempotent(&self) -> bool {
        self.method == Method::GET
    }
}

/// What an answer means for every other request of the client.
fn verdict_of(result: &Result<Vec<u8>, ApiError>) -> Verdict {
    match result {
        Err(ApiError::RateLimited { retry_after }) => {
            Verdict::SlowDown { cause: PauseCause::RateLimited, retry_after: *retry_after }
        }
        Err(ApiError::Maintenance { retry_after }) => {
            Verdict::SlowDown { cause: PauseCause::Unavailable, retry_after: *retry_after }
        }
        Err(ApiError::LockedOut) => Verdict::LockedOut,
        _ => Verdict::Answered,
    }
}

/// The error a request gets when it was not sent because of a pause: what caused the pause,
/// with the time left rounded up to whole seconds (the UI says "wait N seconds").
fn paused_error(paused: Paused) -> ApiError {
    let whole_seconds = paused.remaining.as_secs().saturating_add(u64::from(paused.remaining.subsec_nanos() > 0));
    let remaining = Some(Duration::from_secs(whole_seconds));
    match paused.cause {
        PauseCause::RateLimited => ApiError::RateLimited { retry_after: remaining },
        PauseCause::Unavailable => ApiError::Maintenance { retry_after: remaining },
        PauseCause::LockedOut => ApiError::LockedOut,
    }
}

fn status_error(status: StatusCode, is_read: bool, retry_after: Option<Duration>, detail: Option<String>) -> ApiError {
    match status.as_u16() {
        // Unloc's API never redirects; a redirect comes from something between (a proxy, a captive
        // portal, a hijacked DNS name). Following it would send the request, token and all, elsewhere.
        code @ 300..=399 => ApiError::InvalidResponse {
            detail: format!("Unloc answered with a redirect ({code}), which this app does not follow"),
        },
        400 => ApiError::BadRequest { detail },
        401 => ApiError::Unauthorized,
        // Reads are only refused with 403 during Unloc's lock-out after wrong tokens.
        403 if is_read => ApiError::LockedOut,
        403 => ApiError::Forbidden { detail },
        404 => ApiError::NotFound,
        405 => ApiError::MethodNotAllowed,
        406 => ApiError::NotAcceptable,
        409 => ApiError::Conflict { detail },
        422 => ApiError::Invalid { detail },
        429 => ApiError::RateLimited { retry_after },
        503 => ApiError::Maintenance { retry_after },
        code @ 500..=599 => ApiError::Server { status: code },
        code => ApiError::UnexpectedStatus { status: code },
    }
}

/// The longest `Retry-After` taken at its word; the governor caps its pauses the same way.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60 * 60);

/// `Retry-After` as delay-seconds or an HTTP-date (IMF-fixdate, RFC 850 or asctime), at most an hour.
/// Whatever the header holds, this never panics: a number too large for any clock is an hour, a date
/// in the past is no wait, and anything else (negative, fractional, garbage) is as if not sent.
fn parse_retry_after(headers: &HeaderMap, now: chrono::DateTime<chrono::Utc>) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if !text.is_empty() && text.bytes().all(|byte| byte.is_ascii_digit()) {
        // All digits: only its size can be wrong, and a huge wait is the longest wait.
        let seconds = text.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds).min(MAX_RETRY_AFTER));
    }
    let when = http_date(text)?;
    let seconds = when.timestamp().checked_sub(now.timestamp())?.max(0);
    Some(Duration::from_secs(seconds.unsigned_abs()).min(MAX_RETRY_AFTER))
}

fn http_date(text: &str) -> Option<chrono::DateTime<chrono::Utc>> {
    if let Ok(moment) = chrono::DateTime::parse_from_rfc2822(text) {
        return Some(moment.with_timezone(&chrono::Utc));
    }
    // The two obsolete forms RFC 9110 still asks recipients to accept.
    ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"]
        .iter()
        .find_map(|format| chrono::NaiveDateTime::parse_from_str(text, format).ok())
        .map(|naive| naive.and_utc())
}

async fn read_body(mut response: Response, max_body: usize) -> Result<Vec<u8>, ApiError> {
    if response.content_length().is_some_and(|length| length > max_body as u64) {
        return Err(too_large(max_body));
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if bytes.len().saturating_add(chunk.len()) > max_body {
            return Err(too_large(max_body));
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// Whether an error's causes say the connection ended early (reset, or closed mid-message).
fn connection_broke(error: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind::{BrokenPipe, ConnectionAborted, ConnectionReset, UnexpectedEof};
            if matches!(io.kind(), ConnectionReset | ConnectionAborted | BrokenPipe | UnexpectedEof) {
                return true;
            }
        }
        if let Some(hyper) = cause.downcast_ref::<hyper::Error>() {
            if hyper.is_incomplete_message() || hyper.is_closed() {
                return true;
            }
        }
        let text = cause.to_string();
        if text.contains("end of file before message length reached") || text.contains("connection reset") {
            return true;
        }
        source = cause.source();
    }
    false
}

fn too_large(max_body: usize) -> ApiError {
    ApiError::TooLarge { limit_mb: max_body / 1024 / 1024 }
}

fn transport_error(error: reqwest::Error) -> ApiError {
    if error.is_timeout() {
        return ApiError::Timeout;
    }
    // reqwest reports any failure while reading a body as a decode error; a connection that broke
    // (reset, or closed before the promised length) is a network problem worth a retry, not garbage.
    if error.is_body() || (error.is_decode() && connection_broke(&error)) {
        return ApiError::Offline { reason: "the connection broke while the answer was arriving".to_owned() };
    }
    if error.is_decode() {
        return ApiError::InvalidResponse { detail: "the answer was cut off or garbled".to_owned() };
    }
    // reqwest's own message names the URL (no token); keep the innermost cause, which
    // says what actually went wrong (refused, DNS, TLS...).
    let mut reason = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(inner) = source {
        reason = inner.to_string();
        source = inner.source();
    }
    ApiError::Offline { reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_every_documented_status() {
        let map = |code: u16, read: bool| status_error(StatusCode::from_u16(code).unwrap(), read, None, None);
        assert_eq!(map(400, true), ApiError::BadRequest { detail: None });
        assert_eq!(map(401, true), ApiError::Unauthorized);
        assert_eq!(map(403, true), ApiError::LockedOut);
        assert_eq!(map(403, false), ApiError::Forbidden { detail: None });
        assert_eq!(map(404, true), ApiError::NotFound);
        assert_eq!(map(405, true), ApiError::MethodNotAllowed);
        assert_eq!(map(406, true), ApiError::NotAcceptable);
        assert_eq!(map(409, false), ApiError::Conflict { detail: None });
        assert_eq!(map(422, false), ApiError::Invalid { detail: None });
        assert_eq!(map(429, true), ApiError::RateLimited { retry_after: None });
        assert_eq!(map(500, true), ApiError::Server { status: 500 });
        assert_eq!(map(502, true), ApiError::Server { status: 502 });
        assert_eq!(map(503, true), ApiError::Maintenance { retry_after: None });
        assert_eq!(map(418, true), ApiError::UnexpectedStatus { status: 418 });
        for code in [301, 302, 303, 307, 308] {
            let ApiError::InvalidResponse { detail } = map(code, true) else { panic!("{code}") };
            assert!(detail.contains("redirect") && detail.contains(&code.to_string()), "{detail}");
        }
    }

    #[test]
    fn only_transient_errors_are_retried() {
        assert!(ApiError::Server { status: 500 }.is_transient());
        assert!(ApiError::Timeout.is_transient());
        assert!(!ApiError::Unauthorized.is_transient());
        assert!(!ApiError::LockedOut.is_transient());
        assert!(!ApiError::NotFound.is_transient());
    }

    fn retry_after(value: &str) -> Option<Duration> {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_str(value).unwrap());
        let now = chrono::DateTime::parse_from_rfc3339("2026-03-01T12:00:00Z").unwrap().with_timezone(&chrono::Utc);
        parse_retry_after(&headers, now)
    }

    #[test]
    fn reads_retry_after_in_seconds_and_as_an_http_date() {
        assert_eq!(retry_after("30"), Some(Duration::from_secs(30)));
        assert_eq!(retry_after(" 3 "), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("0"), Some(Duration::ZERO));
        assert_eq!(retry_after("Sun, 01 Mar 2026 12:00:45 GMT"), Some(Duration::from_secs(45)));
        assert_eq!(retry_after("Sunday, 01-Mar-26 12:01:00 GMT"), Some(Duration::from_secs(60)));
        assert_eq!(retry_after("Sun Mar  1 12:00:10 2026"), Some(Duration::from_secs(10)));
    }

    #[test]
    fn absurd_retry_after_values_never_panic_and_wait_at_most_an_hour() {
        let hour = Some(Duration::from_secs(60 * 60));
        assert_eq!(retry_after("7200"), hour);
        assert_eq!(retry_after("18446744073709551615"), hour);
        assert_eq!(retry_after("99999999999999999999999999999999999999"), hour);
        assert_eq!(retry_after("Fri, 31 Dec 9999 23:59:59 GMT"), hour);
        // A date in the past is no wait at all.
        assert_eq!(retry_after("Thu, 01 Jan 1970 00:00:00 GMT"), Some(Duration::ZERO));
        for garbage in ["-5", "-99999999999999999999", "1.5", "soon", "", "+3", "3s", "Sun, 99 Foo 2026 99:99:99 GMT"] {
            assert_eq!(retry_after(garbage), None, "{garbage:?}");
        }
    }

    #[test]
    fn a_pause_says_what_caused_it_and_the_seconds_left_rounded_up() {
        let paused = |cause, millis| paused_error(Paused { cause, remaining: Duration::from_millis(millis) });
        assert_eq!(
            paused(PauseCause::RateLimited, 2_100),
            ApiError::RateLimited { retry_after: Some(Duration::from_secs(3)) }
        );
        assert_eq!(
            paused(PauseCause::Unavailable, 120_000),
            ApiError::Maintenance { retry_after: Some(Duration::from_secs(120)) }
        );
        assert_eq!(paused(PauseCause::LockedOut, 300_000), ApiError::LockedOut);
    }

    fn client_with_token(token: &str) -> ApiClient {
        ApiClient::new(ClientConfig::new(
            ApiBase::production(),
            PartnerId::parse("partner-x").unwrap(),
            SecretString::from(token.to_owned()),
        ))
        .unwrap()
    }

    #[test]
    fn the_authorization_header_is_sensitive_and_never_holds_a_broken_token() {
        let client = client_with_token("s3cret-token-value");
        let header = client.authorization.as_ref().unwrap();
        assert_eq!(header.as_bytes(), b"Bearer s3cret-token-value");
        assert!(header.is_sensitive());
        // Debug prints of the request (reqwest's, a log line) show `Sensitive`, not the token.
        assert!(!format!("{header:?}").contains("s3cret"), "{header:?}");
        // A token a header cannot carry: every request is refused before it is sent.
        assert!(client_with_token("line\nbreak").authorization.is_none());
    }

    #[test]
    fn error_details_never_carry_the_token() {
        let client = client_with_token("s3cret-token-value");
        let detail = client.error_detail(br#"{"message":"token s3cret-token-value is wrong"}"#).unwrap();
        assert_eq!(detail, "token [token] is wrong");
        assert!(!format!("{client:?}").contains("s3cret"));
    }

    #[test]
    fn error_details_are_short_single_line_text() {
        let client = client_with_token("t");
        let long = format!(r#"{{"error":"{}\nline"}}"#, "x".repeat(500));
        let detail = client.error_detail(long.as_bytes()).unwrap();
        assert_eq!(detail.chars().count(), 200);
        assert!(!detail.contains('\n'));
        assert_eq!(client.error_detail(b"<html>oops</html>"), None);
    }

    #[test]
    fn the_partner_id_is_encoded_into_the_path() {
        let client = ApiClient::new(ClientConfig::new(
            ApiBase::parse("http://127.0.0.1:9/v1").unwrap(),
            PartnerId::parse("a/b?c").unwrap(),
            SecretString::from("t".to_owned()),
        ))
        .unwrap();
        assert_eq!(client.partner_root, "http://127.0.0.1:9/v1/partners/a%2Fb%3Fc");
    }
}
