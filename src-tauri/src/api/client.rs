//! One HTTP client for the Unloc Partner API: built once, authenticated, with timeouts,
//! typed errors and a careful retry policy for idempotent reads.

use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION, RETRY_AFTER};
use reqwest::{Method, Response, StatusCode};
use secrecy::{ExposeSecret, SecretString};
use serde::de::DeserializeOwned;

use super::error::ApiError;
use super::models::{CreatedKey, EventsBody, Key, Lock, LockEvent, LocksBody, NewKey};
use super::url_rules::{encode_segment, ApiBase, PartnerId};

/// Bodies larger than this are refused rather than read into memory; the largest real
/// answer (100,000 events) is about 20 MB.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts in total, the first one included.
    pub max_attempts: u32,
    pub base_delay: Duration,
    /// A `Retry-After` longer than this is not waited for: the error goes to the user instead.
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
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
}

impl ClientConfig {
    pub fn new(api_base: ApiBase, partner_id: PartnerId, token: SecretString) -> Self {
        ClientConfig {
            api_base,
            partner_id,
            token,
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            retry: RetryPolicy::default(),
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
    retry: RetryPolicy,
    /// Unloc asked (Retry-After on 429/503) not to be called before this moment: nothing is sent until then.
    not_before: std::sync::Mutex<Option<std::time::Instant>>,
}

impl std::fmt::Debug for ApiClient {
    // Hand-written so that no debug print can ever show the token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiClient").field("partner_root", &self.partner_root).finish_non_exhaustive()
    }
}

impl ApiClient {
    pub fn new(config: ClientConfig) -> Result<Self, ApiError> {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(concat!("UnlocDesk/", env!("CARGO_PKG_VERSION")))
            .default_headers(headers)
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            .https_only(false) // ApiBase already allows plain http only on loopback.
            .build()
            .map_err(|error| ApiError::Offline { reason: format!("could not set up the connection: {error}") })?;
        let partner_root =
            format!("{}/partners/{}", config.api_base.as_str(), encode_segment(config.partner_id.as_str()));
        Ok(ApiClient {
            http,
            partner_root,
            partner_id: config.partner_id,
            api_base: config.api_base,
            token: config.token,
            retry: config.retry,
            not_before: std::sync::Mutex::new(None),
        })
    }

    pub fn partner_id(&self) -> &PartnerId {
        &self.partner_id
    }

    pub fn api_base(&self) -> &ApiBase {
        &self.api_base
    }

    /// `GET /locks`: every lock the owners granted this partner.
    pub async fn list_locks(&self) -> Result<Vec<Lock>, ApiError> {
        let body: LocksBody = self.get_json(&format!("{}/locks", self.partner_root)).await?;
        Ok(body.into_locks())
    }

    /// `GET /locks/{lockId}/events`: every use of this partner's keys on one lock (two months at most).
    pub async fn list_events(&self, lock_id: &str) -> Result<Vec<LockEvent>, ApiError> {
        let url = format!("{}/locks/{}/events", self.partner_root, encode_segment(lock_id));
        let body: EventsBody = self.get_json(&url).await?;
        Ok(body.events)
    }

    /// `POST /keys`: asks Unloc to create a key. Asynchronous on Unloc's side: the key starts
    /// as `creating`. Never retried: a retry after a lost answer could create a second key.
    pub async fn create_key(&self, key: &NewKey) -> Result<CreatedKey, ApiError> {
        let body = serde_json::to_vec(key).map_err(|error| ApiError::InvalidResponse { detail: error.to_string() })?;
        self.send_once(Method::POST, &format!("{}/keys", self.partner_root), Some(body)).await
    }

    /// `GET /keys/{keyId}`: a key's state, validity and uses.
    pub async fn get_key(&self, key_id: &str) -> Result<Key, ApiError> {
        self.get_json(&format!("{}/keys/{}", self.partner_root, encode_segment(key_id))).await
    }

    /// `DELETE /keys/{keyId}`: revokes a key at once. A second revoke answers 409 (`Conflict`).
    pub async fn revoke_key(&self, key_id: &str) -> Result<(), ApiError> {
        let url = format!("{}/keys/{}", self.partner_root, encode_segment(key_id));
        // Only the status matters: the documented body is `{"response":"OK"}`, but any 2xx will do.
        self.send_raw(Method::DELETE, &url, None).await.map(drop)
    }

    async fn get_json<T: DeserializeOwned>(&self, url: &str) -> Result<T, ApiError> {
        let mut attempt = 1;
        loop {
            match self.send_once(Method::GET, url, None).await {
                Ok(body) => return Ok(body),
                Err(error) if error.is_transient() && attempt < self.retry.max_attempts => {
                    let Some(wait) = self.wait_before_retry(&error, attempt) else {
                        return Err(error);
                    };
                    log::info!("GET {} failed ({error}); attempt {} in {:?}", self.redact(url), attempt + 1, wait);
                    tokio::time::sleep(wait).await;
                    attempt += 1;
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// How long to wait before the next attempt, or `None` when the server asked for
    /// longer than we are willing to keep the user waiting.
    fn wait_before_retry(&self, error: &ApiError, attempt: u32) -> Option<Duration> {
        if let Some(asked) = error.retry_after() {
            return (asked <= self.retry.max_wait).then_some(asked);
        }
        let exponential = self.retry.base_delay.saturating_mul(1 << (attempt - 1).min(8));
        // Full jitter keeps many desktops that lost the network together from coming back in step.
        let jitter = exponential.mul_f64(fastrand::f64() * 0.5);
        Some((exponential + jitter).min(self.retry.max_wait))
    }

    async fn send_once<T: DeserializeOwned>(
        &self,
        method: Method,
        url: &str,
        body: Option<Vec<u8>>,
    ) -> Result<T, ApiError> {
        let bytes = self.send_raw(method, url, body).await?;
        super::decode::json(&bytes)
    }

    /// Sends one request; the body of a 2xx answer, or the typed error for any other status.
    async fn send_raw(&self, method: Method, url: &str, body: Option<Vec<u8>>) -> Result<Vec<u8>, ApiError> {
        if let Some(wait) = self.still_asked_to_wait() {
            return Err(ApiError::RateLimited { retry_after: Some(wait) });
        }
        let result = self.send_unchecked(method, url, body).await;
        if let Err(error) = &result {
            // Only long waits are remembered: short ones the retry loop has already waited out.
            if let Some(wait) = error.retry_after().filter(|wait| *wait > self.retry.max_wait) {
                *self.not_before.lock().unwrap_or_else(std::sync::PoisonError::into_inner) =
                    Some(std::time::Instant::now() + wait);
            }
        }
        result
    }

    fn still_asked_to_wait(&self) -> Option<Duration> {
        let mut not_before = self.not_before.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        match *not_before {
            Some(moment) if moment > std::time::Instant::now() => Some(moment - std::time::Instant::now()),
            Some(_) => {
                *not_before = None;
                None
            }
            None => None,
        }
    }

    async fn send_unchecked(&self, method: Method, url: &str, body: Option<Vec<u8>>) -> Result<Vec<u8>, ApiError> {
        let is_read = method == Method::GET;
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.header(reqwest::header::CONTENT_TYPE, "application/json").body(body);
        }
        let mut auth = HeaderValue::from_str(&format!("Bearer {}", self.token.expose_secret()))
            .map_err(|_| ApiError::Unauthorized)?;
        auth.set_sensitive(true);
        request = request.header(AUTHORIZATION, auth);
        let response = request.send().await.map_err(transport_error)?;
        let status = response.status();
        if status.is_success() {
            return read_body(response).await;
        }
        let retry_after = parse_retry_after(response.headers());
        let detail = read_body(response).await.ok().and_then(|bytes| self.error_detail(&bytes));
        Err(status_error(status, is_read, retry_after, detail))
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

fn status_error(status: StatusCode, is_read: bool, retry_after: Option<Duration>, detail: Option<String>) -> ApiError {
    match status.as_u16() {
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

fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = text.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let when = chrono::DateTime::parse_from_rfc2822(text).ok()?;
    let seconds = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(seconds.unsigned_abs()))
}

async fn read_body(mut response: Response) -> Result<Vec<u8>, ApiError> {
    if response.content_length().is_some_and(|length| length > MAX_BODY_BYTES as u64) {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
        if bytes.len() + chunk.len() > MAX_BODY_BYTES {
            return Err(too_large());
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

fn too_large() -> ApiError {
    ApiError::InvalidResponse { detail: format!("the answer was larger than {} MB", MAX_BODY_BYTES / 1024 / 1024) }
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
    }

    #[test]
    fn only_transient_errors_are_retried() {
        assert!(ApiError::Server { status: 500 }.is_transient());
        assert!(ApiError::Timeout.is_transient());
        assert!(!ApiError::Unauthorized.is_transient());
        assert!(!ApiError::LockedOut.is_transient());
        assert!(!ApiError::NotFound.is_transient());
    }

    #[test]
    fn reads_retry_after_in_seconds() {
        let mut headers = HeaderMap::new();
        headers.insert(RETRY_AFTER, HeaderValue::from_static("30"));
        assert_eq!(parse_retry_after(&headers), Some(Duration::from_secs(30)));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(parse_retry_after(&headers), None);
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
