//! Text that a spreadsheet would take for a formula is kept as text.
//!
//! Lock names, addresses and people's names are written by lock owners and their customers, so an
//! export may carry `=HYPERLINK(…)` or `@SUM(…)`. Excel and LibreOffice start a formula at `=`,
//! `+`, `-` or `@`, and a leading tab or carriage return can hide one from a reader's eye. In CSV
//! such a value gets a leading `'` (what a spreadsheet user types to mean "this is text"); in
//! Excel files it is written as a text cell marked "quote prefix", so it shows unchanged and stays
//! text even when someone edits the cell.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a value as a formula.
pub const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

pub fn looks_like_formula(text: &str) -> bool {
    text.starts_with(FORMULA_STARTS)
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
        for harmless in ["Bod 12", "", " =1+1", "'=1", "47 90 00 00 00", "Ærlig"] {
            assert_eq!(for_csv(harmless), harmless);
        }
    }
}
