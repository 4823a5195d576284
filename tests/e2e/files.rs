//! Files: an export writes, and an import reads, only a file the user chose in the computer's own
//! dialog. Here the app runs without the suite's switch that lets every other scenario pass paths of
//! its own, as a page running a script of its own would have to.

use serde_json::json;
use unloc_sim::SimConfig;

use crate::harness::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_or_import_of_a_file_no_dialog_returned_is_refused_and_the_file_untouched() -> TestResult {
    let config = SimConfig { lockout_after: 0, locks: 3, ..SimConfig::default() };
    scenario("files", config)
        .env("UNLOC_TEST_ANY_FILE", "0")
        .run(async |client, scenario| {
            sign_in(client, scenario.sim.token()).await?;
            wait_lock_rows(client).await?;
            let file = scenario.home.join("not-chosen.csv");
            std::fs::write(&file, "Navn;Mobil\nKari;90000021\n")?;
            let path = file.display().to_string();
            let export =
                invoke(client, "export_keys", json!({ "path": path, "format": "csv", "language": "en" })).await?;
            ensure_eq!(
                export["error"]["kind"],
                json!("invalidInput"),
                "an export to a path no dialog returned: {export}"
            );
            ensure_eq!(std::fs::read_to_string(&file)?, "Navn;Mobil\nKari;90000021\n", "the file is untouched");
            let preview = invoke(client, "preview_people_import", json!({ "path": path })).await?;
            ensure_eq!(
                preview["error"]["kind"],
                json!("invalidInput"),
                "an import of a path no dialog returned: {preview}"
            );
            ensure!(preview.get("ok").is_none(), "nothing of the file reaches the page: {preview}");
            Ok(())
        })
        .await
}
