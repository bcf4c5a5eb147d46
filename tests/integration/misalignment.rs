//! `revcycle misalignment` end to end on fixtures/misalignment (known answers
//! in fixtures/misalignment/EXPECTED.md).

use std::collections::HashMap;

use crate::util::{assert_csv_block, run_ok as run};

fn csv_rows(text: &str) -> Vec<HashMap<String, String>> {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers: Vec<String> = rdr
        .headers()
        .expect("header")
        .iter()
        .map(str::to_string)
        .collect();
    rdr.records()
        .map(|r| {
            let r = r.expect("record");
            headers
                .iter()
                .cloned()
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

#[track_caller]
fn close(row: &HashMap<String, String>, id: &str, want: f64) {
    let got: f64 = row
        .get(id)
        .unwrap_or_else(|| panic!("no column {id}"))
        .parse()
        .unwrap_or_else(|_| panic!("{id} = {:?} is not a number", row.get(id)));
    assert!(
        (got - want).abs() <= 1e-6 * want.abs().max(1.0),
        "{id}: got {got}, want {want}"
    );
}

const ARGS: [&str; 4] = [
    "misalignment",
    "fixtures/misalignment",
    "--config",
    "fixtures/misalignment/revcycle.toml",
];

/// The one row over all data: the `misalignment whole` block of EXPECTED.md.
#[test]
fn csv_whole_range() {
    let mut args = ARGS.to_vec();
    args.extend(["--format", "csv"]);
    let out = run(&args);
    assert_eq!(csv_rows(&out).len(), 1);
    assert_csv_block("misalignment", "misalignment whole", &out);
}

/// One row per channel (Organic, Paid): the `misalignment by channel` block
/// of EXPECTED.md.
#[test]
fn csv_by_channel() {
    let mut args = ARGS.to_vec();
    args.extend(["--format", "csv", "--by", "channel"]);
    assert_csv_block("misalignment", "misalignment by channel", &run(&args));
}

#[test]
fn json_has_every_id_and_nulls_without_contact() {
    let mut args = ARGS.to_vec();
    args.extend(["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&run(&args)).expect("json");
    let text = v.to_string();
    for id in [
        "misalignment_cost",
        "alignment_score",
        "channel_component",
        "misalignment_cost_high",
    ] {
        assert!(text.contains(id), "{id} missing in {text}");
    }
    let out = run(&[
        "misalignment",
        "fixtures/misalignment-nocontact",
        "--config",
        "fixtures/misalignment-nocontact/revcycle.toml",
        "--format",
        "csv",
    ]);
    let rows = csv_rows(&out);
    assert_eq!(rows[0]["slow_followup_lost_revenue"], "");
    assert_eq!(rows[0]["unworked_mqls"], "");
    close(&rows[0], "misalignment_cost", 5450.0);
}
