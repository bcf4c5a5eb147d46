//! `revcycle init`: write a commented `revcycle.toml`. Given input files, it
//! pre-fills the preset and column mapping detection found for each, so the
//! user only edits what detection got wrong.

use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};
use std::process::ExitCode;

use anyhow::{bail, Result};

use crate::cli::InitCmd;
use crate::cmd::common;
use crate::config::Config;
use crate::input::read::Source;
use crate::input::table::TableLoad;
use crate::model::TableKind;
use crate::Ctx;

pub fn run(cmd: &InitCmd, ctx: Ctx) -> Result<ExitCode> {
    if cmd.output.exists() && !cmd.force {
        bail!(
            "`{}` exists; use --force to replace it",
            cmd.output.display()
        );
    }
    // Detection ignores any existing configuration: init describes the files.
    let cfg = Config {
        base_dir: PathBuf::from("."),
        ..Config::default()
    };
    let given = cmd.input.dir.is_some()
        || cmd.input.leads.is_some()
        || cmd.input.opportunities.is_some()
        || !cmd.input.campaigns.is_empty()
        || cmd.input.revenue.is_some();
    let sources = if given {
        let mut spec = common::input_spec(&cmd.input);
        spec.any_table = true;
        spec.demo = None;
        crate::input::resolve_sources(&spec, &cfg)?
    } else {
        Default::default()
    };
    let base = cmd
        .output
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let text = render(&sources, &cfg, base, ctx)?;
    crate::output::write_atomic(&cmd.output, text.as_bytes())?;
    if !ctx.quiet {
        let n: usize = sources.values().map(Vec::len).sum();
        eprintln!(
            "revcycle: wrote {}{}",
            cmd.output.display(),
            if n > 0 {
                format!(
                    " with the mapping detected in {n} file(s); check it with `revcycle validate`"
                )
            } else {
                String::new()
            }
        );
    }
    Ok(ExitCode::SUCCESS)
}

const HEADER: &str = r#"# revcycle configuration. Every key is optional; revcycle reads ./revcycle.toml
# by default, or the file given with --config. Paths are relative to this file.

# Currency label shown in tables ("USD", "$", "EUR").
# currency = "USD"
# Read numeric dates whose day and month are both <= 12 as day/month/year.
# day_first = false
# Amounts use a decimal comma (1.200,50).
# decimal_comma = false
# Default reporting period: week, month, quarter, year or all.
# period = "month"
# First month of the fiscal year (quarter and year periods).
# fiscal_year_start = 1
# Days after which an MQL nobody contacted counts as not followed up.
# sla_days = 7
# Gross margin for LTV and CAC payback.
# gross_margin = 0.8
# Sales cost per period, added to marketing spend in CAC.
# sales_cost = 0

[misalignment]
# Smallest response-time bucket used as the base of slow follow-up.
# min_sample = 30
# Loss reasons (case-insensitive substrings) that mark a misfit deal.
# misfit_reasons = ["not a fit", "bad fit", "poor fit", "persona", "unqualified", "no need"]
# Published uplift of aligned sales and marketing (a benchmark, not a measurement).
# uplift = 0.34
# Upper bounds of the response-time buckets, in hours.
# response_buckets_hours = [1, 24, 72]
"#;

fn render(
    sources: &std::collections::BTreeMap<TableKind, Vec<Source>>,
    cfg: &Config,
    base: &Path,
    ctx: Ctx,
) -> Result<String> {
    let mut s = String::from(HEADER);
    s.push_str("\n[inputs]\n");
    if sources.is_empty() {
        s.push_str(
            "# leads = \"exports/leads.csv\"\n# opportunities = \"exports/opportunities.csv\"\n",
        );
        s.push_str("# campaigns = [\"exports/google_ads.csv\", \"exports/meta_ads.csv\"]\n# revenue = \"exports/mrr.csv\"\n");
    }
    for (kind, srcs) in sources {
        let paths: Vec<String> = srcs
            .iter()
            .filter_map(|src| match src {
                Source::Path(p) => Some(format!("\"{}\"", toml_escape(&relative(p, base)))),
                _ => None,
            })
            .collect();
        if paths.is_empty() {
            continue;
        }
        if *kind == TableKind::Campaigns {
            let _ = writeln!(s, "campaigns = [{}]", paths.join(", "));
        } else {
            let _ = writeln!(s, "{} = {}", kind.name(), paths[0]);
        }
    }
    for kind in TableKind::ALL {
        let Some(srcs) = sources.get(&kind) else {
            continue;
        };
        let loader = TableLoad {
            kind,
            cfg,
            quiet: ctx.quiet,
            skip: &[],
            spill: None,
        };
        // One mapping per table: the first file's (ad-platform files of other
        // presets are still detected on their own when loading).
        let (report, headers) = loader.detect(&srcs[0])?;
        let _ = writeln!(s, "\n[{}]", kind.name());
        let _ = writeln!(s, "# detected in {}", report.file);
        if srcs.len() > 1 {
            let _ = writeln!(
                s,
                "# (the other {} files are detected on their own; set a preset here only if they all share it)",
                srcs.len() - 1
            );
            let _ = writeln!(s, "# preset = \"{}\"", report.preset);
        } else {
            let _ = writeln!(s, "preset = \"{}\"", report.preset);
        }
        if let Some(d) = &report.delimiter {
            let _ = writeln!(
                s,
                "# delimiter = \"{}\"   # detected",
                if d == "tab" { "tab" } else { d }
            );
        }
        if let Some(sh) = &report.sheet {
            let _ = writeln!(
                s,
                "{}sheet = \"{}\"   # the sheet read (else the first)",
                if srcs.len() > 1 { "# " } else { "" },
                toml_escape(sh)
            );
        }
        let _ = writeln!(
            s,
            "# date_format = \"%d-%b-%Y %H:%M\"   # strftime, for dates revcycle does not read by itself"
        );
        let _ = writeln!(s, "\n[{}.columns]", kind.name());
        // Several ad-platform files have different headers: a column map
        // would force the first one's on the others, so it is left commented.
        let prefix = if srcs.len() > 1 { "# " } else { "" };
        let stage_mapped = report.mapping.iter().any(|m| m.column == "stage");
        for spec in kind.columns() {
            match report.mapping.iter().find(|m| m.column == spec.name) {
                Some(m) if !m.source.starts_with('=') => {
                    let _ = writeln!(s, "{prefix}{} = \"{}\"", spec.name, toml_escape(&m.source));
                }
                _ if spec.name == "status" && stage_mapped => {
                    let _ = writeln!(
                        s,
                        "# status: derived from stage through [opportunities.stage_map]"
                    );
                }
                _ => {
                    let _ = writeln!(
                        s,
                        "# {} = \"\"   # {}not found: name the header that holds it",
                        spec.name,
                        if spec.required { "REQUIRED, " } else { "" }
                    );
                }
            }
        }
        if !report.unmapped_headers.is_empty() {
            let _ = writeln!(
                s,
                "# headers not used: {}",
                report.unmapped_headers.join(", ")
            );
        }
        let _ = headers;
        if kind == TableKind::Campaigns || kind == TableKind::Leads {
            let _ = writeln!(
                s,
                "\n# Raw value -> value for a text column (exact, case-sensitive), e.g. to make\n# spend channels meet lead channels."
            );
            let _ = writeln!(
                s,
                "[{}.value_map.channel]\n# \"{}\" = \"Paid Search\"",
                kind.name(),
                if kind == TableKind::Campaigns {
                    "Performance Max"
                } else {
                    "cpc"
                }
            );
        }
        if kind == TableKind::Opportunities {
            let _ = writeln!(s, "\n# Raw stage -> open / won / lost (defaults read \"Closed Won\", \"closedlost\", \"Won\", \"Lost\"; others are open).");
            let _ = writeln!(s, "[opportunities.stage_map]\n# \"Signed\" = \"won\"");
            let _ = writeln!(s, "\n# Raw type -> new_business / expansion / renewal.");
            let _ = writeln!(s, "[opportunities.type_map]\n# \"Add-on\" = \"expansion\"");
            let _ = writeln!(s, "\n# Columns set to one value for every row.");
            let _ = writeln!(s, "[opportunities.constants]\n# status = \"won\"");
        }
    }
    // The file must load back as written.
    let _: Config = toml::from_str(&s)
        .map_err(|e| anyhow::anyhow!("internal: generated configuration does not parse: {e}"))?;
    Ok(s)
}

fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// `p` relative to `base` when both resolve; else `p` as given.
fn relative(p: &Path, base: &Path) -> String {
    let (Ok(p_abs), Ok(b_abs)) = (std::fs::canonicalize(p), std::fs::canonicalize(base)) else {
        return p.display().to_string();
    };
    let pc: Vec<Component> = p_abs.components().collect();
    let bc: Vec<Component> = b_abs.components().collect();
    let common = pc.iter().zip(&bc).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..bc.len() {
        out.push("..");
    }
    for c in &pc[common..] {
        out.push(c);
    }
    out.display().to_string()
}
