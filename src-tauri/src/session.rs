//! The signed-in partner — its API client and its local data — and nothing else.
//!
//! How a session is made (the token check, the keychain, the local store, the key follow-up)
//! is `access`'s business; every domain module takes a session without knowing how it was made.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::RwLock;

use crate::account::Account;
use crate::api::{ApiClient, ApiError};
use crate::error::{AppError, Result};
use crate::sync::lock;
use crate::team::TeamLink;

/// One signed-in partner: the API client that carries its token, its local data, and — in team
/// mode — its link to the office's shared database.
#[derive(Clone)]
pub struct Session {
    pub client: Arc<ApiClient>,
    pub account: Arc<Account>,
    /// The team database, when Settings → Team names one. Shared by every clone of the session:
    /// saving Settings → Team attaches (or detaches) it while the session goes on.
    pub team: Arc<TeamAttachment>,
}

impl Session {
    pub fn new(client: ApiClient, account: Arc<Account>) -> Self {
        Session { client: Arc::new(client), account, team: Arc::default() }
    }

    /// The team link, if this desk shares with an office; `None` for a desk on its own.
    pub fn team(&self) -> Option<Arc<TeamLink>> {
        self.team.get()
    }
}

/// Where a session's optional team link lives. The local store stays the default and the offline
/// cache either way: the link only adds the office's copy.
#[derive(Default)]
pub struct TeamAttachment {
    link: std::sync::Mutex<Option<Arc<TeamLink>>>,
}

impl TeamAttachment {
    pub fn get(&self) -> Option<Arc<TeamLink>> {
        lock(&self.link).clone()
    }

    /// Puts `link` in place of the one before (`None`: sharing stops); the one before stops its
    /// background work.
    pub fn set(&self, link: Option<Arc<TeamLink>>) {
        let before = std::mem::replace(&mut *lock(&self.link), link);
        if let Some(before) = before {
            before.stop();
        }
    }
}

/// The current session, if any.
#[derive(Default)]
pub struct Sessions {
    current: RwLock<Option<Session>>,
}

impl Sessions {
    pub async fn current(&self) -> Result<Session> {
        self.current.read().await.clone().ok_or_else(AppError::not_signed_in)
    }

    /// The current session without waiting, for code that may not wait (a notification about to
    /// be shown): `None` while a sign-in or sign-out holds the lock.
    pub fn current_now(&self) -> Option<Session> {
        self.current.try_read().ok().and_then(|current| current.clone())
    }

    /// Whether `session` (the same client, not merely the same partner) is the current one.
    pub async fn is_current(&self, session: &Session) -> bool {
        self.current.read().await.as_ref().is_some_and(|now| Arc::ptr_eq(&now.client, &session.client))
    }

    pub async fn is_signed_in(&self) -> bool {
        self.current.read().await.is_some()
    }

    /// Makes `session` the current one, in place of any before it.
    pub async fn begin(&self, session: Session) {
        let before = self.current.write().await.replace(session);
        if let Some(before) = before {
            before.team.set(None);
        }
    }

    /// Ends the current session and hands it back (to forget its token).
    pub async fn end(&self) -> Option<Session> {
        let ended = self.current.write().await.take();
        if let Some(ended) = &ended {
            ended.team.set(None);
        }
        ended
    }

    /// Ends the current session only if it is `session` (the same client, not merely the same
    /// partner): a late answer to a session that is already gone must not end its successor.
    pub async fn end_if_current(&self, session: &Session) -> Option<Session> {
        self.end_if_current_and(session, || {}).await
    }

    /// [`Self::end_if_current`], running `as_it_ends` while no one can see the sessions: whoever
    /// looks next finds the session gone and what `as_it_ends` did, never one without the other.
    pub async fn end_if_current_and(&self, session: &Session, as_it_ends: impl FnOnce()) -> Option<Session> {
        let mut current = self.current.write().await;
        match &*current {
            Some(now) if Arc::ptr_eq(&now.client, &session.client) => {
                as_it_ends();
                let ended = current.take();
                if let Some(ended) = &ended {
                    ended.team.set(None);
                }
                ended
            }
            _ => None,
        }
    }
}

/// Told when Unloc rejects the token of `session` (401): its kept token is no good any more.
/// The layer that owns the keychain passes it down; the modules below only call it.
pub trait TokenRejected: Send + Sync {
    fn token_rejected<'a>(&'a self, session: &'a Session) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>>;
}

/// A session and whom to tell when Unloc rejects its token: what a domain action needs to call the API.
pub struct Caller<'a> {
    session: Session,
    on_rejected: &'a dyn TokenRejected,
}

impl<'a> Caller<'a> {
    pub fn new(session: Session, on_rejected: &'a dyn TokenRejected) -> Self {
        Caller { session, on_rejected }
    }

    pub fn client(&self) -> &Arc<ApiClient> {
        &self.session.client
    }

    pub fn account(&self) -> &Arc<Account> {
        &self.session.account
    }

    /// The session's team link, if it shares with an office.
    pub fn team(&self) -> Option<Arc<TeamLink>> {
        self.session.team()
    }

    /// Unloc answered 401 to a call made outside `call`.
    pub async fn token_rejected(&self) {
        self.on_rejected.token_rejected(&self.session).await;
    }

    /// Runs an API call with the session's client. A 401 means the kept token is no longer
    /// good (rotated or revoked): the hook removes it so the next start does not try it again.
    pub async fn call<T, F, Fut>(&self, request: F) -> Result<T>
    where
        F: FnOnce(Arc<ApiClient>) -> Fut,
        Fut: Future<Output = std::result::Result<T, ApiError>>,
    {
        match request(Arc::clone(&self.session.client)).await {
            Ok(value) => Ok(value),
            Err(ApiError::Unauthorized) => {
                self.token_rejected().await;
                Err(ApiError::Unauthorized.into())
            }
            Err(error) => Err(error.into()),
        }
    }
}
