//! Test-only loader for canonical CSV fixtures (canonical headers, ISO dates,
//! canonical status/type values), used by the cycle tests until the real
//! loader is merged. It types every canonical column as `src/model.rs` says,
//! records the headers found in `present`, stores `revenue.month` as the
//! month's first day, and does NOT cut at `as_of`: the
//! fixtures it reads hold nothing after the `as_of` their tests use.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::metrics::periods::{micros_of_date, month_start, PeriodSpec};
use crate::model::{dtype_of, ColumnKind, Dataset, Table, TableKind};

/// Parses `YYYY-MM-DD`, `YYYY-MM-DD HH:MM:SS` or RFC 3339 into microseconds (UTC).
pub fn parse_ts(s: &str) -> anyhow::Result<i64> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(d.and_hms_opt(0, 0, 0).context("midnight")?.and_utc().timestamp_micros());
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp_micros());
    }
    if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Ok(t.and_utc().timestamp_micros());
    }
    bail!("not a timestamp: {s:?}")
}

/// Reads one canonical CSV into a typed table.
pub fn load_table(kind: TableKind, path: &Path) -> anyhow::Result<Table> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("reading {}", path.display()))?;
    let headers: Vec<String> = rdr.headers()?.iter().map(|h| h.trim().to_string()).collect();
    let records: Vec<csv::StringRecord> = rdr.records().collect::<Result<_, _>>()?;
    let mut cols = Vec::new();
    let mut present = BTreeSet::new();
    for spec in kind.columns() {
        let idx = headers.iter().position(|h| h == spec.name);
        if idx.is_some() {
            present.insert(spec.name.to_string());
        }
        let raw: Vec<Option<&str>> = records
            .iter()
            .map(|r| idx.and_then(|i| r.get(i)).map(str::trim).filter(|v| !v.is_empty()))
            .collect();
        let name: PlSmallStr = spec.name.into();
        let col = match spec.kind {
            ColumnKind::Text | ColumnKind::Status | ColumnKind::DealType => {
                Column::new(name, raw.iter().map(|v| v.map(str::to_string)).collect::<Vec<_>>())
            }
            ColumnKind::Number => {
                let v: Vec<Option<f64>> =
                    raw.iter().map(|v| v.map(|s| s.parse::<f64>()).transpose()).collect::<Result<_, _>>()?;
                Column::new(name, v)
            }
            ColumnKind::Timestamp => {
                let mut v: Vec<Option<i64>> =
                    raw.iter().map(|v| v.map(parse_ts).transpose()).collect::<Result<_, _>>()?;
                if kind == TableKind::Revenue && spec.name == "month" {
                    // Any day names its month; stored as the month's first day, as the real loader does.
                    for t in v.iter_mut().flatten() {
                        *t = micros_of_date(month_start(PeriodSpec::month_index_of(*t)));
                    }
                }
                Column::new(name, v).cast(&dtype_of(ColumnKind::Timestamp))?
            }
        };
        cols.push(col);
    }
    let frame = DataFrame::new(records.len(), cols)?;
    Ok(Table { kind, frame, present })
}

/// Loads `<dir>/{leads,opportunities,campaigns,revenue}.csv` (those present).
pub fn load_dir(dir: &Path, as_of: &str) -> anyhow::Result<Dataset> {
    let mut ds = Dataset { leads: None, opportunities: None, campaigns: None, revenue: None, as_of: parse_ts(as_of)? };
    for kind in TableKind::ALL {
        let path = dir.join(format!("{}.csv", kind.name()));
        if path.exists() {
            *ds.table_mut(kind) = Some(load_table(kind, &path)?);
        }
    }
    Ok(ds)
}

/// The repository's fixture folder `fixtures/<name>`.
pub fn fixture(name: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}
