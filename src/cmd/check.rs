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

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;

use crate::cli::{CheckCmd, PeriodArgs};
use crate::cmd::common;
use crate::input;
use crate::metrics::periods::{date_of, micros_of_date, PeriodKind, PeriodSpec};
use crate::metrics::registry::{self, MetricDef};
use crate::model::Dataset;
use crate::output::format::{human_change, human_f64, kind_of, round_money, ChangeKind, ValueKind};
use crate::output::{self, Document, Format, OutputOptions, Section};
use crate::settings::{Analysis, Dimension};
use crate::Ctx;

/// Which period a rule looks at.
#[derive(Debug, Clone, PartialEq)]
pub enum RulePeriod {
    /// The latest complete period (default).
    Latest,
    /// The whole data as one period.
    All,
    /// The period holding this instant (as written, microseconds).
    Date(String, i64),
}

/// One `[[rule]]` of the rules file, checked.
#[derive(Debug, Clone)]
pub struct Rule {
    /// 1-based position in the file.
    pub index: usize,
    /// Line of its `[[rule]]` header, when found.
    pub line: Option<usize>,
    pub name: Option<String>,
    pub metric: String,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// A dimension filter (`channel = "Paid Search"`).
    pub by: Option<(Dimension, String)>,
    /// `stage = "sql"` for funnel metrics.
    pub stage: Option<String>,
    pub period: RulePeriod,
    pub change_min: Option<f64>,
    pub change_max: Option<f64>,
    /// The metric at least this share of its target (`revcycle plan` targets).
    pub min_vs_target: Option<f64>,
    /// The pace of the period in progress at least this (docs/plan.md "Pacing").
    pub pace_min: Option<f64>,
    /// `table = "attribution"`: the metric is a column of `revcycle
    /// attribution` (conversions, value, share, spend, cost_per_conversion,
    /// roas) or `removal_effect`, for one `model` and one `by` unit.
    pub attribution: Option<AttrRule>,
}

/// The attribution part of a rule.
#[derive(Debug, Clone, PartialEq)]
pub struct AttrRule {
    pub model: Option<crate::metrics::attribution::Model>,
    pub credit: crate::metrics::attribution::CreditKind,
}

/// The metrics an attribution rule can name.
pub const ATTRIBUTION_METRICS: [&str; 7] = [
    "conversions",
    "value",
    "share",
    "spend",
    "cost_per_conversion",
    "roas",
    "removal_effect",
];

impl Rule {
    /// `channel=Paid Search, stage=sql`, or empty.
    pub fn filter(&self) -> String {
        let mut parts = Vec::new();
        if let Some((d, v)) = &self.by {
            parts.push(format!("{}={v}", d.name()));
        }
        if let Some(s) = &self.stage {
            parts.push(format!("stage={s}"));
        }
        if let Some(a) = &self.attribution {
            if let Some(m) = a.model {
                parts.push(format!("model={}", m.name()));
            }
        }
        parts.join(", ")
    }

    /// The bounds for people: `>= 20.0%; change >= -10.0%`.
    pub fn bound_text(&self, currency: &str) -> String {
        let kind = kind_of(self.metric_id());
        let mut parts = Vec::new();
        if let Some(m) = self.min {
            parts.push(format!(">= {}", human_f64(Some(m), kind, currency)));
        }
        if let Some(m) = self.max {
            parts.push(format!("<= {}", human_f64(Some(m), kind, currency)));
        }
        if let Some(m) = self.change_min {
            parts.push(format!(
                "change >= {}",
                human_change(Some(m), ChangeKind::Relative)
            ));
        }
        if let Some(m) = self.change_max {
            parts.push(format!(
                "change <= {}",
                human_change(Some(m), ChangeKind::Relative)
            ));
        }
        if let Some(m) = self.min_vs_target {
            parts.push(format!(">= {} of target", human_f64(Some(m), crate::output::ValueKind::Rate, "")));
        }
        if let Some(m) = self.pace_min {
            parts.push(format!("pace >= {}", human_f64(Some(m), crate::output::ValueKind::Rate, "")));
        }
        parts.join("; ")
    }

    /// The id without a `command.` prefix.
    pub fn metric_id(&self) -> &str {
        self.metric
            .rsplit_once('.')
            .map(|(_, id)| id)
            .unwrap_or(&self.metric)
    }

    /// Name for people and JUnit: the rule's `name`, else
    /// `rule N: metric [filter] bounds`.
    pub fn title(&self) -> String {
        if let Some(n) = &self.name {
            return n.clone();
        }
        let f = self.filter();
        let f = if f.is_empty() {
            String::new()
        } else {
            format!(" [{f}]")
        };
        format!(
            "rule {}: {}{f} {}",
            self.index,
            self.metric,
            self.bound_text("")
        )
        .trim_end()
        .to_string()
    }
}

/// Outcome of one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Pass,
    Fail,
    Error,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "PASS",
            Status::Fail => "FAIL",
            Status::Error => "ERROR",
        }
    }
}

/// One evaluated rule.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub status: Status,
    /// First day of the period evaluated (`all` periods: of the data).
    pub period: Option<String>,
    pub previous_period: Option<String>,
    pub value: Option<f64>,
    pub previous_value: Option<f64>,
    /// Relative change against the previous period (change rules only).
    pub change: Option<f64>,
    /// Why it failed or could not be evaluated; empty when it passed.
    pub message: String,
}

impl Outcome {
    fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Error,
            period: None,
            previous_period: None,
            value: None,
            previous_value: None,
            change: None,
            message: message.into(),
        }
    }
}

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
    if rules.iter().any(|r| r.min_vs_target.is_some() || r.pace_min.is_some()) {
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

/// 1-based line of byte offset `at` in `text`.
fn line_of(text: &str, at: usize) -> usize {
    text[..at.min(text.len())].matches('\n').count() + 1
}

/// Lines of the `[[rule]]` headers, in order.
fn rule_header_lines(text: &str) -> Vec<usize> {
    text.lines()
        .enumerate()
        .filter(|(_, l)| {
            let squeezed: String = l.chars().filter(|c| !c.is_whitespace()).collect();
            squeezed.starts_with("[[rule]]")
        })
        .map(|(i, _)| i + 1)
        .collect()
}

fn number(v: &toml::Value) -> Option<f64> {
    match v {
        toml::Value::Integer(i) => Some(*i as f64),
        toml::Value::Float(f) if f.is_finite() => Some(*f),
        _ => None,
    }
}

/// Reads and checks the rules file; any problem is one error line naming the
/// file and the rule (index and line).
pub fn parse_rules(text: &str, path: &Path) -> Result<Vec<Rule>> {
    let file = path.display().to_string();
    let doc: toml::Table = match toml::from_str(text) {
        Ok(t) => t,
        Err(e) => {
            let line = e
                .span()
                .map(|s| format!(":{}", line_of(text, s.start)))
                .unwrap_or_default();
            bail!("rules file `{file}`{line}: {}", e.message().trim());
        }
    };
    for key in doc.keys() {
        if key != "rule" {
            bail!("rules file `{file}`: unknown key `{key}`; rules are written as [[rule]] tables");
        }
    }
    let Some(list) = doc.get("rule") else {
        bail!("rules file `{file}`: no rules; write each as a [[rule]] table with `metric` and `min`/`max`");
    };
    let Some(list) = list.as_array() else {
        bail!("rules file `{file}`: `rule` must be written as [[rule]] tables");
    };
    if list.is_empty() {
        bail!("rules file `{file}`: no rules");
    }
    let lines = rule_header_lines(text);
    let lines = if lines.len() == list.len() {
        lines
    } else {
        Vec::new()
    };
    list.iter()
        .enumerate()
        .map(|(i, v)| {
            let line = lines.get(i).copied();
            let at = match line {
                Some(l) => format!("rules file `{file}`, rule {} (line {l})", i + 1),
                None => format!("rules file `{file}`, rule {}", i + 1),
            };
            parse_rule(v, i + 1, line).map_err(|e| anyhow!("{at}: {e}"))
        })
        .collect()
}

fn parse_rule(
    v: &toml::Value,
    index: usize,
    line: Option<usize>,
) -> std::result::Result<Rule, String> {
    let t = v.as_table().ok_or("not a table")?;
    const KEYS: [&str; 12] = [
        "name",
        "metric",
        "min",
        "max",
        "by",
        "period",
        "change_vs_previous",
        "min_vs_target",
        "pace_min",
        "table",
        "model",
        "credit",
    ];
    for k in t.keys() {
        if !KEYS.contains(&k.as_str()) {
            return Err(format!(
                "unknown key `{k}`{} (keys: {})",
                input::suggest(k, KEYS.iter().copied()),
                KEYS.join(", ")
            ));
        }
    }
    let metric = match t.get("metric") {
        Some(toml::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(_) => return Err("`metric` must be a metric id in quotes".into()),
        None => return Err("no `metric`".into()),
    };
    let name = match t.get("name") {
        None => None,
        Some(toml::Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`name` must be text".into()),
    };
    let num = |key: &str, tab: &toml::Table| -> std::result::Result<Option<f64>, String> {
        match tab.get(key) {
            None => Ok(None),
            Some(v) => number(v)
                .map(Some)
                .ok_or_else(|| format!("`{key}` must be a number")),
        }
    };
    let min = num("min", t)?;
    let max = num("max", t)?;
    if let (Some(a), Some(b)) = (min, max) {
        if a > b {
            return Err(format!("`min` {a} is above `max` {b}"));
        }
    }
    let (mut change_min, mut change_max) = (None, None);
    if let Some(c) = t.get("change_vs_previous") {
        let ct = c
            .as_table()
            .ok_or("`change_vs_previous` must be a table: { min = -0.10 }")?;
        for k in ct.keys() {
            if k != "min" && k != "max" {
                return Err(format!(
                    "`change_vs_previous` has unknown key `{k}` (min, max)"
                ));
            }
        }
        change_min = num("min", ct).map_err(|e| format!("change_vs_previous: {e}"))?;
        change_max = num("max", ct).map_err(|e| format!("change_vs_previous: {e}"))?;
        if change_min.is_none() && change_max.is_none() {
            return Err("`change_vs_previous` needs `min` or `max`".into());
        }
    }
    let min_vs_target = num("min_vs_target", t)?;
    let pace_min = num("pace_min", t)?;
    let vs_target = min_vs_target.is_some() || pace_min.is_some();
    if vs_target && (min.is_some() || max.is_some() || change_min.is_some() || change_max.is_some()) {
        return Err("`min_vs_target`/`pace_min` compare with a target: put `min`, `max`, `change_vs_previous` in another rule".into());
    }
    if min_vs_target.is_some() && pace_min.is_some() {
        return Err("`min_vs_target` and `pace_min` look at different periods: one per rule".into());
    }
    if !vs_target && min.is_none() && max.is_none() && change_min.is_none() && change_max.is_none() {
        return Err(format!(
            "`{metric}` has no bound: give `min`, `max`, `change_vs_previous`, `min_vs_target` or `pace_min`"
        ));
    }
    let (mut by, mut stage) = (None, None);
    if let Some(b) = t.get("by") {
        let bt = b
            .as_table()
            .ok_or("`by` must be a table: { channel = \"Paid Search\" }")?;
        for (k, v) in bt {
            let val = v
                .as_str()
                .ok_or_else(|| format!("`by.{k}` must be text"))?
                .to_string();
            let dim = match k.as_str() {
                "channel" => Some(Dimension::Channel),
                "segment" => Some(Dimension::Segment),
                "owner" => Some(Dimension::Owner),
                "campaign" => Some(Dimension::Campaign),
                "stage" => None,
                other => {
                    const BY: [&str; 5] = ["channel", "segment", "owner", "campaign", "stage"];
                    return Err(format!(
                        "`by` has unknown key `{other}`{} (channel, segment, owner, campaign, stage)",
                        input::suggest(other, BY.iter().copied())
                    ));
                }
            };
            match dim {
                Some(d) => {
                    if by.is_some() {
                        return Err("`by` can filter on one dimension only (and a stage)".into());
                    }
                    by = Some((d, val));
                }
                None => stage = Some(val),
            }
        }
    }
    let period = match t.get("period") {
        None => RulePeriod::Latest,
        Some(toml::Value::String(s)) if s.trim() == "latest" => RulePeriod::Latest,
        Some(toml::Value::String(s)) if s.trim() == "all" => RulePeriod::All,
        Some(toml::Value::String(s)) => match input::parse_instant(s.trim(), false) {
            Ok(ts) => RulePeriod::Date(s.trim().to_string(), ts),
            Err(_) => {
                return Err(format!(
                    "`period` \"{s}\": use \"latest\", \"all\" or a date (YYYY-MM-DD)"
                ))
            }
        },
        Some(toml::Value::Datetime(d)) => {
            let s = d.to_string();
            match input::parse_instant(&s, false) {
                Ok(ts) => RulePeriod::Date(s, ts),
                Err(_) => {
                    return Err(format!(
                        "`period` {s}: use \"latest\", \"all\" or a date (YYYY-MM-DD)"
                    ))
                }
            }
        }
        Some(_) => return Err("`period` must be \"latest\", \"all\" or a date".into()),
    };
    if period == RulePeriod::All && (change_min.is_some() || change_max.is_some()) {
        return Err(
            "`change_vs_previous` needs a previous period; `period = \"all\"` has none".into(),
        );
    }
    let attribution = parse_attribution(t, &metric, &by, &stage, vs_target)?;
    Ok(Rule {
        index,
        line,
        name,
        metric,
        min,
        max,
        by,
        stage,
        period,
        change_min,
        change_max,
        min_vs_target,
        pace_min,
        attribution,
    })
}

/// `table = "attribution"`, `model`, `credit` of a rule: checked here.
fn parse_attribution(
    t: &toml::Table,
    metric: &str,
    by: &Option<(Dimension, String)>,
    stage: &Option<String>,
    vs_target: bool,
) -> std::result::Result<Option<AttrRule>, String> {
    use crate::metrics::attribution::{CreditKind, Model};
    let text = |k: &str| -> std::result::Result<Option<String>, String> {
        match t.get(k) {
            None => Ok(None),
            Some(toml::Value::String(s)) => Ok(Some(s.trim().to_string())),
            Some(_) => Err(format!("`{k}` must be text")),
        }
    };
    let table = text("table")?;
    let model = text("model")?;
    let credit = text("credit")?;
    match table.as_deref() {
        None => {
            if model.is_some() || credit.is_some() {
                return Err("`model` and `credit` are for attribution rules: add table = \"attribution\"".into());
            }
            return Ok(None);
        }
        Some("attribution") => {}
        Some(other) => {
            return Err(format!(
                "`table` \"{other}\" is unknown (table = \"attribution\" is the one table a rule can name)"
            ))
        }
    }
    if !ATTRIBUTION_METRICS.contains(&metric) {
        return Err(format!(
            "`{metric}` is not an attribution metric{} ({})",
            input::suggest(metric, ATTRIBUTION_METRICS.iter().copied()),
            ATTRIBUTION_METRICS.join(", ")
        ));
    }
    if stage.is_some() || vs_target {
        return Err("attribution rules take `min`, `max`, `change_vs_previous`; no stage or target".into());
    }
    match by {
        Some((Dimension::Channel | Dimension::Campaign, _)) => {}
        _ => {
            return Err("an attribution rule names its unit: by = { channel = \"Paid Search\" } or by = { campaign = \"PS1\" }".into())
        }
    }
    let model = match model {
        None if metric == "removal_effect" => None,
        None => return Err(format!("`{metric}` of attribution needs a `model` (e.g. model = \"markov\")")),
        Some(m) => Some(Model::from_name(&m).ok_or_else(|| {
            format!(
                "`model` \"{m}\" is unknown{} ({})",
                input::suggest(&m, Model::ALL.iter().map(|m| m.name())),
                Model::ALL.map(|m| m.name()).join(", ")
            )
        })?),
    };
    let credit = match credit.as_deref() {
        None | Some("won") => CreditKind::Won,
        Some("opportunity") => CreditKind::Opportunity,
        Some("mql") => CreditKind::Mql,
        Some(other) => return Err(format!("`credit` \"{other}\" is unknown (won, opportunity, mql)")),
    };
    Ok(Some(AttrRule { model, credit }))
}

// ------------------------------------------------------------ frame helpers

/// Row `row` of column `name` as f64 (null, NaN and infinity are `None`).
pub fn frame_f64(df: &DataFrame, name: &str, row: usize) -> Result<Option<f64>> {
    let c = df
        .column(name)
        .map_err(|e| anyhow!("no column `{name}`: {e}"))?
        .cast(&DataType::Float64)
        .map_err(|e| anyhow!("reading `{name}`: {e}"))?;
    let v = c
        .f64()
        .map_err(|e| anyhow!("reading `{name}`: {e}"))?
        .get(row);
    Ok(v.filter(|x| x.is_finite()))
}

/// Column `name` as text per row (dates `YYYY-MM-DD`; null is "").
pub fn frame_text(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    let c = df
        .column(name)
        .map_err(|e| anyhow!("no column `{name}`: {e}"))?
        .cast(&DataType::String)
        .map_err(|e| anyhow!("reading `{name}`: {e}"))?;
    let ca = c.str().map_err(|e| anyhow!("reading `{name}`: {e}"))?;
    Ok(ca.iter().map(|v| v.unwrap_or("").to_string()).collect())
}

/// The distinct periods of a frame's period column, in order of appearance.
pub fn frame_periods(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for p in frame_text(df, name)? {
        if out.last() != Some(&p) && !out.contains(&p) {
            out.push(p);
        }
    }
    Ok(out)
}

/// Index in `periods` (first days, `YYYY-MM-DD`) of the latest complete
/// period: the last one whose end is at or before `as_of`.
pub fn latest_complete_row(periods: &[String], spec: &PeriodSpec, as_of: i64) -> Option<usize> {
    periods.iter().rposition(|p| {
        chrono::NaiveDate::parse_from_str(p, "%Y-%m-%d")
            .map(|d| spec.end(spec.index_of(micros_of_date(d))) <= as_of)
            .unwrap_or(false)
    })
}

// ------------------------------------------------------------- evaluation

struct Evaluator<'a> {
    ds: &'a Dataset,
    /// Which metrics these inputs support (`metrics::registry`).
    avail: registry::Availability,
    base: &'a Analysis,
    /// (command, period kind, dimension) -> frame over every period.
    frames: HashMap<(&'static str, &'static str, Option<&'static str>), DataFrame>,
    /// (dimension, period index or None for all) -> misalignment frame.
    mis: HashMap<(Option<&'static str>, Option<i64>), DataFrame>,
    /// Targets of `min_vs_target` / `pace_min` rules (read when a rule has one).
    targets: Option<crate::cmd::plan::CheckTargets>,
    /// The configuration (attribution's channel rules).
    cfg: crate::config::Config,
    /// (period kind, credit, by campaign) -> attribution run.
    attr: HashMap<(&'static str, u8, bool), crate::cmd::attribution::Run>,
}

/// The period selected for a rule: its index (None for `all`) and name.
struct Target {
    index: Option<i64>,
    name: String,
    prev: Option<(i64, String)>,
}

impl<'a> Evaluator<'a> {
    fn new(ds: &'a Dataset, base: &'a Analysis) -> Result<Self> {
        Ok(Evaluator {
            ds,
            avail: registry::availability(ds)?,
            base,
            frames: HashMap::new(),
            mis: HashMap::new(),
            targets: None,
            cfg: crate::config::Config::default(),
            attr: HashMap::new(),
        })
    }

    /// The outcome of a rule; when it cannot be evaluated, the period and
    /// values found before the problem are kept beside the message.
    fn evaluate(&mut self, r: &Rule) -> Outcome {
        let mut out = Outcome::error("");
        match self.try_evaluate(r, &mut out) {
            Ok(()) => out,
            Err(e) => Outcome {
                status: Status::Error,
                message: crate::one_line(&e),
                ..out
            },
        }
    }

    fn resolve(r: &Rule) -> Result<&'static MetricDef> {
        let (cmd, id) = match r.metric.split_once('.') {
            Some((c, i)) => (Some(c), i),
            None => (None, r.metric.as_str()),
        };
        let def = registry::METRICS
            .iter()
            .find(|d| d.id == id && cmd.map_or(true, |c| c == d.command));
        match def {
            Some(d) => Ok(d),
            None => {
                let ids = registry::ids();
                bail!(
                    "unknown metric `{}`{}",
                    r.metric,
                    input::suggest(id, ids.iter().copied())
                )
            }
        }
    }

    fn spec(&self, kind: PeriodKind) -> Result<PeriodSpec> {
        let first = crate::metrics::common::earliest_row_date(self.ds)?.unwrap_or(self.ds.as_of);
        Ok(PeriodSpec::new(kind, self.base.fiscal_year_start, first))
    }

    fn target(&self, r: &Rule, kind: PeriodKind, need_prev: bool) -> Result<Target> {
        let spec = self.spec(kind)?;
        let as_of = self.ds.as_of;
        let name_of = |p: i64| spec.start_date(p).to_string();
        if kind == PeriodKind::All {
            if need_prev {
                bail!("`change_vs_previous` needs a previous period; with --period all there is one period");
            }
            if let RulePeriod::Date(text, ts) = &r.period {
                if *ts < spec.all_start || *ts > as_of {
                    bail!(
                        "period \"{text}\" is outside the data ({} to as_of {})",
                        date_of(spec.all_start),
                        date_of(as_of)
                    );
                }
            }
            return Ok(Target {
                index: None,
                name: name_of(0),
                prev: None,
            });
        }
        let first = spec.all_start;
        let grid = spec.grid(first, as_of, None, None);
        let (lo, hi) = match (grid.first(), grid.last()) {
            (Some(l), Some(h)) => (*l, *h),
            _ => bail!("the data holds no {}", kind.name()),
        };
        let p = match &r.period {
            RulePeriod::Latest | RulePeriod::All => {
                match grid.iter().rev().find(|&&p| spec.end(p) <= as_of) {
                    Some(p) => *p,
                    None => bail!(
                        "no complete {} before as_of {} (the data starts {})",
                        kind.name(),
                        date_of(as_of),
                        date_of(first)
                    ),
                }
            }
            RulePeriod::Date(text, ts) => {
                let p = spec.index_of(*ts);
                if p < lo || p > hi {
                    bail!(
                        "period \"{text}\" is outside the data ({} {} to {})",
                        kind.name(),
                        name_of(lo),
                        name_of(hi)
                    );
                }
                p
            }
        };
        let prev = if need_prev {
            if p <= lo {
                bail!(
                    "`change_vs_previous`: no {} before {} in the data",
                    kind.name(),
                    name_of(p)
                );
            }
            Some((p - 1, name_of(p - 1)))
        } else {
            None
        };
        Ok(Target {
            index: Some(p),
            name: name_of(p),
            prev,
        })
    }

    fn frame(
        &mut self,
        command: &'static str,
        kind: PeriodKind,
        dim: Option<Dimension>,
    ) -> Result<&DataFrame> {
        let key = (command, kind.name(), dim.map(Dimension::name));
        if !self.frames.contains_key(&key) {
            let a = Analysis {
                period: kind,
                by: dim,
                from: None,
                to: None,
                ..self.base.clone()
            };
            let df = match command {
                "kpis" => crate::metrics::kpis::kpis(self.ds, &a)?,
                "cycle" => crate::metrics::cycle::cycle(self.ds, &a)?,
                "funnel" => crate::metrics::funnel::funnel(self.ds, &a)?,
                other => bail!("metrics of `{other}` cannot be checked"),
            };
            self.frames.insert(key, df);
        }
        Ok(&self.frames[&key])
    }

    fn mis_frame(
        &mut self,
        kind: PeriodKind,
        dim: Option<Dimension>,
        p: Option<i64>,
    ) -> Result<&DataFrame> {
        let key = (dim.map(Dimension::name), p);
        if !self.mis.contains_key(&key) {
            let spec = self.spec(kind)?;
            let (from, to) = match p {
                Some(p) => (Some(spec.start(p)), Some(spec.start(p))),
                None => (None, None),
            };
            let a = Analysis {
                period: kind,
                by: dim,
                from,
                to,
                ..self.base.clone()
            };
            let m = crate::metrics::misalignment::misalignment(self.ds, &a)?;
            self.mis.insert(key, m.frame);
        }
        Ok(&self.mis[&key])
    }

    /// The row of `df` for the period named `period` (when `pcol` is given),
    /// the dimension value and the stage.
    fn pick(df: &DataFrame, pcol: Option<&str>, period: &str, r: &Rule) -> Result<usize> {
        let n = df.height();
        let mut ok = vec![true; n];
        if let Some(pc) = pcol {
            for (i, v) in frame_text(df, pc)?.iter().enumerate() {
                ok[i] &= v == period;
            }
        }
        if let Some((d, val)) = &r.by {
            let vals = frame_text(df, d.name())?;
            if !vals.iter().any(|v| v == val) {
                let mut seen: Vec<&str> = vals.iter().map(String::as_str).collect();
                seen.sort();
                seen.dedup();
                bail!(
                    "no {} `{val}` in the data{}",
                    d.name(),
                    input::suggest(val, seen.into_iter())
                );
            }
            for (i, v) in vals.iter().enumerate() {
                ok[i] &= v == val;
            }
        }
        if let Some(st) = &r.stage {
            let vals = frame_text(df, "stage")?;
            if !vals.iter().any(|v| v == st) {
                let mut seen: Vec<&str> = vals.iter().map(String::as_str).collect();
                seen.sort();
                seen.dedup();
                bail!(
                    "no stage `{st}` in use{}",
                    input::suggest(st, seen.into_iter())
                );
            }
            for (i, v) in vals.iter().enumerate() {
                ok[i] &= v == st;
            }
        }
        ok.iter()
            .position(|&b| b)
            .ok_or_else(|| anyhow!("no row for period {period}"))
    }

    fn value(
        &mut self,
        def: &MetricDef,
        r: &Rule,
        kind: PeriodKind,
        p: Option<i64>,
        name: &str,
    ) -> Result<Option<f64>> {
        let dim = r.by.as_ref().map(|(d, _)| *d);
        let id = def.id;
        if def.command == "misalignment" {
            let df = self.mis_frame(kind, dim, p)?;
            let row = Self::pick(df, None, name, r)?;
            return frame_f64(df, id, row);
        }
        let pcol = if def.command == "funnel" {
            "cohort"
        } else {
            "period"
        };
        let df = self.frame(def.command, kind, dim)?;
        let row = Self::pick(df, Some(pcol), name, r)?;
        frame_f64(df, id, row)
    }

    fn try_evaluate(&mut self, r: &Rule, out: &mut Outcome) -> Result<()> {
        if r.attribution.is_some() {
            return self.attr_evaluate(r, out);
        }
        let def = Self::resolve(r)?;
        if let Some(m) = self.avail.reason(def.command, def.id) {
            bail!("`{}` cannot be evaluated on these inputs: {m}", def.id);
        }
        if def.command == "funnel" && r.stage.is_none() {
            bail!(
                "`{}` is a funnel metric: name a stage, by = {{ stage = \"sql\" }}",
                def.id
            );
        }
        if def.command != "funnel" && r.stage.is_some() {
            bail!(
                "`stage` filters funnel metrics only; `{}` is a {} metric",
                def.id,
                def.command
            );
        }
        if let Some(t) = self.targets.clone() {
            if r.min_vs_target.is_some() || r.pace_min.is_some() {
                return self.vs_target(def, r, &t, out);
            }
        }
        let kind = if r.period == RulePeriod::All {
            PeriodKind::All
        } else {
            self.base.period
        };
        let need_prev = r.change_min.is_some() || r.change_max.is_some();
        let t = self.target(r, kind, need_prev)?;
        out.period = Some(if kind == PeriodKind::All {
            "all".to_string()
        } else {
            t.name.clone()
        });
        out.previous_period = t.prev.as_ref().map(|(_, n)| n.clone());
        // Money is compared as printed: the exact decimal of its nearest
        // millionth (`max = 30332.86` holds for 30332.859999999997).
        let value = raw_value(def.id, self.value(def, r, kind, t.index, &t.name)?);
        out.value = value;
        let Some(v) = value else {
            bail!(
                "`{}` has no value for {} (null: no data or a denominator of 0)",
                def.id,
                out.period.clone().unwrap_or_default()
            );
        };
        let kind_v = kind_of(def.id);
        let cur = &self.base.currency;
        let mut fails = Vec::new();
        if let Some(m) = r.min {
            if v < m {
                fails.push(format!(
                    "{} = {} is below min {}",
                    def.id,
                    human_f64(Some(v), kind_v, cur),
                    human_f64(Some(m), kind_v, cur)
                ));
            }
        }
        if let Some(m) = r.max {
            if v > m {
                fails.push(format!(
                    "{} = {} is above max {}",
                    def.id,
                    human_f64(Some(v), kind_v, cur),
                    human_f64(Some(m), kind_v, cur)
                ));
            }
        }
        if let Some((pp, pname)) = &t.prev {
            let before = raw_value(def.id, self.value(def, r, kind, Some(*pp), pname)?);
            out.previous_value = before;
            let ch = match before {
                Some(b) if b != 0.0 && (v == 0.0 || (b < 0.0) == (v < 0.0)) => (v - b) / b.abs(),
                Some(0.0) => bail!(
                    "`change_vs_previous`: `{}` was 0 in {pname}, a relative change is undefined",
                    def.id
                ),
                Some(b) => bail!(
                    "`change_vs_previous`: `{}` changed sign ({} in {pname}), a relative change is undefined",
                    def.id,
                    human_f64(Some(b), kind_v, cur)
                ),
                None => bail!(
                    "`change_vs_previous`: `{}` has no value for {pname}",
                    def.id
                ),
            };
            out.change = Some(ch);
            let pct = |x: f64| human_change(Some(x), ChangeKind::Relative);
            if let Some(m) = r.change_min {
                if ch < m {
                    fails.push(format!(
                        "change vs {pname} {} is below min {}",
                        pct(ch),
                        pct(m)
                    ));
                }
            }
            if let Some(m) = r.change_max {
                if ch > m {
                    fails.push(format!(
                        "change vs {pname} {} is above max {}",
                        pct(ch),
                        pct(m)
                    ));
                }
            }
        }
        out.status = if fails.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        out.message = fails.join("; ");
        Ok(())
    }
}

impl Evaluator<'_> {
    /// The value of an attribution rule in period `name` of `kind`.
    fn attr_value(&mut self, r: &Rule, kind: PeriodKind, name: &str) -> Result<Option<f64>> {
        use crate::cmd::attribution::{compute, Options};
        use crate::metrics::attribution::By;
        let a = r.attribution.as_ref().context("an attribution rule")?;
        let (dim, unit) = r.by.clone().context("an attribution rule names its unit")?;
        let by = if dim == Dimension::Campaign {
            By::Campaign
        } else {
            By::Channel
        };
        let key = (kind.name(), a.credit as u8, by == By::Campaign);
        if !self.attr.contains_key(&key) {
            let analysis = Analysis {
                period: kind,
                by: None,
                from: None,
                to: None,
                ..self.base.clone()
            };
            let o = Options {
                credit: a.credit,
                by,
                ..Options::default()
            };
            let run = compute(self.ds, &analysis, &self.cfg, &o)?;
            self.attr.insert(key, run);
        }
        let run = &self.attr[&key];
        let units: Vec<&str> = run.result.removal_effects.iter().map(|u| &*u.0).collect();
        if !units.contains(&unit.as_str()) {
            bail!(
                "attribution has no {} `{unit}`{} ({})",
                dim.name(),
                input::suggest(&unit, units.iter().copied()),
                units.join(", ")
            );
        }
        if r.metric == "removal_effect" {
            return Ok(run
                .result
                .removal_effects
                .iter()
                .find(|u| *u.0 == *unit)
                .and_then(|u| u.1));
        }
        let model = a.model.context("an attribution rule names its model")?;
        let row = run
            .result
            .rows
            .iter()
            .find(|x| {
                *x.unit == *unit
                    && x.model == model
                    && run.spec.start_date(x.period).to_string() == name
            })
            .with_context(|| format!("attribution has no row for {name}"))?;
        Ok(match r.metric.as_str() {
            "conversions" => Some(row.conversions),
            "value" => Some(row.value),
            "share" => row.share,
            "spend" => row.spend,
            "cost_per_conversion" => row.cost_per_conversion,
            "roas" => row.roas,
            _ => None,
        })
    }

    /// An attribution rule: the value of the selected period, its bounds.
    fn attr_evaluate(&mut self, r: &Rule, out: &mut Outcome) -> Result<()> {
        let kind = if r.period == RulePeriod::All {
            PeriodKind::All
        } else {
            self.base.period
        };
        let need_prev = r.change_min.is_some() || r.change_max.is_some();
        let t = self.target(r, kind, need_prev)?;
        out.period = Some(if kind == PeriodKind::All {
            "all".to_string()
        } else {
            t.name.clone()
        });
        out.previous_period = t.prev.as_ref().map(|(_, n)| n.clone());
        let v = self.attr_value(r, kind, &t.name)?;
        out.value = v;
        let Some(v) = v else {
            bail!(
                "attribution `{}` has no value for {} (null: no spend, no conversion, or P = 0)",
                r.metric,
                out.period.clone().unwrap_or_default()
            );
        };
        let mut fails = Vec::new();
        let show = |x: f64| crate::output::format::grouped(x, 4);
        if let Some(m) = r.min {
            if v < m {
                fails.push(format!("{} = {} is below min {}", r.metric, show(v), show(m)));
            }
        }
        if let Some(m) = r.max {
            if v > m {
                fails.push(format!("{} = {} is above max {}", r.metric, show(v), show(m)));
            }
        }
        if let Some((_, pname)) = &t.prev {
            let before = self.attr_value(r, kind, pname)?;
            out.previous_value = before;
            let ch = match before {
                Some(b) if b != 0.0 => (v - b) / b.abs(),
                _ => bail!(
                    "`change_vs_previous`: `{}` was 0 or null in {pname}, a relative change is undefined",
                    r.metric
                ),
            };
            out.change = Some(ch);
            let pct = |x: f64| human_change(Some(x), ChangeKind::Relative);
            if let Some(m) = r.change_min {
                if ch < m {
                    fails.push(format!("change vs {pname} {} is below min {}", pct(ch), pct(m)));
                }
            }
            if let Some(m) = r.change_max {
                if ch > m {
                    fails.push(format!("change vs {pname} {} is above max {}", pct(ch), pct(m)));
                }
            }
        }
        out.status = if fails.is_empty() {
            Status::Pass
        } else {
            Status::Fail
        };
        out.message = fails.join("; ");
        Ok(())
    }

    /// A `min_vs_target` rule (the selected period of the targets' period
    /// kind) or a `pace_min` rule (the period holding `as_of`).
    fn vs_target(
        &mut self,
        def: &MetricDef,
        r: &Rule,
        t: &crate::cmd::plan::CheckTargets,
        out: &mut Outcome,
    ) -> Result<()> {
        if r.by.is_some() {
            bail!("`min_vs_target`/`pace_min` rules take no `by` filter");
        }
        let kind = t.spec.kind;
        let p = if r.pace_min.is_some() {
            if r.period != RulePeriod::Latest {
                bail!("`pace_min` looks at the period in progress: drop `period`");
            }
            t.spec.index_of(self.ds.as_of)
        } else {
            if r.period == RulePeriod::All {
                bail!("`min_vs_target` needs a period with a target, not \"all\"");
            }
            self.target(r, kind, false)?.index.unwrap_or(0)
        };
        let name = t.spec.start_date(p).to_string();
        out.period = Some(name.clone());
        let target = t.find(def.id, t.spec.start_date(p))?;
        let value = self.value(def, r, kind, Some(p), &name)?;
        out.value = value;
        let Some(v) = value else {
            bail!("`{}` has no value for {name}", def.id);
        };
        let kind_v = kind_of(def.id);
        let cur = &self.base.currency;
        let pct = |x: f64| human_f64(Some(x), crate::output::ValueKind::Rate, "");
        let mut fails = Vec::new();
        if let Some(m) = r.min_vs_target {
            if target <= 0.0 {
                bail!("the target of `{}` for {name} is 0", def.id);
            }
            let share = v / target;
            if share < m {
                fails.push(format!(
                    "{} = {} is {} of its target {}, below min_vs_target {}",
                    def.id,
                    human_f64(Some(v), kind_v, cur),
                    pct(share),
                    human_f64(Some(target), kind_v, cur),
                    pct(m)
                ));
            }
        }
        if let Some(m) = r.pace_min {
            let (s, e) = (t.spec.start(p), t.spec.end(p));
            let pace = crate::metrics::plan::compute::pace(target, Some(v), s, e, self.ds.as_of);
            let Some(x) = pace.pace else {
                bail!("no pace for {name}: the period has just started or its target is 0");
            };
            if x < m {
                fails.push(format!(
                    "{} pace {} ({} so far, projected {} of target {}) is below pace_min {}",
                    def.id,
                    pct(x),
                    human_f64(Some(v), kind_v, cur),
                    human_f64(pace.projected, kind_v, cur),
                    human_f64(Some(target), kind_v, cur),
                    pct(m)
                ));
            }
        }
        out.status = if fails.is_empty() { Status::Pass } else { Status::Fail };
        out.message = fails.join("; ");
        Ok(())
    }
}

// ---------------------------------------------------------------- output

fn str_col(name: &str, v: Vec<String>) -> Column {
    Column::new(name.into(), v)
}

fn f64_col(name: &str, v: Vec<Option<f64>>) -> Column {
    Column::new(name.into(), v)
}

/// The table for people: rule, metric, filter, period, value, bound, status.
fn human_frame(rules: &[Rule], outs: &[Outcome], currency: &str) -> Result<DataFrame> {
    let mut cols: [Vec<String>; 7] = Default::default();
    for (r, o) in rules.iter().zip(outs) {
        let kind = kind_of(r.metric_id());
        let mut value = match o.status {
            Status::Error if o.value.is_none() => "–".to_string(),
            _ => human_f64(o.value, kind, currency),
        };
        if let (Some(c), Some(p)) = (o.change, &o.previous_period) {
            let _ = write!(
                value,
                " ({} vs {p})",
                human_change(Some(c), ChangeKind::Relative)
            );
        }
        let row = [
            match &r.name {
                Some(n) => format!("{}. {n}", r.index),
                None => r.index.to_string(),
            },
            r.metric.clone(),
            r.filter(),
            o.period.clone().unwrap_or_else(|| "–".into()),
            value,
            r.bound_text(currency),
            o.status.word().to_string(),
        ];
        for (c, v) in cols.iter_mut().zip(row) {
            c.push(v);
        }
    }
    let names = [
        "rule", "metric", "filter", "period", "value", "bound", "status",
    ];
    let columns: Vec<Column> = names.iter().zip(cols).map(|(n, v)| str_col(n, v)).collect();
    DataFrame::new_infer_height(columns).map_err(|e| anyhow!("{e}"))
}

/// The results as raw values (CSV).
fn raw_frame(rules: &[Rule], outs: &[Outcome]) -> Result<DataFrame> {
    let s = |f: &dyn Fn(&Rule, &Outcome) -> String| -> Vec<String> {
        rules.iter().zip(outs).map(|(r, o)| f(r, o)).collect()
    };
    let n = |f: &dyn Fn(&Rule, &Outcome) -> Option<f64>| -> Vec<Option<f64>> {
        rules.iter().zip(outs).map(|(r, o)| f(r, o)).collect()
    };
    let columns = vec![
        Column::new(
            "rule".into(),
            rules.iter().map(|r| r.index as i64).collect::<Vec<_>>(),
        ),
        str_col("name", s(&|r, _| r.name.clone().unwrap_or_default())),
        str_col("metric", s(&|r, _| r.metric.clone())),
        str_col("filter", s(&|r, _| r.filter())),
        str_col("period", s(&|_, o| o.period.clone().unwrap_or_default())),
        f64_col("value", n(&|r, o| raw_value(&r.metric, o.value))),
        f64_col("min", n(&|r, _| raw_value(&r.metric, r.min))),
        f64_col("max", n(&|r, _| raw_value(&r.metric, r.max))),
        str_col(
            "previous_period",
            s(&|_, o| o.previous_period.clone().unwrap_or_default()),
        ),
        f64_col(
            "previous_value",
            n(&|r, o| raw_value(&r.metric, o.previous_value)),
        ),
        f64_col("change", n(&|_, o| o.change)),
        f64_col("change_min", n(&|r, _| r.change_min)),
        f64_col("change_max", n(&|r, _| r.change_max)),
        str_col("status", s(&|_, o| o.status.word().to_lowercase())),
        str_col("message", s(&|_, o| o.message.clone())),
    ];
    DataFrame::new_infer_height(columns).map_err(|e| anyhow!("{e}"))
}

/// A metric value as scripts read it: money rounded to the exact decimal of
/// its nearest millionth (`30332.86`), anything else as computed.
fn raw_value(metric: &str, v: Option<f64>) -> Option<f64> {
    let money = registry::find(metric).is_some_and(|d| kind_of(d.id) == ValueKind::Money);
    v.map(|x| if money { round_money(x) } else { x })
}

/// One JSON object per rule (the rows of `--format json`, the lines of ndjson).
fn json_rows(rules: &[Rule], outs: &[Outcome]) -> Vec<serde_json::Value> {
    rules
        .iter()
        .zip(outs)
        .map(|(r, o)| {
            let by: serde_json::Map<String, serde_json::Value> =
                r.by.iter()
                    .map(|(d, v)| (d.name().to_string(), v.clone()))
                    .chain(r.stage.iter().map(|s| ("stage".to_string(), s.clone())))
                    .map(|(k, v)| (k, serde_json::Value::String(v)))
                    .collect();
            let m = |v: Option<f64>| raw_value(&r.metric, v);
            serde_json::json!({
                "rule": r.index,
                "name": r.name,
                "line": r.line,
                "metric": r.metric,
                "by": by,
                "period": o.period,
                "value": m(o.value),
                "min": m(r.min),
                "max": m(r.max),
                "previous_period": o.previous_period,
                "previous_value": m(o.previous_value),
                "change": o.change,
                "change_vs_previous": if r.change_min.is_some() || r.change_max.is_some() {
                    serde_json::json!({"min": r.change_min, "max": r.change_max})
                } else {
                    serde_json::Value::Null
                },
                "status": o.status.word().to_lowercase(),
                "message": if o.message.is_empty() { None } else { Some(&o.message) },
            })
        })
        .collect()
}

/// The fields of `--format json` after the common head: the rules file, the
/// tally, and one row per rule under `rows`.
fn json(rules: &[Rule], outs: &[Outcome], path: &Path) -> Vec<(&'static str, serde_json::Value)> {
    vec![
        ("rules_file", serde_json::json!(path.display().to_string())),
        ("passed", serde_json::json!(count(outs, Status::Pass))),
        ("failed", serde_json::json!(count(outs, Status::Fail))),
        ("errors", serde_json::json!(count(outs, Status::Error))),
        ("rows", serde_json::Value::Array(json_rows(rules, outs))),
    ]
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' && c != '\r' => {}
            c => out.push(c),
        }
    }
    out
}

/// JUnit XML: one testsuite, one testcase per rule; `<failure>` on FAIL,
/// `<error>` when the rule could not be evaluated.
pub fn junit(rules: &[Rule], outs: &[Outcome], path: &Path) -> String {
    let (n, f, e) = (
        outs.len(),
        count(outs, Status::Fail),
        count(outs, Status::Error),
    );
    let suite = xml_escape(&path.display().to_string());
    let mut x = String::new();
    let _ = writeln!(x, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        x,
        r#"<testsuites name="revcycle check" tests="{n}" failures="{f}" errors="{e}">"#
    );
    let _ = writeln!(
        x,
        r#"  <testsuite name="{suite}" tests="{n}" failures="{f}" errors="{e}" skipped="0">"#
    );
    for (r, o) in rules.iter().zip(outs) {
        let class = match Evaluator::resolve(r) {
            _ if r.attribution.is_some() => "revcycle.check.attribution".to_string(),
            Ok(d) => format!("revcycle.check.{}", d.command),
            Err(_) => "revcycle.check".to_string(),
        };
        let name = xml_escape(&r.title());
        let _ = write!(x, r#"    <testcase name="{name}" classname="{class}""#);
        let detail = format!(
            "metric: {}\nfilter: {}\nperiod: {}\nvalue: {}\nbound: {}",
            r.metric,
            r.filter(),
            o.period.clone().unwrap_or_default(),
            o.value
                .map(|v| v.to_string())
                .unwrap_or_else(|| "null".into()),
            r.bound_text("")
        );
        match o.status {
            Status::Pass => {
                let _ = writeln!(x, "/>");
            }
            Status::Fail | Status::Error => {
                let tag = if o.status == Status::Fail {
                    "failure"
                } else {
                    "error"
                };
                let _ = writeln!(x, ">");
                let _ = writeln!(
                    x,
                    r#"      <{tag} message="{}" type="{}">{}</{tag}>"#,
                    xml_escape(&o.message),
                    if o.status == Status::Fail {
                        "threshold"
                    } else {
                        "evaluation"
                    },
                    xml_escape(&detail)
                );
                let _ = writeln!(x, "    </testcase>");
            }
        }
    }
    let _ = writeln!(x, "  </testsuite>");
    let _ = writeln!(x, "</testsuites>");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Rule>> {
        parse_rules(text, Path::new("rules.toml"))
    }

    #[test]
    fn parses_the_spec_example() {
        let rules = parse(
            r#"
[[rule]]
metric = "win_rate"
min = 0.20

[[rule]]
metric = "speed_to_lead_hours"
max = 24
by = { channel = "Paid Search" }

[[rule]]
metric = "mqls"
period = "latest"
change_vs_previous = { min = -0.10 }

[[rule]]
metric = "leads"
period = "2024-03-15"
min = 1
"#,
        )
        .unwrap();
        assert_eq!(rules.len(), 4);
        assert_eq!(rules[0].min, Some(0.2));
        assert_eq!(rules[0].line, Some(2));
        assert_eq!(rules[1].max, Some(24.0));
        assert_eq!(
            rules[1].by,
            Some((Dimension::Channel, "Paid Search".to_string()))
        );
        assert_eq!(rules[2].change_min, Some(-0.1));
        assert_eq!(rules[2].period, RulePeriod::Latest);
        assert_eq!(rules[3].line, Some(16));
        assert!(matches!(rules[3].period, RulePeriod::Date(_, _)));
    }

    #[test]
    fn bad_rules_name_file_rule_and_line() {
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nmin = 1\n\n[[rule]]\nmetric = \"mqls\"\n")
                .unwrap_err()
        );
        assert!(
            e.contains("rules.toml") && e.contains("rule 2 (line 5)") && e.contains("no bound"),
            "{e}"
        );
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nmin = \n").unwrap_err()
        );
        assert!(e.contains("rules.toml`:3"), "{e}");
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nminn = 3\n").unwrap_err()
        );
        assert!(e.contains("did you mean 'min'"), "{e}");
        let e = format!(
            "{:#}",
            parse("[[rule]]\nmetric = \"leads\"\nmin = 5\nmax = 1\n").unwrap_err()
        );
        assert!(e.contains("above `max`"), "{e}");
        let e = format!("{:#}", parse("[[rule]]\nmetric = \"leads\"\nperiod = \"all\"\nchange_vs_previous = { min = 0 }\n").unwrap_err());
        assert!(e.contains("previous period"), "{e}");
        assert!(parse("").is_err());
    }

    #[test]
    fn junit_escapes_and_counts() {
        let rules = parse("[[rule]]\nname = \"a < b & c\"\nmetric = \"leads\"\nmin = 1\n").unwrap();
        let outs = vec![Outcome {
            status: Status::Fail,
            message: "x \"y\"".into(),
            ..Outcome::error("")
        }];
        let x = junit(&rules, &outs, Path::new("r.toml"));
        assert!(x.contains(r#"name="a &lt; b &amp; c""#), "{x}");
        assert!(x.contains(r#"<failure message="x &quot;y&quot;""#), "{x}");
        assert!(x.contains(r#"tests="1" failures="1" errors="0""#), "{x}");
    }
}
