//! Checking a new key's details before anything is sent: what the user typed must make sense.

use chrono::{DateTime, Utc};

use crate::api::NewKey;
use crate::error::AppError;
use crate::phone::{is_e164, plausible_for_country};

/// Longest route label accepted (Unloc documents none; a label is a short name).
const MAX_ROUTE_CHARS: usize = 100;

pub fn validate(
    lock_id: &str,
    msn: &str,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    route: Option<&str>,
    now: DateTime<Utc>,
) -> Result<NewKey, AppError> {
    if lock_id.trim().is_empty() {
        return Err(AppError::invalid_input("lockId", "no lock was chosen"));
    }
    let msn = msn.trim();
    if !is_e164(msn) || !plausible_for_country(msn) {
        return Err(AppError::invalid_input("msn", "the phone number is not a valid international number"));
    }
    let start = start.unwrap_or(now);
    if let Some(end) = end {
        if end <= start {
            return Err(AppError::invalid_input("end", "the key must end after it starts"));
        }
        if end <= now {
            return Err(AppError::invalid_input("end", "the end is in the past"));
        }
    }
    let route = route.map(str::trim).filter(|route| !route.is_empty());
    if let Some(route) = route {
        if route.chars().count() > MAX_ROUTE_CHARS || route.chars().any(char::is_control) {
            return Err(AppError::invalid_input("route", "the route name is too long or has invisible characters"));
        }
    }
    Ok(NewKey { lock_id: lock_id.to_owned(), msn: Some(msn.to_owned()), start, end, route: route.map(str::to_owned) })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    const NOW: &str = "2026-11-26T10:00:00Z";

    fn field(result: Result<NewKey, AppError>) -> Option<&'static str> {
        result.err().and_then(|error| error.field)
    }

    #[test]
    fn a_norwegian_number_needs_eight_digits() {
        assert_eq!(field(validate("l", "+479000000", None, None, None, at(NOW))), Some("msn"));
        assert!(validate("l", "+4790000000", None, None, None, at(NOW)).is_ok());
    }

    #[test]
    fn start_defaults_to_now_and_end_must_follow_it() {
        let key = validate("l", "+4790000000", None, None, Some("  "), at(NOW)).unwrap();
        assert_eq!(key.start, at(NOW));
        assert_eq!(key.route, None);
        let start = Some(at("2026-11-27T08:00:00Z"));
        assert_eq!(
            field(validate("l", "+4790000000", start, Some(at("2026-11-27T08:00:00Z")), None, at(NOW))),
            Some("end")
        );
        assert_eq!(
            field(validate("l", "+4790000000", None, Some(at("2026-11-25T08:00:00Z")), None, at(NOW))),
            Some("end")
        );
        assert!(validate("l", "+4790000000", start, Some(at("2026-11-27T12:00:00Z")), Some("tirsdag"), at(NOW)).is_ok());
    }

    #[test]
    fn routes_are_short_plain_labels() {
        assert_eq!(field(validate("l", "+4790000000", None, None, Some(&"x".repeat(101)), at(NOW))), Some("route"));
        assert_eq!(field(validate("l", "+4790000000", None, None, Some("a\u{0}b"), at(NOW))), Some("route"));
    }
}
