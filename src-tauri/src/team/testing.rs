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

/// A TCP relay in front of the server that a test can cut and restore on the same port: the
/// server "stops" for the desks behind it (refused connections, live ones dropped) and comes back.
pub struct Relay {
    pub port: u16,
    target: std::net::SocketAddr,
    running: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Relay {
    pub async fn start(server: &Server) -> std::sync::Arc<Relay> {
        let target = format!("{}:{}", server.host, server.port).parse().unwrap();
        let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = probe.local_addr().unwrap().port();
        drop(probe);
        let relay = std::sync::Arc::new(Relay { port, target, running: std::sync::Mutex::new(None) });
        relay.restore().await;
        relay
    }

    /// Settings through the relay.
    pub fn settings(&self, settings: &TeamSettings) -> TeamSettings {
        TeamSettings { port: self.port, ..settings.clone() }
    }

    /// Stops accepting and drops every relayed connection.
    pub fn cut(&self) {
        if let Some(task) = self.running.lock().unwrap().take() {
            task.abort();
        }
    }

    /// Accepts again, on the same port.
    pub async fn restore(&self) {
        let socket = tokio::net::TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(([127, 0, 0, 1], self.port).into()).unwrap();
        let listener = socket.listen(64).unwrap();
        let target = self.target;
        let task = tokio::spawn(async move {
            let mut pipes = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                pipes.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
            // Dropping the JoinSet (when this task is aborted) aborts every pipe.
        });
        *self.running.lock().unwrap() = Some(task);
    }
}
