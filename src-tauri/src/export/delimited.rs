//! CSV: UTF-8 with a byte order mark (so Excel reads æøå right), `;` between fields in Norwegian
//! and `,` in English (the separator Excel expects in each), CRLF line ends.

use std::borrow::Cow;
use std::io::Write;

use chrono::TimeZone;

use super::neutralise::for_csv;
use super::{Cell, Language, WriteError, WriteRow};

const BYTE_ORDER_MARK: &[u8] = b"\xEF\xBB\xBF";

/// Local times as text every spreadsheet reads as a date, in either language.
const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

/// Writes the headings, then each row `fill` hands over as it comes; returns how many rows.
pub(super) fn write<Tz: TimeZone, W: Write>(
    headings: &[String],
    language: Language,
    zone: &Tz,
    out: &mut W,
    fill: impl FnOnce(&mut WriteRow<'_>) -> Result<(), WriteError>,
) -> Result<usize, WriteError> {
    out.write_all(BYTE_ORDER_MARK)?;
    let mut writer = csv::WriterBuilder::new()
        .delimiter(language.csv_separator())
        .terminator(csv::Terminator::CRLF)
        .from_writer(out);
    for heading in headings {
        writer.write_field(for_csv(heading).as_bytes())?;
    }
    writer.write_record(None::<&[u8]>)?;
    let mut written = 0;
    fill(&mut |cells: &[Cell<'_>]| {
        for cell in cells {
            writer.write_field(field(cell, zone).as_bytes())?;
        }
        writer.write_record(None::<&[u8]>)?;
        written += 1;
        Ok(())
    })?;
    writer.flush()?;
    Ok(written)
}

fn field<'a, Tz: TimeZone>(cell: &'a Cell<'_>, zone: &Tz) -> Cow<'a, str> {
    match cell {
        Cell::Text(text) => for_csv(text),
        Cell::Time(moment) => Cow::Owned(moment.with_timezone(zone).naive_local().format(TIME_FORMAT).to_string()),
        Cell::Count(count) => Cow::Owned(count.to_string()),
        Cell::Empty => Cow::Borrowed(""),
    }
}

impl From<csv::Error> for WriteError {
    fn from(error: csv::Error) -> Self {
        match error.into_kind() {
            csv::ErrorKind::Io(error) => WriteError::Io(error),
            other => WriteError::Writer(format!("{other:?}")),
        }
    }
}
