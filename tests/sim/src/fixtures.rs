//! The fixed locks at the start of every dataset, whatever the seed: tests (unit, client, end-to-end)
//! address them by these constants.
//!
//! Order matters: they are served first, in this order, and `--locks N` with N below
//! [`FIXTURE_COUNT`] serves only the first N of them.

/// The seed document's first example: opt-out, with the full address `Parkveien 4, 0351 Oslo, no`.
pub const HJEMME_LOCK_ID: &str = "danalock-00:00:00:00:00:01";
/// Name of [`HJEMME_LOCK_ID`].
pub const HJEMME_NAME: &str = "Hjemme";

/// The seed document's second example: opt-out, no address keys at all.
pub const HOVEDINNGANG_LOCK_ID: &str = "doora-00:00:00:00:00:01";
/// Name of [`HOVEDINNGANG_LOCK_ID`].
pub const HOVEDINNGANG_NAME: &str = "Hovedinngang";

/// The seed document's events example uses this upper-case UUID lock id. Opt-in, with an address.
pub const UUID_LOCK_ID: &str = "BA193202-3CB2-4AC7-8045-D41668A009BB";
/// Name of [`UUID_LOCK_ID`].
pub const UUID_LOCK_NAME: &str = "Kontor 3. etg";

/// An opt-in lock whose owner-written texts try to inject markup: the UI must show them as text.
/// A successful injection sets `window.__pwned`.
pub const HOSTILE_LOCK_ID: &str = "danalock-66:6f:6f:00:00:01";
/// Name of [`HOSTILE_LOCK_ID`].
pub const HOSTILE_NAME: &str = r#"<img src=x onerror="window.__pwned=1">Bakdør <script>window.__pwned=1</script>"#;
/// Street of [`HOSTILE_LOCK_ID`].
pub const HOSTILE_STREET: &str = r#""><svg onload=window.__pwned=1>"#;
/// Partner data of [`HOSTILE_LOCK_ID`] (looks like already-escaped HTML; must be shown verbatim).
pub const HOSTILE_DATA: &str = "<b>kunde</b>&amp;";
/// Name of [`HOSTILE_LOCK_ID`] when the simulator runs without the hostile lock (`--no-hostile-lock`, the demo).
pub const PLAIN_BACK_DOOR_NAME: &str = "Bakdør";
/// Street of [`HOSTILE_LOCK_ID`] without the hostile lock.
pub const PLAIN_BACK_DOOR_STREET: &str = "Sannergata 2";
/// Person name used by some events of [`HOSTILE_LOCK_ID`] (event names are user-written too).
pub const HOSTILE_PERSON_NAME: &str = r#"<script>window.__pwned=1</script>Ola "Nordmann""#;

/// An opt-out lock with empty partner data (`"data": ""`) and no address.
pub const EMPTY_DATA_LOCK_ID: &str = "danalock-00:00:00:00:00:02";
/// Name of [`EMPTY_DATA_LOCK_ID`].
pub const EMPTY_DATA_NAME: &str = "Vaskerom";

/// An opt-out lock that has no events at all (empty states).
pub const EMPTY_EVENTS_LOCK_ID: &str = "doora-00:00:00:00:00:02";
/// Name of [`EMPTY_EVENTS_LOCK_ID`].
pub const EMPTY_EVENTS_NAME: &str = "Bod 12";

/// An opt-in lock whose id contains `/` (must travel as `%2F` in a path) besides `:`.
pub const SLASH_LOCK_ID: &str = "nokkelboks-7/B:12";
/// Name of [`SLASH_LOCK_ID`] (non-ASCII on purpose).
pub const SLASH_LOCK_NAME: &str = "Nøkkelboks 7/B";

/// The lock that gets `busy_lock_events` events when that is above zero (else the usual number).
pub const BUSY_LOCK_ID: &str = "danalock-0b:05:e0:00:00:01";
/// Name of [`BUSY_LOCK_ID`].
pub const BUSY_LOCK_NAME: &str = "Hovedinngang Storgata 1";

/// An opt-out lock whose lock holder's vendor connection is broken: it is listed and has events, but
/// `POST /keys` on it answers 403.
pub const BROKEN_VENDOR_LOCK_ID: &str = "danalock-de:ad:00:00:00:01";
/// Name of [`BROKEN_VENDOR_LOCK_ID`].
pub const BROKEN_VENDOR_LOCK_NAME: &str = "Søppelrom";

/// How many fixed locks precede the generated ones.
pub const FIXTURE_COUNT: usize = 9;

/// The ids of all fixtures, in served order.
pub const FIXTURE_IDS: [&str; FIXTURE_COUNT] = [
    HJEMME_LOCK_ID,
    HOVEDINNGANG_LOCK_ID,
    UUID_LOCK_ID,
    HOSTILE_LOCK_ID,
    EMPTY_DATA_LOCK_ID,
    EMPTY_EVENTS_LOCK_ID,
    SLASH_LOCK_ID,
    BUSY_LOCK_ID,
    BROKEN_VENDOR_LOCK_ID,
];

/// The ids of the fixtures that are opt-in (the rest are opt-out).
pub const OPT_IN_FIXTURE_IDS: [&str; 3] = [UUID_LOCK_ID, HOSTILE_LOCK_ID, SLASH_LOCK_ID];

/// Default partner id (`--partner-id`).
pub const DEFAULT_PARTNER_ID: &str = "demo-partner";
/// Default partner display name (`--partner-name`), used as `name` of the partner's own events.
pub const DEFAULT_PARTNER_NAME: &str = "Renhold Nord AS";
