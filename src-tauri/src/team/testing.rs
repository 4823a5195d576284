//! For tests: the throwaway server `tests/scripts/with-postgres.sh` starts, and fresh roles and
//! databases on it.

use secrecy::SecretString;

use super::{TeamSettings, TeamTls};

pub struct Server {
    pub host: String,
    pub port: u16,
    pub admin_user: String,
    pub admin_password: String,
    pub ca_file: String,
    pub tls_only_user: String,
}

/// The throwaway server, or `None` (the test is skipped) when not run under with-postgres.sh.
/// The README's test command sets UNLOC_PG_REQUIRED=1, so there a missing server fails the run.
pub fn server() -> Option<Server> {
    let var = |name: &str| std::env::var(name).ok();
    let Some(host) = var("UNLOC_PG_HOST") else {
        assert!(
            var("UNLOC_PG_REQUIRED").as_deref() != Some("1"),
            "UNLOC_PG_REQUIRED=1 but no server: run inside tests/scripts/with-postgres.sh"
        );
        log::warn!("skipped: the team database tests run inside tests/scripts/with-postgres.sh");
        return None;
    };
    let required = |name: &str| var(name).unwrap_or_else(|| panic!("{name} is not set by with-postgres.sh"));
    Some(Server {
        host,
        port: required("UNLOC_PG_PORT").parse().expect("UNLOC_PG_PORT is a port"),
        admin_user: required("UNLOC_PG_ADMIN_USER"),
        admin_password: required("UNLOC_PG_ADMIN_PASSWORD"),
        ca_file: required("UNLOC_PG_CA_FILE"),
        tls_only_user: required("UNLOC_PG_TLS_ONLY_USER"),
    })
}

/// A name no other test (or run) uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}_{}_{:08x}", std::process::id(), fastrand::u32(..))
}

impl Server {
    /// Settings for `user` on `database`, unencrypted (the server is on loopback).
    pub fn settings(&self, database: &str, user: &str) -> TeamSettings {
        TeamSettings {
            host: self.host.clone(),
            port: self.port,
            database: database.to_owned(),
            user: user.to_owned(),
            tls: TeamTls::Off,
            ca_file: None,
            your_name: None,
        }
    }

    /// The superuser, connected to `database`.
    pub async fn admin(&self, database: &str) -> tokio_postgres::Client {
        let settings = self.settings(database, &self.admin_user);
        super::connect(&settings, &SecretString::from(self.admin_password.clone())).await.expect("admin connection")
    }

    /// A new role with a password, and a new database it owns: what the README's snippet makes.
    pub async fn fresh_database(&self) -> (TeamSettings, SecretString) {
        let (role, database) = (unique("desk"), unique("office"));
        let password = unique("pw");
        let admin = self.admin("postgres").await;
        admin.batch_execute(&format!("CREATE ROLE {role} LOGIN PASSWORD '{password}'")).await.unwrap();
        admin.batch_execute(&format!("CREATE DATABASE {database} OWNER {role}")).await.unwrap();
        (self.settings(&database, &role), SecretString::from(password))
    }
}
