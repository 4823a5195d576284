//! Command-line parsing for the `unloc-sim` binary and its start-up banner (in the library so both are
//! unit-tested; a hand-written parser keeps clap's compile time out of the workspace).

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::{default_hmac_secret, default_token, FaultRule, PendingApprovalState, SimConfig, Simulator};

/// `--help` text.
pub const USAGE: &str = "\
unloc-sim: a local, deterministic Unloc partner API v1 simulator (listens on 127.0.0.1 only)

USAGE: unloc-sim [FLAGS]

  --port N                 port to listen on (default 0 = a random free port)
  --seed N                 seed of all generated data, key ids, the default token and HMAC secret
                           (default 1)
  --locks N                number of locks, fixtures included (default 40)
  --events-per-lock N      events per lock (default 30)
  --busy-lock-events N     give \"Hovedinngang Storgata 1\" N events instead (default 0 = off)
  --busy-lock-keys N       with --busy-lock-events: its history uses N distinct keys (default 0 = 2-5)
  --payloads               put injection payloads on the locks right after the fixtures (one lock
                           each; raises --locks to hold them all)
  --no-hostile-lock        give the hostile test lock plain sample texts (the demo's clean data)
  --partner-id ID          partner id in the path (default demo-partner)
  --partner-name NAME      name on the partner's own events (default \"Renhold Nord AS\")
  --token TOKEN            bearer token (default: 32 alphanumerics derived from the seed)
  --lockout-after N        wrong tokens that trigger the 403 lock-out (default 5, 0 = never)
  --lockout-window DUR     ... counted within this window (default 60s)
  --lockout-cooldown DUR   how long the lock-out lasts (default 300s)
  --anchor RFC3339         spread sample events back from this instant (default: now)
  --hmac-secret S          secret that signs appSwitchUrl links (default: derived from the seed)
  --key-provisioning DUR   how long a new key stays `creating` (default 2s)
  --pending-approval-state creating | scheduled-active
                           what GET /keys/{id} reports while an opt-in owner has not approved
                           (default creating)
  --fault ROUTE=SPEC[*N]   inject a fault, repeatable.
                           ROUTE: locks | events | keys.create | keys.get | keys.delete | *
                           SPEC: status:CODE[:retry-after=V][:body=TEXT] | delay:MS |
                                 drip[:MS[:BYTES]] | drop | reset | truncated | malformed |
                                 wrong-types | missing-fields | extra-fields | unknown-enum |
                                 html | empty | huge[:MB] | redirect:CODE[:LOCATION];
                                 *N = only the next N requests
                           (the catalogue, with what each does: tests/sim/README.md)
  -h, --help               this text

DUR is seconds (`30`) or with a unit: `500ms`, `30s`, `5m`.
Prints UNLOC_API_BASE=, UNLOC_PARTNER_ID= and UNLOC_API_TOKEN= lines, then serves until Ctrl-C/SIGTERM.
";

/// What the command line asks for.
// Built once per process, so the size difference between the variants costs nothing worth a Box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum Command {
    Run(SimConfig),
    Help,
}

/// A command-line mistake, with a message for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CliError {
    #[error("unknown flag {0} (see --help)")]
    UnknownFlag(String),
    #[error("{0} needs a value")]
    MissingValue(String),
    #[error("invalid value {value:?} for {flag}: {reason}")]
    InvalidValue { flag: String, value: String, reason: String },
}

/// Parses the arguments after the program name. Accepts `--flag value` and `--flag=value`.
pub fn parse_args<I, S>(args: I) -> Result<Command, CliError>
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let mut config = SimConfig::default();
    let mut token = None;
    let mut hmac_secret = None;
    let mut args = args.into_iter().map(Into::into);
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(Command::Help);
        }
        if arg == "--payloads" {
            config.payloads = true;
            continue;
        }
        if arg == "--no-hostile-lock" {
            config.hostile_lock = false;
            continue;
        }
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if !flag.starts_with("--") {
            return Err(CliError::UnknownFlag(arg));
        }
        let known = [
            "--port",
            "--seed",
            "--locks",
            "--events-per-lock",
            "--busy-lock-events",
            "--busy-lock-keys",
            "--partner-id",
            "--partner-name",
            "--token",
            "--lockout-after",
            "--lockout-window",
            "--lockout-cooldown",
            "--anchor",
            "--hmac-secret",
            "--key-provisioning",
            "--pending-approval-state",
            "--fault",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(CliError::UnknownFlag(flag));
        }
        let value = match inline {
            Some(v) => v,
            None => args.next().ok_or_else(|| CliError::MissingValue(flag.clone()))?,
        };
        let invalid = |reason: String| CliError::InvalidValue { flag: flag.clone(), value: value.clone(), reason };
        let number = |v: &str| v.parse::<u64>().map_err(|e| invalid(e.to_string()));
        match flag.as_str() {
            "--port" => config.port = value.parse().map_err(|e| invalid(format!("{e}")))?,
            "--seed" => config.seed = number(&value)?,
            "--locks" => config.locks = to_usize(number(&value)?, &invalid)?,
            "--events-per-lock" => config.events_per_lock = to_usize(number(&value)?, &invalid)?,
            "--busy-lock-events" => {
                config.busy_lock_events = to_usize(number(&value)?, &invalid)?;
            }
            "--busy-lock-keys" => config.busy_lock_keys = to_usize(number(&value)?, &invalid)?,
            "--partner-id" | "--partner-name" | "--token" | "--hmac-secret" if value.is_empty() => {
                return Err(invalid("must not be empty".to_owned()));
            }
            "--partner-id" => config.partner_id = value,
            "--partner-name" => config.partner_name = value,
            "--token" => token = Some(value),
            "--hmac-secret" => hmac_secret = Some(value),
            "--key-provisioning" => config.key_provisioning = parse_duration(&value).map_err(invalid)?,
            "--pending-approval-state" => {
                config.pending_approval_state = PendingApprovalState::parse(&value).map_err(invalid)?;
            }
            "--lockout-after" => {
                config.lockout_after = value.parse().map_err(|e| invalid(format!("{e}")))?;
            }
            "--lockout-window" => config.lockout_window = parse_duration(&value).map_err(invalid)?,
            "--lockout-cooldown" => {
                config.lockout_cooldown = parse_duration(&value).map_err(invalid)?;
            }
            "--anchor" => {
                let t = DateTime::parse_from_rfc3339(&value).map_err(|e| invalid(e.to_string()))?;
                config.anchor = Some(t.with_timezone(&Utc));
            }
            "--fault" => config.faults.push(FaultRule::parse(&value).map_err(|e| invalid(e.to_string()))?),
            // `known` lists exactly the flags matched above.
            _ => return Err(CliError::UnknownFlag(flag)),
        }
    }
    config.token = token.unwrap_or_else(|| default_token(config.seed));
    config.hmac_secret = hmac_secret.unwrap_or_else(|| default_hmac_secret(config.seed));
    Ok(Command::Run(config))
}

fn to_usize(n: u64, invalid: &dyn Fn(String) -> CliError) -> Result<usize, CliError> {
    usize::try_from(n).map_err(|e| invalid(e.to_string()))
}

/// `30` (seconds), `500ms`, `30s`, `5m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit_ms) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1_000)
    } else if let Some(n) = s.strip_suffix('m') {
        (n, 60_000)
    } else {
        (s, 1_000)
    };
    let n: u64 = num.trim().parse().map_err(|_| "expected e.g. 30, 500ms, 30s or 5m".to_owned())?;
    n.checked_mul(unit_ms).map(Duration::from_millis).ok_or_else(|| "too large".to_owned())
}

/// What the binary prints once it listens: a few lines for people, then exactly three shell-readable
/// `UNLOC_...=` lines (each alone on its line, so `grep '^UNLOC_' | sed` works).
pub fn banner(sim: &Simulator) -> String {
    let locks = sim.locks();
    let opt_in = locks.iter().filter(|l| l.auth == crate::Auth::OptIn).count();
    format!(
        "Unloc API simulator listening on http://{addr}\n\
         \x20 base URL:    {base}\n\
         \x20 partner id:  {pid}\n\
         \x20 token:       {token}\n\
         \x20 hmac secret: {hmac}\n\
         \x20 locks:       {n} ({opt_in} opt-in); admin: http://{addr}/__admin/...\n\
         UNLOC_API_BASE={api}\n\
         UNLOC_PARTNER_ID={pid}\n\
         UNLOC_API_TOKEN={token}\n",
        addr = sim.addr(),
        base = sim.partner_base(),
        pid = sim.partner_id(),
        token = sim.token(),
        hmac = sim.hmac_secret(),
        n = locks.len(),
        api = sim.api_base(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Fault, Route};

    fn run(args: &[&str]) -> SimConfig {
        match parse_args(args.iter().copied()).unwrap() {
            Command::Run(c) => c,
            Command::Help => panic!("unexpected help"),
        }
    }

    #[test]
    fn defaults() {
        let c = run(&[]);
        assert_eq!(c.seed, 1);
        assert_eq!(c.locks, 40);
        assert_eq!(c.events_per_lock, 30);
        assert_eq!(c.busy_lock_events, 0);
        assert_eq!(c.partner_id, "demo-partner");
        assert_eq!(c.partner_name, "Renhold Nord AS");
        assert_eq!(c.token, default_token(1));
        assert_eq!(c.port, 0);
        assert_eq!(c.lockout_after, 5);
        assert_eq!(c.lockout_window, Duration::from_secs(60));
        assert_eq!(c.lockout_cooldown, Duration::from_secs(300));
        assert!(c.faults.is_empty());
        assert!(c.anchor.is_none());
        assert_eq!(c.hmac_secret, default_hmac_secret(1));
        assert_eq!(c.key_provisioning, Duration::from_secs(2));
        assert_eq!(c.pending_approval_state, PendingApprovalState::Creating);
        assert!(!c.payloads);
        assert!(run(&["--payloads", "--locks", "12"]).payloads);
        assert!(c.hostile_lock);
        assert!(!run(&["--no-hostile-lock"]).hostile_lock);
    }

    #[test]
    fn all_flags() {
        let c = run(&[
            "--seed",
            "9",
            "--locks=10000",
            "--events-per-lock",
            "3",
            "--busy-lock-events",
            "100000",
            "--busy-lock-keys=10000",
            "--partner-id",
            "abcpartner",
            "--partner-name=Vask & Co",
            "--port",
            "8089",
            "--lockout-after",
            "2",
            "--lockout-window",
            "10s",
            "--lockout-cooldown=500ms",
            "--anchor",
            "2025-01-02T03:04:05Z",
            "--fault",
            "events=status:500*2",
            "--fault=locks=status:429:retry-after=30",
            "--fault",
            "*=delay:2000",
            "--fault",
            "keys.delete=status:503*1",
            "--fault",
            "events=drip:20:8",
            "--fault=*=huge",
            "--key-provisioning",
            "200ms",
            "--pending-approval-state=scheduled-active",
        ]);
        assert_eq!(c.seed, 9);
        assert_eq!(c.token, default_token(9), "the default token follows --seed");
        assert_eq!(c.locks, 10_000);
        assert_eq!(c.events_per_lock, 3);
        assert_eq!(c.busy_lock_events, 100_000);
        assert_eq!(c.busy_lock_keys, 10_000);
        assert_eq!(c.partner_id, "abcpartner");
        assert_eq!(c.partner_name, "Vask & Co");
        assert_eq!(c.port, 8089);
        assert_eq!(c.lockout_after, 2);
        assert_eq!(c.lockout_window, Duration::from_secs(10));
        assert_eq!(c.lockout_cooldown, Duration::from_millis(500));
        assert_eq!(c.anchor.unwrap().to_rfc3339(), "2025-01-02T03:04:05+00:00");
        assert_eq!(
            c.faults,
            vec![
                FaultRule::times(Route::Events, Fault::parse("status:500").unwrap(), 2),
                FaultRule::always(Route::Locks, Fault::parse("status:429:retry-after=30").unwrap()),
                FaultRule::always(Route::Any, Fault::Delay { ms: 2000 }),
                FaultRule::times(Route::KeysDelete, Fault::parse("status:503").unwrap(), 1),
                FaultRule::always(Route::Events, Fault::Drip { ms: 20, bytes: 8 }),
                FaultRule::always(Route::Any, Fault::Huge { mb: 50 }),
            ]
        );
        assert_eq!(c.hmac_secret, default_hmac_secret(9), "the default HMAC secret follows --seed");
        assert_eq!(c.key_provisioning, Duration::from_millis(200));
        assert_eq!(c.pending_approval_state, PendingApprovalState::ScheduledActive);
        assert_eq!(run(&["--token", "abc", "--seed", "3"]).token, "abc");
        assert_eq!(run(&["--hmac-secret", "secret-123", "--seed", "3"]).hmac_secret, "secret-123");
    }

    #[test]
    fn help_and_errors() {
        assert!(matches!(parse_args(["--help"]), Ok(Command::Help)));
        assert!(matches!(parse_args(["--port", "1", "-h"]), Ok(Command::Help)));
        assert_eq!(parse_args(["--nope"]).unwrap_err(), CliError::UnknownFlag("--nope".into()));
        assert_eq!(parse_args(["stray"]).unwrap_err(), CliError::UnknownFlag("stray".into()));
        assert_eq!(parse_args(["--seed"]).unwrap_err(), CliError::MissingValue("--seed".into()));
        for bad in [
            ["--seed", "x"],
            ["--port", "70000"],
            ["--fault", "events"],
            ["--fault", "keys=drop"],
            ["--fault", "events=explode"],
            ["--lockout-window", "soon"],
            ["--anchor", "yesterday"],
            ["--token", ""],
            ["--hmac-secret", ""],
            ["--key-provisioning", "soon"],
            ["--pending-approval-state", "active"],
        ] {
            assert!(matches!(parse_args(bad), Err(CliError::InvalidValue { .. })), "{bad:?}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("").is_err());
        assert!(parse_duration("-1").is_err());
    }

    #[tokio::test]
    async fn banner_has_the_three_shell_lines() {
        let sim = crate::start(SimConfig { locks: 10, ..SimConfig::default() }).await.unwrap();
        let text = banner(&sim);
        let unloc: Vec<&str> = text.lines().filter(|l| l.starts_with("UNLOC_")).collect();
        assert_eq!(
            unloc,
            vec![
                format!("UNLOC_API_BASE=http://127.0.0.1:{}/v1", sim.addr().port()),
                "UNLOC_PARTNER_ID=demo-partner".to_owned(),
                format!("UNLOC_API_TOKEN={}", sim.token()),
            ]
        );
        assert!(text.contains(&sim.partner_base()));
        assert!(text.contains(sim.hmac_secret()));
    }
}
