//! The same two leads read from CSV, gzip-compressed CSV, NDJSON, Parquet and
//! standard input load to the same canonical values.

use std::io::Write;
use std::process::{Command, Stdio};

use polars::prelude::*;
use revcycle::config::Config;
use revcycle::input::{self, InputSpec};
use revcycle::model::TableKind;

use crate::util::{fixture, root, texts};

const CSV: &str = "lead_id,created_at,channel,mql_at\nL1,2024-01-31T14:05:00Z,Web,\nL2,2024-02-01,Events,2024-02-03 10:00\n";

fn leads_of(path: &std::path::Path) -> DataFrame {
    let spec = InputSpec {
        leads: Some(path.to_path_buf()),
        ..Default::default()
    };
    let l = input::load(&spec, &Config::default(), None, true).expect("loads");
    l.dataset.table(TableKind::Leads).unwrap().collect().unwrap()
}

fn check(df: &DataFrame) {
    assert_eq!(texts(df, "lead_id"), ["L1", "L2"]);
    assert_eq!(
        texts(df, "created_at"),
        ["2024-01-31 14:05:00", "2024-02-01 00:00:00"]
    );
    assert_eq!(texts(df, "channel"), ["Web", "Events"]);
    assert_eq!(texts(df, "mql_at"), ["", "2024-02-03 10:00:00"]);
}

#[test]
fn csv_gzip_ndjson_parquet() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("leads.csv");
    std::fs::write(&csv, CSV).unwrap();
    check(&leads_of(&csv));

    let gz = dir.path().join("leads.csv.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::default(),
    );
    enc.write_all(CSV.as_bytes()).unwrap();
    enc.finish().unwrap();
    check(&leads_of(&gz));

    check(&leads_of(&fixture("presets/canonical_leads.ndjson")));

    // Parquet with typed columns: created_at a real timestamp, the rest text.
    let pq = dir.path().join("leads.parquet");
    let created = Int64Chunked::from_slice(
        "created_at".into(),
        &[1_706_709_900_000_000, 1_706_745_600_000_000],
    )
    .into_datetime(TimeUnit::Microseconds, None)
    .into_series()
    .into_column();
    let mut df = DataFrame::new_infer_height(vec![
        Column::new("lead_id".into(), ["L1", "L2"]),
        created,
        Column::new("channel".into(), ["Web", "Events"]),
        Column::new("mql_at".into(), [None, Some("2024-02-03 10:00")]),
    ])
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&pq).unwrap())
        .finish(&mut df)
        .unwrap();
    check(&leads_of(&pq));
}

#[test]
fn standard_input() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_revcycle"))
        .args([
            "kpis", "--leads", "-", "--format", "csv", "--period", "all", "-q",
        ])
        .current_dir(root())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(CSV.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = String::from_utf8_lossy(&o.stdout);
    let mut rdr = csv::Reader::from_reader(out.as_bytes());
    let h = rdr.headers().unwrap().clone();
    let row = rdr.records().next().unwrap().unwrap();
    let get = |name: &str| {
        row.get(h.iter().position(|x| x == name).unwrap())
            .unwrap()
            .to_string()
    };
    // one period over everything, named by the earliest row date
    assert_eq!(get("period"), "2024-01-31");
    assert_eq!(get("leads"), "2");
    assert_eq!(get("mqls"), "1");
}
