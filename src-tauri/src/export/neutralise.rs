//! Text that a spreadsheet would take for a formula is kept as text.
//!
//! Lock names, addresses and people's names are written by lock owners and their customers, so an
//! export may carry `=HYPERLINK(…)` or `@SUM(…)`. Excel and LibreOffice start a formula at `=`,
//! `+`, `-` or `@`, and a leading tab or carriage return can hide one from a reader's eye. Spaces or
//! line breaks in front do not make it safe (an import that trims cells finds the `=` first), nor
//! do the full-width signs some spreadsheets also accept (`＝＋－＠`). In CSV
//! such a value gets a leading `'` (what a spreadsheet user types to mean "this is text"); in
//! Excel files it is written as a text cell marked "quote prefix", so it shows unchanged and stays
//! text even when someone edits the cell.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a value as a formula.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The full-width forms of the formula signs, which some spreadsheets read as the signs themselves.
const FULL_WIDTH_STARTS: [char; 4] = ['＝', '＋', '－', '＠'];

pub fn looks_like_formula(text: &str) -> bool {
    if text.starts_with(FORMULA_STARTS) {
        return true;
    }
    let after_blanks = text.trim_start_matches(|c: char| c.is_whitespace() || c.is_control());
    after_blanks.starts_with(FORMULA_STARTS) || after_blanks.starts_with(FULL_WIDTH_STARTS)
}

/// A CSV field's text: unchanged, or with a leading `'` when it would be read as a formula.
pub fn for_csv(text: &str) -> Cow<'_, str> {
    if looks_like_formula(text) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_formula_start_is_quoted_and_nothing_else() {
        for start in FORMULA_STARTS {
            let text = format!("{start}1+1");
            assert_eq!(for_csv(&text), format!("'{text}"), "{start:?}");
        }
        for harmless in ["Bod 12", "", "'=1", "47 90 00 00 00", "Ærlig", " Bod 12", "a=1", "E-post"] {
            assert_eq!(for_csv(harmless), harmless);
        }
    }

    #[test]
    fn a_formula_behind_blanks_or_in_full_width_signs_is_quoted_too() {
        for hidden in
            [" =1+1", "  @SUM(A1)", "\n=HYPERLINK(\"x\")", "\u{a0}+1", "\u{3000}-1", "＝1+1", "＠SUM(A1)", " ＋1"]
        {
            assert_eq!(for_csv(hidden), format!("'{hidden}"), "{hidden:?}");
        }
    }
}
