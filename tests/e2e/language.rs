//! Language: Norwegian chosen from the OS, and switched to English in the settings.

use unloc_sim::{fixtures, SimConfig};

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn norwegian_is_chosen_from_the_os_and_switchable() -> TestResult {
    scenario("language", SimConfig { lockout_after: 0, locks: 12, ..SimConfig::default() })
        .env("LANG", "nb_NO.UTF-8")
        .env("LANGUAGE", "nb")
        .run(async |client, scenario| {
            let sim = &scenario.sim;
            wait_visible(client, "#signin-view").await?;
            wait_for_js(client, "Norwegian", "return document.documentElement.lang === 'nb'").await?;
            sign_in(client, sim.token()).await?;
            wait_visible(client, "#locks-view").await?;
            search_locks(client, fixtures::UUID_LOCK_NAME).await?;
            let flag =
                visible_text(client, &format!("tr[data-lock-id=\"{}\"] .lock-auth", fixtures::UUID_LOCK_ID)).await?;
            ensure!(flag.contains("Eier må godkjenne hver nøkkel"), "Norwegian opt-in flag: {flag}");
            screenshot(client, "view-locks-nb").await?;
            click(client, "#nav-settings").await?;
            wait_visible(client, "#settings-view").await?;
            client.find(Locator::Css("#language-select option[value=\"en\"]")).await?.click().await?; // options have no box of their own
            wait_for_js(client, "English", "return document.documentElement.lang === 'en'").await?;
            screenshot(client, "view-settings").await?;
            Ok(())
        })
        .await
}
