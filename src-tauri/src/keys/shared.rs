//! Keys in team mode: what this desk writes goes to the office's database, and what any desk
//! writes comes back into this desk's local store, which stays the offline cache.
//!
//! Every key write lands in the local store first and is queued there (`store::Sharing`); a task
//! of the session's `TeamLink` sends the queue (at once after a write, and again whenever the
//! server answers after a gap) and listens for keys any desk writes (LISTEN/NOTIFY): each one is
//! read back, merged into the local store without letting an older word replace a newer one, and
//! announced to the window (`keys-changed`). When the server cannot be reached the desk keeps
//! working from its store and the link says "not current" until it answers again.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;

use crate::account::Account;
use crate::key_store::KeyStore;
use crate::keys::follow::KeyObserver;
use crate::keys::{status, KeyView};
use crate::session::Session;
use crate::store::{Sharing, StoredKey};
use crate::team::{Reach, TeamError, TeamLink, TeamProblem, TeamResult};
use crate::views::TeamStatus;

/// How often a queue is looked at when nothing nudged it (follow-up checks queue quietly).
const SEND_ROUND: Duration = Duration::from_secs(1);
/// How long to wait before trying a server that did not answer again.
const RETRY: Duration = Duration::from_secs(1);
/// Queued keys sent per round.
const BATCH: usize = 100;

/// Shares `account`'s keys through `link` from now on, until the link is stopped.
pub fn start(link: &Arc<TeamLink>, account: Arc<Account>, observer: Option<Arc<dyn KeyObserver>>) {
    let author = link.author();
    let sharing = Sharing { user: author.user.clone(), desk: author.desk.clone() };
    account.with_store(|store| store.set_sharing(Some(sharing)));
    link.spawn(keep_in_step(Arc::clone(link), account, observer));
}

/// Team mode off for this account: nothing more is queued.
pub fn stop(account: &Account) {
    account.with_store(|store| store.set_sharing(None));
}

/// Sends every queued key; returns how many were sent. Stops at the first failure (the rest stay
/// queued for the next try).
pub async fn send_queued(link: &TeamLink, account: &Account) -> TeamResult<usize> {
    let keys = link.keys().await?;
    let mut sent = 0;
    loop {
        let queued = account.with_store(|store| store.team_outbox(BATCH)).map_err(local)?;
        if queued.is_empty() {
            return Ok(sent);
        }
        for entry in &queued {
            if let Some(key) = account.with_store(|store| store.key(&entry.key_id)).map_err(local)? {
                keys.push(&key).await?;
                sent += 1;
            }
            account.with_store(|store| store.sent_to_team(entry)).map_err(local)?;
        }
    }
}

/// Reads keys from the office's database (`ids`, or every key of the account) into the local
/// store; returns the views of those that changed here.
pub async fn take_in(link: &TeamLink, account: &Account, ids: Option<&[String]>) -> TeamResult<Vec<KeyView>> {
    let keys = link.keys().await?;
    let shared: Vec<StoredKey> = match ids {
        None => keys.keys(None).await?,
        Some(ids) => {
            let mut found = Vec::with_capacity(ids.len());
            for id in ids {
                found.extend(keys.key(id).await?);
            }
            found
        }
    };
    let mut changed = Vec::new();
    for key in &shared {
        if let Some(merged) = account.with_store(|store| store.merge_shared_key(key)).map_err(local)? {
            changed.push(status::view(account, &merged));
        }
    }
    Ok(changed)
}

/// What the window says about team data: not linked, connecting, current, or not current and why.
pub fn team_status(session: &Session) -> TeamStatus {
    let queued = session.account.with_store(|store| store.team_outbox_len()).unwrap_or(0);
    let Some(link) = session.team() else {
        return TeamStatus { linked: false, state: "off", problem: None, since: None, queued };
    };
    let (state, problem, since) = match link.reach() {
        Reach::Connecting => ("connecting", None, None),
        Reach::Current => ("current", None, None),
        Reach::NotCurrent { problem, since } => ("notCurrent", Some(problem.as_str()), Some(since)),
    };
    TeamStatus { linked: true, state, problem, since, queued }
}

fn local(error: crate::store::StoreError) -> TeamError {
    TeamError::new(TeamProblem::Other, error.to_string())
}

/// The link's task: connect, catch up both ways, then follow live announcements and send what
/// this desk writes; after a failure, say so and start again.
async fn keep_in_step(link: Arc<TeamLink>, account: Arc<Account>, observer: Option<Arc<dyn KeyObserver>>) {
    loop {
        let error = match one_connection(&link, &account, observer.as_deref()).await {
            Err(error) => error,
            Ok(never) => match never {},
        };
        let reach = Reach::NotCurrent { problem: error.problem, since: Utc::now() };
        if link.set_reach(reach) {
            // Once per gap, not at every try (a try each second while the server is away).
            log::warn!("team database not current: {error}");
            if let Some(observer) = &observer {
                observer.team_changed();
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RETRY) => {}
            _ = link.nudged() => {}
        }
    }
}

enum Never {}

/// One connection's life: returns only with the failure that ended it.
async fn one_connection(
    link: &TeamLink,
    account: &Account,
    observer: Option<&dyn KeyObserver>,
) -> Result<Never, TeamError> {
    // Listening first: a key written while catching up is announced, not missed.
    let mut changes = link.listen().await?;
    send_queued(link, account).await?;
    let caught_up = take_in(link, account, None).await?;
    if let Some(observer) = observer {
        if !caught_up.is_empty() {
            observer.keys_changed(&caught_up);
        }
        if link.set_reach(Reach::Current) {
            observer.team_changed();
        }
    } else {
        link.set_reach(Reach::Current);
    }
    loop {
        tokio::select! {
            announced = changes.next() => {
                let Some(first) = announced else {
                    return Err(TeamError::new(TeamProblem::Unreachable, "the live connection ended"));
                };
                let mut ids = vec![first];
                ids.extend(changes.ready());
                let changed = take_in(link, account, Some(&ids)).await?;
                if let (Some(observer), false) = (observer, changed.is_empty()) {
                    observer.keys_changed(&changed);
                }
            }
            _ = link.nudged() => {
                send_queued(link, account).await?;
            }
            _ = tokio::time::sleep(SEND_ROUND) => {
                if account.with_store(|store| store.team_outbox_len()).map_err(local)? > 0 {
                    send_queued(link, account).await?;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    //! Against the real throwaway server (tests/scripts/with-postgres.sh); skipped without it.

    use std::sync::Mutex;
    use std::time::Instant;

    use chrono::{DateTime, Utc};

    use super::*;
    use crate::api::{Key, KeyState};
    use crate::keys::KeyStatus;
    use crate::store::{CreatedKeyRecord, Store};
    use crate::team::testing::{server, Relay};
    use crate::team::{listen, Author, Scope, TeamSettings};

    /// Records what the window would hear.
    #[derive(Default)]
    struct Heard {
        keys: Mutex<Vec<KeyView>>,
        team_changes: Mutex<usize>,
    }

    impl KeyObserver for Heard {
        fn keys_changed(&self, keys: &[KeyView]) {
            self.keys.lock().unwrap().extend_from_slice(keys);
        }
        fn status_changed(&self, _: &KeyView, _: KeyStatus) {}
        fn team_changed(&self) {
            *self.team_changes.lock().unwrap() += 1;
        }
    }

    struct Desk {
        link: Arc<TeamLink>,
        account: Arc<Account>,
        heard: Arc<Heard>,
    }

    fn scope() -> Scope {
        Scope { partner_id: "office-partner".into(), api_base: "https://partner.unloc.app/v1".into() }
    }

    fn desk(settings: &TeamSettings, password: &secrecy::SecretString, user: &str, desk: &str) -> Desk {
        let author = Author { user: user.into(), desk: desk.into() };
        let link = Arc::new(TeamLink::new(settings.clone(), password.clone(), scope(), author));
        let account = Arc::new(Account::new(Store::in_memory().unwrap()));
        let heard = Arc::new(Heard::default());
        start(&link, Arc::clone(&account), Some(heard.clone() as Arc<dyn KeyObserver>));
        Desk { link, account, heard }
    }

    /// Waits up to `limit` for `condition`; returns how long it took.
    async fn within(limit: Duration, what: &str, mut condition: impl FnMut() -> bool) -> Duration {
        let started = Instant::now();
        while !condition() {
            assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        started.elapsed()
    }

    fn create(desk: &Desk, id: &str) {
        let record = created_key(id, Utc::now());
        desk.account.with_store(|store| store.remember_created_key(&record, Utc::now())).unwrap();
        desk.link.nudge();
    }

    /// A key this app created for +4790000001 on lock "lock-1", starting at `start`.
    fn created_key(id: &str, start: DateTime<Utc>) -> CreatedKeyRecord<'_> {
        CreatedKeyRecord { id, lock_id: "lock-1", msn: Some("+4790000001"), route: None, start, end: None }
    }

    fn known(desk: &Desk, id: &str) -> Option<StoredKey> {
        desk.account.with_store(|store| store.key(id)).unwrap()
    }

    fn current(desk: &Desk) -> bool {
        desk.link.reach() == Reach::Current
    }

    #[tokio::test]
    async fn a_key_created_on_one_desk_shows_on_the_other_with_its_author_and_a_revoke_comes_back_with_its_revoker() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let anna = desk(&settings, &password, "Anna", "OFFICE-PC-2");
        let bjorn = desk(&settings, &password, "Bjørn", "OFFICE-PC-3");
        within(Duration::from_secs(10), "both desks current", || current(&anna) && current(&bjorn)).await;

        create(&anna, "k-anna");
        let took =
            within(Duration::from_secs(2), "Anna's key on Bjørn's desk", || known(&bjorn, "k-anna").is_some()).await;
        let seen = known(&bjorn, "k-anna").unwrap();
        assert_eq!((seen.created_by.as_deref(), seen.created_on_desk.as_deref()), (Some("Anna"), Some("OFFICE-PC-2")));
        assert!(seen.next_check_at.is_some(), "followed on Bjørn's desk too, as its lease allows");
        assert!(bjorn.heard.keys.lock().unwrap().iter().any(|view| view.id == "k-anna"), "the window heard of it");
        log::info!("a key reached the other desk in {took:?}");

        bjorn.account.with_store(|store| store.record_revoked("k-anna", Utc::now())).unwrap();
        bjorn.link.nudge();
        within(Duration::from_secs(2), "Bjørn's revoke on Anna's desk", || {
            known(&anna, "k-anna").and_then(|key| key.api_state).as_deref() == Some("revoked")
        })
        .await;
        let revoked = known(&anna, "k-anna").unwrap();
        assert_eq!(
            (revoked.revoked_by.as_deref(), revoked.revoked_on_desk.as_deref()),
            (Some("Bjørn"), Some("OFFICE-PC-3")),
            "who revoked it, and where, reached Anna's desk with the revoke"
        );
        let heard = anna.heard.keys.lock().unwrap().iter().rev().find(|view| view.id == "k-anna").cloned().unwrap();
        assert_eq!(heard.revoked_by.as_deref(), Some("Bjørn"), "the window heard who revoked it");
        let outbox = |desk: &Desk| desk.account.with_store(|store| store.team_outbox_len()).unwrap();
        within(Duration::from_secs(2), "both queues sent", || outbox(&anna) == 0 && outbox(&bjorn) == 0).await;
        let status = team_status_of(&anna);
        assert_eq!((status.state, status.queued), ("current", 0));
    }

    fn team_status_of(desk: &Desk) -> TeamStatus {
        let session = crate::session::Session {
            client: Arc::new(
                crate::api::ApiClient::new(crate::api::ClientConfig::new(
                    crate::api::ApiBase::parse("https://partner.unloc.app/v1").unwrap(),
                    crate::api::PartnerId::parse("office-partner").unwrap(),
                    secrecy::SecretString::from("t".to_owned()),
                ))
                .unwrap(),
            ),
            account: Arc::clone(&desk.account),
            team: Arc::default(),
        };
        session.team.set(Some(Arc::clone(&desk.link)));
        let status = team_status(&session);
        std::mem::forget(session); // setting it again would stop the desk's link
        status
    }

    #[tokio::test]
    async fn with_the_server_gone_both_desks_say_so_keep_working_and_send_their_queue_once_when_it_is_back() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let relay = Relay::start(&server).await;
        let through = relay.settings(&settings);
        let anna = desk(&through, &password, "Anna", "OFFICE-PC-2");
        let bjorn = desk(&through, &password, "Bjørn", "OFFICE-PC-3");
        within(Duration::from_secs(10), "both desks current", || current(&anna) && current(&bjorn)).await;
        // A third listener, straight to the server, counts what reaches the database.
        let mut announced = listen(&settings, &password, scope()).await.unwrap();

        relay.cut();
        within(Duration::from_secs(5), "both desks not current", || !current(&anna) && !current(&bjorn)).await;
        assert!(*anna.heard.team_changes.lock().unwrap() >= 2, "the window heard: current, then not");
        create(&anna, "k-offline");
        assert!(known(&anna, "k-offline").is_some(), "the desk works on from its local store");
        assert!(anna.account.with_store(|store| store.is_queued_for_team("k-offline")).unwrap());
        assert_eq!(team_status_of(&anna).queued, 1);
        assert!(announced.ready().is_empty());

        relay.restore().await;
        within(Duration::from_secs(10), "Anna's offline key on Bjørn's desk", || known(&bjorn, "k-offline").is_some())
            .await;
        within(Duration::from_secs(5), "both desks current again", || current(&anna) && current(&bjorn)).await;
        assert!(!anna.account.with_store(|store| store.is_queued_for_team("k-offline")).unwrap());
        // Sending again (a nudge, the next rounds) sends nothing new.
        anna.link.nudge();
        tokio::time::sleep(Duration::from_millis(1_500)).await; // the quiet that proves no second write
        let writes = announced.ready().into_iter().filter(|id| id == "k-offline").count();
        assert_eq!(writes, 1, "the queued key reached the database once");
        let views = bjorn.heard.keys.lock().unwrap().iter().filter(|view| view.id == "k-offline").count();
        assert_eq!(views, 1, "Bjørn's window heard of it once");
    }

    fn moment(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text).unwrap().with_timezone(&Utc)
    }

    fn api_key(id: &str, state: KeyState) -> Key {
        Key {
            id: id.into(),
            lock_id: "lock-1".into(),
            state,
            start: moment("2026-11-01T10:00:00Z"),
            end: None,
            events: Vec::new(),
        }
    }

    #[tokio::test]
    async fn a_queued_older_word_never_replaces_a_newer_one_from_another_desk() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let author = |user: &str| Author { user: user.into(), desk: "D".into() };
        let office = crate::team::TeamKeys::open(&settings, &password, scope(), author("Bjørn")).await.unwrap();
        // Anna's desk, offline: created at 09:00, seen active at 09:05; her queue is sent late.
        let anna = Store::in_memory().unwrap();
        let record = created_key("k", moment("2026-11-01T10:00:00Z"));
        anna.remember_created_key(&record, moment("2026-11-01T09:00:00Z")).unwrap();
        anna.record_check(&api_key("k", KeyState::Active), moment("2026-11-01T09:05:00Z")).unwrap();
        // Meanwhile Bjørn's desk revoked it at 09:10, and the office has that.
        office
            .push(&anna.key("k").unwrap().map(|key| StoredKey { api_state: Some("creating".into()), ..key }).unwrap())
            .await
            .unwrap();
        office.record_revoked("k", moment("2026-11-01T09:10:00Z")).await.unwrap();

        office.push(&anna.key("k").unwrap().unwrap()).await.unwrap();
        let kept = crate::key_store::KeyStore::key(&office, "k").await.unwrap().unwrap();
        assert_eq!(kept.api_state.as_deref(), Some("revoked"), "Anna's older 'active' did not undo the revoke");
        assert_eq!(kept.state_since, moment("2026-11-01T09:10:00Z"));
        // Even a later word (a desk whose clock runs fast) does not bring a revoked key back.
        let later = StoredKey {
            api_state: Some("active".into()),
            state_since: moment("2026-11-01T09:15:00Z"),
            ..anna.key("k").unwrap().unwrap()
        };
        office.push(&later).await.unwrap();
        let kept = crate::key_store::KeyStore::key(&office, "k").await.unwrap().unwrap();
        assert_eq!(kept.api_state.as_deref(), Some("revoked"), "a final state is never left");

        // A newer word on a key still moving is taken; an older one is not.
        let other = Store::in_memory().unwrap();
        other.remember_created_key(&CreatedKeyRecord { id: "m", ..record }, moment("2026-11-01T09:00:00Z")).unwrap();
        office.push(&other.key("m").unwrap().unwrap()).await.unwrap();
        other.record_check(&api_key("m", KeyState::Scheduled), moment("2026-11-01T09:20:00Z")).unwrap();
        office.push(&other.key("m").unwrap().unwrap()).await.unwrap();
        let stale = StoredKey {
            api_state: Some("creating".into()),
            state_since: moment("2026-11-01T09:01:00Z"),
            ..other.key("m").unwrap().unwrap()
        };
        office.push(&stale).await.unwrap();
        let kept = crate::key_store::KeyStore::key(&office, "m").await.unwrap().unwrap();
        assert_eq!(kept.api_state.as_deref(), Some("scheduled"));
    }

    #[test]
    fn the_local_store_takes_a_newer_word_from_the_office_and_keeps_its_own_newer_one() {
        let store = Store::in_memory().unwrap();
        let record = created_key("k", moment("2026-11-01T10:00:00Z"));
        store.remember_created_key(&record, moment("2026-11-01T09:00:00Z")).unwrap();
        let mine = store.key("k").unwrap().unwrap();
        let office_revoked = StoredKey {
            api_state: Some("revoked".into()),
            state_since: moment("2026-11-01T09:10:00Z"),
            created_by: Some("Bjørn".into()),
            ..mine.clone()
        };
        let merged = store.merge_shared_key(&office_revoked).unwrap().expect("a newer word changes the key");
        assert_eq!((merged.api_state.as_deref(), merged.next_check_at), (Some("revoked"), None));
        assert_eq!(merged.created_by.as_deref(), Some("Bjørn"), "what was missing here is filled in");
        let older = StoredKey { api_state: Some("active".into()), state_since: moment("2026-11-01T09:05:00Z"), ..mine };
        assert_eq!(store.merge_shared_key(&older).unwrap(), None, "an older word changes nothing");
        assert_eq!(store.merge_shared_key(&office_revoked).unwrap(), None, "the same word twice changes nothing");
        assert!(!store.is_queued_for_team("k").unwrap(), "nothing from the office is sent back (no sharing on)");
    }
}
