//! `validate` on the real public exports in ../shared/datasets with the
//! example configurations (skipped when the data sets are not beside the clone).

use crate::util::{root, run, show};

fn have_datasets() -> bool {
    root().join("../shared/datasets").is_dir()
}

fn validate(config: &str, expect: &[&str]) {
    if !have_datasets() {
        eprintln!("skipped: ../shared/datasets not found");
        return;
    }
    let args = ["validate", "--config", config];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let out = String::from_utf8_lossy(&o.stdout);
    for e in expect {
        assert!(out.contains(e), "expected {e:?} in\n{}", show(&args, &o));
    }
}

#[test]
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
