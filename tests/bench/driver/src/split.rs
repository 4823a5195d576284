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
        let done = web::wait_mark_ms(client, &web::LOCK_ROWS_MARK.replace("unloc:rows:", "unloc:frame-done:")).await?;
        // Steps that began after the rows' animation frame (the heading's focus after sign-in) ran
        // before the first task after it: they are in the frame's figure, said apart.
        let steps = web::steps_between(client, data, done).await?;
        let mut parts = vec![];
        let mut later = vec![];
        for (name, started, ms) in &steps {
            let name = if *started > rows { format!("{name} (after the rows' frame began)") } else { name.clone() };
            match self.steps.iter_mut().find(|(known, _)| *known == name) {
                Some((_, times)) => times.push(*ms),
                None => self.steps.push((name.clone(), vec![*ms])),
            }
            if *started > rows { &mut later } else { &mut parts }.push(format!("{name} {ms:.1}"));
        }
        let frame = done - rows;
        self.frame_work.push(frame);
        // Where no step of ours ran: before the first (the reply's own handling, the view's
        // creation) and from the end of the last to the rows' animation frame (other tasks, the wait for the frame).
        let ours: Vec<_> = steps.iter().filter(|(_, started, _)| *started <= rows).collect();
        if let (Some(first), Some(end)) =
            (ours.first(), ours.iter().map(|(_, started, ms)| started + ms).reduce(f64::max))
        {
            parts.insert(0, format!("first step after {:.1}", first.1 - data));
            parts.push(format!("then {:.1} to the rows' animation frame", rows - end));
        }
        parts.push(format!("the rows' frame {frame:.1}"));
        parts.extend(later);
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
