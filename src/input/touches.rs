//! Loading the touches table (attribution, report, validate): the files
//! added up, the touches after `as_of` left out and counted.
//!
//! Memory: the table is the largest one at scale (several touches per lead),
//! so it is never held as text columns. The loader codes each text column
//! into its dictionary while it streams a file (`Builder::Code`); here each
//! file's columns become a `Touches` (32 bytes a touch), cut at `as_of`, and
//! the later files' codes are remapped into the first one's dictionaries.

use anyhow::{Context, Result};
use polars::prelude::*;

use super::builder::NULL_TS;
use super::read::Source;
use super::table::{FileReport, TableLoad};
use crate::config::Config;
use crate::dict::{Coded, NULL};
use crate::errors::PolarsCtx;
use crate::model::{ColumnKind, TableKind, Touches};

/// Load the touches files (added up), drop the touches after `as_of`:
/// the touches, the file reports and how many were after `as_of`.
pub fn load_touches(
    srcs: &[Source],
    cfg: &Config,
    quiet: bool,
    as_of: i64,
) -> Result<(Touches, Vec<FileReport>, u64)> {
    let kind = TableKind::Touches;
    let loader = TableLoad {
        kind,
        cfg,
        quiet,
        skip: &[],
    };
    let mut touches: Option<Touches> = None;
    let mut reports = Vec::new();
    let mut after = 0u64;
    for (i, src) in srcs.iter().enumerate() {
        let (df, present, mut report) = loader.load(src, i as u32).context("loading touches")?;
        let mut t = touches_of(df, &mut report)?;
        t.present = present;
        reports.push(report);
        // A touch without `touched_at`, or after as_of, is left out (and counted).
        let keep: Vec<bool> = t.touched_at.iter().map(|&at| at != NULL_TS && at <= as_of).collect();
        let kept = keep.iter().filter(|k| **k).count();
        if kept < t.len() {
            after += (t.len() - kept) as u64;
            t.retain(&keep);
        }
        drop(keep);
        match &mut touches {
            None => touches = Some(t),
            Some(all) => all.append(&t),
        }
    }
    let touches = touches.context("no touches file")?;
    Ok((touches, reports, after))
}

/// One file's loaded frame as coded columns (the dictionaries taken out of
/// `report`); the frame's columns are dropped one by one as they are read.
fn touches_of(mut df: DataFrame, report: &mut FileReport) -> Result<Touches> {
    let mut t = Touches::default();
    for spec in TableKind::Touches.columns() {
        let name = spec.name;
        let column = df.drop_in_place(name).ctx(format!("touches: {name}"))?;
        if spec.kind == ColumnKind::Timestamp {
            let phys = column.as_materialized_series().to_physical_repr();
            let ca = phys.i64().ctx(format!("touches: {name}"))?;
            t.touched_at = match ca.cont_slice() {
                Ok(s) => s.to_vec(),
                Err(_) => ca.iter().map(|v| v.unwrap_or(NULL_TS)).collect(),
            };
            continue;
        }
        let Some(coded) = t.coded_mut(name) else {
            continue;
        };
        // A column not coded (none today) is all null.
        *coded = match (report.coded.remove(name), column.u32()) {
            (Some(dict), Ok(ca)) => Coded {
                codes: match ca.cont_slice() {
                    Ok(s) => s.to_vec(),
                    Err(_) => ca.iter().map(|v| v.unwrap_or(NULL)).collect(),
                },
                dict,
            },
            _ => Coded {
                codes: vec![NULL; column.len()],
                dict: Default::default(),
            },
        };
    }
    Ok(t)
}
