//! Spilling the canonical tables to Parquet (`--spill`, `REVCYCLE_SPILL`):
//! when the inputs are large against the machine's memory, each table's rows
//! go to Parquet files in a temporary folder as they are loaded, and the
//! table is read back through lazy scans (`model::Backing::Spilled`). The
//! folder is removed when the last table reading from it is dropped (the end
//! of the run, also on error), and by [`remove_on_interrupt`]'s handler when
//! Ctrl-C or SIGTERM ends the run first.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use super::read::Source;
use crate::model::TableKind;

/// The environment variable standing in for `--spill` (the flag wins).
pub const SPILL_VAR: &str = "REVCYCLE_SPILL";

/// When tables are spilled to Parquet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// When the input files of the four tables total more than a quarter of
    /// the machine's memory.
    Auto,
    Always,
    Never,
}

impl Mode {
    fn parse(s: &str) -> Option<Mode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(Mode::Auto),
            "always" => Some(Mode::Always),
            "never" => Some(Mode::Never),
            _ => None,
        }
    }
}

#[derive(Debug, Default)]
struct Settings {
    mode: Option<Mode>,
    temp_dir: Option<PathBuf>,
}

static SETTINGS: OnceLock<Settings> = OnceLock::new();

/// Record `--spill` and `--temp-dir` (once, from `main`).
pub fn configure(mode: Option<Mode>, temp_dir: Option<PathBuf>) {
    let _ = SETTINGS.set(Settings { mode, temp_dir });
}

/// `--spill`, else `REVCYCLE_SPILL`, else auto.
pub fn mode() -> Result<Mode> {
    if let Some(m) = SETTINGS.get().and_then(|s| s.mode) {
        return Ok(m);
    }
    match std::env::var(SPILL_VAR) {
        Ok(v) if !v.trim().is_empty() => Mode::parse(&v).with_context(|| {
            format!(
                "environment variable {SPILL_VAR}: `{}` is not one of auto, always, never",
                crate::shown(&v)
            )
        }),
        _ => Ok(Mode::Auto),
    }
}

/// The machine's memory in bytes (MemTotal of /proc/meminfo), if known.
pub fn physical_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kb: u64 = line
        .trim_start_matches("MemTotal:")
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Whether this run spills its tables: `always`, `never`, or (auto) when
/// the input files of the four tables total more than a quarter of the
/// machine's memory (unknown memory: never).
pub fn decide(sources: &BTreeMap<TableKind, Vec<Source>>) -> Result<bool> {
    Ok(match mode()? {
        Mode::Always => true,
        Mode::Never => false,
        Mode::Auto => {
            let total: u64 = sources
                .values()
                .flatten()
                .map(|s| match s {
                    Source::Path(p) => std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
                    Source::Bytes { data, .. } => data.len() as u64,
                    Source::Stdin => 0,
                })
                .sum();
            physical_memory().is_some_and(|mem| total > mem / 4)
        }
    })
}

/// The spill folders made in this process: what the interrupt handler
/// removes (a folder already removed by its owner is skipped).
static MADE: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// On Ctrl-C (SIGINT) or SIGTERM, remove the spill folders and end the run
/// with the shell's status for the signal (128 + its number): without it, a
/// 50M-lead run stopped halfway leaves gigabytes of Parquet in the temporary
/// folder. Installed once, by the first spill folder (runs in memory keep
/// the default: the signal ends them at once). A thread waits for the
/// signal, so nothing runs inside the signal handler itself.
fn remove_on_interrupt() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        #[cfg(unix)]
        {
            use signal_hook::consts::{SIGINT, SIGTERM};
            // Without the handler a signal still ends the run (the folder
            // is then left behind, as before).
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
                return;
            };
            std::thread::spawn(move || {
                if let Some(sig) = signals.forever().next() {
                    let dirs = MADE.lock().map(|d| d.clone()).unwrap_or_default();
                    for dir in dirs {
                        let _ = std::fs::remove_dir_all(dir);
                    }
                    std::process::exit(128 + sig);
                }
            });
        }
    });
}

/// The run's spill folder: files are numbered as they are made.
#[derive(Clone)]
pub struct SpillDir {
    pub dir: Arc<tempfile::TempDir>,
    next: Arc<AtomicUsize>,
}

impl SpillDir {
    /// A new folder under `--temp-dir`, else `TMPDIR`, else the system's.
    pub fn new() -> Result<SpillDir> {
        let base = SETTINGS
            .get()
            .and_then(|s| s.temp_dir.clone())
            .unwrap_or_else(std::env::temp_dir);
        let dir = tempfile::Builder::new()
            .prefix("revcycle-spill-")
            .tempdir_in(&base)
            .with_context(|| {
                format!(
                    "creating a folder for spilled tables in `{}` (set --temp-dir)",
                    base.display()
                )
            })?;
        if dir.path().to_str().is_none() {
            bail!(
                "the folder for spilled tables `{}` is not a UTF-8 path (set --temp-dir)",
                dir.path().display()
            );
        }
        if let Ok(mut made) = MADE.lock() {
            made.push(dir.path().to_path_buf());
        }
        remove_on_interrupt();
        Ok(SpillDir {
            dir: Arc::new(dir),
            next: Arc::new(AtomicUsize::new(0)),
        })
    }

    /// A fresh file path in the folder, named after `what`.
    pub fn file(&self, what: &str) -> PathBuf {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        self.dir.path().join(format!("{n:04}-{what}.parquet"))
    }

    /// Write `df` to a new Parquet file; its path.
    pub fn write(&self, what: &str, df: &mut DataFrame) -> Result<PathBuf> {
        let path = self.file(what);
        let f = File::create(&path).with_context(|| format!("writing `{}`", path.display()))?;
        ParquetWriter::new(f)
            .finish(df)
            .map_err(|e| anyhow::anyhow!("writing `{}`: {e}", path.display()))?;
        Ok(path)
    }
}

/// `lf` run once and kept for several queries: in memory, or, when the run
/// spills (`dir`), written to a Parquet file in the spill folder, dropped,
/// and read back through a scan (polars then reads only the columns each
/// query selects).
pub fn keep(dir: Option<&Arc<tempfile::TempDir>>, lf: LazyFrame, what: &str) -> Result<LazyFrame> {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    super::progress::mark(&format!("before {what}"));
    let Some(dir) = dir else {
        let df = lf
            .collect()
            .map_err(|e| anyhow::Error::new(e).context(what.to_string()))?;
        super::progress::mark(what);
        return Ok(df.lazy());
    };
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let name: String = what
        .trim_start_matches("computing ")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.path().join(format!("kept-{n:04}-{name}.parquet"));
    let p = path
        .to_str()
        .with_context(|| format!("`{}` is not a UTF-8 path", path.display()))?;
    // Polars' streaming engine runs the query in batches straight into the
    // file: the frame is never held whole.
    lf.sink(
        SinkDestination::File {
            target: SinkTarget::Path(PlRefPath::new(p)),
        },
        FileWriteFormat::Parquet(Arc::new(ParquetWriteOptions::default())),
        UnifiedSinkArgs::default(),
    )
    .and_then(|lf| lf.collect_with_engine(Engine::Streaming))
    .map_err(|e| anyhow::Error::new(e).context(what.to_string()))?;
    super::progress::mark(what);
    scan(&path)
}

/// A lazy scan of one spilled Parquet file.
pub fn scan(path: &Path) -> Result<LazyFrame> {
    let p = path
        .to_str()
        .with_context(|| format!("`{}` is not a UTF-8 path", path.display()))?;
    LazyFrame::scan_parquet(PlRefPath::new(p), ScanArgsParquet::default())
        .map_err(|e| anyhow::anyhow!("reading `{}`: {e}", path.display()))
}

/// Writes a table's rows to one Parquet file in row groups, as they come.
pub struct Writer {
    pub path: PathBuf,
    inner: Option<polars::io::parquet::write::BatchedWriter<File>>,
    pub rows: usize,
}

impl Writer {
    pub fn new(dir: &SpillDir, what: &str) -> Writer {
        Writer {
            path: dir.file(what),
            inner: None,
            rows: 0,
        }
    }

    /// Append `df` (the first batch fixes the schema).
    pub fn write(&mut self, df: &mut DataFrame) -> Result<()> {
        let err = |e: PolarsError| anyhow::anyhow!("writing `{}`: {e}", self.path.display());
        if self.inner.is_none() {
            let f = File::create(&self.path)
                .with_context(|| format!("writing `{}`", self.path.display()))?;
            let w = ParquetWriter::new(f).batched(df.schema()).map_err(err)?;
            self.inner = Some(w);
        }
        // The batched writer wants aligned chunks.
        df.rechunk_mut_par();
        self.rows += df.height();
        if let Some(w) = self.inner.as_mut() {
            w.write_batch(df).map_err(err)?;
        }
        Ok(())
    }

    /// Write the footer; the file's path (None when nothing was written).
    pub fn finish(self) -> Result<Option<PathBuf>> {
        match self.inner {
            None => Ok(None),
            Some(w) => {
                w.finish()
                    .map_err(|e| anyhow::anyhow!("writing `{}`: {e}", self.path.display()))?;
                Ok(Some(self.path))
            }
        }
    }
}
