//! What a person reads: the terminal tables of every analysis command on the
//! hand-checked fixtures, at a fixed width, compared with reviewed snapshots
//! (tests/integration/snapshots/*.txt). The numbers in them are the ones the
//! known-answer tests assert in CSV/JSON.

use crate::util::{assert_snapshot, run_width, show};

fn table(name: &str, args: &[&str], columns: u16) {
    let o = run_width(args, columns);
    assert!(o.status.success(), "{}", show(args, &o));
    let text = format!(
        "$ revcycle {}\n{}\n--- stderr\n{}",
        args.join(" "),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    assert_snapshot(name, &text);
}

#[test]
fn kpis_month_table() {
    table(
        "kpis_basic_month",
        &["kpis", "fixtures/basic", "--as-of", "2024-05-03T00:00:00"],
        140,
    );
}

#[test]
fn kpis_quarter_by_channel_table() {
    table(
        "kpis_basic_quarter_by_channel",
        &[
            "kpis",
            "fixtures/basic",
            "--as-of",
            "2024-05-03T00:00:00",
            "--period",
            "quarter",
            "--by",
            "channel",
        ],
        140,
    );
}

#[test]
fn kpis_table_fits_a_narrow_terminal() {
    // 70 columns: only the latest periods fit, and the table says how many were left out.
    table(
        "kpis_basic_narrow",
        &["kpis", "fixtures/basic", "--as-of", "2024-05-03T00:00:00"],
        70,
    );
}

#[test]
fn funnel_table() {
    table(
        "funnel_basic_month",
        &["funnel", "fixtures/basic", "--as-of", "2024-05-03T00:00:00"],
        120,
    );
}

#[test]
fn cycle_table() {
    table(
        "cycle_quarter",
        &[
            "cycle",
            "fixtures/cycle",
            "--as-of",
            "2024-04-15",
            "--period",
            "quarter",
        ],
        140,
    );
}

#[test]
fn misalignment_table() {
    table(
        "misalignment",
        &[
            "misalignment",
            "fixtures/misalignment",
            "--config",
            "fixtures/misalignment/revcycle.toml",
        ],
        140,
    );
}
