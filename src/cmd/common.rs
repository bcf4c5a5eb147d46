//! What every analysis command does first: read `revcycle.toml`, load the
//! inputs, print data-quality warnings, and resolve the analysis settings.

use anyhow::{Context, Result};

use crate::cli::{ByArg, InputArgs, PeriodArg, PeriodArgs};
use crate::config::Config;
use crate::input::{self, InputSpec, Loaded};
use crate::output::Meta;
use crate::periods::PeriodKind;
use crate::settings::{Analysis, Dimension};
use crate::Ctx;

pub struct Prepared {
    pub cfg: Config,
    pub loaded: Loaded,
    pub analysis: Analysis,
}

pub fn input_spec(input: &InputArgs) -> InputSpec {
    InputSpec {
        dir: input.dir.clone(),
        leads: input.leads.clone(),
        opportunities: input.opportunities.clone(),
        campaigns: input.campaigns.clone(),
        revenue: input.revenue.clone(),
        demo: input.demo.then(demo_tables),
        any_table: false,
        skip_lead_columns: Vec::new(),
        skip_opportunity_columns: Vec::new(),
        touches: input.touches.clone(),
        with_touches: false,
    }
}

/// The built-in demo set (`--demo`), generated here so `input` reads it
/// like any other bytes.
pub fn demo_tables() -> input::DemoTables {
    let d = crate::demo::builtin();
    input::DemoTables {
        leads: d.leads.into(),
        opportunities: d.opportunities.into(),
        campaigns: d.campaigns.into(),
        revenue: d.revenue.into(),
        touches: d.touches.into(),
    }
}

/// The configuration a command reads: `--config FILE`; none with
/// `--no-config`, nor with `--demo` unless `--config` names one (the demo is
/// the demo, whatever `./revcycle.toml` says); else `./revcycle.toml` when present.
pub fn config(input: &InputArgs) -> Result<Config> {
    if input.config.is_none() && (input.no_config || input.demo) {
        return Ok(Config {
            base_dir: std::path::PathBuf::from("."),
            ..Config::default()
        });
    }
    Config::load(input.config.as_deref())
}

/// Load configuration and inputs; print warnings unless quiet.
pub fn load(input: &InputArgs, ctx: Ctx) -> Result<(Config, Loaded)> {
    load_with(input, ctx, false)
}

/// `load`, with the touches table when `with_touches` (check's attribution rules).
pub fn load_for(input: &InputArgs, ctx: Ctx, with_touches: bool) -> Result<(Config, Loaded)> {
    let cfg = config(input)?;
    let mut spec = input_spec(input);
    spec.with_touches = with_touches;
    let loaded = input::load(&spec, &cfg, input.as_of.as_deref(), ctx.quiet)?;
    Ok((cfg, loaded))
}

/// `any_table`: accept a campaigns or revenue export alone (validate).
pub fn load_with(input: &InputArgs, ctx: Ctx, any_table: bool) -> Result<(Config, Loaded)> {
    let cfg = config(input)?;
    let mut spec = input_spec(input);
    spec.any_table = any_table;
    // validate reads everything it is given, touches included.
    spec.with_touches = any_table;
    let loaded = input::load(&spec, &cfg, input.as_of.as_deref(), ctx.quiet)?;
    Ok((cfg, loaded))
}

/// The data-quality warnings, then one warning per shape of the export that
/// nulls metrics (see `metrics::registry`).
pub fn print_warnings(loaded: &Loaded, ctx: Ctx) {
    if ctx.quiet {
        return;
    }
    for w in loaded.warnings() {
        eprintln!("revcycle: warning: {}", crate::escape_controls(&w));
    }
    if let Ok(avail) = crate::metrics::registry::availability(&loaded.dataset) {
        for w in avail.warnings() {
            eprintln!("revcycle: warning: {w}");
        }
    }
}

/// Where a command's numbers come from, for the JSON head and the table
/// footer: `as_of` and its source, the period (`None` for commands without
/// one), the currency (`None` when not configured) and the files of each table.
pub fn meta(loaded: &Loaded, period: Option<PeriodKind>, currency: &str) -> Meta {
    let mut inputs: Vec<(String, Vec<String>)> = Vec::new();
    for f in &loaded.files {
        match inputs.iter_mut().find(|(t, _)| *t == f.table) {
            Some((_, files)) => files.push(f.file.clone()),
            None => inputs.push((f.table.clone(), vec![f.file.clone()])),
        }
    }
    Meta {
        as_of: Some(loaded.dataset.as_of),
        as_of_source: Some(loaded.as_of_source.clone()),
        period: period.map(|p| p.name().to_string()),
        currency: (!currency.trim().is_empty()).then(|| currency.to_string()),
        inputs,
    }
}

/// [`meta`] of an analysis command.
pub fn meta_of(p: &Prepared) -> Meta {
    meta(&p.loaded, Some(p.analysis.period), &p.analysis.currency)
}

/// Settings: CLI flags over revcycle.toml over defaults.
pub fn analysis(cfg: &Config, period: &PeriodArgs) -> Result<Analysis> {
    let mut a = Analysis::default();
    let day_first = cfg.day_first.unwrap_or(false);
    a.period = period
        .period
        .map(period_kind)
        .or(cfg.period)
        .unwrap_or(PeriodKind::Month);
    if let Some(f) = cfg.fiscal_year_start {
        a.fiscal_year_start = f;
    }
    a.from = period
        .from
        .as_deref()
        .map(|t| input::parse_instant(t, day_first).context("--from"))
        .transpose()?;
    a.to = period
        .to
        .as_deref()
        .map(|t| input::parse_instant(t, day_first).context("--to"))
        .transpose()?;
    if let (Some(f), Some(t)) = (a.from, a.to) {
        if f > t {
            anyhow::bail!("--from is after --to");
        }
    }
    a.by = period.by.map(dimension);
    if let Some(v) = cfg.sla_days {
        a.sla_days = v;
    }
    if let Some(v) = cfg.gross_margin {
        a.gross_margin = v;
    }
    if let Some(v) = cfg.sales_cost {
        a.sales_cost = v;
    }
    let m = &cfg.misalignment;
    if let Some(v) = m.min_sample {
        a.min_sample = v;
    }
    if let Some(v) = &m.misfit_reasons {
        a.misfit_reasons = v.iter().map(|s| s.to_lowercase()).collect();
    }
    if let Some(v) = m.uplift {
        a.uplift = v;
    }
    if let Some(v) = &m.response_buckets_hours {
        a.response_buckets_hours = v.clone();
    }
    a.currency = cfg.currency.clone().unwrap_or_default();
    Ok(a)
}

pub fn prepare(input: &InputArgs, period: &PeriodArgs, ctx: Ctx) -> Result<Prepared> {
    prepare_reading(input, period, ctx, &[])
}

/// `prepare`, loading the touches table too (report and check, which read attribution).
pub fn prepare_with_touches(input: &InputArgs, period: &PeriodArgs, ctx: Ctx) -> Result<Prepared> {
    prepare_spec(input, period, ctx, &[], true)
}

/// Leads text columns the funnel-side commands (kpis, funnel, cycle) never
/// read unless they are the `--by` dimension: not storing them keeps a
/// 10M-lead export within memory. Timestamps are always read: the default
/// `as_of` is the latest of them all.
pub const FUNNEL_UNREAD: &[&str] = &[
    "channel",
    "campaign_id",
    "segment",
    "owner",
    "account_id",
    "disqualify_reason",
];

/// Leads columns `attribution` never reads (it credits channels and
/// campaigns: `--by` is one of those two).
pub const ATTRIBUTION_UNREAD: &[&str] = &["segment", "owner", "account_id", "disqualify_reason"];

/// Opportunities columns `attribution` never reads (a conversion is its id,
/// lead, dates, amount, status and type; `stage` stays: it gives the status
/// when the export has none).
pub const ATTRIBUTION_UNREAD_OPPORTUNITIES: &[&str] =
    &["account_id", "campaign_id", "channel", "segment", "owner", "loss_reason"];

/// Leads columns `misalignment` never reads unless they are the `--by` dimension.
pub const MISALIGNMENT_UNREAD: &[&str] = &["owner", "account_id", "disqualify_reason"];

/// Like `prepare`, leaving out the optional leads columns in `unread` that the
/// command does not need (the `--by` column, and for channel the campaign, stay).
pub fn prepare_reading(
    input: &InputArgs,
    period: &PeriodArgs,
    ctx: Ctx,
    unread: &[&'static str],
) -> Result<Prepared> {
    prepare_spec(input, period, ctx, unread, false)
}

fn prepare_spec(
    input: &InputArgs,
    period: &PeriodArgs,
    ctx: Ctx,
    unread: &[&'static str],
    with_touches: bool,
) -> Result<Prepared> {
    let cfg = config(input)?;
    let analysis = analysis(&cfg, period)?;
    let mut spec = input_spec(input);
    spec.with_touches = with_touches;
    spec.skip_lead_columns = unread
        .iter()
        .copied()
        .filter(|c| match analysis.by {
            Some(by) => *c != by.column() && !(by == Dimension::Channel && *c == "campaign_id"),
            None => true,
        })
        .collect();
    let loaded = input::load(&spec, &cfg, input.as_of.as_deref(), ctx.quiet)?;
    print_warnings(&loaded, ctx);
    Ok(Prepared {
        cfg,
        loaded,
        analysis,
    })
}

pub fn period_kind(p: PeriodArg) -> PeriodKind {
    match p {
        PeriodArg::Week => PeriodKind::Week,
        PeriodArg::Month => PeriodKind::Month,
        PeriodArg::Quarter => PeriodKind::Quarter,
        PeriodArg::Year => PeriodKind::Year,
        PeriodArg::All => PeriodKind::All,
    }
}

pub fn dimension(b: ByArg) -> Dimension {
    match b {
        ByArg::Channel => Dimension::Channel,
        ByArg::Segment => Dimension::Segment,
        ByArg::Owner => Dimension::Owner,
        ByArg::Campaign => Dimension::Campaign,
    }
}

/// "2024-05-01 is in progress (as_of 2024-05-03): its counts are partial" when
/// the latest reported period ends after `as_of`.
pub fn in_progress_note(ds: &crate::model::Dataset, a: &Analysis) -> Option<String> {
    use crate::periods::{date_of, PeriodSpec};
    if a.period == PeriodKind::All {
        return None;
    }
    let spec = PeriodSpec::new(a.period, a.fiscal_year_start, 0);
    let last = spec.index_of(a.to.map_or(ds.as_of, |t| t.min(ds.as_of)));
    (spec.end(last) > ds.as_of).then(|| {
        format!(
            "the {} of {} is in progress (as_of {}): its figures, and its change against the previous {}, are partial",
            a.period.name(),
            spec.start_date(last),
            date_of(ds.as_of),
            a.period.name()
        )
    })
}

/// `--format` / `-o FILE` out of clap's types: the output layer never sees them.
pub fn output_request(args: &crate::cli::OutputArgs) -> crate::output::OutputRequest {
    use crate::cli::FormatArg;
    use crate::output::Format;
    crate::output::OutputRequest {
        format: args.format.map(|f| match f {
            FormatArg::Table => Format::Table,
            FormatArg::Csv => Format::Csv,
            FormatArg::Json => Format::Json,
            FormatArg::Ndjson => Format::Ndjson,
            FormatArg::Markdown => Format::Markdown,
        }),
        output: args.output.clone(),
    }
}

/// The output settings of a command: `--format`, `-o` and the environment.
pub fn output_options(
    args: &crate::cli::OutputArgs,
    quiet: bool,
    currency: &str,
) -> crate::output::OutputOptions {
    crate::output::OutputOptions::resolve(&output_request(args), quiet, currency)
}
