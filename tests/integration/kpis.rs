//! `revcycle kpis` and `revcycle funnel` on `fixtures/basic`, compared with
//! the known answers of `fixtures/basic/EXPECTED.md` in CSV and JSON.

use crate::expected;
use crate::util::{csv_columns, root, run_ok as run};

const AS_OF: &str = "2024-05-03T00:00:00";

/// JSON output (an array of row objects, keys in column order) as (column,
/// cells), null as `-`.
fn json_cells(text: &str) -> Vec<(String, Vec<String>)> {
    let v: serde_json::Value = serde_json::from_str(text).expect("valid JSON");
    // Every command writes one object; a single section's rows are `rows`.
    let rows = v["rows"]
        .as_array()
        .cloned()
        .unwrap_or_else(|| panic!("no `rows` array in the JSON object: {text}"));
    let mut cols: Vec<(String, Vec<String>)> = Vec::new();
    for row in &rows {
        let obj = row.as_object().expect("row object");
        if cols.is_empty() {
            cols = obj.keys().map(|k| (k.clone(), Vec::new())).collect();
        }
        for (k, c) in cols.iter_mut() {
            let cell = match obj.get(k.as_str()) {
                None | Some(serde_json::Value::Null) => "-".to_string(),
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(x) => x.to_string(),
            };
            c.push(cell);
        }
    }
    cols
}

fn check(command: &str, block: &str, extra: &[&str]) {
    let md =
        std::fs::read_to_string(root().join("fixtures/basic/EXPECTED.md")).expect("EXPECTED.md");
    let want = expected::block(&md, block);
    for format in ["csv", "json"] {
        let mut args = vec![
            command,
            "fixtures/basic",
            "--as-of",
            AS_OF,
            "--format",
            format,
        ];
        args.extend_from_slice(extra);
        let out = run(&args);
        let got = if format == "csv" {
            csv_columns(&out)
        } else {
            // serde_json (without `preserve_order`) sorts object keys: compare
            // the key set here, the column order is checked on the CSV.
            let mut got = json_cells(&out);
            let mut keys: Vec<&str> = got.iter().map(|c| c.0.as_str()).collect();
            let mut names: Vec<&str> = want.iter().map(|c| c.0.as_str()).collect();
            keys.sort_unstable();
            names.sort_unstable();
            assert_eq!(keys, names, "{block} (json): keys");
            got.sort_by_key(|c| want.iter().position(|w| w.0 == c.0));
            got
        };
        // Money prints the exact decimal of its nearest millionth (issue 10).
        let money = |c: &str| revcycle::output::kind_of(c) == revcycle::output::ValueKind::Money;
        expected::assert_matches_with(&format!("{block} ({format})"), &want, &got, &money);
    }
}

#[test]

fn kpis_month() {
    check("kpis", "kpis month", &[]);
}

#[test]

fn kpis_quarter() {
    check("kpis", "kpis quarter", &["--period", "quarter"]);
}

#[test]

fn kpis_all() {
    check("kpis", "kpis all", &["--period", "all"]);
}

#[test]

fn kpis_month_by_channel() {
    check("kpis", "kpis month by channel", &["--by", "channel"]);
}

#[test]

fn kpis_quarter_by_channel() {
    check(
        "kpis",
        "kpis quarter by channel",
        &["--period", "quarter", "--by", "channel"],
    );
}

#[test]

fn funnel_month() {
    check("funnel", "funnel month", &[]);
}

#[test]

fn funnel_quarter() {
    check("funnel", "funnel quarter", &["--period", "quarter"]);
}

#[test]

fn funnel_month_by_channel() {
    check("funnel", "funnel month by channel", &["--by", "channel"]);
}

#[test]

fn funnel_quarter_by_channel() {
    check(
        "funnel",
        "funnel quarter by channel",
        &["--period", "quarter", "--by", "channel"],
    );
}
