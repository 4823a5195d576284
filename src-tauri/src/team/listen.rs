//! Live updates: a connection of its own that LISTENs on `unloc_desk_keys` (announced by the
//! trigger of schema version 2 on every key written) and hands on the ids of this account's keys,
//! so a key created on one desk reaches the others at once.

use secrecy::SecretString;
use serde::Deserialize;
use tokio::sync::mpsc;
use tokio_postgres::AsyncMessage;

use super::connect::{client_config, explain};
use super::{Scope, TeamResult, TeamSettings};

/// The channel the schema's trigger announces key writes on.
const KEYS_CHANNEL: &str = "unloc_desk_keys";

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Announced {
    partner_id: String,
    api_base: String,
    key_id: String,
}

/// The ids of keys written by any desk (this one too) in one partner account, as they are written.
/// Dropping it closes its connection.
pub struct KeyChanges {
    // Kept so the connection stays open; it is used only to LISTEN.
    _client: tokio_postgres::Client,
    changed: mpsc::UnboundedReceiver<String>,
}

impl KeyChanges {
    /// The next key id; `None` once the connection is gone (the caller reconnects).
    pub async fn next(&mut self) -> Option<String> {
        self.changed.recv().await
    }

    /// The ids already heard and not yet taken, without waiting.
    pub fn ready(&mut self) -> Vec<String> {
        std::iter::from_fn(|| self.changed.try_recv().ok()).collect()
    }
}

pub async fn listen(settings: &TeamSettings, password: &SecretString, scope: Scope) -> TeamResult<KeyChanges> {
    let (config, tls) = client_config(settings, password)?;
    let (client, mut connection) = config.connect(tls).await.map_err(|error| explain(&error))?;
    let (sender, changed) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(note))) => {
                    let Ok(announced) = serde_json::from_str::<Announced>(note.payload()) else {
                        log::warn!("team database: an announcement on {KEYS_CHANNEL} could not be read");
                        continue;
                    };
                    let ours = announced.partner_id == scope.partner_id && announced.api_base == scope.api_base;
                    if ours && sender.send(announced.key_id).is_err() {
                        break; // nobody listens any more
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => {
                    log::warn!("team database: the live connection ended: {error}");
                    break;
                }
                None => break,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {KEYS_CHANNEL}")).await.map_err(|error| explain(&error))?;
    Ok(KeyChanges { _client: client, changed })
}
