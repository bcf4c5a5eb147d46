//! Test-only helpers: fixtures loaded through the real loader, timestamps,
//! and access to the known answers of a fixture's `EXPECTED.md`.

use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveDateTime};
use polars::prelude::*;

use crate::model::Dataset;

#[path = "../../tests/integration/expected.rs"]
pub mod expected;

/// Folder of fixture `name` (`fixtures/<name>`).
pub fn fixture_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name)
}

/// Parse an ISO timestamp (`2024-01-05T10:00:00Z`, `2024-01-05 10:00:00`,
/// `2024-01-05`) to microseconds since the epoch, UTC.
pub fn ts(s: &str) -> i64 {
    let s = s.trim().trim_end_matches('Z');
    let dt = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S"))
        .or_else(|_| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map(|d| d.and_hms_opt(0, 0, 0).unwrap())
        })
        .unwrap_or_else(|e| panic!("bad timestamp {s:?}: {e}"));
    dt.and_utc().timestamp_micros()
}

/// Load a fixture folder through the real loader (`input::load`), with
/// `as_of` given or, when None, the latest timestamp in the files.
pub fn load_dir(dir: &Path, as_of: Option<&str>) -> anyhow::Result<Dataset> {
    let spec = crate::input::InputSpec {
        dir: Some(dir.to_path_buf()),
        ..Default::default()
    };
    Ok(crate::input::load(&spec, &crate::config::Config::default(), as_of, true)?.dataset)
}

/// Load `fixtures/<name>` as of its latest timestamp.
pub fn fixture(name: &str) -> Dataset {
    load_dir(&fixture_dir(name), None).unwrap_or_else(|e| panic!("fixture {name}: {e:#}"))
}

/// Load `fixtures/<name>` with `as_of` given.
pub fn load_fixture(name: &str, as_of: &str) -> Dataset {
    load_dir(&fixture_dir(name), Some(as_of)).unwrap_or_else(|e| panic!("fixture {name}: {e:#}"))
}

/// The cells of a frame as strings, `-` for null (dates as `YYYY-MM-DD`).
pub fn cells(df: &DataFrame) -> Vec<(String, Vec<String>)> {
    df.columns()
        .iter()
        .map(|c| {
            let s = c.cast(&DataType::String).unwrap();
            let v = s
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map_or("-".to_string(), str::to_string))
                .collect();
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
