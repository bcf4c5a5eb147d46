//! Mapping one export onto a canonical table: pick the preset, match headers
//! to canonical columns, then stream the rows once, parsing each mapped cell
//! into typed column builders and recording what could not be parsed.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use polars::prelude::*;

use super::builder::{Builder, Finish};
use super::plan::{
    choose_preset, header_score, plan_columns, value_map, StageMap,
};
use super::progress::Progress;
use super::read::{self, Format, Source};
use super::mapping::{problem, read_chunk, Chunk, Mapping, Part};
use super::split;
use super::spill::{SpillDir, Writer};
use crate::config::{Config, TableConfig};
use crate::model::{ColumnKind, ColumnSpec, TableKind, Touches};
use crate::presets;

/// Columns revcycle adds to a loaded frame for `validate`'s sample rows.
pub const LINE_COL: &str = "__line";
pub const SRC_COL: &str = "__src";

/// Up to this many sample values are kept per problem.
pub const MAX_SAMPLES: usize = 5;

/// What loading one file found, for `validate` and warnings.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileReport {
    pub table: String,
    pub file: String,
    pub format: String,
    pub gzip: bool,
    pub delimiter: Option<String>,
    pub preset: String,
    /// "detected" or "configured".
    pub preset_choice: String,
    pub preamble_lines: u64,
    pub footer_rows: u64,
    pub rows_read: u64,
    pub rows_kept: u64,
    pub mapping: Vec<Mapped>,
    pub unmapped_headers: Vec<String>,
    pub failures: BTreeMap<String, Problem>,
    pub dropped_required: BTreeMap<String, Problem>,
    pub date_orders: BTreeMap<String, String>,
    pub header_currency: Option<String>,
    /// The sheet read from a spreadsheet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Why a file found in a folder was read as this table ("file name", "headers").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub picked_up: Option<String>,
    /// Values rewritten by a value map, with how many rows had each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub value_maps: Vec<ValueMapped>,
}

/// One value rewritten by `[table.value_map.column]` or a preset's map.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ValueMapped {
    pub column: String,
    pub from: String,
    pub to: String,
    pub rows: u64,
    /// "revcycle.toml" or "preset google_ads".
    pub via: String,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct Mapped {
    pub column: String,
    /// The source header, or `= "value"` for a constant.
    pub source: String,
    /// "preset salesforce", "revcycle.toml", "implied by google_ads".
    pub via: String,
}

/// A count and a few (line, value) samples.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Problem {
    pub count: u64,
    pub samples: Vec<(u64, String)>,
}

impl Problem {
    pub fn add(&mut self, line: u64, value: &str) {
        self.count += 1;
        if self.samples.len() < MAX_SAMPLES {
            self.samples.push((line, read::truncate(value, 60)));
        }
    }

    /// Add the problems of a later part of the same file.
    pub fn merge(&mut self, later: Problem) {
        self.count += later.count;
        let room = MAX_SAMPLES.saturating_sub(self.samples.len());
        self.samples.extend(later.samples.into_iter().take(room));
    }
}

/// Everything needed to map one file.
pub struct TableLoad<'a> {
    pub kind: TableKind,
    pub cfg: &'a Config,
    pub quiet: bool,
    /// Optional columns the command does not read: mapped and reported as
    /// usual, but not parsed or stored (all-null, no memory). `present`
    /// still says whether the export has them.
    pub skip: &'a [&'a str],
    /// Spill the rows to Parquet in this folder as they are mapped.
    pub spill: Option<&'a SpillDir>,
}

/// A loaded file's rows: a frame, or a Parquet file written while mapping
/// with the expressions that read its canonical columns (plus `__line`,
/// `__src`) from it; the touches as touch records (never a frame).
pub enum Rows {
    Frame(DataFrame),
    Spilled {
        path: std::path::PathBuf,
        select: Vec<Expr>,
    },
    Touches(Box<Touches>),
}

impl Rows {
    /// The rows as a frame (a spilled file read back whole: tests, touches).
    pub fn into_frame(self) -> Result<DataFrame> {
        match self {
            Rows::Frame(df) => Ok(df),
            Rows::Spilled { path, select } => super::spill::scan(&path)?
                .select(select)
                .collect()
                .map_err(|e| anyhow::anyhow!("reading `{}`: {e}", path.display())),
            Rows::Touches(_) => bail!("internal: the touches are records, not a frame"),
        }
    }
}

/// A file read in one piece writes a row group every this many rows when
/// spilling (a few rows in unit tests, so that a file spans several).
const FLUSH_ROWS: usize = if cfg!(test) { 7 } else { 1 << 20 };

impl TableLoad<'_> {
    fn tcfg(&self) -> &TableConfig {
        self.cfg.table(self.kind)
    }

    fn day_first(&self) -> bool {
        self.tcfg()
            .day_first
            .or(self.cfg.day_first)
            .unwrap_or(false)
    }

    fn decimal_comma(&self) -> bool {
        self.tcfg()
            .decimal_comma
            .or(self.cfg.decimal_comma)
            .unwrap_or(false)
    }

    /// A column this command does not store (never a required one, never a
    /// timestamp: the default `as_of` is the latest of all timestamps).
    fn skipped(&self, spec: &ColumnSpec) -> bool {
        !spec.required && spec.kind != ColumnKind::Timestamp && self.skip.contains(&spec.name)
    }

    /// Open a source and start its report.
    pub(super) fn open(&self, src: &Source) -> Result<(String, read::Opened, FileReport)> {
        let name = src.display();
        let opened = read::open(src)?;
        let report = FileReport {
            table: self.kind.name().to_string(),
            file: name.clone(),
            format: opened.format.name().to_string(),
            gzip: opened.gzip,
            ..Default::default()
        };
        Ok((name, opened, report))
    }

    /// Find a CSV file's delimiter (configured or sniffed) and header row.
    pub(super) fn csv_rows(
        &self,
        name: &str,
        opened: read::Opened,
        report: &mut FileReport,
    ) -> Result<read::CsvRows> {
        let tcfg = self.tcfg();
        let configured: Vec<String> = tcfg.columns.values().cloned().collect();
        let kind = self.kind;
        let score =
            |cells: &[String]| header_score(kind, tcfg.preset.as_deref(), &configured, cells);
        let delimiter = tcfg.delimiter.as_deref().map(|d| match d {
            "\\t" | "tab" => b'\t',
            d => d.as_bytes()[0],
        });
        let rows = read::csv_rows(name, opened, delimiter, &score)?;
        report.delimiter = Some(match rows.delimiter {
            b'\t' => "tab".to_string(),
            d => (d as char).to_string(),
        });
        report.preamble_lines = rows.preamble_lines;
        Ok(rows)
    }

    /// Read a spreadsheet's sheet (configured `sheet` or the first) and find
    /// its header row as in CSV files.
    fn sheet_rows(
        &self,
        name: &str,
        opened: read::Opened,
        report: &mut FileReport,
    ) -> Result<read::SheetRows> {
        let tcfg = self.tcfg();
        let configured: Vec<String> = tcfg.columns.values().cloned().collect();
        let kind = self.kind;
        let score =
            |cells: &[String]| header_score(kind, tcfg.preset.as_deref(), &configured, cells);
        let rows = read::spreadsheet_rows(name, opened, tcfg.sheet.as_deref(), &score)?;
        report.sheet = Some(rows.sheet.clone());
        report.preamble_lines = rows.preamble_lines;
        Ok(rows)
    }

    /// Load one source into a frame of every canonical column (plus `__line`).
    pub fn load(
        &self,
        src: &Source,
        src_index: u32,
    ) -> Result<(Rows, BTreeSet<String>, FileReport)> {
        let (name, opened, mut report) = self.open(src)?;
        match opened.format {
            Format::Csv => {
                let rows = self.csv_rows(&name, opened, &mut report)?;
                match (src, report.gzip) {
                    (Source::Path(path), false) => {
                        // Lines the header reader consumed (preamble, header).
                        let before = rows.reader.position().line().saturating_sub(1);
                        // A file that cannot be planned is read in one piece.
                        match split::plan(path, rows.delimiter, before).ok().flatten() {
                            Some(cuts) => {
                                let fresh = report.clone();
                                let headers = rows.headers.clone();
                                drop(rows);
                                match self.load_split(&name, &headers, &mut report, src_index, &cuts, src.len()) {
                                    Ok(Some(out)) => Ok(out),
                                    // A cut inside a quoted cell, or an error: read
                                    // the file in one piece (same result, and the
                                    // error of the first bad line in file order).
                                    Ok(None) | Err(_) => {
                                        report = fresh;
                                        let (_, opened, _) = self.open(src)?;
                                        let rows = self.csv_rows(&name, opened, &mut report)?;
                                        self.load_csv(&name, rows, &mut report, src_index, src.len())
                                    }
                                }
                            }
                            None => self.load_csv(&name, rows, &mut report, src_index, src.len()),
                        }
                    }
                    _ => self.load_csv(&name, rows, &mut report, src_index, src.len()),
                }
            }
            Format::Ndjson | Format::Parquet | Format::Spreadsheet => {
                let (headers, rows) = match opened.format {
                    Format::Ndjson => read::ndjson_rows(&name, opened)?,
                    Format::Parquet => read::parquet_rows(&name, opened)?,
                    _ => {
                        let sheet = self.sheet_rows(&name, opened, &mut report)?;
                        (sheet.headers, sheet.rows)
                    }
                };
                self.stream(&name, &headers, &mut report, src_index, |emit| {
                    for (line, vals) in &rows {
                        emit(*line, vals)?;
                    }
                    Ok(())
                })
            }
        }
        .map(|(df, present)| (df, present, report))
    }

    /// Map a CSV file's rows in one piece (parsing on a second thread).
    pub(super) fn load_csv(
        &self,
        name: &str,
        rows: read::CsvRows,
        report: &mut FileReport,
        src_index: u32,
        total: Option<u64>,
    ) -> Result<(Rows, BTreeSet<String>)> {
        let mut reader = rows.reader;
        let headers = rows.headers;
        let mut progress = Progress::new(total, name, self.quiet);
        // CSV parsing (and the UTF-8 check) runs on a second thread,
        // one batch of records ahead of the mapping below: the two
        // halves of the work overlap on a two-core machine. Batches
        // go back for reuse, so no record is allocated per row.
        const BATCH: usize = 4096;
        let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<Result<Vec<csv::StringRecord>, ParseError>>(4);
        let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<csv::StringRecord>>();
        let parser = std::thread::spawn(move || {
            // The record being read; swapped with the batch's slot once
            // it is known to be UTF-8 (a move, no copy).
            let mut cur = csv::ByteRecord::new();
            loop {
                let mut batch = empty_rx.try_recv().unwrap_or_else(|_| vec![csv::StringRecord::new(); BATCH]);
                batch.resize_with(BATCH, csv::StringRecord::new);
                let mut n = 0;
                while n < BATCH {
                    let failed = match reader.read_byte_record(&mut cur) {
                        Ok(true) => match csv::StringRecord::from_byte_record(cur) {
                            Ok(rec) => {
                                cur = std::mem::replace(&mut batch[n], rec).into_byte_record();
                                n += 1;
                                continue;
                            }
                            Err(e) => {
                                let field = e.utf8_error().field();
                                let rec = e.into_byte_record();
                                let line = rec.position().map(|p| p.line()).unwrap_or(0);
                                ParseError::Utf8 { line, field }
                            }
                        },
                        Ok(false) => break,
                        Err(e) => ParseError::Csv(e),
                    };
                    // The rows before the error are mapped first, so
                    // the first problem in file order is the one reported.
                    batch.truncate(n);
                    if n == 0 || full_tx.send(Ok(batch)).is_ok() {
                        let _ = full_tx.send(Err(failed));
                    }
                    return;
                }
                let done = n < BATCH;
                batch.truncate(n);
                if (n > 0 && full_tx.send(Ok(batch)).is_err()) || done {
                    return;
                }
            }
        });
        let result = self.stream(name, &headers, report, src_index, |emit| {
            let mut n: u64 = 0;
            for batch in full_rx.iter() {
                let batch = match batch {
                    Ok(b) => b,
                    Err(ParseError::Csv(e)) => {
                        return Err(anyhow::Error::new(e).context(format!("reading `{name}`")))
                    }
                    Err(ParseError::Utf8 { line, field }) => bail!(
                        "`{name}`: line {line}, column `{}`: value is not UTF-8 text (save the file as UTF-8)",
                        crate::shown(headers.get(field).map(String::as_str).unwrap_or("?"))
                    ),
                };
                for rec in &batch {
                    n += 1;
                    if n % 65536 == 0 {
                        progress.update(rec.position().map(|p| p.byte()).unwrap_or(0));
                    }
                    let line = rec.position().map(|p| p.line()).unwrap_or(0);
                    emit(line, rec)?;
                }
                let _ = empty_tx.send(batch);
            }
            progress.finish();
            Ok(())
        });
        // On an early error the receiver is gone and the parser stops at its next send.
        drop(full_rx);
        let _ = parser.join();
        result
    }

    /// Read only the headers of `src` and report the preset and mapping that
    /// loading would use (required columns may be missing: `revcycle init`).
    pub fn detect(&self, src: &Source) -> Result<(FileReport, Vec<String>)> {
        let (name, opened, mut report) = self.open(src)?;
        let headers = match opened.format {
            Format::Csv => self.csv_rows(&name, opened, &mut report)?.headers,
            Format::Ndjson => read::ndjson_rows(&name, opened)?.0,
            Format::Parquet => read::parquet_rows(&name, opened)?.0,
            Format::Spreadsheet => self.sheet_rows(&name, opened, &mut report)?.headers,
        };
        let (kind, tcfg) = (self.kind, self.tcfg());
        let (preset, choice) = choose_preset(kind, tcfg, &headers);
        report.preset = preset.name.to_string();
        report.preset_choice = choice.to_string();
        plan_columns(&name, kind, preset, tcfg, &headers, &mut report, false)?;
        Ok((report, headers))
    }

    /// Map headers, then feed every row from `rows` into column builders.
    #[allow(clippy::type_complexity)]
    fn stream(
        &self,
        name: &str,
        headers: &[String],
        report: &mut FileReport,
        src_index: u32,
        rows: impl FnOnce(&mut dyn FnMut(u64, &dyn Fields) -> Result<()>) -> Result<()>,
    ) -> Result<(Rows, BTreeSet<String>)> {
        let m = self.mapping(name, headers, report)?;
        let mut part = Part::new(&m);
        let Some(dir) = self.spill else {
            rows(&mut |line, fields| part.emit(&m, line, fields))?;
            return self.finish(&m, vec![part], report, src_index, None);
        };
        // Spilling: a row group every FLUSH_ROWS rows; only the small
        // state of the columns stays in memory.
        let mut w = Writer::new(dir, self.kind.name());
        rows(&mut |line, fields| {
            part.emit(&m, line, fields)?;
            if part.lines.len() >= FLUSH_ROWS {
                w.write(&mut part.flush(&m)?)?;
            }
            Ok(())
        })?;
        if !part.lines.is_empty() || w.rows == 0 {
            w.write(&mut part.flush(&m)?)?;
        }
        self.finish(&m, vec![part], report, src_index, Some(w))
    }

    /// Map a CSV file cut into chunks (`split`), each chunk parsed and mapped
    /// by a worker thread. `None` when a cut fell inside a quoted cell or a
    /// chunk failed: the caller then reads the file in one piece.
    pub(super) fn load_split(
        &self,
        name: &str,
        headers: &[String],
        report: &mut FileReport,
        src_index: u32,
        cuts: &split::Split,
        total: Option<u64>,
    ) -> Result<Option<(Rows, BTreeSet<String>)>> {
        use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
        let m = self.mapping(name, headers, report)?;
        let n = cuts.bounds.len() - 1;
        let next = AtomicUsize::new(0);
        let done = AtomicU64::new(0);
        let stop = AtomicBool::new(false);
        let slots: Vec<std::sync::Mutex<Option<Result<Chunk>>>> =
            (0..n).map(|_| std::sync::Mutex::new(None)).collect();
        let mut progress = Progress::new(total, name, self.quiet);
        // The parts in file order; when spilling, each is written out as
        // soon as it and the ones before it are done (only its small state
        // is kept), else they are joined by `finish`.
        let mut parts = Vec::with_capacity(n);
        let mut lines_before = cuts.lines_before;
        let mut writer = self.spill.map(|d| Writer::new(d, self.kind.name()));
        let touches = self.kind == TableKind::Touches && self.spill.is_none();
        // Take the next part in file order once it is done; Ok(false) when
        // the file must be read in one piece.
        let mut take_ready = |all_done: bool| -> Result<bool> {
            while parts.len() < n {
                let k = parts.len();
                let ready = {
                    let mut slot = match slots[k].lock() {
                        Ok(s) => s,
                        Err(_) => return Ok(false),
                    };
                    slot.take()
                };
                let chunk = match ready {
                    None if all_done => return Ok(false),
                    None => return Ok(true),
                    Some(Ok(c)) if !(c.open_quote && k + 1 < n) => c,
                    Some(_) => return Ok(false),
                };
                let mut part = chunk.part;
                part.shift_lines(lines_before);
                lines_before += chunk.lines;
                if let Some(w) = writer.as_mut() {
                    w.write(&mut part.flush(&m)?)?;
                }
                parts.push(part);
            }
            Ok(true)
        };
        let mut outcome: Result<bool> = Ok(true);
        std::thread::scope(|s| {
            let workers: Vec<_> = (0..cuts.threads.min(n))
                .map(|_| {
                    s.spawn(|| loop {
                        let k = next.fetch_add(1, Ordering::Relaxed);
                        if k >= n || stop.load(Ordering::Relaxed) {
                            break;
                        }
                        let mut out = read_chunk(&m, cuts, k, &done, &stop);
                        // The touches' part becomes records here, in its
                        // worker: the builders are freed before the parts
                        // are joined (the touches are never spilled).
                        if touches {
                            if let Ok(c) = &mut out {
                                if let Err(e) = c.part.touches_done(&m) {
                                    out = Err(e);
                                }
                            }
                        }
                        if out.as_ref().map_or(true, |c| c.open_quote && k + 1 < n) {
                            stop.store(true, Ordering::Relaxed);
                        }
                        if let Ok(mut slot) = slots[k].lock() {
                            *slot = Some(out);
                        }
                    })
                })
                .collect();
            while !workers.iter().all(|w| w.is_finished()) {
                progress.update(done.load(Ordering::Relaxed));
                if self.spill.is_some() && matches!(outcome, Ok(true)) {
                    outcome = take_ready(false);
                    if !matches!(outcome, Ok(true)) {
                        stop.store(true, Ordering::Relaxed);
                    }
                }
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
        });
        progress.finish();
        if matches!(outcome, Ok(true)) {
            outcome = take_ready(true);
        }
        drop(take_ready);
        // A cut inside a quoted cell, a chunk's error or a failed write:
        // the caller reads the file in one piece.
        if !(matches!(outcome, Ok(true)) && parts.len() == n) {
            if let Some(w) = writer {
                let _ = std::fs::remove_file(&w.path);
            }
            return Ok(None);
        }
        self.finish(&m, parts, report, src_index, writer).map(Some)
    }

    /// How this file's columns are mapped, decided once from its headers.
    fn mapping<'a>(
        &'a self,
        name: &'a str,
        headers: &'a [String],
        report: &mut FileReport,
    ) -> Result<Mapping<'a>> {
        let kind = self.kind;
        let tcfg = self.tcfg();
        let (preset, choice) = choose_preset(kind, tcfg, headers);
        report.preset = preset.name.to_string();
        report.preset_choice = choice.to_string();
        let plans = plan_columns(name, kind, preset, tcfg, headers, report, true)?;
        let formats = plans
            .iter()
            .map(|p| tcfg.date_format.get(p.spec.name))
            .collect();
        let vmaps = plans
            .iter()
            .map(|p| value_map(preset, tcfg, p.spec.name))
            .collect();
        // Per column, once: not read (no source, or skipped by the command).
        let unread = plans
            .iter()
            .map(|p| p.from.is_none() || self.skipped(p.spec))
            .collect();
        let skipped = plans.iter().map(|p| self.skipped(p.spec)).collect();
        let stage_idx = plans.iter().position(|p| p.spec.name == "stage");
        let status_idx = plans.iter().position(|p| p.spec.name == "status");
        let status_mapped = status_idx.is_some_and(|i| plans[i].from.is_some());
        Ok(Mapping {
            name,
            headers,
            kind,
            preset,
            formats,
            vmaps,
            unread,
            skipped,
            stage_map: StageMap::new(tcfg),
            decimal_comma: self.decimal_comma(),
            skip_totals: kind == TableKind::Campaigns,
            stage_idx,
            status_idx,
            status_mapped,
            plans,
        })
    }

    /// Join the parts (in file order) into the table's frame (the
    /// touches: into their records, `touches::join`).
    fn finish(
        &self,
        m: &Mapping,
        parts: Vec<Part>,
        report: &mut FileReport,
        src_index: u32,
        spilled: Option<Writer>,
    ) -> Result<(Rows, BTreeSet<String>)> {
        let (name, headers, kind) = (m.name, m.headers, m.kind);
        let plans = &m.plans;
        let mut vcounts: BTreeMap<(usize, &str), u64> = BTreeMap::new();
        let one = parts.len() == 1;
        // The touches keep no line numbers, not even while mapped: nothing
        // reads them once loaded (a problem's line is recorded while
        // parsing), and at 200M touches they cost 8 bytes a touch.
        let keep_lines = self.kind != TableKind::Touches;
        let rows: usize = parts
            .iter()
            .map(|p| if keep_lines { p.lines.len() } else { p.rows_kept as usize })
            .sum();
        let mut lines: Vec<i64> = if one || !keep_lines {
            Vec::new()
        } else {
            Vec::with_capacity(rows)
        };
        let mut columns: Vec<Vec<Builder>> = plans.iter().map(|_| Vec::new()).collect();
        // The touches: each part's records (made by its worker, or here for
        // a file read in one piece), joined below without a frame.
        let touches = kind == TableKind::Touches && spilled.is_none();
        let mut touch_parts = Vec::new();
        for mut part in parts {
            if touches {
                part.touches_done(m)?;
                touch_parts.extend(part.touches.take());
            }
            report.rows_read += part.rows_read;
            report.rows_kept += part.rows_kept;
            report.footer_rows += part.footer_rows;
            for (into, from) in [
                (&mut report.failures, part.failures),
                (&mut report.dropped_required, part.dropped_required),
            ] {
                for (col, p) in from {
                    problem(into, &col).merge(p);
                }
            }
            for (k, v) in part.vcounts {
                *vcounts.entry(k).or_default() += v;
            }
            // (the touches' lines are dropped with the part, now)
            if keep_lines {
                if one {
                    lines = part.lines;
                } else {
                    lines.extend_from_slice(&part.lines);
                }
            }
            for (c, b) in columns.iter_mut().zip(part.builders) {
                c.push(b);
            }
        }
        for ((pi, from), rows) in vcounts {
            let (to, via) = &m.vmaps[pi][from];
            report.value_maps.push(ValueMapped {
                column: plans[pi].spec.name.to_string(),
                from: from.to_string(),
                to: to.clone(),
                rows,
                via: via.clone(),
            });
        }

        if report.rows_read == 0 {
            bail!("`{name}` has a header row but no data rows");
        }

        // Finish columns.
        let mut out: Vec<Column> = Vec::with_capacity(plans.len() + 2);
        let mut present = BTreeSet::new();
        let height = spilled.as_ref().map_or(rows, |w| w.rows);
        let at = Finish {
            name,
            headers,
            kind,
            day_first: self.day_first(),
            height,
        };
        if touches {
            let present = plans
                .iter()
                .filter(|p| p.from.is_some())
                .map(|p| p.spec.name.to_string())
                .collect();
            let t = super::touches::join(plans, touch_parts, &at, report)?;
            return Ok((Rows::Touches(Box::new(t)), present));
        }
        if let Some(w) = spilled {
            let mut select: Vec<Expr> = Vec::with_capacity(plans.len() + 2);
            for (plan, parts) in plans.iter().zip(columns) {
                if plan.from.is_some() {
                    present.insert(plan.spec.name.to_string());
                }
                select.push(Builder::concat(parts)?.finish_spilled(plan, &at, report)?);
            }
            for (c, fill) in self.table_fills(m, report, &mut present) {
                if let Some(i) = plans.iter().position(|p| p.spec.name == c) {
                    select[i] = fill.on(select[i].clone()).alias(c);
                }
            }
            select.push(col(LINE_COL));
            select.push(lit(src_index).cast(DataType::UInt32).alias(SRC_COL));
            let path = w
                .finish()?
                .ok_or_else(|| anyhow::anyhow!("internal: `{name}` spilled no rows"))?;
            return Ok((Rows::Spilled { path, select }, present));
        }
        for (plan, parts) in plans.iter().zip(columns) {
            if plan.from.is_some() {
                present.insert(plan.spec.name.to_string());
            }
            out.push(Builder::concat(parts)?.finish(plan, &at, report)?);
        }
        let mut df = DataFrame::new(height, out).map_err(|e| anyhow::anyhow!("{e}"))?;
        let fills: Vec<Expr> = self
            .table_fills(m, report, &mut present)
            .into_iter()
            .map(|(c, f)| f.on(col(c)).alias(c))
            .collect();
        if !fills.is_empty() {
            df = df
                .lazy()
                .with_columns(fills)
                .collect()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        if keep_lines {
            df.with_column(Column::new(LINE_COL.into(), lines))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            df.with_column(Column::new(SRC_COL.into(), vec![src_index; height]))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
        }
        Ok((Rows::Frame(df), present))
    }

    /// The columns a table fills after mapping: an opportunity's status
    /// (open) and type (new_business) when null, the channel a
    /// single-channel ad platform implies, the currency a header names.
    fn table_fills(
        &self,
        m: &Mapping,
        report: &mut FileReport,
        present: &mut BTreeSet<String>,
    ) -> Vec<(&'static str, Fill)> {
        let (kind, preset) = (m.kind, m.preset);
        let tcfg = self.tcfg();
        let mut out = Vec::new();
        // Status and type are always filled: status from stage map or open,
        // type defaults to new_business.
        if kind == TableKind::Opportunities {
            out.push(("status", Fill::Null("open")));
            out.push(("type", Fill::Null("new_business")));
            if present.contains("stage") {
                present.insert("status".to_string());
            }
        }
        // Implied channel for single-channel ad platforms.
        if kind == TableKind::Campaigns && !present.contains("channel") {
            if let Some(ch) = presets::implied_channel(preset) {
                // the user's value map applies to the implied value too
                let ch = tcfg
                    .value_map
                    .get("channel")
                    .and_then(|m| m.get(ch))
                    .map(String::as_str)
                    .unwrap_or(ch);
                out.push(("channel", Fill::Const(ch.to_string())));
                present.insert("channel".to_string());
                report.mapping.push(Mapped {
                    column: "channel".into(),
                    source: format!("= \"{ch}\""),
                    via: format!("implied by {}", preset.name),
                });
            }
        }
        if kind == TableKind::Campaigns && !present.contains("currency") {
            if let Some(cur) = &report.header_currency {
                out.push(("currency", Fill::Const(cur.clone())));
                present.insert("currency".to_string());
            }
        }
        out
    }
}

/// How `table_fills` fills a column.
enum Fill {
    /// Nulls become this value.
    Null(&'static str),
    /// Every row has this value.
    Const(String),
}

impl Fill {
    /// The filled column, from the expression reading the column as mapped.
    fn on(&self, e: Expr) -> Expr {
        match self {
            Fill::Null(v) => e.fill_null(lit(*v)),
            Fill::Const(v) => lit(v.clone()),
        }
    }
}

/// Why the CSV parser thread stopped early.
enum ParseError {
    Csv(csv::Error),
    /// A record that is not UTF-8: its line and the first bad field.
    Utf8 { line: u64, field: usize },
}

/// The cells of one row as a reader gives them: `get(i)` is the i-th field,
/// `None` past the end of the row (or for a null in NDJSON and Parquet).
pub(super) trait Fields {
    fn count(&self) -> usize;
    fn get(&self, i: usize) -> Option<&str>;
}

impl Fields for csv::StringRecord {
    fn count(&self) -> usize {
        self.len()
    }
    fn get(&self, i: usize) -> Option<&str> {
        csv::StringRecord::get(self, i)
    }
}

impl Fields for Vec<Option<String>> {
    fn count(&self) -> usize {
        self.len()
    }
    fn get(&self, i: usize) -> Option<&str> {
        self.as_slice().get(i).and_then(|v| v.as_deref())
    }
}

