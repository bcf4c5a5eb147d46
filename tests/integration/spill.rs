//! The out-of-core path gives the in-memory path's bytes (issue 13): every
//! analysis command on the fixtures, run with `--spill always` (the tables
//! written to Parquet while loading and read through lazy scans) and with
//! `--spill never`, prints the same standard output, the same warnings and
//! errors, and exits the same; `report` writes the same files. Covered:
//! vendor exports with preambles and `Total:` footers, US dates and money
//! amounts, several files per table, duplicate ids and rows after `as_of`
//! (the lazy cut), an input error, the chunked parallel loader
//! (`REVCYCLE_LOAD_CHUNK=64`), and the spill folder removed after the run.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{fixture, root, show};

/// `revcycle ARGS` with `--spill MODE`, extra environment variables, and
/// `REVCYCLE_SPILL` unset (so that the flag is what is tested).
fn run_mode(mode: &str, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_revcycle"));
    cmd.arg("--spill")
        .arg(mode)
        .args(args)
        .current_dir(root())
        .env_remove("NO_COLOR")
        .env_remove("REVCYCLE_SPILL")
        .env("REVCYCLE_NOW", "2030-01-01")
        .stdin(std::process::Stdio::null());
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run revcycle")
}

/// Run `args` both ways; assert the same exit, stdout and stderr; the
/// spilled run's output.
fn same(args: &[&str], env: &[(&str, &str)]) -> Output {
    let never = run_mode("never", args, env);
    let always = run_mode("always", args, env);
    let what = format!("{} (env {env:?})", args.join(" "));
    assert_eq!(
        never.status.code(),
        always.status.code(),
        "{what}: exit\n{}\n{}",
        show(args, &never),
        show(args, &always)
    );
    assert_eq!(
        String::from_utf8_lossy(&never.stderr),
        String::from_utf8_lossy(&always.stderr),
        "{what}: stderr"
    );
    assert!(
        never.stdout == always.stdout,
        "{what}: stdout differs\n--- never\n{}\n--- always\n{}",
        String::from_utf8_lossy(&never.stdout),
        String::from_utf8_lossy(&always.stdout)
    );
    always
}

/// The commands compared, each with machine-readable output.
const COMMANDS: &[&[&str]] = &[
    &["validate", "--format", "json"],
    &["kpis", "--format", "csv"],
    &["kpis", "--format", "csv", "--by", "channel"],
    &["funnel", "--format", "csv"],
    &["funnel", "--format", "csv", "--by", "segment"],
    &["cycle", "--format", "csv"],
    &["misalignment", "--format", "csv"],
    &["misalignment", "--format", "csv", "--by", "channel"],
    // The deals' leads read by row in memory, joined when spilled: the
    // lead's own owner and campaign as the split.
    &["misalignment", "--format", "csv", "--by", "owner"],
    &["misalignment", "--format", "csv", "--by", "campaign"],
    &["attribution", "--format", "csv"],
    &["plan", "--format", "csv"],
];

/// Every command on `inputs`, both ways; then `report` both ways.
fn all_commands(inputs: &[&str], env: &[(&str, &str)]) {
    for cmd in COMMANDS {
        let mut args: Vec<&str> = cmd.to_vec();
        args.extend_from_slice(inputs);
        same(&args, env);
    }
    same_report(inputs, env);
}

/// `report` both ways into two folders: the same files with the same
/// bytes (but `manifest.json`'s `created_at`).
fn same_report(inputs: &[&str], env: &[(&str, &str)]) {
    let tmp = tempfile::tempdir().unwrap();
    let mut outs = Vec::new();
    for mode in ["never", "always"] {
        let out = tmp.path().join(mode);
        let mut args = vec!["report", "--out", out.to_str().unwrap(), "-q"];
        args.extend_from_slice(inputs);
        let o = run_mode(mode, &args, env);
        assert!(o.status.success(), "{}", show(&args, &o));
        outs.push(out);
    }
    let files = |d: &Path| -> Vec<(String, Vec<u8>)> {
        let mut v: Vec<(String, Vec<u8>)> = std::fs::read_dir(d)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().to_string_lossy().to_string();
                let mut bytes = std::fs::read(e.path()).unwrap();
                if name == "manifest.json" {
                    let text = String::from_utf8(bytes).unwrap();
                    bytes = text
                        .lines()
                        .filter(|l| !l.contains("\"created_at\""))
                        .collect::<Vec<_>>()
                        .join("\n")
                        .into_bytes();
                }
                (name, bytes)
            })
            .collect();
        v.sort();
        v
    };
    let (a, b) = (files(&outs[0]), files(&outs[1]));
    assert!(a.len() >= 10, "report wrote {} files", a.len());
    assert_eq!(
        a.iter().map(|f| &f.0).collect::<Vec<_>>(),
        b.iter().map(|f| &f.0).collect::<Vec<_>>(),
        "{inputs:?}: report files"
    );
    for ((name, x), (_, y)) in a.iter().zip(&b) {
        assert!(x == y, "{inputs:?}: report {name} differs");
    }
}

fn f(p: &str) -> String {
    fixture(p).to_string_lossy().to_string()
}

#[test]
fn fixtures_give_the_same_bytes_spilled_and_in_memory() {
    for set in ["basic", "cycle", "misalignment", "plan", "attribution"] {
        let dir = f(set);
        all_commands(&[&dir], &[]);
    }
}

/// Duplicate ids (deduplicated lazily), rows after `as_of` (filtered
/// lazily), orphans, negative values, mixed currencies: the same findings
/// and numbers.
#[test]
fn quality_findings_and_the_as_of_cut_are_the_same_spilled() {
    let dir = f("quality");
    let o = same(&["validate", "--format", "json", &dir, "--as-of", "2024-02-01"], &[]);
    let text = String::from_utf8_lossy(&o.stdout);
    // fixtures/quality/README.md: one duplicate lead row, one lead after as_of.
    assert!(text.contains("\"duplicate_ids\""), "{text}");
    assert!(text.contains("\"after_as_of\""), "{text}");
    for cmd in [&["kpis", "--format", "csv"][..], &["funnel", "--format", "csv"]] {
        let mut args = cmd.to_vec();
        args.extend([dir.as_str(), "--as-of", "2024-02-01"]);
        same(&args, &[]);
    }
}

/// Vendor exports: Google Ads (two preamble lines, two `Total:` rows, `--`
/// nulls, `"1,234.50"`), LinkedIn (four preamble lines, US dates), Meta, three
/// campaign files added up; Salesforce leads and opportunities (US dates,
/// `$12,500.00`).
#[test]
fn vendor_exports_and_several_files_are_the_same_spilled() {
    let (g, l, m) = (
        f("presets/google_ads.csv"),
        f("presets/linkedin_ads.csv"),
        f("presets/meta_ads.csv"),
    );
    let (sl, so) = (
        f("presets/salesforce_leads.csv"),
        f("presets/salesforce_opportunities.csv"),
    );
    let inputs = [
        "--leads", &sl, "--opportunities", &so, "--campaigns", &g, "--campaigns", &l,
        "--campaigns", &m, "--as-of", "2030-01-01",
    ];
    let o = same(
        &[&["validate", "--format", "json"][..], &inputs[..]].concat(),
        &[],
    );
    // fixtures/presets/EXPECTED.md: google_ads.csv has two preamble lines and
    // two `Total:` rows, read by the spilling loader.
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let google = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["file"].as_str().unwrap().ends_with("google_ads.csv"))
        .expect("google_ads.csv in validate's files");
    assert_eq!(google["preamble_lines"], 2);
    assert_eq!(google["footer_rows"], 2);
    for cmd in COMMANDS.iter().filter(|c| c[0] != "attribution" && c[0] != "plan") {
        same(&[cmd, &inputs[..]].concat(), &[]);
    }
    same_report(&inputs, &[]);
}

/// The parallel loader cut into 64-byte chunks: each chunk spilled as a row
/// group in file order.
#[test]
fn chunked_loading_spills_the_same_rows() {
    let env = [("REVCYCLE_LOAD_CHUNK", "64")];
    for set in ["basic", "cycle", "attribution"] {
        let dir = f(set);
        all_commands(&[&dir], &env);
    }
    let (sl, so) = (
        f("presets/salesforce_leads.csv"),
        f("presets/salesforce_opportunities.csv"),
    );
    same(
        &["kpis", "--format", "csv", "--leads", &sl, "--opportunities", &so],
        &env,
    );
}

/// An input error: the same one line both ways, exit 2, no report folder,
/// and the spill folder is gone.
#[test]
fn an_input_error_is_the_same_line_spilled_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let spill = tmp.path().join("spill");
    std::fs::create_dir(&spill).unwrap();
    let bad = f("bad/bad_date.csv");
    for env in [&[][..], &[("REVCYCLE_LOAD_CHUNK", "64")][..]] {
        let o = same(
            &["kpis", "--leads", &bad, "--temp-dir", spill.to_str().unwrap()],
            env,
        );
        assert_eq!(o.status.code(), Some(2));
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains("bad_date.csv"), "{err}");
        let out = tmp.path().join("report");
        let o = run_mode(
            "always",
            &["report", "--leads", &bad, "--out", out.to_str().unwrap(), "--temp-dir", spill.to_str().unwrap()],
            env,
        );
        assert_eq!(o.status.code(), Some(2));
        assert!(!out.exists(), "no report folder after an error");
        assert_eq!(
            std::fs::read_dir(&spill).unwrap().count(),
            0,
            "the spill folder is removed after an error"
        );
    }
}

/// `--spill always` does spill (a temp folder that cannot be made is an
/// error; `never` does not need one), the folder is removed after a run, and
/// `REVCYCLE_SPILL` is read (a bad value is a one-line error; the flag wins).
#[test]
fn spill_mode_flag_env_and_temp_dir() {
    let basic = f("basic");
    let missing: PathBuf = root().join("no-such-folder-for-spill");
    let m = missing.to_str().unwrap();
    let o = run_mode("always", &["kpis", &basic, "--temp-dir", m], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&["kpis"], &o));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("creating a folder for spilled tables in") && err.contains("no-such-folder-for-spill"),
        "{err}"
    );
    let o = run_mode("never", &["kpis", &basic, "--temp-dir", m], &[]);
    assert!(o.status.success(), "{}", show(&["kpis"], &o));

    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path().to_str().unwrap();
    let o = run_mode("always", &["report", &basic, "--out", &format!("{t}/r"), "--temp-dir", t, "-q"], &[]);
    assert!(o.status.success(), "{}", show(&["report"], &o));
    let left: Vec<_> = std::fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(left, ["r"], "only the report is left");

    let env = |v: &str| {
        Command::new(env!("CARGO_BIN_EXE_revcycle"))
            .args(["kpis", &basic, "--temp-dir", m])
            .env("REVCYCLE_SPILL", v)
            .output()
            .unwrap()
    };
    let o = env("sometimes");
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        String::from_utf8_lossy(&o.stderr).trim(),
        "revcycle: environment variable REVCYCLE_SPILL: `sometimes` is not one of auto, always, never"
    );
    // `always` from the environment needs the (missing) folder...
    assert_eq!(env("always").status.code(), Some(2));
    assert!(env("never").status.success());
    // ...and the flag wins over it.
    let o = Command::new(env!("CARGO_BIN_EXE_revcycle"))
        .args(["--spill", "never", "kpis", &basic, "--temp-dir", m])
        .env("REVCYCLE_SPILL", "always")
        .output()
        .unwrap();
    assert!(o.status.success());
}

/// Ctrl-C (SIGINT) in the middle of a spilled run removes the spill folder
/// and ends the run with the shell's status for it, 130. `revcycle demo`
/// writes 20000 leads; `report --spill always` gets the signal once a file
/// is in its spill folder (loading or computing).
#[cfg(unix)]
#[test]
fn interrupt_removes_the_spill_folder() {
    let t = tempfile::tempdir().unwrap();
    let (data, spill, out) = (t.path().join("data"), t.path().join("spill"), t.path().join("out"));
    std::fs::create_dir(&spill).unwrap();
    let bin = env!("CARGO_BIN_EXE_revcycle");
    let demo = Command::new(bin)
        .args(["demo", "--rows", "20000", "-q", "--out"])
        .arg(&data)
        .output()
        .unwrap();
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    let mut child = Command::new(bin)
        .args(["--spill", "always", "report", "-q", "--period", "month"])
        .arg(&data)
        .arg("--out")
        .arg(&out)
        .arg("--temp-dir")
        .arg(&spill)
        .env_remove("REVCYCLE_SPILL")
        .stdin(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first Parquet file in the run's folder (spill/revcycle-spill-*/).
    let has_file = || {
        std::fs::read_dir(&spill).unwrap().flatten().any(|d| {
            std::fs::read_dir(d.path()).is_ok_and(|mut f| f.next().is_some())
        })
    };
    let start = std::time::Instant::now();
    while !has_file() {
        assert!(
            child.try_wait().unwrap().is_none(),
            "the run ended before its spill folder had a file: use more demo rows"
        );
        assert!(start.elapsed().as_secs() < 120, "no spill file after 120 s");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let kill = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "ended by {status:?}");
    let left: Vec<_> = std::fs::read_dir(&spill).unwrap().flatten().map(|d| d.path()).collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
