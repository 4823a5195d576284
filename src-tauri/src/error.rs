//! AppError: what went wrong in terms of what the user can do about it, sent to the UI as `{kind, message}`.
//!
//! `message` is an English detail for the "details" line and the log; the UI shows its own
//! translated text per `kind`. Nothing here ever holds the token: the API client redacts it,
//! and no other code path puts it into a string.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use crate::api::{ApiError, UrlRuleError};
use crate::secrets::SecretError;
use crate::store::{StoreError, StoreProblem};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    Unauthorized,
    LockedOut,
    Forbidden,
    NotFound,
    Conflict,
    RateLimited,
    Maintenance,
    Server,
    Offline,
    Timeout,
    InvalidResponse,
    TooLarge,
    InvalidInput,
    KeychainUnavailable,
    NotSignedIn,
    SettingsReset,
    StoreReset,
    StoreDamaged,
    StoreBusy,
    StoreFull,
    StoreReadOnly,
    StoreIo,
    UpdateRejected,
    ExportDiskFull,
    ExportDenied,
    ExportFailed,
    ExportTooManyRows,
    Internal,
}

impl ErrorKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::LockedOut => "lockedOut",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "notFound",
            ErrorKind::Conflict => "conflict",
            ErrorKind::RateLimited => "rateLimited",
            ErrorKind::Maintenance => "maintenance",
            ErrorKind::Server => "server",
            ErrorKind::Offline => "offline",
            ErrorKind::Timeout => "timeout",
            ErrorKind::InvalidResponse => "invalidResponse",
            ErrorKind::TooLarge => "tooLarge",
            ErrorKind::InvalidInput => "invalidInput",
            ErrorKind::KeychainUnavailable => "keychainUnavailable",
            ErrorKind::NotSignedIn => "notSignedIn",
            ErrorKind::SettingsReset => "settingsReset",
            ErrorKind::StoreReset => "storeReset",
            ErrorKind::StoreDamaged => "storeDamaged",
            ErrorKind::StoreBusy => "storeBusy",
            ErrorKind::StoreFull => "storeFull",
            ErrorKind::StoreReadOnly => "storeReadOnly",
            ErrorKind::StoreIo => "storeIo",
            ErrorKind::UpdateRejected => "updateRejected",
            ErrorKind::ExportDiskFull => "exportDiskFull",
            ErrorKind::ExportDenied => "exportDenied",
            ErrorKind::ExportFailed => "exportFailed",
            ErrorKind::ExportTooManyRows => "exportTooManyRows",
            ErrorKind::Internal => "internal",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    pub kind: ErrorKind,
    pub message: String,
    /// For `InvalidInput`: which field (`partnerId`, `token`, `apiBase`, `language`).
    pub field: Option<&'static str>,
    pub retry_after_secs: Option<u64>,
}

pub type Result<T> = std::result::Result<T, AppError>;

impl AppError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AppError { kind, message: message.into(), field: None, retry_after_secs: None }
    }

    pub fn invalid_input(field: &'static str, message: impl Into<String>) -> Self {
        AppError { field: Some(field), ..AppError::new(ErrorKind::InvalidInput, message) }
    }

    pub fn not_signed_in() -> Self {
        AppError::new(ErrorKind::NotSignedIn, "sign in first")
    }

    pub fn internal(message: impl Into<String>) -> Self {
        AppError::new(ErrorKind::Internal, message)
    }
}

impl Serialize for AppError {
    fn serialize<S: Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        let mut out = serializer.serialize_struct("AppError", 4)?;
        out.serialize_field("kind", self.kind.as_str())?;
        out.serialize_field("message", &self.message)?;
        if let Some(field) = self.field {
            out.serialize_field("field", field)?;
        }
        if let Some(seconds) = self.retry_after_secs {
            out.serialize_field("retryAfterSecs", &seconds)?;
        }
        out.end()
    }
}

impl From<ApiError> for AppError {
    fn from(error: ApiError) -> Self {
        let kind = match &error {
            ApiError::Unauthorized => ErrorKind::Unauthorized,
            ApiError::LockedOut => ErrorKind::LockedOut,
            ApiError::Forbidden { .. } => ErrorKind::Forbidden,
            ApiError::NotFound => ErrorKind::NotFound,
            ApiError::RateLimited { .. } => ErrorKind::RateLimited,
            ApiError::Maintenance { .. } => ErrorKind::Maintenance,
            ApiError::Server { .. } => ErrorKind::Server,
            ApiError::Offline { .. } => ErrorKind::Offline,
            ApiError::Timeout => ErrorKind::Timeout,
            ApiError::InvalidResponse { .. }
            | ApiError::UnexpectedStatus { .. }
            | ApiError::MethodNotAllowed
            | ApiError::NotAcceptable => ErrorKind::InvalidResponse,
            ApiError::TooLarge { .. } => ErrorKind::TooLarge,
            ApiError::Conflict { .. } => ErrorKind::Conflict,
            // Our own checks run first, so Unloc refusing a value means it checks something we do not.
            ApiError::Invalid { .. } => ErrorKind::InvalidInput,
            ApiError::BadRequest { .. } => ErrorKind::Internal,
        };
        AppError {
            retry_after_secs: error.retry_after().map(|wait| wait.as_secs()),
            ..AppError::new(kind, error.to_string())
        }
    }
}

impl From<SecretError> for AppError {
    fn from(error: SecretError) -> Self {
        let kind = match error {
            SecretError::Unavailable(_) => ErrorKind::KeychainUnavailable,
            SecretError::TaskFailed(_) => ErrorKind::Internal,
        };
        AppError::new(kind, error.to_string())
    }
}

/// Each way the local database can fail says what it is: a full disk is something the user (or
/// their IT support) can fix, a damaged file is repaired at the next start.
impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        let kind = match error.problem() {
            StoreProblem::Damaged => ErrorKind::StoreDamaged,
            StoreProblem::Busy => ErrorKind::StoreBusy,
            StoreProblem::Full => ErrorKind::StoreFull,
            StoreProblem::ReadOnly => ErrorKind::StoreReadOnly,
            StoreProblem::Io => ErrorKind::StoreIo,
            StoreProblem::TooNew | StoreProblem::Other => ErrorKind::Internal,
        };
        AppError::new(kind, error.to_string())
    }
}

impl From<UrlRuleError> for AppError {
    fn from(error: UrlRuleError) -> Self {
        let field = match error {
            UrlRuleError::NotAUrl | UrlRuleError::InsecureScheme | UrlRuleError::ExtraParts => "apiBase",
            UrlRuleError::EmptyPartnerId | UrlRuleError::BadPartnerId | UrlRuleError::LongPartnerId => "partnerId",
        };
        AppError::invalid_input(field, error.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn serializes_as_kind_and_message() {
        let json = serde_json::to_value(AppError::from(ApiError::Unauthorized)).unwrap();
        assert_eq!(json, serde_json::json!({"kind":"unauthorized","message":"the API token was not accepted (401)"}));
    }

    #[test]
    fn carries_retry_after_and_field_when_known() {
        let json =
            serde_json::to_value(AppError::from(ApiError::RateLimited { retry_after: Some(Duration::from_secs(30)) }))
                .unwrap();
        assert_eq!(json["kind"], "rateLimited");
        assert_eq!(json["retryAfterSecs"], 30);
        let json = serde_json::to_value(AppError::from(UrlRuleError::InsecureScheme)).unwrap();
        assert_eq!(json["field"], "apiBase");
    }

    #[test]
    fn maps_transport_and_status_errors_to_what_the_user_can_do() {
        let kind = |error: ApiError| AppError::from(error).kind;
        assert_eq!(kind(ApiError::LockedOut), ErrorKind::LockedOut);
        assert_eq!(kind(ApiError::Offline { reason: "refused".into() }), ErrorKind::Offline);
        assert_eq!(kind(ApiError::Timeout), ErrorKind::Timeout);
        assert_eq!(kind(ApiError::Server { status: 502 }), ErrorKind::Server);
        assert_eq!(kind(ApiError::Maintenance { retry_after: None }), ErrorKind::Maintenance);
        assert_eq!(kind(ApiError::NotAcceptable), ErrorKind::InvalidResponse);
        assert_eq!(kind(ApiError::InvalidResponse { detail: "x".into() }), ErrorKind::InvalidResponse);
        // Its own kind, so the UI can say "too large to show at once" instead of "unexpected".
        assert_eq!(kind(ApiError::TooLarge { limit_mb: 128 }), ErrorKind::TooLarge);
    }

    #[test]
    fn keychain_failures_become_keychain_unavailable() {
        let error = AppError::from(SecretError::Unavailable("ServiceUnknown".into()));
        assert_eq!(error.kind, ErrorKind::KeychainUnavailable);
    }

    #[test]
    fn each_store_failure_gets_its_own_kind() {
        let sqlite = |code: std::ffi::c_int| {
            let error = rusqlite::Error::SqliteFailure(rusqlite::ffi::Error::new(code), None);
            AppError::from(StoreError::Sqlite(error)).kind
        };
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_CORRUPT), ErrorKind::StoreDamaged);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_NOTADB), ErrorKind::StoreDamaged);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_BUSY), ErrorKind::StoreBusy);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_LOCKED), ErrorKind::StoreBusy);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_FULL), ErrorKind::StoreFull);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_READONLY), ErrorKind::StoreReadOnly);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_IOERR), ErrorKind::StoreIo);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_IOERR_WRITE), ErrorKind::StoreIo);
        assert_eq!(sqlite(rusqlite::ffi::SQLITE_CANTOPEN), ErrorKind::StoreIo);
        let io = |kind: std::io::ErrorKind| AppError::from(StoreError::Io(kind.into())).kind;
        assert_eq!(io(std::io::ErrorKind::StorageFull), ErrorKind::StoreFull);
        assert_eq!(io(std::io::ErrorKind::ReadOnlyFilesystem), ErrorKind::StoreReadOnly);
        assert_eq!(io(std::io::ErrorKind::PermissionDenied), ErrorKind::StoreReadOnly);
        assert_eq!(io(std::io::ErrorKind::Other), ErrorKind::StoreIo);
        assert_eq!(AppError::from(StoreError::TooNew(99)).kind, ErrorKind::Internal);
    }
}
