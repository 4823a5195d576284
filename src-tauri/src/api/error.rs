//! Typed errors of the Unloc API client: one variant per status in the reference, plus transport failures.

use std::time::Duration;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ApiError {
    #[error("the request was rejected as malformed (400){}", detail_suffix(.detail))]
    BadRequest { detail: Option<String> },
    #[error("the API token was not accepted (401)")]
    Unauthorized,
    /// 403 on a read: Unloc's temporary lock-out after several wrong tokens.
    #[error("access is temporarily blocked after several failed sign-ins (403)")]
    LockedOut,
    /// 403 on a write: e.g. the lock holder's vendor connection is broken.
    #[error("the request was refused (403){}", detail_suffix(.detail))]
    Forbidden { detail: Option<String> },
    #[error("not found (404)")]
    NotFound,
    #[error("the API does not allow this method here (405)")]
    MethodNotAllowed,
    #[error("the API refused to answer in JSON (406)")]
    NotAcceptable,
    #[error("conflict (409){}", detail_suffix(.detail))]
    Conflict { detail: Option<String> },
    #[error("a value was rejected (422){}", detail_suffix(.detail))]
    Invalid { detail: Option<String> },
    #[error("too many requests (429)")]
    RateLimited { retry_after: Option<Duration> },
    #[error("Unloc is down for maintenance (503)")]
    Maintenance { retry_after: Option<Duration> },
    #[error("Unloc had an internal problem ({status})")]
    Server { status: u16 },
    #[error("unexpected answer status {status}")]
    UnexpectedStatus { status: u16 },
    #[error("could not reach Unloc: {reason}")]
    Offline { reason: String },
    #[error("Unloc did not answer in time")]
    Timeout,
    #[error("Unloc's answer could not be understood: {detail}")]
    InvalidResponse { detail: String },
    /// The answer was larger than the client reads (a lock's history over its size cap).
    #[error("Unloc's answer was larger than {limit_mb} MB, more than this app reads at once")]
    TooLarge { limit_mb: usize },
}

fn detail_suffix(detail: &Option<String>) -> String {
    detail.as_ref().map(|text| format!(": {text}")).unwrap_or_default()
}

impl ApiError {
    /// Whether an idempotent request may be sent again after this error.
    /// Never after 401/403: repeating a bad token prolongs Unloc's lock-out.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ApiError::RateLimited { .. }
                | ApiError::Maintenance { .. }
                | ApiError::Server { .. }
                | ApiError::Offline { .. }
                | ApiError::Timeout
        )
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after } | ApiError::Maintenance { retry_after } => *retry_after,
            _ => None,
        }
    }
}
