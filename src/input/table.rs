//! Mapping one export onto a canonical table: pick the preset, match headers
//! to canonical columns, then stream the rows once, parsing each mapped cell
//! into typed column builders and recording what could not be parsed.

use std::collections::{BTreeMap, BTreeSet};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use polars::prelude::*;

use super::parse::{self, is_null_token, DateOrder, OrderEvidence, Ts};
use super::presets::{self, Preset};
use super::read::{self, Format, Source};
use super::suggest;
use crate::config::{Config, TableConfig};
use crate::model::{dtype_of, ColumnKind, ColumnSpec, TableKind};

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
}

#[derive(Debug, Clone)]
enum From {
    Header(usize),
    Constant(String),
}

struct Plan {
    spec: &'static ColumnSpec,
    from: Option<From>,
}

/// Null in the timestamp builders (8 bytes a value instead of 16 for `Option<i64>`).
const NULL_TS: i64 = i64::MIN;

enum Builder {
    Text(StringChunkedBuilder),
    Ts {
        /// Month-first (or exact) readings; `NULL_TS` for none.
        mf: Vec<i64>,
        /// Day-first readings, kept once a slash date is met.
        df: Option<Vec<i64>>,
        ev: OrderEvidence,
        /// Positions of values read as Excel serials, the first one's
        /// (line, value), and the count and first (line, value) of the others.
        serials: Vec<usize>,
        serial_sample: Option<(u64, String)>,
        others: u64,
        other_sample: Option<(u64, String)>,
        /// (line, value) of a value that must be month-first, and one that must be day-first.
        mf_sample: Option<(u64, String)>,
        df_sample: Option<(u64, String)>,
        /// Slash dates invalid month-first / day-first.
        mf_invalid: u64,
        df_invalid: u64,
    },
    /// `NaN` for none (parsed amounts are always finite).
    Num(Vec<f64>),
    /// A column the command does not read.
    Skip,
}

/// A parsed cell of one row, before the row is accepted.
enum Cell<'a> {
    Null,
    Text(&'a str),
    /// The parsed value and the text it came from.
    Ts(Ts, &'a str),
    Num(f64),
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
                // CSV parsing runs on a second thread, one batch of records
                // ahead of the mapping below: the two halves of the work
                // overlap on a two-core machine. Batches go back for reuse.
                const BATCH: usize = 4096;
                let (full_tx, full_rx) = std::sync::mpsc::sync_channel::<csv::Result<Vec<csv::ByteRecord>>>(4);
                let (empty_tx, empty_rx) = std::sync::mpsc::channel::<Vec<csv::ByteRecord>>();
                let parser = std::thread::spawn(move || {
                    loop {
                        let mut batch = empty_rx.try_recv().unwrap_or_else(|_| vec![csv::ByteRecord::new(); BATCH]);
                        batch.resize_with(BATCH, csv::ByteRecord::new);
                        let mut n = 0;
                        while n < BATCH {
                            match reader.read_byte_record(&mut batch[n]) {
                                Ok(true) => n += 1,
                                Ok(false) => break,
                                Err(e) => {
                                    let _ = full_tx.send(Err(e));
                                    return;
                                }
                            }
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
                        let batch = batch.with_context(|| format!("reading `{name}`"))?;
                        for rec in &batch {
                            n += 1;
                            if n % 65536 == 0 {
                                progress.update(rec.position().map(|p| p.byte()).unwrap_or(0));
                            }
                            let line = rec.position().map(|p| p.line()).unwrap_or(0);
                            let mut fields: Vec<Option<&str>> = Vec::with_capacity(rec.len());
                            for (i, f) in rec.iter().enumerate() {
                                match std::str::from_utf8(f) {
                                    Ok(s) => fields.push(Some(s)),
                                    Err(_) => bail!(
                                        "`{name}`: line {line}, column `{}`: value is not UTF-8 text (save the file as UTF-8)",
                                        crate::shown(headers.get(i).map(String::as_str).unwrap_or("?"))
                                    ),
                                }
                            }
                            emit(line, &fields)?;
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
                    let mut fields: Vec<Option<&str>> = Vec::new();
                    for (line, vals) in &rows {
                        fields.clear();
                        fields.extend(vals.iter().map(|v| v.as_deref()));
                        emit(*line, &fields)?;
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
        rows: impl FnOnce(&mut dyn FnMut(u64, &[Option<&str>]) -> Result<()>) -> Result<()>,
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

        let mut builders: Vec<Builder> = plans
            .iter()
            .map(|p| match p.spec.kind {
                _ if self.skipped(p.spec) => Builder::Skip,
                ColumnKind::Timestamp => Builder::Ts {
                    mf: Vec::new(),
                    df: None,
                    ev: OrderEvidence::default(),
                    serials: Vec::new(),
                    serial_sample: None,
                    others: 0,
                    other_sample: None,
                    mf_sample: None,
                    df_sample: None,
                    mf_invalid: 0,
                    df_invalid: 0,
                },
                ColumnKind::Number => Builder::Num(Vec::new()),
                _ => Builder::Text(StringChunkedBuilder::new(p.spec.name.into(), 1024)),
            })
            .collect();
        let mut lines: Vec<i64> = Vec::new();
        let stage_idx = plans.iter().position(|p| p.spec.name == "stage");
        let status_mapped = plans
            .iter()
            .any(|p| p.spec.name == "status" && p.from.is_some());

        let mut emit = |line: u64, fields: &[Option<&str>]| -> Result<()> {
            if fields
                .iter()
                .all(|f| f.map_or(true, |s| s.trim().is_empty()))
            {
                return Ok(());
            }
            if skip_totals {
                if let Some(first) = fields
                    .iter()
                    .flatten()
                    .map(|s| s.trim())
                    .find(|s| !s.is_empty())
                {
                    if first.len() >= 5 && first[..5].eq_ignore_ascii_case("total") {
                        report.footer_rows += 1;
                        return Ok(());
                    }
                }
            }
            report.rows_read += 1;
            let mut cells: Vec<Cell> = Vec::with_capacity(plans.len());
            let mut drop_row = false;
            for (pi, plan) in plans.iter().enumerate() {
                let raw: Option<&str> = match &plan.from {
                    None => None,
                    Some(From::Header(i)) => fields.get(*i).copied().flatten(),
                    Some(From::Constant(v)) => Some(v.as_str()),
                };
                let raw = raw.map(str::trim).unwrap_or("");
                let col = plan.spec.name;
                let cell = match plan.spec.kind {
                    _ if plan.from.is_none() => Cell::Null,
                    _ if self.skipped(plan.spec) => Cell::Null,
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
                    report
                        .dropped_required
                        .entry(col.to_string())
                        .or_default()
                        .add(line, raw);
                    drop_row = true;
                }
                cells.push(cell);
            }
            if drop_row {
                return Ok(());
            }
            // status from the stage map when the export has no status column
            if !status_mapped {
                if let Some(si) = stage_idx {
                    let status = match &cells[si] {
                        Cell::Text(stage) => Some(stage_map.status(stage)),
                        _ => None,
                    };
                    if let Some(pos) = plans.iter().position(|p| p.spec.name == "status") {
                        cells[pos] = status.map_or(Cell::Null, |s| Cell::Text(s));
                    }
                }
            }
            for ((b, cell), _plan) in builders.iter_mut().zip(cells.drain(..)).zip(plans.iter()) {
                match (b, cell) {
                    (Builder::Text(t), Cell::Text(s)) => t.append_value(s),
                    (Builder::Skip, _) => {}
                    (Builder::Text(t), _) => t.append_null(),
                    (Builder::Num(v), Cell::Num(x)) => v.push(x),
                    (Builder::Num(v), _) => v.push(f64::NAN),
                    (
                        Builder::Ts {
                            mf,
                            df,
                            ev,
                            serials,
                            serial_sample,
                            others,
                            other_sample,
                            mf_sample,
                            df_sample,
                            mf_invalid,
                            df_invalid,
                        },
                        Cell::Ts(ts, raw),
                    ) => {
                        ev.add(&ts);
                        if let Ts::Serial(_) = ts {
                            serials.push(mf.len());
                            serial_sample.get_or_insert_with(|| (line, read::truncate(raw, 60)));
                        } else {
                            *others += 1;
                            other_sample.get_or_insert_with(|| (line, read::truncate(raw, 60)));
                        }
                        match ts {
                            Ts::Exact(x) | Ts::Serial(x) => {
                                mf.push(x);
                                if let Some(d) = df {
                                    d.push(x);
                                }
                            }
                            Ts::Slash {
                                month_first,
                                day_first: dfv,
                                a,
                                b,
                            } => {
                                if df.is_none() {
                                    *df = Some(mf.clone());
                                }
                                mf.push(month_first.unwrap_or(NULL_TS));
                                if let Some(d) = df {
                                    d.push(dfv.unwrap_or(NULL_TS));
                                }
                                *mf_invalid += month_first.is_none() as u64;
                                *df_invalid += dfv.is_none() as u64;
                                if dfv.is_none() && mf_sample.is_none() {
                                    *mf_sample = Some((line, format!("{a}/{b}/…")));
                                }
                                if month_first.is_none() && df_sample.is_none() {
                                    *df_sample = Some((line, format!("{a}/{b}/…")));
                                }
                            }
                        }
                    }
                    (Builder::Ts { mf, df, .. }, _) => {
                        mf.push(NULL_TS);
                        if let Some(d) = df {
                            d.push(NULL_TS);
                        }
                    }
                }
            }
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
        for (plan, b) in plans.iter().zip(builders) {
            let col = plan.spec.name;
            if plan.from.is_some() {
                present.insert(col.to_string());
            }
            let series: Series = match b {
                Builder::Skip => {
                    columns.push(Column::full_null(
                        col.into(),
                        lines.len(),
                        &dtype_of(plan.spec.kind),
                    ));
                    continue;
                }
                Builder::Text(t) => t.finish().into_series(),
                Builder::Num(v) => Float64Chunked::from_iter_options(
                    col.into(),
                    v.into_iter().map(|x| (!x.is_nan()).then_some(x)),
                )
                .into_series(),
                Builder::Ts {
                    mut mf,
                    mut df,
                    ev,
                    serials,
                    serial_sample,
                    others,
                    other_sample,
                    mf_sample,
                    df_sample,
                    mf_invalid,
                    df_invalid,
                } => {
                    if !serials.is_empty() && others > 0 {
                        // Numbers are serial dates only when the whole column is numbers.
                        let (sl, sv) = serial_sample.clone().unwrap_or_default();
                        let (ol, ov) = other_sample.clone().unwrap_or_default();
                        if plan.spec.required {
                            bail!(
                                "`{name}`: column `{}` ({col}) mixes plain numbers (line {sl}: {sv}) and dates (line {ol}: {ov}); numbers are read as Excel serial dates only when every value of the column is one",
                                source_label(&plan.from, headers)
                            );
                        }
                        for &i in &serials {
                            mf[i] = NULL_TS;
                            if let Some(d) = df.as_mut() {
                                d[i] = NULL_TS;
                            }
                        }
                        let p = report.failures.entry(col.to_string()).or_default();
                        p.count += serials.len() as u64;
                        p.samples.push((sl, sv));
                    } else if !serials.is_empty() {
                        report.date_orders.insert(
                            col.to_string(),
                            "Excel serial numbers (days since 1899-12-30)".to_string(),
                        );
                    }
                    let order = ev.order();
                    let use_df = match order {
                        DateOrder::DayFirst => true,
                        DateOrder::MonthFirst | DateOrder::None => false,
                        DateOrder::Ambiguous => day_first,
                        DateOrder::Mixed => {
                            if plan.spec.required {
                                let (ml, mv) = mf_sample.clone().unwrap_or_default();
                                let (dl, dv) = df_sample.clone().unwrap_or_default();
                                bail!(
                                    "`{name}`: column `{}` ({col}) mixes month-first dates (line {ml}: {mv}) and day-first dates (line {dl}: {dv})",
                                    source_label(&plan.from, headers)
                                );
                            }
                            day_first
                        }
                    };
                    let desc = match order {
                        DateOrder::None => None,
                        DateOrder::MonthFirst => Some("month/day/year (detected)".to_string()),
                        DateOrder::DayFirst => Some("day/month/year (detected)".to_string()),
                        DateOrder::Ambiguous => Some(format!(
                            "ambiguous (every day <= 12): read as {} because day_first = {day_first}",
                            if day_first { "day/month/year" } else { "month/day/year" }
                        )),
                        DateOrder::Mixed => Some(format!(
                            "mixed month-first and day-first values: read as {}; values invalid that way are null",
                            if day_first { "day/month/year" } else { "month/day/year" }
                        )),
                    };
                    if let Some(d) = desc {
                        report.date_orders.insert(col.to_string(), d);
                    }
                    let mut vals = if use_df { df.unwrap_or(mf) } else { mf };
                    if order == DateOrder::Mixed {
                        // Values invalid in the chosen reading became null: count them.
                        let invalid = if use_df { df_invalid } else { mf_invalid };
                        // sample: a value that needs the other reading
                        let sample = if use_df {
                            mf_sample.clone()
                        } else {
                            df_sample.clone()
                        };
                        let p = report.failures.entry(col.to_string()).or_default();
                        p.count += invalid;
                        if let Some(sample) = sample {
                            p.samples.push(sample);
                        }
                    }
                    if kind == TableKind::Revenue && col == "month" {
                        for v in vals.iter_mut().filter(|v| **v != NULL_TS) {
                            *v = month_floor(*v);
                        }
                    }
                    Int64Chunked::from_iter_options(
                        col.into(),
                        vals.into_iter().map(|v| (v != NULL_TS).then_some(v)),
                    )
                    .into_datetime(TimeUnit::Microseconds, None)
                    .into_series()
                }
            };
            let series = series
                .cast(&dtype_of(plan.spec.kind))
                .map_err(|e| anyhow::anyhow!("column {col}: {e}"))?;
            columns.push(series.into_column());
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

/// The value map of `column`: raw value (trimmed, case-sensitive) ->
/// (value, where the entry comes from). The configuration's entries win over
/// the preset's.
fn value_map(
    preset: &Preset,
    tcfg: &TableConfig,
    column: &str,
) -> BTreeMap<String, (String, String)> {
    let mut m: BTreeMap<String, (String, String)> = presets::value_map(preset, column)
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                (v.to_string(), format!("preset {}", preset.name)),
            )
        })
        .collect();
    if let Some(user) = tcfg.value_map.get(column) {
        for (k, v) in user {
            m.insert(
                k.trim().to_string(),
                (v.clone(), "revcycle.toml".to_string()),
            );
        }
    }
    m
}

/// An unreadable value in an optional column: counted with a sample, and null.
fn unreadable<'a>(report: &mut FileReport, col: &str, line: u64, raw: &str) -> Cell<'a> {
    report
        .failures
        .entry(col.to_string())
        .or_default()
        .add(line, raw);
    Cell::Null
}

fn month_floor(us: i64) -> i64 {
    use chrono::Datelike;
    let d = crate::periods::date_of(us);
    crate::periods::micros_of_date(d.with_day(1).unwrap_or(d))
}

fn source_label(from: &Option<From>, headers: &[String]) -> String {
    match from {
        Some(From::Header(i)) => headers.get(*i).map(|h| crate::shown(h)).unwrap_or_default(),
        Some(From::Constant(v)) => format!("constant \"{v}\""),
        None => String::new(),
    }
}

fn norm(s: &str) -> String {
    s.trim().to_lowercase()
}

/// How well a row of cells looks like a header for `kind`: the best count of
/// cells matching one preset's aliases, plus configured header names.
pub fn header_score(
    kind: TableKind,
    preset: Option<&str>,
    configured: &[String],
    cells: &[String],
) -> usize {
    let cells_n: BTreeSet<String> = cells.iter().map(|c| norm(c)).collect();
    let conf = configured
        .iter()
        .filter(|c| cells_n.contains(&norm(c)))
        .count();
    presets::PRESETS
        .iter()
        .filter(|p| p.table == kind && preset.map_or(true, |n| p.name.eq_ignore_ascii_case(n)))
        .map(|p| preset_matches(p, cells))
        .max()
        .unwrap_or(0)
        + conf
}

fn preset_matches(p: &Preset, headers: &[String]) -> usize {
    let hs: Vec<String> = headers.iter().map(|h| norm(h)).collect();
    let mut n = 0;
    for (_, aliases) in p.columns {
        if aliases.iter().any(|a| hs.contains(&norm(a))) {
            n += 1;
        }
    }
    for (_, prefix) in p.prefix_columns {
        let pl = norm(prefix);
        if hs.iter().any(|h| h.starts_with(&pl)) {
            n += 1;
        }
    }
    n
}

fn choose_preset(
    kind: TableKind,
    tcfg: &TableConfig,
    headers: &[String],
) -> (&'static Preset, &'static str) {
    if let Some(name) = &tcfg.preset {
        if let Some(p) = presets::find(name, kind) {
            return (p, "configured");
        }
    }
    // Every required column mapped by hand: no vendor's aliases, implied
    // channel or value map is applied behind the user's back.
    if kind
        .columns()
        .iter()
        .filter(|c| c.required)
        .all(|c| tcfg.columns.contains_key(c.name) || tcfg.constants.contains_key(c.name))
    {
        return (
            presets::find("canonical", kind).expect("canonical preset"),
            "columns mapped in revcycle.toml",
        );
    }
    let mut best: Option<(&'static Preset, usize)> = None;
    for p in presets::PRESETS.iter().filter(|p| p.table == kind) {
        let s = preset_matches(p, headers);
        if best.map_or(true, |(_, bs)| s > bs) {
            best = Some((p, s));
        }
    }
    (
        best.map(|b| b.0)
            .unwrap_or_else(|| presets::find("canonical", kind).expect("canonical preset")),
        "detected",
    )
}

fn find_header(headers: &[String], name: &str) -> Option<usize> {
    headers
        .iter()
        .position(|h| h == name)
        .or_else(|| headers.iter().position(|h| norm(h) == norm(name)))
}

fn plan_columns(
    name: &str,
    kind: TableKind,
    preset: &'static Preset,
    tcfg: &TableConfig,
    headers: &[String],
    report: &mut FileReport,
    strict: bool,
) -> Result<Vec<Plan>> {
    let mut plans = Vec::new();
    let mut used = BTreeSet::new();
    for spec in kind.columns() {
        let col = spec.name;
        let mut from = None;
        let mut via = String::new();
        if let Some(v) = tcfg.constants.get(col) {
            from = Some(From::Constant(v.clone()));
            via = "revcycle.toml (constant)".into();
        } else if let Some(h) = tcfg.columns.get(col) {
            match find_header(headers, h) {
                Some(i) => {
                    from = Some(From::Header(i));
                    via = "revcycle.toml".into();
                }
                None => bail!(
                    "`{name}`: column `{}` (configured for {}.{col}) is not in the file{}; headers found: {}",
                    crate::shown(h),
                    kind.name(),
                    suggest(h, headers.iter().map(String::as_str)),
                    shown_headers(headers)
                ),
            }
        } else {
            for a in preset.aliases(col) {
                if let Some(i) = find_header(headers, a) {
                    from = Some(From::Header(i));
                    via = format!("preset {}", preset.name);
                    break;
                }
            }
            if from.is_none() {
                if let Some((_, prefix)) = preset.prefix_columns.iter().find(|(c, _)| *c == col) {
                    let pl = norm(prefix);
                    if let Some(i) = headers.iter().position(|h| norm(h).starts_with(&pl)) {
                        from = Some(From::Header(i));
                        via = format!("preset {}", preset.name);
                        // "Amount spent (USD)": the currency is in the header
                        let h = &headers[i];
                        if let (Some(a), Some(b)) = (h.rfind('('), h.rfind(')')) {
                            if b > a + 1 {
                                report.header_currency = Some(h[a + 1..b].trim().to_string());
                            }
                        }
                    }
                }
            }
            if from.is_none() {
                if let Some(i) = find_header(headers, col) {
                    from = Some(From::Header(i));
                    via = "canonical name".into();
                }
            }
        }
        if strict && from.is_none() && spec.required {
            let mut candidates: Vec<&str> = preset.aliases(col).to_vec();
            candidates.push(col);
            let closest = closest_header(&candidates, headers);
            bail!(
                "`{name}`: missing required column `{col}` for {} ({}); headers found: {}{}",
                kind.name(),
                if preset.name == "canonical" {
                    format!("expected a header named `{col}` or a mapping in revcycle.toml [{}.columns]", kind.name())
                } else {
                    format!(
                        "preset {} expects {}",
                        preset.name,
                        preset
                            .aliases(col)
                            .iter()
                            .map(|a| format!("`{a}`"))
                            .collect::<Vec<_>>()
                            .join(" or ")
                    )
                },
                if headers.is_empty() {
                    "(none)".to_string()
                } else {
                    shown_headers(headers)
                },
                closest
                    .map(|h| format!("; did you mean '{h}'?"))
                    .unwrap_or_default()
            );
        }
        if let Some(f) = &from {
            let source = match f {
                From::Header(i) => {
                    used.insert(*i);
                    headers[*i].clone()
                }
                From::Constant(v) => format!("= \"{v}\""),
            };
            report.mapping.push(Mapped {
                column: col.to_string(),
                source,
                via,
            });
        }
        plans.push(Plan { spec, from });
    }
    report.unmapped_headers = headers
        .iter()
        .enumerate()
        .filter(|(i, h)| !used.contains(i) && !h.is_empty())
        .map(|(_, h)| h.clone())
        .collect();
    Ok(plans)
}

/// The header closest to any of `candidates` (edit distance), if any is close.
fn closest_header<'a>(candidates: &[&str], headers: &'a [String]) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for h in headers {
        for c in candidates {
            let score = strsim::normalized_levenshtein(&norm(h), &norm(c));
            if best.map_or(true, |(_, s)| score > s) {
                best = Some((h.as_str(), score));
            }
        }
    }
    best.filter(|(_, s)| *s >= 0.4).map(|(h, _)| h)
}

fn parse_status(raw: &str) -> Option<&'static str> {
    match raw.trim().to_lowercase().as_str() {
        "open" => Some("open"),
        "won" | "closed won" | "closedwon" => Some("won"),
        "lost" | "closed lost" | "closedlost" => Some("lost"),
        _ => None,
    }
}

/// Raw stage -> status and raw type -> deal type, configured entries first.
struct StageMap {
    stages: BTreeMap<String, String>,
    types: BTreeMap<String, String>,
}

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect()
}

impl StageMap {
    fn new(t: &TableConfig) -> StageMap {
        StageMap {
            stages: t
                .stage_map
                .iter()
                .map(|(k, v)| (norm(k), v.clone()))
                .collect(),
            types: t
                .type_map
                .iter()
                .map(|(k, v)| (norm(k), v.clone()))
                .collect(),
        }
    }

    fn status(&self, stage: &str) -> &str {
        if let Some(v) = self.stages.get(&norm(stage)) {
            return v;
        }
        let s = squash(stage);
        if s == "won" || s.starts_with("closedwon") || s == "win" {
            "won"
        } else if s == "lost" || s.starts_with("closedlost") || s == "lose" {
            "lost"
        } else {
            "open"
        }
    }

    fn deal_type(&self, raw: &str) -> Option<&str> {
        if let Some(v) = self.types.get(&norm(raw)) {
            return Some(v);
        }
        let s = squash(raw);
        match s.as_str() {
            "newbusiness" | "new" | "newbiz" | "newcustomer" | "new_business" => {
                Some("new_business")
            }
            "renewal" | "renew" | "existingbusinessrenewal" => Some("renewal"),
            _ if s.contains("renewal") => Some("renewal"),
            "expansion" | "existingbusiness" | "upsell" | "upgrade" | "crosssell" | "addon"
            | "existingcustomer" => Some("expansion"),
            _ if s.starts_with("existingcustomer")
                || s.contains("upsell")
                || s.contains("upgrade")
                || s.contains("expansion") =>
            {
                Some("expansion")
            }
            _ => None,
        }
    }
}

/// A progress bar on standard error, shown only on a terminal and only once
/// loading has taken more than a second.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    started: Instant,
    total: Option<u64>,
    name: String,
    enabled: bool,
}

impl Progress {
    fn new(total: Option<u64>, name: &str, quiet: bool) -> Progress {
        Progress {
            bar: None,
            started: Instant::now(),
            total,
            name: name.to_string(),
            enabled: !quiet && std::io::stderr().is_terminal(),
        }
    }

    fn update(&mut self, pos: u64) {
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

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

/// The file's headers as an error message lists them: each one escaped and
/// cut to 80 characters (`crate::shown`), comma-separated.
fn shown_headers(headers: &[String]) -> String {
    headers
        .iter()
        .map(|h| crate::shown(h))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stage_and_type_defaults() {
        let m = StageMap::new(&TableConfig::default());
        assert_eq!(m.status("Closed Won"), "won");
        assert_eq!(m.status("closedlost"), "lost");
        assert_eq!(m.status("Negotiation/Review"), "open");
        assert_eq!(m.deal_type("New Business"), Some("new_business"));
        assert_eq!(m.deal_type("Existing Business"), Some("expansion"));
        assert_eq!(
            m.deal_type("Existing Customer - Upgrade"),
            Some("expansion")
        );
        assert_eq!(m.deal_type("Renewal"), Some("renewal"));
        assert_eq!(m.deal_type("Partner"), None);
        let mut t = TableConfig::default();
        t.stage_map.insert("Engaging".into(), "open".into());
        t.stage_map.insert("Signed".into(), "won".into());
        let m = StageMap::new(&t);
        assert_eq!(m.status("signed"), "won");
    }
}
