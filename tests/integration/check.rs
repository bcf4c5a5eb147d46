//! `revcycle check` on `fixtures/basic`: exit codes 0, 1 and 2, the values it
//! reports, the JUnit file parsed back, and bad rules files.
//!
//! Known answers from `fixtures/basic/EXPECTED.md` (as_of 2024-05-03T00:00):
//! the month grid is Feb..May 2024; May ends 2024-06-01, after as_of, so the
//! latest complete month is April (its end, May 1, is before as_of). April:
//! leads 3, mqls 3 (March 2: change +50%), win_rate 3/4, new_bookings 6500,
//! search channel new_bookings 2000; March: win_rate 1/2; the whole data
//! (`period = "all"`): leads 10; the Feb cohort's sal conversion 3/4.
//! At as_of 2024-03-31T00:00 March is not complete (it ends Apr 1): the
//! latest complete month is February (leads 4), which has no previous month.
//! At as_of 2024-04-01T00:00 exactly, March is complete (end == as_of): leads 3.

use std::path::{Path, PathBuf};
use std::process::Output;

use quick_xml::events::Event;
use quick_xml::Reader;

use crate::util::{run, show};

const AS_OF: &str = "2024-05-03T00:00:00";

fn rules_file(dir: &Path, text: &str) -> PathBuf {
    let p = dir.join("rules.toml");
    std::fs::write(&p, text).unwrap();
    p
}

fn check(rules: &Path, as_of: &str, extra: &[&str]) -> (Vec<String>, Output) {
    let mut args: Vec<String> = vec![
        "check".into(),
        rules.display().to_string(),
        "fixtures/basic".into(),
        "--as-of".into(),
        as_of.into(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run(&refs);
    (args, o)
}

fn json_of(args: &[String], o: &Output) -> serde_json::Value {
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}\n{}", show(&refs, o)))
}

fn close(a: &serde_json::Value, b: f64) -> bool {
    a.as_f64()
        .is_some_and(|a| (a - b).abs() <= 1e-9 * b.abs().max(1.0))
}

/// (testcase name, Some("failure"/"error") or None) in document order.
fn junit_cases(xml: &str) -> (u64, Vec<(String, Option<String>, String)>) {
    let mut r = Reader::from_str(xml);
    let mut cases: Vec<(String, Option<String>, String)> = Vec::new();
    let mut tests = 0;
    loop {
        match r.read_event().expect("well-formed XML") {
            Event::Eof => break,
            Event::Start(e) | Event::Empty(e) => {
                let attr = |name: &[u8]| -> Option<String> {
                    e.attributes()
                        .flatten()
                        .find(|a| a.key.as_ref() == name)
                        .map(|a| {
                            a.decode_and_unescape_value(r.decoder())
                                .unwrap()
                                .into_owned()
                        })
                };
                match e.name().as_ref() {
                    b"testsuite" => tests = attr(b"tests").unwrap().parse().unwrap(),
                    b"testcase" => cases.push((attr(b"name").unwrap(), None, String::new())),
                    tag @ (b"failure" | b"error") => {
                        let last = cases.last_mut().expect("failure inside a testcase");
                        last.1 = Some(String::from_utf8_lossy(tag).into_owned());
                        last.2 = attr(b"message").unwrap_or_default();
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    (tests, cases)
}

#[test]
fn all_rules_pass_exit_0_with_known_values() {
    let d = tempfile::tempdir().unwrap();
    let rules = rules_file(
        d.path(),
        r#"
[[rule]]
metric = "win_rate"
min = 0.75

[[rule]]
metric = "leads"
min = 3
max = 3

[[rule]]
metric = "mqls"
change_vs_previous = { min = 0.49, max = 0.51 }

[[rule]]
metric = "new_bookings"
by = { channel = "search" }
min = 2000
max = 2000

[[rule]]
metric = "win_rate"
period = "2024-03-15"
max = 0.5

[[rule]]
metric = "leads"
period = "all"
min = 10
max = 10

[[rule]]
metric = "conversion_from_previous"
by = { stage = "sal" }
period = "2024-02-10"
min = 0.75
max = 0.75
"#,
    );
    let (args, o) = check(&rules, AS_OF, &["--format", "json"]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(o.status.code(), Some(0), "{}", show(&refs, &o));
    let v = json_of(&args, &o);
    let r = v["rows"].as_array().unwrap();
    assert_eq!(r.len(), 7);
    assert!(r.iter().all(|x| x["status"] == "pass"), "{v:#}");
    assert_eq!(r[0]["period"], "2024-04-01");
    assert!(close(&r[0]["value"], 0.75));
    assert!(close(&r[1]["value"], 3.0));
    assert_eq!(r[2]["previous_period"], "2024-03-01");
    assert!(close(&r[2]["value"], 3.0) && close(&r[2]["previous_value"], 2.0));
    assert!(close(&r[2]["change"], 0.5));
    assert!(close(&r[3]["value"], 2000.0));
    assert_eq!(r[4]["period"], "2024-03-01");
    assert!(close(&r[4]["value"], 0.5));
    assert_eq!(r[5]["period"], "all");
    assert!(close(&r[5]["value"], 10.0));
    assert_eq!(r[6]["period"], "2024-02-01");
    assert!(close(&r[6]["value"], 0.75));
    assert_eq!(v["passed"], 7);
}

#[test]
fn a_failing_rule_exits_1_and_junit_has_its_failure() {
    let d = tempfile::tempdir().unwrap();
    let rules = rules_file(
        d.path(),
        r#"
[[rule]]
name = "win rate at least 80%"
metric = "win_rate"
min = 0.80

[[rule]]
metric = "leads"
min = 1
"#,
    );
    let junit = d.path().join("out").with_extension("xml");
    let (args, o) = check(&rules, AS_OF, &["--junit", junit.to_str().unwrap()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(o.status.code(), Some(1), "{}", show(&refs, &o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("FAIL") && out.contains("PASS"), "{out}");
    assert!(
        out.contains("75.0%") && out.contains(">= 80.0%"),
        "value and bound for people: {out}"
    );
    assert!(out.contains("win_rate = 75.0% is below min 80.0%"), "{out}");

    let xml = std::fs::read_to_string(&junit).unwrap();
    let (tests, cases) = junit_cases(&xml);
    assert_eq!(tests, 2);
    assert_eq!(cases.len(), 2, "{xml}");
    assert_eq!(cases[0].0, "win rate at least 80%");
    assert_eq!(cases[0].1.as_deref(), Some("failure"), "{xml}");
    assert!(cases[0].2.contains("below min"), "{xml}");
    assert_eq!(cases[1].1, None, "the passing rule has no failure: {xml}");
}

#[test]
fn rules_that_cannot_be_evaluated_exit_2_even_with_a_failure() {
    let d = tempfile::tempdir().unwrap();
    let rules = rules_file(
        d.path(),
        r#"
[[rule]]
metric = "win_rat"
min = 0.1

[[rule]]
metric = "nrr"
min = 0.9

[[rule]]
metric = "win_rate"
min = 0.99

[[rule]]
metric = "leads"
max = 100
by = { channel = "serch" }
"#,
    );
    let junit = d.path().join("junit.xml");
    let (args, o) = check(
        &rules,
        AS_OF,
        &["--junit", junit.to_str().unwrap(), "--format", "json"],
    );
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(o.status.code(), Some(2), "{}", show(&refs, &o));
    let v = json_of(&args, &o);
    let r = v["rows"].as_array().unwrap();
    assert_eq!(r[0]["status"], "error");
    assert!(
        r[0]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'win_rate'"),
        "{v:#}"
    );
    assert_eq!(r[1]["status"], "error");
    assert!(
        r[1]["message"]
            .as_str()
            .unwrap()
            .contains("needs revenue table"),
        "{v:#}"
    );
    assert_eq!(r[2]["status"], "fail");
    assert_eq!(r[3]["status"], "error");
    assert!(
        r[3]["message"]
            .as_str()
            .unwrap()
            .contains("did you mean 'search'"),
        "{v:#}"
    );

    let (tests, cases) = junit_cases(&std::fs::read_to_string(&junit).unwrap());
    assert_eq!(tests, 4);
    let kinds: Vec<Option<&str>> = cases.iter().map(|c| c.1.as_deref()).collect();
    assert_eq!(
        kinds,
        vec![Some("error"), Some("error"), Some("failure"), Some("error")]
    );
}

#[test]
fn latest_means_latest_complete_period() {
    let d = tempfile::tempdir().unwrap();
    let rules = rules_file(d.path(), "[[rule]]\nmetric = \"leads\"\nmin = 0\n");
    // March ends 2024-04-01 > as_of: February is the latest complete month.
    let (args, o) = check(&rules, "2024-03-31T00:00:00", &["--format", "json"]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        show(&args.iter().map(String::as_str).collect::<Vec<_>>(), &o)
    );
    let v = json_of(&args, &o);
    assert_eq!(v["rows"][0]["period"], "2024-02-01");
    assert!(close(&v["rows"][0]["value"], 4.0));
    // A period ending exactly at as_of is complete.
    let (args, o) = check(&rules, "2024-04-01T00:00:00", &["--format", "json"]);
    let v = json_of(&args, &o);
    assert_eq!(v["rows"][0]["period"], "2024-03-01");
    assert!(close(&v["rows"][0]["value"], 3.0));
    // February has no month before it: a change rule cannot be evaluated.
    let rules = rules_file(
        d.path(),
        "[[rule]]\nmetric = \"leads\"\nchange_vs_previous = { min = -0.5 }\n",
    );
    let (args, o) = check(&rules, "2024-03-31T00:00:00", &["--format", "json"]);
    assert_eq!(o.status.code(), Some(2));
    let v = json_of(&args, &o);
    assert!(
        v["rows"][0]["message"]
            .as_str()
            .unwrap()
            .contains("no month before 2024-02-01"),
        "{v:#}"
    );
}

#[test]
fn a_bad_rules_file_is_one_error_line_naming_file_rule_and_line() {
    let d = tempfile::tempdir().unwrap();
    let rules = rules_file(
        d.path(),
        "[[rule]]\nmetric = \"leads\"\nmin = 1\n\n[[rule]]\nmetric = \"mqls\"\n",
    );
    let (args, o) = check(&rules, AS_OF, &[]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_eq!(o.status.code(), Some(2), "{}", show(&refs, &o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.starts_with("revcycle: rules file `"), "{err}");
    assert!(
        err.contains("rules.toml") && err.contains("rule 2 (line 5)") && err.contains("no bound"),
        "{err}"
    );
    assert!(o.stdout.is_empty());

    let rules = rules_file(d.path(), "[[rule]]\nmetric = \"leads\"\nmin = [\n");
    let (_, o) = check(&rules, AS_OF, &[]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("rules.toml`:"),
        "TOML errors name the line: {err}"
    );
}

#[test]
fn the_example_rules_pass_on_the_demo_data() {
    let args = ["check", "examples/rules.toml", "--demo", "--format", "json"];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(0), "{}", show(&args, &o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["failed"], 0);
    assert_eq!(v["errors"], 0);
    assert!(v["passed"].as_u64().unwrap() >= 10, "{v:#}");
    // The demo's as_of is 2024-12-31 22:14: December is not complete.
    assert_eq!(v["rows"][0]["period"], "2024-11-01");
}
