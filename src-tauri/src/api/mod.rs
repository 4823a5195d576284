//! The Unloc Partner API v1 client. Knows nothing about Tauri: usable and testable alone.

mod client;
pub mod decode;
mod error;
mod models;
mod url_rules;

pub use client::{ApiClient, ClientConfig, RetryPolicy};
pub use error::ApiError;
pub use models::{Action, CreatedKey, Grant, Key, KeyState, KeyUse, Lock, LockEvent, NewKey};
pub use url_rules::{ApiBase, PartnerId, UrlRuleError, UNLOC_API_BASE};
