//! Team mode: several desks of one office sharing keys through a PostgreSQL server the office
//! runs or rents. The embedded SQLite store stays the default; a single desk needs none of this.
//!
//! `connect` opens a connection and names what went wrong in words an IT person can act on
//! ([`TeamProblem`]); `schema` brings the shared schema up to date under an advisory lock;
//! `keys` is the shared key store, every row scoped by partner id and API address; `listen` hears
//! of keys other desks write, as they write them (LISTEN/NOTIFY); `lease` gives each piece of
//! background work (a key's checks, a lock's history sync) to one desk at a time; `archive` is the
//! office's copy of the events those syncs fetch; `people` the office's people directory; `link` is what a signed-in
//! session holds of all this (`session::TeamAttachment`): the settings, the password, the store
//! opened on first use, whether the server answers, and the background work that belongs to it.

mod archive;
mod connect;
mod keys;
mod lease;
mod link;
mod listen;
mod people;
mod schema;
mod setup;
#[cfg(test)]
pub(crate) mod testing;
#[cfg(test)]
mod tests;

use std::net::IpAddr;

use serde::{Deserialize, Serialize};

pub use archive::{SharedEvents, SharedPurge};
pub use connect::{connect, test_connection, TeamCheck};
pub use keys::{Author, TeamKeys};
pub use lease::{keep_renewed, Leases, Work, LEASE_TIME};
pub use link::{Reach, TeamLink};
pub use listen::{listen, KeyChanges};
pub use schema::{SchemaState, LATEST_SCHEMA};
pub use setup::TeamSettingsView;

/// Settings → Team's work: the view, "Test connection" and saving.
pub mod settings_form {
    pub use super::setup::{save, test, view};
}

/// Where the office's database is. The password is not here: it lives in the OS keychain under
/// [`password_account`], and never in the settings file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamSettings {
    pub host: String,
    pub port: u16,
    pub database: String,
    pub user: String,
    pub tls: TeamTls,
    /// The certificate authority (PEM) the IT person gave, for servers whose certificate is not
    /// signed by one the computer already trusts. `None`: the computer's own trusted authorities.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// The name colleagues see on the keys this desk creates ("created by Anna on OFFICE-PC-2");
    /// `None`: the computer account's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub your_name: Option<String>,
}

/// How the connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TeamTls {
    /// No encryption: allowed only for a server on this computer (loopback).
    Off,
    /// TLS, with the server's certificate checked against its host name (libpq's `verify-full`).
    VerifyFull,
}

pub const DEFAULT_PORT: u16 = 5432;

/// The keychain account of the database password: the server, database and user it is for, so a
/// password is only ever sent to the server it was typed for.
pub fn password_account(settings: &TeamSettings) -> String {
    format!("team-database {}@{}:{}/{}", settings.user, settings.host, settings.port, settings.database)
}

/// A server on this computer: its traffic never leaves the machine, so TLS is optional there.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost") || host.parse::<IpAddr>().is_ok_and(|address| address.is_loopback())
}

/// Which partner account's rows a store reads and writes: two partners (or one partner at two
/// API addresses) can share a server without seeing each other's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub partner_id: String,
    pub api_base: String,
}

/// What went wrong with the team database, in terms of who can fix it and how. The UI words each
/// kind in English and Norwegian (`team.problem.*` in ui/locales).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TeamProblem {
    /// A field is missing or malformed (no host, no user…).
    InvalidSettings,
    /// No encryption chosen for a server on another computer: refused before connecting.
    TlsRequired,
    /// The server accepts this user only over TLS, and TLS was off.
    TlsRequiredByServer,
    /// TLS was asked for and the server does not offer it.
    TlsNotOffered,
    /// The server's certificate is not signed by a trusted authority, or names another host.
    CertificateNotTrusted,
    /// The CA file could not be read or holds no certificate.
    CaFileUnreadable,
    /// No server answered at that address and port (refused, timed out, unknown name).
    Unreachable,
    /// The server refused the user name or password.
    WrongPassword,
    /// No password typed, and none kept in the keychain for these settings.
    PasswordMissing,
    /// The server has no database of that name.
    DatabaseMissing,
    /// The user may not connect to the database, or may not create or change the app's tables.
    NoRights,
    /// The server's access rules (pg_hba.conf) do not let this user in from this computer.
    NotAllowedFromHere,
    /// The shared schema is newer than this app: team data is read-only until the app is updated.
    SchemaNewer,
    /// The connection was lost or something unexpected happened; the detail says what.
    Other,
}

impl TeamProblem {
    pub fn as_str(self) -> &'static str {
        match self {
            TeamProblem::InvalidSettings => "invalidSettings",
            TeamProblem::TlsRequired => "tlsRequired",
            TeamProblem::TlsRequiredByServer => "tlsRequiredByServer",
            TeamProblem::TlsNotOffered => "tlsNotOffered",
            TeamProblem::CertificateNotTrusted => "certificateNotTrusted",
            TeamProblem::CaFileUnreadable => "caFileUnreadable",
            TeamProblem::Unreachable => "unreachable",
            TeamProblem::WrongPassword => "wrongPassword",
            TeamProblem::PasswordMissing => "passwordMissing",
            TeamProblem::DatabaseMissing => "databaseMissing",
            TeamProblem::NoRights => "noRights",
            TeamProblem::NotAllowedFromHere => "notAllowedFromHere",
            TeamProblem::SchemaNewer => "schemaNewer",
            TeamProblem::Other => "other",
        }
    }
}

/// A team database failure: the kind, and an English detail for support. The detail comes from
/// the server or the client library, which never repeat the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("team database: {detail}")]
pub struct TeamError {
    pub problem: TeamProblem,
    pub detail: String,
}

impl TeamError {
    pub fn new(problem: TeamProblem, detail: impl Into<String>) -> Self {
        TeamError { problem, detail: detail.into() }
    }
}

pub type TeamResult<T> = Result<T, TeamError>;

/// Column `index` of a row the team database sent: a value of an unexpected type (a schema another
/// program changed) is an error naming the column, never a panic on a background task.
pub(crate) fn column<'a, T: tokio_postgres::types::FromSql<'a>>(
    row: &'a tokio_postgres::Row,
    index: usize,
) -> TeamResult<T> {
    row.try_get(index).map_err(|error| {
        let name = row.columns().get(index).map_or("?", |column| column.name());
        TeamError::new(
            TeamProblem::Other,
            format!("the team database sent a value this app cannot read ({name}): {error}"),
        )
    })
}

/// Checks the settings before anything is sent: every field present, and no plain connection to
/// another computer.
pub fn check_settings(settings: &TeamSettings) -> TeamResult<()> {
    for (name, value) in [("host", &settings.host), ("database", &settings.database), ("user", &settings.user)] {
        if value.trim().is_empty() {
            return Err(TeamError::new(TeamProblem::InvalidSettings, format!("the {name} is missing")));
        }
    }
    if settings.port == 0 {
        return Err(TeamError::new(TeamProblem::InvalidSettings, "the port is missing"));
    }
    if settings.tls == TeamTls::Off && !is_loopback(&settings.host) {
        return Err(TeamError::new(
            TeamProblem::TlsRequired,
            format!("{} is not this computer: the connection must use TLS", settings.host),
        ));
    }
    Ok(())
}
