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
}

/// The expectation for a fault spec: every [`crate::CATALOGUE`] entry, plus the few variants the tests
/// use (`status:503` without Retry-After, `huge:80`). `None` for a spec nobody has described yet.
pub fn expected(spec: &str) -> Option<Expected> {
    let read = |kind| Some(Expected { call: Call::ListLocks, report: Report::Error(kind) });
    match spec {
        "status:400" => read("internal"),
        "status:401" => read("unauthorized"),
        // On a read, 403 is Unloc's lock-out after wrong tokens (on a write it is a refusal).
        "status:403" => read("lockedOut"),
        "status:404" => read("notFound"),
        "status:405" | "status:406" => read("invalidResponse"),
        "status:409" => Some(Expected { call: Call::CreateKey, report: Report::Error("conflict") }),
        "status:422" => Some(Expected { call: Call::CreateKey, report: Report::Error("invalidInput") }),
        "status:429" | "status:429:retry-after=1" => read("rateLimited"),
        "status:500" | "status:502" => read("server"),
        "status:503" | "status:503:retry-after=120" => read("maintenance"),
        "delay:3000" => read("timeout"),
        "drop" | "reset" | "truncated" => read("offline"),
        "malformed" | "html" | "empty" => read("invalidResponse"),
        // Never followed: the token stays with the configured address, and the answer is unusable.
        "redirect:307" => read("invalidResponse"),
        // Over the client's size cap for a lock list (64 MiB): its own kind, not "unexpected".
        "huge:80" => read("tooLarge"),
        // Every item is unreadable, but the envelope is intact: the answer succeeds with every item
        // skipped and counted (the UI says how many could not be read).
        "wrong-types" | "missing-fields" => Some(Expected { call: Call::ListLocks, report: Report::Success }),
        "drip" | "extra-fields" | "unknown-enum" | "huge" => {
            Some(Expected { call: Call::ListLocks, report: Report::Success })
        }
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
