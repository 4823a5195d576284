//! Injected faults: what can go wrong on the wire, which route it hits, and how often.
//!
//! A fault is picked after the request has been parsed and its route recognised, but before lock-out,
//! authentication and data: a fault on a route applies to every request for that route, whoever sends
//! it. That keeps tests simple (no need to authenticate to see a 503).
//!
//! [`CATALOGUE`] lists every fault a client should survive, by the spec that injects it.
//!
//! To add a fault kind: add a variant to [`Fault`] (serde names it in camelCase under `"kind"`), give
//! it a CLI spelling in [`Fault::parse`] and [`Fault::spec`], act on it in `server::api` /
//! `server::fault_response`, and list it in [`CATALOGUE`] (the app's `fault_table` example and
//! `tests/sim/README.md` follow the catalogue; what the client reports for each is in [`crate::expected`]).
//! To add a route: add a variant to [`Route`] with its name in [`Route::as_str`] / [`Route::parse`],
//! and recognise its path in `server::classify` / `server::Target::route`.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The API routes faults can target (and the route names in the request log).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Route {
    /// `*`: every API request (not the admin endpoints), including unknown paths.
    Any,
    /// `GET /locks`.
    Locks,
    /// `GET /locks/{lockId}/events`.
    Events,
    /// `POST /keys` (any method on `/keys`).
    KeysCreate,
    /// `GET /keys/{keyId}` (any method on `/keys/{keyId}` but DELETE).
    KeysGet,
    /// `DELETE /keys/{keyId}`.
    KeysDelete,
}

impl Route {
    /// The name used on the CLI, in admin JSON and in the request log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Any => "*",
            Self::Locks => "locks",
            Self::Events => "events",
            Self::KeysCreate => "keys.create",
            Self::KeysGet => "keys.get",
            Self::KeysDelete => "keys.delete",
        }
    }

    /// Parses `*` (or `any`), `locks`, `events`, `keys.create`, `keys.get`, `keys.delete`.
    pub fn parse(s: &str) -> Result<Self, FaultParseError> {
        match s.trim() {
            "*" | "any" => Ok(Self::Any),
            "locks" => Ok(Self::Locks),
            "events" => Ok(Self::Events),
            "keys.create" => Ok(Self::KeysCreate),
            "keys.get" => Ok(Self::KeysGet),
            "keys.delete" => Ok(Self::KeysDelete),
            other => Err(FaultParseError::UnknownRoute(other.to_owned())),
        }
    }

    /// Whether a rule for `self` applies to a request on `request_route` (`None` = unknown path).
    pub fn matches(self, request_route: Option<Route>) -> bool {
        self == Self::Any || Some(self) == request_route
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Route {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Route {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Route::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One kind of misbehaviour. JSON form: `{"kind":"status","code":503,"retryAfter":"30"}`,
/// `{"kind":"delay","ms":2000}`, `{"kind":"drop"}`, ... (the CLI spec string is accepted too).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase", rename_all_fields = "camelCase")]
pub enum Fault {
    /// Answer with this status. Without `body`, our invented error shape
    /// `{"error":"...","message":"injected fault"}`; with `retry_after`, a `Retry-After` header.
    Status {
        code: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<String>,
    },
    /// Wait this long, then answer normally.
    Delay { ms: u64 },
    /// 200 with `Content-Type: application/json` and a body that is not valid JSON.
    Malformed,
    /// The normal answer, but `Content-Length` promises more than is sent before the connection closes.
    Truncated,
    /// Close the connection without answering.
    Drop,
    /// 200 with an HTML page and `Content-Type: text/html` (a captive portal or a proxy error page).
    Html,
    /// 200 with an empty body.
    Empty,
    /// The normal answer, its body sent `bytes` at a time every `ms` milliseconds (a slow link).
    Drip { ms: u64, bytes: usize },
    /// The head and part of the normal answer's body, then a TCP reset (`SO_LINGER` 0) instead of the rest.
    Reset,
    /// The normal 2xx JSON answer with every `name` and `id` string turned into a number.
    #[serde(alias = "wrong-types")]
    WrongTypes,
    /// The normal 2xx JSON answer without `id` and `name` in any object.
    #[serde(alias = "missing-fields")]
    MissingFields,
    /// The normal 2xx JSON answer with unknown fields added to every object (clients must ignore them).
    #[serde(alias = "extra-fields")]
    ExtraFields,
    /// The normal 2xx JSON answer with unknown `auth` (`deny`), `action` (`opened`) and `state`
    /// (`inactive`) values (clients must keep them, not fail).
    #[serde(alias = "unknown-enum")]
    UnknownEnum,
    /// The normal answer padded with JSON whitespace to `mb` MiB (still valid JSON), streamed from a small
    /// buffer so the simulator never holds it.
    Huge { mb: u64 },
    /// A redirect (`code` 300–399) to `location`, or without one to [`DEFAULT_REDIRECT_LOCATION`]: a
    /// client that follows it would take its request, and its token, somewhere else.
    Redirect {
        code: u16,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        location: Option<String>,
    },
}

/// `drip` without arguments: 64 bytes every 50 ms, about 1.3 KB/s.
pub const DEFAULT_DRIP: (u64, usize) = (50, 64);
/// `huge` without a size: 50 MiB, below the app's 64 MiB limit on answers.
pub const DEFAULT_HUGE_MB: u64 = 50;
/// Where `redirect:CODE` sends a client: another host, one that never resolves (`.invalid`), so a
/// client that follows the redirect fails there and says so.
pub const DEFAULT_REDIRECT_LOCATION: &str = "https://unloc-desk-test.invalid/v1/elsewhere";
/// The largest `huge` accepted (the simulator streams it, but a client may not).
const MAX_HUGE_MB: u64 = 4096;

impl Fault {
    /// Parses the CLI form: `status:503`, `status:429:retry-after=30`, `status:500:body=oops` (`body=`
    /// must come last and takes the rest, colons included), `delay:2000`, `drip[:MS[:BYTES]]`,
    /// `huge[:MB]`, `redirect:CODE[:LOCATION]` (the location takes the rest, colons included), and
    /// without arguments `malformed`, `truncated`, `drop`, `reset`, `html`, `empty`,
    /// `wrong-types`, `missing-fields`, `extra-fields`, `unknown-enum`.
    pub fn parse(spec: &str) -> Result<Self, FaultParseError> {
        let spec = spec.trim();
        let (kind, rest) = match spec.split_once(':') {
            Some((k, r)) => (k, Some(r)),
            None => (spec, None),
        };
        let no_args = |f: Fault| match rest {
            None => Ok(f),
            Some(_) => Err(FaultParseError::Invalid(spec.to_owned(), "this fault takes no arguments")),
        };
        match kind {
            "status" => {
                let rest = rest.ok_or(FaultParseError::Invalid(spec.to_owned(), "missing status code"))?;
                let (code, mut opts) = match rest.split_once(':') {
                    Some((c, o)) => (c, Some(o)),
                    None => (rest, None),
                };
                let code: u16 = code
                    .parse()
                    .ok()
                    .filter(|c| (100..=999).contains(c))
                    .ok_or(FaultParseError::Invalid(spec.to_owned(), "status code must be a number 100-999"))?;
                let (mut body, mut retry_after) = (None, None);
                while let Some(o) = opts {
                    if let Some(b) = o.strip_prefix("body=") {
                        body = Some(b.to_owned());
                        break;
                    }
                    let (this, next) = match o.split_once(':') {
                        Some((t, n)) => (t, Some(n)),
                        None => (o, None),
                    };
                    match this.split_once('=') {
                        Some(("retry-after", v)) if !v.is_empty() => {
                            retry_after = Some(v.to_owned());
                        }
                        _ => {
                            return Err(FaultParseError::Invalid(
                                spec.to_owned(),
                                "status options are retry-after=VALUE and body=TEXT",
                            ))
                        }
                    }
                    opts = next;
                }
                Ok(Self::Status { code, body, retry_after })
            }
            "delay" => {
                let ms = rest
                    .and_then(|r| r.parse().ok())
                    .ok_or(FaultParseError::Invalid(spec.to_owned(), "delay takes milliseconds, e.g. delay:2000"))?;
                Ok(Self::Delay { ms })
            }
            "drip" => {
                let bad =
                    || FaultParseError::Invalid(spec.to_owned(), "drip takes MS and BYTES above 0, e.g. drip:50:64");
                let (ms, bytes) = match rest.map(|r| r.split_once(':').unwrap_or((r, ""))) {
                    None => DEFAULT_DRIP,
                    Some((ms, "")) => (ms.parse().map_err(|_| bad())?, DEFAULT_DRIP.1),
                    Some((ms, bytes)) => (ms.parse().map_err(|_| bad())?, bytes.parse().map_err(|_| bad())?),
                };
                if ms == 0 || bytes == 0 {
                    return Err(bad());
                }
                Ok(Self::Drip { ms, bytes })
            }
            "huge" => {
                let mb =
                    match rest {
                        None => DEFAULT_HUGE_MB,
                        Some(r) => r.parse().ok().filter(|mb| (1..=MAX_HUGE_MB).contains(mb)).ok_or(
                            FaultParseError::Invalid(spec.to_owned(), "huge takes a size in MiB from 1 to 4096"),
                        )?,
                    };
                Ok(Self::Huge { mb })
            }
            "redirect" => {
                let rest = rest.ok_or(FaultParseError::Invalid(spec.to_owned(), "missing redirect status"))?;
                let (code, location) = match rest.split_once(':') {
                    Some((code, location)) => (code, Some(location.to_owned())),
                    None => (rest, None),
                };
                let code = code.parse().ok().filter(|code| (300..=399).contains(code)).ok_or(
                    FaultParseError::Invalid(spec.to_owned(), "redirect takes a status 300-399, e.g. redirect:302"),
                )?;
                if location.as_deref().is_some_and(str::is_empty) {
                    return Err(FaultParseError::Invalid(spec.to_owned(), "the redirect location is empty"));
                }
                Ok(Self::Redirect { code, location })
            }
            "malformed" => no_args(Self::Malformed),
            "truncated" => no_args(Self::Truncated),
            "drop" => no_args(Self::Drop),
            "reset" => no_args(Self::Reset),
            "html" => no_args(Self::Html),
            "empty" => no_args(Self::Empty),
            "wrong-types" => no_args(Self::WrongTypes),
            "missing-fields" => no_args(Self::MissingFields),
            "extra-fields" => no_args(Self::ExtraFields),
            "unknown-enum" => no_args(Self::UnknownEnum),
            other => Err(FaultParseError::UnknownFault(other.to_owned())),
        }
    }

    /// The CLI form of this fault (inverse of [`Fault::parse`]).
    pub fn spec(&self) -> String {
        match self {
            Self::Status { code, body, retry_after } => {
                let mut s = format!("status:{code}");
                if let Some(r) = retry_after {
                    s.push_str(&format!(":retry-after={r}"));
                }
                if let Some(b) = body {
                    s.push_str(&format!(":body={b}"));
                }
                s
            }
            Self::Delay { ms } => format!("delay:{ms}"),
            Self::Malformed => "malformed".to_owned(),
            Self::Truncated => "truncated".to_owned(),
            Self::Drop => "drop".to_owned(),
            Self::Html => "html".to_owned(),
            Self::Empty => "empty".to_owned(),
            Self::Drip { ms, bytes } if (*ms, *bytes) == DEFAULT_DRIP => "drip".to_owned(),
            Self::Drip { ms, bytes } => format!("drip:{ms}:{bytes}"),
            Self::Reset => "reset".to_owned(),
            Self::WrongTypes => "wrong-types".to_owned(),
            Self::MissingFields => "missing-fields".to_owned(),
            Self::ExtraFields => "extra-fields".to_owned(),
            Self::UnknownEnum => "unknown-enum".to_owned(),
            Self::Huge { mb } if *mb == DEFAULT_HUGE_MB => "huge".to_owned(),
            Self::Huge { mb } => format!("huge:{mb}"),
            Self::Redirect { code, location: None } => format!("redirect:{code}"),
            Self::Redirect { code, location: Some(location) } => format!("redirect:{code}:{location}"),
        }
    }

    /// The delay of a `Delay` fault.
    pub fn delay(&self) -> Option<Duration> {
        match self {
            Self::Delay { ms } => Some(Duration::from_millis(*ms)),
            _ => None,
        }
    }
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec())
    }
}

/// A fault on a route, applied `times` times (then removed) or, with `None`, until cleared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRule {
    pub route: Route,
    #[serde(deserialize_with = "fault_from_spec_or_object")]
    pub fault: Fault,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
}

impl FaultRule {
    /// A rule that stays until cleared.
    pub fn always(route: Route, fault: Fault) -> Self {
        Self { route, fault, times: None }
    }

    /// A rule that applies `times` times, then disappears.
    pub fn times(route: Route, fault: Fault, times: u32) -> Self {
        Self { route, fault, times: Some(times) }
    }

    /// Parses the `--fault` form `ROUTE=SPEC[*N]`, e.g. `events=status:500*2`, `*=drop`,
    /// `locks=status:429:retry-after=30`.
    pub fn parse(s: &str) -> Result<Self, FaultParseError> {
        let (route, spec) = s.split_once('=').ok_or(FaultParseError::Invalid(s.to_owned(), "expected ROUTE=SPEC"))?;
        let route = Route::parse(route)?;
        // `*N` is only a count when what follows the last `*` is all digits (a body may contain `*`).
        let (spec, times) = match spec.rsplit_once('*') {
            Some((f, n)) if !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()) => {
                let n: u32 =
                    n.parse().map_err(|_| FaultParseError::Invalid(s.to_owned(), "count after * is too large"))?;
                if n == 0 {
                    return Err(FaultParseError::Invalid(s.to_owned(), "count after * must be at least 1"));
                }
                (f, Some(n))
            }
            _ => (spec, None),
        };
        Ok(Self { route, fault: Fault::parse(spec)?, times })
    }
}

impl fmt::Display for FaultRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}={}", self.route, self.fault)?;
        if let Some(n) = self.times {
            write!(f, "*{n}")?;
        }
        Ok(())
    }
}

/// The admin endpoint accepts a fault either as the CLI spec string or as the tagged object.
fn fault_from_spec_or_object<'de, D: Deserializer<'de>>(d: D) -> Result<Fault, D::Error> {
    let v = serde_json::Value::deserialize(d)?;
    match v {
        serde_json::Value::String(s) => Fault::parse(&s).map_err(serde::de::Error::custom),
        other => serde_json::from_value(other).map_err(serde::de::Error::custom),
    }
}

/// Why a fault or route spec was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FaultParseError {
    #[error("unknown route {0:?} (expected locks, events, keys.create, keys.get, keys.delete or *)")]
    UnknownRoute(String),
    #[error(
        "unknown fault {0:?} (expected status, delay, drip, drop, reset, truncated, malformed, wrong-types, \
         missing-fields, extra-fields, unknown-enum, html, empty, huge or redirect)"
    )]
    UnknownFault(String),
    #[error("invalid fault {0:?}: {1}")]
    Invalid(String, &'static str),
}

/// One entry of the fault catalogue: a way the API or the network can misbehave that a client must
/// survive, by the spec that injects it (`--fault ROUTE=SPEC`, the admin endpoint, [`Fault::parse`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CatalogueEntry {
    /// The spec, which is also the entry's name, e.g. `status:503:retry-after=120` or `reset`.
    pub spec: &'static str,
    /// What the client sees, for people.
    pub what: &'static str,
}

impl CatalogueEntry {
    /// The fault itself. Every catalogue spec parses (a unit test checks).
    pub fn fault(&self) -> Fault {
        Fault::parse(self.spec).unwrap_or(Fault::Drop)
    }
}

/// Every fault the simulator can inject that a client should be tested against, statuses first. Failures
/// the server cannot cause (connection refused, DNS, TLS) are done by the client tests themselves: a
/// closed port, `https://unloc-desk-test.invalid/v1`, and `https://` to this plain-HTTP server.
// One line per fault, all of the same shape on purpose (a duplicate finder lists it): it is a table.
pub const CATALOGUE: &[CatalogueEntry] = &[
    CatalogueEntry { spec: "status:400", what: "400 Bad Request with our error body" },
    CatalogueEntry { spec: "status:401", what: "401 Unauthorized (with WWW-Authenticate), as for a wrong token" },
    CatalogueEntry { spec: "status:403", what: "403 Forbidden: the lock-out on reads, a refusal on writes" },
    CatalogueEntry { spec: "status:404", what: "404 Not Found" },
    CatalogueEntry { spec: "status:405", what: "405 Method Not Allowed (with Allow)" },
    CatalogueEntry { spec: "status:406", what: "406 Not Acceptable" },
    CatalogueEntry { spec: "status:409", what: "409 Conflict, as for revoking a revoked key" },
    CatalogueEntry { spec: "status:422", what: "422 Unprocessable Entity, as for an invalid phone number" },
    CatalogueEntry { spec: "status:429", what: "429 Too Many Requests without Retry-After" },
    CatalogueEntry { spec: "status:429:retry-after=1", what: "429 Too Many Requests with Retry-After: 1" },
    CatalogueEntry { spec: "status:500", what: "500 Internal Server Error" },
    CatalogueEntry { spec: "status:502", what: "502 Bad Gateway" },
    CatalogueEntry { spec: "status:503:retry-after=120", what: "503 maintenance with Retry-After: 120" },
    CatalogueEntry { spec: "delay:3000", what: "the normal answer after 3 s: a timeout for a client that waits less" },
    CatalogueEntry { spec: "drip", what: "the normal answer, its body 64 bytes every 50 ms" },
    CatalogueEntry { spec: "drop", what: "the connection closed without a byte of answer" },
    CatalogueEntry { spec: "reset", what: "head and part of the body, then a TCP reset" },
    CatalogueEntry { spec: "truncated", what: "Content-Length promises more body than is sent before closing" },
    CatalogueEntry { spec: "malformed", what: "200 with invalid JSON" },
    CatalogueEntry { spec: "wrong-types", what: "200, valid JSON, but \"name\": 42 and numeric ids" },
    CatalogueEntry { spec: "missing-fields", what: "200, valid JSON, but no id and name fields" },
    CatalogueEntry { spec: "extra-fields", what: "200, the normal answer plus unknown fields (must decode)" },
    CatalogueEntry { spec: "unknown-enum", what: "200, unknown auth/action/state values (must decode and keep them)" },
    CatalogueEntry { spec: "html", what: "200 with an HTML page (a captive portal)" },
    CatalogueEntry { spec: "empty", what: "200 with an empty body" },
    CatalogueEntry { spec: "huge", what: "the normal answer padded with whitespace to 50 MiB, streamed" },
    CatalogueEntry { spec: "redirect:307", what: "307 Temporary Redirect to another host (never to be followed)" },
];

/// The catalogue (see [`CATALOGUE`]).
pub fn catalogue() -> &'static [CatalogueEntry] {
    CATALOGUE
}

/// The active rules, in insertion order; the first matching rule wins.
#[derive(Debug, Default)]
pub(crate) struct FaultTable {
    rules: Vec<FaultRule>,
}

impl FaultTable {
    pub(crate) fn add(&mut self, rule: FaultRule) {
        if rule.times != Some(0) {
            self.rules.push(rule);
        }
    }

    pub(crate) fn clear(&mut self) {
        self.rules.clear();
    }

    pub(crate) fn rules(&self) -> &[FaultRule] {
        &self.rules
    }

    /// Takes the fault for a request on `route`, counting down (and removing) limited rules.
    pub(crate) fn take(&mut self, route: Option<Route>) -> Option<Fault> {
        let pos = self.rules.iter().position(|r| r.route.matches(route))?;
        // `pos` was just found by `position`, so it is in bounds.
        let rule = &mut self.rules[pos];
        let fault = rule.fault.clone();
        if let Some(n) = rule.times.as_mut() {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.rules.remove(pos);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn parses_every_cli_spec() {
        assert_eq!(Fault::parse("status:503").unwrap(), Fault::Status { code: 503, body: None, retry_after: None });
        assert_eq!(
            Fault::parse("status:429:retry-after=30").unwrap(),
            Fault::Status { code: 429, body: None, retry_after: Some("30".into()) }
        );
        assert_eq!(
            Fault::parse("status:500:retry-after=5:body={\"a\":\"b:c\"}").unwrap(),
            Fault::Status { code: 500, body: Some("{\"a\":\"b:c\"}".into()), retry_after: Some("5".into()) }
        );
        assert_eq!(Fault::parse("delay:2000").unwrap(), Fault::Delay { ms: 2000 });
        assert_eq!(Fault::parse("malformed").unwrap(), Fault::Malformed);
        assert_eq!(Fault::parse("truncated").unwrap(), Fault::Truncated);
        assert_eq!(Fault::parse("drop").unwrap(), Fault::Drop);
        assert_eq!(Fault::parse("html").unwrap(), Fault::Html);
        assert_eq!(Fault::parse("empty").unwrap(), Fault::Empty);
        assert_eq!(Fault::parse("drip").unwrap(), Fault::Drip { ms: 50, bytes: 64 });
        assert_eq!(Fault::parse("drip:10").unwrap(), Fault::Drip { ms: 10, bytes: 64 });
        assert_eq!(Fault::parse("drip:10:3").unwrap(), Fault::Drip { ms: 10, bytes: 3 });
        assert_eq!(Fault::parse("reset").unwrap(), Fault::Reset);
        assert_eq!(Fault::parse("wrong-types").unwrap(), Fault::WrongTypes);
        assert_eq!(Fault::parse("missing-fields").unwrap(), Fault::MissingFields);
        assert_eq!(Fault::parse("extra-fields").unwrap(), Fault::ExtraFields);
        assert_eq!(Fault::parse("unknown-enum").unwrap(), Fault::UnknownEnum);
        assert_eq!(Fault::parse("huge").unwrap(), Fault::Huge { mb: 50 });
        assert_eq!(Fault::parse("huge:70").unwrap(), Fault::Huge { mb: 70 });
        assert_eq!(Fault::parse("redirect:302").unwrap(), Fault::Redirect { code: 302, location: None });
        assert_eq!(
            Fault::parse("redirect:301:http://127.0.0.1:9/v1/x").unwrap(),
            Fault::Redirect { code: 301, location: Some("http://127.0.0.1:9/v1/x".into()) }
        );
    }

    #[test]
    fn the_catalogue_has_every_kind_and_every_status_a_client_must_handle() {
        assert!(CATALOGUE.len() >= 25);
        let faults: Vec<Fault> = CATALOGUE.iter().map(|e| Fault::parse(e.spec).unwrap()).collect();
        for (entry, fault) in CATALOGUE.iter().zip(&faults) {
            assert_eq!(fault.spec(), entry.spec, "the spec is the canonical name");
            assert_eq!(&entry.fault(), fault);
            assert!(!entry.what.is_empty());
        }
        let codes: Vec<u16> = faults
            .iter()
            .filter_map(|f| match f {
                Fault::Status { code, .. } => Some(*code),
                _ => None,
            })
            .collect();
        for code in [400, 401, 403, 404, 405, 406, 409, 422, 429, 500, 502, 503] {
            assert!(codes.contains(&code), "{code}");
        }
        let retry_after = |code| {
            faults.iter().any(|f| matches!(f, Fault::Status { code: c, retry_after: Some(_), .. } if *c == code))
        };
        assert!(retry_after(429) && retry_after(503));
        assert!(faults.iter().any(|f| matches!(f, Fault::Status { code: 429, retry_after: None, .. })));
        let kind = |f: &Fault| serde_json::to_value(f).unwrap()["kind"].as_str().unwrap().to_owned();
        let kinds: HashSet<String> = faults.iter().map(kind).collect();
        let every_kind = [
            Fault::Status { code: 500, body: None, retry_after: None },
            Fault::Delay { ms: 1 },
            Fault::Malformed,
            Fault::Truncated,
            Fault::Drop,
            Fault::Html,
            Fault::Empty,
            Fault::Drip { ms: 1, bytes: 1 },
            Fault::Reset,
            Fault::WrongTypes,
            Fault::MissingFields,
            Fault::ExtraFields,
            Fault::UnknownEnum,
            Fault::Huge { mb: 1 },
            Fault::Redirect { code: 307, location: None },
        ];
        for f in &every_kind {
            assert!(kinds.contains(&kind(f)), "{f:?} is not in the catalogue");
        }
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in
            ["status", "status:abc", "status:99", "status:503:foo=1", "delay", "delay:soon", "drop:1", "explode", ""]
                .into_iter()
                .chain(["drip:0", "drip:5:0", "drip:x", "drip:1:2:3", "huge:0", "huge:5000", "huge:lots", "reset:1"])
                .chain(["redirect", "redirect:200", "redirect:400", "redirect:abc", "redirect:302:"])
        {
            assert!(Fault::parse(bad).is_err(), "{bad:?} should fail");
        }
        for bad in ["events", "keys=drop", "events=drop*0", "events=nope*2"] {
            assert!(FaultRule::parse(bad).is_err(), "{bad:?} should fail");
        }
    }

    #[test]
    fn spec_round_trips() {
        for s in [
            "status:503",
            "status:429:retry-after=30",
            "status:500:body=a:b*c",
            "delay:15",
            "malformed",
            "truncated",
            "drop",
            "html",
            "empty",
            "drip",
            "drip:10:3",
            "reset",
            "wrong-types",
            "missing-fields",
            "extra-fields",
            "unknown-enum",
            "huge",
            "huge:70",
            "redirect:307",
            "redirect:308:http://127.0.0.1:9/v1/partners/p/locks",
        ] {
            assert_eq!(Fault::parse(s).unwrap().spec(), s);
        }
    }

    #[test]
    fn parses_rules_with_counts() {
        let r = FaultRule::parse("events=status:500*2").unwrap();
        assert_eq!(r.route, Route::Events);
        assert_eq!(r.times, Some(2));
        assert_eq!(r.to_string(), "events=status:500*2");
        let r = FaultRule::parse("*=drop").unwrap();
        assert_eq!((r.route, r.fault, r.times), (Route::Any, Fault::Drop, None));
        for (name, route) in
            [("keys.create", Route::KeysCreate), ("keys.get", Route::KeysGet), ("keys.delete", Route::KeysDelete)]
        {
            let r = FaultRule::parse(&format!("{name}=status:503*1")).unwrap();
            assert_eq!((r.route, r.times), (route, Some(1)));
            assert_eq!(r.to_string(), format!("{name}=status:503*1"));
            assert_eq!(serde_json::to_value(route).unwrap(), name);
            assert!(Route::Any.matches(Some(route)));
            assert!(!Route::Locks.matches(Some(route)));
        }
        let r = FaultRule::parse("locks=status:500:body=a*b").unwrap();
        assert_eq!(r.times, None);
        assert_eq!(r.fault, Fault::Status { code: 500, body: Some("a*b".into()), retry_after: None });
    }

    #[test]
    fn json_forms() {
        let r: FaultRule = serde_json::from_str(r#"{"route":"events","fault":"status:503","times":1}"#).unwrap();
        assert_eq!(r, FaultRule::times(Route::Events, Fault::parse("status:503").unwrap(), 1));
        let r: FaultRule =
            serde_json::from_str(r#"{"route":"*","fault":{"kind":"status","code":429,"retryAfter":"7"}}"#).unwrap();
        assert_eq!(r.fault, Fault::Status { code: 429, body: None, retry_after: Some("7".into()) });
        let r: FaultRule = serde_json::from_str(r#"{"route":"locks","fault":{"kind":"delay","ms":5}}"#).unwrap();
        assert_eq!(r.fault, Fault::Delay { ms: 5 });
        let v = serde_json::to_value(FaultRule::always(Route::Locks, Fault::Drop)).unwrap();
        assert_eq!(v, serde_json::json!({"route":"locks","fault":{"kind":"drop"}}));
        assert!(serde_json::from_str::<FaultRule>(r#"{"route":"keys","fault":"drop"}"#).is_err());
        assert!(serde_json::from_str::<FaultRule>(r#"{"route":"locks","fault":"boom"}"#).is_err());
        for (json, fault) in [
            (r#"{"kind":"drip","ms":5,"bytes":2}"#, Fault::Drip { ms: 5, bytes: 2 }),
            (r#"{"kind":"huge","mb":60}"#, Fault::Huge { mb: 60 }),
            (r#"{"kind":"reset"}"#, Fault::Reset),
            (r#"{"kind":"wrongTypes"}"#, Fault::WrongTypes),
            (r#"{"kind":"wrong-types"}"#, Fault::WrongTypes),
            (r#"{"kind":"unknown-enum"}"#, Fault::UnknownEnum),
            (r#""missing-fields""#, Fault::MissingFields),
            (r#"{"kind":"redirect","code":302}"#, Fault::Redirect { code: 302, location: None }),
            (
                r#"{"kind":"redirect","code":301,"location":"http://127.0.0.1:9/"}"#,
                Fault::Redirect { code: 301, location: Some("http://127.0.0.1:9/".into()) },
            ),
        ] {
            let r: FaultRule = serde_json::from_str(&format!(r#"{{"route":"locks","fault":{json}}}"#)).unwrap();
            assert_eq!(r.fault, fault, "{json}");
        }
    }

    #[test]
    fn table_counts_down_and_first_match_wins() {
        let mut t = FaultTable::default();
        t.add(FaultRule::times(Route::Events, Fault::Drop, 2));
        t.add(FaultRule::always(Route::Any, Fault::Empty));
        t.add(FaultRule::times(Route::Locks, Fault::Html, 0)); // ignored: would never apply
        assert_eq!(t.rules().len(), 2);
        assert_eq!(t.take(Some(Route::Events)), Some(Fault::Drop));
        assert_eq!(t.take(Some(Route::Locks)), Some(Fault::Empty));
        assert_eq!(t.take(Some(Route::Events)), Some(Fault::Drop));
        assert_eq!(t.take(Some(Route::Events)), Some(Fault::Empty));
        assert_eq!(t.take(None), Some(Fault::Empty));
        t.clear();
        assert_eq!(t.take(Some(Route::Events)), None);
    }
}
