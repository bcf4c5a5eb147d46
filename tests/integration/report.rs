//! `revcycle report --out DIR` on the demo data: the folder's contents, the
//! `summary.md` snapshot (tests/integration/expected/report_summary_demo.md;
//! `REVCYCLE_BLESS=1` rewrites it), the manifest, the atomic write (a run that
//! fails after the first file leaves no DIR and no temporary folder),
//! `--force`, `-q` and strftime patterns.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::util::{root, run, show};

const FILES: [&str; 11] = [
    "alignment.csv",
    "attribution.csv",
    "cycle.csv",
    "data_quality.csv",
    "funnel.csv",
    "funnel_vs_cycle.csv",
    "kpis.csv",
    "manifest.json",
    "misalignment.csv",
    "report.html",
    "summary.md",
];

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Same header and cells; numbers equal within 1e-9 relative.
fn same_csv(a: &str, b: &str, what: &str) {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(la.len(), lb.len(), "{what}: row count");
    assert_eq!(la[0], lb[0], "{what}: header");
    for (i, (ra, rb)) in la.iter().zip(&lb).enumerate() {
        let (ca, cb): (Vec<&str>, Vec<&str>) = (ra.split(',').collect(), rb.split(',').collect());
        assert_eq!(ca.len(), cb.len(), "{what} line {}", i + 1);
        for (x, y) in ca.iter().zip(&cb) {
            let close = match (x.parse::<f64>(), y.parse::<f64>()) {
                (Ok(p), Ok(q)) => (p - q).abs() <= 1e-9 * p.abs().max(1.0),
                _ => x == y,
            };
            assert!(close, "{what} line {}: {x} vs {y}", i + 1);
        }
    }
}

fn report(out: &Path, extra: &[&str]) -> (Vec<String>, std::process::Output) {
    let mut args = vec![
        "report".to_string(),
        "--demo".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    (args.clone(), run(&refs))
}

fn args_ref(a: &[String]) -> Vec<&str> {
    a.iter().map(String::as_str).collect()
}

#[test]
fn demo_report_folder_summary_and_manifest() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("weekly-report");
    let (args, o) = report(&out, &[]);
    assert!(o.status.success(), "{}", show(&args_ref(&args), &o));
    assert_eq!(names(&out), FILES);
    assert_eq!(
        names(d.path()),
        vec!["weekly-report"],
        "no temporary folder left"
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains(&format!("revcycle: wrote 11 files to {}", out.display())),
        "{err}"
    );

    // summary.md against the committed snapshot.
    let summary = std::fs::read_to_string(out.join("summary.md")).unwrap();
    let expected_path = root().join("tests/integration/expected/report_summary_demo.md");
    if std::env::var("REVCYCLE_BLESS").is_ok_and(|v| v == "1") {
        std::fs::write(&expected_path, &summary).unwrap();
    }
    let expected =
        std::fs::read_to_string(&expected_path).expect("the snapshot (REVCYCLE_BLESS=1 writes it)");
    assert_eq!(
        summary,
        expected,
        "summary.md differs from {}",
        expected_path.display()
    );
    // The demo's as_of is 2024-12-31 22:14: December is not complete.
    assert!(
        summary.contains("latest complete month: 2024-11-01"),
        "{summary}"
    );
    assert!(
        summary.contains("| metric | 2024-11-01 | 2024-10-01 | change |"),
        "{summary}"
    );
    assert!(summary.contains("the largest component is `"), "{summary}");
    assert!(summary.contains("## Data quality"), "{summary}");

    // The CSVs are the commands' CSVs (floating-point sums may differ in the
    // last bits from run to run: polars adds in parallel).
    for (file, cmd) in [
        ("kpis.csv", "kpis"),
        ("funnel.csv", "funnel"),
        ("cycle.csv", "cycle"),
    ] {
        let o = run(&[cmd, "--demo", "--format", "csv", "-q"]);
        same_csv(
            &std::fs::read_to_string(out.join(file)).unwrap(),
            &String::from_utf8_lossy(&o.stdout),
            file,
        );
    }
    let alignment = std::fs::read_to_string(out.join("alignment.csv")).unwrap();
    assert!(alignment.starts_with(
        "alignment_score,followup_component,speed_component,acceptance_component,icp_component,channel_component\n"
    ));
    let dq = std::fs::read_to_string(out.join("data_quality.csv")).unwrap();
    assert!(
        dq.starts_with("severity,table,check,count,message,"),
        "{dq}"
    );

    // The manifest.
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["revcycle_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(m["as_of"], "2024-12-31T22:14:00Z");
    assert_eq!(m["latest_complete_period"], "2024-11-01");
    assert_eq!(m["options"]["period"], "month");
    let inputs = m["inputs"].as_array().unwrap();
    let tables: Vec<&str> = inputs
        .iter()
        .map(|i| i["table"].as_str().unwrap())
        .collect();
    assert_eq!(
        tables,
        vec!["leads", "opportunities", "campaigns", "revenue"]
    );
    for i in inputs {
        assert_eq!(i["sha256"].as_str().unwrap().len(), 64);
        assert!(i["bytes"].as_u64().unwrap() > 0);
    }
    let files = m["files"].as_array().unwrap();
    let mut listed: Vec<&str> = files.iter().map(|f| f["file"].as_str().unwrap()).collect();
    listed.push("manifest.json");
    listed.sort();
    assert_eq!(listed, FILES);
    for f in files {
        let bytes = std::fs::read(out.join(f["file"].as_str().unwrap())).unwrap();
        let sha: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(f["sha256"], sha.as_str());
        assert_eq!(f["bytes"].as_u64().unwrap(), bytes.len() as u64);
    }
}

#[test]
fn a_run_failing_after_the_first_file_leaves_nothing() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("reports").join("weekly");
    let args = ["report", "--demo", "--out", out.to_str().unwrap()];
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_revcycle"))
        .args(args)
        .current_dir(root())
        .env("REVCYCLE_TEST_FAIL_AFTER_FIRST_FILE", "1")
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("forced failure after the first file"));
    assert!(!out.exists(), "no half-written DIR");
    assert!(
        names(&d.path().join("reports")).is_empty(),
        "no temporary folder: {:?}",
        names(&d.path().join("reports"))
    );
}

#[test]
fn an_existing_folder_is_replaced_only_with_force() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("old.txt"), "keep me").unwrap();
    let (args, o) = report(&out, &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args_ref(&args), &o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("--force"));
    assert_eq!(names(&out), vec!["old.txt"], "untouched without --force");

    let (args, o) = report(&out, &["--force", "-q"]);
    assert!(o.status.success(), "{}", show(&args_ref(&args), &o));
    assert!(
        o.stderr.is_empty(),
        "-q: nothing on stderr: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert_eq!(names(&out), FILES, "replaced, not merged");
    assert_eq!(
        names(d.path()),
        vec!["r"],
        "no old or temporary folder left"
    );
}

#[test]
fn out_accepts_strftime_patterns() {
    let d = tempfile::tempdir().unwrap();
    let pattern = d.path().join("reports").join("%Y-%m");
    let (args, o) = report(&pattern, &["-q"]);
    assert!(o.status.success(), "{}", show(&args_ref(&args), &o));
    let made = names(&d.path().join("reports"));
    assert_eq!(made.len(), 1, "{made:?}");
    // The local date at run time (a month boundary between the two readings
    // is the only way this can disagree).
    let now = chrono::Local::now().format("%Y-%m").to_string();
    assert_eq!(made[0], now);
    assert_eq!(names(&d.path().join("reports").join(&made[0])), FILES);
}

/// Known answers of fixtures/basic/EXPECTED.md (as_of 2024-05-03: April is
/// the latest complete month, March the one before).
#[test]
fn summary_numbers_on_the_basic_fixture() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("r");
    let args = [
        "report",
        "fixtures/basic",
        "--as-of",
        "2024-05-03T00:00:00",
        "--out",
        out.to_str().unwrap(),
        "-q",
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let s = std::fs::read_to_string(out.join("summary.md")).unwrap();
    for line in [
        "- period: month; latest complete month: 2024-04-01",
        "| metric | 2024-04-01 | 2024-03-01 | change |",
        "| leads | 3 | 3 | 0.0% |",
        "| mqls | 3 | 2 | +50.0% |",
        "| new_bookings | 6,500 | 1,000 | +550.0% |",
        "| win_rate | 75.0% | 50.0% | +25.0 pp |",
        // 6500 / 3 and 230 / 3, rounded for people.
        "| avg_deal_size | 2,167 | 1,000 | +116.7% |",
        "| cac | 76.67 | 200 | -61.7% |",
        "No findings.",
    ] {
        assert!(s.lines().any(|l| l == line), "missing `{line}` in\n{s}");
    }
    // No revenue input: MRR metrics are left out, not shown as blanks.
    assert!(
        !s.contains("| nrr |") && !s.contains("| ending_mrr |"),
        "{s}"
    );
    let m: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(m["as_of"], "2024-05-03T00:00:00Z");
    assert_eq!(m["as_of_given"], true);
    let leads = &m["inputs"][0];
    assert_eq!(leads["file"], "fixtures/basic/leads.csv");
    let bytes = std::fs::read(root().join("fixtures/basic/leads.csv")).unwrap();
    let sha: String = Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(leads["sha256"], sha.as_str());
    assert_eq!(leads["bytes"].as_u64().unwrap(), bytes.len() as u64);
}

#[cfg(unix)]
#[test]
fn the_weekly_wrapper_writes_todays_report_and_keeps_the_last_n() {
    let d = tempfile::tempdir().unwrap();
    let reports = d.path().join("reports");
    for old in ["2020-01-01", "2020-01-02", "2020-01-03", "notes"] {
        std::fs::create_dir_all(reports.join(old)).unwrap();
    }
    let o = std::process::Command::new("sh")
        .arg(root().join("examples/weekly-report.sh"))
        .current_dir(d.path())
        .env("REVCYCLE", env!("CARGO_BIN_EXE_revcycle"))
        .env("EXPORTS", "--demo")
        .env("KEEP", "2")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", show(&["weekly-report.sh"], &o));
    assert!(
        o.stdout.is_empty() && o.stderr.is_empty(),
        "quiet under cron"
    );
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();
    let mut want = vec!["2020-01-03".to_string(), "notes".to_string(), today.clone()];
    want.sort();
    assert_eq!(
        names(&reports),
        want,
        "the newest 2 dated folders kept, other folders untouched"
    );
    assert_eq!(names(&reports.join(&today)), FILES);
}

#[test]
fn step_times_are_written_only_when_asked() {
    let d = tempfile::tempdir().unwrap();
    let run_with = |out: &str, times: bool| {
        let out = d.path().join(out);
        let args = ["report", "--demo", "-q", "--out", out.to_str().unwrap()];
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_revcycle"));
        c.args(args).current_dir(root()).env_remove("REVCYCLE_STEP_TIMES");
        if times {
            c.env("REVCYCLE_STEP_TIMES", "1");
        }
        let o = c.output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", show(&args, &o));
        String::from_utf8_lossy(&o.stderr).into_owned()
    };
    // -q silences everything else: one line per step, in order, with seconds
    // and (on Linux) the step's peak memory; between them, the peak memory
    // of the frames kept for several queries ("mark" lines).
    let err = run_with("timed", true);
    let mib = |l: &str, m: &str| {
        let m = m.strip_suffix(" MiB").unwrap_or_else(|| panic!("{l}"));
        assert!(m.parse::<u64>().is_ok_and(|m| m > 0), "{l}");
    };
    let mut marks = 0;
    let steps: Vec<&str> = err
        .lines()
        .filter_map(|l| {
            if let Some(m) = l.strip_prefix("revcycle: mark \"") {
                let (_, m) = m.split_once("\": peak ").unwrap_or_else(|| panic!("{l}"));
                mib(l, m);
                marks += 1;
                return None;
            }
            let s = l.strip_prefix("revcycle: step \"").unwrap_or_else(|| panic!("{l}"));
            let (name, rest) = s.split_once("\": ").unwrap_or_else(|| panic!("{l}"));
            let (secs, peak) = rest.split_once(" s, peak ").unwrap_or_else(|| panic!("{l}"));
            assert!(secs.parse::<f64>().is_ok_and(|s| s >= 0.0), "{l}");
            mib(l, peak);
            Some(name)
        })
        .collect();
    // The lead stages are kept once (before and after it).
    assert!(marks >= 2, "{err}");
    // Attribution first (it consumes the touches before the other tables).
    assert_eq!(steps.first(), Some(&"crediting channels (attribution)"), "{err}");
    assert_eq!(steps.get(1), Some(&"computing lead stages"), "{err}");
    assert!(steps.contains(&"computing kpis and the funnel"), "{err}");
    assert_eq!(steps.last(), Some(&"writing the report folder"), "{err}");
    assert_eq!(run_with("quiet", false), "");
}

/// Issue 13: under `--by` the report collects the lead stages and the deals'
/// values once and adds the whole range's misalignment up from the channel
/// groups it gathered for the split. Its tables are still the commands'
/// tables, and its summary and page (which read the unsplit tables) are those
/// of the report without `--by`.
#[test]
fn issue13_report_by_agrees_with_the_commands_and_the_unsplit_report() {
    let d = tempfile::tempdir().unwrap();
    let plain = d.path().join("plain");
    let (args, o) = report(&plain, &[]);
    assert!(o.status.success(), "{}", show(&args_ref(&args), &o));
    for by in ["channel", "segment"] {
        let out = d.path().join(by);
        let (args, o) = report(&out, &["--by", by]);
        assert!(o.status.success(), "{}", show(&args_ref(&args), &o));
        for (file, cmd) in [
            ("kpis.csv", "kpis"),
            ("funnel.csv", "funnel"),
            ("cycle.csv", "cycle"),
            ("misalignment.csv", "misalignment"),
        ] {
            let o = run(&[cmd, "--demo", "--by", by, "--format", "csv", "-q"]);
            assert!(o.status.success(), "{cmd} --by {by}");
            let got = std::fs::read_to_string(out.join(file)).unwrap();
            assert!(got.starts_with(&format!("period,{by},")) || file != "kpis.csv", "{got}");
            same_csv(&got, &String::from_utf8_lossy(&o.stdout), &format!("{file} --by {by}"));
        }
        for file in ["summary.md", "report.html"] {
            assert_eq!(
                std::fs::read_to_string(out.join(file)).unwrap(),
                std::fs::read_to_string(plain.join(file)).unwrap(),
                "{file} --by {by}"
            );
        }
    }
}
