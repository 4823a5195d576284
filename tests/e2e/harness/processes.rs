//! The processes a scenario started, found in /proc: tauri-driver's descendants (WebKitWebDriver, the
//! app, WebKit's helper processes), so that a scenario that hung can be made to leave none behind.

use std::process::Command;

/// One process, known by its id and its start time (an id alone may be reused once it ended).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Process {
    pub pid: u32,
    started: u64,
    pub name: String,
}

/// The parent id and start time in /proc/<pid>/stat: the fields after the command name, which is in
/// parentheses and may itself hold spaces or parentheses.
fn parent_and_start(stat: &str) -> Option<(u32, u64)> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // Field 4 of stat is the parent, field 22 the start time; `fields` begins at field 3.
    Some((fields.get(1)?.parse().ok()?, fields.get(19)?.parse().ok()?))
}

impl Process {
    /// The process `pid` as it is now, if it exists.
    pub fn find(pid: u32) -> Option<Process> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (_, started) = parent_and_start(&stat)?;
        let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default().trim().to_owned();
        Some(Process { pid, started, name })
    }

    /// Still running: the same process (same start time), not ended, not a zombie waiting to be reaped.
    pub fn is_running(&self) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid)) else { return false };
        let state = stat.rfind(')').and_then(|end| stat[end + 1..].split_whitespace().next());
        parent_and_start(&stat).is_some_and(|(_, started)| started == self.started) && state != Some("Z")
    }

    /// SIGKILL, if it is still this process.
    pub fn kill(&self) {
        if self.is_running() {
            let _ = Command::new("kill").args(["-KILL", &self.pid.to_string()]).status();
        }
    }
}

/// Every process below `root` (children, their children, …), parents before children.
pub fn descendants(root: u32) -> Vec<Process> {
    let mut parents: Vec<(u32, u32)> = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|name| name.parse::<u32>().ok()) else { continue };
        if let Some((parent, _)) =
            std::fs::read_to_string(entry.path().join("stat")).ok().as_deref().and_then(parent_and_start)
        {
            parents.push((pid, parent));
        }
    }
    let mut found = Vec::new();
    let mut queue = vec![root];
    while let Some(parent) = queue.pop() {
        for (pid, _) in parents.iter().filter(|(_, of)| *of == parent) {
            if let Some(process) = Process::find(*pid) {
                found.push(process);
                queue.push(*pid);
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parent_and_start_time_are_read_after_a_name_with_spaces_and_parentheses() {
        let stat = "4242 (Web (Content) 1) S 4100 4242 4100 0 -1 4194560 1 2 3 4 5 6 7 8 20 0 9 0 123456 7 8";
        assert_eq!(parent_and_start(stat), Some((4100, 123456)));
    }

    #[test]
    fn a_child_is_found_below_its_parent_and_is_gone_once_killed() {
        let mut child = Command::new("sleep").arg("60").spawn().expect("sleep starts");
        let found = descendants(std::process::id());
        let sleeper = found.iter().find(|process| process.pid == child.id()).expect("the child is found").clone();
        assert_eq!(sleeper.name, "sleep");
        assert!(sleeper.is_running());
        sleeper.kill();
        let _ = child.wait();
        assert!(!sleeper.is_running(), "a killed and reaped child is not running");
    }
}
