//! The app shell's side of key follow-up: `keys-changed` events to the UI, and a desktop
//! notification when a waiting key becomes usable, is refused, or fails (notify-rust).

use tauri::{AppHandle, Emitter, Manager};

use crate::keys::follow::KeyObserver;
use crate::keys::{KeyStatus, KeyView};
use crate::settings::Language;
use crate::state::AppState;

pub const KEYS_CHANGED: &str = "keys-changed";
/// The team database began or stopped answering: the window asks `get_team_status` again.
pub const TEAM_CHANGED: &str = "team-changed";
/// Event name: another desk changed the people directory (team mode); the window reloads it.
pub const PEOPLE_CHANGED: &str = "people-changed";

pub struct ShellObserver {
    app: AppHandle,
}

impl ShellObserver {
    pub fn new(app: AppHandle) -> Self {
        ShellObserver { app }
    }

    /// The name People gives the key's number, if the current session knows one.
    fn person_name(&self, key: &KeyView) -> Option<String> {
        let msn = key.msn.as_deref()?;
        let session = self.app.try_state::<AppState>()?.access.session_now()?;
        match session.account.with_store(|store| store.person_by_phone(msn)) {
            Ok(person) => person.map(|person| person.name),
            Err(error) => {
                log::warn!("could not look up the recipient's name: {error}");
                None
            }
        }
    }

    fn language(&self) -> &'static str {
        let setting = self.app.try_state::<AppState>().map(|state| state.settings().language).unwrap_or_default();
        match setting {
            Language::Nb => "nb",
            Language::En => "en",
            Language::System => match sys_locale::get_locale() {
                Some(tag) if ["nb", "nn", "no"].iter().any(|prefix| tag.to_ascii_lowercase().starts_with(prefix)) => {
                    "nb"
                }
                _ => "en",
            },
        }
    }
}

/// Which notification, if any, a change of status deserves: only keys someone is waiting for.
pub fn notification_for(before: KeyStatus, after: KeyStatus) -> Option<&'static str> {
    let was_waiting = matches!(before, KeyStatus::AwaitingApproval | KeyStatus::Creating);
    match after {
        _ if !was_waiting => None,
        KeyStatus::Scheduled | KeyStatus::Active => Some("notify.keyUsable"),
        KeyStatus::Revoked if before == KeyStatus::AwaitingApproval => Some("notify.keyRefused"),
        KeyStatus::Failed => Some("notify.keyFailed"),
        _ => None,
    }
}

/// Many Linux notification daemons read a body as markup (the spec's `body-markup`: `<b>`,
/// `<a href>`, `<img>`); macOS and Windows show it as it is.
const BODY_IS_MARKUP: bool = cfg!(all(unix, not(target_os = "macos")));

/// Title and body of a notification about `key`, naming the recipient by `person` (the office's
/// name for the number, from People) when known. Lock names and phone numbers come from Unloc (lock
/// owners write the names) and people's names from anyone: where the body is markup it is escaped,
/// so they stay text.
pub fn notification_text(
    catalog: &crate::catalog::Catalog,
    message: &str,
    key: &KeyView,
    person: Option<&str>,
    body_is_markup: bool,
) -> (String, String) {
    let phone = key.msn.as_deref().unwrap_or("—");
    let named = person.map(|name| catalog.text("people.namedPhone", &[("name", name), ("phone", phone)]));
    let recipient = named.as_deref().unwrap_or(phone);
    let lock = key.lock_name.as_deref().unwrap_or(&key.lock_id);
    let title = catalog.text(&format!("{message}.title"), &[]);
    let body = catalog.text(&format!("{message}.body"), &[("recipient", recipient), ("lock", lock)]);
    if body_is_markup {
        (title, escape_markup(&body))
    } else {
        (title, body)
    }
}

fn escape_markup(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c => escaped.push(c),
        }
    }
    escaped
}

impl KeyObserver for ShellObserver {
    fn keys_changed(&self, keys: &[KeyView]) {
        if let Err(error) = self.app.emit(KEYS_CHANGED, keys) {
            log::warn!("could not tell the window about key changes: {error}");
        }
    }

    fn team_changed(&self) {
        if let Err(error) = self.app.emit(TEAM_CHANGED, ()) {
            log::warn!("could not tell the window about the team database: {error}");
        }
    }

    fn people_changed(&self) {
        if let Err(error) = self.app.emit(PEOPLE_CHANGED, ()) {
            log::warn!("could not tell the window about the people directory: {error}");
        }
    }

    fn status_changed(&self, key: &KeyView, before: KeyStatus) {
        let Some(message) = notification_for(before, key.status) else {
            return;
        };
        let catalog = crate::catalog::Catalog::for_language(self.language());
        let (title, body) = notification_text(&catalog, message, key, self.person_name(key).as_deref(), BODY_IS_MARKUP);
        show_notification(&self.app.config().identifier, title, body);
    }
}

/// Shows a desktop notification on a thread of its own: showing it talks to the desktop (D-Bus on
/// Linux), and on Linux the thread then waits until the notification is closed, because desktops
/// such as GNOME withdraw a notification as soon as the connection that sent it goes away.
/// Desktops without a notification service just do not show it; the UI still updates.
fn show_notification(identifier: &str, title: String, body: String) {
    #[cfg(target_os = "macos")]
    let _ = notify_rust::set_application(if tauri::is_dev() { "com.apple.Terminal" } else { identifier });
    #[cfg(not(windows))]
    let _ = identifier;
    #[cfg(windows)]
    let app_id = installed().then(|| identifier.to_owned());
    let shown = std::thread::Builder::new().name("notification".into()).spawn(move || {
        let mut notification = notify_rust::Notification::new();
        notification.summary(&title).body(&body).auto_icon();
        #[cfg(windows)]
        if let Some(app_id) = &app_id {
            notification.app_id(app_id);
        }
        match notification.show() {
            #[cfg(all(unix, not(target_os = "macos")))]
            Ok(handle) => handle.wait_for_action(|_| ()),
            #[cfg(not(all(unix, not(target_os = "macos"))))]
            Ok(_) => {}
            Err(error) => log::info!("desktop notification not shown: {error}"),
        }
    });
    if let Err(error) = shown {
        log::info!("desktop notification not shown: {error}");
    }
}

/// Windows shows a notification under the app's identifier only for an installed app (one not
/// run from cargo's target folder), whose shortcut registers that identifier.
#[cfg(windows)]
fn installed() -> bool {
    let Ok(exe) = std::env::current_exe() else { return false };
    let dir = exe.parent().map(|dir| dir.to_string_lossy().to_lowercase()).unwrap_or_default();
    !(dir.ends_with("target\\debug") || dir.ends_with("target\\release"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_keys_someone_waits_for_are_notified() {
        assert_eq!(notification_for(KeyStatus::AwaitingApproval, KeyStatus::Active), Some("notify.keyUsable"));
        assert_eq!(notification_for(KeyStatus::Creating, KeyStatus::Scheduled), Some("notify.keyUsable"));
        assert_eq!(notification_for(KeyStatus::AwaitingApproval, KeyStatus::Revoked), Some("notify.keyRefused"));
        assert_eq!(notification_for(KeyStatus::Creating, KeyStatus::Failed), Some("notify.keyFailed"));
        assert_eq!(notification_for(KeyStatus::Active, KeyStatus::Revoked), None);
        assert_eq!(notification_for(KeyStatus::Scheduled, KeyStatus::Active), None);
        assert_eq!(notification_for(KeyStatus::Unknown, KeyStatus::Active), None);
    }

    fn hostile_key() -> KeyView {
        KeyView {
            id: "k".into(),
            lock_id: "l".into(),
            lock_name: Some(r#"<a href="https://evil.example">Bod</a> & <img src=x>"#.into()),
            lock_opt_in: None,
            msn: Some("+47<b>1</b>".into()),
            route: None,
            start: None,
            end: None,
            api_state: None,
            status: KeyStatus::Active,
            origin: "created",
            created_at: None,
            first_seen: chrono::Utc::now(),
            last_checked: None,
            waiting_since: None,
            first_used: None,
            last_used: None,
            settled: true,
            already_revoked: None,
            created_by: None,
            created_on_desk: None,
            revoked_by: None,
            revoked_on_desk: None,
        }
    }

    #[test]
    fn text_from_unloc_is_escaped_where_the_body_is_markup() {
        let catalog = crate::catalog::Catalog::for_language("en");
        let (_, body) = notification_text(&catalog, "notify.keyUsable", &hostile_key(), None, true);
        assert!(!body.contains('<') && !body.contains('>'), "{body}");
        assert!(
            body.contains("&lt;a href=&quot;https://evil.example&quot;&gt;Bod&lt;/a&gt; &amp; &lt;img src=x&gt;"),
            "{body}"
        );
        assert!(body.contains("+47&lt;b&gt;1&lt;/b&gt;"), "{body}");
        let (_, plain) = notification_text(&catalog, "notify.keyUsable", &hostile_key(), None, false);
        assert!(plain.contains(r#"<a href="https://evil.example">Bod</a> & <img src=x>"#), "{plain}");
    }

    #[test]
    fn the_recipient_is_named_as_people_knows_them_and_stays_text() {
        let catalog = crate::catalog::Catalog::for_language("nb");
        let key = KeyView { msn: Some("+4790000021".into()), ..hostile_key() };
        let (_, plain) = notification_text(&catalog, "notify.keyUsable", &key, Some("Kari Nordmann"), false);
        assert!(plain.contains("Kari Nordmann (+4790000021)"), "{plain}");
        let (_, body) = notification_text(&catalog, "notify.keyUsable", &key, Some("<b>Kari</b>"), true);
        assert!(body.contains("&lt;b&gt;Kari&lt;/b&gt; (+4790000021)"), "{body}");
    }
}
