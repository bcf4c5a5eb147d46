//! Helpers: run the built binary, load fixtures through the library, read
//! canonical columns back as text.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use polars::prelude::*;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(p: &str) -> PathBuf {
    root().join("fixtures").join(p)
}

/// Run `revcycle ARGS` in `dir` (the crate root when None) with no standard input.
pub fn run_in(dir: Option<&Path>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_revcycle"));
    cmd.args(args)
        .current_dir(dir.unwrap_or(&root()))
        .env_remove("NO_COLOR");
    cmd.stdin(std::process::Stdio::null());
    cmd.output().expect("run revcycle")
}

pub fn run(args: &[&str]) -> Output {
    run_in(None, args)
}

/// Describe a run for assertion messages.
pub fn show(args: &[&str], o: &Output) -> String {
    format!(
        "revcycle {}\nexit: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        args.join(" "),
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

/// A column of a frame as text: timestamps `YYYY-MM-DD HH:MM:SS`, numbers
/// with `{}`, null as "".
pub fn texts(df: &DataFrame, name: &str) -> Vec<String> {
    let c = df
        .column(name)
        .unwrap_or_else(|_| panic!("no column {name}"));
    let s = c.as_materialized_series();
    match s.dtype() {
        DataType::Datetime(_, _) => {
            let phys = s.to_physical_repr();
            let ca = phys.i64().unwrap();
            (0..ca.len())
                .map(|i| match ca.get(i) {
                    None => String::new(),
                    Some(us) => chrono::DateTime::from_timestamp_micros(us)
                        .unwrap()
                        .naive_utc()
                        .format("%Y-%m-%d %H:%M:%S")
                        .to_string(),
                })
                .collect()
        }
        DataType::Float64 => {
            let ca = s.f64().unwrap();
            (0..ca.len())
                .map(|i| ca.get(i).map(|v| format!("{v}")).unwrap_or_default())
                .collect()
        }
        _ => {
            let s = s.cast(&DataType::String).unwrap();
            let ca = s.str().unwrap();
            (0..ca.len())
                .map(|i| ca.get(i).unwrap_or("").to_string())
                .collect()
        }
    }
}

/// Run with a fixed terminal width (the table layout reads `COLUMNS`).
pub fn run_width(args: &[&str], columns: u16) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_revcycle"));
    cmd.args(args)
        .current_dir(root())
        .env("COLUMNS", columns.to_string())
        .env("NO_COLOR", "1");
    cmd.stdin(std::process::Stdio::null());
    cmd.output().expect("run revcycle")
}

/// Compare `text` with `tests/integration/snapshots/NAME.txt`. With
/// `REVCYCLE_BLESS=1` the file is (re)written instead; a missing file fails.
pub fn assert_snapshot(name: &str, text: &str) {
    let path = root()
        .join("tests/integration/snapshots")
        .join(format!("{name}.txt"));
    if std::env::var_os("REVCYCLE_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|_| {
        panic!(
            "no snapshot {}: run with REVCYCLE_BLESS=1 and review it",
            path.display()
        )
    });
    if want != text {
        panic!(
            "snapshot {} differs (REVCYCLE_BLESS=1 rewrites it after review)\n--- want\n{want}\n--- got\n{text}",
            path.display()
        );
    }
}

/// Run `revcycle ARGS` from the crate root and return (stdout, stderr);
/// panics with the command, exit code, stdout and stderr unless it exits 0.
pub fn run_ok_both(args: &[&str]) -> (String, String) {
    let o = run(args);
    assert!(o.status.success(), "{}", show(args, &o));
    (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    )
}

/// [`run_ok_both`]'s standard output.
pub fn run_ok(args: &[&str]) -> String {
    run_ok_both(args).0
}
