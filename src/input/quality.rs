//! Data-quality findings on the loaded tables: rows left out, unparseable
//! values, duplicate ids, orphans, stage dates out of order, rows after
//! `as_of`, negative amounts and mixed currencies — each with a count and
//! sample rows (file and line).

use anyhow::Result;
use polars::prelude::*;

use crate::ids;
use super::table::{FileReport, LINE_COL, SRC_COL};
use super::RawTable;
use crate::model::TableKind;

#[derive(Debug, Clone, serde::Serialize)]
pub struct Finding {
    /// "error" (changes numbers: --strict fails) or "warning".
    pub severity: &'static str,
    pub table: String,
    pub check: &'static str,
    pub count: u64,
    pub message: String,
    /// (file, line, value) samples.
    pub samples: Vec<(String, u64, String)>,
    /// Also printed as a warning by analysis commands.
    #[serde(skip)]
    pub warn: bool,
}

impl Finding {
    pub fn one_line(&self) -> String {
        let samples: Vec<String> = self
            .samples
            .iter()
            .take(3)
            .map(|(f, l, v)| {
                if v.is_empty() {
                    format!("{f}:{l}")
                } else {
                    format!("{f}:{l} `{v}`")
                }
            })
            .collect();
        if samples.is_empty() {
            format!("{}: {}", self.table, self.message)
        } else {
            format!(
                "{}: {} (e.g. {})",
                self.table,
                self.message,
                samples.join(", ")
            )
        }
    }
}

fn ts(v: i64) -> Expr {
    lit(v).cast(DataType::Datetime(TimeUnit::Microseconds, None))
}

fn pe(e: PolarsError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// One text column of a table (`Backing::column`).
fn text_column(t: &RawTable, name: &str) -> Result<StringChunked> {
    Ok(t.frame.column(name).map_err(pe)?.str().map_err(pe)?.clone())
}

/// Rows of `t` matching `cond`: their count and up to 5 (file, line, value) samples.
fn sample(t: &RawTable, cond: Expr, value: Expr) -> Result<(u64, Vec<(String, u64, String)>)> {
    samples_of(t, t.frame.lazy().filter(cond), value)
}

/// [`sample`] for the rows where `mask` is true.
fn sample_mask(
    t: &RawTable,
    mask: &BooleanChunked,
    value: Expr,
) -> Result<(u64, Vec<(String, u64, String)>)> {
    let rows = t
        .frame
        .lazy()
        .select([col(SRC_COL), col(LINE_COL), value.clone()])
        .collect()
        .map_err(pe)?
        .filter(mask)
        .map_err(pe)?;
    samples_of(t, rows.lazy(), value)
}

fn samples_of(
    t: &RawTable,
    rows: LazyFrame,
    value: Expr,
) -> Result<(u64, Vec<(String, u64, String)>)> {
    let hits = rows
        .select([
            col(SRC_COL),
            col(LINE_COL),
            value.cast(DataType::String).alias("v"),
        ])
        .collect()
        .map_err(pe)?;
    let n = hits.height() as u64;
    let head = hits.head(Some(5));
    let src = head.column(SRC_COL).map_err(pe)?.u32().map_err(pe)?.clone();
    let line = head
        .column(LINE_COL)
        .map_err(pe)?
        .i64()
        .map_err(pe)?
        .clone();
    let v = head.column("v").map_err(pe)?.str().map_err(pe)?.clone();
    let mut out = Vec::new();
    for i in 0..head.height() {
        let f = src
            .get(i)
            .and_then(|s| t.files.get(s as usize))
            .cloned()
            .unwrap_or_default();
        // timestamps cast to text end in ".000000" (and midnight in " 00:00:00")
        let text = v.get(i).unwrap_or("");
        let text = text.strip_suffix(".000000").unwrap_or(text);
        let text = text.strip_suffix(" 00:00:00").unwrap_or(text);
        out.push((f, line.get(i).unwrap_or(0) as u64, text.to_string()));
    }
    Ok((n, out))
}

/// A finding from a problem met while loading file `f` (error level).
fn file_finding(
    f: &FileReport,
    check: &'static str,
    p: &super::table::Problem,
    message: String,
) -> Finding {
    Finding {
        severity: "error",
        table: f.table.clone(),
        check,
        count: p.count,
        message,
        samples: p
            .samples
            .iter()
            .map(|(l, v)| (f.file.clone(), *l, v.clone()))
            .collect(),
        warn: true,
    }
}

/// A finding from a row check, when any row matched.
fn rows_finding(
    severity: &'static str,
    table: &str,
    check: &'static str,
    (count, samples): (u64, Vec<(String, u64, String)>),
    message: impl FnOnce(u64) -> String,
) -> Option<Finding> {
    (count > 0).then(|| Finding {
        severity,
        table: table.to_string(),
        check,
        count,
        message: message(count),
        samples,
        warn: true,
    })
}

pub fn check(raw: &[RawTable], files: &[FileReport], as_of: i64) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    // Per-file findings from parsing.
    for f in files {
        for (col, p) in &f.dropped_required {
            let message = format!(
                "{}: {} rows left out: empty required column `{col}`",
                f.file, p.count
            );
            // An expected drop (Maven's prospecting deals have no
            // engage_date): counted and named, but not an error.
            let mut finding = file_finding(f, "empty_required", p, message);
            finding.severity = "warning";
            out.push(finding);
        }
        for (col, p) in &f.failures {
            let is_date = TableKind::ALL
                .iter()
                .find(|k| k.name() == f.table)
                .and_then(|k| k.column(col))
                .is_some_and(|c| c.kind == crate::model::ColumnKind::Timestamp)
                // mixed day/month orders are fixed with day_first, not a format
                && !f.date_orders.get(col).is_some_and(|d| d.starts_with("mixed"));
            let message = format!(
                "{}: {} values of `{col}` could not be read and are null{}",
                f.file,
                p.count,
                if is_date {
                    format!(
                        " (set [{}.date_format] {col} = \"...\" in revcycle.toml for another date form)",
                        f.table
                    )
                } else {
                    String::new()
                }
            );
            out.push(file_finding(f, "unparseable", p, message));
        }
    }
    let get = |k: TableKind| raw.iter().find(|t| t.kind == k);
    // Duplicate ids (the leads' hashes are kept for the orphans below).
    let mut lead_ids: Option<ids::Hashed> = None;
    for t in raw {
        let Some(id) = t.kind.id_column() else {
            continue;
        };
        // The ids' sorted hashes say whether some id repeats; the grouping
        // below (slower) runs only when one does.
        let c = text_column(t, id)?;
        let h = ids::Hashed::new(&c);
        let dup = ids::has_duplicates(&c, &h);
        if t.kind == TableKind::Leads {
            lead_ids = Some(h);
        }
        if !dup {
            continue;
        }
        let dups = t
            .frame
            .lazy()
            .group_by([col(id)])
            .agg([len().alias("n")])
            .filter(col("n").gt(lit(1u32)).and(col(id).is_not_null()))
            .select([col(id), col("n")])
            .collect()
            .map_err(pe)?;
        if dups.height() > 0 {
            let extra: u64 = dups
                .column("n")
                .map_err(pe)?
                .as_materialized_series()
                .sum::<u64>()
                .map_err(pe)?
                - dups.height() as u64;
            let ids = dups
                .column(id)
                .map_err(pe)?
                .as_materialized_series()
                .clone();
            let (_, samples) = sample(t, col(id).is_in(lit(ids).implode(false), false), col(id))?;
            out.push(Finding {
                severity: "error",
                table: t.kind.name().into(),
                check: "duplicate_ids",
                count: extra,
                message: format!(
                    "{} duplicate rows of {} ids in `{id}`; the first row of each id is kept",
                    extra,
                    dups.height()
                ),
                samples,
                warn: true,
            });
        }
    }
    // Orphans: opportunities pointing to unknown leads.
    if let (Some(opps), Some(leads)) = (get(TableKind::Opportunities), get(TableKind::Leads)) {
        if opps.present.contains("lead_id") {
            // Both id columns' sorted hashes, merged: no hash set of every lead id.
            let leads_ids = text_column(leads, "lead_id")?;
            let lh = match lead_ids.take() {
                Some(h) => h,
                None => ids::Hashed::new(&leads_ids),
            };
            let refs = text_column(opps, "lead_id")?;
            let missing = ids::missing(&refs, &ids::Hashed::new(&refs), &leads_ids, &lh);
            drop(lh);
            let mask = BooleanChunked::from_slice("orphan".into(), &missing);
            let hits = sample_mask(opps, &mask, col("lead_id"))?;
            out.extend(rows_finding(
                "warning",
                "opportunities",
                "orphans",
                hits,
                |n| format!("{n} opportunities point to lead_id values not in the leads table"),
            ));
        }
    }
    // Stage dates out of order.
    let pairs: &[(TableKind, &str, &str)] = &[
        (TableKind::Leads, "created_at", "mql_at"),
        (TableKind::Leads, "mql_at", "sal_at"),
        (TableKind::Leads, "sal_at", "sql_at"),
        (TableKind::Leads, "mql_at", "sql_at"),
        (TableKind::Opportunities, "created_at", "close_date"),
    ];
    for (kind, a, b) in pairs {
        let Some(t) = get(*kind) else { continue };
        if !(t.present.contains(*a) && t.present.contains(*b)) {
            continue;
        }
        let hits = sample(t, col(*b).lt(col(*a)), col(*b))?;
        out.extend(rows_finding(
            "warning",
            kind.name(),
            "dates_out_of_order",
            hits,
            |n| format!("{n} rows have `{b}` before `{a}`"),
        ));
    }
    // Rows after as_of.
    for t in raw {
        let c = t.kind.date_column();
        let hits = sample(t, col(c).gt(ts(as_of)), col(c))?;
        out.extend(rows_finding(
            "warning",
            t.kind.name(),
            "after_as_of",
            hits,
            |n| format!("{n} rows have `{c}` after as_of and are left out"),
        ));
    }
    // Negative amounts, spend, MRR.
    for (kind, c) in [
        (TableKind::Opportunities, "amount"),
        (TableKind::Campaigns, "spend"),
        (TableKind::Revenue, "mrr"),
    ] {
        let Some(t) = get(kind) else { continue };
        let hits = sample(t, col(c).lt(lit(0.0)), col(c))?;
        out.extend(rows_finding("error", kind.name(), "negative", hits, |n| {
            format!("{n} rows have a negative `{c}`")
        }));
    }
    // Spend channels that no lead channel matches: cost by channel is empty for them.
    if let (Some(camps), Some(leads)) = (get(TableKind::Campaigns), get(TableKind::Leads)) {
        if camps.present.contains("channel") && leads.present.contains("channel") {
            let spend = distinct_text(camps, "channel")?;
            let lead = distinct_text(leads, "channel")?;
            let unmatched: Vec<&String> = spend.iter().filter(|c| !lead.contains(c)).collect();
            if !spend.is_empty() && !lead.is_empty() && !unmatched.is_empty() {
                let list = |v: &[&String]| {
                    let mut s: Vec<String> = v.iter().take(8).map(|c| format!("`{c}`")).collect();
                    if v.len() > 8 {
                        s.push(format!("… ({} in all)", v.len()));
                    }
                    s.join(", ")
                };
                let lead_refs: Vec<&String> = lead.iter().collect();
                let message = if unmatched.len() == spend.len() {
                    format!(
                        "spend channels {} and lead channels {} never meet: cost by channel is empty; map them with [campaigns.value_map.channel] in revcycle.toml",
                        list(&unmatched),
                        list(&lead_refs)
                    )
                } else {
                    format!(
                        "spend channels {} match no lead channel (lead channels: {}): their spend has no leads in cost by channel; map them with [campaigns.value_map.channel] in revcycle.toml",
                        list(&unmatched),
                        list(&lead_refs)
                    )
                };
                out.push(Finding {
                    severity: "warning",
                    table: "campaigns+leads".into(),
                    check: "channels_unmatched",
                    count: unmatched.len() as u64,
                    message,
                    samples: vec![],
                    warn: true,
                });
            }
        }
    }
    // Mixed currencies, within and across tables.
    let mut seen: Vec<(String, String)> = Vec::new();
    for kind in [TableKind::Opportunities, TableKind::Campaigns] {
        let Some(t) = get(kind) else { continue };
        if !t.present.contains("currency") {
            continue;
        }
        let u = t
            .frame
            .lazy()
            .filter(col("currency").is_not_null())
            .select([col("currency")
                .str()
                .to_uppercase()
                .unique()
                .sort(Default::default())])
            .collect()
            .map_err(pe)?;
        let ca = u.column("currency").map_err(pe)?.str().map_err(pe)?.clone();
        let vals: Vec<String> = (0..ca.len())
            .filter_map(|i| ca.get(i).map(String::from))
            .collect();
        for v in &vals {
            seen.push((kind.name().to_string(), v.clone()));
        }
    }
    let mut distinct: Vec<&String> = seen.iter().map(|(_, v)| v).collect();
    distinct.sort();
    distinct.dedup();
    if distinct.len() > 1 {
        out.push(Finding {
            severity: "error",
            table: seen
                .iter()
                .map(|(t, _)| t.as_str())
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join("+"),
            check: "mixed_currencies",
            count: distinct.len() as u64,
            message: format!(
                "mixed currencies {}: amounts are added as if they were one currency",
                distinct
                    .iter()
                    .map(|s| s.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            samples: vec![],
            warn: true,
        });
    }
    Ok(out)
}

/// Timestamps later than the current clock `now` (`REVCYCLE_NOW` or the
/// system clock): a data error, left out of the default `as_of`. An open
/// deal's `close_date` is a plan and may be in the future.
pub fn future_timestamps(raw: &[RawTable], now: i64) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    for t in raw {
        for spec in t.kind.columns() {
            if spec.kind != crate::model::ColumnKind::Timestamp || !t.present.contains(spec.name) {
                continue;
            }
            let c = spec.name;
            let mut cond = col(c).gt(ts(now));
            if t.kind == TableKind::Opportunities && c == "close_date" {
                cond = cond.and(col("status").neq(lit("open")));
            }
            let hits = sample(t, cond, col(c))?;
            out.extend(rows_finding("error", t.kind.name(), "future", hits, |n| {
                format!(
                    "{n} rows have `{c}` later than the current clock ({}): not used for the default as_of",
                    crate::periods::date_of(now)
                )
            }));
        }
    }
    Ok(out)
}

/// The distinct non-null values of a text column, sorted.
fn distinct_text(t: &RawTable, c: &str) -> Result<Vec<String>> {
    let u = t
        .frame
        .lazy()
        .filter(col(c).is_not_null())
        .select([col(c).unique().sort(Default::default())])
        .collect()
        .map_err(pe)?;
    let ca = u.column(c).map_err(pe)?.str().map_err(pe)?.clone();
    Ok((0..ca.len())
        .filter_map(|i| ca.get(i).map(String::from))
        .collect())
}

/// The findings as CSV (`validate --format csv`, the report's data_quality.csv),
/// free text escaped against spreadsheet formulas.
pub fn findings_csv(findings: &[Finding]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "severity",
        "table",
        "check",
        "count",
        "message",
        "sample_file",
        "sample_line",
        "sample_value",
    ])?;
    for f in findings {
        let (sf, sl, sv) = f.samples.first().cloned().unwrap_or_default();
        w.write_record([
            f.severity.to_string(),
            crate::text::escape_formula(&f.table),
            f.check.to_string(),
            f.count.to_string(),
            crate::text::escape_formula(&f.message),
            crate::text::escape_formula(&sf),
            if sl > 0 {
                sl.to_string()
            } else {
                String::new()
            },
            crate::text::escape_formula(&sv),
        ])?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("writing the findings as CSV: {}", e.error()))
}
