//! `revcycle misalignment` end to end on fixtures/misalignment (known answers
//! in fixtures/misalignment/EXPECTED.md).

use crate::util::{assert_csv_block, csv_columns, csv_table, run_ok as run};

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
    assert_eq!(csv_table(&out).1.len(), 1);
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
    // No contact dates: the components that need them are null, the cost
    // is the others' (fixtures/misalignment-nocontact/EXPECTED.md).
    let cols = csv_columns(&out);
    let cell = |id: &str| -> &str {
        let c = cols.iter().find(|c| c.0 == id);
        &c.unwrap_or_else(|| panic!("no column {id}\n{out}")).1[0]
    };
    assert_eq!(cell("slow_followup_lost_revenue"), "-");
    assert_eq!(cell("unworked_mqls"), "-");
    assert_eq!(cell("misalignment_cost"), "5450");
}
