//! Loading the touches table (attribution, report, validate): the files
//! added up, the touches after `as_of` left out and counted.
//!
//! Memory: the table is the largest one at scale (several touches per lead),
//! so it is never held as text columns, nor as a frame. The loader codes
//! each text column into its part's dictionary while it maps a part of a
//! file (`Builder::Code`); each part then becomes touch records in its
//! worker (`TouchPart`: 16 bytes a touch, the part's kinds and
//! dictionaries), its builders freed at once; `join` merges the parts'
//! dictionaries in file order and appends their rows, remapped, to one
//! vector, freeing each part as it goes. A part keeps the day-first readings
//! of its slash dates beside its records until the whole column's evidence
//! decides the order. The later files' codes are remapped into the first
//! one's dictionaries (`Touches::append`).

use anyhow::{bail, Context, Result};

use super::builder::{Builder, Finish, TsColumn, NULL_TS};
use super::mapping::Mapping;
use super::plan::Plan;
use super::read::Source;
use super::table::{FileReport, Rows, TableLoad};
use crate::config::Config;
use crate::dict::{Coded, Dict, NULL};
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
        let (rows, present, report) = loader.load(src, i as u32).context("loading touches")?;
        let Rows::Touches(t) = rows else {
            bail!("internal: the touches were loaded as a frame");
        };
        let mut t = *t;
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

/// One part of a touches file (a chunk a worker mapped, or a file read in
/// one piece) as touch records: `lead` a code into the part's `lead_ids`,
/// `kind` an index into the part's `kinds` (tuples of codes into the
/// part's `dicts`), `at` the month-first (or exact) reading of
/// `touched_at`, `NULL_TS` for none.
pub(super) struct TouchPart {
    rows: Vec<Touch>,
    lead_ids: Dict,
    kinds: Vec<[u32; 5]>,
    dicts: [Dict; 5],
    /// The part's `touched_at` evidence, counts and samples (no values).
    ts: TsColumn,
    /// The day-first reading of each row, once the part met a slash date.
    df: Option<Vec<i64>>,
    /// The rows read as Excel serials.
    serials: Vec<usize>,
}

impl TouchPart {
    /// The records of a touches part's builders (consumed: at most the
    /// builders and the records of this one part are held together).
    pub(super) fn of(m: &Mapping, builders: Vec<Builder>) -> Result<TouchPart> {
        let mut lead: Option<Coded> = None;
        let mut ts: Option<TsColumn> = None;
        let mut cols: [Option<Coded>; 5] = Default::default();
        for (plan, b) in m.plans.iter().zip(builders) {
            let name = plan.spec.name;
            let slot = KIND_COLUMNS.iter().position(|&c| c == name);
            match (b, slot) {
                (Builder::Ts(t), _) if name == "touched_at" => ts = Some(t),
                (Builder::Code(c), _) if name == "lead_id" => lead = Some(c),
                (Builder::Code(c), Some(k)) => cols[k] = Some(c),
                (Builder::Skip, Some(_)) => {}
                _ => bail!("internal: touches column {name} not built as a touch's"),
            }
        }
        let mut ts = ts.context("internal: touches without touched_at")?;
        let Coded {
            codes: leads,
            dict: lead_ids,
            ..
        } = lead.context("internal: touches without lead_id")?;
        let (at, df, serials) = ts.take_values();
        let n = at.len();
        let mut dicts: [Dict; 5] = Default::default();
        let mut codes: Vec<Vec<u32>> = Vec::with_capacity(KIND_COLUMNS.len());
        for (c, col) in cols.into_iter().enumerate() {
            codes.push(match col {
                Some(Coded { codes, dict, .. }) => {
                    dicts[c] = dict;
                    codes
                }
                None => vec![NULL; n],
            });
        }
        if leads.len() != n || codes.iter().any(|c| c.len() != n) {
            bail!("internal: touches columns of different lengths");
        }
        // The kinds first: their five columns (20 bytes a touch) are freed
        // before the records (16) are made. A file read in one piece is
        // one part: at most 36 bytes a touch are held here.
        let mut kinds = KindIds::new(Vec::new());
        let kind: Vec<u32> = (0..n)
            .map(|i| kinds.cached(std::array::from_fn(|c| codes[c][i])))
            .collect();
        drop(codes);
        let rows: Vec<Touch> = leads
            .iter()
            .zip(&at)
            .zip(&kind)
            .map(|((&lead, &at), &kind)| Touch { lead, at, kind })
            .collect();
        Ok(TouchPart {
            rows,
            lead_ids,
            kinds: kinds.kinds,
            dicts,
            ts,
            df,
            serials,
        })
    }

    /// Add `by` to the lines of the samples kept (a chunk's lines made the file's).
    pub(super) fn shift_lines(&mut self, by: u64) {
        self.ts.shift_lines(by);
    }

    /// Read `touched_at` as decided for the whole column: day-first where
    /// the part kept that reading, Excel serials nulled.
    fn resolve(&mut self, use_df: bool, null_serials: bool) {
        let df = self.df.take();
        if use_df {
            for (r, d) in self.rows.iter_mut().zip(df.iter().flatten()) {
                r.at = *d;
            }
        }
        drop(df);
        if null_serials {
            for &i in &self.serials {
                self.rows[i].at = NULL_TS;
            }
        }
        self.serials = Vec::new();
    }
}

/// The parts of one touches file (in file order) as its `Touches`. The
/// whole column's evidence decides how `touched_at` is read (its order,
/// errors and problems go into `report` as for a column of a frame); then
/// each part's dictionaries are merged into the first part's, its lead
/// codes and kinds remapped and its rows appended to one vector (grown
/// once), and the part is freed: a touch is held twice only while its own
/// part is copied.
pub(super) fn join(
    plans: &[Plan],
    mut parts: Vec<TouchPart>,
    at: &Finish,
    report: &mut FileReport,
) -> Result<Touches> {
    let plan = plans
        .iter()
        .find(|p| p.spec.name == "touched_at")
        .context("internal: touches without touched_at")?;
    let mut ts = TsColumn::default();
    for p in &mut parts {
        ts.append(std::mem::take(&mut p.ts));
    }
    let (use_df, null_serials) = ts.decide(plan, at, report)?;
    for p in &mut parts {
        p.resolve(use_df, null_serials);
    }
    let total: usize = parts.iter().map(|p| p.rows.len()).sum();
    let mut parts = parts.into_iter();
    let Some(first) = parts.next() else {
        return Ok(Touches::default());
    };
    let mut rows = first.rows;
    rows.reserve_exact(total - rows.len());
    let mut lead_ids = first.lead_ids;
    let mut dicts = first.dicts;
    let mut kinds = KindIds::new(first.kinds);
    for p in parts {
        let lead = lead_ids.merge(&p.lead_ids);
        drop(p.lead_ids);
        let remaps: [Vec<u32>; 5] = std::array::from_fn(|c| dicts[c].merge(&p.dicts[c]));
        drop(p.dicts);
        let kind: Vec<u32> = p
            .kinds
            .iter()
            .map(|k| kinds.id(std::array::from_fn(|c| remaps[c][k[c] as usize])))
            .collect();
        rows.extend(p.rows.iter().map(|t| Touch {
            lead: lead[t.lead as usize],
            at: t.at,
            kind: kind[t.kind as usize],
        }));
    }
    Ok(Touches {
        rows,
        lead_ids,
        kinds: kinds.kinds,
        dicts,
        present: Default::default(),
    })
}

/// Kinds (tuples of the five kind columns' codes) numbered when first met.
struct KindIds {
    kinds: Vec<[u32; 5]>,
    ids: FastMap<[u32; 5], u32>,
    /// Kinds met lately, by a cheap mix of the codes (`cached`): few
    /// kinds, many touches.
    recent: Vec<([u32; 5], u32)>,
}

const SLOTS: usize = 256;

impl KindIds {
    /// Numbering that goes on after `kinds`.
    fn new(kinds: Vec<[u32; 5]>) -> KindIds {
        KindIds {
            ids: kinds.iter().copied().zip(0..).collect(),
            kinds,
            recent: vec![([u32::MAX; 5], 0); SLOTS],
        }
    }

    /// The id of `k`, numbered when new.
    fn id(&mut self, k: [u32; 5]) -> u32 {
        let kinds = &mut self.kinds;
        *self.ids.entry(k).or_insert_with(|| {
            kinds.push(k);
            kinds.len() as u32 - 1
        })
    }

    /// `id`, the kinds met lately found in the cache before the map.
    #[inline]
    fn cached(&mut self, k: [u32; 5]) -> u32 {
        let slot = k
            .iter()
            .fold(0u32, |h, &c| h.wrapping_mul(0x9e37_79b1).wrapping_add(c))
            .wrapping_mul(0x9e37_79b1) as usize
            >> 24
            & (SLOTS - 1);
        match self.recent[slot] {
            (l, id) if l == k => id,
            _ => {
                let id = self.id(k);
                self.recent[slot] = (k, id);
                id
            }
        }
    }
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

    fn touches_loader(cfg: &Config) -> TableLoad<'_> {
        TableLoad {
            kind: TableKind::Touches,
            cfg,
            quiet: true,
            skip: &[],
            spill: None,
        }
    }

    /// Load `text` (a touches file with one header line) through the split
    /// path, cut at the starts of the lines `cuts` (1-based), in a temporary
    /// folder (returned: the file is read again from it).
    #[allow(clippy::type_complexity)]
    fn split_load(
        text: &str,
        cuts: &[usize],
    ) -> (
        tempfile::TempDir,
        Result<(Rows, std::collections::BTreeSet<String>, FileReport)>,
    ) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("touches.csv");
        std::fs::write(&path, text).unwrap();
        let src = Source::Path(path.clone());
        let cfg = Config::default();
        let loader = touches_loader(&cfg);
        // The byte offset where line `n` (1-based) starts.
        let line_start = |n: usize| -> u64 {
            text.split_inclusive('\n').take(n - 1).map(str::len).sum::<usize>() as u64
        };
        let mut bounds = vec![line_start(2)];
        bounds.extend(cuts.iter().map(|&n| line_start(n)));
        bounds.push(text.len() as u64);
        let cuts = super::super::split::Split {
            path,
            delimiter: b',',
            bounds,
            lines_before: 1,
            threads: 2,
        };
        let (name, opened, mut report) = loader.open(&src).unwrap();
        let rows = loader.csv_rows(&name, opened, &mut report).unwrap();
        assert_eq!(rows.reader.position().line() - 1, 1, "the header line");
        let headers = rows.headers.clone();
        drop(rows);
        let out = loader
            .load_split(&name, &headers, &mut report, 0, &cuts, None)
            .map(|o| o.expect("no cut inside a quoted cell"))
            .map(|(rows, present)| (rows, present, report));
        (dir, out)
    }

    /// Excel serials across parts: a column of serials only is read as
    /// dates (45000 is 2023-03-15, days since 1899-12-30), whatever part
    /// holds them; serials in the first part and a date in the second make
    /// the required `touched_at` an error naming both first values' lines.
    #[test]
    fn excel_serials_are_decided_over_every_part() {
        let text = "lead_id,touched_at\nL1,45000\nL2,45001\nL1,45002\nL3,45003\n";
        let (_dir, loaded) = split_load(text, &[4, 5]);
        let (rows, _, report) = loaded.unwrap();
        let Rows::Touches(t) = rows else {
            panic!("touches loaded as a frame")
        };
        let at: Vec<i64> = t.rows.iter().map(|r| r.at).collect();
        assert_eq!(
            at,
            vec![day(2023, 3, 15), day(2023, 3, 16), day(2023, 3, 17), day(2023, 3, 18)]
        );
        assert_eq!(
            report.date_orders["touched_at"],
            "Excel serial numbers (days since 1899-12-30)"
        );
        let text = "lead_id,touched_at\nL1,45000\nL2,45001\nL1,2024-01-10\n";
        let (_dir, loaded) = split_load(text, &[4]);
        let err = loaded.err().expect("serials mixed with dates").to_string();
        assert!(
            err.contains("mixes plain numbers (line 2: 45000) and dates (line 4: 2024-01-10)"),
            "{err}"
        );
    }

    /// A touches file read in three parts (cut by hand after rows 3 and 6),
    /// each part coded into its own dictionaries, gives the touches of the
    /// file read in one piece:
    ///
    /// | row (line) | lead | touched_at | channel     | campaign | part |
    /// |------------|------|------------|-------------|----------|------|
    /// | 1 (2)      | L1   | 02/03/2024 | Email       | C1       | 1    |
    /// | 2 (3)      | L2   | 05/04/2024 | Paid Search |          | 1    |
    /// | 3 (4)      | L1   | 01/02/2024 | Email       | C1       | 1    |
    /// | 4 (5)      | L3   | 2024-01-10 | Display     | C2       | 2    |
    /// | 5 (6)      | L2   | 2024-01-11 | Email       |          | 2    |
    /// | 6 (7)      | L3   | (none)     | Display     | C2       | 2    |
    /// | 7 (8)      | L4   | 13/02/2024 | Paid Search | C3       | 3    |
    /// | 8 (9)      | L1   | 03/02/2024 | Email       | C1       | 3    |
    /// | 9 (10)     | L5   | 14/01/2024 | Email       |          | 3    |
    ///
    /// Part 1's slash dates are valid both ways; only part 3's `13/02` and
    /// `14/01` need day-first, so part 1 keeps both readings until the last
    /// part is seen, and its rows are then read day-first (row 1 is 2 March,
    /// not 3 February). Part 2 has no slash date. Row 6 lacks its required
    /// `touched_at`: dropped and counted at line 7.
    ///
    /// Per-part codes: leads L1=1, L2=2 | L3=1, L2=2 (row 6 dropped before
    /// coding) | L4=1, L1=2, L5=3; merged in file order: L1=1, L2=2, L3=3,
    /// L4=4, L5=5. Channels Email=1, Paid Search=2 | Display=1, Email=2 |
    /// Paid Search=1, Email=2; merged Email=1, Paid Search=2, Display=3.
    /// Campaigns C1=1 | C2=1 | C3=1, C1=2; merged C1=1, C2=2, C3=3. Kinds
    /// (channel, campaign) numbered when first met in the file: (Email, C1)
    /// 0, (Paid Search, -) 1, (Display, C2) 2, (Email, -) 3,
    /// (Paid Search, C3) 4.
    #[test]
    fn parts_coded_apart_join_into_the_files_touches() {
        let text = "lead_id,touched_at,channel,campaign_id\n\
                    L1,02/03/2024,Email,C1\n\
                    L2,05/04/2024,Paid Search,\n\
                    L1,01/02/2024,Email,C1\n\
                    L3,2024-01-10,Display,C2\n\
                    L2,2024-01-11,Email,\n\
                    L3,,Display,C2\n\
                    L4,13/02/2024,Paid Search,C3\n\
                    L1,03/02/2024,Email,C1\n\
                    L5,14/01/2024,Email,\n";
        let (dir, loaded) = split_load(text, &[5, 8]);
        let (rows, present, report) = loaded.unwrap();
        let Rows::Touches(t) = rows else {
            panic!("touches loaded as a frame")
        };
        let src = Source::Path(dir.path().join("touches.csv"));
        let cfg = Config::default();
        let loader = touches_loader(&cfg);
        assert_eq!(present.len(), 4);
        assert_eq!((report.rows_read, report.rows_kept), (9, 8));
        let dropped = &report.dropped_required["touched_at"];
        assert_eq!((dropped.count, dropped.samples.clone()), (1, vec![(7, String::new())]));
        assert_eq!(
            report.date_orders["touched_at"],
            "day/month/year (detected)"
        );
        let at: Vec<i64> = t.rows.iter().map(|r| r.at).collect();
        assert_eq!(
            at,
            vec![
                day(2024, 3, 2),
                day(2024, 4, 5),
                day(2024, 2, 1),
                day(2024, 1, 10),
                day(2024, 1, 11),
                day(2024, 2, 13),
                day(2024, 2, 3),
                day(2024, 1, 14),
            ]
        );
        let lead: Vec<u32> = t.rows.iter().map(|r| r.lead).collect();
        assert_eq!(lead, vec![1, 2, 1, 3, 2, 4, 1, 5]);
        let ids: Vec<&str> = t.lead_ids.iter().map(|(_, s)| s).collect();
        assert_eq!(ids, vec!["L1", "L2", "L3", "L4", "L5"]);
        let kind: Vec<u32> = t.rows.iter().map(|r| r.kind).collect();
        assert_eq!(kind, vec![0, 1, 0, 2, 3, 4, 0, 3]);
        let pairs: Vec<[u32; 2]> = t.kinds.iter().map(|k| [k[0], k[1]]).collect();
        assert_eq!(pairs, vec![[1, 1], [2, NULL], [3, 2], [1, NULL], [2, 3]]);
        assert!(t.kinds.iter().all(|k| k[2..] == [NULL; 3]));
        let channels: Vec<&str> = t.dicts[0].iter().map(|(_, s)| s).collect();
        assert_eq!(channels, vec!["Email", "Paid Search", "Display"]);
        let campaigns: Vec<&str> = t.dicts[1].iter().map(|(_, s)| s).collect();
        assert_eq!(campaigns, vec!["C1", "C2", "C3"]);
        assert!(t.dicts[2..].iter().all(Dict::is_empty));

        // The file read in one piece: the same touches and report.
        let (name, opened, mut one_report) = loader.open(&src).unwrap();
        let rows = loader.csv_rows(&name, opened, &mut one_report).unwrap();
        let (rows, _) = loader
            .load_csv(&name, rows, &mut one_report, 0, None)
            .unwrap();
        let Rows::Touches(one) = rows else {
            panic!("touches loaded as a frame")
        };
        assert_eq!(one.rows, t.rows);
        assert_eq!(one.kinds, t.kinds);
        for (a, b) in std::iter::once((&one.lead_ids, &t.lead_ids)).chain(one.dicts.iter().zip(&t.dicts)) {
            assert!(a.iter().eq(b.iter()));
        }
        assert_eq!(
            serde_json::to_string(&one_report).unwrap(),
            serde_json::to_string(&report).unwrap()
        );
    }
}
