//! `revcycle man`: the manual page (clap_mangen), and `--markdown`, the
//! command-line reference that `docs/cli.md` carries between its
//! `<!-- generated -->` markers. Both come from the clap definitions, so
//! neither is written twice by hand; a test fails when docs/cli.md is stale.

use std::fmt::Write as _;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::CommandFactory;

use crate::cli::{Cli, ManCmd};
use crate::Ctx;

pub fn run(c: &ManCmd, ctx: Ctx) -> Result<ExitCode> {
    if c.markdown {
        super::write_output(None, reference_markdown().as_bytes(), ctx)?;
        return Ok(ExitCode::SUCCESS);
    }
    let cmd = Cli::command();
    match &c.out {
        None => {
            let mut buf = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut buf)
                .context("rendering the manual page")?;
            super::write_output(None, &buf, ctx)?;
        }
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("creating `{}`", dir.display()))?;
            let mut cmd = cmd;
            cmd.build();
            write_page(dir, &cmd, "revcycle")?;
            for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
                let name = format!("revcycle-{}", sub.get_name());
                // A page names its command in full (`revcycle-kpis`); the name lives
                // for the rest of this short process.
                let full: &'static str = Box::leak(name.clone().into_boxed_str());
                write_page(dir, &sub.clone().name(full), &name)?;
            }
            if !ctx.quiet {
                eprintln!("revcycle: wrote manual pages to {}", dir.display());
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn write_page(dir: &std::path::Path, cmd: &clap::Command, name: &str) -> Result<()> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .render(&mut buf)
        .with_context(|| format!("rendering the manual page of {name}"))?;
    crate::output::write_atomic(&dir.join(format!("{name}.1")), &buf)
}

/// The reference part of docs/cli.md: every command with its usage, its
/// arguments grouped by heading (input, analysis, output), their defaults and
/// possible values, and its examples.
pub fn reference_markdown() -> String {
    let mut cmd = Cli::command();
    cmd.build();
    let mut out = String::new();
    let _ = writeln!(out, "Generated from the clap definitions by `revcycle man --markdown`; a test fails when this part is stale.\n");
    let _ = writeln!(out, "Global options: `-q, --quiet` (print nothing but errors), `--spill <auto|always|never>` (spill the tables to Parquet while loading; see \"How large files are read\"), `--temp-dir <DIR>` (where spilled tables go), `-h, --help`, `-V, --version`.\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let name = sub.get_name();
        let _ = writeln!(out, "### `revcycle {name}`\n");
        if let Some(about) = sub.get_about() {
            let _ = writeln!(out, "{}.\n", about.to_string().trim_end_matches('.'));
        }
        let usage = sub.clone().bin_name(format!("revcycle {name}")).render_usage().to_string();
        let usage = usage.trim_start_matches("Usage: ").to_string();
        let _ = writeln!(out, "    {usage}\n");
        // Arguments in display order, grouped by heading (none first).
        let mut headings: Vec<Option<&str>> = Vec::new();
        for a in sub.get_arguments() {
            if is_skipped(a) {
                continue;
            }
            let h = a.get_help_heading();
            if !headings.contains(&h) {
                headings.push(h);
            }
        }
        headings.sort_by_key(|h| h.is_some());
        for h in headings {
            let _ = writeln!(out, "{}:\n", h.unwrap_or("Arguments"));
            for a in sub.get_arguments().filter(|a| !is_skipped(a) && a.get_help_heading() == h) {
                let _ = writeln!(out, "- {}", describe(a));
            }
            out.push('\n');
        }
        if let Some(after) = sub.get_after_help() {
            let _ = writeln!(out, "```text\n{}\n```\n", after.to_string().trim_end());
        }
    }
    out
}

fn is_skipped(a: &clap::Arg) -> bool {
    a.is_hide_set() || matches!(a.get_id().as_str(), "help" | "version" | "quiet" | "spill" | "temp_dir")
}

/// `` `-o, --output <FILE>`: help [default: table] [values: a, b] ``.
fn describe(a: &clap::Arg) -> String {
    let value = a
        .get_value_names()
        .and_then(|v| v.first())
        .map(|v| format!(" <{v}>"))
        .unwrap_or_default();
    let takes_value = a.get_num_args().is_some_and(|n| n.takes_values());
    let value = if takes_value { value } else { String::new() };
    let flag = match (a.get_short(), a.get_long()) {
        (Some(s), Some(l)) => format!("-{s}, --{l}{value}"),
        (None, Some(l)) => format!("--{l}{value}"),
        (Some(s), None) => format!("-{s}{value}"),
        (None, None) => format!("<{}>", a.get_value_names().and_then(|v| v.first()).map(|v| v.to_string()).unwrap_or_else(|| a.get_id().to_string())),
    };
    let mut text = format!("`{flag}`");
    if a.is_positional() && !a.is_required_set() {
        text = format!("`[{}]`", flag.trim_start_matches('<').trim_end_matches('>'));
        text = text.replace('[', "[<").replace(']', ">]");
    }
    if let Some(help) = a.get_help() {
        let _ = write!(text, ": {}", help.to_string().trim_end_matches('.'));
    }
    let defaults: Vec<String> = a
        .get_default_values()
        .iter()
        .map(|v| v.to_string_lossy().to_string())
        .collect();
    if !defaults.is_empty() && takes_value {
        let _ = write!(text, " [default: {}]", defaults.join(", "));
    }
    let values: Vec<String> = a
        .get_possible_values()
        .iter()
        .filter(|v| !v.is_hide_set())
        .map(|v| v.get_name().to_string())
        .collect();
    if !values.is_empty() {
        let _ = write!(text, " [values: {}]", values.join(", "));
    }
    if matches!(a.get_action(), clap::ArgAction::Append) {
        text.push_str(" (repeatable)");
    }
    text
}
