//! Damage: a broken settings file and a broken local database are set aside, said so, and rebuilt
//! from Unloc.

use unloc_sim::SimConfig;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn damaged_settings_and_database_are_set_aside_and_rebuilt() -> TestResult {
    scenario("damage", SimConfig { lockout_after: 0, hostile_lock: false, locks: 12, ..SimConfig::default() })
        .sessions(async |scenario| {
            scenario
                .run(async |client, scenario| {
                    sign_in(client, scenario.sim.token()).await?;
                    wait_lock_rows(client).await?;
                    Ok(())
                })
                .await?;
            // Between runs, both files are damaged.
            let data = scenario.home.join("data");
            let files = files_under(&data);
            let settings =
                files.iter().find(|file| file.ends_with("settings.json")).ok_or("no settings file was written")?;
            let database = files
                .iter()
                .find(|file| file.extension().is_some_and(|ext| ext == "sqlite3"))
                .ok_or("no local database was written")?;
            std::fs::write(settings, b"{\"settings\": {\"language\": 7, \"partnerId\": [")?;
            std::fs::write(database, vec![0x5a; 8192])?;
            for companion in ["-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{companion}", database.display()));
            }
            scenario
                .run(async |client, scenario| {
                    // The app starts, says what it did, and gets the data again from Unloc.
                    let banner = banner_text(client, "the reset notice").await?;
                    let banner = banner.to_lowercase();
                    ensure!(banner.contains("reset") || banner.contains("damaged"), "notice: {banner}");
                    screenshot(client, "view-damage-notice").await?;
                    wait_visible(client, "#locks-view").await?;
                    wait_for_js(
                        client,
                        "rebuilt lock rows",
                        "return document.querySelectorAll('tr[data-lock-id]').length",
                    )
                    .await?;
                    let count = text_of(client, "#locks-count").await?;
                    ensure!(
                        count.contains(&scenario.sim.locks().len().to_string()),
                        "locks after the rebuild: {count}"
                    );
                    Ok(())
                })
                .await?;
            let after = files_under(&data);
            ensure!(
                after.iter().any(|file| file.to_string_lossy().contains("settings.json.damaged")),
                "the damaged settings were not kept aside"
            );
            ensure!(
                after.iter().any(|file| file.to_string_lossy().contains(".damaged-")),
                "the damaged database was not kept aside"
            );
            Ok(())
        })
        .await
}
