//! `validate` on the real public exports in ../shared/datasets with the
//! example configurations. Without the folder beside the clone these tests
//! are compiled as ignored (`build.rs` sets `has_datasets`), so `cargo test`
//! shows them as `ignored` instead of passing them silently.

use crate::util::{root, run, show};

/// The folder every test here reads; its absence is a failure, not a pass
/// (such tests are `#[ignore]`d at compile time when it is missing).
pub fn datasets() -> std::path::PathBuf {
    let d = root().join("../shared/datasets");
    assert!(d.is_dir(), "../shared/datasets not found beside the clone");
    d
}

fn validate(config: &str, expect: &[&str]) {
    datasets();
    let args = ["validate", "--config", config];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let out = String::from_utf8_lossy(&o.stdout);
    for e in expect {
        assert!(out.contains(e), "expected {e:?} in\n{}", show(&args, &o));
    }
}

#[test]
#[cfg_attr(not(has_datasets), ignore = "needs ../shared/datasets beside the clone")]
fn maven_crm_pipeline() {
    // 8,800 deals; the 500 Prospecting deals have no engage_date (created_at) and are left out.
    validate(
        "examples/maven-crm.toml",
        &[
            "rows: 8800 read, 8300 kept",
            "500 rows left out: empty required column `created_at`",
            "stage          <- \"deal_stage\"",
        ],
    );
}

#[test]
#[cfg_attr(not(has_datasets), ignore = "needs ../shared/datasets beside the clone")]
fn olist_funnel() {
    validate(
        "examples/olist-funnel.toml",
        &[
            "rows: 8000 read, 8000 kept",
            "rows: 842 read, 842 kept",
            "status         <- = \"won\"",
            "mql_at     <- \"first_contact_date\"",
        ],
    );
}

#[test]
#[cfg_attr(not(has_datasets), ignore = "needs ../shared/datasets beside the clone")]
fn marketing_semicolon_decimal_comma() {
    validate(
        "examples/digital-marketing-kpis.toml",
        &[
            "delimiter \";\"",
            "rows: 308 read, 308 kept",
            "findings: none",
        ],
    );
}
