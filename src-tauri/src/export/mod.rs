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

/// One value in a table.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    /// Any text; from Unloc, so it may look like a formula.
    Text(String),
    /// A moment, written as a date and time in the user's zone (a real date cell in Excel).
    Time(DateTime<Utc>),
    Count(u64),
    Empty,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Cell::Text(text.into())
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
    pub rows: Vec<Vec<Cell>>,
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
    let path = target.final_path();
    if target.format == FileFormat::Xlsx && table.rows.len() > xlsx::MAX_DATA_ROWS {
        return Err(AppError::new(
            ErrorKind::ExportTooManyRows,
            format!("{} rows do not fit in one Excel sheet (at most {})", table.rows.len(), xlsx::MAX_DATA_ROWS),
        ));
    }
    let partial = partial_path(&path);
    let written = write_file(table, target, zone, &partial).and_then(|()| Ok(std::fs::rename(&partial, &path)?));
    if let Err(error) = written {
        let _ = std::fs::remove_file(&partial);
        return Err(error.into_app_error(&path));
    }
    Ok(ExportDone { path: path.display().to_string(), rows: table.rows.len() })
}

fn write_file<Tz: TimeZone>(
    table: &Table,
    target: &Target,
    zone: &Tz,
    path: &Path,
) -> std::result::Result<(), WriteError> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    match target.format {
        FileFormat::Xlsx => xlsx::write(table, target.language, zone, &mut out)?,
        FileFormat::Csv => delimited::write(table, target.language, zone, &mut out)?,
    }
    let file = out.into_inner().map_err(|error| error.into_error())?;
    // A full disk may only show when the data reaches it.
    file.sync_all()?;
    Ok(())
}

/// A hidden name beside the target, so the rename at the end stays on one file system.
fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    path.with_file_name(format!(".{name}.partial"))
}

/// Why a file could not be written: the disk, or the writer.
#[derive(Debug)]
enum WriteError {
    Io(std::io::Error),
    Writer(String),
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
        let kind = match &self {
            WriteError::Io(error) => match error.kind() {
                Io::StorageFull | Io::QuotaExceeded => ErrorKind::ExportDiskFull,
                Io::PermissionDenied | Io::ReadOnlyFilesystem => ErrorKind::ExportDenied,
                _ => ErrorKind::ExportFailed,
            },
            WriteError::Writer(_) => ErrorKind::ExportFailed,
        };
        let reason = match self {
            WriteError::Io(error) => error.to_string(),
            WriteError::Writer(reason) => reason,
        };
        AppError::new(kind, format!("could not write {}: {reason}", path.display()))
    }
}

#[cfg(test)]
mod tests;
