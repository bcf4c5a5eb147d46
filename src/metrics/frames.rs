//! Reading values out of metric frames: a cell as f64, a column as text, the
//! distinct periods of a period column, and the latest complete period. Used
//! by `check` and `report`.

use anyhow::{anyhow, Result};
use polars::prelude::*;

use crate::periods::{micros_of_date, PeriodSpec};

/// Row `row` of column `name` as f64 (null, NaN and infinity are `None`).
pub fn frame_f64(df: &DataFrame, name: &str, row: usize) -> Result<Option<f64>> {
    let c = df
        .column(name)
        .map_err(|e| anyhow!("no column `{name}`: {e}"))?
        .cast(&DataType::Float64)
        .map_err(|e| anyhow!("reading `{name}`: {e}"))?;
    let v = c
        .f64()
        .map_err(|e| anyhow!("reading `{name}`: {e}"))?
        .get(row);
    Ok(v.filter(|x| x.is_finite()))
}

/// Column `name` as text per row (dates `YYYY-MM-DD`; null is "").
pub fn frame_text(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    let c = df
        .column(name)
        .map_err(|e| anyhow!("no column `{name}`: {e}"))?
        .cast(&DataType::String)
        .map_err(|e| anyhow!("reading `{name}`: {e}"))?;
    let ca = c.str().map_err(|e| anyhow!("reading `{name}`: {e}"))?;
    Ok(ca.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

/// The distinct periods of a frame's period column, in order of appearance.
pub fn frame_periods(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for p in frame_text(df, name)? {
        if out.last() != Some(&p) && !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Index in `periods` (first days, `YYYY-MM-DD`) of the latest complete
/// period: the last one whose end is at or before `as_of`.
pub fn latest_complete_row(periods: &[String], spec: &PeriodSpec, as_of: i64) -> Option<usize> {
    periods.iter().rposition(|p| {
        chrono::NaiveDate::parse_from_str(p, "%Y-%m-%d")
            .map(|d| spec.end(spec.index_of(micros_of_date(d))) <= as_of)
            .unwrap_or(false)
    })
}
