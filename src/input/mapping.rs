//! Mapping the rows of one file (or of one chunk of a file read in
//! parallel) into typed column builders: the cells parsed by kind, value
//! maps applied, rows without a required value dropped and counted.

use std::collections::BTreeMap;

use anyhow::{bail, Result};

use super::builder::{Builder, Cell};
use super::parse::{self, is_null_token, Ts};
use super::plan::{parse_status, source_label, From, Plan, StageMap};
use super::read;
use super::split;
use super::table::{Fields, Problem};
use super::touches::TouchPart;
use crate::model::{ColumnKind, TableKind};
use crate::presets;

/// How one file's columns are mapped: decided once from its headers and
/// shared by the workers of a file read in chunks.
pub(super) struct Mapping<'a> {
    pub(super) name: &'a str,
    pub(super) headers: &'a [String],
    pub(super) kind: TableKind,
    pub(super) preset: &'static presets::Preset,
    pub(super) plans: Vec<Plan>,
    pub(super) formats: Vec<Option<&'a str>>,
    pub(super) vmaps: Vec<BTreeMap<String, (String, String)>>,
    pub(super) unread: Vec<bool>,
    pub(super) skipped: Vec<bool>,
    pub(super) stage_map: StageMap,
    pub(super) decimal_comma: bool,
    pub(super) skip_totals: bool,
    pub(super) stage_idx: Option<usize>,
    pub(super) status_idx: Option<usize>,
    pub(super) status_mapped: bool,
}

/// The rows of one part of a file (all of it, or one chunk) as mapped.
pub(super) struct Part<'m> {
    pub(super) builders: Vec<Builder>,
    /// The touches' builders made touch records (`touches_done`); the
    /// builders are then gone.
    pub(super) touches: Option<TouchPart>,
    /// The lines of the rows kept (none for the touches: nothing reads them).
    pub(super) lines: Vec<i64>,
    pub(super) rows_read: u64,
    pub(super) rows_kept: u64,
    pub(super) footer_rows: u64,
    pub(super) failures: BTreeMap<String, Problem>,
    pub(super) dropped_required: BTreeMap<String, Problem>,
    pub(super) vcounts: BTreeMap<(usize, &'m str), u64>,
    /// The cells of the row being mapped: one allocation, reused.
    pub(super) spare: Vec<Cell<'static>>,
}

impl<'m> Part<'m> {
    pub(super) fn new(m: &Mapping) -> Part<'m> {
        Part {
            builders: m
                .plans
                .iter()
                .zip(&m.skipped)
                .map(|(p, &skip)| Builder::new(m.kind, p.spec, skip))
                .collect(),
            touches: None,
            lines: Vec::new(),
            rows_read: 0,
            rows_kept: 0,
            footer_rows: 0,
            failures: BTreeMap::new(),
            dropped_required: BTreeMap::new(),
            vcounts: BTreeMap::new(),
            spare: Vec::with_capacity(m.plans.len()),
        }
    }

    /// A part read from a chunk counts lines from the chunk's start: make
    /// them the file's lines.
    pub(super) fn shift_lines(&mut self, by: u64) {
        if by == 0 {
            return;
        }
        for l in &mut self.lines {
            *l += by as i64;
        }
        for p in self
            .failures
            .values_mut()
            .chain(self.dropped_required.values_mut())
        {
            for s in &mut p.samples {
                s.0 += by;
            }
        }
        for b in &mut self.builders {
            b.shift_lines(by);
        }
        if let Some(t) = &mut self.touches {
            t.shift_lines(by);
        }
    }

    /// A touches part done mapping: its builders become touch records
    /// (16 bytes a touch instead of the builders' 32), freed at once.
    pub(super) fn touches_done(&mut self, m: &Mapping) -> Result<()> {
        if self.touches.is_none() {
            let builders = std::mem::take(&mut self.builders);
            self.touches = Some(TouchPart::of(m, builders)?);
        }
        Ok(())
    }

    /// Take the rows mapped so far out as a batch of the spilled file (the
    /// builders' columns, then `__line`); the counts, samples and date
    /// evidence stay for `finish`.
    pub(super) fn flush(&mut self, m: &Mapping) -> Result<polars::prelude::DataFrame> {
        use polars::prelude::*;
        let height = self.lines.len();
        let mut cols = Vec::with_capacity(m.plans.len() + 1);
        for (b, p) in self.builders.iter_mut().zip(&m.plans) {
            cols.extend(b.flush(p, m.kind)?);
        }
        cols.push(Column::new(
            super::table::LINE_COL.into(),
            std::mem::take(&mut self.lines),
        ));
        DataFrame::new(height, cols).map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// Map one row (read at `line`).
    pub(super) fn emit(
        &mut self,
        m: &'m Mapping<'_>,
        line: u64,
        fields: &dyn Fields,
    ) -> Result<()> {
        let (name, headers, kind) = (m.name, m.headers, m.kind);
        let (plans, skip_totals) = (&m.plans, m.skip_totals);
        let first = (0..fields.count())
            .filter_map(|i| fields.get(i))
            .map(parse::trim)
            .find(|s| !s.is_empty());
        let Some(first) = first else {
            return Ok(());
        };
        if skip_totals
            && first
                .get(..5)
                .is_some_and(|p| p.eq_ignore_ascii_case("total"))
        {
            self.footer_rows += 1;
            return Ok(());
        }
        self.rows_read += 1;
        let mut cells = recycle(std::mem::take(&mut self.spare));
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
                _ if m.unread[pi] => Cell::Null,
                ColumnKind::Text => {
                    if raw.is_empty() || (skip_totals && raw == "--") {
                        Cell::Null
                    } else if let Some((k, (to, _))) = m.vmaps[pi].get_key_value(raw) {
                        *self.vcounts.entry((pi, k.as_str())).or_default() += 1;
                        Cell::Text(to.as_str())
                    } else {
                        Cell::Text(raw)
                    }
                }
                ColumnKind::Timestamp => {
                    if is_null_token(raw) {
                        Cell::Null
                    } else if let Some(v) =
                        m.formats[pi].and_then(|f| parse::parse_with_format(raw, f))
                    {
                        Cell::Ts(Ts::Exact(v), raw)
                    } else if let Some(ts) = parse::parse_timestamp(raw) {
                        Cell::Ts(ts, raw)
                    } else if plan.spec.required {
                        bail!(
                            "`{name}`: line {line}, column `{}` ({col}): `{}` is not a date or timestamp (tried {}{}); for another form set [{}.date_format] {col} = \"%d-%b-%Y %H:%M\" (strftime) in revcycle.toml",
                            source_label(&plan.from, headers),
                            read::truncate(raw, 60),
                            m.formats[pi].map(|f| format!("date_format `{f}`, ")).unwrap_or_default(),
                            parse::FORMS_TRIED,
                            kind.name()
                        );
                    } else {
                        unreadable(&mut self.failures, col, line, raw)
                    }
                }
                ColumnKind::Number => {
                    if is_null_token(raw) {
                        Cell::Null
                    } else if let Some(v) = parse::parse_amount(raw, m.decimal_comma) {
                        Cell::Num(v)
                    } else if plan.spec.required {
                        bail!(
                            "`{name}`: line {line}, column `{}` ({col}): `{}` is not a number{}",
                            source_label(&plan.from, headers),
                            read::truncate(raw, 60),
                            if raw.contains(',') && !m.decimal_comma {
                                " (set decimal_comma = true in revcycle.toml if it uses a decimal comma)"
                            } else {
                                ""
                            }
                        );
                    } else {
                        unreadable(&mut self.failures, col, line, raw)
                    }
                }
                ColumnKind::Status => {
                    if raw.is_empty() {
                        Cell::Null
                    } else if let Some(s) = parse_status(raw) {
                        Cell::Text(s)
                    } else {
                        unreadable(&mut self.failures, col, line, raw)
                    }
                }
                ColumnKind::DealType => {
                    if raw.is_empty() {
                        Cell::Null
                    } else if let Some(t) = m.stage_map.deal_type(raw) {
                        Cell::Text(t)
                    } else {
                        unreadable(&mut self.failures, col, line, raw)
                    }
                }
            };
            if plan.spec.required && matches!(cell, Cell::Null) {
                problem(&mut self.dropped_required, col).add(line, raw);
                drop_row = true;
            }
            cells.push(cell);
        }
        if drop_row {
            self.spare = recycle(cells);
            return Ok(());
        }
        // status from the stage map when the export has no status column
        if !m.status_mapped {
            if let Some(si) = m.stage_idx {
                let status = match &cells[si] {
                    Cell::Text(stage) => Some(m.stage_map.status(stage)),
                    _ => None,
                };
                if let Some(pos) = m.status_idx {
                    cells[pos] = status.map_or(Cell::Null, |s| Cell::Text(s));
                }
            }
        }
        for (b, cell) in self.builders.iter_mut().zip(cells.drain(..)) {
            b.push(cell, line);
        }
        self.spare = recycle(cells);
        if kind != TableKind::Touches {
            self.lines.push(line as i64);
        }
        self.rows_kept += 1;
        Ok(())
    }
}

/// What a worker made of one chunk of a split CSV file.
pub(super) struct Chunk<'m> {
    pub(super) part: Part<'m>,
    /// Line endings in the chunk.
    pub(super) lines: u64,
    /// The chunk ended inside a quoted cell (its last field ends with the
    /// line ending): the cut after it is not a row boundary.
    pub(super) open_quote: bool,
}

/// Parse and map chunk `k` of `cuts`, with lines counted from the chunk's
/// start. Stops early (with an error) once `stop` is set by another worker.
pub(super) fn read_chunk<'m>(
    m: &'m Mapping<'_>,
    cuts: &split::Split,
    k: usize,
    done: &std::sync::atomic::AtomicU64,
    stop: &std::sync::atomic::AtomicBool,
) -> Result<Chunk<'m>> {
    let stream = split::chunk_reader(cuts, k, done)?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(cuts.delimiter)
        .buffer_capacity(256 * 1024)
        .from_reader(stream);
    let mut part = Part::new(m);
    let mut cur = csv::ByteRecord::new();
    let mut open_quote = false;
    let mut n: u64 = 0;
    while reader.read_byte_record(&mut cur)? {
        open_quote = cur.iter().last().is_some_and(|f| f.ends_with(b"\n"));
        let rec = csv::StringRecord::from_byte_record(cur).map_err(|e| anyhow::anyhow!("{e}"))?;
        let line = rec.position().map(|p| p.line()).unwrap_or(0);
        part.emit(m, line, &rec)?;
        cur = rec.into_byte_record();
        n += 1;
        if n % 4096 == 0 && stop.load(std::sync::atomic::Ordering::Relaxed) {
            bail!("stopped");
        }
    }
    let lines = reader.get_ref().lines;
    Ok(Chunk {
        part,
        lines,
        open_quote,
    })
}

/// An unreadable value in an optional column: counted with a sample, and null.
fn unreadable<'a>(
    failures: &mut BTreeMap<String, Problem>,
    col: &str,
    line: u64,
    raw: &str,
) -> Cell<'a> {
    problem(failures, col).add(line, raw);
    Cell::Null
}

/// The problem of column `col` in `map`, created when first met (the
/// column name is copied once, not per value).
pub(super) fn problem<'m>(map: &'m mut BTreeMap<String, Problem>, col: &str) -> &'m mut Problem {
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
