//! `revcycle cycle` on the hand-checked fixture `fixtures/cycle`: the month
//! and quarter tables against the machine-read blocks of its EXPECTED.md
//! (where every value is derived), the JSON layout and the missing-revenue
//! note.

use std::path::PathBuf;

use crate::util::{assert_csv_block, csv_table, run_ok as run, run_ok_both as run_both};

fn fixture() -> PathBuf {
    crate::util::fixture("cycle")
}

const HEADER: &str = "period,new_bookings,expansion_bookings,renewal_bookings,funnel_revenue,cycle_revenue,\
existing_customer_share,renewal_rate,starting_mrr,new_mrr,expansion_mrr,contraction_mrr,churned_mrr,\
ending_mrr,nrr,grr,logo_churn_rate,arpa,ltv,ltv_to_cac,cac_payback_months";

/// Every cell of the month table: the `cycle month` block of EXPECTED.md.
#[test]
fn cycle_csv_by_month() {
    let dir = fixture();
    let out = run(&[
        "cycle",
        dir.to_str().unwrap(),
        "--as-of",
        "2024-04-15",
        "--format",
        "csv",
    ]);
    assert_eq!(out.lines().next(), Some(HEADER));
    assert_csv_block("cycle", "cycle month", &out);
}

/// Every cell of the quarter table: the `cycle quarter` block of
/// EXPECTED.md (Q1: A3's churn and reactivation net to +10 expansion).
#[test]
fn cycle_csv_by_quarter() {
    let dir = fixture();
    let out = run(&[
        "cycle",
        dir.to_str().unwrap(),
        "--as-of",
        "2024-04-15",
        "--format",
        "csv",
        "--period",
        "quarter",
    ]);
    assert_eq!(out.lines().next(), Some(HEADER));
    assert_csv_block("cycle", "cycle quarter", &out);
}

#[test]

fn cycle_json_has_both_tables() {
    let dir = fixture();
    let out = run(&[
        "cycle",
        dir.to_str().unwrap(),
        "--as-of",
        "2024-04-15",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let cycle = v["cycle"].as_array().expect("cycle array");
    assert_eq!(cycle.len(), 6);
    assert_eq!(cycle[3]["period"], "2024-02-01");
    assert_eq!(cycle[3]["expansion_bookings"].as_f64(), Some(650.0));
    assert!(cycle[0]["nrr"].is_null());
    let fvc = v["funnel_vs_cycle"]
        .as_array()
        .expect("funnel_vs_cycle array");
    assert_eq!(fvc.len(), 12);
    assert_eq!(fvc[7]["view"], "cycle");
    assert_eq!(fvc[7]["customers"].as_f64(), Some(3.0));
    assert_eq!(fvc[7]["unseen_by_funnel"].as_f64(), Some(650.0));
    assert!(fvc[6]["unseen_by_funnel"].is_null());
}

#[test]

fn cycle_without_revenue_says_which_input_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    for f in ["leads.csv", "opportunities.csv", "campaigns.csv"] {
        std::fs::copy(fixture().join(f), tmp.path().join(f)).unwrap();
    }
    // The note may go to stdout (under the table) or stderr.
    let (out, err) = run_both(&[
        "cycle",
        tmp.path().to_str().unwrap(),
        "--as-of",
        "2024-04-15",
    ]);
    let out = format!("{out}{err}");
    assert!(
        out.contains("need a revenue table: --revenue FILE or revenue.* in the folder"),
        "{out}"
    );
    let out = run(&[
        "cycle",
        tmp.path().to_str().unwrap(),
        "--as-of",
        "2024-04-15",
        "--format",
        "csv",
    ]);
    // January: no MRR without the revenue table; bookings as before (the
    // `cycle month` block's 2400).
    let (headers, rows) = csv_table(&out);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(rows[2][col("period")], "2024-01-01");
    assert_eq!(rows[2][col("starting_mrr")], "");
    assert_eq!(rows[2][col("cycle_revenue")], "2400");
}
