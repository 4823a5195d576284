//! The IPC contract is written in five places; this checks that they name the same commands.
//!
//! `lib.rs` registers the handlers, `build.rs` makes each a permission, the capability file
//! grants them to the window, `ui/js/ipc.js` calls them, and `docs/architecture.md` describes
//! them. A command missing from one place fails at run time (or silently in the docs), so the
//! five lists are compared here, as text, straight from the repository.

use std::collections::BTreeSet;
use std::path::Path;

type Names = BTreeSet<String>;

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("cannot read {}: {error}", path.display()))
}

/// The text between `open` and the first `close` after it.
fn between<'a>(text: &'a str, open: &str, close: &str) -> &'a str {
    let start = text.find(open).unwrap_or_else(|| panic!("no `{open}` found")) + open.len();
    let end = text[start..].find(close).unwrap_or_else(|| panic!("no `{close}` after `{open}`"));
    &text[start..start + end]
}

/// Every `'name'` / `"name"` right after `marker` in `text`.
fn quoted_after(text: &str, marker: &str) -> Names {
    text.match_indices(marker)
        .filter_map(|(at, _)| {
            let rest = &text[at + marker.len()..];
            let quote = rest.chars().next().filter(|c| *c == '\'' || *c == '"')?;
            rest[1..].split(quote).next().map(str::to_owned)
        })
        .collect()
}

fn registered_in_lib() -> Names {
    let lib = read("src/lib.rs");
    between(&lib, "generate_handler![", "]")
        .split(',')
        .map(str::trim)
        .filter(|path| !path.is_empty())
        .map(|path| path.rsplit("::").next().unwrap_or(path).to_owned())
        .collect()
}

fn declared_in_build() -> Names {
    let build = read("build.rs");
    between(&build, ".commands(&[", "]")
        .split(',')
        .map(|item| item.trim().trim_matches('"'))
        .filter(|name| !name.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `allow-sign-in` grants `sign_in`; plugin permissions (`core:…`) are not the app's commands.
fn granted_in_capabilities() -> Names {
    let capability: serde_json::Value = serde_json::from_str(&read("capabilities/main.json")).unwrap();
    capability["permissions"]
        .as_array()
        .expect("a permissions list")
        .iter()
        .filter_map(|permission| permission.as_str())
        .filter(|permission| !permission.contains(':'))
        .map(|permission| permission.strip_prefix("allow-").unwrap_or(permission).replace('-', "_"))
        .collect()
}

fn called_from_ipc_js() -> Names {
    quoted_after(&read("../ui/js/ipc.js"), "call(")
}

/// The first column of every table whose header starts with `| command |`.
fn documented_in_architecture() -> Names {
    let mut names = Names::new();
    let mut in_command_table = false;
    for line in read("../docs/architecture.md").lines().map(str::trim) {
        if !line.starts_with('|') {
            in_command_table = false;
        } else if line.starts_with("| command |") {
            in_command_table = true;
        } else if in_command_table {
            let first = line.trim_start_matches('|').split('|').next().unwrap_or("").trim();
            if let Some(name) = first.strip_prefix('`').and_then(|name| name.strip_suffix('`')) {
                names.insert(name.to_owned());
            }
        }
    }
    names
}

/// Which of the places lack a command another one names, as readable lines.
fn disagreements(places: &[(&str, Names)]) -> Vec<String> {
    let all: Names = places.iter().flat_map(|(_, names)| names.iter().cloned()).collect();
    places
        .iter()
        .filter_map(|(place, names)| {
            let missing: Vec<_> = all.difference(names).cloned().collect();
            (!missing.is_empty()).then(|| format!("{place} lacks {missing:?}"))
        })
        .collect()
}

#[test]
fn the_five_places_name_the_same_commands() {
    let places = [
        ("src-tauri/src/lib.rs (generate_handler!)", registered_in_lib()),
        ("src-tauri/build.rs (AppManifest::commands)", declared_in_build()),
        ("src-tauri/capabilities/main.json", granted_in_capabilities()),
        ("ui/js/ipc.js", called_from_ipc_js()),
        ("docs/architecture.md (command tables)", documented_in_architecture()),
    ];
    for (place, names) in &places {
        assert!(names.len() >= 10, "{place}: only {names:?} found; has its format changed?");
    }
    let problems = disagreements(&places);
    assert!(problems.is_empty(), "the IPC contract disagrees:\n{}", problems.join("\n"));
}

#[test]
fn a_place_that_lacks_a_command_is_named() {
    let full: Names = ["sign_in", "sign_out"].map(str::to_owned).into();
    let short: Names = ["sign_in"].map(str::to_owned).into();
    let problems = disagreements(&[("lib.rs", full.clone()), ("ipc.js", short), ("docs", full)]);
    assert_eq!(problems, ["ipc.js lacks [\"sign_out\"]"]);
}
