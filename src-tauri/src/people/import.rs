//! Importing people from a spreadsheet (.xlsx, .xls, .ods) or a CSV file: read, checked row by
//! row, shown as a preview, then added in one transaction — every good row or, on any failure,
//! none. Rows that cannot be added are reported with the reason, never silently dropped.

use std::collections::HashMap;
use std::io::Cursor;
use std::path::Path;

use calamine::Reader;
use chrono::Utc;

use crate::account::Account;
use crate::error::{AppError, Result};
use crate::people::check;
use crate::phone;
use crate::store::{Person, PersonRecord};
use crate::views::{ImportRow, PeopleImport, SkippedRow};

/// A directory is an office's staff, not a phone book: far above any real file, far below a hang.
const MAX_ROWS: usize = 100_000;
const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;
/// Rows shown in the preview, and skipped rows listed (all are counted).
const SAMPLE_ROWS: usize = 20;
const LISTED_SKIPS: usize = 500;

/// Header words (lower case, matched as part of the cell) that name each column.
const PHONE_WORDS: &[&str] = &["phone", "mobil", "telefon", "tlf", "msn", "cell"];
const NAME_WORDS: &[&str] = &["name", "navn"];
const NOTE_WORDS: &[&str] = &["team", "note", "notat", "merknad", "avdeling", "department", "group", "gruppe"];

/// One row of the file: its number as a spreadsheet shows it, and its cells as text.
type Row = (usize, Vec<String>);

/// What the file would add, without adding it.
pub fn preview(account: &Account, path: &Path) -> Result<PeopleImport> {
    let rows = read_rows(path)?;
    let listed = account.with_store(|store| store.people())?;
    let (summary, _) = plan_rows(path, &rows, &listed)?;
    Ok(summary)
}

/// Adds every good row of the file, and says what was skipped and why. Who is already listed is
/// read in the same transaction that adds the rest: nothing half-imported, and no number added
/// by someone else in between slips past the duplicate check.
pub fn import(account: &Account, path: &Path) -> Result<PeopleImport> {
    let rows = read_rows(path)?;
    let (mut summary, imported) =
        account.with_store(|store| store.add_people_planned(Utc::now(), |listed| plan_rows(path, &rows, listed)))?;
    summary.imported = imported;
    Ok(summary)
}

/// What the import of `rows` (read from `path`) would do with the directory as `listed`.
fn plan_rows(path: &Path, rows: &[Row], listed: &[Person]) -> Result<(PeopleImport, Vec<PersonRecord>)> {
    let listed: HashMap<String, String> =
        listed.iter().map(|person| (person.phone.clone(), person.name.clone())).collect();
    let (people, skipped) = plan(rows, &listed)?;
    let file_name = path.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
    let summary = PeopleImport {
        file_name,
        rows: people.len() + skipped.len(),
        ready: people.len(),
        imported: 0,
        sample: people.iter().take(SAMPLE_ROWS).cloned().collect(),
        skipped_count: skipped.len(),
        skipped: skipped.into_iter().take(LISTED_SKIPS).collect(),
    };
    let records = people.into_iter().map(|row| PersonRecord { name: row.name, phone: row.phone, note: row.note });
    Ok((summary, records.collect()))
}

fn not_a_table(detail: &str) -> AppError {
    AppError::invalid_input("file", format!("this file is not a spreadsheet or CSV file ({detail})"))
}

/// The file's non-empty rows, whatever its kind: a workbook by its content, else text as CSV.
pub fn read_rows(path: &Path) -> Result<Vec<Row>> {
    let size = std::fs::metadata(path)
        .map_err(|error| AppError::invalid_input("file", format!("the file could not be read: {error}")))?
        .len();
    if size > MAX_FILE_BYTES {
        return Err(AppError::invalid_input("file", format!("the file is too large ({size} bytes)")));
    }
    let bytes = std::fs::read(path)
        .map_err(|error| AppError::invalid_input("file", format!("the file could not be read: {error}")))?;
    // Zip (xlsx, ods) and the old binary Excel format start with these bytes.
    let rows = if bytes.starts_with(b"PK\x03\x04") || bytes.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        workbook_rows(bytes)?
    } else {
        csv_rows(&bytes)?
    };
    let rows: Vec<Row> =
        rows.into_iter().filter(|(_, cells)| cells.iter().any(|cell| !cell.trim().is_empty())).collect();
    if rows.len() > MAX_ROWS + 1 {
        return Err(AppError::invalid_input("file", format!("the file has more than {MAX_ROWS} rows")));
    }
    if rows.is_empty() {
        return Err(AppError::invalid_input("file", "the file has no rows"));
    }
    if rows.iter().all(|(_, cells)| cells.iter().filter(|cell| !cell.trim().is_empty()).count() < 2) {
        return Err(not_a_table("no row has both a name and a number"));
    }
    Ok(rows)
}

/// The first sheet of a workbook.
fn workbook_rows(bytes: Vec<u8>) -> Result<Vec<Row>> {
    let mut workbook =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(|error| not_a_table(&error.to_string()))?;
    let sheet = workbook
        .worksheet_range_at(0)
        .ok_or_else(|| not_a_table("the workbook has no sheet"))?
        .map_err(|error| not_a_table(&error.to_string()))?;
    // A sheet may start below row 1 or right of column A: row numbers are the sheet's own.
    let first_row = sheet.start().map(|(row, _)| row as usize).unwrap_or(0);
    Ok(sheet
        .rows()
        .enumerate()
        .map(|(index, cells)| (first_row + index + 1, cells.iter().map(|cell| cell.to_string()).collect()))
        .collect())
}

/// A CSV file as Excel and others write it: UTF-8 (with or without a byte-order mark) or, from
/// older Excel, Windows Latin; `;`, `,` or tab between cells, whichever the first line uses most.
fn csv_rows(bytes: &[u8]) -> Result<Vec<Row>> {
    if bytes.contains(&0) {
        return Err(not_a_table("it holds binary data"));
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&byte| char::from(byte)).collect(),
    };
    let first_line = text.lines().find(|line| !line.trim().is_empty()).unwrap_or_default();
    let delimiter = [b';', b',', b'\t']
        .into_iter()
        .max_by_key(|separator| first_line.bytes().filter(|byte| byte == separator).count())
        .unwrap_or(b',');
    let mut reader =
        csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| not_a_table(&error.to_string()))?;
        let line = record.position().map(|position| position.line() as usize).unwrap_or(rows.len() + 1);
        rows.push((line, record.iter().map(str::to_owned).collect()));
        if rows.len() > MAX_ROWS + 1 {
            break;
        }
    }
    Ok(rows)
}

/// Which cells hold what.
struct Columns {
    name: Vec<usize>,
    phone: usize,
    note: Option<usize>,
}

/// The header's columns when the first row names a phone column, else none (the file is then
/// read as name, phone, note in the first three columns). A row that holds a phone number is a
/// person, not a header, even when a cell has a header's word in it ("Telefonvakt", "Mobil").
fn header_columns(cells: &[String]) -> Result<Option<Columns>> {
    if cells.iter().any(|cell| phone::normalize(cell).is_ok()) {
        return Ok(None);
    }
    let words: Vec<String> = cells.iter().map(|cell| cell.trim().to_lowercase()).collect();
    let matches = |index: usize, list: &[&str]| list.iter().any(|word| words[index].contains(word));
    let Some(phone) = (0..words.len()).find(|&index| matches(index, PHONE_WORDS)) else {
        return Ok(None);
    };
    // "Fornavn" and "Etternavn" (first and last name) are joined into one name.
    let name: Vec<usize> = (0..words.len()).filter(|&index| index != phone && matches(index, NAME_WORDS)).collect();
    if name.is_empty() {
        return Err(AppError::invalid_input("file", "the file has a phone column but no name column"));
    }
    let note = (0..words.len()).find(|&index| index != phone && !name.contains(&index) && matches(index, NOTE_WORDS));
    Ok(Some(Columns { name, phone, note }))
}

/// Each row checked: what would be added, and what is skipped and why. `listed` is the
/// directory's numbers and names.
pub fn plan(rows: &[Row], listed: &HashMap<String, String>) -> Result<(Vec<ImportRow>, Vec<SkippedRow>)> {
    let Some((_, first)) = rows.first() else {
        return Ok((Vec::new(), Vec::new()));
    };
    let (columns, data) = match header_columns(first)? {
        Some(columns) => (columns, &rows[1..]),
        None => (Columns { name: vec![0], phone: 1, note: Some(2) }, rows),
    };
    let cell = |cells: &[String], index: usize| cells.get(index).map(|cell| cell.trim().to_owned()).unwrap_or_default();
    let mut seen: HashMap<String, usize> = HashMap::new();
    let (mut people, mut skipped) = (Vec::new(), Vec::new());
    for (row, cells) in data {
        let name = columns.name.iter().map(|&index| cell(cells, index)).filter(|part| !part.is_empty());
        let name = name.collect::<Vec<_>>().join(" ");
        let phone_text = cell(cells, columns.phone);
        let note = columns.note.map(|index| cell(cells, index));
        let skip = |reason: &'static str, detail: Option<String>| SkippedRow {
            row: *row,
            reason,
            phone: phone_text.clone(),
            detail,
        };
        let phone = match phone::normalize(&phone_text) {
            Err(phone::PhoneProblem::Empty) => {
                skipped.push(skip("missingPhone", None));
                continue;
            }
            Err(problem) => {
                skipped.push(skip("invalidPhone", Some(problem.as_str().to_owned())));
                continue;
            }
            Ok(phone) => phone,
        };
        if let Some(first_row) = seen.get(&phone) {
            skipped.push(skip("duplicate", Some(first_row.to_string())));
            continue;
        }
        if let Some(listed_name) = listed.get(&phone) {
            skipped.push(skip("alreadyListed", Some(listed_name.clone())));
            continue;
        }
        match check(&name, &phone, note.as_deref()) {
            Ok(record) => {
                seen.insert(phone, *row);
                people.push(ImportRow { row: *row, name: record.name, phone: record.phone, note: record.note });
            }
            Err(error) if error.field == Some("personName") && name.is_empty() => {
                skipped.push(skip("missingName", None));
            }
            Err(error) => skipped.push(skip("invalidText", Some(error.message))),
        }
    }
    Ok((people, skipped))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use crate::store::{Store, StoreError};

    struct TempDir(std::path::PathBuf);

    impl TempDir {
        fn new() -> Self {
            let dir = std::env::temp_dir().join(format!(
                "unloc-import-test-{}-{}",
                std::process::id(),
                std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            TempDir(dir)
        }

        fn file(&self, name: &str, bytes: &[u8]) -> std::path::PathBuf {
            let path = self.0.join(name);
            std::fs::write(&path, bytes).unwrap();
            path
        }
    }

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn account() -> Account {
        Account::new(Store::in_memory().unwrap())
    }

    fn reasons(summary: &PeopleImport) -> Vec<(usize, &str)> {
        summary.skipped.iter().map(|skip| (skip.row, skip.reason)).collect()
    }

    fn xlsx(dir: &TempDir, rows: &[[&str; 3]]) -> std::path::PathBuf {
        let mut workbook = rust_xlsxwriter::Workbook::new();
        let sheet = workbook.add_worksheet();
        for (row, cells) in rows.iter().enumerate() {
            for (column, cell) in cells.iter().enumerate() {
                // Numbers typed into Excel are stored as numbers: that is how phones arrive.
                match cell.parse::<f64>() {
                    Ok(number) => sheet.write_number(row as u32, column as u16, number).unwrap(),
                    Err(_) => sheet.write_string(row as u32, column as u16, *cell).unwrap(),
                };
            }
        }
        let path = dir.0.join("people.xlsx");
        workbook.save(&path).unwrap();
        path
    }

    #[test]
    fn a_csv_with_bad_rows_imports_the_good_ones_and_says_why_of_the_rest() {
        let dir = TempDir::new();
        let account = account();
        crate::people::save(&account, None, "Siri", "93333333", None).unwrap();
        let csv = "\u{feff}Navn;Mobil;Team\n\
                   Kari Nordmann;900 00 000;Nord\n\
                   Ola;;Sør\n\
                   Per;12345;\n\
                   Kari igjen;+47 900 00 000;\n\
                   ;91111111;\n\
                   Siri S.;+4793333333;\n\
                   \n\
                   Åse Ødegård;0046701234567;Team \"Vest\"\n";
        let path = dir.file("people.csv", csv.as_bytes());
        let preview = preview(&account, &path).unwrap();
        assert_eq!((preview.rows, preview.ready, preview.imported, preview.skipped_count), (7, 2, 0, 5));
        assert_eq!(
            reasons(&preview),
            [(3, "missingPhone"), (4, "invalidPhone"), (5, "duplicate"), (6, "missingName"), (7, "alreadyListed")]
        );
        assert_eq!(preview.skipped[1].detail.as_deref(), Some("norwegianLength"));
        assert_eq!(preview.skipped[2].detail.as_deref(), Some("2"), "the duplicate names the row it repeats");
        assert_eq!(preview.skipped[4].detail.as_deref(), Some("Siri"));
        assert_eq!(crate::people::list(&account).unwrap().len(), 1, "a preview adds nobody");

        let report = import(&account, &path).unwrap();
        assert_eq!(report.imported, 2);
        let people = crate::people::list(&account).unwrap();
        let listed: Vec<(&str, &str, Option<&str>)> =
            people.iter().map(|p| (p.name.as_str(), p.phone.as_str(), p.note.as_deref())).collect();
        assert_eq!(
            listed,
            [
                ("Kari Nordmann", "+4790000000", Some("Nord")),
                ("Siri", "+4793333333", None),
                ("Åse Ødegård", "+46701234567", Some("Team \"Vest\""))
            ]
        );
    }

    #[test]
    fn an_excel_file_with_numbers_as_numbers_and_split_names_is_read() {
        let dir = TempDir::new();
        let path = xlsx(
            &dir,
            &[
                ["Fornavn", "Etternavn", "Telefonnummer"],
                ["Kari", "Nordmann", "90000000"],
                ["Ola", "", "4791111111"],
                ["", "", ""],
                ["Per", "Hansen", ""],
            ],
        );
        let account = account();
        let report = import(&account, &path).unwrap();
        assert_eq!(report.sample[0].name, "Kari Nordmann");
        assert_eq!(report.sample[0].phone, "+4790000000");
        assert_eq!(reasons(&report), [(3, "invalidPhone"), (5, "missingPhone")], "the empty row 4 is no row");
        assert_eq!(report.skipped[0].detail.as_deref(), Some("plusMissing"));
        assert_eq!(report.imported, 1);
    }

    #[test]
    fn a_file_without_a_header_is_name_phone_note() {
        let dir = TempDir::new();
        let path = dir.file("plain.csv", b"Kari,90000000,Nord\nOla,91111111\n");
        let report = preview(&account(), &path).unwrap();
        assert_eq!((report.ready, report.skipped_count), (2, 0));
        assert_eq!(report.sample[0].note.as_deref(), Some("Nord"));
    }

    #[test]
    fn a_first_person_whose_note_sounds_like_a_header_is_still_a_person() {
        let dir = TempDir::new();
        let path = dir.file("plain.csv", b"Kari;90000021;Telefonvakt\nOla Navnesen;90000022;Mobil\n");
        let report = preview(&account(), &path).unwrap();
        assert_eq!((report.ready, report.skipped_count), (2, 0));
        assert_eq!(report.sample[0].name, "Kari");
        assert_eq!(report.sample[1].note.as_deref(), Some("Mobil"));
    }

    #[test]
    fn an_old_excel_csv_in_windows_latin_keeps_its_letters() {
        let dir = TempDir::new();
        let path = dir.file("latin.csv", b"Navn;Mobil\n\xc5se \xd8deg\xe5rd;90000000\n");
        assert_eq!(preview(&account(), &path).unwrap().sample[0].name, "Åse Ødegård");
    }

    #[test]
    fn ten_thousand_rows_are_imported_in_one_go_and_their_duplicates_reported() {
        let dir = TempDir::new();
        let mut csv = String::from("name,phone,team\n");
        for index in 0..10_000 {
            // Every 100th row repeats the number of the row before it.
            let number = if index % 100 == 99 { 40_000_000 + index - 1 } else { 40_000_000 + index };
            csv.push_str(&format!("Person {index},{number},Team {}\n", index % 7));
        }
        let path = dir.file("many.csv", csv.as_bytes());
        let account = account();
        let report = import(&account, &path).unwrap();
        assert_eq!((report.rows, report.imported, report.skipped_count), (10_000, 9_900, 100));
        assert!(report.skipped.iter().all(|skip| skip.reason == "duplicate"));
        assert_eq!(report.sample.len(), SAMPLE_ROWS);
        assert_eq!(crate::people::list(&account).unwrap().len(), 9_900);
    }

    #[test]
    fn a_file_that_is_not_a_spreadsheet_is_refused_and_adds_nobody() {
        let dir = TempDir::new();
        let account = account();
        let png = dir.file("photo.xlsx", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01");
        let broken_zip = dir.file("broken.xlsx", b"PK\x03\x04 this is no workbook at all");
        let prose = dir.file("notes.txt", b"Remember to call Kari tomorrow\nand Ola on friday\n");
        let empty = dir.file("empty.csv", b"\n\n");
        let no_name = dir.file("phones.csv", b"Mobil;Team\n90000000;Nord\n");
        for path in [png, broken_zip, prose, empty, no_name, dir.0.join("missing.csv")] {
            let error = import(&account, &path).unwrap_err();
            assert_eq!((error.kind, error.field), (ErrorKind::InvalidInput, Some("file")), "{}", path.display());
        }
        assert!(crate::people::list(&account).unwrap().is_empty());
    }

    #[test]
    fn a_failure_while_adding_leaves_nothing_half_imported() {
        let account = account();
        let kari = PersonRecord { name: "Kari".into(), phone: "+4790000000".into(), note: None };
        let ola = PersonRecord { name: "Ola".into(), phone: "+4791111111".into(), note: None };
        // Ola's number twice: the second insert fails, and Kari (added first) goes with it.
        let failed = account.with_store(|store| store.add_people(&[kari, ola.clone(), ola], Utc::now()));
        assert!(failed.is_err());
        assert!(crate::people::list(&account).unwrap().is_empty());
    }

    #[test]
    fn a_number_added_after_the_preview_is_reported_as_listed_by_the_import() {
        let dir = TempDir::new();
        let account = account();
        let path = dir.file("people.csv", b"name,phone\nKari,90000000\nOla,91111111\n");
        assert_eq!(preview(&account, &path).unwrap().ready, 2);
        crate::people::save(&account, None, "Ola (added meanwhile)", "91111111", None).unwrap();
        let report = import(&account, &path).unwrap();
        assert_eq!((report.imported, reasons(&report)), (1, vec![(3, "alreadyListed")]));
        assert_eq!(crate::people::list(&account).unwrap().len(), 2);
    }

    #[test]
    fn nobody_can_add_a_number_while_an_import_looks_at_the_directory() {
        let dir = TempDir::new();
        let path = dir.0.join("desk.sqlite3");
        let (mut importing, _) = Store::open(&path).unwrap();
        let (other, _) = Store::open_waiting(&path, std::time::Duration::from_millis(50)).unwrap();
        let ola = PersonRecord { name: "Ola".into(), phone: "+4791111111".into(), note: None };
        let (seen, added) = importing
            .add_people_planned(Utc::now(), |listed| {
                // Another connection (another window, the office sync) tries to add the same number
                // between the import's look and its adding: it has to wait for the import.
                let meanwhile = other.save_person(None, &ola, Utc::now());
                Ok::<_, StoreError>(((listed.len(), meanwhile.is_err()), vec![ola.clone()]))
            })
            .unwrap();
        assert_eq!(seen, (0, true), "the other connection added a person while the import planned");
        assert_eq!(added, 1);
        assert_eq!(other.people().unwrap().len(), 1);
    }
}
