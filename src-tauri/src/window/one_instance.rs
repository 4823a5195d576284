//! One instance per desktop session on Linux, over the session bus with the `dbus` crate that
//! tao, keyring and notify-rust already link (the single-instance plugin brought a second D-Bus
//! stack, zbus, for this alone).
//!
//! The first start owns a well-known name on the session bus. A second start finds the name
//! taken, asks its owner to bring its window forward, and exits. The owner gives the name up as
//! soon as the app decides to close, so a start in the next second becomes the new instance.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dbus::blocking::stdintf::org_freedesktop_dbus::RequestNameReply;
use dbus::blocking::SyncConnection;
use dbus::channel::Sender;
use dbus::message::MessageType;
use dbus::Message;

/// The object and interface the owner answers on.
const OBJECT_PATH: &str = "/no/unlocdesk/desktop/Instance";
const INTERFACE: &str = "no.unlocdesk.desktop.Instance";
/// A second start asks the owner to bring its window forward.
const FOCUS: &str = "Focus";
/// The owner sends this to itself (through the bus) to stop answering and give the name up.
const RELEASE: &str = "Release";

/// How long a second start waits for the owner to answer, and the owner for its own release.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);
/// A name can be given up between a second start's claim and its call; it then claims again.
const CLAIM_ATTEMPTS: usize = 3;

/// What a start found on the session bus.
pub enum Claim {
    /// This start owns the name: it is the instance.
    First(Instance),
    /// Another start owns the name and has been asked to bring its window forward.
    Second,
    /// No session bus (or it refused): the app starts without the one-instance check.
    NoBus(String),
}

/// The owned name, until [`Instance::release`].
pub struct Instance {
    connection: Arc<SyncConnection>,
    name: String,
    answering: Mutex<Option<mpsc::Receiver<()>>>,
}

/// Claims `name` on the session bus, or hands the start over to the instance that owns it.
pub fn claim(name: &str) -> Claim {
    let connection = match SyncConnection::new_session() {
        Ok(connection) => Arc::new(connection),
        Err(error) => return Claim::NoBus(error.to_string()),
    };
    let mut last_problem = String::new();
    for _ in 0..CLAIM_ATTEMPTS {
        match connection.request_name(name, false, false, true) {
            Ok(RequestNameReply::PrimaryOwner | RequestNameReply::AlreadyOwner) => {
                return Claim::First(Instance { connection, name: name.to_owned(), answering: Mutex::new(None) })
            }
            Ok(RequestNameReply::Exists | RequestNameReply::InQueue) => {}
            Err(error) => return Claim::NoBus(error.to_string()),
        }
        let proxy = connection.with_proxy(name, OBJECT_PATH, CALL_TIMEOUT);
        match proxy.method_call::<(), _, _, _>(INTERFACE, FOCUS, ()) {
            Ok(()) => return Claim::Second,
            // The owner went away between the two calls: claim again.
            Err(error) => last_problem = error.to_string(),
        }
    }
    Claim::NoBus(format!("the running instance did not answer: {last_problem}"))
}

impl Instance {
    /// Answers second starts on a thread of its own: each one runs `bring_forward`. Calls that
    /// arrived before this wait in the connection's queue.
    pub fn answer(&self, bring_forward: impl Fn() + Send + 'static) {
        let (done, answering) = mpsc::channel();
        let connection = Arc::clone(&self.connection);
        let name = self.name.clone();
        let started = std::thread::Builder::new().name("one-instance".into()).spawn(move || {
            answer_until_released(&connection, &name, bring_forward);
            let _ = done.send(());
        });
        match started {
            Ok(_) => *self.answering.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(answering),
            Err(error) => log::warn!("cannot answer second starts: {error}"),
        }
    }

    /// Gives the name up now (the app is closing): the answering thread is asked through the bus,
    /// because only it reads the connection, and this waits until it has done so. Again: nothing.
    pub fn release(&self) {
        let answering = self.answering.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let Some(answering) = answering else {
            return;
        };
        let own_name = self.connection.unique_name().to_string();
        let sent = Message::new_method_call(own_name, OBJECT_PATH, INTERFACE, RELEASE).and_then(|mut call| {
            call.set_no_reply(true);
            self.connection.send(call).map_err(|()| "not sent".to_owned())
        });
        match sent {
            Ok(_) => {
                if answering.recv_timeout(RELEASE_TIMEOUT).is_err() {
                    log::warn!("the one-instance name was not given up in time");
                }
            }
            Err(error) => log::warn!("cannot give up the one-instance name: {error}"),
        }
    }
}

/// The answering loop: only this thread reads the connection.
fn answer_until_released(connection: &SyncConnection, name: &str, bring_forward: impl Fn()) {
    let own_name = connection.unique_name().to_string();
    loop {
        let message = match connection.channel().blocking_pop_message(Duration::from_secs(3600)) {
            Ok(Some(message)) => message,
            Ok(None) => continue,
            Err(error) => {
                log::warn!("the session bus closed; second starts are no longer answered: {error}");
                return;
            }
        };
        match what_is_asked(&message, &own_name) {
            Some(Asked::Focus) => {
                let _ = connection.send(message.method_return());
                bring_forward();
            }
            Some(Asked::Release) => {
                if let Err(error) = connection.release_name(name) {
                    log::warn!("cannot give up the one-instance name: {error}");
                }
                return;
            }
            None => {
                // Anything else (introspection, ping, an unknown method) gets the standard answer;
                // signals such as NameAcquired need none.
                if let Some(reply) = dbus::channel::default_reply(&message) {
                    let _ = connection.send(reply);
                }
            }
        }
    }
}

#[derive(Debug, PartialEq)]
enum Asked {
    Focus,
    Release,
}

/// A call on our object: Focus from anyone, Release only from this connection itself.
fn what_is_asked(message: &Message, own_name: &str) -> Option<Asked> {
    if message.msg_type() != MessageType::MethodCall
        || message.path().as_deref() != Some(OBJECT_PATH)
        || message.interface().as_deref() != Some(INTERFACE)
    {
        return None;
    }
    match message.member().as_deref() {
        Some(FOCUS) => Some(Asked::Focus),
        Some(RELEASE) if message.sender().as_deref() == Some(own_name) => Some(Asked::Release),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(member: &str, sender: &str) -> Message {
        let mut message = Message::new_method_call("no.unlocdesk.desktop", OBJECT_PATH, INTERFACE, member).unwrap();
        message.set_sender(Some(sender.into()));
        message
    }

    #[test]
    fn anyone_may_ask_for_the_window_but_only_the_owner_may_give_the_name_up() {
        assert_eq!(what_is_asked(&call(FOCUS, ":1.9"), ":1.4"), Some(Asked::Focus));
        assert_eq!(what_is_asked(&call(RELEASE, ":1.4"), ":1.4"), Some(Asked::Release));
        assert_eq!(what_is_asked(&call(RELEASE, ":1.9"), ":1.4"), None);
        assert_eq!(what_is_asked(&call("Quit", ":1.4"), ":1.4"), None);
        let elsewhere = Message::new_method_call("no.unlocdesk.desktop", "/elsewhere", INTERFACE, FOCUS).unwrap();
        assert_eq!(what_is_asked(&elsewhere, ":1.4"), None);
    }
}
