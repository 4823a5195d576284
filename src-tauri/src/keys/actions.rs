//! What a user does with keys: create, revoke, refresh, add by id, list. No Tauri here.

use chrono::{DateTime, Utc};

use crate::api::{ApiError, Priority};
use crate::error::{AppError, ErrorKind, Result};
use crate::keys::follow::{check_key, FollowUp};
use crate::keys::{new_key, status, KeyView};
use crate::session::Caller;
use crate::store::{CreatedKeyRecord, KeyOrigin};
use crate::views::RevokeOutcome;

/// What the key actions need: the signed-in session (with whom to tell of a rejected token) and
/// the follow-up that hears of new keys and relays changes to the UI.
pub struct KeyContext<'a> {
    pub caller: Caller<'a>,
    pub follow_up: &'a FollowUp,
}

pub async fn list(keys: &KeyContext<'_>, lock_id: Option<&str>) -> Result<Vec<KeyView>> {
    Ok(status::views(keys.caller.account(), lock_id)?)
}

/// Creates a key after checking what the user typed; it is remembered at once (the API cannot
/// list keys) and followed until it settles.
pub async fn create(
    keys: &KeyContext<'_>,
    lock_id: &str,
    msn: &str,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    route: Option<&str>,
) -> Result<KeyView> {
    let new_key = new_key::validate(lock_id, msn, start, end, route, Utc::now())?;
    let account = keys.caller.account();
    let request = new_key.clone();
    let created = keys.caller.call(|client| async move { client.create_key(&request).await }).await?;
    let record = CreatedKeyRecord {
        id: &created.id,
        lock_id: &new_key.lock_id,
        msn: new_key.msn.as_deref(),
        route: new_key.route.as_deref(),
        start: new_key.start,
        end: new_key.end,
    };
    let now = Utc::now();
    let first_check = now + chrono::Duration::from_std(keys.follow_up.policy().first_wait).unwrap_or_default();
    account.with_store(|store| {
        store.remember_created_key(&record, now)?;
        store.schedule_check(&created.id, Some(first_check))
    })?;
    let view =
        status::view_by_id(account, &created.id)?.ok_or_else(|| AppError::internal("the new key was not stored"))?;
    keys.follow_up.wake();
    keys.follow_up.announce(std::slice::from_ref(&view));
    share_now(keys);
    Ok(view)
}

/// In team mode, sends what was just written to the office's database now (it is queued already,
/// and stays queued while the server cannot be reached).
fn share_now(keys: &KeyContext<'_>) {
    if let Some(team) = keys.caller.team() {
        team.nudge();
    }
}

/// Revokes a key. Unloc answers 409 when it already was: that is shown as revoked, not as an error.
pub async fn revoke(keys: &KeyContext<'_>, key_id: &str) -> Result<KeyView> {
    let account = keys.caller.account();
    let id = key_id.to_owned();
    let already_revoked = match keys.caller.call(|client| async move { client.revoke_key(&id).await }).await {
        Ok(()) => false,
        Err(error) if error.kind == ErrorKind::Conflict => true,
        Err(error) => return Err(error),
    };
    account.with_store(|store| store.record_revoked(key_id, Utc::now()))?;
    let mut view = status::view_by_id(account, key_id)?
        .ok_or_else(|| AppError::new(ErrorKind::NotFound, "this key is not known here"))?;
    keys.follow_up.announce(std::slice::from_ref(&view));
    share_now(keys);
    view.already_revoked = Some(already_revoked);
    Ok(view)
}

/// Asks Unloc now about every unsettled key this app follows (of one lock, or all).
pub async fn refresh(keys: &KeyContext<'_>, lock_id: Option<&str>) -> Result<Vec<KeyView>> {
    let account = keys.caller.account();
    // Keys seen only in histories are not asked about one by one (a busy lock names thousands):
    // the follow-up's slow history pace does that.
    let unsettled: Vec<String> = status::views(account, lock_id)?
        .into_iter()
        .filter(|view| !view.settled && view.origin != KeyOrigin::Events.as_str())
        .map(|view| view.id)
        .collect();
    let mut changed = Vec::new();
    for key_id in unsettled {
        match check_key(keys.caller.client(), account, keys.follow_up.policy(), &key_id, Priority::User).await {
            Ok(Some((view, before))) => {
                keys.follow_up.status_changed(&view, before);
                changed.push(view);
            }
            Ok(None) | Err(ApiError::NotFound) => {}
            Err(ApiError::Unauthorized) => {
                keys.caller.token_rejected().await;
                return Err(ApiError::Unauthorized.into());
            }
            Err(error) => return Err(error.into()),
        }
    }
    keys.follow_up.announce(&changed);
    list(keys, lock_id).await
}

/// Follows a key created elsewhere: fetched once by id, then remembered.
pub async fn add(keys: &KeyContext<'_>, key_id: &str) -> Result<KeyView> {
    let key_id = key_id.trim();
    if key_id.is_empty() || key_id.len() > 200 || key_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid_input(
            "keyId",
            "a key id is one word, like 117ec32d-5ac3-422b-82de-cbb64540bffd",
        ));
    }
    let account = keys.caller.account();
    let id = key_id.to_owned();
    let key = keys.caller.call(|client| async move { client.get_key(&id).await }).await?;
    let now = Utc::now();
    let stored = account
        .with_store(|store| {
            store.remember_added_key(&key, now)?;
            store.key(&key.id)
        })?
        .ok_or_else(|| AppError::internal("the key was not stored"))?;
    let view = status::view(account, &stored);
    let next = keys.follow_up.policy().next_check(view.status, &stored, now);
    account.with_store(|store| store.schedule_check(&stored.id, next))?;
    keys.follow_up.wake();
    keys.follow_up.announce(std::slice::from_ref(&view));
    share_now(keys);
    Ok(view)
}

/// Revokes each key in turn (through the same governor as every request) and says what became
/// of each: revoked, already revoked, or failed and why. After a rejected token or a lock-out
/// nothing more is sent: the keys left are reported failed with that reason.
pub async fn revoke_many(keys: &KeyContext<'_>, key_ids: &[String]) -> Vec<RevokeOutcome> {
    let mut outcomes = Vec::with_capacity(key_ids.len());
    let mut stopped: Option<AppError> = None;
    for key_id in key_ids {
        let result = match &stopped {
            Some(error) => Err(error.clone()),
            None => revoke(keys, key_id).await,
        };
        outcomes.push(match result {
            Ok(view) => RevokeOutcome {
                key_id: key_id.clone(),
                outcome: if view.already_revoked == Some(true) { "alreadyRevoked" } else { "revoked" },
                key: Some(view),
                error: None,
            },
            Err(error) => {
                if matches!(error.kind, ErrorKind::Unauthorized | ErrorKind::LockedOut) {
                    stopped = Some(error.clone());
                }
                let key = status::view_by_id(keys.caller.account(), key_id).ok().flatten();
                RevokeOutcome { key_id: key_id.clone(), outcome: "failed", key, error: Some(error) }
            }
        });
    }
    outcomes
}
