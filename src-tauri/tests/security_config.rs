//! The security configuration, checked as data: the CSP forbids inline scripts and remote origins,
//! and the window's capabilities grant exactly the commands the UI calls (and the one event it listens to).

use std::collections::BTreeSet;
use std::path::Path;

fn read(path: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

fn tauri_conf() -> serde_json::Value {
    serde_json::from_str(&read("tauri.conf.json")).unwrap()
}

#[test]
fn the_csp_allows_only_the_app_itself() {
    let csp = tauri_conf()["app"]["security"]["csp"].clone();
    let directive = |name: &str| csp[name].as_str().unwrap_or_else(|| panic!("no {name} in the CSP")).to_owned();
    for name in ["default-src", "script-src", "style-src", "connect-src", "img-src"] {
        let value = directive(name);
        assert!(!value.contains("'unsafe-inline'") && !value.contains("'unsafe-eval'"), "{name}: {value}");
        assert!(!value.contains('*'), "{name} allows any origin: {value}");
        for source in value.split_whitespace() {
            let allowed = ["'self'", "data:", "ipc:", "http://ipc.localhost"];
            assert!(
                allowed.contains(&source),
                "{name} allows {source}: only the app itself and Tauri's IPC may be named"
            );
        }
    }
    assert_eq!(directive("script-src"), "'self'");
    assert_eq!(directive("object-src"), "'none'");
    assert_eq!(directive("base-uri"), "'none'");
}

#[test]
fn no_inline_script_or_handler_in_the_page() {
    let html = read("../ui/index.html");
    for (at, _) in html.match_indices("<script") {
        let tag = &html[at..at + html[at..].find('>').unwrap()];
        assert!(tag.contains("src="), "inline script: {tag}");
    }
    for handler in [" onclick=", " onload=", " onerror=", " oninput=", " onchange=", " style="] {
        assert!(!html.contains(handler), "index.html has an inline{handler}");
    }
}

/// Every `call('name'` in ipc.js, the UI's only door to Rust.
fn commands_the_ui_calls() -> BTreeSet<String> {
    let ipc = read("../ui/js/ipc.js");
    ipc.match_indices("call('")
        .map(|(at, found)| {
            let rest = &ipc[at + found.len()..];
            rest[..rest.find('\'').unwrap()].to_owned()
        })
        .collect()
}

#[test]
fn capabilities_grant_exactly_what_the_ui_calls() {
    let capability: serde_json::Value = serde_json::from_str(&read("capabilities/main.json")).unwrap();
    let granted: BTreeSet<String> =
        capability["permissions"].as_array().unwrap().iter().map(|p| p.as_str().unwrap().to_owned()).collect();
    let commands = commands_the_ui_calls();
    assert!(commands.len() >= 10, "ipc.js calls too few commands to be right: {commands:?}");
    let mut expected: BTreeSet<String> =
        commands.iter().map(|name| format!("allow-{}", name.replace('_', "-"))).collect();
    // The UI listens to `keys-changed` and `update-available` through Tauri's event API.
    expected.insert("core:event:allow-listen".into());
    expected.insert("core:event:allow-unlisten".into());
    assert_eq!(granted, expected, "capabilities and the commands ipc.js calls differ");
}

#[test]
fn the_ui_reaches_tauri_only_through_ipc_js() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/js");
    let mut files = vec![dir.clone()];
    while let Some(path) = files.pop() {
        if path.is_dir() {
            files.extend(std::fs::read_dir(&path).unwrap().flatten().map(|entry| entry.path()));
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() != "ipc.js" {
            assert!(!text.contains("__TAURI__"), "{} touches window.__TAURI__", path.display());
        }
        for sink in [".innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"] {
            assert!(!text.contains(sink), "{} uses {sink}", path.display());
        }
    }
}
