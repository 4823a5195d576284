//! Which API addresses and partner ids are acceptable, and how they go into a request path.
//!
//! The token is sent to whatever base is configured, so a base must be https, or plain
//! http only on this machine's loopback (the simulator): never plain text over a network.

use std::fmt;
use std::net::IpAddr;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use url::{Host, Url};

/// Unloc's production API, up to and including the version segment.
pub const UNLOC_API_BASE: &str = "https://api.unloc.app/v1";

/// Everything but RFC 3986 unreserved characters is encoded, so `:`, `/`, `?` and `#`
/// in lock ids (vendor MAC addresses contain `:`) can never change the path's meaning.
const PATH_SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'~');

pub(crate) fn encode_segment(value: &str) -> String {
    utf8_percent_encode(value, PATH_SEGMENT).to_string()
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRuleError {
    #[error("the API address is not a valid URL")]
    NotAUrl,
    #[error("the API address must start with https:// (http:// is allowed only for this computer)")]
    InsecureScheme,
    #[error("the API address must not contain a user name, password, query or fragment")]
    ExtraParts,
    #[error("the partner id is empty")]
    EmptyPartnerId,
    #[error("the partner id must not contain spaces or control characters")]
    BadPartnerId,
    #[error("the partner id is too long")]
    LongPartnerId,
}

/// A validated API base such as `https://api.unloc.app/v1` (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiBase(String);

impl ApiBase {
    pub fn parse(text: &str) -> Result<Self, UrlRuleError> {
        let url = Url::parse(text.trim()).map_err(|_| UrlRuleError::NotAUrl)?;
        if !url.username().is_empty() || url.password().is_some() || url.query().is_some() || url.fragment().is_some() {
            return Err(UrlRuleError::ExtraParts);
        }
        match url.scheme() {
            "https" if url.host().is_some() => {}
            "http" if url.host().as_ref().is_some_and(is_loopback) => {}
            "http" | "https" => return Err(UrlRuleError::InsecureScheme),
            _ => return Err(UrlRuleError::InsecureScheme),
        }
        Ok(ApiBase(url.as_str().trim_end_matches('/').to_owned()))
    }

    pub fn production() -> Self {
        ApiBase(UNLOC_API_BASE.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the base is on this machine (`localhost`, 127.0.0.0/8, `::1`): the simulator.
    pub fn is_loopback(&self) -> bool {
        Url::parse(&self.0).is_ok_and(|url| url.host().as_ref().is_some_and(is_loopback))
    }
}

impl fmt::Display for ApiBase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// A partner id as Unloc issues it: opaque, but never empty and never with white space.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartnerId(String);

impl PartnerId {
    pub fn parse(text: &str) -> Result<Self, UrlRuleError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(UrlRuleError::EmptyPartnerId);
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(UrlRuleError::BadPartnerId);
        }
        if text.len() > 200 {
            return Err(UrlRuleError::LongPartnerId);
        }
        Ok(PartnerId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartnerId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_https_anywhere_and_trims_the_trailing_slash() {
        assert_eq!(ApiBase::parse("https://api.unloc.app/v1/").unwrap().as_str(), UNLOC_API_BASE);
        assert!(ApiBase::parse("https://staging.example.no/v1").is_ok());
    }

    #[test]
    fn accepts_plain_http_only_on_loopback() {
        assert!(ApiBase::parse("http://127.0.0.1:8080/v1").is_ok());
        assert!(ApiBase::parse("http://127.5.6.7/v1").is_ok());
        assert!(ApiBase::parse("http://localhost:3000/v1").is_ok());
        assert!(ApiBase::parse("http://[::1]:3000/v1").is_ok());
        assert_eq!(ApiBase::parse("http://api.unloc.app/v1"), Err(UrlRuleError::InsecureScheme));
        assert_eq!(ApiBase::parse("http://192.168.1.10/v1"), Err(UrlRuleError::InsecureScheme));
        assert_eq!(ApiBase::parse("http://localhost.evil.com/v1"), Err(UrlRuleError::InsecureScheme));
    }

    #[test]
    fn knows_a_loopback_base_from_any_other() {
        for base in ["http://127.0.0.1:8080/v1", "http://127.5.6.7/v1", "http://localhost:3000/v1", "http://[::1]:3/v1"]
        {
            assert!(ApiBase::parse(base).unwrap().is_loopback(), "{base}");
        }
        assert!(ApiBase::parse("https://localhost/v1").unwrap().is_loopback());
        for base in ["https://api.unloc.app/v1", "https://127.0.0.1.nip.io/v1", "https://localhost.evil.com/v1"] {
            assert!(!ApiBase::parse(base).unwrap().is_loopback(), "{base}");
        }
        assert!(!ApiBase::production().is_loopback());
    }

    #[test]
    fn refuses_other_schemes_garbage_and_embedded_credentials() {
        assert_eq!(ApiBase::parse("ftp://api.unloc.app"), Err(UrlRuleError::InsecureScheme));
        assert_eq!(ApiBase::parse("file:///etc/passwd"), Err(UrlRuleError::InsecureScheme));
        assert_eq!(ApiBase::parse("api.unloc.app/v1"), Err(UrlRuleError::NotAUrl));
        assert_eq!(ApiBase::parse("https://user:pw@api.unloc.app/v1"), Err(UrlRuleError::ExtraParts));
        assert_eq!(ApiBase::parse("https://api.unloc.app/v1?x=1"), Err(UrlRuleError::ExtraParts));
    }

    #[test]
    fn partner_ids_are_trimmed_and_must_be_one_word() {
        assert_eq!(PartnerId::parse("  abcpartner ").unwrap().as_str(), "abcpartner");
        assert_eq!(PartnerId::parse(""), Err(UrlRuleError::EmptyPartnerId));
        assert_eq!(PartnerId::parse("abc partner"), Err(UrlRuleError::BadPartnerId));
        assert_eq!(PartnerId::parse("abc\u{0}"), Err(UrlRuleError::BadPartnerId));
        assert_eq!(PartnerId::parse(&"x".repeat(201)), Err(UrlRuleError::LongPartnerId));
    }

    #[test]
    fn path_segments_encode_everything_that_could_change_the_path() {
        assert_eq!(encode_segment("danalock-d4:b5:8f"), "danalock-d4%3Ab5%3A8f");
        assert_eq!(encode_segment("a/b?c#d"), "a%2Fb%3Fc%23d");
        assert_eq!(encode_segment(".."), "%2E%2E");
        assert_eq!(encode_segment("BA193202-3CB2"), "BA193202-3CB2");
    }
}
