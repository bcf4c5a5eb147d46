//! Loading the touches table (attribution, report, validate): the files
//! added up, the touches after `as_of` left out and counted.
//!
//! Memory: the table is the largest one at scale (several touches per lead),
//! so it is never held as text columns. The loader codes each text column
//! into its dictionary while it streams a file (`Builder::Code`); here each
//! file's columns become a `Touches` (16 bytes a touch: lead code, time, and
//! the touch's kind, one code for its five other texts), cut at `as_of`, and
//! the later files' codes are remapped into the first one's dictionaries.

use std::borrow::Cow;

use anyhow::{Context, Result};
use polars::prelude::*;

use super::builder::NULL_TS;
use super::read::Source;
use super::table::{FileReport, TableLoad, LINE_COL, SRC_COL};
use crate::config::Config;
use crate::dict::NULL;
use crate::errors::PolarsCtx;
use crate::hash::FastMap;
use crate::model::{TableKind, Touch, Touches, KIND_COLUMNS};

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
        spill: None,
    };
    let mut touches: Option<Touches> = None;
    let mut reports = Vec::new();
    let mut after = 0u64;
    for (i, src) in srcs.iter().enumerate() {
        let (rows, present, mut report) = loader.load(src, i as u32).context("loading touches")?;
        let df = rows.into_frame()?;
        let mut t = touches_of(df, &mut report)?;
        t.present = present;
        reports.push(report);
        // A touch without `touched_at`, or after as_of, is left out (and counted).
        let n = t.rows.len();
        t.rows.retain(|r| r.at != NULL_TS && r.at <= as_of);
        after += (n - t.rows.len()) as u64;
        match &mut touches {
            None => touches = Some(t),
            Some(all) => all.append(&t),
        }
    }
    let touches = touches.context("no touches file")?;
    Ok((touches, reports, after))
}

/// One file's loaded frame as `Touches` (the dictionaries taken out of
/// `report`), each column dropped once read: at most the frame's columns
/// and 4 bytes a touch more are held (the kinds), never the frame and the
/// rows together.
fn touches_of(mut df: DataFrame, report: &mut FileReport) -> Result<Touches> {
    // `__line`/`__src` are not kept: the file order is the row order (the
    // CSV loader does not even make them for the touches; other readers do).
    for c in [LINE_COL, SRC_COL] {
        if df.column(c).is_ok() {
            df.drop_in_place(c).ctx(format!("touches: {c}"))?;
        }
    }
    let height = df.height();
    let mut take = |name: &str| -> Result<(Column, crate::dict::Dict)> {
        let column = df.drop_in_place(name).ctx(format!("touches: {name}"))?;
        Ok((column, report.coded.remove(name).unwrap_or_default()))
    };
    // The kinds first: their five columns (20 bytes a touch) are dropped
    // before the rows (16 bytes a touch) are allocated.
    let mut dicts: [crate::dict::Dict; 5] = Default::default();
    let mut kinds: Vec<[u32; 5]> = Vec::new();
    let kind: Vec<u32> = {
        let mut cols = Vec::with_capacity(KIND_COLUMNS.len());
        for (c, name) in KIND_COLUMNS.iter().enumerate() {
            let (column, dict) = take(name)?;
            dicts[c] = dict;
            cols.push(column);
        }
        let cols: Vec<Cow<[u32]>> = cols.iter().map(codes).collect::<Result<_>>()?;
        // Each touch's kind: its tuple of codes, numbered when first met.
        // Kinds met lately are found in a small cache (a slot by a cheap
        // mix of the codes) before the map: few kinds, many touches.
        const SLOTS: usize = 256;
        let mut ids: FastMap<[u32; 5], u32> = FastMap::default();
        let mut recent: Vec<([u32; 5], u32)> = vec![([u32::MAX; 5], 0); SLOTS];
        (0..height)
            .map(|i| {
                let k: [u32; 5] = std::array::from_fn(|c| cols[c][i]);
                let slot = k
                    .iter()
                    .fold(0u32, |h, &c| h.wrapping_mul(0x9e37_79b1).wrapping_add(c))
                    .wrapping_mul(0x9e37_79b1) as usize
                    >> 24
                    & (SLOTS - 1);
                match recent[slot] {
                    (l, id) if l == k => id,
                    _ => {
                        let id = *ids.entry(k).or_insert_with(|| {
                            kinds.push(k);
                            kinds.len() as u32 - 1
                        });
                        recent[slot] = (k, id);
                        id
                    }
                }
            })
            .collect()
    };
    let (lead, lead_ids) = take("lead_id")?;
    let (at, _) = take("touched_at")?;
    let rows: Vec<Touch> = {
        let phys = at.as_materialized_series().to_physical_repr();
        let ats = phys.i64().ctx("touches: touched_at")?;
        let leads = codes(&lead)?;
        let row = |((at, &lead), &kind): ((i64, &u32), &u32)| Touch { lead, at, kind };
        match ats.cont_slice() {
            Ok(s) => s.iter().copied().zip(leads.iter()).zip(&kind).map(row).collect(),
            Err(_) => ats
                .iter()
                .map(|v| v.unwrap_or(NULL_TS))
                .zip(leads.iter())
                .zip(&kind)
                .map(row)
                .collect(),
        }
    };
    drop((lead, at, kind));
    Ok(Touches {
        rows,
        lead_ids,
        kinds,
        dicts,
        present: Default::default(),
    })
}

/// A coded column's codes (borrowed when in one piece); all null when the
/// column was not coded (none is today).
fn codes(column: &Column) -> Result<Cow<'_, [u32]>> {
    let Ok(ca) = column.u32() else {
        return Ok(Cow::Owned(vec![NULL; column.len()]));
    };
    Ok(match ca.cont_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(ca.iter().map(|v| v.unwrap_or(NULL)).collect()),
    })
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

    /// Every row's text of kind column `c` (`KIND_COLUMNS[c]`).
    fn texts(t: &Touches, c: usize) -> Vec<Option<&str>> {
        t.rows.iter().map(|r| t.text(r.kind, c)).collect()
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
        let at: Vec<i64> = t.rows.iter().map(|r| r.at).collect();
        assert_eq!(
            at,
            vec![
                day(2024, 1, 1),
                day(2024, 1, 5),
                day(2024, 1, 2),
                day(2024, 2, 10),
                day(2024, 1, 3)
            ]
        );
        // a: L1=1, L2=2 (its row is cut, its entry stays); b's L3 is new.
        let codes: Vec<u32> = t.rows.iter().map(|r| r.lead).collect();
        assert_eq!(codes, vec![1, 1, 3, 1, 2]);
        assert_eq!(t.lead_ids.len(), 3);
        let lead: Vec<Option<&str>> = (0..t.len()).map(|i| t.lead_id(i)).collect();
        assert_eq!(
            lead,
            vec![Some("L1"), Some("L1"), Some("L3"), Some("L1"), Some("L2")]
        );
        assert_eq!(
            texts(&t, 0),
            vec![
                Some("Email"),
                Some("Paid Search"),
                Some("Display"),
                Some("Email"),
                None
            ]
        );
        assert_eq!(
            texts(&t, 1),
            vec![Some("C1"), None, Some("C2"), Some("C1"), None]
        );
        assert_eq!(texts(&t, 2), vec![None; 5]);
        assert_eq!(texts(&t, 3)[1], Some("google"));
        assert_eq!(texts(&t, 4)[1], Some("cpc"));
        // Kinds: a's (Email, C1), (Paid Search, -, google, cpc), (Email) of
        // the row cut; b's (Display, C2) new, (Email, C1) the first kind
        // again, (all null) new.
        let kind: Vec<u32> = t.rows.iter().map(|r| r.kind).collect();
        assert_eq!(kind, vec![0, 1, 3, 0, 4]);
        assert_eq!(t.kinds.len(), 5);
        assert_eq!(t.kinds[0], [1, 1, NULL, NULL, NULL]);
        assert_eq!(t.kinds[4], [NULL; 5]);
        assert_eq!(t.dicts[0].len(), 3);
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
