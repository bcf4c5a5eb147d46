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
use super::table::{FileReport, TableLoad, LINE_COL, SRC_COL};
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
        let keep: Vec<bool> = t
            .touched_at
            .iter()
            .map(|&at| at != NULL_TS && at <= as_of)
            .collect();
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
    // `__line`/`__src` are not kept: the file order is the row order.
    for c in [LINE_COL, SRC_COL] {
        df.drop_in_place(c).ctx(format!("touches: {c}"))?;
    }
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
            (Some(dict), Ok(ca)) => Coded::new(
                match ca.cont_slice() {
                    Ok(s) => s.to_vec(),
                    Err(_) => ca.iter().map(|v| v.unwrap_or(NULL)).collect(),
                },
                dict,
            ),
            _ => Coded::new(vec![NULL; column.len()], Default::default()),
        };
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    fn src(name: &str, text: &str) -> Source {
        Source::Bytes {
            name: name.to_string(),
            data: Arc::new(text.as_bytes().to_vec()),
        }
    }

    fn day(y: i32, m: u32, d: u32) -> i64 {
        let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
        date.and_hms_opt(0, 0, 0)
            .unwrap()
            .and_utc()
            .timestamp_micros()
    }

    fn texts(c: &Coded) -> Vec<Option<&str>> {
        (0..c.codes.len()).map(|i| c.get(i)).collect()
    }

    /// Two files added up: the second file's codes remapped into the first
    /// one's dictionaries (L3 and Display and C2 new, the others shared), the
    /// touch after as_of (L2, March) left out and counted, `touch_type`
    /// absent (all null, not present), the channel trimmed as text is.
    #[test]
    fn files_add_up_into_coded_columns_cut_at_as_of() {
        let a = "lead_id,touched_at,channel,campaign_id,source,medium\n\
                 L1,2024-01-01,Email,C1,,\n\
                 L1,2024-01-05, Paid Search ,,google,cpc\n\
                 L2,2024-03-01,Email,,,\n";
        let b = "lead_id,touched_at,channel,campaign_id,source,medium\n\
                 L3,2024-01-02,Display,C2,,\n\
                 L1,2024-02-10,Email,C1,,\n\
                 L2,2024-01-03,,,,\n";
        let cfg = Config::default();
        let (t, reports, after) = load_touches(
            &[src("a.csv", a), src("b.csv", b)],
            &cfg,
            true,
            day(2024, 2, 15),
        )
        .unwrap();
        assert_eq!(after, 1);
        assert_eq!(reports.len(), 2);
        assert!(
            reports.iter().all(|r| r.coded.is_empty()),
            "dictionaries taken out"
        );
        assert_eq!(reports[0].rows_kept, 3);
        assert_eq!(
            t.touched_at,
            vec![
                day(2024, 1, 1),
                day(2024, 1, 5),
                day(2024, 1, 2),
                day(2024, 2, 10),
                day(2024, 1, 3)
            ]
        );
        // a: L1=1, L2=2 (its row is cut, its entry stays); b's L3 is new.
        assert_eq!(t.lead_id.codes, vec![1, 1, 3, 1, 2]);
        assert_eq!(t.lead_id.dict.len(), 3);
        assert_eq!(
            texts(&t.channel),
            vec![
                Some("Email"),
                Some("Paid Search"),
                Some("Display"),
                Some("Email"),
                None
            ]
        );
        assert_eq!(t.channel.codes, vec![1, 2, 3, 1, NULL]);
        assert_eq!(t.campaign_id.codes, vec![1, NULL, 2, 1, NULL]);
        assert_eq!(texts(&t.source)[1], Some("google"));
        assert_eq!(texts(&t.medium)[1], Some("cpc"));
        assert_eq!(t.touch_type.codes, vec![NULL; 5]);
        let present: Vec<&str> = t.present.iter().map(String::as_str).collect();
        assert_eq!(
            present,
            vec![
                "campaign_id",
                "channel",
                "lead_id",
                "medium",
                "source",
                "touched_at"
            ]
        );
    }
}
