//! The CSV loader's edge cases that the fast path must keep: a non-ASCII
//! first cell in a campaigns export (the footer check), and a non-UTF-8 value
//! past the parser thread's first batch (the line and column it names);
//! files cut into chunks for parallel workers give the bytes of files read
//! in one piece, errors included.
//! Every expected value is derived in fixtures/loader/README.md (not an
//! EXPECTED.md: the folder is no analysis fixture for the golden test).

use revcycle::config::Config;
use revcycle::input::{self, InputSpec};
use revcycle::model::TableKind;

use crate::util::{fixture, run, show, stderr, texts};

#[test]
fn non_ascii_first_cell_is_neither_a_panic_nor_a_footer() {
    let spec = InputSpec {
        campaigns: vec![fixture("loader/campaigns_umlaut.csv")],
        any_table: true,
        ..Default::default()
    };
    let loaded = input::load(&spec, &Config::default(), Some("2030-01-01"), true).expect("loads");
    let f = &loaded.files[0];
    assert_eq!(f.rows_read, 2);
    assert_eq!(f.footer_rows, 1);
    assert_eq!(f.rows_kept, 2);
    let df = &loaded.dataset.table(TableKind::Campaigns).expect("campaigns").collect().unwrap();
    assert_eq!(texts(df, "spend"), ["10", "5.5"]);
    assert_eq!(texts(df, "campaign_name"), ["ÄÄÄ Sale", "Sale"]);
}

#[test]
fn non_utf8_value_past_the_first_batch_names_its_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    let mut bytes = b"lead_id,created_at,channel\n".to_vec();
    for i in 1..=5000u32 {
        // Line of row i is i + 1 (the header is line 1).
        if i + 1 == 4999 {
            bytes.extend_from_slice(format!("L{i},2024-01-31,Caf").as_bytes());
            bytes.extend_from_slice(b"\xe9\n");
        } else {
            bytes.extend_from_slice(format!("L{i},2024-01-31,Web\n").as_bytes());
        }
    }
    std::fs::write(&path, &bytes).unwrap();
    let p = path.to_string_lossy().to_string();
    let args = ["validate", "--leads", p.as_str()];
    let o = run(&args);
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
    assert_eq!(err.lines().count(), 1, "{}", show(&args, &o));
    assert!(
        err.contains("line 4999, column `channel`: value is not UTF-8 text"),
        "{}",
        show(&args, &o)
    );
}

/// `revcycle ARGS` with the loader's chunk size set (bytes): every plain
/// CSV file is then cut into parts read by parallel workers.
fn run_chunked(args: &[&str], chunk: Option<&str>) -> std::process::Output {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_revcycle"));
    cmd.args(args)
        .current_dir(crate::util::root())
        .stdin(std::process::Stdio::null());
    match chunk {
        Some(c) => cmd.env("REVCYCLE_LOAD_CHUNK", c),
        None => cmd.env_remove("REVCYCLE_LOAD_CHUNK"),
    };
    cmd.output().expect("run revcycle")
}

/// Files read in chunks of 1, 64 and 1000 bytes give the bytes of files read
/// in one piece: `validate`'s JSON (row counts, failures and dropped rows
/// with their lines, date orders, value maps, findings), the analyses and
/// attribution (touches coded per chunk, dictionaries joined).
#[test]
fn files_read_in_chunks_give_the_same_bytes() {
    let cases: [&[&str]; 5] = [
        &["validate", "fixtures/quality", "--format", "json"],
        &["validate", "fixtures/attribution", "--format", "json"],
        &["kpis", "fixtures/basic", "--format", "csv", "--by", "channel"],
        &["cycle", "fixtures/cycle", "--format", "csv"],
        &["attribution", "fixtures/attribution", "--format", "json", "--paths", "50"],
    ];
    for args in cases {
        let want = run_chunked(args, None);
        assert!(want.status.success() || want.status.code() == Some(1), "{}", show(args, &want));
        assert!(!want.stdout.is_empty());
        for chunk in ["1", "64", "1000"] {
            let got = run_chunked(args, Some(chunk));
            assert_eq!(got.status.code(), want.status.code(), "chunk {chunk}: {}", show(args, &got));
            assert_eq!(
                String::from_utf8_lossy(&got.stdout),
                String::from_utf8_lossy(&want.stdout),
                "chunk {chunk}: {args:?}"
            );
        }
    }
}

/// An error in a file read in chunks is the error of the file read in one
/// piece: the first bad line in file order (here the last chunks hold a
/// later bad value too).
#[test]
fn an_error_in_a_chunked_file_names_the_first_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("leads.csv");
    let mut text = String::from("lead_id,created_at,channel\n");
    for i in 1..=300u32 {
        // Line of row i is i + 1 (the header is line 1).
        let created = if i + 1 == 120 || i + 1 == 280 { "soon" } else { "2024-01-31" };
        text.push_str(&format!("L{i},{created},Web\n"));
    }
    std::fs::write(&path, text).unwrap();
    let p = path.to_string_lossy().to_string();
    let args = ["validate", "--leads", p.as_str()];
    for chunk in [None, Some("50"), Some("997")] {
        let o = run_chunked(&args, chunk);
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
        assert_eq!(err.lines().count(), 1, "{}", show(&args, &o));
        assert!(err.contains("line 120, column `created_at`"), "{chunk:?}: {}", show(&args, &o));
    }
}

/// A named pipe (`--leads <(zcat leads.csv.gz)`) is never cut into chunks
/// (it cannot be read twice or from an offset), even with a chunk size set.
#[cfg(unix)]
#[test]
fn a_pipe_is_read_in_one_piece() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("leads.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer = {
        let fifo = fifo.clone();
        std::thread::spawn(move || {
            let mut text = String::from("lead_id,created_at,channel\n");
            for i in 1..=5000u32 {
                text.push_str(&format!("L{i},2024-01-31,Web\n"));
            }
            std::fs::write(&fifo, text).unwrap();
        })
    };
    let p = fifo.to_string_lossy().to_string();
    let args = ["validate", "--leads", p.as_str(), "--format", "json"];
    let o = run_chunked(&args, Some("64"));
    writer.join().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", show(&args, &o));
    // 5000 rows (more than the 64 KB read ahead to find the header), every one kept.
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(
        out.contains("\"rows_read\": 5000,") && out.contains("\"rows_kept\": 5000,"),
        "{}",
        show(&args, &o)
    );
}
