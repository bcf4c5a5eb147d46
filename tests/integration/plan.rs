//! `revcycle plan` (issue 15): the hand-worked known answers of
//! `fixtures/plan/EXPECTED.md`, the waterfall's consistency down and back up
//! the ladder, bad targets files, and the demo's story.

use std::path::Path;

use crate::expected::cell_matches;
use crate::util::{fixture, run, run_in, show, stderr};

const AS_OF: &str = "2025-05-16";

/// The fenced block ```` ```csv NAME ```` of fixtures/plan/EXPECTED.md, as
/// CSV text.
fn expected_csv(name: &str) -> String {
    let md = std::fs::read_to_string(fixture("plan/EXPECTED.md")).unwrap();
    let mut lines = md.lines();
    lines
        .by_ref()
        .find(|l| l.trim() == format!("```csv {name}"))
        .unwrap_or_else(|| panic!("no ```csv {name} block in EXPECTED.md"));
    lines
        .take_while(|l| !l.trim().starts_with("```"))
        .map(|l| format!("{l}\n"))
        .collect()
}

fn rows(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r.headers().unwrap().iter().map(str::to_string).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_string).collect())
        .collect();
    (header, rows)
}

/// Compare CSV texts cell by cell (empty = null; numbers within 1e-9; money
/// as its exact millionth).
fn assert_csv(what: &str, expected: &str, actual: &str) {
    let (he, re) = rows(expected);
    let (ha, ra) = rows(actual);
    assert_eq!(ha, he, "{what}: columns");
    assert_eq!(ra.len(), re.len(), "{what}: rows\n{actual}");
    let mut errors = Vec::new();
    for (i, (e, a)) in re.iter().zip(&ra).enumerate() {
        for (j, (ec, ac)) in e.iter().zip(a).enumerate() {
            let dash = |s: &str| if s.is_empty() { "-".to_string() } else { s.to_string() };
            // Money prints the exact decimal of its nearest millionth
            // (docs/cli.md): compare it so.
            let money = revcycle::output::kind_of(&he[j]) == revcycle::output::ValueKind::Money;
            let ok = match (money, crate::expected::number(ec)) {
                (true, Some(v)) => crate::expected::millionths_text(v) == *ac,
                _ => cell_matches(&dash(ec), &dash(ac)),
            };
            if !ok {
                errors.push(format!("row {} {}: expected {ec:?}, got {ac:?}", i + 1, he[j]));
            }
        }
    }
    assert!(errors.is_empty(), "{what}:\n{}", errors.join("\n"));
}

fn plan_args<'a>(extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "plan",
        "fixtures/plan",
        "--targets",
        "fixtures/plan/targets.csv",
        "--as-of",
        AS_OF,
    ];
    a.extend_from_slice(extra);
    a
}

/// A JSON section as CSV text with the columns of `header`.
fn json_section_csv(json: &serde_json::Value, section: &str, header: &[String]) -> String {
    let mut out = header.join(",") + "\n";
    for row in json[section].as_array().unwrap() {
        let cells: Vec<String> = header
            .iter()
            .map(|h| match &row[h.as_str()] {
                serde_json::Value::Null => String::new(),
                serde_json::Value::String(s) => s.clone(),
                v => v.to_string(),
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

#[test]
fn plan_csv_matches_the_hand_worked_fixture() {
    let args = plan_args(&["--format", "csv"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    assert_csv(
        "plan.csv",
        &expected_csv("plan"),
        &String::from_utf8_lossy(&o.stdout),
    );
}

#[test]
fn plan_json_pacing_and_summary_match_the_fixture() {
    let args = plan_args(&["--format", "json"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for name in ["pacing", "summary"] {
        let want = expected_csv(name);
        let (header, _) = rows(&want);
        assert_csv(name, &want, &json_section_csv(&json, name, &header));
    }
    // The JSON's plan section is the CSV's rows.
    let want = expected_csv("plan");
    let (header, _) = rows(&want);
    assert_csv("json plan", &want, &json_section_csv(&json, "plan", &header));
}

#[test]
fn plan_table_states_the_verdicts() {
    let args = plan_args(&[]);
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("sales' Q2 2025 target of 50K new_bookings needs 33 MQLs by Mar 17; marketing's target is 25: 75% coverage, a 12K shortfall"),
        "{out}"
    );
    assert!(out.contains("goal_alignment_score: 75"), "{out}");
}

/// The first `required` of `stage` in a plan CSV.
fn required(csv_text: &str, stage: &str) -> f64 {
    let (h, rs) = rows(csv_text);
    let si = h.iter().position(|c| c == "stage").unwrap();
    let ri = h.iter().position(|c| c == "required").unwrap();
    rs.iter().find(|r| r[si] == stage).unwrap()[ri].parse().unwrap()
}

#[test]
fn plan_down_the_ladder_from_bookings_and_back_up_returns_the_target() {
    let base = ["plan", "fixtures/plan", "--as-of", AS_OF, "--for", "2025-04-01", "--format", "csv"];
    let mut a = base.to_vec();
    a.extend(["--bookings", "50000"]);
    let o = run(&a);
    assert!(o.status.success(), "{}", show(&a, &o));
    let leads = required(&String::from_utf8_lossy(&o.stdout), "lead");
    assert!((leads - 200.0 / 3.0).abs() < 1e-9, "{leads}");
    let t = format!("leads={leads}");
    let mut b = base.to_vec();
    b.extend(["--target", t.as_str()]);
    let o = run(&b);
    assert!(o.status.success(), "{}", show(&b, &o));
    let won = required(&String::from_utf8_lossy(&o.stdout), "won");
    // Back at won: 10 deals of the 5,000 average deal: the 50,000 quota.
    assert!((won * 5000.0 - 50000.0).abs() < 1e-6, "{won}");
}

fn bad_targets(name: &str, text: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    let p = path.to_string_lossy().to_string();
    let root = crate::util::root();
    let data = root.join("fixtures/plan");
    let data = data.to_string_lossy();
    let args = ["plan", &*data, "--targets", &p, "--as-of", AS_OF];
    let o = run_in(Some(Path::new(&root)), &args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert!(o.stdout.is_empty(), "{}", show(&args, &o));
    let err = stderr(&o);
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(&format!("targets `{p}`")), "names the file: {err}");
    err
}

#[test]
fn plan_bad_targets_unknown_metric_suggests() {
    let e = bad_targets(
        "t.csv",
        "period,metric,target,owner\n2025-04-01,mqls,25,marketing\n2025-04-01,new_booking,50000,sales\n",
    );
    assert!(
        e.contains("line 3: metric `new_booking` is unknown; did you mean 'new_bookings'?"),
        "{e}"
    );
}

#[test]
fn plan_bad_targets_period_not_a_period_start() {
    let e = bad_targets("t.csv", "period,metric,target,owner\n2025-05-01,mqls,25,marketing\n");
    assert!(
        e.contains("line 2: period `2025-05-01` is not the first day of a quarter (the quarter holding it starts 2025-04-01)"),
        "{e}"
    );
}

#[test]
fn plan_bad_targets_negative_target() {
    let e = bad_targets("t.csv", "period,metric,target,owner\n2025-04-01,mqls,-25,marketing\n");
    assert!(e.contains("line 2: target `-25` is negative"), "{e}");
}

#[test]
fn plan_bad_targets_duplicate_row() {
    let e = bad_targets(
        "t.csv",
        "period,metric,target,owner\n2025-04-01,mqls,25,marketing\n2025-04-01,leads,60,marketing\n2025-04-01,mqls,30,marketing\n",
    );
    assert!(
        e.contains("line 4: duplicate target (2025-04-01 mqls owner `marketing`)"),
        "{e}"
    );
    assert!(e.contains(", line 2 already sets it"), "{e}");
}

#[test]
fn plan_bad_targets_toml_names_the_line() {
    let e = bad_targets(
        "t.toml",
        "[[target]]\nperiod = 2025-04-01\nmetric = \"mqls\"\ntarget = 25\nowner = \"marketing\"\n\n[[target]]\nperiod = 2025-04-01\nmetric = \"mql\"\ntarget = 9\nowner = \"sales\"\n",
    );
    assert!(e.contains("metric `mql` is unknown; did you mean 'mqls'?"), "{e}");
    assert!(e.contains("t.toml`, line 7: "), "{e}");
}

#[test]
fn plan_reads_target_tables_of_the_configuration() {
    let dir = tempfile::tempdir().unwrap();
    let data = fixture("plan");
    std::fs::write(
        dir.path().join("revcycle.toml"),
        format!(
            "[inputs]\ndir = {:?}\n\n[[target]]\nperiod = 2025-04-01\nmetric = \"mqls\"\ntarget = 25\nowner = \"marketing\"\n\n[[target]]\nperiod = \"2025-04-01\"\nmetric = \"new_bookings\"\ntarget = 50000\nowner = \"sales\"\n",
            data.to_string_lossy()
        ),
    )
    .unwrap();
    let args = ["plan", "--as-of", AS_OF, "--format", "csv"];
    let o = run_in(Some(dir.path()), &args);
    assert!(o.status.success(), "{}", show(&args, &o));
    assert_csv("plan from [[target]]", &expected_csv("plan"), &String::from_utf8_lossy(&o.stdout));
}

#[test]
fn plan_without_targets_is_a_usage_error() {
    let args = ["plan", "fixtures/plan", "--as-of", AS_OF];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert!(stderr(&o).contains("plan needs targets"), "{}", show(&args, &o));
}

#[test]
fn plan_demo_tells_the_story() {
    let args = ["plan", "--demo", "-q"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let out = String::from_utf8_lossy(&o.stdout);
    // Q1 2025: marketing's MQL target short of what sales' quota needs.
    assert!(
        out.contains("sales' Q1 2025 target of 1.45M new_bookings needs")
            && out.contains("marketing's target is 480: 91% coverage"),
        "{out}"
    );
    // Q4 2024: a quota implying a rate above every quarter the demo reached.
    assert!(out.contains("is above every quarter observed: unrealistic"), "{out}");
    assert!(out.contains("Pacing of Q4 2024"), "{out}");
}

/// `check RULES fixtures/plan --targets fixtures/plan/targets.csv`: exit code
/// and stdout.
fn check_vs_targets(rules: &str, targets: bool) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rules.toml");
    std::fs::write(&path, rules).unwrap();
    let p = path.to_string_lossy().to_string();
    let mut args = vec!["check", &p, "fixtures/plan", "--as-of", AS_OF, "--format", "csv"];
    if targets {
        args.extend(["--targets", "fixtures/plan/targets.csv"]);
    }
    let o = run(&args);
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).to_string(),
        show(&args, &o),
    )
}

#[test]
fn check_min_vs_target_and_pace_min_pass_exit_0() {
    // Q2 2025 to as_of: 3 MQLs, pace (3 / (45/91)) / 25 = 91/375 = 0.2427 >= 0.24;
    // new_bookings 5,000 = 10% of the 50,000 target >= 0.1.
    let (code, out, shown) = check_vs_targets(
        "[[rule]]\nmetric = \"mqls\"\npace_min = 0.24\n\n[[rule]]\nmetric = \"new_bookings\"\nmin_vs_target = 0.1\nperiod = \"2025-04-01\"\n",
        true,
    );
    assert_eq!(code, Some(0), "{shown}");
    // The CSV carries the target, value / target and the pace beside the rule's
    // thresholds: mqls target 25 (Q2 2025), pace 91/375; new_bookings target
    // 50,000, 5,000 / 50,000 = 0.1.
    assert!(
        out.contains("\n1,,mqls,,2025-04-01,3,,,,,,,,25,,,0.24266666666666667,0.24,pass,\n"),
        "{shown}"
    );
    assert!(
        out.contains("\n2,,new_bookings,,2025-04-01,5000,,,,,,,,50000,0.1,0.1,,,pass,\n"),
        "{shown}"
    );
}

#[test]
fn check_pace_behind_exits_1() {
    // new_bookings pace 91/450 = 20.2% < 25%; mqls pace 24.27% < 25%.
    let (code, out, shown) = check_vs_targets(
        "[[rule]]\nmetric = \"new_bookings\"\npace_min = 0.25\n\n[[rule]]\nmetric = \"mqls\"\npace_min = 0.25\n",
        true,
    );
    assert_eq!(code, Some(1), "{shown}");
    assert!(
        out.contains("new_bookings pace 20.2% (5,000 so far, projected 10,111 of target 50,000) is below pace_min 25.0%"),
        "{shown}"
    );
    assert!(out.contains("mqls pace 24.3%"), "{shown}");
}

#[test]
fn check_vs_target_without_a_target_exits_2() {
    // Q1 2025 (the latest complete quarter) has no target.
    let (code, out, shown) = check_vs_targets(
        "[[rule]]\nmetric = \"new_bookings\"\nmin_vs_target = 0.9\n",
        true,
    );
    assert_eq!(code, Some(2), "{shown}");
    assert!(out.contains("no target for `new_bookings` in the quarter of 2025-01-01"), "{shown}");
    // No targets at all: one error line, exit 2.
    let (code, _, shown) = check_vs_targets("[[rule]]\nmetric = \"mqls\"\npace_min = 1.0\n", false);
    assert_eq!(code, Some(2), "{shown}");
    assert!(shown.contains("rules need targets"), "{shown}");
}

#[test]
fn report_with_targets_writes_plan_csv_and_a_plan_section() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("r");
    let outs = out.to_string_lossy().to_string();
    let args = [
        "report",
        "fixtures/plan",
        "--as-of",
        AS_OF,
        "--targets",
        "fixtures/plan/targets.csv",
        "--out",
        &outs,
        "-q",
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let csv_text = std::fs::read_to_string(out.join("plan.csv")).unwrap();
    assert_csv("report plan.csv", &expected_csv("plan"), &csv_text);
    let md = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(md.contains("## Plan: do the targets add up?"), "{md}");
    assert!(md.contains("marketing's target is 25: 75% coverage, a 12K shortfall"), "{md}");
    assert!(md.contains("| new_bookings:sales | 50,000 | 5,000 | 24,725 | 10,111 | 20% |"), "{md}");
    let manifest = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"plan.csv\""), "{manifest}");
    // Without targets there is no plan.csv.
    let out2 = dir.path().join("r2");
    let outs2 = out2.to_string_lossy().to_string();
    let args = ["report", "fixtures/plan", "--as-of", AS_OF, "--out", &outs2, "-q"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    assert!(!out2.join("plan.csv").exists());
}

#[test]
fn plan_two_targets_of_one_team_on_one_row_of_the_other_is_an_error() {
    // won_deals and new_bookings both anchor at `won`: in marketing's waterfall
    // they would land on the same row.
    let e = bad_targets(
        "t.csv",
        "period,metric,target,owner\n2025-04-01,mqls,25,marketing\n2025-04-01,won_deals,10,sales\n2025-04-01,new_bookings,50000,sales\n",
    );
    assert!(
        e.contains("line 4: won_deals:sales and new_bookings:sales both land on stage `won` of the mqls:marketing waterfall"),
        "{e}"
    );
}

#[test]
fn plan_table_snapshot() {
    let args = plan_args(&[]);
    let o = crate::util::run_width(&args, 100);
    assert!(o.status.success(), "{}", show(&args, &o));
    crate::util::assert_snapshot("plan_fixture_table", &String::from_utf8_lossy(&o.stdout));
}

#[test]
fn plan_reads_maturity_and_history_from_the_configuration() {
    // maturity 30 and history 200 days: the window is [as_of − 230 days,
    // as_of − 30 days) = [2024-09-28, 2025-04-16): leads L13-L24, 12 of them.
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("revcycle.toml");
    std::fs::write(&cfg, "[plan]\nmaturity_days = 30\nhistory_days = 200\n").unwrap();
    let c = cfg.to_string_lossy().to_string();
    let args = plan_args(&["--config", &c, "--format", "json"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let json: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let s = &json["summary"][0];
    assert_eq!(s["maturity_days"], 30.0, "{s}");
    assert_eq!(s["history_days"], 200.0, "{s}");
    assert_eq!(s["window_start"], "2024-09-28T00:00:00Z", "{s}");
    assert_eq!(s["window_end"], "2025-04-16T00:00:00Z", "{s}");
    assert_eq!(json["evidence"][0]["reached"], 12, "{json}");
}

#[test]
fn plan_for_without_command_line_targets_is_an_error() {
    let args = plan_args(&["--for", "2025-04-01"]);
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert!(stderr(&o).contains("--for sets the period of command-line targets"), "{}", show(&args, &o));
}
