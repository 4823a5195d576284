//! Typed settings (partner id, API base, language) kept in tauri-plugin-store's `settings.json`.
//!
//! A damaged settings file never stops the app: it is set aside, the defaults are used,
//! and the user is told once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime};
use tauri_plugin_store::{Store, StoreExt};

use crate::error::{AppError, ErrorKind};

const STORE_FILE: &str = "settings.json";
const SETTINGS_KEY: &str = "settings";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    /// Follow the operating system's language.
    #[default]
    System,
    En,
    Nb,
}

impl Language {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "system" => Some(Language::System),
            "en" => Some(Language::En),
            "nb" => Some(Language::Nb),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    #[serde(default)]
    pub partner_id: Option<String>,
    /// `None` means the default base (Unloc's, or `UNLOC_API_BASE` for the demo).
    #[serde(default)]
    pub api_base: Option<String>,
    #[serde(default)]
    pub language: Language,
    /// When the app last looked for an update (it looks at most daily).
    #[serde(default)]
    pub last_update_check: Option<chrono::DateTime<chrono::Utc>>,
    /// How many months of activity the local archive keeps; `None`: until deleted.
    #[serde(default = "default_keep_history_months")]
    pub keep_history_months: Option<u32>,
    /// Where the office's shared database is (Settings → Team); `None` for a desk on its own.
    /// Its password is in the keychain, never here.
    #[serde(default)]
    pub team: Option<crate::team::TeamSettings>,
}

/// A year of history, unless the user chose otherwise: long enough for "last year's visits",
/// short enough that personal data does not pile up for ever.
pub const DEFAULT_KEEP_HISTORY_MONTHS: u32 = 12;

/// The choices Settings offers for `keep_history_months` (`None`, until deleted, besides).
pub const KEEP_HISTORY_CHOICES: [u32; 4] = [2, 6, 12, 24];

fn default_keep_history_months() -> Option<u32> {
    Some(DEFAULT_KEEP_HISTORY_MONTHS)
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            partner_id: None,
            api_base: None,
            language: Language::default(),
            last_update_check: None,
            keep_history_months: default_keep_history_months(),
            team: None,
        }
    }
}

impl Settings {
    /// After a sign-in: the partner is offered at the next start, and the API base is kept only
    /// when it is not the default (so a changed default is followed).
    pub fn remember_sign_in(&mut self, partner_id: &str, api_base: &str, default_api_base: &str) {
        self.partner_id = Some(partner_id.to_owned());
        self.api_base = (api_base != default_api_base).then(|| api_base.to_owned());
    }

    /// Reads what the store holds; `Err` when it holds something that is not settings.
    pub fn from_stored(value: Option<serde_json::Value>) -> Result<Self, serde_json::Error> {
        match value {
            None => Ok(Settings::default()),
            Some(value) => serde_json::from_value(value),
        }
    }
}

/// The settings file, opened once at start.
pub struct SettingsFile<R: Runtime> {
    store: Arc<Store<R>>,
}

impl<R: Runtime> SettingsFile<R> {
    /// Opens the store and reads the settings. A file that cannot be read is moved aside
    /// (`settings.json.damaged`) and replaced by defaults; the second value says so.
    pub fn open(app: &AppHandle<R>) -> Result<(Self, Settings, Option<AppError>), AppError> {
        let path = app
            .path()
            .app_data_dir()
            .map_err(|error| AppError::internal(format!("no folder for settings: {error}")))?
            .join(STORE_FILE);
        let mut problem = None;
        // The store plugin starts empty on a file it cannot parse (and would later overwrite it):
        // look first, so a damaged file is kept aside and the user is told.
        if let Ok(bytes) = std::fs::read(&path) {
            if serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).is_err() {
                log::warn!("settings file {} is not readable JSON; setting it aside", path.display());
                problem = Some(set_aside(&path));
            }
        }
        let store = match app.store(STORE_FILE) {
            Ok(store) => store,
            Err(error) => {
                log::warn!("settings file unreadable ({error}); setting it aside");
                problem = Some(set_aside(&path));
                app.store(STORE_FILE).map_err(|error| AppError::internal(format!("settings store: {error}")))?
            }
        };
        let settings = match Settings::from_stored(store.get(SETTINGS_KEY)) {
            Ok(settings) => settings,
            Err(error) => {
                log::warn!("settings did not decode ({error}); using defaults");
                store.delete(SETTINGS_KEY);
                problem.get_or_insert_with(|| damaged_notice(&path));
                Settings::default()
            }
        };
        Ok((SettingsFile { store }, settings, problem))
    }

    pub fn save(&self, settings: &Settings) -> Result<(), AppError> {
        let value = serde_json::to_value(settings).map_err(|error| AppError::internal(error.to_string()))?;
        self.store.set(SETTINGS_KEY, value);
        self.store.save().map_err(|error| AppError::internal(format!("could not save settings: {error}")))
    }
}

fn set_aside(path: &Path) -> AppError {
    let mut aside = PathBuf::from(path);
    aside.set_extension("json.damaged");
    if let Err(error) = std::fs::rename(path, &aside) {
        log::warn!("could not move the damaged settings file aside: {error}");
        let _ = std::fs::remove_file(path);
    }
    damaged_notice(path)
}

fn damaged_notice(path: &Path) -> AppError {
    AppError::new(
        ErrorKind::SettingsReset,
        format!("the settings file {} was damaged and has been reset", path.display()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sign_in_keeps_the_partner_and_only_a_non_default_base() {
        let mut settings = Settings { api_base: Some("https://old.example/v1".into()), ..Settings::default() };
        settings.remember_sign_in("demo", "https://api.unloc.app/v1", "https://api.unloc.app/v1");
        assert_eq!((settings.partner_id.as_deref(), settings.api_base.as_deref()), (Some("demo"), None));
        settings.remember_sign_in("demo", "https://staging.example/v1", "https://api.unloc.app/v1");
        assert_eq!(settings.api_base.as_deref(), Some("https://staging.example/v1"));
    }

    #[test]
    fn missing_settings_are_defaults() {
        assert_eq!(Settings::from_stored(None).unwrap(), Settings::default());
        assert_eq!(Settings::default().language, Language::System);
        assert_eq!(Settings::default().keep_history_months, Some(12), "a year of history unless chosen otherwise");
        let older: Settings = serde_json::from_value(serde_json::json!({"language": "nb"})).unwrap();
        assert_eq!(older.keep_history_months, Some(12), "settings from before the archive keep a year");
        let forever: Settings = serde_json::from_value(serde_json::json!({"keepHistoryMonths": null})).unwrap();
        assert_eq!(forever.keep_history_months, None);
    }

    #[test]
    fn reads_stored_settings_and_tolerates_missing_fields() {
        let settings = Settings::from_stored(Some(serde_json::json!({"partnerId":"abc","language":"nb"}))).unwrap();
        assert_eq!(settings.partner_id.as_deref(), Some("abc"));
        assert_eq!(settings.language, Language::Nb);
        assert_eq!(settings.api_base, None);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Settings::from_stored(Some(serde_json::json!("nonsense"))).is_err());
        assert!(Settings::from_stored(Some(serde_json::json!({"language":"klingon"}))).is_err());
    }

    #[test]
    fn languages_parse_from_the_ui_words() {
        assert_eq!(Language::parse("nb"), Some(Language::Nb));
        assert_eq!(Language::parse("de"), None);
    }
}
