//! `revcycle plan`: the reverse waterfall of targets, whether marketing's and
//! sales' targets add up, and the pacing of the period in progress
//! (docs/plan.md). CSV: the waterfall rows (`plan.csv`); JSON: every section.

use std::process::ExitCode;

use anyhow::{bail, Context, Result};

use crate::cli::{PeriodArg, PeriodArgs, PlanCmd};
use crate::cmd::common;
use crate::periods::PeriodSpec;
use crate::metrics::plan::targets::{self, ParseSettings, Target};
use crate::metrics::plan::{self as planm, compute, frame, PlanSettings};
use crate::output::{self, Document, Format, Renderer, Section};
use crate::Ctx;

pub fn run(cmd: &PlanCmd, ctx: Ctx) -> Result<ExitCode> {
    let period = PeriodArgs {
        period: Some(cmd.period.unwrap_or(PeriodArg::Quarter)),
        from: None,
        to: None,
        by: cmd.by,
    };
    let p = common::prepare(&cmd.input, &period, ctx)?;
    let a = &p.analysis;
    let spec = PeriodSpec::new(a.period, a.fiscal_year_start, 0);
    let parse = ParseSettings { period: spec, by: a.by };
    let ds = &p.loaded.dataset;
    let targets = read_targets(cmd, &p.cfg, &parse, ds.as_of)?;
    let settings = plan_settings(&p.cfg, spec, a.by)?;
    let plan = planm::plan(ds, targets, settings)?;
    let opts = crate::cmd::common::output_options(&cmd.output, ctx.quiet, &a.currency);
    let main = Section::new("plan", frame::plan_frame(&plan)?).with_notes(plan.notes.clone());
    let doc = if opts.format == Format::Table {
        let text = output::plan::render(&plan, &a.currency, opts.width);
        Document::single(main.with_render(Renderer::Custom(text)).with_title(""))
    } else {
        Document::single(main)
            .with(Section::new("pacing", frame::pacing_frame(&plan)?))
            .with(Section::new("evidence", frame::evidence_frame(&plan)?))
            .with(Section::new("summary", frame::summary_frame(&plan)?))
    };
    output::emit(&doc, &opts)?;
    Ok(ExitCode::SUCCESS)
}

/// The plan's settings: `[plan]` of revcycle.toml over the defaults.
fn plan_settings(
    cfg: &crate::config::Config,
    spec: PeriodSpec,
    by: Option<crate::settings::Dimension>,
) -> Result<PlanSettings> {
    let history_days = cfg.plan.history_days.unwrap_or(compute::DEFAULT_HISTORY_DAYS);
    if !(history_days.is_finite() && history_days > 0.0) {
        bail!("configuration: [plan] history_days = {history_days}: a number of days above 0");
    }
    if let Some(m) = cfg.plan.maturity_days {
        if !(m.is_finite() && m >= 0.0) {
            bail!("configuration: [plan] maturity_days = {m}: a number of days, 0 or more");
        }
    }
    Ok(PlanSettings {
        spec,
        by,
        maturity_days: cfg.plan.maturity_days,
        history_days,
    })
}

/// Targets from, in order: `--targets FILE`; `--target`/`--bookings`/`--mqls`;
/// `[[target]]` tables of the configuration; the demo's with `--demo`.
fn read_targets(
    cmd: &PlanCmd,
    cfg: &crate::config::Config,
    parse: &ParseSettings,
    as_of: i64,
) -> Result<Vec<Target>> {
    // (METRIC=N, as written)
    let mut flags: Vec<(String, String)> = cmd
        .target
        .iter()
        .map(|t| (t.clone(), format!("--target {t}")))
        .collect();
    if let Some(b) = &cmd.bookings {
        flags.push((format!("new_bookings={b}"), format!("--bookings {b}")));
    }
    if let Some(m) = &cmd.mqls {
        flags.push((format!("mqls={m}"), format!("--mqls {m}")));
    }
    if cmd.for_date.is_some() && flags.is_empty() {
        bail!("--for sets the period of command-line targets (--target, --bookings, --mqls); a targets file names its periods");
    }
    if cmd.targets.is_some() && !flags.is_empty() {
        bail!("give targets either in a file (--targets) or on the command line (--target, --bookings, --mqls), not both");
    }
    if !flags.is_empty() {
        let spec = parse.period;
        let index = match &cmd.for_date {
            Some(d) => spec.index_of(crate::input::parse_instant(d, false).context("--for")?),
            None => spec.index_of(as_of) + 1,
        };
        let period = spec.start_date(index);
        let mut out: Vec<Target> = Vec::new();
        for (f, written) in &flags {
            let t = targets::parse_flag(f, period, written)?;
            if let Some(prev) = out.iter().find(|p| p.metric == t.metric && p.owner == t.owner) {
                bail!("{}: duplicate target ({} already sets {})", t.origin, prev.origin, t.anchor());
            }
            out.push(t);
        }
        return Ok(out);
    }
    if let Some(t) = targets::from_sources(cmd.targets.as_deref(), cfg, parse, cmd.input.demo)? {
        return Ok(t);
    }
    bail!("plan needs targets: --targets FILE, --target METRIC=N (or --bookings N, --mqls N), or [[target]] tables in revcycle.toml")
}

/// `report --targets FILE` (or `[[target]]` tables): `plan.csv` and the
/// markdown section `summary.md` ends with, from the report's frames of
/// `p.loaded.dataset` (`shared`). None without targets. Targets
/// are for the whole company (no `--by`), periods of `--period`, default
/// quarter.
pub fn for_report(
    p: &common::Prepared,
    shared: &crate::metrics::shared::Shared,
    targets_file: Option<&std::path::Path>,
    period: Option<PeriodArg>,
) -> Result<Option<(Vec<u8>, String, String)>> {
    let kind = common::period_kind(period.unwrap_or(PeriodArg::Quarter));
    let spec = PeriodSpec::new(kind, p.analysis.fiscal_year_start, 0);
    let parse = ParseSettings { period: spec, by: None };
    let Some(targets) = targets::from_sources(targets_file, &p.cfg, &parse, false)? else {
        return Ok(None);
    };
    let settings = plan_settings(&p.cfg, spec, None)?;
    let plan = planm::plan_with(shared, targets, settings).context("computing the plan")?;
    let plan_df = frame::plan_frame(&plan)?;
    let csv = output::machine::to_csv(&plan_df)?;
    let cur = &p.analysis.currency;
    // The report.html section: the verdicts, the score, the waterfall rows.
    let mut html = String::from("<ul class=\"verdicts\">");
    for a in &plan.anchors {
        html.push_str(&format!("<li>{}</li>", output::chart::escape(&output::plan::verdict(&plan, a, cur))));
    }
    html.push_str("</ul>");
    if let Some(s) = plan.score {
        html.push_str(&format!("<p class=\"reading\">Goal alignment score: <strong>{s:.0}</strong>/100 (100 when every team's target matches what the other team's target needs).</p>"));
    }
    html.push_str(&output::html::frame_table(
        &plan_df,
        &["period", "anchor", "stage", "rate_to_next", "required", "required_low", "required_high", "needed_by", "team_target", "coverage", "shortfall_money"],
        cur,
        "The reverse waterfall, anchor by anchor (rows of plan.csv)",
    ));
    let mut md = String::from("\n## Plan: do the targets add up?\n\n");
    for a in &plan.anchors {
        md.push_str(&format!("- {}\n", output::plan::verdict(&plan, a, cur)));
    }
    if let Some(s) = plan.score {
        md.push_str(&format!("\ngoal_alignment_score: {s:.0}\n"));
    }
    if !plan.pacing.is_empty() {
        md.push_str("\n| anchor | target | actual to date | expected to date | projected | pace |\n|---|---|---|---|---|---|\n");
        for r in &plan.pacing {
            let t = &plan.targets[r.target];
            let n = |v: Option<f64>| v.map_or("–".to_string(), |x| output::format::grouped(x, 0));
            md.push_str(&format!(
                "| {} | {} | {} | {} | {} | {} |\n",
                t.anchor(),
                n(Some(t.target)),
                n(r.pace.actual_to_date),
                n(Some(r.pace.expected_to_date)),
                n(r.pace.projected),
                r.pace
                    .pace
                    .map_or("–".to_string(), |x| format!("{}%", output::format::grouped(x * 100.0, 0)))
            ));
        }
    }
    md.push_str("\nFormulas: docs/plan.md; rows: plan.csv.\n");
    Ok(Some((csv, md, html)))
}
