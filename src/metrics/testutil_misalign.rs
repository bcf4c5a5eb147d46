//! Test-only loader for the misalignment fixtures: reads canonical-header CSVs
//! into typed `Table`s (every canonical column present, `present` = headers
//! found) and sets `as_of` to the latest timestamp, as the real loader does.
//! To be replaced by the real loader once it is merged.

use std::collections::BTreeSet;
use std::path::Path;

use anyhow::{bail, Context, Result};
use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::model::{dtype_of, ColumnKind, Dataset, Table, TableKind};

/// Microseconds since the epoch of `2024-01-31`, `2024-01-31 10:00`,
/// `2024-01-31 10:00:00` or `2024-01-31T10:00:00`.
pub fn ts(s: &str) -> Result<i64> {
    let s = s.trim();
    for f in ["%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, f) {
            return Ok(t.and_utc().timestamp_micros());
        }
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").with_context(|| format!("bad timestamp `{s}`"))?;
    Ok(d.and_hms_opt(0, 0, 0).context("midnight")?.and_utc().timestamp_micros())
}

fn load_table(path: &Path, kind: TableKind) -> Result<(Table, Option<i64>)> {
    let mut rdr = csv::Reader::from_path(path).with_context(|| format!("reading `{}`", path.display()))?;
    let headers: Vec<String> = rdr.headers()?.iter().map(|h| h.to_string()).collect();
    let rows: Vec<csv::StringRecord> = rdr.records().collect::<std::result::Result<_, _>>()?;
    let mut present = BTreeSet::new();
    let mut cols = Vec::new();
    let mut max_ts: Option<i64> = None;
    for spec in kind.columns() {
        let idx = headers.iter().position(|h| h == spec.name);
        if idx.is_some() {
            present.insert(spec.name.to_string());
        }
        let cell = |r: &csv::StringRecord| -> Option<String> {
            idx.and_then(|i| r.get(i)).map(|v| v.trim().to_string()).filter(|v| !v.is_empty())
        };
        let name: PlSmallStr = spec.name.into();
        let series = match spec.kind {
            ColumnKind::Text | ColumnKind::Status | ColumnKind::DealType => {
                let v: Vec<Option<String>> = rows.iter().map(cell).collect();
                Series::new(name, v)
            }
            ColumnKind::Number => {
                let mut v = Vec::new();
                for r in &rows {
                    v.push(match cell(r) {
                        Some(s) => Some(s.parse::<f64>().with_context(|| format!("bad number `{s}`"))?),
                        None => None,
                    });
                }
                Series::new(name, v)
            }
            ColumnKind::Timestamp => {
                let mut v = Vec::new();
                for r in &rows {
                    let t = match cell(r) {
                        Some(s) => Some(ts(&s)?),
                        None => None,
                    };
                    if let Some(t) = t {
                        max_ts = Some(max_ts.map_or(t, |m: i64| m.max(t)));
                    }
                    v.push(t);
                }
                Series::new(name, v).cast(&dtype_of(ColumnKind::Timestamp))?
            }
        };
        cols.push(series.into_column());
    }
    let frame = DataFrame::new_infer_height(cols)?;
    Ok((Table { kind, frame, present }, max_ts))
}

/// Loads `leads.csv`, `opportunities.csv`, `campaigns.csv` (and `revenue.csv`)
/// from `dir` when present.
pub fn load_dir(dir: &Path) -> Result<Dataset> {
    let mut ds = Dataset { leads: None, opportunities: None, campaigns: None, revenue: None, as_of: 0 };
    let mut as_of: Option<i64> = None;
    for kind in TableKind::ALL {
        let p = dir.join(format!("{}.csv", kind.name()));
        if p.exists() {
            let (t, m) = load_table(&p, kind)?;
            if let Some(m) = m {
                as_of = Some(as_of.map_or(m, |a| a.max(m)));
            }
            *ds.table_mut(kind) = Some(t);
        }
    }
    match as_of {
        Some(a) => ds.as_of = a,
        None => bail!("no timestamps in `{}`", dir.display()),
    }
    Ok(ds)
}

/// A fixture folder relative to the crate root.
pub fn fixture(name: &str) -> Dataset {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name);
    load_dir(&dir).expect("fixture loads")
}
