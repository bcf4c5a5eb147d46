//! The CLI documents itself: completions and manual pages come from the clap
//! definitions, and the reference part of docs/cli.md is generated from them
//! (`revcycle man --markdown`); this test fails when it is stale. Refresh it
//! with `REVCYCLE_BLESS=1 cargo test --test integration cli_reference`.

use crate::util::{root, run, show};

const BEGIN: &str = "<!-- generated: begin -->\n";
const END: &str = "<!-- generated: end -->";

#[test]
fn cli_reference_in_docs_is_current() {
    let args = ["man", "--markdown"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let generated = String::from_utf8(o.stdout).unwrap();
    let path = root().join("docs/cli.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let start = doc.find(BEGIN).expect("docs/cli.md has the begin marker") + BEGIN.len();
    let end = doc.find(END).expect("docs/cli.md has the end marker");
    let current = &doc[start..end];
    if current != generated {
        if std::env::var_os("REVCYCLE_BLESS").is_some() {
            let fresh = format!("{}{}{}", &doc[..start], generated, &doc[end..]);
            std::fs::write(&path, fresh).unwrap();
            return;
        }
        panic!("docs/cli.md's reference is stale: run `REVCYCLE_BLESS=1 cargo test --test integration cli_reference`");
    }
    // It documents what users rely on: every command, grouped flags, defaults.
    for needle in [
        "### `revcycle kpis`",
        "### `revcycle completions`",
        "Input:\n",
        "Analysis:\n",
        "Output:\n",
        "`--format <FORMAT>`: Output format",
        "`--rows <N>`",
        "revcycle check examples/rules.toml --demo",
    ] {
        assert!(generated.contains(needle), "reference lacks {needle:?}");
    }
}

#[test]
fn completions_for_every_shell() {
    for (shell, needle) in [
        ("bash", "_revcycle()"),
        ("zsh", "#compdef revcycle"),
        ("fish", "complete -c revcycle"),
        ("powershell", "Register-ArgumentCompleter"),
        ("elvish", "edit:completion:arg-completer[revcycle]"),
    ] {
        let args = ["completions", shell];
        let o = run(&args);
        assert!(o.status.success(), "{}", show(&args, &o));
        let text = String::from_utf8_lossy(&o.stdout);
        assert!(
            text.contains(needle),
            "{shell}: no {needle:?}\n{}",
            show(&args, &o)
        );
        // Subcommands and their flags are completed.
        assert!(text.contains("misalignment"), "{shell}: no subcommands");
        assert!(text.contains("as-of"), "{shell}: no --as-of");
    }
    let args = ["completions", "tcsh"];
    let o = run(&args);
    assert_eq!(o.status.code(), Some(2), "{}", show(&args, &o));
}

#[test]
fn man_page_and_one_page_per_command() {
    let args = ["man"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let page = String::from_utf8_lossy(&o.stdout);
    assert!(page.contains(".TH revcycle 1"), "{}", show(&args, &o));
    assert!(page.contains("misalignment"), "subcommands listed");

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let out_s = out.to_str().unwrap();
    let args = ["man", "--out", out_s, "-q"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let kpis = std::fs::read_to_string(out.join("revcycle-kpis.1")).unwrap();
    assert!(kpis.contains(".TH revcycle-kpis 1"), "{kpis}");
    assert!(kpis.contains("as\\-of"), "flags documented: {kpis}");
    assert!(out.join("revcycle.1").is_file());
    assert!(out.join("revcycle-report.1").is_file());
}

#[test]
fn help_shows_grouped_flags_defaults_and_examples() {
    let args = ["kpis", "--help"];
    let o = run(&args);
    assert!(o.status.success(), "{}", show(&args, &o));
    let help = String::from_utf8_lossy(&o.stdout);
    for needle in [
        "Input:",
        "Analysis:",
        "Output:",
        "[default: month",
        "Examples:",
        "revcycle kpis --demo",
    ] {
        assert!(help.contains(needle), "no {needle:?} in\n{help}");
    }
    // `demo --rows N` counts; `--leads` is a file everywhere else (the old
    // name still works).
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    for flag in ["--rows", "--leads"] {
        let out = format!("{d}/{flag}");
        let args = ["demo", "--out", &out, flag, "50", "-q"];
        let o = run(&args);
        assert!(o.status.success(), "{}", show(&args, &o));
        let leads = std::fs::read_to_string(format!("{out}/leads.csv")).unwrap();
        assert_eq!(leads.lines().count(), 51, "50 leads and a header");
    }
}

/// `revcycle metrics` lists the registry: one row per (id, command), with
/// the kind, table, command, inputs and formula of each.
#[test]
fn metrics_lists_the_registry() {
    let args = ["metrics", "--format", "csv"];
    let o = crate::util::run(&args);
    assert!(o.status.success(), "{}", crate::util::show(&args, &o));
    let text = String::from_utf8(o.stdout).unwrap();
    let mut rd = csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        rd.headers().unwrap().iter().collect::<Vec<_>>(),
        ["id", "kind", "table", "command", "inputs", "formula"]
    );
    let rows: Vec<Vec<String>> = rd
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect();
    assert_eq!(rows.len(), revcycle::metrics::registry::METRICS.len());
    let row = |id: &str, cmd: &str| {
        rows.iter()
            .find(|r| r[0] == id && r[3] == cmd)
            .unwrap_or_else(|| panic!("no row {id} {cmd}"))
            .clone()
    };
    let w = row("win_rate", "kpis");
    assert_eq!(w[1], "rate");
    assert_eq!(w[2], "kpis");
    assert_eq!(w[4], "opportunities.status opportunities.close_date");
    assert!(
        w[5].contains("won_deals / (won_deals + lost_deals)"),
        "{w:?}"
    );
    let c = row("misalignment_cost", "misalignment");
    assert_eq!(c[1], "money");
    let s = row("alignment_score", "misalignment");
    assert_eq!(
        (s[1].as_str(), s[2].as_str()),
        ("score", "misalignment, alignment")
    );
    let n = row("new_bookings", "kpis");
    assert_eq!(n[5], "sum of `amount` over `won_deals`");
    assert_eq!(row("leads", "kpis")[5], "leads with `created_at` in P");
    // Every command of the registry is a command of the CLI.
    for r in &rows {
        assert!(
            ["kpis", "funnel", "cycle", "misalignment", "plan"].contains(&r[3].as_str()),
            "{r:?}"
        );
    }
    // JSON has the same rows.
    let o = crate::util::run(&["metrics", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(rows.len()), "{v}");
    assert_eq!(v["rows"][0]["id"], "leads");
    assert_eq!(v["rows"][0]["kind"], "count");
}
