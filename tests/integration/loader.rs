//! The CSV loader's edge cases that the fast path must keep: a non-ASCII
//! first cell in a campaigns export (the footer check), and a non-UTF-8 value
//! past the parser thread's first batch (the line and column it names).
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
    let df = &loaded.dataset.table(TableKind::Campaigns).expect("campaigns").frame;
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
