//! Excel workbooks (rust_xlsxwriter): one sheet, a bold header row frozen at the top with a filter
//! on it, columns as wide as their content (within reason), times as real date cells in the user's
//! zone, and text that looks like a formula written as quoted text.

use std::io::{Seek, Write};

use chrono::TimeZone;
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use super::neutralise::looks_like_formula;
use super::{Cell, Language, Table, WriteError};

/// Excel's last row is 1,048,576; the first holds the headings.
pub(super) const MAX_DATA_ROWS: usize = 1_048_575;

/// Excel's limit on the text of one cell, in characters.
const MAX_TEXT_CHARS: usize = 32_767;

/// Column widths, in characters: never so narrow a heading is cut, never wider than a screen.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

pub(super) fn write<Tz: TimeZone, W: Write + Seek + Send>(
    table: &Table,
    language: Language,
    zone: &Tz,
    out: W,
) -> Result<(), WriteError> {
    let mut workbook = Workbook::new();
    let heading = Format::new().set_bold().set_border_bottom(FormatBorder::Thin);
    let quoted = Format::new().set_quote_prefix();
    let when = Format::new().set_num_format(match language {
        Language::En => "yyyy-mm-dd hh:mm:ss",
        Language::Nb => "dd.mm.yyyy hh:mm:ss",
    });
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name(&table.sheet))?;
    for (col, text) in (0u16..).zip(&table.headings) {
        sheet.write_string_with_format(0, col, text, &heading)?;
    }
    for (row, cells) in (1u32..).zip(&table.rows) {
        for (col, cell) in (0u16..).zip(cells) {
            match cell {
                Cell::Text(text) => {
                    let text = within_limit(text);
                    if looks_like_formula(text) {
                        sheet.write_string_with_format(row, col, text, &quoted)?;
                    } else {
                        sheet.write_string(row, col, text)?;
                    }
                }
                Cell::Time(moment) => {
                    sheet.write_datetime_with_format(row, col, moment.with_timezone(zone).naive_local(), &when)?;
                }
                Cell::Count(count) => {
                    sheet.write_number(row, col, *count as f64)?;
                }
                Cell::Empty => {}
            }
        }
    }
    sheet.set_freeze_panes(1, 0)?;
    if let Some(last_col) = table.headings.len().checked_sub(1) {
        sheet.autofilter(0, 0, table.rows.len() as u32, last_col as u16)?;
    }
    for (col, width) in (0u16..).zip(column_widths(table)) {
        sheet.set_column_width(col, width as f64)?;
    }
    workbook.save_to_writer(out)?;
    Ok(())
}

/// The widest value of each column, in characters, kept between the limits; the heading's filter
/// button takes about two more.
fn column_widths(table: &Table) -> Vec<usize> {
    table
        .headings
        .iter()
        .enumerate()
        .map(|(col, heading)| {
            let widest = table
                .rows
                .iter()
                .filter_map(|row| row.get(col))
                .map(|cell| match cell {
                    Cell::Text(text) => text.chars().take(MAX_WIDTH).count(),
                    Cell::Time(_) => 19,
                    Cell::Count(count) => count.to_string().len(),
                    Cell::Empty => 0,
                })
                .max()
                .unwrap_or(0);
            (widest.max(heading.chars().count() + 2) + 1).clamp(MIN_WIDTH, MAX_WIDTH)
        })
        .collect()
}

/// Text past Excel's limit for a cell is cut (Excel would refuse the whole file).
fn within_limit(text: &str) -> &str {
    match text.char_indices().nth(MAX_TEXT_CHARS) {
        Some((cut, _)) => &text[..cut],
        None => text,
    }
}

/// Excel's rules for a sheet name: at most 31 characters, none of `[]:*?/\`, no `'` at either end.
fn sheet_name(wanted: &str) -> String {
    let name: String =
        wanted.chars().filter(|c| !"[]:*?/\\".contains(*c) && !c.is_control()).take(31).collect::<String>();
    let name = name.trim_matches('\'').trim();
    if name.is_empty() {
        "Sheet1".to_owned()
    } else {
        name.to_owned()
    }
}

impl From<XlsxError> for WriteError {
    fn from(error: XlsxError) -> Self {
        match error {
            XlsxError::IoError(error) => WriteError::Io(error),
            other => WriteError::Writer(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sheet_names_follow_excels_rules() {
        assert_eq!(sheet_name("Hendelser: Bod [2]?"), "Hendelser Bod 2");
        assert_eq!(sheet_name("'''"), "Sheet1");
        assert_eq!(sheet_name(&"x".repeat(40)).len(), 31);
    }

    #[test]
    fn text_is_cut_at_excels_limit_on_a_character_boundary() {
        let long = "ø".repeat(MAX_TEXT_CHARS + 5);
        assert_eq!(within_limit(&long).chars().count(), MAX_TEXT_CHARS);
        assert_eq!(within_limit("kort"), "kort");
    }
}
