//! `revcycle misalignment` end to end on fixtures/misalignment (known answers
//! in fixtures/misalignment/EXPECTED.md).

use std::collections::HashMap;

use crate::util::run_ok as run;

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

#[test]
fn csv_whole_range() {
    let mut args = ARGS.to_vec();
    args.extend(["--format", "csv"]);
    let rows = csv_rows(&run(&args));
    assert_eq!(rows.len(), 1);
    let r = &rows[0];
    for (id, v) in [
        ("worked_mql_win_rate", 0.3),
        ("unworked_mqls", 3.0),
        ("unworked_mql_lost_revenue", 13500.0),
        ("unworked_mql_wasted_spend", 450.0),
        ("slow_followup_lost_revenue", 15750.0),
        ("rejected_mqls", 3.0),
        ("rejected_mql_wasted_spend", 450.0),
        ("misfit_lost_pipeline", 5000.0),
        ("misalignment_cost", 35150.0),
        ("misalignment_cost_low", 7626.7700981101),
        ("misalignment_cost_high", 94325.6260120170),
        ("misalignment_cost_share", 35150.0 / 45000.0),
        ("alignment_uplift_scenario", 15300.0),
        (
            "alignment_score",
            100.0 * (10.0 / 13.0 + 2.0 / 3.0 + 0.5 + 17.0 / 21.0 + 41.0 / 63.0) / 5.0,
        ),
        ("followup_component", 10.0 / 13.0),
        ("speed_component", 2.0 / 3.0),
        ("acceptance_component", 0.5),
        ("icp_component", 17.0 / 21.0),
        ("channel_component", 41.0 / 63.0),
    ] {
        close(r, id, v);
    }
}

#[test]
fn csv_by_channel() {
    let mut args = ARGS.to_vec();
    args.extend(["--format", "csv", "--by", "channel"]);
    let rows = csv_rows(&run(&args));
    let by: HashMap<String, &HashMap<String, String>> =
        rows.iter().map(|r| (r["channel"].clone(), r)).collect();
    assert_eq!(rows.len(), 2);
    let paid = by["Paid"];
    close(paid, "misalignment_cost", 22600.0);
    close(paid, "misalignment_cost_low", 1891.6694070540);
    close(paid, "misalignment_cost_high", 45686.1839983172);
    close(paid, "slow_followup_lost_revenue", 15000.0);
    close(
        paid,
        "alignment_score",
        100.0 * (5.0 / 7.0 + 0.6 + 0.375 + 0.75 + 1.0) / 5.0,
    );
    let organic = by["Organic"];
    close(organic, "misalignment_cost", 9300.0);
    close(organic, "misalignment_cost_low", 2958.5195056799);
    close(organic, "misalignment_cost_high", 40120.1237864138);
    close(organic, "slow_followup_lost_revenue", 0.0);
    close(
        organic,
        "alignment_score",
        100.0 * (5.0 / 6.0 + 0.75 + 4.0 / 6.0 + 5.0 / 6.0 + 1.0) / 5.0,
    );
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
