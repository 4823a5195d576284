//! What the environment offers the demo and the tests: default API base, partner id and token.

use secrecy::SecretString;

use crate::api::ApiBase;

/// `UNLOC_API_BASE` and `UNLOC_PARTNER_ID` as defaults, `UNLOC_API_TOKEN` only to stand in for an
/// empty token field at sign-in. The token from here is never stored anywhere but the keychain.
#[derive(Default)]
pub struct EnvDefaults {
    pub api_base: Option<ApiBase>,
    pub partner_id: Option<String>,
    pub token: Option<SecretString>,
}

impl EnvDefaults {
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
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
        }
    }

    pub fn default_api_base(&self) -> ApiBase {
        self.api_base.clone().unwrap_or_else(ApiBase::production)
    }
}
