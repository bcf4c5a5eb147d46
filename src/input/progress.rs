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

/// Set to `1` to time every analysis step on standard error
/// (`output::progress`), with its peak memory.
pub const STEP_TIMES_ENV: &str = "REVCYCLE_STEP_TIMES";

/// The highest resident memory seen by [`mark`] since the step began (KiB).
static STEP_PEAK: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The process's peak resident memory (KiB) since the last call, then the
/// peak is reset (Linux: `VmHWM`, reset through `/proc/self/clear_refs`);
/// `None` elsewhere. Only for [`STEP_TIMES_ENV`].
fn peak_rss() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    let _ = std::fs::write("/proc/self/clear_refs", "5");
    Some(kb)
}

/// The peak since the step began (marks included), and a new step begins.
pub(crate) fn step_peak() -> Option<u64> {
    use std::sync::atomic::Ordering;
    let kb = peak_rss()?;
    Some(STEP_PEAK.swap(0, Ordering::Relaxed).max(kb))
}

/// With [`STEP_TIMES_ENV`]: `what` and the peak memory since the last mark
/// (a finer cut than the steps, for measuring).
pub fn mark(what: &str) {
    if std::env::var(STEP_TIMES_ENV).is_ok_and(|v| v == "1") {
        if let Some(kb) = peak_rss() {
            STEP_PEAK.fetch_max(kb, std::sync::atomic::Ordering::Relaxed);
            eprintln!("revcycle: mark \"{what}\": peak {:.0} MiB", kb as f64 / 1024.0);
        }
    }
}
