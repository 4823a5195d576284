//! The installed package (run by tests/scripts/install-test.sh after installing the .deb): it opens at
//! sign-in, with its name and icon in the window list. Ignored in the main run, where nothing is
//! installed, so that run counts it as ignored rather than passed.

use std::process::Command;

use unloc_sim::SimConfig;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs the installed package: tests/scripts/install-test.sh runs it"]
async fn installed_package_opens_at_sign_in_with_its_name_and_icon() -> TestResult {
    scenario("installed", SimConfig { lockout_after: 0, locks: 5, ..SimConfig::default() })
        .only_when_installed()
        .run(async |client, _scenario| {
            let heading = visible_text(client, "#signin-view h1").await?;
            ensure!(heading.contains("Sign in"), "sign-in heading: {heading}");
            // The harness offers UNLOC_PARTNER_ID and UNLOC_API_BASE: a release build takes neither.
            let offered = client.execute("return document.querySelector('#partner-id').value", vec![]).await?;
            ensure_eq!(
                offered,
                serde_json::json!(""),
                "a release build must not take the partner id from the environment"
            );
            screenshot(client, "installed-signin").await?;
            // The window list shows the app's name and icon.
            let windows = Command::new("xdotool").args(["search", "--name", "^Unloc Desk"]).output()?;
            let window = String::from_utf8_lossy(&windows.stdout).lines().next().unwrap_or_default().to_owned();
            ensure!(!window.is_empty(), "no window named Unloc Desk");
            let properties =
                Command::new("xprop").args(["-id", &window, "_NET_WM_NAME", "WM_CLASS", "_NET_WM_ICON"]).output()?;
            let properties = String::from_utf8_lossy(&properties.stdout);
            ensure!(properties.contains("\"Unloc Desk\""), "window name: {properties:.300}");
            ensure!(properties.contains("_NET_WM_ICON(CARDINAL)"), "the window has no icon: {properties:.300}");
            Ok(())
        })
        .await
}
