//! Getting in and out: sign-in, the silent sign-in at start, sign-out, and a token Unloc rejects.
//!
//! This is where a session is put together from the pieces below it — the token checked against
//! the API, the keychain, the environment's defaults, the account's local store, the key
//! follow-up — and handed to `Sessions`. No Tauri here: tested with a memory keychain.

use std::future::Future;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use chrono::Utc;
use secrecy::{ExposeSecret, SecretString};

use crate::account::Account;
use crate::activity::sync::{ArchiveSync, Retention, SyncPolicy};
use crate::api::{ApiBase, ApiClient, ApiError, ClientConfig, LockList, PartnerId};
use crate::environment::EnvDefaults;
use crate::error::{AppError, ErrorKind, Result};
use crate::keys::actions::KeyContext;
use crate::keys::follow::{FollowPolicy, FollowUp, KeyObserver};
use crate::secrets::{legacy_token_account, token_account, Keychain, SecretStore};
use crate::session::{Caller, Session, Sessions, TokenRejected};
use crate::settings::Settings;
use crate::sync::lock;
use crate::team::{password_account, Author, Scope, TeamLink, TeamSettings};
use crate::timing::{ms, TIMING};
use crate::views::{SessionInfo, Startup};

/// The start-up begun at launch ([`Access::start_early`]): the settings it began from, and its reply.
struct EarlyStart {
    settings: Settings,
    started: tokio::task::JoinHandle<Started>,
}

/// A start-up reply; the session it says is signed in (a reply kept for later is handed over only
/// while that session is still the current one); and, when it carries the saved locks, how many
/// lists the account had saved then (a newer list saved since is read again before the reply goes).
struct Started {
    reply: Startup,
    session: Option<Session>,
    locks_read: Option<u64>,
}

pub struct Access {
    sessions: Sessions,
    keychain: Keychain,
    env: EnvDefaults,
    tune: fn(ClientConfig) -> ClientConfig,
    /// Where each account's database lives; `None` keeps them in memory (tests).
    store_dir: Option<PathBuf>,
    follow_up: FollowUp,
    /// The activity archive's background sync of the signed-in account.
    archive: ArchiveSync,
    /// Something the user should hear about opening the local store (a damaged file was replaced).
    notice: Mutex<Option<AppError>>,
    /// The start-up begun at launch, until the page's first `startup_for_page` takes it.
    early: Mutex<Option<EarlyStart>>,
    /// Held by a start-up while it runs (see `start`).
    starting: tokio::sync::Mutex<()>,
    /// The client of the last session a 401 ended (`token_rejected`): a start-up reply kept for later
    /// that names that session tells the page why it is signed out.
    rejected: Mutex<Option<std::sync::Weak<ApiClient>>>,
    /// The partner and address (as `token_account` names them) whose token a 401 ended, until a
    /// sign-in or sign-out: a page reloaded after it is told why it is signed out, not shown a
    /// sign-in form with no reason.
    rejected_account: Mutex<Option<String>>,
    /// How many start-ups ran, and how many account databases were opened (the tests count them).
    starts: AtomicU64,
    opens: AtomicU64,
}

impl Access {
    pub fn new(secrets: Arc<dyn SecretStore>, env: EnvDefaults) -> Self {
        Access {
            sessions: Sessions::default(),
            keychain: Keychain::new(secrets),
            env,
            tune: |config| config,
            store_dir: None,
            follow_up: FollowUp::new(None, FollowPolicy::default()),
            archive: ArchiveSync::new(SyncPolicy::default(), Retention(Some(12))),
            notice: Mutex::new(None),
            early: Mutex::new(None),
            starting: tokio::sync::Mutex::new(()),
            rejected: Mutex::new(None),
            rejected_account: Mutex::new(None),
            starts: AtomicU64::new(0),
            opens: AtomicU64::new(0),
        }
    }

    /// Keeps each account's local database in this folder.
    pub fn with_store_dir(mut self, dir: PathBuf) -> Self {
        self.store_dir = Some(dir);
        self
    }

    /// Follows unsettled keys in the background and tells `observer` about changes.
    pub fn with_key_follow_up(mut self, observer: Arc<dyn KeyObserver>, policy: FollowPolicy) -> Self {
        self.follow_up = FollowUp::new(Some(observer), policy);
        self
    }

    /// Keeps the activity archive in sync with this policy, keeping events as long as `retention` says.
    pub fn with_archive_sync(mut self, policy: SyncPolicy, retention: Retention) -> Self {
        self.archive = ArchiveSync::new(policy, retention);
        self
    }

    /// Lets tests shorten timeouts and retry delays.
    pub fn with_client_tuning(mut self, tune: fn(ClientConfig) -> ClientConfig) -> Self {
        self.tune = tune;
        self
    }

    /// The keychain, for the other secrets the app keeps (the team database's password).
    pub fn keychain(&self) -> &Keychain {
        &self.keychain
    }

    pub fn env(&self) -> &EnvDefaults {
        &self.env
    }

    pub fn take_notice(&self) -> Option<AppError> {
        lock(&self.notice).take()
    }

    /// The current session, if it can be had without waiting.
    pub fn session_now(&self) -> Option<Session> {
        self.sessions.current_now()
    }

    /// The current session.
    pub async fn session(&self) -> Result<Session> {
        self.sessions.current().await
    }

    /// The current session, ready to call the API (a 401 signs out).
    pub async fn caller(&self) -> Result<Caller<'_>> {
        Ok(Caller::new(self.sessions.current().await?, self))
    }

    /// What the key actions need: the session and the follow-up of its keys.
    pub async fn keys(&self) -> Result<KeyContext<'_>> {
        Ok(KeyContext { caller: self.caller().await?, follow_up: &self.follow_up })
    }

    pub fn follow_up(&self) -> &FollowUp {
        &self.follow_up
    }

    pub fn archive(&self) -> &ArchiveSync {
        &self.archive
    }

    /// The API base a settings value stands for (`None`/empty: the default).
    pub fn effective_base(&self, configured: Option<&str>) -> Result<ApiBase> {
        match configured.map(str::trim).filter(|text| !text.is_empty()) {
            Some(text) => Ok(ApiBase::parse(text)?),
            None => Ok(self.env.default_api_base()),
        }
    }

    /// Checks the token with a real `GET /locks`, keeps it in the keychain, and makes this
    /// partner the current session. Returns the locks it fetched so they need not be fetched twice.
    pub async fn sign_in(
        &self,
        partner_id: &str,
        token: &str,
        api_base: Option<&str>,
    ) -> Result<(SessionInfo, LockList)> {
        self.settle_early_start().await;
        let partner_id = PartnerId::parse(partner_id)?;
        let api_base = self.effective_base(api_base)?;
        let token = match token.trim() {
            "" => self.env.token.clone().ok_or_else(|| AppError::invalid_input("token", "the API token is empty"))?,
            typed => SecretString::from(typed.to_owned()),
        };
        if token.expose_secret().chars().any(char::is_control) {
            return Err(AppError::invalid_input("token", "the API token contains invisible characters"));
        }
        let client = self.build_client(api_base.clone(), partner_id.clone(), token.clone())?;
        // The account's database (a file, its migrations, the index of its saved locks) opens on a
        // thread of its own while the list is fetched and, once Unloc has accepted the token, the
        // token is kept: sign-in waits for the longer of the two.
        let started = Instant::now();
        let fetch_then_keep = async {
            let locks = client.list_locks().await;
            let fetched_in = started.elapsed();
            let locks_and_kept = match locks {
                Ok(locks) => Ok((locks, self.keep_token(&partner_id, &api_base, token).await)),
                Err(error) => Err(error),
            };
            (locks_and_kept, fetched_in, started.elapsed() - fetched_in)
        };
        let open = async {
            let opened = self.open_account_off_thread(&client).await;
            (opened, started.elapsed())
        };
        let ((locks_and_kept, fetched_in, kept_in), (opened, opened_in)) = tokio::join!(fetch_then_keep, open);
        let (account, created) = opened?;
        let (locks, (token_saved, problem)) = match locks_and_kept {
            Ok(locks_and_kept) => locks_and_kept,
            Err(error) => {
                if created {
                    // Nothing was kept for a sign-in that failed: no empty file for a mistyped partner.
                    account.discard(
                        self.store_dir.as_deref(),
                        client.partner_id().as_str(),
                        client.api_base().as_str(),
                    );
                }
                return Err(error.into());
            }
        };

        // The list is saved (the offline copy, the archive's lock rows) on a thread of its own that
        // holds the store from here until it is done: the answer does not wait for it, and
        // whatever reads the store next (the archive, the next command) waits for it.
        let account = Arc::new(account);
        let handing = Instant::now();
        self.archive.load(&account);
        account.remember_locks_behind(locks.locks.clone(), Utc::now()).await;
        let handed_in = handing.elapsed();
        let info = SessionInfo {
            partner_id: client.partner_id().to_string(),
            api_base: api_base.to_string(),
            token_saved,
            problem: problem.or_else(|| self.take_notice()),
        };
        self.begin(client, account).await;
        log::debug!(
            target: TIMING,
            "sign-in: {} locks fetched and decoded in {:.1} ms (the account opened alongside: {:.1} ms), \
             handed to the store in {:.1} ms, the token kept in {:.1} ms, all {:.1} ms",
            locks.locks.len(),
            ms(fetched_in),
            ms(opened_in),
            ms(handed_in),
            ms(kept_in),
            ms(started.elapsed())
        );
        Ok((info, locks))
    }

    /// Keeps a token Unloc has just accepted; a keychain that refuses is told, not fatal (the
    /// session works, the next start asks again). Returns whether it was kept, and why not.
    async fn keep_token(
        &self,
        partner_id: &PartnerId,
        api_base: &ApiBase,
        token: SecretString,
    ) -> (bool, Option<AppError>) {
        match self.keychain.set(token_account(partner_id, api_base), token).await {
            Ok(()) => {
                // A token kept the old way is superseded by the one just checked and kept.
                self.forget_legacy_token(partner_id).await;
                (true, None)
            }
            Err(error) => {
                log::warn!("signed in, but the token could not be kept: {error}");
                (false, Some(AppError::from(error)))
            }
        }
    }

    /// Signs in silently with the token the keychain holds for this partner at this address,
    /// without a network call (the first list call checks it). `Ok(false)`: no token kept.
    pub async fn restore(&self, partner_id: &str, api_base: Option<&str>) -> Result<bool> {
        let partner_id = PartnerId::parse(partner_id)?;
        let api_base = self.effective_base(api_base)?;
        if self.was_refused(&partner_id, &api_base) {
            // Refused by Unloc (401) with no sign-in since: `token_rejected` may not have removed it
            // from the keychain yet, and it is not tried again meanwhile.
            return Ok(false);
        }
        let token = match self.keychain.get(token_account(&partner_id, &api_base)).await? {
            Some(token) => token,
            None => match self.migrate_legacy_token(&partner_id, &api_base).await? {
                Some(token) => token,
                None => return Ok(false),
            },
        };
        let client = self.build_client(api_base, partner_id, token)?;
        let opening = std::time::Instant::now();
        let (account, _) = self.open_account_off_thread(&client).await?;
        let account = Arc::new(account);
        log::debug!(target: TIMING, "silent sign-in: the local database opened and checked in {:.1} ms", ms(opening.elapsed()));
        self.archive.load(&account);
        self.begin(client, account).await;
        Ok(true)
    }

    /// What the UI needs to open. The rules of the silent sign-in: the saved partner (or the
    /// environment's) is signed in with the kept token; a keychain that refuses is worth telling
    /// over any other start-up problem, and a damaged local database is told when nothing else is.
    /// Signed in, the reply carries the saved locks.
    pub async fn startup(&self, settings: Settings, problem: Option<AppError>) -> Startup {
        self.start(settings, problem).await.reply
    }

    /// Begins [`Self::startup`] now, on `runtime`: at launch, while WebKit starts (about 400 ms),
    /// the keychain is read, the HTTP client built, the local database opened and checked, the team
    /// database linked and the saved locks read, so the page's first ask is answered at once.
    pub fn start_early(
        self: &Arc<Self>,
        runtime: &tokio::runtime::Handle,
        settings: Settings,
        problem: Option<AppError>,
    ) {
        let access = Arc::clone(self);
        let given = settings.clone();
        let started = runtime.spawn(async move {
            let began = std::time::Instant::now();
            let started = access.start(given, problem).await;
            log::debug!(target: TIMING, "start-up begun at launch: ready after {:.1} ms", ms(began.elapsed()));
            started
        });
        *lock(&self.early) = Some(EarlyStart { settings, started });
    }

    /// The start-up reply the page asks for (`get_startup`): the first ask takes the one begun at
    /// launch, if any, when the settings still name the partner, address and team it began with
    /// (the reply then carries the current settings, and the saved locks read again if a newer list
    /// was saved since). Every other ask (a reloaded page) is [`Self::startup`], computed now.
    pub async fn startup_for_page(&self, settings: Settings, mut problem: Option<AppError>) -> Startup {
        let early = lock(&self.early).take();
        if let Some(EarlyStart { settings: began_with, started }) = early {
            let asked = std::time::Instant::now();
            let started = started.await;
            log::debug!(target: TIMING, "get_startup: waited {:.1} ms for the start-up begun at launch", ms(asked.elapsed()));
            match started {
                Ok(started) if same_start(&began_with, &settings) => return self.handed_over(started, settings).await,
                // Begun for other settings (changed before the page asked): computed again for these,
                // still telling what the early start found (its store notice is taken).
                Ok(started) => problem = problem.or(started.reply.problem),
                Err(error) => log::error!("the start-up begun at launch failed: {error}"),
            }
        }
        self.startup(settings, problem).await
    }

    /// The early start's reply as it is true now: with the current settings and the newest saved
    /// locks — or, when its session has ended since (a 401 while the page was loading), signed out,
    /// told as a 401 is told.
    async fn handed_over(&self, started: Started, settings: Settings) -> Startup {
        let Started { mut reply, session, locks_read } = started;
        reply.settings = self.with_default_partner(settings);
        let Some(session) = session else {
            return reply;
        };
        if !self.sessions.is_current(&session).await {
            reply.signed_in = false;
            reply.cached_locks = None;
            if self.was_rejected(&session) {
                reply.problem = Some(ApiError::Unauthorized.into());
            }
            return reply;
        }
        if let Some(saved) = locks_read {
            if session.account.lists_saved() != saved {
                reply.cached_locks = crate::locks::cached(&session.account);
            }
        }
        reply
    }

    /// Whether the token of the partner and address in `settings` was the last one a 401 ended,
    /// with no sign-in or sign-out since.
    fn rejected_here(&self, settings: &Settings) -> bool {
        let (Some(partner_id), Ok(api_base)) =
            (&settings.partner_id, self.effective_base(settings.api_base.as_deref()))
        else {
            return false;
        };
        let Ok(partner_id) = PartnerId::parse(partner_id) else {
            return false;
        };
        self.was_refused(&partner_id, &api_base)
    }

    /// Whether the token of this partner at this address was the last one a 401 ended, with no
    /// sign-in or sign-out since.
    fn was_refused(&self, partner_id: &PartnerId, api_base: &ApiBase) -> bool {
        lock(&self.rejected_account).as_deref() == Some(token_account(partner_id, api_base).as_str())
    }

    /// Whether `session` was ended by a 401 (the last one `token_rejected` ended).
    fn was_rejected(&self, session: &Session) -> bool {
        lock(&self.rejected).as_ref().is_some_and(|rejected| rejected.ptr_eq(&Arc::downgrade(&session.client)))
    }

    /// Waits for a start-up begun at launch and drops its reply: a sign-in or sign-out before the
    /// page asked for it comes after it, and the page is not answered with a session since ended.
    async fn settle_early_start(&self) {
        let early = lock(&self.early).take();
        if let Some(early) = early {
            let _ = early.started.await;
        }
        // A start-up another ask took (a reloaded page's) is waited for too.
        drop(self.starting.lock().await);
    }

    fn with_default_partner(&self, mut settings: Settings) -> Settings {
        if settings.partner_id.is_none() {
            settings.partner_id = self.env.partner_id.clone();
        }
        settings
    }

    async fn start(&self, settings: Settings, mut problem: Option<AppError>) -> Started {
        // One at a time: a page reloaded while the early start runs asks again, and must find the
        // session that start began (signed in), not begin a second one over the same database.
        let _one_start = self.starting.lock().await;
        self.starts.fetch_add(1, Ordering::Relaxed);
        let settings = self.with_default_partner(settings);
        let signed_in = match (self.sessions.is_signed_in().await, &settings.partner_id) {
            (true, _) => true,
            (false, Some(partner_id)) => match self.restore(partner_id, settings.api_base.as_deref()).await {
                Ok(found) => found,
                Err(error) => {
                    log::warn!("silent sign-in failed: {error}");
                    if error.kind == ErrorKind::KeychainUnavailable || problem.is_none() {
                        problem = Some(error);
                    }
                    false
                }
            },
            (false, None) => false,
        };
        if signed_in {
            if let Err(error) = self.attach_team(settings.team.as_ref()).await {
                log::warn!("team database not linked: {error}");
            }
        }
        let session = if signed_in { self.sessions.current().await.ok() } else { None };
        // Asked once the session is known: a 401 can end it after the silent sign-in succeeded (the
        // key follow-up's first request, while the team database connects), and the page must then
        // be told why it is at sign-in, not shown a bare form.
        if session.is_none() && problem.is_none() && self.rejected_here(&settings) {
            problem = Some(ApiError::Unauthorized.into());
        }
        let problem = problem.or_else(|| self.take_notice());
        let (cached_locks, locks_read) = match &session {
            Some(session) => {
                let reading = std::time::Instant::now();
                let account = Arc::clone(&session.account);
                let (page, saved) = tokio::task::spawn_blocking(move || crate::locks::cached_counted(&account))
                    .await
                    .unwrap_or_else(|error| {
                        log::error!("the saved locks could not be read: {error}");
                        (None, 0)
                    });
                log::debug!(target: TIMING, "start-up: the saved locks read in {:.1} ms", ms(reading.elapsed()));
                (page, Some(saved))
            }
            None => (None, None),
        };
        let reply = Startup {
            version: env!("CARGO_PKG_VERSION"),
            // A session ended since it began (a 401 in between) is not signed in.
            signed_in: session.is_some(),
            token_from_environment: self.env.token.is_some(),
            default_api_base: self.env.default_api_base().to_string(),
            system_language: sys_locale::get_locale(),
            settings,
            problem,
            cached_locks,
        };
        Started { reply, session, locks_read }
    }

    /// Links the signed-in session to the office's database in `settings` (`None`: a desk on its
    /// own), in place of any link before. Nothing is sent here: the link connects in the
    /// background, and the desk works from its local store until it does. Without a session, or
    /// without a password kept for these settings, the session stays unlinked.
    pub async fn attach_team(&self, settings: Option<&TeamSettings>) -> Result<()> {
        let Ok(session) = self.sessions.current().await else {
            return Ok(());
        };
        let Some(settings) = settings else {
            // Only a desk that was sharing has anything to stop. The store is not asked otherwise:
            // right after sign-in it is busy saving the list, and the reply would wait for that.
            if session.team().is_some() {
                session.team.set(None);
                crate::keys::shared::stop(&session.account);
            }
            return Ok(());
        };
        let Some(password) = self.keychain.get(password_account(settings)).await? else {
            log::warn!("team database: no password kept for it; this desk works on its own");
            session.team.set(None);
            crate::keys::shared::stop(&session.account);
            return Ok(());
        };
        let scope = Scope {
            partner_id: session.client.partner_id().to_string(),
            api_base: session.client.api_base().to_string(),
        };
        if session.team().is_some_and(|link| link.is_for(settings, &password)) {
            return Ok(()); // already linked there (a second start-up call, a save without changes)
        }
        let mut author = Author::of_this_desk(settings.your_name.as_deref());
        if let Some(desk) = &self.env.desk_name {
            author.desk.clone_from(desk);
        }
        let link = Arc::new(TeamLink::new(settings.clone(), password, scope, author));
        crate::keys::shared::start(&link, Arc::clone(&session.account), self.follow_up.observer());
        crate::people::shared::start(&link, Arc::clone(&session.account), self.follow_up.observer());
        session.team.set(Some(link));
        if let Some(observer) = self.follow_up.observer() {
            observer.team_changed();
        }
        Ok(())
    }

    /// Forgets the session, stops its follow-up, and removes the token from the keychain.
    pub async fn sign_out(&self) -> Result<()> {
        self.settle_early_start().await;
        *lock(&self.rejected_account) = None;
        let Some(session) = self.sessions.end().await else {
            return Ok(());
        };
        self.forget(&session).await
    }

    /// Stops the ended session's follow-up and removes its token (and any kept the old way).
    async fn forget(&self, session: &Session) -> Result<()> {
        self.follow_up.stop();
        self.archive.stop();
        let (partner_id, api_base) = (session.client.partner_id(), session.client.api_base());
        self.keychain.delete(token_account(partner_id, api_base)).await?;
        self.forget_legacy_token(partner_id).await;
        Ok(())
    }

    /// A token kept under the partner id alone (before 1.0) is used only for Unloc's production
    /// address: the only address a release build could have sent it to without the user typing
    /// another one, and Unloc's own, so no one learns it who did not issue it. It is moved under
    /// the new account on the way. For any other address it is not used: the user signs in once
    /// more, and that sign-in (or a sign-out) removes it.
    async fn migrate_legacy_token(&self, partner_id: &PartnerId, api_base: &ApiBase) -> Result<Option<SecretString>> {
        if *api_base != ApiBase::production() {
            return Ok(None);
        }
        let Some(token) = self.keychain.get(legacy_token_account(partner_id.as_str())).await? else {
            return Ok(None);
        };
        match self.keychain.set(token_account(partner_id, api_base), token.clone()).await {
            Ok(()) => self.forget_legacy_token(partner_id).await,
            Err(error) => log::warn!("could not move the kept token to its address: {error}"),
        }
        Ok(Some(token))
    }

    async fn forget_legacy_token(&self, partner_id: &PartnerId) {
        if let Err(error) = self.keychain.delete(legacy_token_account(partner_id.as_str())).await {
            log::warn!("could not remove a token kept the old way: {error}");
        }
    }

    async fn begin(&self, client: ApiClient, account: Arc<Account>) {
        *lock(&self.rejected_account) = None;
        let session = Session::new(client, account);
        self.follow_up.start(Arc::clone(&session.client), Arc::clone(&session.account), Arc::clone(&session.team));
        // Loaded (`ArchiveSync::load`) by the caller, before the store was busy.
        self.archive.spawn(Arc::clone(&session.client), Arc::clone(&session.account), Arc::clone(&session.team));
        self.sessions.begin(session).await;
    }

    /// Opens (or repairs) the account's database off the async workers (SQLite blocks: the open
    /// checks the file, a busy one is waited for), and says whether its file is new. A notice of
    /// the open (a damaged file replaced) is kept for the next reply.
    async fn open_account_off_thread(&self, client: &ApiClient) -> Result<(Account, bool)> {
        self.opens.fetch_add(1, Ordering::Relaxed);
        let dir = self.store_dir.clone();
        let partner_id = client.partner_id().to_string();
        let api_base = client.api_base().to_string();
        let opened = tokio::task::spawn_blocking(move || {
            let created = !Account::exists(dir.as_deref(), &partner_id, &api_base);
            let (account, notice) = Account::open(dir.as_deref(), &partner_id, &api_base);
            (account, notice, created)
        })
        .await
        .map_err(|error| AppError::new(ErrorKind::Internal, format!("the local database did not open: {error}")))?;
        let (account, notice, created) = opened;
        if let Some(notice) = notice {
            *lock(&self.notice) = Some(notice);
        }
        Ok((account, created))
    }

    fn build_client(&self, api_base: ApiBase, partner_id: PartnerId, token: SecretString) -> Result<ApiClient> {
        let config = (self.tune)(ClientConfig::new(api_base, partner_id, token));
        Ok(ApiClient::new(config)?)
    }
}

/// Whether a start-up begun with `began_with` is the one `now` asks for: the same partner at the
/// same address with the same team database (the rest, such as the language, is only passed on).
fn same_start(began_with: &Settings, now: &Settings) -> bool {
    began_with.partner_id == now.partner_id && began_with.api_base == now.api_base && began_with.team == now.team
}

impl TokenRejected for Access {
    /// The kept token is no good any more: sign out, so the next start does not try it again —
    /// but only if the rejected session is still the current one. A 401 arriving late for a
    /// partner signed out since (or replaced by another) leaves the current session alone.
    fn token_rejected<'a>(&'a self, session: &'a Session) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            // Marked as the session ends, while no one can see the sessions: a start-up right after (a
            // page reloaded) finds the token refused and says so, instead of signing in again with it
            // (it is still in the keychain until `forget`) or showing sign-in without a reason.
            let account = token_account(session.client.partner_id(), session.client.api_base());
            let mark_refused = || {
                *lock(&self.rejected) = Some(Arc::downgrade(&session.client));
                *lock(&self.rejected_account) = Some(account);
            };
            let Some(ended) = self.sessions.end_if_current_and(session, mark_refused).await else {
                log::info!("a rejected token of a session that is no longer current was ignored");
                return;
            };
            if let Err(error) = self.forget(&ended).await {
                log::warn!("could not remove the rejected token: {error}");
            }
        })
    }
}

#[cfg(test)]
mod team_tests {
    //! Settings → Team's "stop sharing" (saving no team database) on a signed-in desk, against the
    //! simulator and the throwaway PostgreSQL server (tests/scripts/with-postgres.sh).

    use std::time::{Duration, Instant};

    use unloc_sim::{fixtures, Route, SimConfig};

    use super::*;
    use crate::api::NewKey;
    use crate::keys::{KeyStatus, KeyView};
    use crate::secrets::MemoryStore;
    use crate::store::CreatedKeyRecord;
    use crate::team::testing::server;

    struct Unheard;

    impl KeyObserver for Unheard {
        fn keys_changed(&self, _keys: &[KeyView]) {}
        fn status_changed(&self, _key: &KeyView, _before: KeyStatus) {}
    }

    async fn until(what: &str, mut done: impl AsyncFnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done().await {
            assert!(Instant::now() < deadline, "never happened: {what}");
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn stopping_sharing_keeps_everything_local_and_the_desk_works_on_its_own() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let sim =
            unloc_sim::start(SimConfig { lockout_after: 0, key_provisioning: Duration::ZERO, ..SimConfig::default() })
                .await
                .unwrap();
        let policy = FollowPolicy {
            first_wait: Duration::from_millis(100),
            max_usable: Duration::from_millis(200),
            after_failure: Duration::from_millis(200),
            ..FollowPolicy::default()
        };
        let access = Access::new(Arc::new(MemoryStore::default()), EnvDefaults::default())
            .with_client_tuning(|mut config| {
                config.governor.interval = Duration::from_millis(1);
                config
            })
            .with_key_follow_up(Arc::new(Unheard), policy);
        access.sign_in(sim.partner_id(), sim.token(), Some(&sim.api_base())).await.unwrap();
        access.keychain().set(password_account(&settings), password.clone()).await.unwrap();
        access.attach_team(Some(&settings)).await.unwrap();
        let session = access.session().await.unwrap();
        assert!(session.team().is_some());

        // Shared: a person, and a key this desk follows for the office (it holds the key's lease).
        crate::people::save(&session.account, None, "Kari", "90000000", None).unwrap();
        let now = Utc::now();
        let new_key = NewKey {
            lock_id: fixtures::HJEMME_LOCK_ID.into(),
            msn: Some("+4790000000".into()),
            start: now,
            end: Some(now + chrono::Duration::days(1)),
            route: None,
        };
        let key_id = session.client.create_key(&new_key).await.unwrap().id;
        let record = CreatedKeyRecord {
            id: &key_id,
            lock_id: fixtures::HJEMME_LOCK_ID,
            msn: new_key.msn.as_deref(),
            route: None,
            start: now,
            end: new_key.end,
        };
        session.account.with_store(|store| store.remember_created_key(&record, now)).unwrap();
        access.follow_up().wake();
        let admin = server.admin(&settings.database).await;
        // The link connects, and brings the schema up to date, on first use: until then a table may
        // not exist yet, which counts as empty.
        let count = async |table: &str| -> i64 {
            admin.query_one(&format!("SELECT COUNT(*) FROM {table}"), &[]).await.map_or(0, |row| row.get(0))
        };
        until("the person and the key's lease reach the office", async || {
            count("team_people").await == 1 && count("team_leases").await == 1
        })
        .await;

        // Stop sharing (Settings → Team saved without a database).
        access.attach_team(None).await.unwrap();
        assert!(session.team().is_none(), "the desk is on its own");
        until("the key's lease is given up for the other desks", async || count("team_leases").await == 0).await;
        let people: Vec<String> = crate::people::list(&session.account).unwrap().into_iter().map(|p| p.name).collect();
        assert_eq!(people, ["Kari"], "the local directory is kept");
        assert!(session.account.with_store(|store| store.key(&key_id)).unwrap().is_some(), "the key is kept");

        // On its own: it follows the key itself, and what it writes stays here.
        crate::people::save(&session.account, None, "Ola", "92222222", None).unwrap();
        assert_eq!(session.account.with_store(|store| store.people_outbox_len()).unwrap(), 0, "nothing queued");
        sim.clear_requests();
        until("the desk checks the key itself", async || {
            sim.requests().iter().any(|request| request.route == Some(Route::KeysGet))
        })
        .await;
        assert_eq!(count("team_people").await, 1, "Ola stays on this desk");
    }
}

#[cfg(test)]
mod early_start_tests {
    //! The start-up begun at launch (`start_early`) and the page's first ask (`startup_for_page`),
    //! against the simulator, with the account's database in a folder of its own.

    use std::time::{Duration, Instant};

    use unloc_sim::SimConfig;

    use super::*;
    use crate::secrets::MemoryStore;

    struct Desk {
        sim: unloc_sim::Simulator,
        keychain: Arc<dyn SecretStore>,
        dir: PathBuf,
    }

    impl Desk {
        /// A desk with nothing kept yet.
        async fn new(name: &str) -> Desk {
            let sim =
                unloc_sim::start(SimConfig { lockout_after: 0, locks: 30, ..SimConfig::default() }).await.unwrap();
            let dir = std::env::temp_dir().join(format!("unloc-early-start-{name}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            let keychain: Arc<dyn SecretStore> = Arc::new(MemoryStore::default());
            Desk { sim, keychain, dir }
        }

        /// A desk that signed in once: the token in the keychain, the locks saved in `dir`.
        async fn signed_in(name: &str) -> Desk {
            let desk = Desk::new(name).await;
            let access = desk.access();
            access.sign_in(desk.sim.partner_id(), desk.sim.token(), Some(&desk.sim.api_base())).await.unwrap();
            // Sign-in answers before its list is saved (the store is held until it is): wait for it,
            // or the next start could read the database before the list is in.
            let account = access.session().await.unwrap().account;
            let saved = tokio::task::spawn_blocking(move || account.lists_saved()).await.unwrap();
            assert_eq!(saved, 1, "the signed-in list was saved");
            desk
        }

        /// The app started again: a new `Access` over the same keychain and folder.
        fn access(&self) -> Arc<Access> {
            Arc::new(Access::new(Arc::clone(&self.keychain), EnvDefaults::default()).with_store_dir(self.dir.clone()))
        }

        fn settings(&self) -> Settings {
            Settings {
                partner_id: Some(self.sim.partner_id().to_owned()),
                api_base: Some(self.sim.api_base()),
                ..Settings::default()
            }
        }

        fn saved_ids(reply: &Startup) -> Vec<String> {
            let page = reply.cached_locks.as_ref().expect("the saved locks in the reply");
            let locks: Vec<serde_json::Value> = serde_json::from_str(page.locks.get()).unwrap();
            locks.iter().map(|lock| lock["id"].as_str().unwrap().to_owned()).collect()
        }
    }

    impl Drop for Desk {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }

    fn begun(access: &Arc<Access>, settings: Settings, problem: Option<AppError>) {
        access.start_early(&tokio::runtime::Handle::current(), settings, problem);
    }

    async fn until_early_start_done(access: &Access) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !lock(&access.early).as_ref().is_some_and(|early| early.started.is_finished()) {
            assert!(Instant::now() < deadline, "the early start never finished");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many start-ups ran: 1 when the page was handed the one begun at launch, 2 when it was
    /// computed again (the fallback, which answers the same but does the work twice).
    fn starts(access: &Access) -> u64 {
        access.starts.load(Ordering::Relaxed)
    }

    fn opens(access: &Access) -> u64 {
        access.opens.load(Ordering::Relaxed)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_first_start_up_reply_carries_the_saved_locks() {
        let desk = Desk::signed_in("carries").await;
        let access = desk.access();
        begun(&access, desk.settings(), None);
        let reply = access.startup_for_page(desk.settings(), None).await;
        assert_eq!(starts(&access), 1, "the reply begun at launch, not one computed again");
        assert_eq!(opens(&access), 1);
        assert!(reply.signed_in);
        assert!(reply.problem.is_none(), "{:?}", reply.problem);
        assert!(reply.cached_locks.as_ref().is_some_and(|page| page.from_cache));
        let mut expected: Vec<String> = desk.sim.locks().into_iter().map(|lock| lock.id).collect();
        let mut saved = Desk::saved_ids(&reply);
        expected.sort();
        saved.sort();
        assert_eq!(saved, expected);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn problems_found_by_the_early_start_are_still_reported() {
        // A token kept, and a damaged database: set aside and told.
        let desk = Desk::new("problems").await;
        let account = crate::secrets::token_account(desk.sim.partner_id(), desk.sim.api_base());
        desk.keychain.set(&account, &SecretString::from(desk.sim.token().to_owned())).unwrap();
        let path = crate::store::Store::path_for(&desk.dir, desk.sim.partner_id(), &desk.sim.api_base());
        std::fs::create_dir_all(&desk.dir).unwrap();
        std::fs::write(&path, b"not a database, not at all, nothing like one, only text").unwrap();
        let access = desk.access();
        begun(&access, desk.settings(), None);
        let reply = access.startup_for_page(desk.settings(), None).await;
        assert_eq!(starts(&access), 1, "the reply begun at launch, not one computed again");
        assert!(reply.signed_in);
        assert_eq!(reply.problem.map(|problem| problem.kind), Some(ErrorKind::StoreReset));
        assert!(reply.cached_locks.is_none(), "nothing saved in the new database");

        // A keychain that refuses outranks a damaged settings file given at launch.
        let refusing = Arc::new(Access::new(Arc::new(MemoryStore::unavailable()), EnvDefaults::default()));
        let damaged = AppError::new(ErrorKind::SettingsReset, "the settings file was damaged");
        begun(&refusing, desk.settings(), Some(damaged.clone()));
        let reply = refusing.startup_for_page(desk.settings(), Some(damaged)).await;
        assert_eq!(starts(&refusing), 1, "the reply begun at launch, not one computed again");
        assert!(!reply.signed_in);
        assert_eq!(reply.problem.map(|problem| problem.kind), Some(ErrorKind::KeychainUnavailable));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn after_a_sign_out_the_start_up_is_computed_again() {
        let desk = Desk::signed_in("sign-out").await;
        let access = desk.access();
        begun(&access, desk.settings(), None);
        assert!(access.startup_for_page(desk.settings(), None).await.signed_in);
        assert_eq!(starts(&access), 1, "the reply begun at launch, not one computed again");
        access.sign_out().await.unwrap();
        let reply = access.startup_for_page(desk.settings(), None).await;
        assert!(!reply.signed_in, "not the reply begun at launch");
        assert!(reply.cached_locks.is_none());

        // Signed out before the page asked: the early start's session is not handed to the page.
        let access = desk.access();
        desk.access().sign_in(desk.sim.partner_id(), desk.sim.token(), Some(&desk.sim.api_base())).await.unwrap();
        begun(&access, desk.settings(), None);
        access.sign_out().await.unwrap();
        assert!(!access.startup_for_page(desk.settings(), None).await.signed_in);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_list_saved_after_the_early_start_read_its_copy_is_the_one_handed_over() {
        let desk = Desk::signed_in("newer").await;
        let access = desk.access();
        begun(&access, desk.settings(), None);
        until_early_start_done(&access).await;
        // A newer list (three of the locks) saved after the early start read the saved one.
        let account = access.session().await.unwrap().account;
        let (saved, _) = account.with_store(|store| store.cached_locks()).unwrap().expect("a saved list");
        let newer: Vec<crate::api::Lock> = saved.into_iter().take(3).collect();
        let ids: Vec<String> = newer.iter().map(|lock| lock.id.clone()).collect();
        account.remember_locks(&newer, Utc::now()).unwrap();
        let reply = access.startup_for_page(desk.settings(), None).await;
        assert_eq!(starts(&access), 1, "the reply begun at launch, not one computed again");
        assert_eq!(Desk::saved_ids(&reply), ids);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_token_rejected_before_the_page_asks_is_told_not_a_session_since_ended() {
        let desk = Desk::signed_in("rejected").await;
        let access = desk.access();
        begun(&access, desk.settings(), None);
        until_early_start_done(&access).await;
        // Revoked at Unloc: the first call made with it (here, a list of locks) gets a 401.
        desk.sim.add_fault(unloc_sim::FaultRule::always(
            unloc_sim::Route::Locks,
            unloc_sim::Fault::Status { code: 401, body: None, retry_after: None },
        ));
        let error = crate::locks::list(&access.caller().await.unwrap()).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unauthorized);
        let reply = access.startup_for_page(desk.settings(), None).await;
        assert!(!reply.signed_in, "the session the early start began has ended");
        assert!(reply.cached_locks.is_none(), "no saved locks without a session");
        let told = reply.problem.expect("why the page is signed out");
        let as_a_401_is_told = AppError::from(ApiError::Unauthorized);
        assert_eq!((told.kind, told.message), (as_a_401_is_told.kind, as_a_401_is_told.message));
        assert_eq!(reply.settings.partner_id.as_deref(), Some(desk.sim.partner_id()), "the partner id kept");
    }

    /// A keychain whose first removal waits until the test lets it go: the moment between a 401
    /// ending the session and its token leaving the keychain, held open.
    struct SlowRemoval {
        kept: Arc<dyn SecretStore>,
        removing: std::sync::atomic::AtomicBool,
        go_on: Mutex<std::sync::mpsc::Receiver<()>>,
    }

    impl SecretStore for SlowRemoval {
        fn get(&self, account: &str) -> std::result::Result<Option<SecretString>, crate::secrets::SecretError> {
            self.kept.get(account)
        }
        fn set(&self, account: &str, token: &SecretString) -> std::result::Result<(), crate::secrets::SecretError> {
            self.kept.set(account, token)
        }
        fn delete(&self, account: &str) -> std::result::Result<(), crate::secrets::SecretError> {
            // Only the first removal waits (the token's; a token kept the old way is removed after it).
            if !self.removing.swap(true, Ordering::SeqCst) {
                let _ = lock(&self.go_on).recv_timeout(Duration::from_secs(10));
            }
            self.kept.delete(account)
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_reloaded_before_a_refused_token_leaves_the_keychain_does_not_sign_in_with_it() {
        let desk = Desk::signed_in("refused-gap").await;
        let (let_go, go_on) = std::sync::mpsc::channel();
        let keychain = Arc::new(SlowRemoval {
            kept: Arc::clone(&desk.keychain),
            removing: false.into(),
            go_on: Mutex::new(go_on),
        });
        let access = Arc::new(
            Access::new(Arc::clone(&keychain) as Arc<dyn SecretStore>, EnvDefaults::default())
                .with_store_dir(desk.dir.clone()),
        );
        assert!(access.startup_for_page(desk.settings(), None).await.signed_in);
        desk.sim.add_fault(unloc_sim::FaultRule::always(
            unloc_sim::Route::Locks,
            unloc_sim::Fault::Status { code: 401, body: None, retry_after: None },
        ));
        let refused = tokio::spawn({
            let access = Arc::clone(&access);
            async move { crate::locks::list(&access.caller().await.unwrap()).await.map(|_| ()) }
        });
        let deadline = Instant::now() + Duration::from_secs(10);
        while !keychain.removing.load(Ordering::SeqCst) {
            assert!(Instant::now() < deadline, "the refused token was never removed");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        // The session has ended; the token is still in the keychain. The page reloads now.
        let reply = access.startup_for_page(desk.settings(), None).await;
        assert!(!reply.signed_in, "signed in again with the token Unloc refused");
        let told = reply.problem.expect("why the page is signed out");
        assert_eq!(told.kind, AppError::from(ApiError::Unauthorized).kind);
        let_go.send(()).unwrap();
        assert_eq!(refused.await.unwrap().unwrap_err().kind, ErrorKind::Unauthorized);
        let account = crate::secrets::token_account(desk.sim.partner_id(), desk.sim.api_base());
        assert!(desk.keychain.get(&account).unwrap().is_none(), "the refused token is removed");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_reloaded_after_a_401_is_told_why_it_is_signed_out_until_the_next_sign_in() {
        let desk = Desk::signed_in("reloaded-401").await;
        let access = desk.access();
        assert!(access.startup_for_page(desk.settings(), None).await.signed_in);
        desk.sim.add_fault(unloc_sim::FaultRule::always(
            unloc_sim::Route::Locks,
            unloc_sim::Fault::Status { code: 401, body: None, retry_after: None },
        ));
        let error = crate::locks::list(&access.caller().await.unwrap()).await.unwrap_err();
        assert_eq!(error.kind, ErrorKind::Unauthorized);
        // The page reloaded (twice): the token is gone, and the reply says why, as a 401 is told.
        let as_a_401_is_told = AppError::from(ApiError::Unauthorized);
        for _ in 0..2 {
            let reply = access.startup_for_page(desk.settings(), None).await;
            assert!(!reply.signed_in);
            let told = reply.problem.expect("why the page is signed out");
            assert_eq!((&told.kind, &told.message), (&as_a_401_is_told.kind, &as_a_401_is_told.message));
        }
        // Another partner at the same address was not refused.
        let mut other = desk.settings();
        other.partner_id = Some("someoneelse".into());
        assert!(access.startup_for_page(other, None).await.problem.is_none());
        // A sign-out (the user leaving the sign-in form as it is) ends the message.
        access.sign_out().await.unwrap();
        assert!(access.startup_for_page(desk.settings(), None).await.problem.is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_page_reloaded_while_the_early_start_runs_finds_its_session() {
        let desk = Desk::signed_in("reload").await;
        let access = desk.access();
        begun(&access, desk.settings(), None);
        // The first page asks (and takes the early start); reloaded, the page asks again, both
        // while the early start still runs.
        let (first, reloaded) = tokio::join!(access.startup_for_page(desk.settings(), None), async {
            tokio::task::yield_now().await;
            assert!(lock(&access.early).is_none(), "the first ask took the early start");
            access.startup_for_page(desk.settings(), None).await
        });
        let session = access.session().await.unwrap();
        assert!(first.signed_in && reloaded.signed_in, "both pages are told they are signed in");
        assert!(reloaded.cached_locks.is_some_and(|page| page.from_cache), "the reloaded page has the saved locks");
        assert_eq!(opens(&access), 1, "one database opened: one silent sign-in");
        assert_eq!(starts(&access), 2, "the early start, and the reloaded page's");
        assert!(access.sessions.is_current(&session).await, "one session");
    }
}
