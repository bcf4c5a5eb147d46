//! `revcycle init`: a commented revcycle.toml, pre-filled from input files,
//! that loads back to the same mapping.

use crate::util::{fixture, run_in, show};

#[test]
fn prefilled_config_loads_back() {
    let dir = tempfile::tempdir().unwrap();
    let leads = fixture("presets/salesforce_leads.csv")
        .to_string_lossy()
        .to_string();
    let opps = fixture("presets/hubspot_deals.csv")
        .to_string_lossy()
        .to_string();
    let args = ["init", "--leads", &leads, "--opportunities", &opps];
    let o = run_in(Some(dir.path()), &args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let text = std::fs::read_to_string(dir.path().join("revcycle.toml")).unwrap();
    for line in [
        "preset = \"salesforce\"",
        "created_at = \"Create Date\"",
        "preset = \"hubspot\"",
        "lead_id = \"Associated Contact IDs\"",
        "# sal_at = \"\"   # not found",
        "# status: derived from stage",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    // Run with no flags: the [inputs] paths resolve relative to the file.
    let o = run_in(Some(dir.path()), &["validate"]);
    assert!(o.status.success(), "{}", show(&["validate"], &o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("preset salesforce (configured)"), "{out}");
    assert!(
        out.contains("created_at        <- \"Create Date\"  (revcycle.toml)"),
        "{out}"
    );
    assert!(out.contains("rows: 3 read, 3 kept"), "{out}");
}

#[test]
fn template_without_inputs_and_no_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let o = run_in(Some(dir.path()), &["init"]);
    assert!(o.status.success(), "{}", show(&["init"], &o));
    let text = std::fs::read_to_string(dir.path().join("revcycle.toml")).unwrap();
    assert!(
        text.contains("# sla_days = 7") && text.contains("[misalignment]"),
        "{text}"
    );
    let o = run_in(Some(dir.path()), &["init"]);
    assert_eq!(o.status.code(), Some(2), "{}", show(&["init"], &o));
    assert!(String::from_utf8_lossy(&o.stderr).contains("exists; use --force"));
    let o = run_in(Some(dir.path()), &["init", "--force"]);
    assert!(o.status.success());
}
