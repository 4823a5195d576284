//! What the app's client reports for each fault, written once for its three readers: the client tests
//! (`src-tauri/tests/faults.rs`), the fault-table report (`src-tauri/examples/fault_table.rs`) and the
//! end-to-end faults scenario (`tests/e2e/faults.rs`). It lives here, beside the catalogue it
//! describes, because all three already depend on this crate while this crate cannot depend on the
//! app; so an error is named the way the app names its kinds to the UI (`ErrorKind::as_str`).

use crate::Route;

/// The request a fault is tried on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    /// `GET /locks`: most faults, on a read the client may retry.
    ListLocks,
    /// `POST /keys`: where 409 and 422 occur; never retried.
    CreateKey,
}

impl Call {
    /// The route to inject the fault on.
    pub fn route(self) -> Route {
        match self {
            Call::ListLocks => Route::Locks,
            Call::CreateKey => Route::KeysCreate,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Call::ListLocks => "GET /locks",
            Call::CreateKey => "POST /keys",
        }
    }
}

/// What the client reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// The call succeeds: a fault a client must tolerate.
    Success,
    /// The call fails with this error kind (the app's `ErrorKind::as_str`, e.g. `"lockedOut"`).
    Error(&'static str),
}

/// What a client reports for a fault on its call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub call: Call,
    pub report: Report,
    /// How many requests reach the simulator under the app's retry policy (3 attempts for a read
    /// that may succeed on a later try, Retry-After honoured up to a limit, a write never resent).
    pub attempts: usize,
    /// Words the message the UI gets (`AppError::message`, English) must contain: what makes it
    /// this fault's message and not any error of the same kind. Empty for a success.
    pub message: &'static str,
}

/// The expectation for a fault spec: every [`crate::CATALOGUE`] entry, plus the few variants the tests
/// use (`status:503` without Retry-After, `huge:80`). `None` for a spec nobody has described yet.
pub fn expected(spec: &str) -> Option<Expected> {
    let read = |kind, attempts, message| {
        Some(Expected { call: Call::ListLocks, report: Report::Error(kind), attempts, message })
    };
    let write =
        |kind, message| Some(Expected { call: Call::CreateKey, report: Report::Error(kind), attempts: 1, message });
    let tolerated = Some(Expected { call: Call::ListLocks, report: Report::Success, attempts: 1, message: "" });
    match spec {
        "status:400" => read("internal", 1, "(400): injected fault"),
        "status:401" => read("unauthorized", 1, "(401)"),
        // On a read, 403 is Unloc's lock-out after wrong tokens (on a write it is a refusal).
        "status:403" => read("lockedOut", 1, "(403)"),
        "status:404" => read("notFound", 1, "(404)"),
        "status:405" => read("invalidResponse", 1, "(405)"),
        "status:406" => read("invalidResponse", 1, "(406)"),
        "status:409" => write("conflict", "(409): injected fault"),
        "status:422" => write("invalidInput", "(422): injected fault"),
        "status:429" | "status:429:retry-after=1" => read("rateLimited", 3, "(429)"),
        "status:500" => read("server", 3, "(500)"),
        "status:502" => read("server", 3, "(502)"),
        "status:503" => read("maintenance", 3, "(503)"),
        // Two minutes is longer than the client keeps the user waiting: reported at once.
        "status:503:retry-after=120" => read("maintenance", 1, "(503)"),
        "delay:3000" => read("timeout", 3, "did not answer in time"),
        "drop" => read("offline", 3, "could not reach Unloc"),
        "reset" | "truncated" => read("offline", 3, "the connection broke while the answer was arriving"),
        "malformed" | "html" => read("invalidResponse", 1, "could not be understood"),
        "empty" => read("invalidResponse", 1, "the answer was empty"),
        // Never followed: the token stays with the configured address, and the answer is unusable.
        "redirect:307" => read("invalidResponse", 1, "(307)"),
        // Over the client's size cap for a lock list (64 MiB): its own kind, not "unexpected".
        "huge:80" => read("tooLarge", 1, "64 MB"),
        // Every item is unreadable, but the envelope is intact: the answer succeeds with every item
        // skipped and counted (the UI says how many could not be read).
        "wrong-types" | "missing-fields" => tolerated,
        "drip" | "extra-fields" | "unknown-enum" | "huge" => tolerated,
        _ => None,
    }
}

/// The error kind [`expected`] names for `spec`; panics (in a test) when the table has none.
pub fn expected_error(spec: &str) -> &'static str {
    match expected(spec).map(|expected| expected.report) {
        Some(Report::Error(kind)) => kind,
        other => panic!("the fault table has no error for {spec}: {other:?}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_catalogue_fault_has_an_expectation() {
        for entry in crate::CATALOGUE {
            assert!(expected(entry.spec).is_some(), "no expected outcome for {}", entry.spec);
        }
    }
}
