//! The output contract through the binary: a closed pipe exits 0 quietly,
//! `-o FILE` writes the whole file and leaves no temporary file behind, CSV and
//! JSON carry the spec's ids.

use std::io::Read;
use std::process::{Command, Stdio};

use crate::util::{root, run, show};

#[test]
fn closed_pipe_exits_zero_quietly() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_revcycle"))
        .args([
            "funnel", "--demo", "--period", "week", "--format", "csv", "-q",
        ])
        .current_dir(root())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = child.stdout.take().unwrap();
    let mut first = [0u8; 16];
    out.read_exact(&mut first).unwrap();
    drop(out); // like `| head -c 16`
    let status = child.wait().unwrap();
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    assert_eq!(status.code(), Some(0), "stderr: {err}");
    assert!(err.is_empty(), "stderr: {err}");
    assert_eq!(&first[..7], b"cohort,");
}

#[test]
fn output_file_is_written_whole_with_no_temporary_left() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kpis.csv");
    let ps = path.to_string_lossy().to_string();
    let args = [
        "kpis",
        "fixtures/basic",
        "--as-of",
        "2024-05-03T00:00:00",
        "--format",
        "csv",
        "-o",
        &ps,
    ];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    assert!(o.stdout.is_empty());
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.starts_with("period,cohort_age_days,leads,mqls,"),
        "{text}"
    );
    // header + 4 months (Feb-May 2024)
    assert_eq!(text.lines().count(), 5, "{text}");
    let names: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn failed_run_leaves_no_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kpis.csv");
    let ps = path.to_string_lossy().to_string();
    let args = [
        "kpis",
        "--leads",
        "fixtures/bad/bad_date.csv",
        "--format",
        "csv",
        "-o",
        &ps,
    ];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn same_input_same_bytes() {
    // MRR sums used to depend on the order polars' parallel grouping added
    // rows in (last-digit differences between runs); money is now summed in
    // integer millionths.
    for cmd in ["kpis", "cycle", "misalignment"] {
        let args = [cmd, "--demo", "--format", "csv", "-q"];
        let runs: Vec<Vec<u8>> = (0..3).map(|_| run(&args).stdout).collect();
        assert!(!runs[0].is_empty());
        assert!(
            runs.iter().all(|r| r == &runs[0]),
            "{cmd}: outputs differ between runs"
        );
    }
}

/// The kpis table's `trend` column (issue 14): fixtures/basic by month at
/// as_of 2024-05-03 has leads 4, 3, 3, 0 (fixtures/basic/EXPECTED.md); on a
/// scale from 0 to 4 those are eighths 7, 5.25, 5.25, 0 -> `█▆▆▁`. Text, so
/// it is there under NO_COLOR and in a pipe; CSV and JSON leave it out.
#[test]
fn kpis_trend_sparkline_is_text_and_only_in_tables() {
    let args = ["kpis", "fixtures/basic", "--as-of", "2024-05-03T00:00:00"];
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_revcycle"))
        .args(args)
        .current_dir(crate::util::root())
        .env("NO_COLOR", "1")
        .env_remove("COLUMNS")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    let leads = text.lines().find(|l| l.contains(" leads ")).unwrap_or_else(|| panic!("{text}"));
    assert!(leads.contains("█▆▆▁"), "{leads}");
    assert!(text.contains("trend"), "{text}");
    for format in ["csv", "json"] {
        let o = crate::util::run(&[&args[..], &["--format", format]].concat());
        assert!(o.status.success());
        let out = String::from_utf8_lossy(&o.stdout);
        assert!(!out.contains("trend") && !out.contains('█'), "{format}: {out}");
    }
}
