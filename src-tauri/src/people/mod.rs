//! The people directory: a name (and a team or note) for a phone number, kept in the account's
//! local store, so staff see "Kari Nordmann" where Unloc says "+4790000000". No Tauri here.

pub mod import;
pub mod shared;

use chrono::Utc;

use crate::account::Account;
use crate::error::{AppError, ErrorKind, Result};
use crate::keys::status;
use crate::phone;
use crate::store::{Person, PersonRecord};
use crate::views::{PersonEvent, PersonPage};

/// Longest name and note accepted: a name is a name, a note a short line.
const MAX_NAME_CHARS: usize = 100;
const MAX_NOTE_CHARS: usize = 200;
/// How many of a person's latest events their page shows.
const RECENT_EVENTS: u64 = 100;

/// Why a name or note is refused, or `None` when it is fine (empty is fine for a note).
fn text_problem(text: &str, max: usize) -> Option<&'static str> {
    if text.chars().count() > max {
        Some("too long")
    } else if text.chars().any(char::is_control) {
        Some("has invisible characters")
    } else {
        None
    }
}

/// Checks what was typed (or read from a file): a name, a phone number in any usual form, an
/// optional note. The phone comes back in E.164.
pub fn check(name: &str, phone_text: &str, note: Option<&str>) -> Result<PersonRecord> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid_input("personName", "a person needs a name"));
    }
    if let Some(problem) = text_problem(name, MAX_NAME_CHARS) {
        return Err(AppError::invalid_input("personName", format!("the name is {problem}")));
    }
    let phone = phone::normalize(phone_text).map_err(|problem| {
        AppError::invalid_input("personPhone", format!("the phone number is not valid ({})", problem.as_str()))
    })?;
    let note = note.map(str::trim).filter(|note| !note.is_empty());
    if let Some(problem) = note.and_then(|note| text_problem(note, MAX_NOTE_CHARS)) {
        return Err(AppError::invalid_input("personNote", format!("the team or note is {problem}")));
    }
    Ok(PersonRecord { name: name.to_owned(), phone, note: note.map(str::to_owned) })
}

pub fn list(account: &Account) -> Result<Vec<Person>> {
    Ok(account.with_store(|store| store.people())?)
}

/// Adds (`id` None) or changes a person. A number someone else already has is a `conflict`.
pub fn save(account: &Account, id: Option<i64>, name: &str, phone: &str, note: Option<&str>) -> Result<Person> {
    let record = check(name, phone, note)?;
    account.with_store(|store| -> crate::store::StoreResult<Result<Person>> {
        if let Some(other) = store.person_by_phone(&record.phone)?.filter(|other| Some(other.id) != id) {
            return Ok(Err(AppError::new(
                ErrorKind::Conflict,
                format!("{} already belongs to person {}", record.phone, other.id),
            )));
        }
        Ok(store.save_person(id, &record, Utc::now())?.ok_or_else(|| not_found(id)))
    })?
}

pub fn delete(account: &Account, id: i64) -> Result<()> {
    if account.with_store(|store| store.delete_person(id))? {
        Ok(())
    } else {
        Err(not_found(Some(id)))
    }
}

/// A person with their keys (every key this app knows for their number) and their latest events
/// in the activity archive.
pub fn page(account: &Account, id: i64) -> Result<PersonPage> {
    let person = account.with_store(|store| store.person(id))?.ok_or_else(|| not_found(Some(id)))?;
    let keys =
        status::views(account, None)?.into_iter().filter(|key| key.msn.as_deref() == Some(&person.phone)).collect();
    let events = account
        .with_store(|store| store.archived_events_of_phone(&person.phone, RECENT_EVENTS))?
        .into_iter()
        .map(|event| PersonEvent {
            id: event.id,
            lock_id: event.lock_id,
            lock_name: event.lock_name,
            key_id: event.key_id,
            action: event.action,
            at: event.at,
        })
        .collect();
    Ok(PersonPage { person, keys, events })
}

fn not_found(id: Option<i64>) -> AppError {
    AppError::new(ErrorKind::NotFound, format!("no person {} in the directory", id.unwrap_or_default()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn account() -> Account {
        Account::new(Store::in_memory().unwrap())
    }

    #[test]
    fn a_person_is_saved_with_the_number_in_e164() {
        let account = account();
        let kari = save(&account, None, "  Kari Nordmann ", "900 00 000", Some(" Team Nord ")).unwrap();
        assert_eq!((kari.name.as_str(), kari.phone.as_str()), ("Kari Nordmann", "+4790000000"));
        assert_eq!(kari.note.as_deref(), Some("Team Nord"));
        let edited = save(&account, Some(kari.id), "Kari N.", "+47 900 00 000", Some("")).unwrap();
        assert_eq!((edited.id, edited.note.as_deref()), (kari.id, None));
        assert_eq!(list(&account).unwrap(), vec![edited]);
    }

    #[test]
    fn what_cannot_be_a_person_is_refused_by_field() {
        let account = account();
        let field = |result: Result<Person>| result.unwrap_err().field;
        assert_eq!(field(save(&account, None, " ", "90000000", None)), Some("personName"));
        assert_eq!(field(save(&account, None, "Kari", "", None)), Some("personPhone"));
        assert_eq!(field(save(&account, None, "Kari", "9000", None)), Some("personPhone"));
        assert_eq!(field(save(&account, None, "Kari", "90000000", Some(&"x".repeat(201)))), Some("personNote"));
        assert_eq!(field(save(&account, None, &"x".repeat(101), "90000000", None)), Some("personName"));
        assert!(list(&account).unwrap().is_empty());
    }

    #[test]
    fn one_number_belongs_to_one_person() {
        let account = account();
        let kari = save(&account, None, "Kari", "90000000", None).unwrap();
        let ola = save(&account, None, "Ola", "91111111", None).unwrap();
        let error = save(&account, None, "Kari again", "+4790000000", None).unwrap_err();
        assert_eq!(error.kind, ErrorKind::Conflict);
        assert_eq!(save(&account, Some(ola.id), "Ola", "90000000", None).unwrap_err().kind, ErrorKind::Conflict);
        assert!(save(&account, Some(kari.id), "Kari", "90000000", Some("keeps her own")).is_ok());
        assert_eq!(save(&account, Some(999), "Nobody", "92222222", None).unwrap_err().kind, ErrorKind::NotFound);
        delete(&account, ola.id).unwrap();
        assert_eq!(delete(&account, ola.id).unwrap_err().kind, ErrorKind::NotFound);
    }
}
