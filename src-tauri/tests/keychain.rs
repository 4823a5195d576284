//! The real OS keychain (Secret Service on Linux): store, read, delete.
//!
//! Needs a D-Bus session with an unlocked keyring, which `tests/scripts/with-desktop.sh` provides;
//! the README's test command sets UNLOC_REAL_KEYCHAIN=1 so that a missing keychain fails the run.

use secrecy::{ExposeSecret, SecretString};
use unloc_desk::secrets::{KeyringStore, SecretStore};

#[test]
#[allow(clippy::print_stderr)] // the skip notice is for a developer running plain `cargo test`
fn stores_reads_and_deletes_a_token_in_the_real_keychain() {
    if std::env::var("UNLOC_REAL_KEYCHAIN").as_deref() != Ok("1") {
        eprintln!("skipped: set UNLOC_REAL_KEYCHAIN=1 inside tests/scripts/with-desktop.sh to use the real keychain");
        return;
    }
    let store = KeyringStore::new("no.unlocdesk.desktop.test");
    let account = format!("keychain-test-{}", std::process::id());
    assert!(store.get(&account).unwrap().is_none());
    store.set(&account, &SecretString::from("first-token".to_owned())).unwrap();
    assert_eq!(store.get(&account).unwrap().unwrap().expose_secret(), "first-token");
    store.set(&account, &SecretString::from("rotated-token".to_owned())).unwrap();
    assert_eq!(store.get(&account).unwrap().unwrap().expose_secret(), "rotated-token");
    store.delete(&account).unwrap();
    assert!(store.get(&account).unwrap().is_none());
    store.delete(&account).unwrap();
}
