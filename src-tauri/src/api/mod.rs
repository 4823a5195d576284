//! The Unloc Partner API v1 client. Knows nothing about Tauri: usable and testable alone.

mod client;
pub mod decode;
mod error;
mod governor;
mod models;
#[cfg(test)]
mod seed_examples;
mod url_rules;

pub use client::{http_client_builder, ApiClient, ClientConfig, Prioritized, RetryPolicy, MAX_HISTORY_BYTES};
pub use error::ApiError;
pub use governor::{GovernorConfig, GovernorStatus, PauseCause, Paused, Priority};
pub use models::{Action, CreatedKey, EventList, Grant, Key, KeyState, KeyUse, Lock, LockEvent, LockList, NewKey};
pub use url_rules::{ApiBase, PartnerId, UrlRuleError, UNLOC_API_BASE};
