//! One instance per desktop session on Linux, over the session bus with the `dbus` crate that
//! tao, keyring and notify-rust already link (the single-instance plugin brought a second D-Bus
//! stack, zbus, for this alone).
//!
//! The first start owns a well-known name on the session bus. A second start finds the name
//! taken, asks its owner to bring its window forward, and exits. The owner gives the name up as
//! soon as the app decides to close, so a start in the next second becomes the new instance.

use std::sync::atomic::{AtomicBool, Ordering};
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

/// How long a second start waits for the owner to answer, and the owner for its own release.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const RELEASE_TIMEOUT: Duration = Duration::from_secs(2);
/// How often the answering thread looks up from the bus to see whether the app is closing: only
/// that thread reads the connection, and a message sent from another thread while it waits would
/// not go out until something arrived.
const LOOK_UP_EVERY: Duration = Duration::from_millis(100);
/// A name can be given up between a second start's claim and its call; it then claims again.
const CLAIM_ATTEMPTS: usize = 3;
/// What the bus answers a call to a name nobody owns (any more).
const NOBODY_OWNS_IT: [&str; 2] =
    ["org.freedesktop.DBus.Error.ServiceUnknown", "org.freedesktop.DBus.Error.NameHasNoOwner"];

/// What a start found on the session bus.
pub enum Claim {
    /// This start owns the name: it is the instance.
    First(Instance),
    /// Another start owns the name and has been asked to bring its window forward (or did not
    /// answer: a second instance on the same files would be worse than no window).
    Second,
    /// No session bus (or it refused): the app starts without the one-instance check.
    NoBus(String),
}

/// The owned name, until [`Instance::release`].
pub struct Instance {
    connection: Arc<SyncConnection>,
    name: String,
    answering: Mutex<Option<mpsc::Receiver<()>>>,
    closing: Arc<AtomicBool>,
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
                return Claim::First(Instance {
                    connection,
                    name: name.to_owned(),
                    answering: Mutex::new(None),
                    closing: Arc::new(AtomicBool::new(false)),
                })
            }
            Ok(RequestNameReply::Exists | RequestNameReply::InQueue) => {}
            Err(error) => return Claim::NoBus(error.to_string()),
        }
        let proxy = connection.with_proxy(name, OBJECT_PATH, CALL_TIMEOUT);
        match proxy.method_call::<(), _, _, _>(INTERFACE, FOCUS, ()) {
            Ok(()) => return Claim::Second,
            // The owner went away between the two calls: claim again.
            Err(error) if error.name().is_some_and(|name| NOBODY_OWNS_IT.contains(&name)) => {
                last_problem = error.to_string();
            }
            Err(error) => {
                log::warn!("the running Unloc Desk did not answer ({error}); not starting a second one");
                return Claim::Second;
            }
        }
    }
    Claim::NoBus(format!("the name kept changing hands: {last_problem}"))
}

impl Instance {
    /// Answers second starts on a thread of its own: each one runs `bring_forward`. Calls that
    /// arrived before this wait in the connection's queue.
    pub fn answer(&self, bring_forward: impl Fn() + Send + 'static) {
        let (done, answering) = mpsc::channel();
        let connection = Arc::clone(&self.connection);
        let name = self.name.clone();
        let closing = Arc::clone(&self.closing);
        let started = std::thread::Builder::new().name("one-instance".into()).spawn(move || {
            answer_until_released(&connection, &name, &closing, bring_forward);
            let _ = done.send(());
        });
        match started {
            Ok(_) => *self.answering.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(answering),
            Err(error) => log::warn!("cannot answer second starts: {error}"),
        }
    }

    /// Gives the name up now (the app is closing): the answering thread, the only reader of the
    /// connection, sees the flag within [`LOOK_UP_EVERY`] and gives it up; this waits until it has.
    /// Again: nothing.
    pub fn release(&self) {
        let answering = self.answering.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
        let Some(answering) = answering else {
            return;
        };
        self.closing.store(true, Ordering::SeqCst);
        if answering.recv_timeout(RELEASE_TIMEOUT).is_err() {
            log::warn!("the one-instance name was not given up in time");
        }
    }
}

/// The answering loop: only this thread reads the connection. It ends when the app is closing
/// (the name given up) or the bus is gone.
fn answer_until_released(connection: &SyncConnection, name: &str, closing: &AtomicBool, bring_forward: impl Fn()) {
    while !closing.load(Ordering::SeqCst) {
        let message = match connection.channel().blocking_pop_message(LOOK_UP_EVERY) {
            Ok(Some(message)) => message,
            Ok(None) => continue,
            Err(error) => {
                log::warn!("the session bus closed; second starts are no longer answered: {error}");
                return;
            }
        };
        if asks_for_the_window(&message) {
            let _ = connection.send(message.method_return());
            bring_forward();
        } else if let Some(reply) = dbus::channel::default_reply(&message) {
            // Anything else (introspection, ping, an unknown method) gets the standard answer;
            // signals such as NameAcquired need none.
            let _ = connection.send(reply);
        }
    }
    if let Err(error) = connection.release_name(name) {
        log::warn!("cannot give up the one-instance name: {error}");
    }
}

/// A call on our object asking for the window (anyone on the session bus may).
fn asks_for_the_window(message: &Message) -> bool {
    message.msg_type() == MessageType::MethodCall
        && message.path().as_deref() == Some(OBJECT_PATH)
        && message.interface().as_deref() == Some(INTERFACE)
        && message.member().as_deref() == Some(FOCUS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(member: &str, sender: &str) -> Message {
        let mut message = Message::new_method_call("no.unlocdesk.desktop", OBJECT_PATH, INTERFACE, member).unwrap();
        message.set_sender(Some(sender.into()));
        message
    }

    /// On the real session bus (the test command runs inside one): a closing instance gives its
    /// name up at once, so a start right after it becomes the new instance instead of being sent
    /// to a window that is going away.
    #[test]
    fn a_closing_instance_gives_its_name_up_at_once() {
        let name = format!("no.unlocdesk.test.Instance{}", std::process::id());
        let first = match claim(&name) {
            Claim::First(instance) => instance,
            Claim::NoBus(problem) if std::env::var("UNLOC_REAL_KEYCHAIN").as_deref() != Ok("1") => {
                log::warn!("skipped: no session bus ({problem}); tests/scripts/with-desktop.sh has one");
                return;
            }
            Claim::NoBus(problem) => panic!("no session bus: {problem}"),
            Claim::Second => panic!("{name} is taken before the test took it"),
        };
        let asked = Arc::new(AtomicBool::new(false));
        let seen = Arc::clone(&asked);
        first.answer(move || seen.store(true, Ordering::SeqCst));
        assert!(matches!(claim(&name), Claim::Second), "a second start while the first runs");
        // The answer goes out before the window is brought forward: wait for that.
        let asked_by = std::time::Instant::now() + Duration::from_secs(5);
        while !asked.load(Ordering::SeqCst) && std::time::Instant::now() < asked_by {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(asked.load(Ordering::SeqCst), "the first was asked for its window");
        let closing = std::time::Instant::now();
        first.release();
        assert!(closing.elapsed() < Duration::from_secs(1), "giving the name up took {:?}", closing.elapsed());
        match claim(&name) {
            Claim::First(next) => next.release(),
            Claim::Second => panic!("a start right after the close was sent to the closed instance"),
            Claim::NoBus(problem) => panic!("{problem}"),
        }
    }

    #[test]
    fn only_a_focus_call_on_our_object_asks_for_the_window() {
        assert!(asks_for_the_window(&call(FOCUS, ":1.9")));
        assert!(!asks_for_the_window(&call("Release", ":1.9")));
        assert!(!asks_for_the_window(&call("Quit", ":1.4")));
        let elsewhere = Message::new_method_call("no.unlocdesk.desktop", "/elsewhere", INTERFACE, FOCUS).unwrap();
        assert!(!asks_for_the_window(&elsewhere));
    }
}
