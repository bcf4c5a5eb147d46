//! The loading progress bar.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A progress bar on standard error, shown only on a terminal and only once
/// loading has taken more than a second.
pub(super) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    total: Option<u64>,
    name: String,
    enabled: bool,
}

impl Progress {
    pub(super) fn new(total: Option<u64>, name: &str, quiet: bool) -> Progress {
        Progress {
            bar: None,
            started: Instant::now(),
            total,
            name: name.to_string(),
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    pub(super) fn update(&mut self, pos: u64) {
        if !self.enabled {
            return;
        }
        if self.bar.is_none() && self.started.elapsed() > Duration::from_secs(1) {
            let bar = match self.total {
                Some(t) => indicatif::ProgressBar::new(t),
                None => indicatif::ProgressBar::new_spinner(),
            };
            bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "{msg} [{bar:30}] {bytes}/{total_bytes} ({eta})",
            ) {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.set_message(format!("loading {}", self.name));
            self.bar = Some(bar);
        }
        if let Some(b) = &self.bar {
            b.set_position(pos);
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
