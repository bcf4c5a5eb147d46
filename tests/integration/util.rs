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

/// Run `revcycle ARGS` from the crate root (exit 0 required) and assert that
/// its standard output holds each of `wants`.
#[track_caller]
pub fn assert_stdout_has(args: &[&str], wants: &[&str]) {
    let o = run(args);
    assert!(o.status.success(), "{}", show(args, &o));
    let out = String::from_utf8_lossy(&o.stdout);
    for want in wants {
        assert!(out.contains(want), "{want:?} in\n{}", show(args, &o));
    }
}

/// A CSV text as its header and rows of text cells (empty = null).
pub fn csv_table(text: &str) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(text.as_bytes());
    let header = r
        .headers()
        .unwrap_or_else(|e| panic!("no CSV header ({e}) in\n{text}"))
        .iter()
        .map(str::to_string)
        .collect();
    let rows = r
        .records()
        .map(|rec| {
            rec.unwrap_or_else(|e| panic!("bad CSV record ({e}) in\n{text}"))
                .iter()
                .map(str::to_string)
                .collect()
        })
        .collect();
    (header, rows)
}

/// A CSV text as (column, cells), empty cells as `-` (the null of
/// EXPECTED.md blocks).
pub fn csv_columns(text: &str) -> Vec<(String, Vec<String>)> {
    let (header, rows) = csv_table(text);
    header
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let cells = rows
                .iter()
                .map(|r| match r.get(i).map(String::as_str) {
                    None | Some("") => "-".to_string(),
                    Some(v) => v.to_string(),
                })
                .collect();
            (h.clone(), cells)
        })
        .collect()
}

/// One run of the binary that exited 0 with CSV on standard output: its
/// rows (header -> cell), and the run for assertion messages.
pub struct CsvRun {
    pub args: Vec<String>,
    pub output: Output,
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// Run `revcycle ARGS` from the crate root, require exit 0 and read its
/// standard output as CSV.
pub fn run_csv(args: &[&str]) -> CsvRun {
    let output = run(args);
    assert!(output.status.success(), "{}", show(args, &output));
    let (header, rows) = csv_table(&String::from_utf8_lossy(&output.stdout));
    CsvRun {
        args: args.iter().map(|a| a.to_string()).collect(),
        output,
        header,
        rows,
    }
}

impl CsvRun {
    /// The run, for assertion messages.
    pub fn show(&self) -> String {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        show(&args, &self.output)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).to_string()
    }

    pub fn stderr(&self) -> String {
        stderr(&self.output)
    }

    /// Whether some row's `key` column is `value`.
    pub fn has_row(&self, key: &str, value: &str) -> bool {
        let k = self.index(key);
        self.rows.iter().any(|r| r[k] == value)
    }

    /// The text in `column` of the row whose `key` column is `value`.
    #[track_caller]
    pub fn text(&self, key: &str, value: &str, column: &str) -> &str {
        let (k, c) = (self.index(key), self.index(column));
        let row = self
            .rows
            .iter()
            .find(|r| r[k] == value)
            .unwrap_or_else(|| panic!("no row with {key} = {value}\n{}", self.show()));
        &row[c]
    }

    /// The number in `column` of the row whose `key` column is `value`.
    #[track_caller]
    pub fn num(&self, key: &str, value: &str, column: &str) -> f64 {
        let t = self.text(key, value, column);
        t.parse()
            .unwrap_or_else(|_| panic!("{column} = {t:?} is not a number\n{}", self.show()))
    }

    /// Assert that `column` of the row whose `key` is `value` is `want`.
    #[track_caller]
    pub fn assert_num(&self, key: &str, value: &str, column: &str, want: f64) {
        let got = self.num(key, value, column);
        assert_eq!(got, want, "{column} where {key} = {value}\n{}", self.show());
    }

    #[track_caller]
    fn index(&self, name: &str) -> usize {
        self.header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name}\n{}", self.show()))
    }
}

/// Compare a CSV output with block `block` of `fixtures/<fixture>/EXPECTED.md`:
/// each column the block names (in the block's order; the output may have
/// more) cell by cell, numbers within 1e-9 relative, `-` for null.
#[track_caller]
pub fn assert_csv_block(fixture_name: &str, block: &str, csv: &str) {
    compare_block(fixture_name, block, csv, false)
}

/// [`assert_csv_block`] for the rows the block names: its first column is a
/// key, and the output rows with those keys (in the block's order) are
/// compared; the output may have more rows. A key with `_` that no row has
/// stands for the key with spaces (`Paid_Search`: `Paid Search`).
#[track_caller]
pub fn assert_csv_rows(fixture_name: &str, block: &str, csv: &str) {
    compare_block(fixture_name, block, csv, true)
}

#[track_caller]
fn compare_block(fixture_name: &str, block: &str, csv: &str, keyed: bool) {
    let md = std::fs::read_to_string(fixture(fixture_name).join("EXPECTED.md"))
        .unwrap_or_else(|e| panic!("reading fixtures/{fixture_name}/EXPECTED.md: {e}"));
    let want = crate::expected::block(&md, block);
    let all = csv_columns(csv);
    let column = |name: &str| -> &Vec<String> {
        all.iter()
            .find(|(n, _)| n == name)
            .map(|(_, cells)| cells)
            .unwrap_or_else(|| panic!("{block}: no column {name} in the output\n{csv}"))
    };
    // The output rows compared: all, or those whose key the block lists.
    let rows: Vec<usize> = if keyed {
        let (key, keys) = &want[0];
        let cells = column(key);
        keys.iter()
            .map(|k| {
                let spaced = k.replace('_', " ");
                cells
                    .iter()
                    .position(|c| c == k)
                    .or_else(|| cells.iter().position(|c| *c == spaced))
                    .unwrap_or_else(|| panic!("{block}: no row with {key} = {k}\n{csv}"))
            })
            .collect()
    } else {
        (0..all.first().map_or(0, |c| c.1.len())).collect()
    };
    let got: Vec<(String, Vec<String>)> = want
        .iter()
        .enumerate()
        .map(|(c, (name, keys))| {
            if keyed && c == 0 {
                // The key column matched when the rows were picked.
                return (name.clone(), keys.clone());
            }
            let cells = column(name);
            (
                name.clone(),
                rows.iter().map(|&i| cells[i].clone()).collect(),
            )
        })
        .collect();
    crate::expected::assert_matches(block, &want, &got);
}
