//! The request pipeline: admin endpoints, fault injection, lock-out, authentication, routing and data.
//!
//! Order for API requests (anything not under `/__admin`):
//! 1. parse; recognise the route from the path shape and method (`locks`, `events`, `keys.create`,
//!    `keys.get`, `keys.delete`, or unknown);
//! 2. an injected fault for that route, if any (before auth on purpose, see `fault.rs`);
//! 3. lock-out → 403 for everyone while it lasts;
//! 4. `Authorization: Bearer <token>` missing or wrong → 401 (a wrong one counts toward the lock-out);
//! 5. partner id in the path unknown → 401 as well: the reference's 401 means "authentication failed /
//!    no right to act on the resource", and answering 404 would tell a caller which partner ids exist;
//! 6. unknown path → 404; wrong method → 405; an `Accept` without JSON → 406;
//! 7. the resource: unknown lock → 404; `POST /keys` body 400 (shape) / 422 (values) / 404 (lock) /
//!    403 (broken vendor connection); unknown key → 404; revoking a revoked/expired/failed key → 409.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::Serialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;

use crate::data::{Dataset, Event, HistoryKey};
use crate::fault::{Fault, FaultRule, FaultTable, Route};
use crate::http::{self, ReadError, Request, Response};
use crate::keys::{self, BodyError, KeyError, KeyStore, KeyUse};

/// A client that connects and then sends nothing is dropped after this long.
const READ_TIMEOUT: Duration = Duration::from_secs(30);
/// The request log keeps only the most recent entries, so a long demo run does not grow without bound.
const MAX_LOGGED_REQUESTS: usize = 10_000;

/// One API request as the simulator saw it (admin requests are not logged).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedRequest {
    pub method: String,
    /// The raw path as received (still percent-encoded), without the query.
    pub path: String,
    /// The recognised route, `None` (JSON `null`) for an unknown path.
    pub route: Option<Route>,
    /// The decoded lock id: of the events route; the body's `lockId` on `keys.create`; the key's lock on
    /// `keys.get` / `keys.delete` when the key exists.
    pub lock_id: Option<String>,
    /// The key id: from the path on `keys.get` / `keys.delete`; the new key's id when `keys.create`
    /// created one.
    pub key_id: Option<String>,
    /// The right bearer token for the right partner id was presented.
    pub authorized: bool,
    /// The status sent, `None` when the connection was dropped without an answer.
    pub status: Option<u16>,
    /// The injected fault that was applied, in its CLI spelling.
    pub fault: Option<String>,
    /// When the request arrived, in milliseconds since the simulator started (to check a client's
    /// pacing: nothing inside a `Retry-After`, no bursts over its budget).
    pub at_ms: u64,
}

/// Lock-out settings; `after == 0` disables the lock-out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LockoutPolicy {
    pub after: u32,
    pub window: Duration,
    pub cooldown: Duration,
}

/// Wrong-token bookkeeping. Only presented-but-wrong tokens count (a missing header is a client bug, not
/// guessing); requests refused during a lock-out neither count nor extend it, so the cool-down is exact.
#[derive(Debug, Default)]
pub(crate) struct Lockout {
    failures: VecDeque<Instant>,
    locked_until: Option<Instant>,
}

impl Lockout {
    pub(crate) fn is_locked(&mut self, now: Instant) -> bool {
        match self.locked_until {
            Some(until) if now < until => true,
            Some(_) => {
                self.locked_until = None;
                false
            }
            None => false,
        }
    }

    pub(crate) fn record_failure(&mut self, now: Instant, policy: LockoutPolicy) {
        if policy.after == 0 {
            return;
        }
        while self.failures.front().is_some_and(|&t| now.duration_since(t) > policy.window) {
            self.failures.pop_front();
        }
        self.failures.push_back(now);
        if self.failures.len() >= policy.after as usize {
            self.failures.clear();
            self.locked_until = Some(now + policy.cooldown);
        }
    }

    pub(crate) fn reset(&mut self) {
        self.failures.clear();
        self.locked_until = None;
    }
}

/// Everything the connection tasks share.
pub(crate) struct State {
    pub data: Dataset,
    pub partner_id: String,
    pub token: String,
    pub lockout_policy: LockoutPolicy,
    pub lockout: Mutex<Lockout>,
    pub faults: Mutex<FaultTable>,
    pub requests: Mutex<VecDeque<RecordedRequest>>,
    /// Signs app-switch links.
    pub hmac_secret: String,
    pub keys: Mutex<KeyStore>,
    /// The simulator's start, the zero of `RecordedRequest::at_ms`.
    pub started: Instant,
}

/// Locks a mutex, ignoring poisoning: every critical section here leaves its data consistent, so a
/// panic elsewhere must not take the whole simulator down with it.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl State {
    /// Takes a history key into the key store if `key_id` is one (no-op otherwise), so every key operation
    /// finds the keys behind the generated events. Returns it, with its generated events, when it is one.
    /// The dataset work happens before the key store is locked.
    pub(crate) fn history_key(&self, key_id: &str) -> Option<HistoryKey> {
        let key = self.data.history_key(key_id)?;
        lock(&self.keys).adopt(&key);
        Some(key)
    }

    /// As [`State::history_key`], for operations that do not need the key's generated events.
    pub(crate) fn ensure_key(&self, key_id: &str) {
        if !lock(&self.keys).contains(key_id) {
            self.history_key(key_id);
        }
    }

    fn record(&self, r: RecordedRequest) {
        let mut log = lock(&self.requests);
        if log.len() >= MAX_LOGGED_REQUESTS {
            log.pop_front();
        }
        log.push_back(r);
    }
}

/// Accepts connections until the task is aborted; each connection gets its own task. The tasks live in
/// a `JoinSet` owned by this loop, so aborting the loop (Simulator drop) also ends them.
pub(crate) async fn serve(listener: TcpListener, state: Arc<State>) {
    let mut conns = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    conns.spawn(handle_connection(Arc::clone(&state), stream, peer));
                }
                Err(e) => {
                    // E.g. too many open files: back off briefly instead of spinning.
                    log::warn!("unloc-sim: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            // Reap finished connection tasks so the set does not grow.
            Some(_) = conns.join_next(), if !conns.is_empty() => {}
        }
    }
}

async fn handle_connection(state: Arc<State>, mut stream: TcpStream, peer: SocketAddr) {
    // Small answers should not wait for Nagle; failure to set it is harmless.
    let _ = stream.set_nodelay(true);
    let req = match tokio::time::timeout(READ_TIMEOUT, http::read_request(&mut stream)).await {
        Ok(Ok(req)) => req,
        Ok(Err(ReadError::Bad(status, msg))) => {
            let _ = Response::error(status, msg).write_to(&mut stream).await;
            return;
        }
        Ok(Err(e)) => {
            log::debug!("unloc-sim: {peer}: {e}");
            return;
        }
        Err(_) => {
            log::debug!("unloc-sim: {peer}: no request within {READ_TIMEOUT:?}");
            return;
        }
    };
    let result = if req.path == "/__admin" || req.path.starts_with("/__admin/") {
        admin(&state, &req).write_to(&mut stream).await
    } else {
        api(&state, &req, &mut stream).await
    };
    if let Err(e) = result {
        // The client went away mid-answer: nothing to do, the test on the other side will notice.
        log::debug!("unloc-sim: {peer}: writing the answer failed: {e}");
    }
}

/// What the path of an API request points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Target {
    /// `/v1/partners/{partner}/locks`
    Locks { partner: String },
    /// `/v1/partners/{partner}/locks/{lock_id}/events`
    Events { partner: String, lock_id: String },
    /// `/v1/partners/{partner}/keys`
    Keys { partner: String },
    /// `/v1/partners/{partner}/keys/{key_id}`
    Key { partner: String, key_id: String },
    /// Some other path under `/v1/partners/{partner}/`.
    OtherUnderPartner { partner: String },
    /// Outside the API, or a segment that does not percent-decode.
    Unknown,
}

impl Target {
    /// The route for faults and the log. A path keeps its route whatever the method (the wrong method
    /// is answered with 405 after the fault), except that `/keys/{id}` is `keys.delete` for DELETE.
    pub(crate) fn route(&self, method: &str) -> Option<Route> {
        match self {
            Self::Locks { .. } => Some(Route::Locks),
            Self::Events { .. } => Some(Route::Events),
            Self::Keys { .. } => Some(Route::KeysCreate),
            Self::Key { .. } if method == "DELETE" => Some(Route::KeysDelete),
            Self::Key { .. } => Some(Route::KeysGet),
            Self::OtherUnderPartner { .. } | Self::Unknown => None,
        }
    }

    fn partner(&self) -> Option<&str> {
        match self {
            Self::Locks { partner }
            | Self::Events { partner, .. }
            | Self::Keys { partner }
            | Self::Key { partner, .. }
            | Self::OtherUnderPartner { partner } => Some(partner),
            Self::Unknown => None,
        }
    }

    /// The methods the resource answers, as an `Allow` header value.
    fn allowed_methods(&self) -> &'static str {
        match self {
            Self::Keys { .. } => "POST",
            Self::Key { .. } => "GET, DELETE",
            _ => "GET",
        }
    }
}

/// Splits the raw path on `/` first and decodes each segment after, so an encoded `%2F` inside a lock id
/// stays part of the id.
pub(crate) fn classify(raw_path: &str) -> Target {
    let Some(rest) = raw_path.strip_prefix('/') else {
        return Target::Unknown;
    };
    let raw: Vec<&str> = rest.split('/').collect();
    let Some(segs) = raw.iter().map(|s| http::percent_decode(s)).collect::<Option<Vec<String>>>() else {
        return Target::Unknown;
    };
    match segs.as_slice() {
        [v1, partners, partner, tail @ ..] if v1 == "v1" && partners == "partners" => {
            let partner = partner.clone();
            match tail {
                [locks] if locks == "locks" => Target::Locks { partner },
                [locks, lock_id, events] if locks == "locks" && events == "events" => {
                    Target::Events { partner, lock_id: lock_id.clone() }
                }
                [keys] if keys == "keys" => Target::Keys { partner },
                [keys, key_id] if keys == "keys" && !key_id.is_empty() => {
                    Target::Key { partner, key_id: key_id.clone() }
                }
                _ => Target::OtherUnderPartner { partner },
            }
        }
        _ => Target::Unknown,
    }
}

/// The bearer token of the request, if the header has that form (scheme case-insensitive).
fn bearer(req: &Request) -> Option<&str> {
    let value = req.header("authorization")?.trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim()).filter(|t| !t.is_empty())
}

async fn api(state: &State, req: &Request, stream: &mut TcpStream) -> std::io::Result<()> {
    let target = classify(&req.path);
    let route = target.route(&req.method);
    let token = bearer(req);
    let authorized = token == Some(state.token.as_str()) && target.partner() == Some(state.partner_id.as_str());
    let fault = lock(&state.faults).take(route);
    let at_ms = u64::try_from(state.started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let mut record = RecordedRequest {
        at_ms,
        method: req.method.clone(),
        path: req.path.clone(),
        route,
        lock_id: match &target {
            Target::Events { lock_id, .. } => Some(lock_id.clone()),
            // Read from the body even when a fault answers instead.
            Target::Keys { .. } if req.method == "POST" => keys::peek_lock_id(req.header("content-type"), &req.body),
            _ => None,
        },
        key_id: match &target {
            Target::Key { key_id, .. } => Some(key_id.clone()),
            _ => None,
        },
        authorized,
        status: None,
        fault: fault.as_ref().map(Fault::spec),
    };

    let Some(fault) = fault else {
        let resp = respond(state, req, &target, token, &mut record);
        record.status = Some(resp.status);
        state.record(record);
        return resp.write_to(stream).await;
    };
    if let Some(resp) = fault_response(&fault, &target) {
        record.status = Some(resp.status);
        state.record(record);
        return resp.write_to(stream).await;
    }
    if fault == Fault::Drop {
        state.record(record);
        // Dropping the stream (by returning) closes the connection without a byte of answer.
        return Ok(());
    }
    // The remaining faults do the real work (at once, so the log counts requests as they arrive even
    // when the answer is late) and only spoil how its answer arrives.
    let resp = rewrite_body(&fault, respond(state, req, &target, token, &mut record));
    record.status = Some(resp.status);
    state.record(record);
    if let Some(wait) = fault.delay() {
        tokio::time::sleep(wait).await;
    }
    match fault {
        Fault::Truncated => resp.write_truncated(stream).await,
        Fault::Drip { ms, bytes } => resp.write_dripping(stream, bytes, Duration::from_millis(ms)).await,
        Fault::Huge { mb } => {
            let total = usize::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX);
            resp.write_padded(stream, total).await
        }
        Fault::Reset => {
            resp.write_part(stream).await?;
            // Give the client time to read the head and start on the body, so the reset hits mid-body
            // rather than discarding an answer it never saw.
            tokio::time::sleep(RESET_PAUSE).await;
            // SO_LINGER 0: closing (when the caller drops the stream) sends RST instead of FIN.
            stream.set_zero_linger()
        }
        _ => resp.write_to(stream).await,
    }
}

/// How long `reset` waits between the partial answer and the reset.
const RESET_PAUSE: Duration = Duration::from_millis(150);

/// The answer of a fault that replaces the normal answer entirely; `None` for the other faults.
fn fault_response(fault: &Fault, target: &Target) -> Option<Response> {
    let resp = match fault {
        Fault::Status { code, body, retry_after } => {
            let mut resp = match body {
                Some(b) => Response::json_bytes(*code, b.clone().into_bytes()),
                None => Response::error(*code, "injected fault"),
            };
            if let Some(r) = retry_after {
                resp = resp.with_header("Retry-After", r);
            }
            // The headers these statuses come with from a real server.
            match code {
                401 => resp.with_header("WWW-Authenticate", "Bearer"),
                405 => resp.with_header("Allow", target.allowed_methods()),
                _ => resp,
            }
        }
        // Cut off mid-string: not valid JSON, but looks like the start of a real answer.
        Fault::Malformed => {
            Response::json_bytes(200, br#"{"locks":[{"id":"danalock-00:00:00:00:00:01","name":"Hjem"#.to_vec())
        }
        Fault::Html => Response {
            status: 200,
            content_type: "text/html; charset=utf-8",
            headers: Vec::new(),
            body: b"<!DOCTYPE html>\n<html><head><title>Wi-Fi login</title></head>\
                    <body><h1>Welcome</h1><p>Please log in to continue.</p></body></html>\n"
                .to_vec(),
        },
        Fault::Empty => Response::json_bytes(200, Vec::new()),
        Fault::Redirect { code, location } => Response::error(*code, "moved")
            .with_header("Location", location.as_deref().unwrap_or(crate::fault::DEFAULT_REDIRECT_LOCATION)),
        Fault::Delay { .. }
        | Fault::Truncated
        | Fault::Drop
        | Fault::Drip { .. }
        | Fault::Reset
        | Fault::WrongTypes
        | Fault::MissingFields
        | Fault::ExtraFields
        | Fault::UnknownEnum
        | Fault::Huge { .. } => return None,
    };
    Some(resp)
}

/// The body faults: edit every object of a 2xx JSON answer (children first, so added objects are not
/// edited again). Any other answer (an error, a non-JSON body) and any other fault pass unchanged.
fn rewrite_body(fault: &Fault, resp: Response) -> Response {
    type Object = serde_json::Map<String, serde_json::Value>;
    fn wrong_types(o: &mut Object) {
        for (field, number) in [("name", 42), ("id", 4711)] {
            if o.get(field).is_some_and(serde_json::Value::is_string) {
                o.insert(field.to_owned(), number.into());
            }
        }
    }
    fn missing_fields(o: &mut Object) {
        o.remove("id");
        o.remove("name");
    }
    fn extra_fields(o: &mut Object) {
        o.insert("firmwareVersion".to_owned(), "2.4.1".into());
        o.insert(
            "unlocSimExtra".to_owned(),
            serde_json::json!({ "nested": [1, "two", null, { "deep": true }], "note": "unknown field" }),
        );
    }
    fn unknown_enum(o: &mut Object) {
        // Values other generations of the API use: the Integrator API's `deny`, v2's `inactive`.
        for (field, value) in [("auth", "deny"), ("action", "opened"), ("state", "inactive")] {
            if o.get(field).is_some_and(serde_json::Value::is_string) {
                o.insert(field.to_owned(), value.into());
            }
        }
    }
    fn each_object(v: &mut serde_json::Value, edit: fn(&mut Object)) {
        match v {
            serde_json::Value::Object(o) => {
                o.values_mut().for_each(|child| each_object(child, edit));
                edit(o);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(|child| each_object(child, edit)),
            _ => {}
        }
    }
    let edit: fn(&mut Object) = match fault {
        Fault::WrongTypes => wrong_types,
        Fault::MissingFields => missing_fields,
        Fault::ExtraFields => extra_fields,
        Fault::UnknownEnum => unknown_enum,
        _ => return resp,
    };
    if !(200..300).contains(&resp.status) {
        return resp;
    }
    let Ok(mut value) = serde_json::from_slice::<serde_json::Value>(&resp.body) else { return resp };
    each_object(&mut value, edit);
    // Serializing a Value into a Vec cannot fail.
    Response { body: serde_json::to_vec(&value).unwrap_or_default(), ..resp }
}

/// The normal answer: lock-out, auth, routing, data. Fills in what it learns (lock, new key) in `record`.
fn respond(
    state: &State,
    req: &Request,
    target: &Target,
    token: Option<&str>,
    record: &mut RecordedRequest,
) -> Response {
    let now = Instant::now();
    {
        let mut lockout = lock(&state.lockout);
        if lockout.is_locked(now) {
            return Response::error(
                403,
                "temporarily locked out after too many requests with bad credentials; try again later",
            );
        }
        match token {
            None => {
                return Response::error(401, "missing bearer token: send Authorization: Bearer <token>")
                    .with_header("WWW-Authenticate", "Bearer");
            }
            Some(t) if t != state.token => {
                lockout.record_failure(now, state.lockout_policy);
                return Response::error(401, "authentication failed")
                    .with_header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            }
            Some(_) => {}
        }
    }
    // The token is right; a different partner id is still "no right to act on the resource" (401), and
    // does not count toward the lock-out since no credential was guessed wrong.
    match target.partner() {
        Some(p) if p == state.partner_id => {}
        Some(_) => {
            return Response::error(401, "no right to act on this partner").with_header("WWW-Authenticate", "Bearer");
        }
        None => return Response::error(404, "no such resource"),
    }
    if matches!(target, Target::OtherUnderPartner { .. }) {
        return Response::error(404, "no such resource");
    }
    let allowed = target.allowed_methods();
    if !allowed.split(", ").any(|m| m == req.method) {
        return Response::error(405, "method not allowed").with_header("Allow", allowed);
    }
    if !http::accepts_json(req.header("accept")) {
        return Response::error(406, "only application/json is available");
    }
    let now = Utc::now();
    match target {
        Target::Locks { .. } => Response::json_bytes(200, state.data.locks_json().to_vec()),
        Target::Events { lock_id, .. } => {
            // Copied out so the key table is not locked while a big history is serialized.
            let added = lock(&state.keys).used_events(lock_id).to_vec();
            match state.data.events_json(lock_id, now, &added) {
                Some(body) => Response::json_bytes(200, body),
                None => Response::error(404, "lock not found"),
            }
        }
        Target::Keys { .. } => create_key(state, req, record, now),
        Target::Key { key_id, .. } if req.method == "DELETE" => revoke_key(state, key_id, record, now),
        Target::Key { key_id, .. } => {
            let generated = state.history_key(key_id).map(|k| k.events).unwrap_or_default();
            key_json(state, key_id, now, &generated, record)
        }
        // Every other target returned above.
        Target::OtherUnderPartner { .. } | Target::Unknown => Response::error(404, "no such resource"),
    }
}

/// E3: the key's state, validity and events.
fn key_json(
    state: &State,
    key_id: &str,
    now: DateTime<Utc>,
    generated: &[Event],
    record: &mut RecordedRequest,
) -> Response {
    match lock(&state.keys).key_json(key_id, now, generated) {
        Some((lock_id, body)) => {
            record.lock_id = Some(lock_id);
            Response::json_bytes(200, body)
        }
        None => Response::error(404, "key not found"),
    }
}

/// The 202 body of `POST /keys`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CreatedBody<'a> {
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_switch_url: Option<String>,
}

/// E2: validate (400 shape, 422 values), find the lock (404), refuse a broken vendor connection (403),
/// then store the key and answer 202 with its id (and a signed app-switch link when asked for).
fn create_key(state: &State, req: &Request, record: &mut RecordedRequest, now: DateTime<Utc>) -> Response {
    let new = match keys::parse_create_body(req.header("content-type"), &req.body) {
        Ok(new) => new,
        Err(BodyError::Malformed(m)) => return Response::error(400, &m),
        Err(BodyError::Invalid(m)) => return Response::error(422, &m),
    };
    let Some(auth) = state.data.lock(&new.lock_id).map(|l| l.auth) else {
        return Response::error(404, "lock not found");
    };
    if state.data.vendor_broken(&new.lock_id) {
        return Response::error(403, "the lock holder's vendor connection is in error: no keys can be created now");
    }
    let return_url = new.return_url.clone();
    let id = lock(&state.keys).create(new, auth, now);
    let app_switch_url = return_url.map(|r| keys::app_switch_url(&state.hmac_secret, &id, &r, &state.partner_id));
    let body = serde_json::to_vec(&CreatedBody { id: &id, app_switch_url }).unwrap_or_default();
    record.key_id = Some(id);
    Response::json_bytes(202, body)
}

/// E4: 200 `{"response":"OK"}`; 409 when the key is already revoked (or expired, or failed).
fn revoke_key(state: &State, key_id: &str, record: &mut RecordedRequest, now: DateTime<Utc>) -> Response {
    state.ensure_key(key_id);
    let mut keys = lock(&state.keys);
    record.lock_id = keys.get(key_id, now).map(|k| k.lock_id);
    match keys.revoke(key_id, now) {
        Ok(_) => Response::json(200, &serde_json::json!({ "response": "OK" })),
        Err(e) => key_error(&e),
    }
}

fn key_error(e: &KeyError) -> Response {
    match e {
        KeyError::NotFound => Response::error(404, "key not found"),
        KeyError::Conflict(m) => Response::error(409, m),
    }
}

/// `/__admin/...`: test controls. No auth (the server only listens on loopback) and no faults.
fn admin(state: &State, req: &Request) -> Response {
    if let Some(rest) = req.path.strip_prefix("/__admin/keys").filter(|r| r.is_empty() || r.starts_with('/')) {
        return admin_keys(state, req, rest);
    }
    let ok = || Response::json(200, &serde_json::json!({ "ok": true }));
    match (req.method.as_str(), req.path.as_str()) {
        ("POST", "/__admin/faults") => match serde_json::from_slice::<FaultRule>(&req.body) {
            Ok(rule) => {
                let mut faults = lock(&state.faults);
                faults.add(rule);
                Response::json(200, &serde_json::json!({ "ok": true, "faults": faults.rules() }))
            }
            Err(e) => Response::error(400, &format!("bad fault rule: {e}")),
        },
        ("GET", "/__admin/faults") => {
            Response::json(200, &serde_json::json!({ "faults": lock(&state.faults).rules() }))
        }
        ("DELETE", "/__admin/faults") => {
            lock(&state.faults).clear();
            ok()
        }
        ("GET", "/__admin/requests") => {
            let log: Vec<RecordedRequest> = lock(&state.requests).iter().cloned().collect();
            Response::json(200, &serde_json::json!({ "requests": log }))
        }
        ("DELETE", "/__admin/requests") => {
            lock(&state.requests).clear();
            ok()
        }
        ("POST", "/__admin/reset-lockout") => {
            lock(&state.lockout).reset();
            ok()
        }
        (_, "/__admin/faults" | "/__admin/requests" | "/__admin/reset-lockout") => {
            Response::error(405, "method not allowed")
        }
        _ => Response::error(404, "unknown admin endpoint"),
    }
}

/// `/__admin/keys[/{keyId}[/{action}]]`: list and inspect keys; the owner's decisions and simulated use.
fn admin_keys(state: &State, req: &Request, rest: &str) -> Response {
    const ACTIONS: [&str; 5] = ["approve", "refuse", "revoke", "fail", "use"];
    let Some(segs) = rest.split('/').skip(1).map(http::percent_decode).collect::<Option<Vec<String>>>() else {
        return Response::error(400, "bad percent-encoding in the path");
    };
    let now = Utc::now();
    let method = req.method.as_str();
    if let Some(id) = segs.first() {
        state.ensure_key(id);
    }
    match segs.as_slice() {
        [] if method == "GET" => Response::json(200, &serde_json::json!({ "keys": lock(&state.keys).list(now) })),
        [id] if method == "GET" => match lock(&state.keys).get(id, now) {
            Some(key) => Response::json(200, &serde_json::json!({ "key": key })),
            None => Response::error(404, "key not found"),
        },
        [] | [_] => Response::error(405, "method not allowed").with_header("Allow", "GET"),
        [_, action] if !ACTIONS.contains(&action.as_str()) => Response::error(404, "unknown admin endpoint"),
        [_, _] if method != "POST" => Response::error(405, "method not allowed").with_header("Allow", "POST"),
        [id, action] if action == "use" => {
            let usage = if req.body.iter().all(u8::is_ascii_whitespace) {
                KeyUse::default()
            } else {
                match serde_json::from_slice::<KeyUse>(&req.body) {
                    Ok(u) => u,
                    Err(e) => return Response::error(400, &format!("bad use body: {e}")),
                }
            };
            match lock(&state.keys).use_key(id, usage, now) {
                Ok(event) => Response::json(200, &serde_json::json!({ "ok": true, "event": event })),
                Err(e) => key_error(&e),
            }
        }
        [id, action] => {
            let mut keys = lock(&state.keys);
            let result = match action.as_str() {
                "approve" => keys.decide(id, true, now),
                "refuse" => keys.decide(id, false, now),
                "revoke" => keys.revoke(id, now),
                _ => keys.fail(id, now),
            };
            match result {
                Ok(key) => Response::json(200, &serde_json::json!({ "ok": true, "key": key })),
                Err(e) => key_error(&e),
            }
        }
        _ => Response::error(404, "unknown admin endpoint"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_paths() {
        assert_eq!(classify("/v1/partners/demo/locks"), Target::Locks { partner: "demo".into() });
        assert_eq!(
            classify("/v1/partners/demo/locks/danalock-00%3A00%3A01/events"),
            Target::Events { partner: "demo".into(), lock_id: "danalock-00:00:01".into() }
        );
        assert_eq!(
            classify("/v1/partners/demo/locks/a%2Fb:c/events"),
            Target::Events { partner: "demo".into(), lock_id: "a/b:c".into() }
        );
        // An unencoded '/' splits the id into two segments: not the events route.
        assert_eq!(
            classify("/v1/partners/demo/locks/a/b/events"),
            Target::OtherUnderPartner { partner: "demo".into() }
        );
        assert_eq!(classify("/v1/partners/de%20mo/keys"), Target::Keys { partner: "de mo".into() });
        assert_eq!(
            classify("/v1/partners/demo/keys/117ec32d-5ac3-422b-82de-cbb64540bffd"),
            Target::Key { partner: "demo".into(), key_id: "117ec32d-5ac3-422b-82de-cbb64540bffd".into() }
        );
        assert_eq!(classify("/v1/partners/demo/keys/"), Target::OtherUnderPartner { partner: "demo".into() });
        assert_eq!(classify("/v1/partners/demo/keys/a/b"), Target::OtherUnderPartner { partner: "demo".into() });
        assert_eq!(classify("/v1/partners"), Target::Unknown);
        assert_eq!(classify("/"), Target::Unknown);
        assert_eq!(classify("/v1/partners/demo/locks/bad%zz/events"), Target::Unknown);
        assert_eq!(classify("*"), Target::Unknown);
    }

    #[test]
    fn routes_by_path_and_method() {
        let route = |path: &str, method: &str| classify(path).route(method);
        assert_eq!(route("/v1/partners/p/locks", "GET"), Some(Route::Locks));
        assert_eq!(route("/v1/partners/p/locks", "POST"), Some(Route::Locks));
        assert_eq!(route("/v1/partners/p/locks/x/events", "GET"), Some(Route::Events));
        assert_eq!(route("/v1/partners/p/keys", "POST"), Some(Route::KeysCreate));
        assert_eq!(route("/v1/partners/p/keys", "GET"), Some(Route::KeysCreate));
        assert_eq!(route("/v1/partners/p/keys/k", "GET"), Some(Route::KeysGet));
        assert_eq!(route("/v1/partners/p/keys/k", "PUT"), Some(Route::KeysGet));
        assert_eq!(route("/v1/partners/p/keys/k", "DELETE"), Some(Route::KeysDelete));
        assert_eq!(route("/v1/partners/p/nothing", "GET"), None);
        assert_eq!(route("/elsewhere", "GET"), None);
    }

    #[test]
    fn lockout_counts_within_window_and_expires() {
        let policy = LockoutPolicy { after: 3, window: Duration::from_secs(10), cooldown: Duration::from_secs(60) };
        let t0 = Instant::now();
        let mut l = Lockout::default();
        l.record_failure(t0, policy);
        // Slides out of the window before the next two.
        l.record_failure(t0 + Duration::from_secs(11), policy);
        l.record_failure(t0 + Duration::from_secs(12), policy);
        assert!(!l.is_locked(t0 + Duration::from_secs(12)));
        l.record_failure(t0 + Duration::from_secs(13), policy);
        assert!(l.is_locked(t0 + Duration::from_secs(13)));
        assert!(l.is_locked(t0 + Duration::from_secs(72)));
        assert!(!l.is_locked(t0 + Duration::from_secs(74)));
        l.record_failure(t0 + Duration::from_secs(75), policy);
        assert!(!l.is_locked(t0 + Duration::from_secs(75)));
        l.reset();
        assert!(!l.is_locked(t0 + Duration::from_secs(75)));
        let mut off = Lockout::default();
        for _ in 0..10 {
            off.record_failure(t0, LockoutPolicy { after: 0, ..policy });
        }
        assert!(!off.is_locked(t0));
    }

    #[test]
    fn body_faults_edit_every_object_of_a_json_answer_only() {
        let answer = serde_json::json!({"events": [
            {"id": "e1", "keyId": "k", "action": "locked", "name": "Kari", "msn": "", "created": "t"},
            {"id": "e2", "keyId": "k", "action": "unlocked", "name": "Ola", "msn": "", "created": "t"}
        ], "state": "active", "auth": "opt-in"});
        let edited = |fault: Fault| {
            let resp = rewrite_body(&fault, Response::json(200, &answer));
            serde_json::from_slice::<serde_json::Value>(&resp.body).unwrap()
        };
        let v = edited(Fault::WrongTypes);
        assert_eq!((v["events"][1]["name"].as_i64(), v["events"][1]["id"].as_i64()), (Some(42), Some(4711)));
        assert_eq!(v["events"][1]["keyId"], "k");
        let v = edited(Fault::MissingFields);
        assert!(v["events"][0].get("id").is_none() && v["events"][0].get("name").is_none());
        assert_eq!(v["events"][0]["action"], "locked");
        let v = edited(Fault::ExtraFields);
        assert_eq!(v["firmwareVersion"], "2.4.1");
        assert_eq!(v["events"][1]["unlocSimExtra"]["nested"][1], "two");
        assert!(v["events"][1]["unlocSimExtra"].get("unlocSimExtra").is_none(), "added objects are not edited");
        let v = edited(Fault::UnknownEnum);
        assert_eq!((v["auth"].as_str(), v["state"].as_str()), (Some("deny"), Some("inactive")));
        assert_eq!(v["events"][0]["action"], "opened");
        assert_eq!(edited(Fault::Reset), answer, "other faults leave the body alone");
        let error = Response::error(401, "no");
        assert_eq!(rewrite_body(&Fault::WrongTypes, error.clone()), error);
        let html = Response::json_bytes(200, b"<html>".to_vec());
        assert_eq!(rewrite_body(&Fault::MissingFields, html.clone()), html);
    }

    #[test]
    fn bearer_parsing() {
        let req = |v: Option<&str>| Request {
            method: "GET".into(),
            path: "/".into(),
            query: None,
            headers: v.map(|v| vec![("Authorization".to_owned(), v.to_owned())]).unwrap_or_default(),
            body: Vec::new(),
        };
        assert_eq!(bearer(&req(Some("Bearer abc"))), Some("abc"));
        assert_eq!(bearer(&req(Some("bearer  abc "))), Some("abc"));
        assert_eq!(bearer(&req(Some("Basic abc"))), None);
        assert_eq!(bearer(&req(Some("Bearer "))), None);
        assert_eq!(bearer(&req(None)), None);
    }
}
