//! Exports: rows the app holds, written as an Excel workbook or a CSV file at a path the user chose.
//!
//! A [`Table`] is headings and rows of typed cells; [`save`] writes it in the chosen format. Text
//! from Unloc is hostile (lock owners write it), so no cell ever becomes a formula: see
//! [`neutralise`]. The file is written beside its final place and renamed into it at the end, so
//! a full disk or a refused folder never leaves half a file under the user's chosen name.

pub mod activity;
mod delimited;
pub mod neutralise;
pub mod tables;
mod xlsx;

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde::Deserialize;

use crate::error::{AppError, ErrorKind, Result};
use crate::views::ExportDone;

/// The two file formats a user can export to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    Xlsx,
    Csv,
}

impl FileFormat {
    pub fn extension(self) -> &'static str {
        match self {
            FileFormat::Xlsx => "xlsx",
            FileFormat::Csv => "csv",
        }
    }
}

/// The language the file is written in: its headings, its words, its dates, and for CSV the
/// separator (Excel in a Norwegian locale splits on `;`, since `,` is the decimal mark there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    En,
    Nb,
}

impl Language {
    /// `nb` (or `nb-NO`, `no`, `nn`) is Norwegian; anything else English, like the UI's catalogs.
    pub fn from_tag(tag: &str) -> Self {
        let primary = tag.split(['-', '_']).next().unwrap_or("").to_ascii_lowercase();
        if matches!(primary.as_str(), "nb" | "no" | "nn") {
            Language::Nb
        } else {
            Language::En
        }
    }

    pub fn tag(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Nb => "nb",
        }
    }

    pub fn csv_separator(self) -> u8 {
        match self {
            Language::En => b',',
            Language::Nb => b';',
        }
    }
}

/// One value in a table: its text borrowed from the row it was read from where it can be (an export
/// of 100,000 rows need not copy every name once more).
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    /// Any text; from Unloc, so it may look like a formula.
    Text(Cow<'a, str>),
    /// A moment, written as a date and time in the user's zone (a real date cell in Excel).
    Time(DateTime<Utc>),
    Count(u64),
    Empty,
}

impl<'a> Cell<'a> {
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(Cow::Owned(text.into()))
    }

    pub fn borrowed(text: &'a str) -> Self {
        Cell::Text(Cow::Borrowed(text))
    }

    pub fn optional_time(moment: Option<DateTime<Utc>>) -> Self {
        moment.map_or(Cell::Empty, Cell::Time)
    }
}

/// What is written: a sheet name (Excel only), headings, and rows of cells in the headings' order.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub sheet: String,
    pub headings: Vec<String>,
    pub rows: Vec<Vec<Cell<'static>>>,
}

/// Where and how to write a table.
#[derive(Debug, Clone)]
pub struct Target {
    pub path: PathBuf,
    pub format: FileFormat,
    pub language: Language,
}

impl Target {
    /// What the UI sent: the path its save dialog returned, the format, and the language it shows.
    pub fn from_request(path: &str, format: FileFormat, language: &str) -> Result<Target> {
        let path = PathBuf::from(path.trim());
        if !path.is_absolute() || path.file_name().is_none() {
            return Err(AppError::invalid_input("path", "the file to export to is not a full path"));
        }
        Ok(Target { path, format, language: Language::from_tag(language) })
    }

    /// The path the file is written to: the chosen one, with the format's extension added when the
    /// name has another or none (a save dialog on Linux does not add it by itself). The dialog
    /// asked before replacing the file the user chose, but not the one with the extension added: an
    /// existing file of that name is left alone, and the export gets the next free name
    /// ("rapport (2).csv"), which the user is then told.
    pub fn final_path(&self) -> PathBuf {
        let wanted = self.format.extension();
        if self.path.extension().and_then(|ext| ext.to_str()).is_some_and(|ext| ext.eq_ignore_ascii_case(wanted)) {
            return self.path.clone();
        }
        let with_extension = |suffix: &str| {
            let mut name = self.path.clone().into_os_string();
            name.push(format!("{suffix}.{wanted}"));
            PathBuf::from(name)
        };
        let mut path = with_extension("");
        let mut number = 2;
        while path.exists() && number < 1_000 {
            path = with_extension(&format!(" ({number})"));
            number += 1;
        }
        path
    }
}

/// Writes `table` to `target`, times in `zone`. On failure nothing is left at the chosen path (a
/// file that was there before stays as it was).
pub fn save<Tz: TimeZone>(table: &Table, target: &Target, zone: &Tz) -> Result<ExportDone> {
    save_rows(&table.sheet, &table.headings, table.rows.len() as u64, target, zone, |write| {
        table.rows.iter().try_for_each(|row| write(row))
    })
}

/// Hands one row of cells, in the headings' order, to the file being written.
pub type WriteRow<'w> = dyn FnMut(&[Cell<'_>]) -> std::result::Result<(), WriteError> + 'w;

/// Writes a sheet whose rows `fill` hands over one at a time as it reads them (a table too big to
/// hold in memory first), `rows` of them as counted before: more than Excel takes is refused before
/// anything is read or written. On failure nothing is left at the chosen path.
pub fn save_rows<Tz: TimeZone>(
    sheet: &str,
    headings: &[String],
    rows: u64,
    target: &Target,
    zone: &Tz,
    fill: impl FnOnce(&mut WriteRow<'_>) -> std::result::Result<(), WriteError>,
) -> Result<ExportDone> {
    let path = target.final_path();
    if target.format == FileFormat::Xlsx && rows > xlsx::MAX_DATA_ROWS as u64 {
        return Err(AppError::new(
            ErrorKind::ExportTooManyRows,
            format!("{rows} rows do not fit in one Excel sheet (at most {})", xlsx::MAX_DATA_ROWS),
        ));
    }
    let partial = partial_path(&path);
    let written = write_file(sheet, headings, target, zone, &partial, fill).and_then(|written| {
        std::fs::rename(&partial, &path)?;
        Ok(written)
    });
    match written {
        Ok(written) => Ok(ExportDone { path: path.display().to_string(), rows: written }),
        Err(error) => {
            let _ = std::fs::remove_file(&partial);
            Err(error.into_app_error(&path))
        }
    }
}

/// Writes the file; returns how many rows it holds.
fn write_file<Tz: TimeZone>(
    sheet: &str,
    headings: &[String],
    target: &Target,
    zone: &Tz,
    path: &Path,
    fill: impl FnOnce(&mut WriteRow<'_>) -> std::result::Result<(), WriteError>,
) -> std::result::Result<usize, WriteError> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, std::fs::File::create(path)?);
    let written = match target.format {
        FileFormat::Xlsx => xlsx::write(sheet, headings, target.language, zone, &mut out, fill)?,
        FileFormat::Csv => delimited::write(headings, target.language, zone, &mut out, fill)?,
    };
    let file = out.into_inner().map_err(|error| error.into_error())?;
    // A full disk may only show when the data reaches it.
    file.sync_all()?;
    Ok(written)
}

/// A hidden name beside the target, so the rename at the end stays on one file system.
fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Why a file could not be written: the disk, the writer, or the rows could not be read.
#[derive(Debug)]
pub enum WriteError {
    Io(std::io::Error),
    Writer(String),
    Source(AppError),
}

impl From<crate::store::StoreError> for WriteError {
    fn from(error: crate::store::StoreError) -> Self {
        WriteError::Source(error.into())
    }
}

impl From<std::io::Error> for WriteError {
    fn from(error: std::io::Error) -> Self {
        WriteError::Io(error)
    }
}

impl WriteError {
    /// In terms of what the user can do: free space, choose another folder, or try again.
    fn into_app_error(self, path: &Path) -> AppError {
        use std::io::ErrorKind as Io;
        let (kind, reason) = match self {
            // The rows could not be read: that error says why, in its own terms.
            WriteError::Source(error) => return error,
            WriteError::Io(error) => {
                let kind = match error.kind() {
                    Io::StorageFull | Io::QuotaExceeded => ErrorKind::ExportDiskFull,
                    Io::PermissionDenied | Io::ReadOnlyFilesystem => ErrorKind::ExportDenied,
                    _ => ErrorKind::ExportFailed,
                };
                (kind, error.to_string())
            }
            WriteError::Writer(reason) => (ErrorKind::ExportFailed, reason),
        };
        AppError::new(kind, format!("could not write {}: {reason}", path.display()))
    }
}

#[cfg(test)]
mod tests;
