//! Injected faults: what can go wrong on the wire, which route it hits, and how often.
//!
//! A fault is picked after the request has been parsed and its route recognised, but before lock-out,
//! authentication and data: a fault on a route applies to every request for that route, whoever sends
//! it. That keeps tests simple (no need to authenticate to see a 503).
//!
//! To add a fault kind: add a variant to [`Fault`] (serde names it in camelCase under `"kind"`), give
//! it a CLI spelling in [`Fault::parse`] and [`Fault::spec`], and act on it in `server::api` /
//! `server::fault_response`.
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
}

impl Fault {
    /// Parses the CLI form: `status:503`, `status:429:retry-after=30`, `status:500:body=oops` (`body=`
    /// must come last and takes the rest, colons included), `delay:2000`, `malformed`, `truncated`,
    /// `drop`, `html`, `empty`.
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
            "malformed" => no_args(Self::Malformed),
            "truncated" => no_args(Self::Truncated),
            "drop" => no_args(Self::Drop),
            "html" => no_args(Self::Html),
            "empty" => no_args(Self::Empty),
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
    #[error("unknown fault {0:?} (expected status, delay, malformed, truncated, drop, html or empty)")]
    UnknownFault(String),
    #[error("invalid fault {0:?}: {1}")]
    Invalid(String, &'static str),
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
    }

    #[test]
    fn rejects_bad_specs() {
        for bad in
            ["status", "status:abc", "status:99", "status:503:foo=1", "delay", "delay:soon", "drop:1", "explode", ""]
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
