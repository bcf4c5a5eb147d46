//! Mapping one export onto a canonical table: pick the preset, match headers
//! to canonical columns, then stream the rows once, parsing each mapped cell
//! into typed column builders and recording what could not be parsed.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::{bail, Result};
use polars::prelude::*;

use super::builder::{Builder, Cell, Finish};
use super::parse::{self, is_null_token, Ts};
use super::plan::{
    choose_preset, header_score, parse_status, plan_columns, source_label, value_map, From,
    StageMap,
};
use super::progress::Progress;
use super::read::{self, Format, Source};
use crate::config::{Config, TableConfig};
use crate::model::{ColumnKind, ColumnSpec, TableKind};
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
    /// The dictionaries of the coded columns (the touches'), by column:
    /// taken out by `touches::load_touches`, never reported.
    #[serde(skip)]
    pub coded: BTreeMap<String, crate::dict::Dict>,
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
}

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
    fn open(&self, src: &Source) -> Result<(String, read::Opened, FileReport)> {
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
    fn csv_rows(
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
    ) -> Result<(DataFrame, BTreeSet<String>, FileReport)> {
        let (name, opened, mut report) = self.open(src)?;
        match opened.format {
            Format::Csv => {
                let rows = self.csv_rows(&name, opened, &mut report)?;
                let total = src.len();
                let mut reader = rows.reader;
                let headers = rows.headers;
                let mut progress = Progress::new(total, &name, self.quiet);
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
                let result = self.stream(&name, &headers, &mut report, src_index, |emit| {
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
    ) -> Result<(DataFrame, BTreeSet<String>)> {
        let kind = self.kind;
        let tcfg = self.tcfg();
        let (preset, choice) = choose_preset(kind, tcfg, headers);
        report.preset = preset.name.to_string();
        report.preset_choice = choice.to_string();
        let plans = plan_columns(name, kind, preset, tcfg, headers, report, true)?;
        let day_first = self.day_first();
        let decimal_comma = self.decimal_comma();
        let stage_map = StageMap::new(tcfg);
        let skip_totals = kind == TableKind::Campaigns;
        let formats: Vec<Option<&str>> = plans
            .iter()
            .map(|p| tcfg.date_format.get(p.spec.name))
            .collect();
        let vmaps: Vec<BTreeMap<String, (String, String)>> = plans
            .iter()
            .map(|p| value_map(preset, tcfg, p.spec.name))
            .collect();
        let mut vcounts: BTreeMap<(usize, &str), u64> = BTreeMap::new();

        // Per column, once: not read (no source, or skipped by the command).
        let unread: Vec<bool> = plans
            .iter()
            .map(|p| p.from.is_none() || self.skipped(p.spec))
            .collect();
        let mut builders: Vec<Builder> = plans
            .iter()
            .map(|p| Builder::new(kind, p.spec, self.skipped(p.spec)))
            .collect();
        let mut lines: Vec<i64> = Vec::new();
        let stage_idx = plans.iter().position(|p| p.spec.name == "stage");
        let status_idx = plans.iter().position(|p| p.spec.name == "status");
        let status_mapped = status_idx.is_some_and(|i| plans[i].from.is_some());
        // The cells of the row being mapped: one allocation, reused.
        let mut spare: Vec<Cell<'static>> = Vec::with_capacity(plans.len());

        let mut emit = |line: u64, fields: &dyn Fields| -> Result<()> {
            let first = (0..fields.count())
                .filter_map(|i| fields.get(i))
                .map(parse::trim)
                .find(|s| !s.is_empty());
            let Some(first) = first else {
                return Ok(());
            };
            if skip_totals && first.get(..5).is_some_and(|p| p.eq_ignore_ascii_case("total")) {
                report.footer_rows += 1;
                return Ok(());
            }
            report.rows_read += 1;
            let mut cells = recycle(std::mem::take(&mut spare));
            let mut drop_row = false;
            for (pi, plan) in plans.iter().enumerate() {
                let raw: Option<&str> = match &plan.from {
                    None => None,
                    Some(From::Header(i)) => fields.get(*i),
                    Some(From::Constant(v)) => Some(v.as_str()),
                };
                let raw = raw.map(parse::trim).unwrap_or("");
                let col = plan.spec.name;
                let cell = match plan.spec.kind {
                    _ if unread[pi] => Cell::Null,
                    ColumnKind::Text => {
                        if raw.is_empty() || (skip_totals && raw == "--") {
                            Cell::Null
                        } else if let Some((k, (to, _))) = vmaps[pi].get_key_value(raw) {
                            *vcounts.entry((pi, k.as_str())).or_default() += 1;
                            Cell::Text(to.as_str())
                        } else {
                            Cell::Text(raw)
                        }
                    }
                    ColumnKind::Timestamp => {
                        if is_null_token(raw) {
                            Cell::Null
                        } else if let Some(v) =
                            formats[pi].and_then(|f| parse::parse_with_format(raw, f))
                        {
                            Cell::Ts(Ts::Exact(v), raw)
                        } else if let Some(ts) = parse::parse_timestamp(raw) {
                            Cell::Ts(ts, raw)
                        } else if plan.spec.required {
                            bail!(
                                "`{name}`: line {line}, column `{}` ({col}): `{}` is not a date or timestamp (tried {}{}); for another form set [{}.date_format] {col} = \"%d-%b-%Y %H:%M\" (strftime) in revcycle.toml",
                                source_label(&plan.from, headers),
                                read::truncate(raw, 60),
                                formats[pi].map(|f| format!("date_format `{f}`, ")).unwrap_or_default(),
                                parse::FORMS_TRIED,
                                kind.name()
                            );
                        } else {
                            unreadable(report, col, line, raw)
                        }
                    }
                    ColumnKind::Number => {
                        if is_null_token(raw) {
                            Cell::Null
                        } else if let Some(v) = parse::parse_amount(raw, decimal_comma) {
                            Cell::Num(v)
                        } else if plan.spec.required {
                            bail!(
                                "`{name}`: line {line}, column `{}` ({col}): `{}` is not a number{}",
                                source_label(&plan.from, headers),
                                read::truncate(raw, 60),
                                if raw.contains(',') && !decimal_comma {
                                    " (set decimal_comma = true in revcycle.toml if it uses a decimal comma)"
                                } else {
                                    ""
                                }
                            );
                        } else {
                            unreadable(report, col, line, raw)
                        }
                    }
                    ColumnKind::Status => {
                        if raw.is_empty() {
                            Cell::Null
                        } else if let Some(s) = parse_status(raw) {
                            Cell::Text(s)
                        } else {
                            unreadable(report, col, line, raw)
                        }
                    }
                    ColumnKind::DealType => {
                        if raw.is_empty() {
                            Cell::Null
                        } else if let Some(t) = stage_map.deal_type(raw) {
                            Cell::Text(t)
                        } else {
                            unreadable(report, col, line, raw)
                        }
                    }
                };
                if plan.spec.required && matches!(cell, Cell::Null) {
                    problem(&mut report.dropped_required, col).add(line, raw);
                    drop_row = true;
                }
                cells.push(cell);
            }
            if drop_row {
                spare = recycle(cells);
                return Ok(());
            }
            // status from the stage map when the export has no status column
            if !status_mapped {
                if let Some(si) = stage_idx {
                    let status = match &cells[si] {
                        Cell::Text(stage) => Some(stage_map.status(stage)),
                        _ => None,
                    };
                    if let Some(pos) = status_idx {
                        cells[pos] = status.map_or(Cell::Null, |s| Cell::Text(s));
                    }
                }
            }
            for (b, cell) in builders.iter_mut().zip(cells.drain(..)) {
                b.push(cell, line);
            }
            spare = recycle(cells);
            lines.push(line as i64);
            report.rows_kept += 1;
            Ok(())
        };
        rows(&mut emit)?;
        for ((pi, from), rows) in vcounts {
            let (to, via) = &vmaps[pi][from];
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
        let mut columns: Vec<Column> = Vec::with_capacity(plans.len() + 2);
        let mut present = BTreeSet::new();
        let at = Finish {
            name,
            headers,
            kind,
            day_first,
            height: lines.len(),
        };
        for (plan, b) in plans.iter().zip(builders) {
            if plan.from.is_some() {
                present.insert(plan.spec.name.to_string());
            }
            columns.push(b.finish(plan, &at, report)?);
        }
        let height = lines.len();
        // Status and type are always filled: status from stage map or open,
        // type defaults to new_business.
        let mut df = DataFrame::new(height, columns).map_err(|e| anyhow::anyhow!("{e}"))?;
        if kind == TableKind::Opportunities {
            df = df
                .lazy()
                .with_columns([
                    col("status").fill_null(lit("open")),
                    col("type").fill_null(lit("new_business")),
                ])
                .collect()
                .map_err(|e| anyhow::anyhow!("{e}"))?;
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
                df = df
                    .lazy()
                    .with_column(lit(ch).alias("channel"))
                    .collect()
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
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
                df = df
                    .lazy()
                    .with_column(lit(cur.clone()).alias("currency"))
                    .collect()
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                present.insert("currency".to_string());
            }
        }
        df.with_column(Column::new(LINE_COL.into(), lines))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        df.with_column(Column::new(SRC_COL.into(), vec![src_index; height]))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Ok((df, present))
    }
}

/// An unreadable value in an optional column: counted with a sample, and null.
fn unreadable<'a>(report: &mut FileReport, col: &str, line: u64, raw: &str) -> Cell<'a> {
    problem(&mut report.failures, col).add(line, raw);
    Cell::Null
}

/// The problem of column `col` in `map`, created when first met (the
/// column name is copied once, not per value).
fn problem<'m>(map: &'m mut BTreeMap<String, Problem>, col: &str) -> &'m mut Problem {
    if !map.contains_key(col) {
        map.insert(col.to_string(), Problem::default());
    }
    map.get_mut(col).expect("inserted above")
}

/// An empty vector with `cells`' allocation, for the next row's cells
/// (`filter_map` into the same layout collects in place: no allocation).
fn recycle<'b>(mut cells: Vec<Cell<'_>>) -> Vec<Cell<'b>> {
    cells.clear();
    cells.into_iter().filter_map(|_| None).collect()
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

