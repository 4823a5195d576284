//! Opening a connection to the team database, and naming what went wrong.

use std::sync::Arc;
use std::time::Duration;

use rustls::ClientConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use rustls_platform_verifier::BuilderVerifierExt;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use tokio_postgres::config::SslMode;
use tokio_postgres::error::SqlState;
use tokio_postgres_rustls::MakeRustlsConnect;

use super::schema::{self, SchemaState};
use super::{check_settings, TeamError, TeamProblem, TeamResult, TeamSettings, TeamTls};

/// How long a connection attempt may take before the server counts as unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The client library's settings for `settings`, and the TLS connector to use with them.
pub(crate) fn client_config(
    settings: &TeamSettings,
    password: &SecretString,
) -> TeamResult<(tokio_postgres::Config, MakeRustlsConnect)> {
    check_settings(settings)?;
    let mut config = tokio_postgres::Config::new();
    config
        .host(settings.host.trim())
        .port(settings.port)
        .dbname(settings.database.trim())
        .user(settings.user.trim())
        .password(password.expose_secret().as_bytes())
        .application_name("Unloc Desk")
        .connect_timeout(CONNECT_TIMEOUT)
        .ssl_mode(match settings.tls {
            TeamTls::Off => SslMode::Disable,
            TeamTls::VerifyFull => SslMode::Require,
        });
    Ok((config, MakeRustlsConnect::new(tls_config(settings.ca_file.as_deref())?)))
}

/// rustls checks the certificate chain and that it names the host (verify-full): against the CA
/// file when there is one, else against the authorities the computer trusts.
fn tls_config(ca_file: Option<&str>) -> TeamResult<ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TeamError::new(TeamProblem::Other, format!("TLS set-up: {error}")))?;
    let builder = match ca_file.map(str::trim).filter(|path| !path.is_empty()) {
        Some(path) => {
            let unreadable = |detail: String| TeamError::new(TeamProblem::CaFileUnreadable, detail);
            let mut roots = rustls::RootCertStore::empty();
            let certificates = CertificateDer::pem_file_iter(path)
                .map_err(|error| unreadable(format!("CA file {path}: {error}")))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|error| unreadable(format!("CA file {path}: {error}")))?;
            let (added, _) = roots.add_parsable_certificates(certificates);
            if added == 0 {
                return Err(unreadable(format!("CA file {path} holds no certificate")));
            }
            builder.with_root_certificates(roots)
        }
        None => builder.with_platform_verifier().map_err(|error| {
            TeamError::new(TeamProblem::Other, format!("the computer's trusted authorities: {error}"))
        })?,
    };
    Ok(builder.with_no_client_auth())
}

/// One connection, its driver running on the current runtime until the client is dropped.
pub async fn connect(settings: &TeamSettings, password: &SecretString) -> TeamResult<tokio_postgres::Client> {
    let (config, tls) = client_config(settings, password)?;
    let (client, connection) = config.connect(tls).await.map_err(|error| explain(&error))?;
    tokio::spawn(async move {
        if let Err(error) = connection.await {
            log::warn!("team database connection ended: {error}");
        }
    });
    Ok(client)
}

/// What "Test connection" found: the server reached, the schema brought up to date (or found
/// newer than this app), or the one problem that stopped it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamCheck {
    /// `ok`, or a [`TeamProblem`] kind (`wrongPassword`, `schemaNewer`…).
    pub outcome: &'static str,
    /// For support: what the server or the client library said (never the password).
    pub detail: Option<String>,
    pub schema_version: Option<i32>,
}

/// Connects, brings the shared schema up to date and reports, as "Test connection" shows it.
pub async fn test_connection(settings: &TeamSettings, password: &SecretString) -> TeamCheck {
    let result = async {
        let mut client = connect(settings, password).await?;
        schema::migrate(&mut client).await
    }
    .await;
    match result {
        Ok(SchemaState::Current(version)) => TeamCheck { outcome: "ok", detail: None, schema_version: Some(version) },
        Ok(SchemaState::Newer { found, known }) => TeamCheck {
            outcome: TeamProblem::SchemaNewer.as_str(),
            detail: Some(format!("the shared schema is version {found}; this app knows up to {known}")),
            schema_version: Some(found),
        },
        Err(error) => TeamCheck { outcome: error.problem.as_str(), detail: Some(error.detail), schema_version: None },
    }
}

/// Names a client library error: the server's SQLSTATE where it answered, else the transport
/// failure (no answer, TLS) found down the chain of causes.
pub(crate) fn explain(error: &tokio_postgres::Error) -> TeamError {
    TeamError::new(problem_of(error), describe(error))
}

fn problem_of(error: &tokio_postgres::Error) -> TeamProblem {
    if let Some(db) = error.as_db_error() {
        let code = db.code();
        return if *code == SqlState::INVALID_PASSWORD {
            TeamProblem::WrongPassword
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            TeamProblem::DatabaseMissing
        } else if *code == SqlState::INSUFFICIENT_PRIVILEGE {
            TeamProblem::NoRights
        } else if [SqlState::ADMIN_SHUTDOWN, SqlState::CRASH_SHUTDOWN, SqlState::CANNOT_CONNECT_NOW].contains(code) {
            // The server is stopping, restarting or still starting: for this desk it is out of
            // reach for now, and the next round connects again.
            TeamProblem::Unreachable
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION {
            // pg_hba.conf's refusals end ", no encryption" when an encrypted connection would have
            // been let in (or at least judged by another line).
            if db.message().ends_with("no encryption") {
                TeamProblem::TlsRequiredByServer
            } else {
                TeamProblem::NotAllowedFromHere
            }
        } else {
            TeamProblem::Other
        };
    }
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = cause {
        if current.downcast_ref::<rustls::Error>().is_some() {
            return TeamProblem::CertificateNotTrusted;
        }
        if let Some(io) = current.downcast_ref::<std::io::Error>() {
            // tokio-rustls hands rustls' verdict over inside an io::Error.
            if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
                return TeamProblem::CertificateNotTrusted;
            }
            return TeamProblem::Unreachable;
        }
        if current.to_string() == "server does not support TLS" {
            return TeamProblem::TlsNotOffered;
        }
        cause = current.source();
    }
    if error.is_closed() {
        TeamProblem::Unreachable
    } else {
        TeamProblem::Other
    }
}

/// The error and its causes on one line ("error connecting to server: Connection refused").
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(db) = error.as_db_error() {
        return format!("{} ({})", db.message(), db.code().code());
    }
    let mut text = error.to_string();
    let mut cause = std::error::Error::source(error);
    while let Some(current) = cause {
        let said = current.to_string();
        if !text.contains(&said) {
            text = format!("{text}: {said}");
        }
        cause = current.source();
    }
    text
}
