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
        assert!(text.contains(needle), "{shell}: no {needle:?}\n{}", show(&args, &o));
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
    for needle in ["Input:", "Analysis:", "Output:", "[default: month", "Examples:", "revcycle kpis --demo"] {
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
