//! The floor under the app's keystroke figures: the blank app's page given one text box whose every
//! keystroke changes one line of text, timed by the same script that times the app's search boxes.
//! Nothing is filtered, nothing is laid out but one line: whatever time remains between the change
//! and its painted frame is WebKit's own (and this display's), not the app's.

use std::path::Path;

use crate::report::Row;
use crate::web::{self, Keystroke};
use crate::{median, percentile, procs, say, BenchResult, Plan};

/// The two ways WebKit draws here: its default (compositing through Mesa's software OpenGL on a
/// machine without a GPU) and compositing off, which the app chooses on such a machine
/// (src-tauri/src/drawing.rs).
const DRAWINGS: [(&str, &[(&str, &str)]); 2] = [
    ("compositing off, as the app draws here", &[("WEBKIT_DISABLE_COMPOSITING_MODE", "1")]),
    ("WebKit's default drawing", &[]),
];

/// Adds the text box and the line it changes to the blank page.
const ADD_BOX: &str = "const input = document.createElement('input'); input.id = 'floor-input'; \
    const out = document.createElement('p'); out.id = 'floor-out'; \
    input.addEventListener('input', () => { out.textContent = input.value; }); \
    document.body.append(input, out); return true;";

pub async fn keystroke_floor(plan: &Plan, work: &Path, typed: &[String]) -> BenchResult<Vec<Row>> {
    say("the floor: keystrokes on the blank page");
    let home = work.join("home-floor");
    procs::prepare_home(&home)?;
    let driver =
        web::Driver::start(&procs::app_env(&home, "http://127.0.0.1:9", "none"), &work.join("driver-floor.log"))?;
    let mut rows = vec![];
    for (drawing, env) in DRAWINGS {
        let mut keys: Vec<Keystroke> = vec![];
        for run in 0..plan.runs {
            let (launcher, record) = procs::write_launcher_with(work, "blank-floor", &plan.blank, env)?;
            let _ = std::fs::remove_file(&record);
            let client = driver.open(&launcher).await?;
            let outcome = async {
                let (pid, _) = procs::read_launch(&record)?;
                web::wait_mark_epoch_ms(&client, "unloc:blank-painted").await?;
                client.execute(ADD_BOX, vec![]).await?;
                let times = web::time_keystrokes(&client, "#floor-input", &["#floor-out"], typed).await?;
                Ok::<_, Box<dyn std::error::Error + Send + Sync>>((pid, times))
            }
            .await;
            let _ = client.close().await;
            let (pid, times) = outcome?;
            procs::stop_tree(pid, None)?;
            let painted: Vec<f64> = times.iter().filter_map(|key| key.painted).collect();
            say(&format!("  {drawing}, run {}: median {:.0} ms", run + 1, median(&painted)));
            keys.extend(times);
        }
        let painted: Vec<f64> = keys.iter().filter_map(|key| key.painted).collect();
        let work_p95 = percentile(&keys.iter().filter_map(|key| key.frame_work).collect::<Vec<_>>(), 95.0);
        let mut row = Row::limit(
            &format!(
                "The blank page: a keystroke that changes one line of text, to its painted frame (p95; {drawing})"
            ),
            percentile(&painted, 95.0),
            "ms",
            f64::INFINITY,
            "—",
        )
        .with_note(&format!(
            "median {:.0} ms; the frame's own work p95 {work_p95:.1} ms; {} keystrokes, {} with no change seen",
            median(&painted),
            keys.len(),
            keys.len() - painted.len()
        ));
        row.info();
        rows.push(row);
    }
    Ok(rows)
}
