//! Excel workbooks (rust_xlsxwriter): one sheet, a bold header row frozen at the top with a filter
//! on it, columns as wide as their content (within reason), times as real date cells in the user's
//! zone, and text that looks like a formula written as quoted text.

use std::io::{Seek, Write};

use chrono::TimeZone;
use rust_xlsxwriter::{Format, FormatBorder, Workbook, XlsxError};

use super::neutralise::looks_like_formula;
use super::{Cell, Language, WriteError, WriteRow};

/// Excel's last row is 1,048,576; the first holds the headings.
pub(super) const MAX_DATA_ROWS: usize = 1_048_575;

/// Excel's limit on the text of one cell, in characters.
const MAX_TEXT_CHARS: usize = 32_767;

/// Column widths, in characters: never so narrow a heading is cut, never wider than a screen.
const MIN_WIDTH: usize = 8;
const MAX_WIDTH: usize = 60;

/// Writes the sheet: the headings, then each row `fill` hands over, written out as it comes (the
/// worksheet's "constant memory" mode keeps one row in memory, not the whole sheet). Returns how
/// many rows were written.
pub(super) fn write<Tz: TimeZone, W: Write + Seek + Send>(
    sheet_name: &str,
    headings: &[String],
    language: Language,
    zone: &Tz,
    out: W,
    fill: impl FnOnce(&mut WriteRow<'_>) -> Result<(), WriteError>,
) -> Result<usize, WriteError> {
    can_write_in(&std::env::temp_dir())?;
    let mut workbook = Workbook::new();
    let heading = Format::new().set_bold().set_border_bottom(FormatBorder::Thin);
    let quoted = Format::new().set_quote_prefix();
    let when = Format::new().set_num_format(match language {
        Language::En => "yyyy-mm-dd hh:mm:ss",
        Language::Nb => "dd.mm.yyyy hh:mm:ss",
    });
    let sheet = workbook.add_worksheet_with_constant_memory();
    sheet.set_name(self::sheet_name(sheet_name))?;
    // Column widths, the frozen row and the filter are written when the file is saved: they are
    // set after the rows, when the widest value of each column is known.
    let mut widths: Vec<usize> = headings.iter().map(|heading| heading.chars().count() + 2).collect();
    for (col, text) in (0u16..).zip(headings) {
        sheet.write_string_with_format(0, col, text, &heading)?;
    }
    let mut written: u32 = 0;
    fill(&mut |cells: &[Cell<'_>]| {
        if written as usize >= MAX_DATA_ROWS {
            return Err(WriteError::Writer(format!("more rows than one Excel sheet takes ({MAX_DATA_ROWS})")));
        }
        written += 1;
        let row = written;
        for ((col, cell), width) in (0u16..).zip(cells).zip(widths.iter_mut()) {
            let cell_width = match cell {
                Cell::Text(text) => {
                    let text = within_limit(text);
                    if looks_like_formula(text) {
                        sheet.write_string_with_format(row, col, text, &quoted)?;
                    } else if !text.is_empty() {
                        sheet.write_string(row, col, text)?;
                    }
                    text.chars().take(MAX_WIDTH).count()
                }
                Cell::Time(moment) => {
                    sheet.write_datetime_with_format(row, col, moment.with_timezone(zone).naive_local(), &when)?;
                    TIME_WIDTH
                }
                Cell::Count(count) => {
                    sheet.write_number(row, col, *count as f64)?;
                    count.checked_ilog10().map_or(1, |digits| digits as usize + 1)
                }
                Cell::Empty => 0,
            };
            *width = (*width).max(cell_width);
        }
        Ok(())
    })?;
    sheet.set_freeze_panes(1, 0)?;
    if let Some(last_col) = headings.len().checked_sub(1) {
        sheet.autofilter(0, 0, written, last_col as u16)?;
    }
    for (col, width) in (0u16..).zip(widths) {
        sheet.set_column_width(col, (width + 1).clamp(MIN_WIDTH, MAX_WIDTH) as f64)?;
    }
    workbook.save_to_writer(out)?;
    Ok(written as usize)
}

/// A date cell's width: `dd.mm.yyyy hh:mm:ss`.
const TIME_WIDTH: usize = 19;

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

/// The writer's constant-memory sheet keeps its rows in a file in the computer's temporary folder,
/// and it stops the whole app (a panic, and release builds abort) when it cannot make one there. So
/// that folder is tried first, and a folder it cannot use is an error the user reads instead.
fn can_write_in(folder: &std::path::Path) -> Result<(), WriteError> {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |at| at.subsec_nanos());
    let probe = folder.join(format!(".unloc-desk-export-{}-{nanos}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(error) => Err(WriteError::Writer(format!(
            "Excel files are put together in the computer's temporary folder ({}), which cannot be written to \
             ({error}); export as CSV instead, or free that folder's disk",
            folder.display()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_temporary_folder_that_cannot_be_written_is_an_error_not_a_crash() {
        let missing = std::env::temp_dir().join("unloc-desk-no-such-folder").join("below");
        let Err(WriteError::Writer(reason)) = can_write_in(&missing) else {
            panic!("a folder that does not exist was taken as writable");
        };
        assert!(reason.contains("CSV") && reason.contains("unloc-desk-no-such-folder"), "{reason}");
        assert!(can_write_in(&std::env::temp_dir()).is_ok());
    }

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
