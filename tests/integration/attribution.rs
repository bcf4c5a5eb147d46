//! `revcycle attribution` through the binary: the known answers of
//! fixtures/attribution/EXPECTED.md (its machine-read blocks, compared
//! without copying a number), the one-touch fallback, the touches presets
//! (fixtures/attribution-presets: each preset file gives the same bytes as
//! its hand-written canonical rows, and the credits worked out below), the
//! demo's truth, and bad touches input.

use std::collections::BTreeMap;

use crate::util::{
    assert_csv_block, assert_csv_rows, fixture, run, run_csv, run_ok, show, stderr, CsvRun,
};

/// The fenced `expected-rows NAME` block of EXPECTED.md: header, rows.
fn block(name: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let text = std::fs::read_to_string(fixture("attribution/EXPECTED.md")).unwrap();
    let start = text
        .find(&format!("```expected-rows {name}\n"))
        .unwrap_or_else(|| panic!("no block {name}"));
    let body = &text[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    let body = &body[..body.find("```").unwrap()];
    let mut lines = body
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split_whitespace().map(str::to_string).collect::<Vec<_>>());
    let header = lines.next().unwrap();
    (header, lines.collect())
}

/// `-` is null, `a/b` an exact fraction, else a decimal.
fn expected_value(s: &str) -> Option<f64> {
    if s == "-" {
        return None;
    }
    Some(match s.split_once('/') {
        Some((a, b)) => a.parse::<f64>().unwrap() / b.parse::<f64>().unwrap(),
        None => s.parse().unwrap(),
    })
}

/// Equal to the printed precision (CSV writes six decimals).
fn close(got: Option<f64>, want: Option<f64>) -> bool {
    match (got, want) {
        (None, None) => true,
        (Some(g), Some(w)) => (g - w).abs() <= 1e-6 * w.abs().max(1.0),
        _ => false,
    }
}

const FIXTURE_ARGS: [&str; 9] = [
    "attribution",
    "fixtures/attribution",
    "--as-of",
    "2024-07-01",
    "--period",
    "month",
    "--from",
    "2024-03-01",
    "--to",
];

#[test]
fn attribution_fixture_matches_expected_long_rows() {
    let mut args: Vec<&str> = FIXTURE_ARGS.to_vec();
    args.extend(["2024-06-30", "--format", "csv"]);
    let o = run_csv(&args);
    let (header, rows) = (o.header.clone(), &o.rows);
    assert_eq!(
        header,
        [
            "period",
            "channel",
            "model",
            "conversions",
            "value",
            "share",
            "spend",
            "cost_per_conversion",
            "roas"
        ]
    );
    // period (2024-03-01 printed, 2024-03 in EXPECTED.md), channel, model -> row
    let got: BTreeMap<(String, String, String), &Vec<String>> = rows
        .iter()
        .map(|r| ((r[0][..7].to_string(), r[1].clone(), r[2].clone()), r))
        .collect();
    let mut compared = 0;
    for model in [
        "first_touch",
        "last_touch",
        "linear",
        "time_decay",
        "position",
        "w_shaped",
        "markov",
        "shapley",
    ] {
        let (eh, erows) = block(&format!("long-{model}"));
        assert_eq!(eh, header, "block long-{model} has the output's columns");
        for e in erows {
            let key = (e[0].clone(), e[1].clone(), e[2].clone());
            let g = got
                .get(&key)
                .unwrap_or_else(|| panic!("no output row {key:?}\n{}", o.show()));
            for c in 3..header.len() {
                let gv = (!g[c].is_empty()).then(|| g[c].parse::<f64>().unwrap());
                assert!(
                    close(gv, expected_value(&e[c])),
                    "{key:?} {}: got {:?}, EXPECTED.md says {}",
                    header[c],
                    g[c],
                    e[c]
                );
            }
            compared += 1;
        }
    }
    // 4 months x 5 channels x 8 models, and nothing else in the output.
    assert_eq!(compared, 160);
    assert_eq!(rows.len(), 160);
}

#[test]
fn attribution_fixture_json_removal_effects_and_paths() {
    let mut args: Vec<&str> = FIXTURE_ARGS.to_vec();
    args.extend(["2024-06-30", "--format", "json", "--paths", "100"]);
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"].as_array().unwrap().len(), 160);
    let (_, markov) = block("markov");
    let re = v["removal_effects"].as_array().unwrap();
    assert_eq!(re.len(), markov.len());
    for (g, e) in re.iter().zip(&markov) {
        assert_eq!(g["channel"], e[0].as_str());
        assert!(
            close(g["removal_effect"].as_f64(), expected_value(&e[1])),
            "{g} vs {e:?}"
        );
    }
    let (_, paths) = block("paths");
    let gp = v["paths"].as_array().unwrap();
    assert_eq!(gp.len(), paths.len());
    for (g, e) in gp.iter().zip(&paths) {
        let want = e[0].replace('>', " > ").replace('_', " ");
        assert_eq!(g["path"], want.as_str());
        assert_eq!(g["leads"].as_u64(), e[1].parse().ok());
        assert_eq!(g["conversions"].as_u64(), e[2].parse().ok());
        assert!(close(g["conversion_rate"].as_f64(), expected_value(&e[3])));
    }
}

#[test]
fn attribution_same_bytes_on_every_run() {
    let mut args: Vec<&str> = FIXTURE_ARGS.to_vec();
    args.extend(["2024-06-30", "--format", "json"]);
    let a = run(&args);
    let b = run(&args);
    assert!(a.status.success(), "{}", show(&args, &a));
    assert_eq!(a.stdout, b.stdout);
}

/// The fixture's tables without touches: every conversion's path is its
/// lead's own channel. Won deals: O1 (L1 search), O2 (L2 events), O3 (L3
/// social), O4 (L4 events), O5 (L5: no channel, and without a campaigns
/// table its campaign EM1 has none: `(none)`), O6 and O8 (L6 search):
/// search 3 (1000 + 800 + 1200), events 2 (2000 + 3000), social 1 (1500),
/// (none) 1 (500), under every model.
#[test]
fn attribution_without_touches_every_model_agrees() {
    let args = [
        "attribution",
        "--leads",
        "fixtures/attribution/leads.csv",
        "--opportunities",
        "fixtures/attribution/opportunities.csv",
        "--as-of",
        "2024-07-01",
        "--format",
        "csv",
    ];
    let o = run_csv(&args);
    let rows = &o.rows;
    let want: BTreeMap<&str, (f64, f64)> = [
        ("search", (3.0, 3000.0)),
        ("events", (2.0, 5000.0)),
        ("social", (1.0, 1500.0)),
        ("(none)", (1.0, 500.0)),
    ]
    .into_iter()
    .collect();
    assert_eq!(rows.len(), 4 * 8, "{}", o.show());
    for r in rows {
        let (c, v) = want[r[1].as_str()];
        assert_eq!(r[3].parse::<f64>().unwrap(), c, "{r:?}");
        assert_eq!(r[4].parse::<f64>().unwrap(), v, "{r:?}");
        // no campaigns table: spend, cost and roas are null
        assert_eq!(&r[6..], ["", "", ""], "{r:?}");
    }
    let t = run(&args[..7]);
    let text = String::from_utf8_lossy(&t.stdout);
    assert!(
        text.contains(
            "every lead has one touch (its own created_at/channel/campaign); all models agree"
        ),
        "{}",
        show(&args[..7], &t)
    );
}

fn preset_args<'a>(touches: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut a = vec![
        "attribution",
        "--leads",
        "fixtures/attribution/leads.csv",
        "--opportunities",
        "fixtures/attribution/opportunities.csv",
        "--campaigns",
        "fixtures/attribution/campaigns.csv",
        "--as-of",
        "2024-07-01",
        "--model",
        "first_touch,last_touch",
        "--format",
        "csv",
        "--touches",
        touches,
    ];
    a.extend_from_slice(extra);
    a
}

/// Run a touches preset and its hand-written canonical rows: both exit 0
/// with the same bytes; the preset's run.
fn preset_run(preset: &[&str], canonical: &[&str]) -> CsvRun {
    let o = run_csv(preset);
    let c = run_csv(canonical);
    assert_eq!(
        o.output.stdout,
        c.output.stdout,
        "preset rows equal their canonical rows\n{}",
        o.show()
    );
    o
}

/// Each (channel, model) is credited (conversions, value) (one period).
#[track_caller]
fn assert_credits(o: &CsvRun, want: &[(&str, &str, (f64, f64))]) {
    for (channel, model, credit) in want {
        let row = o
            .rows
            .iter()
            .find(|r| r[1] == *channel && r[2] == *model)
            .unwrap_or_else(|| panic!("no row {channel} {model}\n{}", o.show()));
        let got: (f64, f64) = (row[3].parse().unwrap(), row[4].parse().unwrap());
        assert_eq!(got, *credit, "{channel} {model}\n{}", o.show());
    }
}

/// The Campaign Members report: the EM1 member of L2 never responded (no
/// "First Responded Date"): not a touch, counted. Channels come from the
/// members' campaigns (PS1 search, EV1 events, SO1 social). Paths: O1 (L1)
/// search; O2 (L2, 03-16 10:00) events (03-02) > search (03-16 00:00);
/// O3 (L3) social; the others fall back to their lead: O4 events, O5 email,
/// O6 and O8 search. First touch: search 3 (O1, O6, O8: 3000), events 2
/// (O2, O4: 5000), social 1, email 1; last touch: search 4 (O1, O2, O6, O8:
/// 5000), events 1 (O4: 3000), social 1, email 1.
#[test]
fn attribution_salesforce_campaign_members_preset() {
    let o = preset_run(
        &preset_args("fixtures/attribution-presets/sf_campaign_members.csv", &[]),
        &preset_args("fixtures/attribution-presets/sf_canonical.csv", &[]),
    );
    assert!(
        o.stderr()
            .contains("1 rows left out: empty required column `touched_at`"),
        "{}",
        o.show()
    );
    assert_credits(
        &o,
        &[
            ("search", "first_touch", (3.0, 3000.0)),
            ("events", "first_touch", (2.0, 5000.0)),
            ("social", "first_touch", (1.0, 1500.0)),
            ("email", "first_touch", (1.0, 500.0)),
            ("search", "last_touch", (4.0, 5000.0)),
            ("events", "last_touch", (1.0, 3000.0)),
        ],
    );
}

/// The UTM log (lead id column `crm_id` named in utm.toml, which also maps
/// partnerx to "Partner X"): google/cpc -> Paid Search, linkedin/paid ->
/// Paid Social, newsletter/email -> Email, (direct)/(none) -> Direct,
/// Google/CPC -> Paid Search (case-insensitive), empty -> (none); L99 is no
/// lead (orphan), the L6 touch of 2024-08-01 is after as_of: both left out
/// and counted. First touch: O1 Paid Search (1000), O2 Paid Social (2000),
/// O3 Partner X (1500), O4 (none) (3000); last touch: O2 Direct, O3 Paid
/// Search (Paid Search 2: 2500); O5, O6, O8 fall back (email 500, search 2000).
#[test]
fn attribution_utm_log_preset_and_channel_rules() {
    let o = preset_run(
        &preset_args(
            "fixtures/attribution-presets/utm_log.csv",
            &["--config", "fixtures/attribution-presets/utm.toml"],
        ),
        &preset_args(
            "fixtures/attribution-presets/utm_canonical.csv",
            &["--no-config"],
        ),
    );
    let err = o.stderr();
    assert!(
        err.contains("1 touch(es) after as_of are left out"),
        "{err}"
    );
    assert!(
        err.contains("1 touch(es) whose lead_id is not a loaded lead"),
        "{err}"
    );
    assert_credits(
        &o,
        &[
            ("Paid Search", "first_touch", (1.0, 1000.0)),
            ("Paid Social", "first_touch", (1.0, 2000.0)),
            ("Partner X", "first_touch", (1.0, 1500.0)),
            ("(none)", "first_touch", (1.0, 3000.0)),
            ("Direct", "last_touch", (1.0, 2000.0)),
            ("Paid Search", "last_touch", (2.0, 2500.0)),
            ("search", "last_touch", (2.0, 2000.0)),
            ("email", "first_touch", (1.0, 500.0)),
        ],
    );
}

#[test]
fn attribution_demo_truth_side_by_side() {
    let args = ["attribution", "--demo", "--truth"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let text = String::from_utf8_lossy(&o.stdout);
    let header = text
        .lines()
        .find(|l| l.contains("first_touch"))
        .unwrap_or_else(|| panic!("no side-by-side header\n{}", show(&args, &o)));
    for m in [
        "channel",
        "last_touch",
        "w_shaped",
        "markov",
        "shapley",
        "truth",
    ] {
        assert!(header.contains(m), "{header}");
    }
    // Referral's known share (74 of 147 conversions lost, 0.503) is in the truth column.
    let referral = text.lines().find(|l| l.contains("Referral")).unwrap();
    let last = referral.trim_end().trim_end_matches('│').trim_end();
    assert!(last.ends_with("50.3%"), "{referral}");
    for m in ["first_touch", "w_shaped", "shapley"] {
        assert!(
            text.contains(&format!("{m}: mean absolute error 0.")),
            "{}",
            show(&args, &o)
        );
    }
    let j = run(&["attribution", "--demo", "--truth", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&j.stdout).unwrap();
    let errs = v["truth_error"].as_array().unwrap();
    assert_eq!(errs.len(), 8);
    for e in errs {
        let mae = e["mae"].as_f64().unwrap();
        assert!(mae > 0.0 && mae < 1.0, "{e}");
    }
}

#[test]
fn attribution_bad_touches_input_is_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("touches.csv");
    std::fs::write(&bad, "lead_id,channel\nL1,search\n").unwrap();
    let p = bad.to_string_lossy().to_string();
    for args in [
        vec![
            "attribution",
            "fixtures/attribution",
            "--touches",
            p.as_str(),
        ],
        vec![
            "attribution",
            "fixtures/attribution",
            "--model",
            "first,markov",
        ],
        vec!["attribution", "fixtures/attribution", "--truth"],
    ] {
        let o = run(&args);
        assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
        let err = stderr(&o);
        assert_eq!(err.trim_end().lines().count(), 1, "{}", show(&args, &o));
        assert!(err.starts_with("revcycle: "), "{}", show(&args, &o));
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// `report` writes attribution.csv: every model, --credit won, by channel,
/// the report's periods: the same bytes as `attribution --period month`.
/// Without touches, summary.md carries the one-touch note.
#[test]
fn attribution_report_writes_attribution_csv() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r");
    let o_s = out.to_string_lossy().to_string();
    let args = [
        "report",
        "fixtures/attribution",
        "--as-of",
        "2024-07-01",
        "--out",
        o_s.as_str(),
        "-q",
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let a = [
        "attribution",
        "fixtures/attribution",
        "--as-of",
        "2024-07-01",
        "--period",
        "month",
        "--format",
        "csv",
    ];
    let c = run(&a);
    assert!(c.status.success(), "{}", show(&a, &c));
    assert_eq!(
        std::fs::read(out.join("attribution.csv")).unwrap(),
        c.stdout
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(
        html.contains("id=\"attribution\""),
        "no attribution section"
    );
    // O1..O8 without O7: 7 credited won deals; first_touch gives search 1 of 7 (14.3%),
    // last_touch 5 of 7 (71.4%): the widest spread of the fixture.
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    assert!(
        summary.contains(
            "disagree most on search: from 14.3% under first_touch to 71.4% under last_touch"
        ),
        "{summary}"
    );

    let out2 = d.path().join("r2");
    let o2 = out2.to_string_lossy().to_string();
    let args = [
        "report",
        "--leads",
        "fixtures/attribution/leads.csv",
        "--opportunities",
        "fixtures/attribution/opportunities.csv",
        "--as-of",
        "2024-07-01",
        "--out",
        o2.as_str(),
        "-q",
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let summary = std::fs::read_to_string(out2.join("summary.md")).unwrap();
    assert!(summary.contains("every lead has one touch"), "{summary}");
    assert!(
        summary.contains("every model gives each channel the same share"),
        "{summary}"
    );
}

/// validate reports the touches table: the UTM log (with utm.toml) at the
/// default as_of, which touches do not move: the latest event is O8's
/// close, 2024-05-12 10:00 (the L6 touch of 2024-08-01 would be later).
/// At that as_of: 1 touch after it (L6), 1 orphan (L99), and of the 12
/// leads only L1, L2, L3, L4 have a touch: 8 without.
#[test]
fn attribution_validate_reports_touches() {
    let args = [
        "validate",
        "--leads",
        "fixtures/attribution/leads.csv",
        "--opportunities",
        "fixtures/attribution/opportunities.csv",
        "--touches",
        "fixtures/attribution-presets/utm_log.csv",
        "--config",
        "fixtures/attribution-presets/utm.toml",
        "--format",
        "json",
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["as_of"], "2024-05-12T10:00:00Z", "{v}");
    let text = String::from_utf8_lossy(&o.stdout).to_string();
    let finding = |check: &str| -> u64 {
        let f = v["findings"]
            .as_array()
            .unwrap_or_else(|| panic!("no findings array\n{text}"))
            .iter()
            .find(|f| f["check"] == check)
            .unwrap_or_else(|| panic!("no {check}\n{text}"));
        assert_eq!(f["table"], "touches");
        f["count"].as_u64().unwrap()
    };
    assert_eq!(finding("touches_after_as_of"), 1);
    assert_eq!(finding("orphan_touches"), 1);
    assert_eq!(finding("leads_without_touches"), 8);
    assert!(text.contains("utm_log.csv"), "the touches file is listed");
}

/// `check` rules on attribution metrics (fixture, as_of 2024-07-01, months):
/// last_touch roas of search in March = 3800 / 400 = 9.5 (EXPECTED.md's
/// long-last_touch block): passes `min = 9`; search's removal effect is
/// 53/62 = 0.8548: fails `max = 0.8`; display spent 0 in March, so its roas
/// is null: the rule cannot be evaluated. Exit 0, then 1, then 2.
#[test]
fn attribution_check_rules_exit_0_1_2() {
    let pass = r#"
[[rule]]
metric = "roas"
table = "attribution"
model = "last_touch"
by = { channel = "search" }
period = "2024-03-15"
min = 9
"#;
    let fail = format!(
        "{pass}
[[rule]]
metric = \"removal_effect\"
table = \"attribution\"
by = {{ channel = \"search\" }}
max = 0.8
"
    );
    let error = format!(
        "{fail}
[[rule]]
metric = \"roas\"
table = \"attribution\"
model = \"markov\"
by = {{ channel = \"display\" }}
period = \"2024-03-15\"
min = 1
"
    );
    let d = tempfile::tempdir().unwrap();
    for (name, text, code) in [
        ("pass", pass.to_string(), 0),
        ("fail", fail, 1),
        ("error", error, 2),
    ] {
        let path = d.path().join(format!("{name}.toml"));
        std::fs::write(&path, text).unwrap();
        let p = path.to_string_lossy().to_string();
        let args = [
            "check",
            p.as_str(),
            "fixtures/attribution",
            "--as-of",
            "2024-07-01",
            "--format",
            "json",
        ];
        let o = run(&args);
        assert_eq!(o.status.code(), Some(code), "{}", show(&args, &o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let text = v.to_string();
        assert!(text.contains("9.5"), "{text}");
        if code >= 1 {
            assert!(text.contains("0.8548387096774"), "53/62: {text}");
        }
    }
    // JUnit names the attribution rules' class.
    let junit = d.path().join("junit.xml");
    let (rules, j) = (
        d.path().join("fail.toml").to_string_lossy().to_string(),
        junit.to_string_lossy().to_string(),
    );
    let args = [
        "check",
        rules.as_str(),
        "fixtures/attribution",
        "--as-of",
        "2024-07-01",
        "--junit",
        j.as_str(),
    ];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(1), "{}", show(&args, &o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(
        xml.matches("classname=\"revcycle.check.attribution\"")
            .count(),
        2,
        "{xml}"
    );
    // A bad attribution rule names the problem (exit 2).
    let path = d.path().join("bad.toml");
    std::fs::write(
        &path,
        "[[rule]]\nmetric = \"roas\"\ntable = \"attribution\"\nby = { channel = \"search\" }\nmin = 1\n",
    )
    .unwrap();
    let p = path.to_string_lossy().to_string();
    let args = ["check", p.as_str(), "fixtures/attribution"];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert!(
        stderr(&o).contains("needs a `model`"),
        "{}",
        show(&args, &o)
    );
}

/// `platform_overclaim` by month and, in March, by channel: the `overclaim
/// month` and `overclaim march by channel` blocks of EXPECTED.md (derived
/// there).
#[test]
fn attribution_platform_overclaim_known_answer() {
    let get = |extra: &[&str]| -> String {
        let mut args = vec![
            "kpis",
            "fixtures/attribution",
            "--as-of",
            "2024-07-01",
            "--from",
            "2024-03-01",
            "--format",
            "csv",
        ];
        args.extend_from_slice(extra);
        run_ok(&args)
    };
    assert_csv_block(
        "attribution",
        "overclaim month",
        &get(&["--to", "2024-06-30"]),
    );
    let by = get(&["--to", "2024-03-30", "--by", "channel"]);
    assert_csv_rows("attribution", "overclaim march by channel", &by);
}

/// The touches of fixtures/attribution split in two files: `--touches A
/// --touches B` adds them up, and so does `[inputs] touches = [A, B]`: the
/// same bytes as reading the folder's touches.csv.
#[test]
fn attribution_touches_files_add_up() {
    let text = std::fs::read_to_string(fixture("attribution/touches.csv")).unwrap();
    let mut lines = text.lines();
    let header = lines.next().unwrap();
    let rows: Vec<&str> = lines.collect();
    let (a, b) = rows.split_at(rows.len() / 2);
    let d = tempfile::tempdir().unwrap();
    let write = |name: &str, part: &[&str]| {
        let p = d.path().join(name);
        std::fs::write(&p, format!("{header}\n{}\n", part.join("\n"))).unwrap();
        p.to_string_lossy().to_string()
    };
    let (pa, pb) = (write("a.csv", a), write("b.csv", b));
    let base = [
        "attribution",
        "--leads",
        "fixtures/attribution/leads.csv",
        "--opportunities",
        "fixtures/attribution/opportunities.csv",
        "--campaigns",
        "fixtures/attribution/campaigns.csv",
        "--as-of",
        "2024-07-01",
        "--format",
        "csv",
    ];
    let folder = [
        "attribution",
        "fixtures/attribution",
        "--as-of",
        "2024-07-01",
        "--format",
        "csv",
    ];
    let want = run(&folder);
    assert!(want.status.success(), "{}", show(&folder, &want));
    let mut args = base.to_vec();
    args.extend(["--touches", pa.as_str(), "--touches", pb.as_str()]);
    let got = run(&args);
    assert!(got.status.success(), "{}", show(&args, &got));
    assert_eq!(got.stdout, want.stdout);
    let cfg = d.path().join("revcycle.toml");
    std::fs::write(&cfg, "[inputs]\ntouches = [\"a.csv\", \"b.csv\"]\n").unwrap();
    let c = cfg.to_string_lossy().to_string();
    let mut args = base.to_vec();
    args.extend(["--config", c.as_str()]);
    let got = run(&args);
    assert!(got.status.success(), "{}", show(&args, &got));
    assert_eq!(got.stdout, want.stdout);
}

/// Commands that do not read touches never open them: a missing touches
/// file is no error for kpis, funnel, cycle, misalignment (and the output
/// is the same bytes as without it), but is one for attribution.
#[test]
fn attribution_other_commands_never_load_touches() {
    for cmd in ["kpis", "funnel", "cycle", "misalignment"] {
        let plain = [
            cmd,
            "fixtures/attribution",
            "--as-of",
            "2024-07-01",
            "--format",
            "csv",
        ];
        let mut with = plain.to_vec();
        with.extend(["--touches", "no/such/touches.csv"]);
        let a = run(&plain);
        let b = run(&with);
        assert!(b.status.success(), "{}", show(&with, &b));
        assert_eq!(a.stdout, b.stdout, "{cmd}");
    }
    let args = [
        "attribution",
        "fixtures/attribution",
        "--touches",
        "no/such/touches.csv",
    ];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert_eq!(
        stderr(&o).trim_end().lines().count(),
        1,
        "{}",
        show(&args, &o)
    );
}

/// `revcycle ARGS` with the engine's chunk size set (leads per chunk).
fn run_chunked(args: &[&str], chunk: &str) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_revcycle"));
    cmd.args(args)
        .current_dir(crate::util::root())
        .env("REVCYCLE_ATTRIB_CHUNK", chunk)
        .stdin(std::process::Stdio::null());
    cmd.output().expect("run revcycle")
}

/// The engine adds credits up chunk by chunk (exact sums, integer counts):
/// chunks of 1 and 3 leads give the bytes of one chunk holding every lead,
/// on the hand-worked fixture (every model, by channel and by campaign,
/// paths and removal effects in JSON).
#[test]
fn attribution_chunked_engine_same_bytes_on_fixture() {
    for extra in [
        vec!["--format", "csv"],
        vec!["--format", "json", "--paths", "50"],
        vec!["--by", "campaign", "--format", "json", "--paths", "50"],
        vec!["--credit", "mql", "--by", "campaign", "--format", "csv"],
    ] {
        let mut args: Vec<&str> = FIXTURE_ARGS.to_vec();
        args.push("2024-06-30");
        args.extend(&extra);
        let one = run_chunked(&args, "1000000");
        assert!(one.status.success(), "{}", show(&args, &one));
        assert!(one.stdout.len() > 100, "{}", show(&args, &one));
        for chunk in ["1", "3"] {
            let o = run_chunked(&args, chunk);
            assert!(o.status.success(), "{}", show(&args, &o));
            assert_eq!(
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&one.stdout),
                "chunk {chunk}: {}",
                args.join(" ")
            );
        }
    }
}

/// The same on a small generated demo (2,000 leads and their touches, with
/// several deals per lead, fallbacks and long paths).
#[test]
fn attribution_chunked_engine_same_bytes_on_demo() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let d = dir.to_str().unwrap();
    let gen = ["demo", "--out", d, "--rows", "2000", "--seed", "7", "-q"];
    let o = run(&gen);
    assert!(o.status.success(), "{}", show(&gen, &o));
    for extra in [
        vec!["--period", "quarter", "--format", "csv"],
        vec!["--format", "json", "--paths", "40"],
        vec!["--by", "campaign", "--credit", "opportunity", "--format", "csv"],
    ] {
        let mut args = vec!["attribution", d, "-q"];
        args.extend(&extra);
        let one = run_chunked(&args, "1000000");
        assert!(one.status.success(), "{}", show(&args, &one));
        let rows = one.stdout.iter().filter(|b| **b == b'\n').count();
        assert!(rows > 40, "{}", show(&args, &one));
        for chunk in ["3", "250"] {
            let o = run_chunked(&args, chunk);
            assert!(o.status.success(), "{}", show(&args, &o));
            assert!(o.stdout == one.stdout, "chunk {chunk}: {} differs", args.join(" "));
        }
    }
}

/// A chunk size that is not a positive whole number is a one-line error
/// naming the setting (so the tests above do set the chunks they name).
#[test]
fn attribution_chunk_setting_is_checked() {
    let mut args: Vec<&str> = FIXTURE_ARGS.to_vec();
    args.extend(["2024-06-30", "--format", "csv"]);
    for bad in ["0", "three"] {
        let o = run_chunked(&args, bad);
        assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
        let e = stderr(&o);
        assert!(
            e.contains("REVCYCLE_ATTRIB_CHUNK") && e.contains(&format!("`{bad}`")),
            "{e}"
        );
        assert_eq!(e.trim().lines().count(), 1, "{e}");
        assert!(o.stdout.is_empty());
    }
}
