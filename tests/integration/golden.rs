//! The refactor safety net: every analysis command (kpis, funnel, cycle,
//! misalignment, plan, validate), in CSV and JSON (and `check` and
//! `validate`'s pages in every format), by month and by quarter,
//! with and without `--by channel`, on every fixture folder that has an
//! EXPECTED.md and on the built-in demo, compared byte for byte with the
//! committed outputs in tests/integration/golden/ (exit code, standard output
//! and standard error of each run). `REVCYCLE_BLESS=1` rewrites them; bless
//! only on code whose numbers are known good, and review the diff.
//!
//! The 1M-lead demo is compared the same way, by SHA-256 of each output, in
//! an ignored (slow) test. `REVCYCLE_GOLDEN_BIN=PATH` runs another build of
//! revcycle instead of this one (to bless on a copy of known-good code).

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::util::{root, run, run_in, show};

const ANALYSES: [&str; 5] = ["kpis", "funnel", "cycle", "misalignment", "plan"];

/// Every argument list for one command on one source (`--demo` or a folder).
fn variants(command: &str, source: &str) -> Vec<Vec<String>> {
    let mut base: Vec<String> = vec![command.into()];
    if source == "--demo" {
        base.push("--demo".into());
    } else {
        base.push(source.into());
    }
    if command == "plan" && source != "--demo" {
        let targets = format!("{source}/targets.csv");
        if root().join(&targets).is_file() {
            base.extend(["--targets".into(), targets]);
        } else {
            base.extend([
                "--bookings".into(),
                "500000".into(),
                "--mqls".into(),
                "50".into(),
            ]);
        }
    }
    let mut out = Vec::new();
    for format in ["csv", "json"] {
        if command == "validate" {
            let mut a = base.clone();
            a.extend(["--format".into(), format.into()]);
            out.push(a);
            continue;
        }
        for period in ["month", "quarter"] {
            for by in [false, true] {
                let mut a = base.clone();
                a.extend(["--period".into(), period.into()]);
                if by {
                    a.extend(["--by".into(), "channel".into()]);
                }
                a.extend(["--format".into(), format.into()]);
                out.push(a);
            }
        }
    }
    out
}

/// Run revcycle (or `REVCYCLE_GOLDEN_BIN`, another build of it, e.g. a copy
/// of known-good code to bless on) in `dir`, the crate root when None.
fn exec(a: &[&str], dir: Option<&Path>) -> std::process::Output {
    match (dir, std::env::var_os("REVCYCLE_GOLDEN_BIN")) {
        (d, Some(bin)) => std::process::Command::new(bin)
            .args(a)
            .current_dir(d.map(Path::to_path_buf).unwrap_or_else(root))
            .env_remove("NO_COLOR")
            .stdin(std::process::Stdio::null())
            .output()
            .expect("run revcycle"),
        (Some(d), None) => run_in(Some(d), a),
        (None, None) => run(a),
    }
}

/// One run, as bytes: the command line, exit code, stdout, stderr.
fn record(args: &[String], dir: Option<&Path>) -> Vec<u8> {
    let a: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = exec(&a, dir);
    let mut b = format!(
        "=== revcycle {}\nexit: {:?}\n--- stdout\n",
        a.join(" "),
        o.status.code()
    )
    .into_bytes();
    b.extend_from_slice(&o.stdout);
    b.extend_from_slice(b"\n--- stderr\n");
    b.extend_from_slice(&o.stderr);
    b.extend_from_slice(b"\n");
    b
}

fn compare(name: &str, got: &[u8]) {
    let path = root().join("tests/integration/golden").join(name);
    if std::env::var_os("REVCYCLE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, got).unwrap();
        return;
    }
    let want = std::fs::read(&path).unwrap_or_else(|_| {
        panic!(
            "no golden file {}: run with REVCYCLE_BLESS=1 on known-good code",
            path.display()
        )
    });
    if want != got {
        let w = String::from_utf8_lossy(&want);
        let g = String::from_utf8_lossy(got);
        let (line, (wl, gl)) = w
            .lines()
            .zip(g.lines())
            .enumerate()
            .find(|(_, (a, b))| a != b)
            .unwrap_or((w.lines().count().min(g.lines().count()), ("<end>", "<end>")));
        panic!(
            "golden file {} differs at line {}:\n--- want\n{wl}\n--- got\n{gl}",
            path.display(),
            line + 1
        );
    }
}

/// Every command on one source; one golden file per command.
fn golden(source: &str, tag: &str) {
    let mut commands: Vec<&str> = ANALYSES.to_vec();
    commands.push("validate");
    for command in commands {
        let mut all = Vec::new();
        for args in variants(command, source) {
            all.extend(record(&args, None));
        }
        compare(&format!("{tag}.{command}.txt"), &all);
    }
}

#[test]
fn golden_variants_cover_the_matrix() {
    // 2 formats x 2 periods x 2 splits; validate has only the formats.
    assert_eq!(variants("kpis", "fixtures/basic").len(), 8);
    assert_eq!(variants("validate", "--demo").len(), 2);
    let plan = variants("plan", "fixtures/plan");
    assert!(plan[0].contains(&"fixtures/plan/targets.csv".to_string()));
    // A fixture without targets gets command-line targets, so plan computes.
    let o = run(&variants("plan", "fixtures/basic")[0]
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>());
    assert!(o.status.success(), "{}", show(&["plan"], &o));
}

macro_rules! golden_fixture {
    ($name:ident, $dir:literal) => {
        #[test]
        fn $name() {
            golden(concat!("fixtures/", $dir), $dir);
        }
    };
}

golden_fixture!(golden_attribution, "attribution");
golden_fixture!(golden_basic, "basic");
golden_fixture!(golden_cycle, "cycle");
golden_fixture!(golden_misalignment, "misalignment");
golden_fixture!(golden_misalignment_nocontact, "misalignment-nocontact");
golden_fixture!(golden_plan, "plan");
golden_fixture!(golden_presets, "presets");
golden_fixture!(golden_trust, "trust");
golden_fixture!(golden_trust_output, "trust-output");

/// `check` in every format on a rules file that passes, fails and cannot
/// evaluate (fixtures/basic) and on the example rules (demo): the table, CSV,
/// JSON, NDJSON and Markdown it writes through `output::emit`.
#[test]
fn golden_check() {
    let mut all = Vec::new();
    for (rules, source) in [
        ("tests/integration/golden/check.rules.toml", "fixtures/basic"),
        ("examples/rules.toml", "--demo"),
    ] {
        for format in ["table", "csv", "json", "ndjson", "markdown"] {
            let args: Vec<String> = ["check", rules, source, "--format", format]
                .iter()
                .map(|s| s.to_string())
                .collect();
            all.extend(record(&args, None));
        }
    }
    compare("check.txt", &all);
}

/// `validate`'s pages for people (table and Markdown; the golden files per
/// fixture hold its CSV and JSON), with findings (fixtures/quality).
#[test]
fn golden_validate_pages() {
    let mut all = Vec::new();
    for source in ["fixtures/quality", "fixtures/basic"] {
        for format in ["table", "markdown", "ndjson"] {
            let args: Vec<String> = ["validate", source, "--format", format]
                .iter()
                .map(|s| s.to_string())
                .collect();
            all.extend(record(&args, None));
        }
    }
    compare("validate-pages.txt", &all);
}

#[test]
fn golden_demo() {
    golden("--demo", "demo");
}

/// Every fixture folder with an EXPECTED.md has a golden test above.
#[test]
fn golden_covers_every_fixture_with_expected() {
    let listed = [
        "attribution",
        "basic",
        "cycle",
        "misalignment",
        "misalignment-nocontact",
        "plan",
        "presets",
        "trust",
        "trust-output",
    ];
    for e in std::fs::read_dir(root().join("fixtures")).unwrap() {
        let e = e.unwrap();
        if e.path().join("EXPECTED.md").is_file() {
            let name = e.file_name().to_string_lossy().to_string();
            assert!(
                listed.contains(&name.as_str()),
                "fixtures/{name} has an EXPECTED.md but no golden test"
            );
        }
    }
}

/// The 1M-lead demo: SHA-256 of every output, against golden/demo-1m.sha256.
#[test]
#[ignore = "slow: 1M demo leads; run with --ignored"]
fn golden_demo_1m() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("big");
    let gen = [
        "demo",
        "--out",
        dir.to_str().unwrap(),
        "--rows",
        "1000000",
        "--seed",
        "42",
    ];
    let o = exec(&gen, None);
    assert!(o.status.success(), "{}", show(&gen, &o));
    // The outputs name the folder `big`, relative to the run's directory.
    let mut lines = String::new();
    let mut commands: Vec<&str> = ANALYSES.to_vec();
    commands.push("validate");
    for command in commands {
        // Only the bytes of the month/quarter x by matrix in CSV (JSON holds
        // the same numbers) to keep the run within minutes.
        for args in variants(command, "big") {
            if args.iter().any(|a| a == "json") {
                continue;
            }
            let bytes = record(&args, Some(tmp.path()));
            let hash = Sha256::digest(&bytes);
            let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
            lines.push_str(&format!("{hex}  {}\n", args.join(" ")));
        }
    }
    compare("demo-1m.sha256", lines.as_bytes());
}
