//! Settings → Team: testing a connection and saving where the database is. The settings go to the
//! settings file; the password only ever to the OS keychain, filed under [`password_account`].

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;

use super::connect::{test_connection, TeamCheck};
use super::{check_settings, password_account, TeamProblem, TeamSettings};
use crate::error::{AppError, Result};
use crate::secrets::Keychain;

/// What Settings → Team shows: where the database is, and whether a password is kept for it
/// (never the password itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamSettingsView {
    pub settings: Option<TeamSettings>,
    pub password_saved: bool,
}

/// A password typed in the form; an empty field means "the one already kept".
fn typed(password: Option<String>) -> Option<SecretString> {
    password.filter(|text| !text.is_empty()).map(SecretString::from)
}

pub async fn view(keychain: &Keychain, settings: Option<TeamSettings>) -> TeamSettingsView {
    let password_saved = match &settings {
        Some(settings) => keychain.get(password_account(settings)).await.ok().flatten().is_some(),
        None => false,
    };
    TeamSettingsView { settings, password_saved }
}

/// "Test connection", with the password typed or else the one kept for these settings.
pub async fn test(keychain: &Keychain, settings: &TeamSettings, password: Option<String>) -> Result<TeamCheck> {
    let password = match typed(password) {
        Some(password) => password,
        None => match keychain.get(password_account(settings)).await? {
            Some(password) => password,
            None => {
                return Ok(TeamCheck {
                    outcome: TeamProblem::PasswordMissing.as_str(),
                    detail: None,
                    schema_version: None,
                })
            }
        },
    };
    Ok(test_connection(settings, &password).await)
}

/// Saves the settings (or, with `None`, stops sharing) and keeps a typed password in the keychain.
/// Returns the settings to write to the settings file; the caller writes them.
pub async fn save(
    keychain: &Keychain,
    before: Option<&TeamSettings>,
    settings: Option<TeamSettings>,
    password: Option<String>,
) -> Result<TeamSettingsView> {
    if let Some(settings) = &settings {
        check_settings(settings).map_err(|error| AppError::invalid_input(error.problem.as_str(), error.detail))?;
    }
    let password = typed(password);
    let account = settings.as_ref().map(password_account);
    if let (Some(account), Some(password)) = (&account, &password) {
        keychain.set(account.clone(), SecretString::from(password.expose_secret().to_owned())).await?;
    }
    // A password kept for a server, database or user no longer in the settings is removed.
    if let Some(old) = before.map(password_account).filter(|old| Some(old) != account.as_ref()) {
        keychain.delete(old).await?;
    }
    Ok(view(keychain, settings).await)
}
