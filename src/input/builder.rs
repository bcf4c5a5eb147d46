//! The typed column builders of one file's load: text, numbers, and
//! timestamps with the evidence of their date order (month-first,
//! day-first, Excel serials) that decides how slash dates are read. The
//! touches' text columns are coded as they are read (`Builder::Code`): a
//! `u32` a value into the column's dictionary, never a string column; a
//! part's builders become touch records (`touches::TouchPart`), never a
//! frame.

use anyhow::{bail, Result};
use polars::prelude::*;

use super::parse::{DateOrder, OrderEvidence, Ts};
use super::plan::{source_label, Plan};
use super::read;
use super::table::FileReport;
use crate::dict::Coded;
use crate::model::{dtype_of, ColumnKind, ColumnSpec, TableKind};

/// Null in the timestamp builders (8 bytes a value instead of 16 for `Option<i64>`).
pub(super) const NULL_TS: i64 = i64::MIN;

/// One column's values as they are read.
pub(super) enum Builder {
    Text(StringChunkedBuilder),
    /// A text column held as codes into its dictionary (the touches'):
    /// each part's codes and dictionary go into its touch records
    /// (`touches::TouchPart`), never into a frame.
    Code(Coded),
    Ts(TsColumn),
    /// `NaN` for none (parsed amounts are always finite).
    Num(Vec<f64>),
    /// A column the command does not read.
    Skip,
    /// Text columns of the parts of a file read in chunks, joined.
    Joined(Series),
}

/// A timestamp column as it is read: both readings of slash dates until the
/// whole column's evidence decides the order.
#[derive(Default)]
pub(super) struct TsColumn {
    /// Month-first (or exact) readings; `NULL_TS` for none.
    mf: Vec<i64>,
    /// Day-first readings, kept once a slash date is met.
    df: Option<Vec<i64>>,
    ev: OrderEvidence,
    /// Positions of values read as Excel serials, the first one's
    /// (line, value), and the count and first (line, value) of the others.
    serials: Vec<usize>,
    /// Serials among the rows already written out (a spilled load).
    flushed_serials: u64,
    serial_sample: Option<(u64, String)>,
    others: u64,
    other_sample: Option<(u64, String)>,
    /// (line, value) of a value that must be month-first, and one that must be day-first.
    mf_sample: Option<(u64, String)>,
    df_sample: Option<(u64, String)>,
    /// Slash dates invalid month-first / day-first.
    mf_invalid: u64,
    df_invalid: u64,
}

impl TsColumn {
    fn push(&mut self, ts: Ts, raw: &str, line: u64) {
        self.ev.add(&ts);
        if let Ts::Serial(_) = ts {
            self.serials.push(self.mf.len());
            self.serial_sample
                .get_or_insert_with(|| (line, read::truncate(raw, 60)));
        } else {
            self.others += 1;
            self.other_sample
                .get_or_insert_with(|| (line, read::truncate(raw, 60)));
        }
        match ts {
            Ts::Exact(x) | Ts::Serial(x) => {
                self.mf.push(x);
                if let Some(d) = &mut self.df {
                    d.push(x);
                }
            }
            Ts::Slash {
                month_first,
                day_first: dfv,
                a,
                b,
            } => {
                if self.df.is_none() {
                    self.df = Some(self.mf.clone());
                }
                self.mf.push(month_first.unwrap_or(NULL_TS));
                if let Some(d) = &mut self.df {
                    d.push(dfv.unwrap_or(NULL_TS));
                }
                self.mf_invalid += month_first.is_none() as u64;
                self.df_invalid += dfv.is_none() as u64;
                if dfv.is_none() && self.mf_sample.is_none() {
                    self.mf_sample = Some((line, format!("{a}/{b}/…")));
                }
                if month_first.is_none() && self.df_sample.is_none() {
                    self.df_sample = Some((line, format!("{a}/{b}/…")));
                }
            }
        }
    }

    fn push_null(&mut self) {
        self.mf.push(NULL_TS);
        if let Some(d) = &mut self.df {
            d.push(NULL_TS);
        }
    }

    /// Append the values of a later part of the same file.
    pub(super) fn append(&mut self, later: TsColumn) {
        let offset = self.mf.len();
        self.serials
            .extend(later.serials.into_iter().map(|i| i + offset));
        self.ev.merge(&later.ev);
        // Day-first readings exist once a slash date was met; before it
        // they equal the month-first ones.
        match (&mut self.df, later.df) {
            (None, None) => {}
            (Some(d), None) => d.extend_from_slice(&later.mf),
            (None, Some(d2)) => {
                let mut d = self.mf.clone();
                d.extend_from_slice(&d2);
                self.df = Some(d);
            }
            (Some(d), Some(d2)) => d.extend_from_slice(&d2),
        }
        self.mf.extend_from_slice(&later.mf);
        // The first sample in file order is the earliest part's.
        for (mine, theirs) in [
            (&mut self.serial_sample, later.serial_sample),
            (&mut self.other_sample, later.other_sample),
            (&mut self.mf_sample, later.mf_sample),
            (&mut self.df_sample, later.df_sample),
        ] {
            if mine.is_none() {
                *mine = theirs;
            }
        }
        self.others += later.others;
        self.flushed_serials += later.flushed_serials;
        self.mf_invalid += later.mf_invalid;
        self.df_invalid += later.df_invalid;
    }

    /// Grow the vectors once to `total` values (`df` made when a part has one).
    fn reserve_total(&mut self, total: usize, any_df: bool) {
        if any_df && self.df.is_none() {
            self.df = Some(self.mf.clone());
        }
        for v in std::iter::once(&mut self.mf).chain(self.df.as_mut()) {
            v.reserve_exact(total - v.len());
        }
    }

    /// Take the values out (month-first or exact readings, the day-first
    /// ones when a slash date was met, the Excel serials' positions), as
    /// `flush` does: the evidence, counts and samples stay, and a later
    /// part's (stats-only) column still `append`s to decide the whole
    /// column's order.
    pub(super) fn take_values(&mut self) -> (Vec<i64>, Option<Vec<i64>>, Vec<usize>) {
        self.flushed_serials += self.serials.len() as u64;
        (
            std::mem::take(&mut self.mf),
            self.df.take(),
            std::mem::take(&mut self.serials),
        )
    }

    /// Add `by` to the lines of the samples kept.
    pub(super) fn shift_lines(&mut self, by: u64) {
        for s in [
            &mut self.serial_sample,
            &mut self.other_sample,
            &mut self.mf_sample,
            &mut self.df_sample,
        ]
        .into_iter()
        .flatten()
        {
            s.0 += by;
        }
    }

    /// Serial values in the column (written out or held).
    fn serial_count(&self) -> u64 {
        self.flushed_serials + self.serials.len() as u64
    }

    /// From the whole column's evidence: whether slash dates are read
    /// day-first, and whether the Excel serials are nulled (numbers mixed
    /// with dates in an optional column); the date order's description and
    /// the values this nulls go into `report`, errors for a required column.
    pub(super) fn decide(
        &self,
        plan: &Plan,
        at: &Finish,
        report: &mut FileReport,
    ) -> Result<(bool, bool)> {
        let Finish {
            name,
            headers,
            day_first,
            ..
        } = *at;
        let col = plan.spec.name;
        let serials = self.serial_count();
        let mut null_serials = false;
        if serials > 0 && self.others > 0 {
            // Numbers are serial dates only when the whole column is numbers.
            let (sl, sv) = self.serial_sample.clone().unwrap_or_default();
            let (ol, ov) = self.other_sample.clone().unwrap_or_default();
            if plan.spec.required {
                bail!(
                    "`{name}`: column `{}` ({col}) mixes plain numbers (line {sl}: {sv}) and dates (line {ol}: {ov}); numbers are read as Excel serial dates only when every value of the column is one",
                    source_label(&plan.from, headers)
                );
            }
            null_serials = true;
            let p = report.failures.entry(col.to_string()).or_default();
            p.count += serials;
            p.samples.push((sl, sv));
        } else if serials > 0 {
            report.date_orders.insert(
                col.to_string(),
                "Excel serial numbers (days since 1899-12-30)".to_string(),
            );
        }
        let order = self.ev.order();
        let use_df = match order {
            DateOrder::DayFirst => true,
            DateOrder::MonthFirst | DateOrder::None => false,
            DateOrder::Ambiguous => day_first,
            DateOrder::Mixed => {
                if plan.spec.required {
                    let (ml, mv) = self.mf_sample.clone().unwrap_or_default();
                    let (dl, dv) = self.df_sample.clone().unwrap_or_default();
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
        if order == DateOrder::Mixed {
            // Values invalid in the chosen reading became null: count them.
            let invalid = if use_df { self.df_invalid } else { self.mf_invalid };
            // sample: a value that needs the other reading
            let sample = if use_df {
                self.mf_sample.clone()
            } else {
                self.df_sample.clone()
            };
            let p = report.failures.entry(col.to_string()).or_default();
            p.count += invalid;
            if let Some(sample) = sample {
                p.samples.push(sample);
            }
        }
        Ok((use_df, null_serials))
    }

    /// Take the values held out as the columns of a spilled batch: `<col>`
    /// (month-first or exact readings), `<col>__df` (the day-first reading
    /// where it differs: null when the same, `NULL_TS` for null) and
    /// `<col>__ser` (true for an Excel serial). Only the small state stays.
    fn flush(&mut self, col: &str, floor_month: bool) -> Vec<Column> {
        let mut mf = std::mem::take(&mut self.mf);
        let mut df = self.df.take();
        if floor_month {
            for v in mf.iter_mut().chain(df.iter_mut().flatten()) {
                if *v != NULL_TS {
                    *v = month_floor(*v);
                }
            }
        }
        let mut ser = vec![false; mf.len()];
        for &i in &self.serials {
            ser[i] = true;
        }
        self.flushed_serials += self.serials.len() as u64;
        self.serials.clear();
        let dcol: Int64Chunked = match &df {
            None => Int64Chunked::full_null(format!("{col}{DF_SUFFIX}").into(), mf.len()),
            Some(d) => Int64Chunked::from_iter_options(
                format!("{col}{DF_SUFFIX}").into(),
                d.iter().zip(&mf).map(|(&d, &m)| (d != m).then_some(d)),
            ),
        };
        let mcol = Int64Chunked::from_iter_options(
            col.into(),
            mf.iter().map(|&v| (v != NULL_TS).then_some(v)),
        );
        vec![
            mcol.into_column(),
            dcol.into_column(),
            BooleanChunked::from_slice(format!("{col}{SER_SUFFIX}").into(), &ser).into_column(),
        ]
    }
}

/// A parsed cell of one row, before the row is accepted.
pub(super) enum Cell<'a> {
    Null,
    Text(&'a str),
    /// The parsed value and the text it came from.
    Ts(Ts, &'a str),
    Num(f64),
}

/// The spilled columns of a timestamp column's day-first readings and Excel serial flags.
pub(super) const DF_SUFFIX: &str = "__df";
pub(super) const SER_SUFFIX: &str = "__ser";

/// The expression that reads a spilled timestamp column `col` (see
/// `TsColumn::flush`) in the reading chosen for the whole column.
pub(super) fn spilled_ts(col: &str, use_df: bool, null_serials: bool) -> Expr {
    let mf = polars::prelude::col(col);
    let mut e = if use_df {
        let d = polars::prelude::col(format!("{col}{DF_SUFFIX}"));
        when(d.clone().is_null())
            .then(mf)
            .otherwise(
                when(d.clone().eq(lit(NULL_TS)))
                    .then(lit(NULL).cast(DataType::Int64))
                    .otherwise(d),
            )
    } else {
        mf
    };
    if null_serials {
        e = when(polars::prelude::col(format!("{col}{SER_SUFFIX}")))
            .then(lit(NULL).cast(DataType::Int64))
            .otherwise(e);
    }
    e.cast(DataType::Datetime(TimeUnit::Microseconds, None))
        .alias(col)
}

/// What finishing a column needs to know about the file.
pub(super) struct Finish<'a> {
    pub(super) name: &'a str,
    pub(super) headers: &'a [String],
    pub(super) kind: TableKind,
    pub(super) day_first: bool,
    /// Rows kept.
    pub(super) height: usize,
}

impl Builder {
    /// The builder of a column of `spec`'s kind in a table of `table`
    /// (`Skip` when not stored; `Code` for the touches' text columns).
    pub(super) fn new(table: TableKind, spec: &ColumnSpec, skipped: bool) -> Builder {
        match spec.kind {
            _ if skipped => Builder::Skip,
            ColumnKind::Text if table == TableKind::Touches => Builder::Code(Coded::default()),
            ColumnKind::Timestamp => Builder::Ts(TsColumn::default()),
            ColumnKind::Number => Builder::Num(Vec::new()),
            _ => Builder::Text(StringChunkedBuilder::new(spec.name.into(), 1024)),
        }
    }

    /// Append the cell of an accepted row (read at `line`).
    pub(super) fn push(&mut self, cell: Cell<'_>, line: u64) {
        match (self, cell) {
            (Builder::Text(t), Cell::Text(s)) => t.append_value(s),
            (Builder::Skip, _) | (Builder::Joined(_), _) => {}
            (Builder::Text(t), _) => t.append_null(),
            (Builder::Code(c), Cell::Text(s)) => c.push(Some(s)),
            (Builder::Code(c), _) => c.push(None),
            (Builder::Num(v), Cell::Num(x)) => v.push(x),
            (Builder::Num(v), _) => v.push(f64::NAN),
            (Builder::Ts(t), Cell::Ts(ts, raw)) => t.push(ts, raw, line),
            (Builder::Ts(t), _) => t.push_null(),
        }
    }

    /// The builders of one column from the parts of a file (in file order)
    /// as one builder: what one builder fed every row would hold.
    pub(super) fn concat(parts: Vec<Builder>) -> Result<Builder> {
        // The first part's vectors grow once to the total (no doubling: the
        // parts and the whole coexist only while being copied).
        let total: usize = parts.iter().map(Builder::rows).sum();
        let any_df = parts
            .iter()
            .any(|p| matches!(p, Builder::Ts(TsColumn { df: Some(_), .. })));
        let mut parts = parts.into_iter();
        let Some(mut out) = parts.next() else {
            return Ok(Builder::Skip);
        };
        match &mut out {
            Builder::Num(v) => v.reserve_exact(total - v.len()),
            Builder::Ts(t) => t.reserve_total(total, any_df),
            _ => {}
        }
        for part in parts {
            out = match (out, part) {
                (Builder::Skip, _) => Builder::Skip,
                (Builder::Num(mut a), Builder::Num(b)) => {
                    a.extend_from_slice(&b);
                    Builder::Num(a)
                }
                (a @ (Builder::Text(_) | Builder::Joined(_)), b) => {
                    let mut a = a.into_text_series()?;
                    a.append(&b.into_text_series()?)
                        .map_err(|e| anyhow::anyhow!("{e}"))?;
                    Builder::Joined(a)
                }
                (Builder::Ts(mut a), Builder::Ts(b)) => {
                    a.append(b);
                    Builder::Ts(a)
                }
                _ => bail!("internal: parts of one column built differently"),
            };
        }
        Ok(out)
    }

    /// Values held (numbers and timestamps; 0 for the others).
    fn rows(&self) -> usize {
        match self {
            Builder::Num(v) => v.len(),
            Builder::Ts(t) => t.mf.len(),
            Builder::Code(c) => c.codes.len(),
            _ => 0,
        }
    }

    fn into_text_series(self) -> Result<Series> {
        match self {
            Builder::Text(t) => Ok(t.finish().into_series()),
            Builder::Joined(s) => Ok(s),
            _ => bail!("internal: not a text column"),
        }
    }

    /// Take the values held out as the columns of a spilled batch (none
    /// for a skipped column); the builder keeps only its small state.
    pub(super) fn flush(&mut self, plan: &Plan, kind: TableKind) -> Result<Vec<Column>> {
        let col = plan.spec.name;
        Ok(match self {
            Builder::Skip => Vec::new(),
            Builder::Text(t) => {
                let b = std::mem::replace(t, StringChunkedBuilder::new(col.into(), 1024));
                vec![b.finish().into_column()]
            }
            Builder::Num(v) => {
                let v = std::mem::take(v);
                vec![Float64Chunked::from_iter_options(
                    col.into(),
                    v.into_iter().map(|x| (!x.is_nan()).then_some(x)),
                )
                .into_column()]
            }
            Builder::Ts(t) => t.flush(col, kind == TableKind::Revenue && col == "month"),
            Builder::Code(_) | Builder::Joined(_) => {
                bail!("internal: column {col} cannot be spilled")
            }
        })
    }

    /// `finish` for a spilled column: the same decisions, errors and report,
    /// and the expression that reads the finished column from the file.
    pub(super) fn finish_spilled(
        self,
        plan: &Plan,
        at: &Finish,
        report: &mut FileReport,
    ) -> Result<Expr> {
        let name = plan.spec.name;
        Ok(match self {
            Builder::Skip => lit(NULL).cast(dtype_of(plan.spec.kind)).alias(name),
            Builder::Text(_) | Builder::Joined(_) | Builder::Num(_) => {
                col(name).cast(dtype_of(plan.spec.kind))
            }
            Builder::Ts(t) => {
                let (use_df, null_serials) = t.decide(plan, at, report)?;
                spilled_ts(name, use_df, null_serials)
            }
            Builder::Code(_) => bail!("internal: column {name} cannot be spilled"),
        })
    }

    /// Add `by` to the lines of the samples kept (a chunk's lines made the file's).
    pub(super) fn shift_lines(&mut self, by: u64) {
        if let Builder::Ts(t) = self {
            t.shift_lines(by);
        }
    }

    /// The finished column of `plan`: timestamps read in the date order the
    /// evidence shows (its description and the values it nulls go into
    /// `report`), revenue months floored to the first of the month.
    pub(super) fn finish(
        self,
        plan: &Plan,
        at: &Finish,
        report: &mut FileReport,
    ) -> Result<Column> {
        let Finish { kind, height, .. } = *at;
        let col = plan.spec.name;
        let series: Series = match self {
            Builder::Skip => {
                return Ok(Column::full_null(
                    col.into(),
                    height,
                    &dtype_of(plan.spec.kind),
                ));
            }
            Builder::Text(t) => t.finish().into_series(),
            Builder::Joined(s) => s,
            // The touches become records per part (`touches::TouchPart`).
            Builder::Code(_) => bail!("internal: coded column {col} finished as a column"),
            Builder::Num(v) => Float64Chunked::from_iter_options(
                col.into(),
                v.into_iter().map(|x| (!x.is_nan()).then_some(x)),
            )
            .into_series(),
            Builder::Ts(t) => {
                let (use_df, null_serials) = t.decide(plan, at, report)?;
                let TsColumn {
                    mut mf,
                    mut df,
                    serials,
                    ..
                } = t;
                if null_serials {
                    for &i in &serials {
                        mf[i] = NULL_TS;
                        if let Some(d) = df.as_mut() {
                            d[i] = NULL_TS;
                        }
                    }
                }
                let mut vals = if use_df { df.unwrap_or(mf) } else { mf };
                if kind == TableKind::Revenue && col == "month" {
                    for v in vals.iter_mut().filter(|v| **v != NULL_TS) {
                        *v = month_floor(*v);
                    }
                }
                // Without a null (a required column) the values move into
                // the column; a copy with a validity mask only when needed.
                let ca = if vals.contains(&NULL_TS) {
                    Int64Chunked::from_iter_options(
                        col.into(),
                        vals.into_iter().map(|v| (v != NULL_TS).then_some(v)),
                    )
                } else {
                    Int64Chunked::from_vec(col.into(), vals)
                };
                ca.into_datetime(TimeUnit::Microseconds, None).into_series()
            }
        };
        let series = series
            .cast(&dtype_of(plan.spec.kind))
            .map_err(|e| anyhow::anyhow!("column {col}: {e}"))?;
        Ok(series.into_column())
    }
}

fn month_floor(us: i64) -> i64 {
    use chrono::Datelike;
    let d = crate::periods::date_of(us);
    crate::periods::micros_of_date(d.with_day(1).unwrap_or(d))
}

#[cfg(test)]
mod spill_tests {
    use super::*;
    use crate::input::parse::parse_timestamp;
    use crate::input::spill::{scan, SpillDir, Writer};

    fn us(date: &str) -> Option<i64> {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").unwrap();
        Some(crate::periods::micros_of_date(d))
    }

    /// One timestamp column pushed in two batches, each flushed to the same
    /// Parquet file, then read back both ways. Batch 1 has only exact
    /// dates (no day-first reading kept: `__df` all null, "same"); batch 2
    /// has `02/03/2024` (month-first Feb 3, day-first Mar 2), `13/01/2024`
    /// (month-first invalid, day-first Jan 13), `01/13/2024` (the reverse),
    /// an Excel serial and a null.
    #[test]
    fn a_flushed_timestamp_column_reads_back_in_either_order() {
        let mut t = TsColumn::default();
        let push = |t: &mut TsColumn, raw: &str, line: u64| match parse_timestamp(raw) {
            Some(ts) => t.push(ts, raw, line),
            None => t.push_null(),
        };
        let dir = SpillDir::new().unwrap();
        let mut w = Writer::new(&dir, "test");
        push(&mut t, "2024-05-06", 2);
        push(&mut t, "2024-05-07", 3);
        let mut b1 = DataFrame::new_infer_height(t.flush("at", false)).unwrap();
        assert_eq!(b1.column("at__df").unwrap().null_count(), 2);
        w.write(&mut b1).unwrap();
        for (i, raw) in ["02/03/2024", "13/01/2024", "01/13/2024", "45000", ""]
            .iter()
            .enumerate()
        {
            push(&mut t, raw, 4 + i as u64);
        }
        w.write(&mut DataFrame::new_infer_height(t.flush("at", false)).unwrap())
            .unwrap();
        assert_eq!(t.mf.len(), 0, "the values left memory");
        assert_eq!(t.serial_count(), 1);
        let path = w.finish().unwrap().unwrap();
        let read = |use_df: bool, null_serials: bool| -> Vec<Option<i64>> {
            let df = scan(&path)
                .unwrap()
                .select([spilled_ts("at", use_df, null_serials)])
                .collect()
                .unwrap();
            let c = df.column("at").unwrap().cast(&DataType::Int64).unwrap();
            let ca = c.i64().unwrap();
            (0..ca.len()).map(|i| ca.get(i)).collect()
        };
        let serial = us("2023-03-15"); // 45000 days after 1899-12-30
        assert_eq!(
            read(false, false),
            [us("2024-05-06"), us("2024-05-07"), us("2024-02-03"), None, us("2024-01-13"), serial, None]
        );
        assert_eq!(
            read(true, false),
            [us("2024-05-06"), us("2024-05-07"), us("2024-03-02"), us("2024-01-13"), None, serial, None]
        );
        assert_eq!(
            read(true, true),
            [us("2024-05-06"), us("2024-05-07"), us("2024-03-02"), us("2024-01-13"), None, None, None]
        );
    }
}
