//! `revcycle cycle` on the hand-checked fixture `fixtures/cycle` (values
//! derived in its EXPECTED.md). Ignored until the loader and the command are
//! wired; the metric-level tests in `src/metrics/cycle.rs` assert every value.

use std::path::PathBuf;

use crate::util::{run_ok as run, run_ok_both as run_both};

fn fixture() -> PathBuf {
    crate::util::fixture("cycle")
}

fn csv_rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let headers = rdr.headers().unwrap().iter().map(str::to_string).collect();
    let rows = rdr
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    (headers, rows)
}

fn num(s: &str) -> Option<f64> {
    if s.is_empty() {
        None
    } else {
        Some(s.parse().unwrap_or_else(|_| panic!("not a number: {s:?}")))
    }
}

fn close(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(g), Some(w)) => (g - w).abs() <= 1e-9 * w.abs().max(1.0),
        _ => false,
    }
}

const HEADER: &str = "period,new_bookings,expansion_bookings,renewal_bookings,funnel_revenue,cycle_revenue,\
existing_customer_share,renewal_rate,starting_mrr,new_mrr,expansion_mrr,contraction_mrr,churned_mrr,\
ending_mrr,nrr,grr,logo_churn_rate,arpa,ltv,ltv_to_cac,cac_payback_months";

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
    let (headers, rows) = csv_rows(&out);
    assert_eq!(headers.join(","), HEADER);
    let periods: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(
        periods,
        [
            "2023-11-01",
            "2023-12-01",
            "2024-01-01",
            "2024-02-01",
            "2024-03-01",
            "2024-04-01"
        ]
    );
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    // January: a new account, a contraction and a churn.
    let jan = &rows[2];
    for (name, want) in [
        ("new_bookings", Some(960.0)),
        ("renewal_bookings", Some(1440.0)),
        ("renewal_rate", Some(0.5)),
        ("starting_mrr", Some(380.0)),
        ("new_mrr", Some(80.0)),
        ("contraction_mrr", Some(80.0)),
        ("churned_mrr", Some(50.0)),
        ("ending_mrr", Some(330.0)),
        ("nrr", Some(250.0 / 380.0)),
        ("ltv", Some(264.0)),
        ("ltv_to_cac", Some(0.33)),
        ("cac_payback_months", Some(800.0 / 66.0)),
    ] {
        assert!(
            close(num(&jan[col(name)]), want),
            "2024-01 {name}: {:?}",
            jan[col(name)]
        );
    }
    // November: nothing before it, so NRR is empty (null), not 0.
    assert_eq!(rows[0][col("nrr")], "");
}

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
    let (headers, rows) = csv_rows(&out);
    assert_eq!(headers.join(","), HEADER);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    let periods: Vec<&str> = rows.iter().map(|r| r[0].as_str()).collect();
    assert_eq!(periods, ["2023-10-01", "2024-01-01", "2024-04-01"]);
    // Q1: December against March; A3's churn and reactivation net to +10 expansion.
    let q1 = &rows[1];
    for (name, want) in [
        ("cycle_revenue", Some(4170.0)),
        ("new_mrr", Some(130.0)),
        ("expansion_mrr", Some(60.0)),
        ("contraction_mrr", Some(80.0)),
        ("churned_mrr", Some(30.0)),
        ("nrr", Some(330.0 / 380.0)),
        ("grr", Some(270.0 / 380.0)),
        ("ltv", Some(804.9019967835357)),
    ] {
        assert!(
            close(num(&q1[col(name)]), want),
            "Q1 {name}: {:?}",
            q1[col(name)]
        );
    }
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
    let (headers, rows) = csv_rows(&out);
    let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
    assert_eq!(rows[2][col("starting_mrr")], "");
    assert!(close(num(&rows[2][col("cycle_revenue")]), Some(2400.0)));
}
