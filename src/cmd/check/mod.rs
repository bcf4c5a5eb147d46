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

use anyhow::{bail, Context, Result};

use crate::cli::{CheckCmd, PeriodArgs};
use crate::cmd::common;
use crate::config::Config;
use crate::metrics::plan::targets::{self, ParseSettings, PeriodTargets};
use crate::output::{self, Format, OutputOptions};
use crate::periods::{PeriodKind, PeriodSpec};
use crate::settings::Analysis;
use crate::Ctx;
use evaluate::Evaluator;
use render::junit;

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
        ev.targets = Some(targets(cmd, &cfg, &analysis)?);
    }
    let outcomes: Vec<Outcome> = rules.iter().map(|r| ev.evaluate(r)).collect();

    if let Some(path) = &cmd.junit {
        let xml = junit(&rules, &outcomes, &cmd.rules);
        output::write_atomic(path, xml.as_bytes()).context("writing the JUnit file")?;
    }
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, &analysis.currency);
    let meta = common::meta(&loaded, Some(analysis.period), &analysis.currency);
    // Why a rule failed is the result, not chatter: the notes and the footer
    // are shown even with -q (only the tally is left out); scripts get none.
    let notes = match opts.format {
        Format::Table | Format::Markdown => {
            let mut notes = render::failure_notes(&rules, &outcomes);
            if !ctx.quiet {
                notes.push(tally(&outcomes));
            }
            notes
        }
        _ => Vec::new(),
    };
    let doc =
        render::document(&rules, &outcomes, &cmd.rules, &analysis.currency, notes)?.with_meta(meta);
    output::emit(
        &doc,
        &OutputOptions {
            quiet: false,
            ..opts
        },
    )?;
    Ok(exit_code(&outcomes))
}

/// `--targets FILE`, else the `[[target]]` tables of the configuration,
/// else with `--demo` the demo's: periods of `--period`, default quarter.
fn targets(cmd: &CheckCmd, cfg: &Config, a: &Analysis) -> Result<PeriodTargets> {
    let kind = cmd
        .period
        .map(common::period_kind)
        .unwrap_or(PeriodKind::Quarter);
    let spec = PeriodSpec::new(kind, a.fiscal_year_start, 0);
    let parse = ParseSettings {
        period: spec,
        by: None,
    };
    match targets::from_sources(cmd.targets.as_deref(), cfg, &parse, cmd.input.demo)? {
        Some(targets) => Ok(PeriodTargets { spec, targets }),
        None => bail!("`min_vs_target`/`pace_min` rules need targets: --targets FILE or [[target]] tables in revcycle.toml"),
    }
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
