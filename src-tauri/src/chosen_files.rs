//! The files the user chose in the computer's own open and save dialogs: the only ones an export
//! may write or an import may read.
//!
//! The window asks for an export or an import by path, but the path must be one a dialog opened
//! from Rust returned in this run. So a page that somehow ran a script of its own could neither
//! overwrite the user's files nor read them: the window was never given the dialog permission, and
//! this closes the other door.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::error::{AppError, Result};
use crate::sync::lock;

/// Debug builds only (the end-to-end suite, which cannot drive the computer's dialogs): any full
/// path is accepted when this is set to `1`. A release build never reads it.
pub const ANY_FILE_ENV: &str = "UNLOC_TEST_ANY_FILE";

#[derive(Default)]
pub struct ChosenFiles {
    chosen: Mutex<HashSet<PathBuf>>,
    any_file: bool,
}

impl ChosenFiles {
    /// For this build: the end-to-end suite's switch is honoured by debug builds only.
    pub fn from_env() -> Self {
        Self::for_build(cfg!(debug_assertions), std::env::var(ANY_FILE_ENV).ok().as_deref())
    }

    pub fn for_build(debug_build: bool, any_file: Option<&str>) -> Self {
        ChosenFiles { chosen: Mutex::default(), any_file: debug_build && any_file == Some("1") }
    }

    /// A path a dialog returned.
    pub fn remember(&self, path: &Path) {
        lock(&self.chosen).insert(path.to_path_buf());
    }

    /// Whether `path`, as the window sent it, is one the user chose in a dialog.
    pub fn check(&self, path: &str) -> Result<()> {
        if self.any_file || lock(&self.chosen).contains(&PathBuf::from(path.trim())) {
            Ok(())
        } else {
            Err(AppError::invalid_input("path", "this file was not chosen in the file dialog: choose it again"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_path_a_dialog_returned_is_accepted() {
        let files = ChosenFiles::for_build(true, None);
        let error = files.check("/home/kari/.bashrc").unwrap_err();
        assert_eq!(error.field, Some("path"));
        files.remember(Path::new("/home/kari/rapport.xlsx"));
        assert!(files.check("/home/kari/rapport.xlsx").is_ok());
        assert!(files.check("/home/kari/rapport.xlsx.bak").is_err());
    }

    #[test]
    fn only_a_debug_build_accepts_any_path_and_only_when_asked() {
        assert!(ChosenFiles::for_build(true, Some("1")).check("/tmp/e2e/export.csv").is_ok());
        assert!(ChosenFiles::for_build(false, Some("1")).check("/tmp/e2e/export.csv").is_err());
        assert!(ChosenFiles::for_build(true, Some("yes")).check("/tmp/e2e/export.csv").is_err());
    }
}
