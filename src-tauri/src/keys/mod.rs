//! Keys: what their API states mean to a person, and following them until they settle.

pub mod actions;
pub mod follow;
pub mod new_key;
#[cfg(test)]
mod office_tests;
pub mod shared;
pub mod status;

pub use status::{KeyStatus, KeyView};
