//! What a user does with keys: create, revoke, refresh, add by id, list. No Tauri here.

use chrono::{DateTime, Utc};

use crate::api::ApiError;
use crate::error::{AppError, ErrorKind, Result};
use crate::keys::follow::check_key;
use crate::keys::new_key;
use crate::keys::KeyView;
use crate::session::Sessions;
use crate::store::CreatedKeyRecord;

pub async fn list(sessions: &Sessions, lock_id: Option<&str>) -> Result<Vec<KeyView>> {
    sessions.account().await?.key_views(lock_id).map_err(store_error)
}

/// Creates a key after checking what the user typed; it is remembered at once (the API cannot
/// list keys) and followed until it settles.
pub async fn create(
    sessions: &Sessions,
    lock_id: &str,
    msn: &str,
    start: Option<DateTime<Utc>>,
    end: Option<DateTime<Utc>>,
    route: Option<&str>,
) -> Result<KeyView> {
    let new_key = new_key::validate(lock_id, msn, start, end, route, Utc::now())?;
    let account = sessions.account().await?;
    let request = new_key.clone();
    let created = sessions.call(|client| async move { client.create_key(&request).await }).await?;
    let record = CreatedKeyRecord {
        id: &created.id,
        lock_id: &new_key.lock_id,
        msn: new_key.msn.as_deref(),
        route: new_key.route.as_deref(),
        start: new_key.start,
        end: new_key.end,
    };
    let now = Utc::now();
    account
        .with_store(|store| {
            store.remember_created_key(&record, now)?;
            store.schedule_check(
                &created.id,
                Some(now + chrono::Duration::from_std(sessions.policy().first_wait).unwrap_or_default()),
            )
        })
        .map_err(store_error)?;
    let view = account
        .key_view(&created.id)
        .map_err(store_error)?
        .ok_or_else(|| AppError::internal("the new key was not stored"))?;
    sessions.wake_follow_up().await;
    sessions.announce(std::slice::from_ref(&view));
    Ok(view)
}

/// Revokes a key. Unloc answers 409 when it already was: that is shown as revoked, not as an error.
pub async fn revoke(sessions: &Sessions, key_id: &str) -> Result<KeyView> {
    let account = sessions.account().await?;
    let id = key_id.to_owned();
    let already_revoked = match sessions.call(|client| async move { client.revoke_key(&id).await }).await {
        Ok(()) => false,
        Err(error) if error.kind == ErrorKind::Conflict => true,
        Err(error) => return Err(error),
    };
    account.with_store(|store| store.record_revoked(key_id, Utc::now())).map_err(store_error)?;
    let mut view = account
        .key_view(key_id)
        .map_err(store_error)?
        .ok_or_else(|| AppError::new(ErrorKind::NotFound, "this key is not known here"))?;
    sessions.announce(std::slice::from_ref(&view));
    view.already_revoked = Some(already_revoked);
    Ok(view)
}

/// Asks Unloc now about every unsettled key (of one lock, or all).
pub async fn refresh(sessions: &Sessions, lock_id: Option<&str>) -> Result<Vec<KeyView>> {
    let account = sessions.account().await?;
    let client = sessions.client().await?;
    let unsettled: Vec<String> = account
        .key_views(lock_id)
        .map_err(store_error)?
        .into_iter()
        .filter(|view| !view.settled)
        .map(|view| view.id)
        .collect();
    let mut changed = Vec::new();
    for key_id in unsettled {
        match check_key(&client, &account, sessions.policy(), &key_id).await {
            Ok(Some((view, before))) => {
                sessions.status_changed(&view, before);
                changed.push(view);
            }
            Ok(None) | Err(ApiError::NotFound) => {}
            Err(ApiError::Unauthorized) => {
                sessions.forget_rejected_token().await;
                return Err(ApiError::Unauthorized.into());
            }
            Err(error) => return Err(error.into()),
        }
    }
    sessions.announce(&changed);
    list(sessions, lock_id).await
}

/// Follows a key created elsewhere: fetched once by id, then remembered.
pub async fn add(sessions: &Sessions, key_id: &str) -> Result<KeyView> {
    let key_id = key_id.trim();
    if key_id.is_empty() || key_id.len() > 200 || key_id.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::invalid_input(
            "keyId",
            "a key id is one word, like 117ec32d-5ac3-422b-82de-cbb64540bffd",
        ));
    }
    let account = sessions.account().await?;
    let id = key_id.to_owned();
    let key = sessions.call(|client| async move { client.get_key(&id).await }).await?;
    let now = Utc::now();
    let stored = account
        .with_store(|store| {
            store.remember_added_key(&key, now)?;
            store.key(&key.id)
        })
        .map_err(store_error)?
        .ok_or_else(|| AppError::internal("the key was not stored"))?;
    let view = account.view(&stored);
    let next = sessions.policy().next_check(view.status, &stored, now);
    account.with_store(|store| store.schedule_check(&stored.id, next)).map_err(store_error)?;
    sessions.wake_follow_up().await;
    sessions.announce(std::slice::from_ref(&view));
    Ok(view)
}

fn store_error(error: crate::store::StoreError) -> AppError {
    AppError::internal(error.to_string())
}
