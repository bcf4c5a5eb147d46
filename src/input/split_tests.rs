//! A CSV file read in chunks by parallel workers gives the frame and the
//! file report of the same file read in one piece, wherever the cuts fall;
//! a cut inside a quoted cell that spans lines is detected (the file is then
//! read in one piece).

use polars::prelude::*;

use super::read::Source;
use super::split;
use super::table::{FileReport, TableLoad};
use crate::config::Config;
use crate::model::TableKind;

/// A leads export with what the mapping must carry across cuts: a preamble,
/// `\r\n` line endings, slash dates whose order (day-first) only the last
/// rows show, an unreadable optional timestamp (a failure with its line),
/// a row without its required `created_at` (dropped, with its line), a
/// status-less stage, and (when `multiline`) a quoted cell spanning lines.
fn export(multiline: bool) -> String {
    let mut s = String::from("Leads report\r\nlead_id,created_at,mql_at,channel,segment\r\n");
    for i in 1..=40 {
        let created = if i == 17 {
            String::new()
        } else if i > 35 {
            // day 13+: only day-first is valid
            format!("{}/03/2024", 12 + i - 35)
        } else {
            format!("0{}/0{}/2024", 1 + i % 9, 1 + i % 9)
        };
        let mql = if i == 9 || i == 29 {
            "not a date".to_string()
        } else {
            format!("2024-04-{:02}", 1 + i % 28)
        };
        let segment = if multiline && i == 21 {
            "\"Mid\r\nMarket, two lines\"".to_string()
        } else {
            ["SMB", "Enterprise", "\"Mid, Market\""][i % 3].to_string()
        };
        s.push_str(&format!("L{i},{created},{mql},Paid Search,{segment}\r\n"));
    }
    s
}

type Loaded = (DataFrame, String);

fn one_piece(loader: &TableLoad, src: &Source) -> Loaded {
    let (name, opened, mut report) = loader.open(src).unwrap();
    let rows = loader.csv_rows(&name, opened, &mut report).unwrap();
    let (rows, _) = loader.load_csv(&name, rows, &mut report, 0, None).unwrap();
    (rows.into_frame().unwrap(), json(&report))
}

/// `None`: the split was refused (a cut inside a quoted cell).
fn in_chunks(loader: &TableLoad, src: &Source, chunk: u64) -> (usize, Option<Loaded>) {
    let Source::Path(path) = src else {
        unreachable!()
    };
    let (name, opened, mut report) = loader.open(src).unwrap();
    let rows = loader.csv_rows(&name, opened, &mut report).unwrap();
    let before = rows.reader.position().line() - 1;
    let cuts = split::plan_sized(path, rows.delimiter, before, 2, chunk)
        .unwrap()
        .expect("a file of 40 rows is cut into chunks");
    let headers = rows.headers.clone();
    drop(rows);
    let out = loader
        .load_split(&name, &headers, &mut report, 0, &cuts, None)
        .unwrap();
    (
        cuts.bounds.len() - 1,
        out.map(|(rows, _)| (rows.into_frame().unwrap(), json(&report))),
    )
}

fn json(r: &FileReport) -> String {
    serde_json::to_string(r).unwrap()
}

/// `spill`: the loads under test write their rows to Parquet as they map
/// them (each chunk as a row group; the one-piece load every 7 rows, see
/// `FLUSH_ROWS`) and are read back; the reference is always in memory.
fn check(multiline: bool, spill: bool) -> (usize, usize) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    std::fs::write(&path, export(multiline)).unwrap();
    let cfg = Config::default();
    let reference = TableLoad {
        kind: TableKind::Leads,
        cfg: &cfg,
        quiet: true,
        skip: &[],
        spill: None,
    };
    let spill_dir = super::spill::SpillDir::new().unwrap();
    let loader = TableLoad {
        kind: TableKind::Leads,
        cfg: &cfg,
        quiet: true,
        skip: &[],
        spill: spill.then_some(&spill_dir),
    };
    let src = Source::Path(path);
    let (want_df, want_report) = one_piece(&reference, &src);
    if spill {
        let (df, report) = one_piece(&loader, &src);
        assert!(df.equals_missing(&want_df), "spilled: {df} != {want_df}");
        assert_eq!(report, want_report);
    }
    // The fixture is what it says: 39 rows kept (line 19 dropped), the
    // failures at lines 11 and 31 (32 after the two-line cell of line 23),
    // dates read day-first.
    assert_eq!(want_df.height(), 39);
    assert!(
        want_report.contains(
            "\"dropped_required\":{\"created_at\":{\"count\":1,\"samples\":[[19,\"\"]]}}"
        ),
        "{want_report}"
    );
    let second = 31 + multiline as u64;
    let failures = format!(
        "\"mql_at\":{{\"count\":2,\"samples\":[[11,\"not a date\"],[{second},\"not a date\"]]}}"
    );
    assert!(want_report.contains(&failures), "{want_report}");
    assert!(
        want_report.contains("day/month/year (detected)"),
        "{want_report}"
    );
    let (mut split_ok, mut refused) = (0, 0);
    // Spilled loads are slower (a Parquet file each): every sixth size.
    for chunk in (1..=120).step_by(if spill { 6 } else { 1 }) {
        let (parts, got) = in_chunks(&loader, &src, chunk);
        assert!(parts >= 2);
        match got {
            Some((df, report)) => {
                split_ok += 1;
                assert!(
                    df.equals_missing(&want_df),
                    "chunk {chunk}: {df} != {want_df}"
                );
                assert_eq!(report, want_report, "chunk {chunk}");
            }
            None => refused += 1,
        }
    }
    (split_ok, refused)
}

#[test]
fn chunks_give_the_one_piece_result_wherever_the_cuts_fall() {
    let (ok, refused) = check(false, false);
    assert_eq!((ok, refused), (120, 0));
}

/// Spilled parts carry both timestamp readings: the first parts have only
/// slash dates valid both ways (no day-first reading kept), the last ones
/// days past 12; the table's scan picks day-first for every row, and the
/// report (failures, drops, date order) is the in-memory one.
#[test]
fn spilled_parts_read_back_as_the_in_memory_frame() {
    let (ok, refused) = check(false, true);
    assert_eq!((ok, refused), (20, 0));
    let (ok, refused) = check(true, true);
    assert!(ok > 0 && refused > 0);
}

#[test]
fn a_cut_inside_a_quoted_cell_is_refused() {
    let (ok, refused) = check(true, false);
    // Small chunks put a cut inside the two-line cell of row 21 (refused);
    // every accepted split gives the one-piece result (checked in `check`).
    assert!(refused > 0, "no cut fell inside the quoted cell");
    assert!(ok > 0, "no split was accepted");
}
