//! The local store on a full disk and in a read-only folder, on real (tmpfs) mounts so the errors
//! are the ones SQLite and the kernel really give: each is said as what it is, and nothing is set
//! aside. Mounting needs root (CAP_SYS_ADMIN); where it is impossible the tests say so and skip.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::Utc;
use unloc_desk::account::Account;
use unloc_desk::api::Lock;
use unloc_desk::error::{AppError, ErrorKind};

const PARTNER: &str = "partner-disk";
const BASE: &str = "https://api.unloc.app/v1";

/// A tmpfs mounted on a fresh folder, unmounted and removed on drop.
struct Tmpfs {
    dir: PathBuf,
}

impl Tmpfs {
    /// `None` (after saying why) when this machine does not let the test mount.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = std::env::temp_dir().join(format!(
            "unloc-store-disk-{}-{}",
            std::process::id(),
            Utc::now().timestamp_nanos_opt().unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("a folder under the temp dir");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(&dir)
            .output()
            .map(|output| (output.status.success(), String::from_utf8_lossy(&output.stderr).into_owned()));
        match mounted {
            Ok((true, _)) => Some(Tmpfs { dir }),
            Ok((false, why)) => skip(&dir, why.trim()),
            Err(error) => skip(&dir, &error.to_string()),
        }
    }

    fn remount(&self, mode: &str) {
        let status = Command::new("mount").args(["-o", &format!("remount,{mode}")]).arg(&self.dir).status();
        assert!(status.is_ok_and(|status| status.success()), "remount {mode} failed");
    }
}

#[allow(clippy::print_stderr)] // a skipped test says why, where `cargo test` shows it
fn skip(dir: &Path, why: &str) -> Option<Tmpfs> {
    eprintln!("SKIPPED: cannot mount a tmpfs here ({why}); run as root to test a full and a read-only disk");
    let _ = std::fs::remove_dir(dir);
    None
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(&self.dir).status();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn locks(count: usize, name_length: usize) -> Vec<Lock> {
    (0..count)
        .map(|index| {
            serde_json::from_value(serde_json::json!({
                "id": format!("lock-{index}"),
                "name": format!("{index} {}", "x".repeat(name_length)),
                "auth": "opt-out",
                "data": "d",
            }))
            .expect("a valid lock")
        })
        .collect()
}

fn set_aside_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("the account folder")
        .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.contains(".damaged-"))
        .collect()
}

fn cached_lock_count(account: &Account) -> usize {
    account.with_store(|store| store.cached_locks()).expect("readable").map(|(locks, _)| locks.len()).unwrap_or(0)
}

/// Fills the rest of the file system with one file; returns it.
fn fill(dir: &Path) -> PathBuf {
    use std::io::Write;
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("the filler file");
    let block = vec![0u8; 4096];
    while file.write_all(&block).is_ok() {}
    let _ = file.sync_all();
    path
}

#[test]
fn a_full_disk_is_said_as_such_and_nothing_is_set_aside() {
    let Some(disk) = Tmpfs::mount("512k") else {
        return;
    };
    let (account, notice) = Account::open(Some(&disk.dir), PARTNER, BASE);
    assert_eq!(notice, None);
    account.remember_locks(&locks(3, 10), Utc::now()).expect("room for three locks");

    let filler = fill(&disk.dir);
    let error = account.remember_locks(&locks(400, 200), Utc::now()).expect_err("no room for 80 KB more");
    assert_eq!(AppError::from(error).kind, ErrorKind::StoreFull);
    drop(account);

    // Opening again on the full disk: whatever SQLite manages, the file is not taken for damaged.
    let (account, notice) = Account::open(Some(&disk.dir), PARTNER, BASE);
    if let Some(notice) = &notice {
        assert_eq!(notice.kind, ErrorKind::StoreFull, "{notice:?}");
    }
    assert!(set_aside_files(&disk.dir).is_empty(), "set aside: {:?}", set_aside_files(&disk.dir));
    drop(account);

    // With room again, everything saved before is still there.
    std::fs::remove_file(filler).expect("the filler goes");
    let (account, notice) = Account::open(Some(&disk.dir), PARTNER, BASE);
    assert_eq!(notice, None);
    assert_eq!(cached_lock_count(&account), 3);
}

#[test]
fn a_read_only_folder_is_said_as_such_and_nothing_is_set_aside() {
    let Some(disk) = Tmpfs::mount("1m") else {
        return;
    };
    let (account, _) = Account::open(Some(&disk.dir), PARTNER, BASE);
    account.remember_locks(&locks(3, 10), Utc::now()).expect("a writable disk");
    drop(account);

    disk.remount("ro");
    let (account, notice) = Account::open(Some(&disk.dir), PARTNER, BASE);
    let notice = notice.expect("a read-only folder is worth telling");
    assert_eq!(notice.kind, ErrorKind::StoreReadOnly, "{notice:?}");
    assert!(notice.message.contains("memory only"), "{}", notice.message);
    // This run still works, in memory.
    account.remember_locks(&locks(1, 10), Utc::now()).expect("the in-memory store");
    drop(account);

    disk.remount("rw");
    assert!(set_aside_files(&disk.dir).is_empty(), "set aside: {:?}", set_aside_files(&disk.dir));
    let (account, notice) = Account::open(Some(&disk.dir), PARTNER, BASE);
    assert_eq!(notice, None);
    assert_eq!(cached_lock_count(&account), 3, "the saved locks are untouched");
}
