//! Imports point down only: no module of the app uses one that uses it back.
//!
//! The allowed direction (docs/README.md): commands → domain (access, session, keys, locks,
//! account, store, settings, updates) → api. Lower modules report upward through a callback or
//! a trait passed in. This reads every `crate::…` path in src/ and looks for a circle between the
//! crate's top-level modules.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            found.push(path);
        }
    }
}

/// The top-level module a file belongs to: `src/keys/follow.rs` is in `keys`.
fn module_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).unwrap();
    let first = relative.components().next().unwrap().as_os_str().to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

/// The modules named by `crate::name` paths in `text`. A grouped `use crate::{…}` would hide
/// names from this reading, so it is refused: write one `use` per module.
fn uses_in(file: &str, text: &str) -> BTreeSet<String> {
    assert!(!text.contains("crate::{"), "{file}: write `use crate::a::…;` per module, not `crate::{{…}}`");
    text.match_indices("crate::")
        .filter(|(at, _)| !text[..*at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
        .map(|(at, marker)| {
            text[at + marker.len()..].chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .collect()
}

fn app_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut graph = Graph::new();
    for file in files {
        let module = module_of(&src, &file);
        // The crate root and the binary wire everything together; nothing imports them.
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let uses = uses_in(&file.display().to_string(), &text);
        graph.entry(module.clone()).or_default().extend(uses.into_iter().filter(|used| *used != module));
    }
    graph
}

/// A circle of modules, if there is one (depth-first search, each circle reported from its start).
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(node: &str, graph: &Graph, path: &mut Vec<String>, done: &mut BTreeSet<String>) -> Option<Vec<String>> {
        if let Some(start) = path.iter().position(|seen| seen == node) {
            let mut cycle = path[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, path, done) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

#[test]
fn no_module_imports_one_that_imports_it_back() {
    let graph = app_graph();
    assert!(graph.contains_key("session") && graph.contains_key("keys"), "src/ not read: {graph:?}");
    if let Some(cycle) = find_cycle(&graph) {
        panic!("modules in a circle: {}", cycle.join(" → "));
    }
}

#[test]
fn the_api_client_and_the_domain_know_nothing_of_the_layers_above() {
    let graph = app_graph();
    let above = ["commands", "state", "notify", "window"];
    for (module, uses) in &graph {
        if above.contains(&module.as_str()) {
            continue;
        }
        let upward: Vec<_> = uses.iter().filter(|used| above.contains(&used.as_str())).collect();
        assert!(upward.is_empty(), "{module} reaches up into {upward:?}");
    }
    let api = &graph["api"];
    assert!(api.iter().all(|used| used == "api"), "the API client imports app modules: {api:?}");
}

/// Where an HTTP client is begun in `text`, if anywhere: the ways reqwest offers to make one.
fn http_client_made_in(text: &str) -> Option<&'static str> {
    // `ApiClient::new(` is the API client itself, made wherever a session starts: not a match.
    let plain_client_new = text.match_indices("Client::new(").any(|(at, _)| !text[..at].ends_with("Api"));
    ["Client::builder(", "ClientBuilder::new(", "reqwest::get("]
        .into_iter()
        .find(|making| text.contains(making))
        .or(plain_client_new.then_some("Client::new("))
}

/// Every request to Unloc goes through the API client and its governor: no other module makes an
/// HTTP client of its own (the updater plugin makes its own inside Tauri; the app only limits it).
#[test]
fn only_the_api_client_makes_http_clients() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let makers: Vec<String> = files
        .iter()
        .filter(|file| module_of(&src, file) != "api")
        .filter_map(|file| {
            let text = std::fs::read_to_string(file).unwrap();
            http_client_made_in(&text).map(|making| format!("{} ({making}…)", file.display()))
        })
        .collect();
    assert!(files.len() > 20, "src/ not read: {} files", files.len());
    assert!(makers.is_empty(), "HTTP clients made outside src/api: {makers:?}");
}

#[test]
fn a_client_made_any_way_is_seen() {
    assert_eq!(http_client_made_in("let c = reqwest::Client::builder().build()"), Some("Client::builder("));
    assert_eq!(http_client_made_in("apply(reqwest::ClientBuilder::new())"), Some("ClientBuilder::new("));
    assert_eq!(http_client_made_in("let body = reqwest::get(url)"), Some("reqwest::get("));
    assert_eq!(http_client_made_in("let c = reqwest::Client::new();"), Some("Client::new("));
    assert_eq!(http_client_made_in("limits.apply(crate::api::http_client_builder())"), None);
    assert_eq!(http_client_made_in("Ok(ApiClient::new(config)?)"), None);
}

#[test]
fn a_circle_is_found() {
    let graph: Graph = [("a", "b"), ("b", "c"), ("c", "a"), ("d", "a")]
        .into_iter()
        .map(|(from, to)| (from.to_owned(), BTreeSet::from([to.to_owned()])))
        .collect();
    assert_eq!(find_cycle(&graph), Some(["a", "b", "c", "a"].map(str::to_owned).to_vec()));
    let mut fine = graph.clone();
    fine.remove("c");
    assert_eq!(find_cycle(&fine), None);
}
