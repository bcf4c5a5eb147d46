//! Test-only helpers: a minimal loader for canonical-header CSV fixtures (to
//! be replaced by the real loader) and access to the known answers of a
//! fixture's `EXPECTED.md`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::model::{dtype_of, ColumnKind, Dataset, Table, TableKind};

#[path = "../../tests/integration/expected.rs"]
pub mod expected;

/// Folder of fixture `name` (`fixtures/<name>`).
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(name)
}

/// Parse an ISO timestamp (`2024-01-05T10:00:00Z`, `2024-01-05 10:00:00`,
/// `2024-01-05`) to microseconds since the epoch, UTC.
pub fn ts(s: &str) -> i64 {
    let s = s.trim().trim_end_matches('Z');
    let dt = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap()))
        .unwrap_or_else(|e| panic!("bad timestamp {s:?}: {e}"));
    dt.and_utc().timestamp_micros()
}

fn load_table(dir: &Path, kind: TableKind) -> Option<Table> {
    let path = dir.join(format!("{}.csv", kind.name()));
    if !path.exists() {
        return None;
    }
    let mut rdr = csv::Reader::from_path(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers: Vec<String> = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let records: Vec<csv::StringRecord> = rdr.records().map(|r| r.unwrap()).collect();
    let mut present = BTreeSet::new();
    let mut cols = Vec::new();
    for spec in kind.columns() {
        let pos = headers.iter().position(|h| h == spec.name);
        if pos.is_some() {
            present.insert(spec.name.to_string());
        }
        let cells: Vec<Option<&str>> = records
            .iter()
            .map(|r| pos.and_then(|i| r.get(i)).map(str::trim).filter(|v| !v.is_empty()))
            .collect();
        let name: PlSmallStr = spec.name.into();
        let column = match spec.kind {
            ColumnKind::Timestamp => Column::new(name, cells.iter().map(|c| c.map(ts)).collect::<Vec<_>>())
                .cast(&dtype_of(spec.kind))
                .unwrap(),
            ColumnKind::Number => {
                Column::new(name, cells.iter().map(|c| c.map(|v| v.parse::<f64>().unwrap())).collect::<Vec<_>>())
            }
            ColumnKind::Status => Column::new(name, cells.iter().map(|c| c.unwrap_or("open")).collect::<Vec<_>>()),
            ColumnKind::DealType => {
                Column::new(name, cells.iter().map(|c| c.unwrap_or("new_business")).collect::<Vec<_>>())
            }
            ColumnKind::Text => Column::new(name, cells),
        };
        cols.push(column);
    }
    let frame = DataFrame::new(records.len(), cols).unwrap();
    Some(Table { kind, frame, present })
}

/// Load `fixtures/<name>/*.csv` (canonical headers) as the loader would, with
/// `as_of` given. Rows are not cut at `as_of` (fixtures hold none after it).
pub fn load_fixture(name: &str, as_of: &str) -> Dataset {
    let dir = fixture_dir(name);
    Dataset {
        leads: load_table(&dir, TableKind::Leads),
        opportunities: load_table(&dir, TableKind::Opportunities),
        campaigns: load_table(&dir, TableKind::Campaigns),
        revenue: load_table(&dir, TableKind::Revenue),
        as_of: ts(as_of),
    }
}

/// The cells of a frame as strings, `-` for null (dates as `YYYY-MM-DD`).
pub fn cells(df: &DataFrame) -> Vec<(String, Vec<String>)> {
    df.columns()
        .iter()
        .map(|c| {
            let s = c.cast(&DataType::String).unwrap();
            let v = s.str().unwrap().iter().map(|v| v.map_or("-".to_string(), str::to_string)).collect();
            (c.name().to_string(), v)
        })
        .collect()
}

/// Assert `df` equals block `block` of `fixtures/<fixture>/EXPECTED.md`.
pub fn assert_expected(fixture: &str, block: &str, df: &DataFrame) {
    let md = std::fs::read_to_string(fixture_dir(fixture).join("EXPECTED.md")).unwrap();
    let exp = expected::block(&md, block);
    expected::assert_matches(block, &exp, &cells(df));
}
