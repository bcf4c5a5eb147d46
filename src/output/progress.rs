//! What a long run is doing, on standard error: a spinner with the current
//! step ("computing the funnel", "misalignment", ...) so a 60-second analysis
//! never sits silent. Only on a terminal, never with `-q`, and cleared when
//! done: standard output and any `-o` file never see it. (Loading has its own
//! bar, with bytes and the file name: `input::table`.)

use std::io::IsTerminal;
use std::time::Duration;

/// The steps of one command; dropped (or [`Steps::done`]) clears the line.
pub struct Steps {
    bar: Option<indicatif::ProgressBar>,
}

impl Steps {
    /// A spinner on standard error when it is a terminal and not `quiet`;
    /// otherwise every call is a no-op.
    pub fn new(quiet: bool) -> Steps {
        Steps::with(!quiet && std::io::stderr().is_terminal())
    }

    fn with(shown: bool) -> Steps {
        if !shown {
            return Steps { bar: None };
        }
        let bar = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.enable_steady_tick(Duration::from_millis(120));
        Steps { bar: Some(bar) }
    }

    /// Says what is being computed now.
    pub fn step(&self, what: &str) {
        if let Some(b) = &self.bar {
            b.set_message(what.to_string());
        }
    }

    /// Whether anything is drawn (false off a terminal and with `-q`).
    pub fn shown(&self) -> bool {
        self.bar.is_some()
    }

    pub fn done(self) {}
}

impl Drop for Steps {
    fn drop(&mut self) {
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
