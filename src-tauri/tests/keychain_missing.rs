//! Without a Secret Service the keychain reports itself unavailable — never a silent fallback.
//! (A test binary of its own: it points this process's D-Bus address at nothing.)

use secrecy::SecretString;
use unloc_desk::secrets::{KeyringStore, SecretError, SecretStore};

#[test]
fn no_secret_service_is_a_clear_error_not_a_fallback() {
    std::env::set_var("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/unloc-desk-test-bus");
    let store = KeyringStore::new("no.unlocdesk.desktop.test");
    let result = store.set("nobody", &SecretString::from("token-value".to_owned()));
    let Err(SecretError::Unavailable(message)) = result else {
        panic!("expected Unavailable, got {result:?}");
    };
    assert!(!message.contains("token-value"));
    assert!(matches!(store.get("nobody"), Err(SecretError::Unavailable(_))));
}
