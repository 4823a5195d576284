//! The people directory in team mode: what this desk adds, edits and removes goes to the office's
//! database (queued in the local store first, so an offline desk sends it later), and what other
//! desks change comes back into the local directory, which stays the offline cache.

use std::sync::Arc;
use std::time::Duration;

use crate::account::Account;
use crate::keys::follow::KeyObserver;
use crate::team::{TeamError, TeamLink, TeamProblem, TeamResult};

/// How often the office's directory is looked at (and the queue sent) when nothing nudged it.
const ROUND: Duration = Duration::from_secs(2);
const BATCH: usize = 200;

/// Keeps `account`'s directory in step with the office's through `link`, until the link stops;
/// `observer` hears when other desks' changes were taken in (the window reloads the directory).
pub fn start(link: &Arc<TeamLink>, account: Arc<Account>, observer: Option<Arc<dyn KeyObserver>>) {
    let link_for_task = Arc::clone(link);
    link.spawn(async move {
        loop {
            match exchange(&link_for_task, &account).await {
                Ok(0) => {}
                Ok(_) => {
                    if let Some(observer) = &observer {
                        observer.people_changed();
                    }
                }
                Err(error) => log::info!("people directory: not in step with the office now ({error})"),
            }
            tokio::select! {
                _ = tokio::time::sleep(ROUND) => {}
                _ = link_for_task.nudged() => {}
            }
        }
    });
}

/// Sends what waits here, then takes in what other desks changed; returns how many people changed
/// here. Stops at the first failure: the rest waits for the next try.
pub async fn exchange(link: &TeamLink, account: &Account) -> TeamResult<usize> {
    let office = link.keys().await?;
    let settings = link.settings();
    let cursor = format!("people {}:{}/{}", settings.host, settings.port, settings.database);
    if account.with_store(|store| store.team_cursor(&cursor)).map_err(local)? == 0 {
        // The first exchange with this office: the directory this desk had goes there too.
        account.with_store(|store| store.queue_every_person()).map_err(local)?;
    }
    loop {
        let waiting = account.with_store(|store| store.people_outbox(BATCH)).map_err(local)?;
        if waiting.is_empty() {
            break;
        }
        for change in &waiting {
            office.push_person(change).await?;
            account.with_store(|store| store.person_sent(change)).map_err(local)?;
        }
    }
    let mut changed = 0;
    loop {
        let after = account.with_store(|store| store.team_cursor(&cursor)).map_err(local)?;
        let (changes, next) = office.people_changed(after, BATCH as i64).await?;
        for change in &changes {
            if account.with_store(|store| store.take_in_person(change)).map_err(local)? {
                changed += 1;
            }
        }
        account.with_store(|store| store.set_team_cursor(&cursor, next)).map_err(local)?;
        if changes.len() < BATCH {
            return Ok(changed);
        }
    }
}

fn local(error: crate::store::StoreError) -> TeamError {
    TeamError::new(TeamProblem::Other, error.to_string())
}

#[cfg(test)]
mod tests {
    //! Against the real throwaway server (tests/scripts/with-postgres.sh); skipped without it.

    use secrecy::SecretString;

    use super::*;
    use crate::store::{Sharing, Store};
    use crate::team::testing::server;
    use crate::team::{Author, Scope, TeamSettings};

    struct Desk {
        account: Account,
        link: TeamLink,
    }

    fn desk(settings: &TeamSettings, password: &SecretString, name: &str) -> Desk {
        let account = Account::new(Store::in_memory().unwrap());
        account.with_store(|store| store.set_sharing(Some(Sharing { user: "Anna".into(), desk: name.into() })));
        let scope = Scope { partner_id: "p1".into(), api_base: "https://partner.unloc.app/v1".into() };
        let link =
            TeamLink::new(settings.clone(), password.clone(), scope, Author { user: "Anna".into(), desk: name.into() });
        Desk { account, link }
    }

    /// Desks PC-1 and PC-2 of one office, both with Kari in their directory (saved on PC-1, then
    /// exchanged by both).
    async fn two_desks_knowing_kari(settings: &TeamSettings, password: &SecretString) -> (Desk, Desk) {
        let (a, b) = (desk(settings, password, "PC-1"), desk(settings, password, "PC-2"));
        crate::people::save(&a.account, None, "Kari", "90000000", None).unwrap();
        a.exchange().await;
        b.exchange().await;
        (a, b)
    }

    impl Desk {
        async fn exchange(&self) -> usize {
            exchange(&self.link, &self.account).await.unwrap()
        }

        /// Each person as "name (phone) note".
        fn directory(&self) -> Vec<String> {
            crate::people::list(&self.account)
                .unwrap()
                .into_iter()
                .map(|person| format!("{} ({}) {}", person.name, person.phone, person.note.unwrap_or_default()))
                .collect()
        }
    }

    #[tokio::test]
    async fn people_added_edited_and_removed_on_one_desk_appear_on_the_other() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let (a, b) = (desk(&settings, &password, "PC-1"), desk(&settings, &password, "PC-2"));

        let kari = crate::people::save(&a.account, None, "Kari Nordmann", "900 00 000", Some("Team Nord")).unwrap();
        a.exchange().await;
        assert_eq!(b.exchange().await, 1);
        assert_eq!(b.directory(), ["Kari Nordmann (+4790000000) Team Nord"]);

        let on_b = crate::people::list(&b.account).unwrap().remove(0);
        crate::people::save(&b.account, Some(on_b.id), "Kari Nordmann", "90000000", Some("Team Sør")).unwrap();
        b.exchange().await;
        a.exchange().await;
        assert_eq!(a.directory(), ["Kari Nordmann (+4790000000) Team Sør"]);

        // A new number is the old one gone and a new one there.
        crate::people::save(&a.account, Some(kari.id), "Kari Nordmann", "91111111", None).unwrap();
        a.exchange().await;
        b.exchange().await;
        assert_eq!(b.directory(), ["Kari Nordmann (+4791111111) "]);

        crate::people::delete(&a.account, kari.id).unwrap();
        a.exchange().await;
        b.exchange().await;
        assert!(b.directory().is_empty(), "{:?}", b.directory());
    }

    /// Counts what the window would hear of the people directory.
    #[derive(Default)]
    struct Heard(std::sync::atomic::AtomicUsize);

    impl KeyObserver for Heard {
        fn keys_changed(&self, _: &[crate::keys::KeyView]) {}
        fn status_changed(&self, _: &crate::keys::KeyView, _: crate::keys::KeyStatus) {}
        fn people_changed(&self) {
            self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_person_added_on_one_desk_is_announced_to_the_other_desks_window_within_seconds() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let a = desk(&settings, &password, "PC-1");
        let b = desk(&settings, &password, "PC-2");
        let (b_account, b_link) = (Arc::new(b.account), Arc::new(b.link));
        let heard = Arc::new(Heard::default());
        start(&b_link, Arc::clone(&b_account), Some(Arc::clone(&heard) as Arc<dyn KeyObserver>));
        let announced = || heard.0.load(std::sync::atomic::Ordering::SeqCst);

        crate::people::save(&a.account, None, "Kari Nordmann", "900 00 000", None).unwrap();
        a.exchange().await;
        let sent = std::time::Instant::now();
        // The 2 s, plus one more round and room for a loaded machine: B is not nudged, it
        // finds the change on its own round.
        let limit = 2 * ROUND + Duration::from_secs(2);
        while announced() == 0 {
            assert!(sent.elapsed() < limit, "the other desk's window heard nothing within {limit:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        log::info!("a person added on one desk was announced on the other after {:?}", sent.elapsed());
        let names: Vec<String> =
            crate::people::list(&b_account).unwrap().into_iter().map(|person| person.name).collect();
        assert_eq!(names, ["Kari Nordmann"], "taken in before the window was told");
        // Nothing new: nothing announced again.
        tokio::time::sleep(ROUND + Duration::from_millis(500)).await;
        assert_eq!(announced(), 1);
    }

    /// What a server that is stopped sends its clients before it goes: "terminating connection due
    /// to administrator command" (pg_terminate_backend sends the same). Each desk's next round
    /// already works: the pool hands out no connection the server ended (each one answers an empty
    /// query first), and what was written meanwhile reaches the other desk once.
    #[tokio::test]
    async fn connections_the_server_ends_are_made_again_and_nothing_is_lost_or_doubled() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let (a, b) = two_desks_knowing_kari(&settings, &password).await;

        let admin = server.admin(&settings.database).await;
        let ended: i64 = admin
            .query_one(
                "SELECT COUNT(pg_terminate_backend(pid)) FROM pg_stat_activity
                 WHERE datname = current_database() AND pid <> pg_backend_pid()",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        assert!(ended >= 2, "both desks were connected: {ended} connections ended");

        crate::people::save(&a.account, None, "Ola", "92222222", None).unwrap();
        exchange(&a.link, &a.account)
            .await
            .unwrap_or_else(|error| panic!("A's first round after the server ended its connection: {error:?}"));
        assert_eq!(a.account.with_store(|store| store.people_outbox_len()).unwrap(), 0, "sent");
        let taken_in = exchange(&b.link, &b.account)
            .await
            .unwrap_or_else(|error| panic!("B's first round after the server ended its connection: {error:?}"));
        assert_eq!(taken_in, 1, "Ola, once");
        assert_eq!(b.directory(), ["Kari (+4790000000) ", "Ola (+4792222222) "]);
        let rows: i64 = admin.query_one("SELECT COUNT(*) FROM team_people", &[]).await.unwrap().get(0);
        assert_eq!(rows, 2, "each person once in the office's directory");
    }

    #[tokio::test]
    async fn written_offline_is_sent_later_once_and_never_over_a_newer_change() {
        let Some(server) = server() else { return };
        let (settings, password) = server.fresh_database().await;
        let (a, b) = two_desks_knowing_kari(&settings, &password).await;

        // Desk A loses the server (a port where nothing listens) and writes on.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let mut away = settings.clone();
        away.port = listener.local_addr().unwrap().port();
        drop(listener);
        let offline = desk(&away, &password, "PC-1");
        let kari_on_a = crate::people::list(&a.account).unwrap().remove(0);
        crate::people::save(&a.account, Some(kari_on_a.id), "Kari (from A)", "90000000", None).unwrap();
        crate::people::save(&a.account, None, "Ola", "92222222", None).unwrap();
        let failed = exchange(&offline.link, &a.account).await;
        assert_eq!(failed.unwrap_err().problem, TeamProblem::Unreachable);
        assert_eq!(a.account.with_store(|store| store.people_outbox_len()).unwrap(), 2, "queued, not lost");

        // Meanwhile desk B changes Kari later than A did.
        let kari_on_b = crate::people::list(&b.account).unwrap().remove(0);
        crate::people::save(&b.account, Some(kari_on_b.id), "Kari (from B)", "90000000", None).unwrap();
        b.exchange().await;

        // A is back: Ola reaches the office, A's older word on Kari does not replace B's newer one,
        // and A takes B's in.
        a.exchange().await;
        a.exchange().await;
        assert_eq!(a.account.with_store(|store| store.people_outbox_len()).unwrap(), 0);
        b.exchange().await;
        let expected = ["Kari (from B) (+4790000000) ", "Ola (+4792222222) "];
        assert_eq!(a.directory(), expected);
        assert_eq!(b.directory(), expected);
        let admin = server.admin(&settings.database).await;
        let rows: i64 = admin.query_one("SELECT COUNT(*) FROM team_people", &[]).await.unwrap().get(0);
        assert_eq!(rows, 2, "each person once in the office's directory");
    }
}
