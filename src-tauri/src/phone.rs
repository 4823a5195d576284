//! Phone numbers: E.164 on the wire and in the local store, whatever way people typed them.
//!
//! The same rule as the key form's `normalizePhone` (ui/js/format.js): a number without `+` or
//! `00` is Norwegian, and a Norwegian number has exactly eight digits. The people directory keys
//! names by this form, so a number typed "900 00 000" and one Unloc reports as "+4790000000" meet.

/// Why a typed number is not a phone number (the key form's words: `keyForm.msn.<problem>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneProblem {
    Empty,
    Characters,
    PlusMissing,
    NorwegianLength,
    Format,
}

impl PhoneProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            PhoneProblem::Empty => "empty",
            PhoneProblem::Characters => "characters",
            PhoneProblem::PlusMissing => "plusMissing",
            PhoneProblem::NorwegianLength => "norwegianLength",
            PhoneProblem::Format => "format",
        }
    }
}

/// E.164: a plus, a country code that does not start with 0, 7 to 15 digits in all.
pub fn is_e164(msn: &str) -> bool {
    let Some(digits) = msn.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0')
}

/// A Norwegian number (+47) has exactly eight digits after the country code.
pub fn plausible_for_country(msn: &str) -> bool {
    match msn.strip_prefix("+47") {
        Some(national) => national.len() == 8,
        None => true,
    }
}

/// A number as typed ("900 00 000", "90000000", "+47 900 00 000", "004790000000") to E.164.
pub fn normalize(input: &str) -> Result<String, PhoneProblem> {
    let raw = input.trim();
    if raw.is_empty() {
        return Err(PhoneProblem::Empty);
    }
    let compact: String =
        raw.chars().filter(|c| !(c.is_whitespace() || matches!(c, '(' | ')' | '.' | '-' | '/'))).collect();
    let digits = compact.strip_prefix('+').unwrap_or(&compact);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PhoneProblem::Characters);
    }
    let e164 = if compact.starts_with('+') {
        compact.clone()
    } else if let Some(international) = compact.strip_prefix("00") {
        format!("+{international}")
    } else if compact.len() == 10 && compact.starts_with("47") {
        // "4790000000": +47 meant, or a foreign number without its plus? Asked, not guessed.
        return Err(PhoneProblem::PlusMissing);
    } else {
        format!("+47{compact}")
    };
    if !plausible_for_country(&e164) {
        return Err(PhoneProblem::NorwegianLength);
    }
    if !is_e164(&e164) {
        return Err(PhoneProblem::Format);
    }
    Ok(e164)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_e164_numbers_only() {
        assert!(is_e164("+4790000000"));
        assert!(is_e164("+19175559999"));
        for bad in ["4790000000", "+47 900 00 000", "+0790000000", "+47900", "+47900000000000000", "+47abcdefgh", ""] {
            assert!(!is_e164(bad), "{bad}");
        }
    }

    #[test]
    fn numbers_as_people_type_them_become_e164() {
        for typed in
            ["90000000", "900 00 000", "+47 900 00 000", "004790000000", " +47-900.00.000 ", "(+47) 900 00 000"]
        {
            assert_eq!(normalize(typed).as_deref(), Ok("+4790000000"), "{typed:?}");
        }
        assert_eq!(normalize("+1 917 555 9999").as_deref(), Ok("+19175559999"));
        assert_eq!(normalize("0046701234567").as_deref(), Ok("+46701234567"));
    }

    #[test]
    fn what_is_not_a_number_says_why() {
        assert_eq!(normalize("  "), Err(PhoneProblem::Empty));
        assert_eq!(normalize("Kari"), Err(PhoneProblem::Characters));
        assert_eq!(normalize("+"), Err(PhoneProblem::Characters));
        assert_eq!(normalize("4790000000"), Err(PhoneProblem::PlusMissing));
        assert_eq!(normalize("9000000"), Err(PhoneProblem::NorwegianLength));
        assert_eq!(normalize("+47900000000"), Err(PhoneProblem::NorwegianLength));
        assert_eq!(normalize("+0790000000"), Err(PhoneProblem::Format));
        assert_eq!(normalize("+1234"), Err(PhoneProblem::Format));
    }
}
