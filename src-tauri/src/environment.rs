//! What the environment offers the demo and the tests: default API base, partner id and token.
//! Debug builds only: a release build never takes an address or a token from its environment, so
//! nothing started around the installed app can point it (and a kept token) at another server.

use secrecy::SecretString;

use crate::api::ApiBase;

/// `UNLOC_API_BASE` and `UNLOC_PARTNER_ID` as defaults, `UNLOC_API_TOKEN` only to stand in for an
/// empty token field at sign-in. The token from here is never stored anywhere but the keychain.
#[derive(Default)]
pub struct EnvDefaults {
    pub api_base: Option<ApiBase>,
    pub partner_id: Option<String>,
    pub token: Option<SecretString>,
    /// `UNLOC_DESK_NAME`: the computer's name as team mode shows it ("… on OFFICE-PC-2"), so two
    /// desks of the end-to-end suite on one machine read as two computers.
    pub desk_name: Option<String>,
}

/// Whether this build reads `UNLOC_*` defaults at all: debug builds (the demo, the end-to-end suite) do.
pub const HONOURED: bool = cfg!(debug_assertions);

impl EnvDefaults {
    pub fn from_env() -> Self {
        Self::for_build(HONOURED, |name| std::env::var(name).ok())
    }

    /// The defaults a build takes: none at all unless `honoured`.
    pub fn for_build(honoured: bool, lookup: impl Fn(&str) -> Option<String>) -> Self {
        if honoured {
            Self::from_lookup(lookup)
        } else {
            EnvDefaults::default()
        }
    }

    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let non_empty =
            |name: &str| lookup(name).map(|value| value.trim().to_owned()).filter(|value| !value.is_empty());
        let api_base = non_empty("UNLOC_API_BASE").and_then(|text| match ApiBase::parse(&text) {
            Ok(base) => Some(base),
            Err(error) => {
                log::warn!("ignoring UNLOC_API_BASE: {error}");
                None
            }
        });
        EnvDefaults {
            api_base,
            partner_id: non_empty("UNLOC_PARTNER_ID"),
            token: non_empty("UNLOC_API_TOKEN").map(SecretString::from),
            desk_name: non_empty("UNLOC_DESK_NAME"),
        }
    }

    pub fn default_api_base(&self) -> ApiBase {
        self.api_base.clone().unwrap_or_else(ApiBase::production)
    }
}

/// The answers the end-to-end suite gives the OS file dialogs, which WebDriver cannot drive: the save
/// dialog answers with the offered name in `UNLOC_E2E_SAVE_DIR`, the open dialog with the file
/// `UNLOC_E2E_OPEN_FILE`. Debug builds only: a release build always asks the user.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DialogAnswers {
    pub save_dir: Option<std::path::PathBuf>,
    pub open_file: Option<std::path::PathBuf>,
}

impl DialogAnswers {
    pub fn from_env() -> Self {
        Self::for_build(HONOURED, |name| std::env::var(name).ok())
    }

    pub fn for_build(honoured: bool, lookup: impl Fn(&str) -> Option<String>) -> Self {
        if !honoured {
            return DialogAnswers::default();
        }
        let path = |name: &str| lookup(name).filter(|value| !value.trim().is_empty()).map(std::path::PathBuf::from);
        DialogAnswers { save_dir: path("UNLOC_E2E_SAVE_DIR"), open_file: path("UNLOC_E2E_OPEN_FILE") }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn everything(name: &str) -> Option<String> {
        match name {
            "UNLOC_API_BASE" => Some("https://elsewhere.example/v1".to_owned()),
            "UNLOC_PARTNER_ID" => Some("partner-from-env".to_owned()),
            "UNLOC_API_TOKEN" => Some("token-from-the-environment".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn only_a_debug_build_lets_the_environment_answer_the_file_dialogs() {
        let lookup = |name: &str| match name {
            "UNLOC_E2E_SAVE_DIR" => Some("/tmp/exports".to_owned()),
            "UNLOC_E2E_OPEN_FILE" => Some("/tmp/people.csv".to_owned()),
            _ => None,
        };
        assert_eq!(DialogAnswers::for_build(false, lookup), DialogAnswers::default());
        let answers = DialogAnswers::for_build(true, lookup);
        assert_eq!(answers.save_dir.as_deref(), Some(std::path::Path::new("/tmp/exports")));
        assert_eq!(answers.open_file.as_deref(), Some(std::path::Path::new("/tmp/people.csv")));
    }

    #[test]
    fn a_release_build_takes_nothing_from_the_environment() {
        let defaults = EnvDefaults::for_build(false, everything);
        assert!(defaults.api_base.is_none() && defaults.partner_id.is_none() && defaults.token.is_none());
        assert_eq!(defaults.default_api_base(), ApiBase::production());
    }

    #[test]
    fn a_debug_build_takes_the_demos_defaults() {
        let defaults = EnvDefaults::for_build(true, everything);
        assert_eq!(defaults.default_api_base().as_str(), "https://elsewhere.example/v1");
        assert_eq!(defaults.partner_id.as_deref(), Some("partner-from-env"));
        assert_eq!(
            defaults.token.as_ref().map(|token| token.expose_secret().to_owned()).as_deref(),
            Some("token-from-the-environment")
        );
    }
}
