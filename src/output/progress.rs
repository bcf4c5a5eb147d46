//! What a long run is doing, on standard error: a spinner with the current
//! step ("computing the funnel", "misalignment", ...) so a 60-second analysis
//! never sits silent. Only on a terminal, never with `-q`, and cleared when
//! done: standard output and any `-o` file never see it. (Loading has its own
//! bar, with bytes and the file name: `input::table`.)
//!
//! With `REVCYCLE_STEP_TIMES=1` in the environment each step's wall time is
//! written to standard error when the next one starts (`revcycle: step
//! "computing kpis and the funnel": 1.234 s`), terminal or not, `-q` or not:
//! for measuring where a run spends its time (BENCHMARKS.md); on Linux the
//! line ends with the step's peak resident memory (`, peak 812 MiB`), and
//! [`mark`] (`input::progress`) cuts a step finer.

use std::cell::RefCell;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

pub use crate::input::progress::{mark, STEP_TIMES_ENV};
use crate::input::progress::step_peak;

/// The steps of one command; dropped (or [`Steps::done`]) clears the line.
pub struct Steps {
    bar: Option<indicatif::ProgressBar>,
    /// The current step and when it started, when steps are timed.
    timed: Option<RefCell<Option<(String, Instant)>>>,
}

impl Steps {
    /// A spinner on standard error when it is a terminal and not `quiet`;
    /// otherwise every call is a no-op (but the timing of
    /// [`STEP_TIMES_ENV`]).
    pub fn new(quiet: bool) -> Steps {
        let mut s = Steps::with(!quiet && std::io::stderr().is_terminal());
        if std::env::var(STEP_TIMES_ENV).is_ok_and(|v| v == "1") {
            s.timed = Some(RefCell::new(None));
        }
        s
    }

    fn with(shown: bool) -> Steps {
        if !shown {
            return Steps { bar: None, timed: None };
        }
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Steps {
            bar: Some(bar),
            timed: None,
        }
    }

    /// Says what is being computed now.
    pub fn step(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_string());
        }
        self.time(Some(what));
    }

    /// Ends the timed step (when steps are timed) and starts `next`.
    fn time(&self, next: Option<&str>) {
        let Some(t) = &self.timed else { return };
        let now = Instant::now();
        let mut cur = t.borrow_mut();
        if let Some((what, start)) = cur.take() {
            eprintln!(
                "revcycle: step \"{what}\": {:.3} s{}",
                (now - start).as_secs_f64(),
                step_peak().map_or(String::new(), |kb| format!(", peak {:.0} MiB", kb as f64 / 1024.0))
            );
        } else {
            // The first step's peak is its own, not the loading's.
            let _ = step_peak();
        }
        *cur = next.map(|w| (w.to_string(), now));
    }

    /// Whether anything is drawn (false off a terminal and with `-q`).
    pub fn shown(&self) -> bool {
        self.bar.is_some()
    }

    pub fn done(self) {}
}

impl Drop for Steps {
    fn drop(&mut self) {
        self.time(None);
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_drawn_off_a_terminal_or_when_quiet() {
        // Tests run with standard error captured: not a terminal.
        assert!(!Steps::new(false).shown());
        assert!(!Steps::new(true).shown());
        let s = Steps::with(false);
        s.step("computing kpis");
        s.done();
        assert!(Steps::with(true).shown());
    }
}
