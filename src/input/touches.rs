//! Loading the touches table (attribution, report, validate): the files
//! added up, the touches after `as_of` left out and counted.
//!
//! Memory: the table is the largest one at scale (several touches per lead).
//! Each file is mapped once; the stacked files share their chunks; the
//! `as_of` filter copies the table only when a touch is after `as_of` (or
//! has no timestamp), else the canonical columns are selected as they are.

use std::collections::BTreeSet;

use anyhow::{Context, Result};
use polars::prelude::*;

use super::read::Source;
use super::table::{FileReport, TableLoad};
use crate::config::Config;
use crate::model::{Table, TableKind};

/// Load the touches files (added up), drop the touches after `as_of`:
/// the table, the file reports and how many were after `as_of`.
pub fn load_touches(
    srcs: &[Source],
    cfg: &Config,
    quiet: bool,
    as_of: i64,
) -> Result<(Table, Vec<FileReport>, u64)> {
    let kind = TableKind::Touches;
    let loader = TableLoad {
        kind,
        cfg,
        quiet,
        skip: &[],
    };
    let mut frame: Option<DataFrame> = None;
    let mut present = BTreeSet::new();
    let mut reports = Vec::new();
    for (i, src) in srcs.iter().enumerate() {
        let (df, p, report) = loader.load(src, i as u32).context("loading touches")?;
        present.extend(p);
        reports.push(report);
        match &mut frame {
            None => frame = Some(df),
            Some(f) => {
                f.vstack_mut(&df)
                    .map_err(|e| anyhow::anyhow!("stacking touches files: {e}"))?;
            }
        }
    }
    let frame = frame.context("no touches file")?;
    let before = frame.height() as u64;
    // `__line`/`__src` stay out: the file order is the row order.
    let keep: Vec<Expr> = kind.columns().iter().map(|c| col(c.name)).collect();
    // A row without `touched_at`, or after as_of, is left out by the filter
    // (and counted); without any, the filter would only copy the table.
    let at = frame
        .column("touched_at")
        .map_err(|e| anyhow::anyhow!("touches: {e}"))?;
    let phys = at.as_materialized_series().to_physical_repr();
    let all_in = at.null_count() == 0 && phys.i64().ok().and_then(|c| c.max()).is_none_or(|m| m <= as_of);
    let mut lf = frame.lazy();
    if !all_in {
        let ts = lit(as_of).cast(DataType::Datetime(TimeUnit::Microseconds, None));
        lf = lf.filter(col("touched_at").lt_eq(ts));
    }
    let frame = lf
        .select(keep)
        .collect()
        .map_err(|e| anyhow::anyhow!("applying as_of to touches: {e}"))?;
    let after = before - frame.height() as u64;
    Ok((
        Table {
            kind,
            frame,
            present,
        },
        reports,
        after,
    ))
}
