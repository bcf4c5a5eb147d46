//! `revcycle check RULES.toml`: KPI threshold rules for CI. Each rule names a
//! metric id, bounds (`min`, `max`, `change_vs_previous`), an optional `by`
//! filter and the period it looks at; the command prints PASS/FAIL per rule,
//! can write JUnit XML, and exits 0 (all pass), 1 (a rule failed) or 2 (a
//! rule could not be evaluated, or the rules file is bad; 2 wins over 1).
//!
//! Semantics (docs/cli.md, "check"):
//! - `period = "latest"` (default): the latest complete period of `--period`
//!   (a period is complete when its end is at or before `as_of`); with
//!   `--period all` the whole data is the one period. `"all"`: the whole data
//!   as one period (`--period all`). A date: the period holding that date.
//! - `change_vs_previous = { min, max }`: `(value - previous) / |previous|`
//!   against the period before; undefined (error) when the previous value is
//!   0 or null, or there is no previous period.
//! - Misalignment metrics are computed over the selected period's range
//!   (`period = "all"`: over all data).
//! - Funnel metrics need a stage: `by = { stage = "sql" }` (the cohort of the
//!   selected period).
//! - A metric whose value is null for the selected period (a denominator of
//!   0) cannot be evaluated: the rule is an error, not a failure.

mod evaluate;
mod parse;
mod render;

use std::process::ExitCode;

use anyhow::{Context, Result};

use crate::cli::{CheckCmd, PeriodArgs};
use crate::cmd::common;
use crate::output::{self, Document, Format, OutputOptions, Section};
use crate::Ctx;
use evaluate::Evaluator;
use render::{human_frame, json, json_rows, junit, raw_frame};

pub use evaluate::{Outcome, Status};
pub use parse::{parse_rules, AttrRule, Rule, RulePeriod, ATTRIBUTION_METRICS};

pub fn run(cmd: &CheckCmd, ctx: Ctx) -> Result<ExitCode> {
    let text = std::fs::read_to_string(&cmd.rules)
        .with_context(|| format!("reading rules file `{}`", cmd.rules.display()))?;
    let rules = parse_rules(&text, &cmd.rules)?;
    let with_touches = rules.iter().any(|r| r.attribution.is_some());
    let (cfg, loaded) = common::load_for(&cmd.input, ctx, with_touches)?;
    let period_args = PeriodArgs {
        period: cmd.period,
        ..Default::default()
    };
    let analysis = common::analysis(&cfg, &period_args)?;
    common::print_warnings(&loaded, ctx);
    let mut ev = Evaluator::new(&loaded.dataset, &analysis)?;
    ev.cfg = cfg.clone();
    if rules
        .iter()
        .any(|r| r.min_vs_target.is_some() || r.pace_min.is_some())
    {
        ev.targets = Some(crate::cmd::plan::targets_for_check(cmd, &cfg, &analysis)?);
    }
    let outcomes: Vec<Outcome> = rules.iter().map(|r| ev.evaluate(r)).collect();

    if let Some(path) = &cmd.junit {
        let xml = junit(&rules, &outcomes, &cmd.rules);
        output::write_atomic(path, xml.as_bytes()).context("writing the JUnit file")?;
    }
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, &analysis.currency);
    let meta = common::meta(&loaded, Some(analysis.period), &analysis.currency);
    let bytes = match opts.format {
        Format::Json => {
            let mut fields = meta.json_fields();
            fields.extend(json(&rules, &outcomes, &cmd.rules));
            output::machine::json_fields_text(&fields)?
        }
        Format::Ndjson => output::machine::values_ndjson(&json_rows(&rules, &outcomes))?,
        Format::Csv => output::machine::to_csv(&raw_frame(&rules, &outcomes)?)?,
        Format::Table | Format::Markdown => {
            let frame = human_frame(&rules, &outcomes, &analysis.currency)?;
            let mut notes: Vec<String> = rules
                .iter()
                .zip(&outcomes)
                .filter(|(_, o)| o.status != Status::Pass)
                .map(|(r, o)| format!("rule {} ({}): {}", r.index, o.status.word(), o.message))
                .collect();
            // Why a rule failed is the result, not chatter: shown even with -q.
            if !ctx.quiet {
                notes.push(tally(&outcomes));
            }
            let doc =
                Document::single(Section::new("check", frame).with_notes(notes)).with_meta(meta);
            output::render(
                &doc,
                &OutputOptions {
                    path: None,
                    quiet: false,
                    ..opts.clone()
                },
            )?
        }
    };
    crate::cmd::write_output(cmd.output.output.as_deref(), &bytes, ctx)?;
    Ok(exit_code(&outcomes))
}

/// 2 when any rule could not be evaluated, else 1 when any failed, else 0.
pub fn exit_code(outcomes: &[Outcome]) -> ExitCode {
    if outcomes.iter().any(|o| o.status == Status::Error) {
        ExitCode::from(crate::EXIT_ERROR)
    } else if outcomes.iter().any(|o| o.status == Status::Fail) {
        ExitCode::from(crate::EXIT_FINDING)
    } else {
        ExitCode::SUCCESS
    }
}

fn count(outcomes: &[Outcome], s: Status) -> usize {
    outcomes.iter().filter(|o| o.status == s).count()
}

fn tally(outcomes: &[Outcome]) -> String {
    format!(
        "{} rules: {} passed, {} failed, {} could not be evaluated",
        outcomes.len(),
        count(outcomes, Status::Pass),
        count(outcomes, Status::Fail),
        count(outcomes, Status::Error)
    )
}

// ---------------------------------------------------------------- parsing
