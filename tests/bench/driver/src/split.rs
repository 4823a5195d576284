//! Where "first rows painted after the data arrives" goes: the page's own steps (User Timing
//! measures `unloc:step:*` from ui/js/timeline.js; they nest, e.g. `locks-table:order` inside
//! `show:locks`), and the first frame with rows: from its animation frame (the rows mark) to the
//! first task after it (`unloc:frame-done:*`), i.e. that frame's style, layout and paint.

use fantoccini::Client;

use crate::{median, web, BenchResult};

/// The steps of several runs, gathered by name.
#[derive(Default)]
pub struct RowsSplit {
    /// (step, durations) in the order the steps first appeared.
    steps: Vec<(String, Vec<f64>)>,
    frame_work: Vec<f64>,
}

impl RowsSplit {
    /// Gathers one run's steps between the data's arrival and the rows mark (page clock, ms), and
    /// the rows' frame's own work; returns that run's split as text for the progress lines.
    pub async fn add_run(&mut self, client: &Client, data: f64, rows: f64) -> BenchResult<String> {
        let steps = web::steps_between(client, data, rows).await?;
        for (name, ms) in &steps {
            match self.steps.iter_mut().find(|(known, _)| known == name) {
                Some((_, times)) => times.push(*ms),
                None => self.steps.push((name.clone(), vec![*ms])),
            }
        }
        let done = web::wait_mark_ms(client, &web::LOCK_ROWS_MARK.replace("unloc:rows:", "unloc:frame-done:")).await?;
        let frame = done - rows;
        self.frame_work.push(frame);
        let mut parts: Vec<String> = steps.iter().map(|(name, ms)| format!("{name} {ms:.1}")).collect();
        parts.push(format!("the rows' frame {frame:.1}"));
        Ok(parts.join(", "))
    }

    /// The medians, e.g. "show:locks 60.2 ms, locks-table:order 12.0 ms, …; the rows' frame 30.1 ms".
    pub fn note(&self) -> String {
        if self.frame_work.is_empty() {
            return String::new();
        }
        let steps: Vec<String> =
            self.steps.iter().map(|(name, times)| format!("{name} {:.0} ms", median(times))).collect();
        format!(
            "the page's steps (medians, nested): {}; then the rows' frame: its own style, layout and paint {:.0} ms",
            steps.join(", "),
            median(&self.frame_work)
        )
    }
}
