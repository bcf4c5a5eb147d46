//! The evaluator of `revcycle check`: each rule's metric is computed (by the
//! computation the registry names for it, through `metrics::analysis`) for
//! the rule's period and filter, and compared with its bounds.

use std::collections::HashMap;

use anyhow::{anyhow, bail, Context, Result};
use polars::prelude::*;

use super::parse::{Rule, RulePeriod};
use crate::input;
use crate::metrics::analysis::attribution::{compute, Options, Run};
use crate::metrics::analysis::{self};
use crate::metrics::attribution::By;
use crate::metrics::frames::{frame_f64, frame_text};
use crate::metrics::periods::{date_of, PeriodKind, PeriodSpec};
use crate::metrics::plan::targets::PeriodTargets;
use crate::metrics::registry::{self, Computation, MetricDef};
use crate::model::Dataset;
use crate::output::format::{human_change, human_f64, kind_of, round_money, ChangeKind, ValueKind};
use crate::settings::{Analysis, Dimension};

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
    /// The target of the evaluated period (`min_vs_target`/`pace_min` rules).
    pub target: Option<f64>,
    /// value / target (`min_vs_target` rules).
    pub vs_target: Option<f64>,
    /// Projected value / target in the period holding `as_of` (`pace_min` rules).
    pub pace: Option<f64>,
    /// Why it failed or could not be evaluated; empty when it passed.
    pub message: String,
}

impl Outcome {
    pub(super) fn error(message: impl Into<String>) -> Outcome {
        Outcome {
            status: Status::Error,
            period: None,
            previous_period: None,
            value: None,
            previous_value: None,
            change: None,
            target: None,
            vs_target: None,
            pace: None,
            message: message.into(),
        }
    }
}

pub(super) struct Evaluator<'a> {
    ds: &'a Dataset,
    /// Which metrics these inputs support (`metrics::registry`).
    avail: registry::Availability,
    base: &'a Analysis,
    /// (computation, period kind, dimension, period index of a range
    /// computation or None) -> its table.
    frames: HashMap<FrameKey, DataFrame>,
    /// Targets of `min_vs_target` / `pace_min` rules (read when a rule has one).
    pub(super) targets: Option<PeriodTargets>,
    /// The configuration (attribution's channel rules).
    pub(super) cfg: crate::config::Config,
    /// (period kind, credit, by campaign) -> attribution run.
    attr: HashMap<(&'static str, u8, bool), Run>,
}

type FrameKey = (Computation, &'static str, Option<&'static str>, Option<i64>);

/// The period selected for a rule: its index (None for `all`) and name.
struct Target {
    index: Option<i64>,
    name: String,
    prev: Option<(i64, String)>,
}

impl<'a> Evaluator<'a> {
    pub(super) fn new(ds: &'a Dataset, base: &'a Analysis) -> Result<Self> {
        Ok(Evaluator {
            ds,
            avail: registry::availability(ds)?,
            base,
            frames: HashMap::new(),
            targets: None,
            cfg: crate::config::Config::default(),
            attr: HashMap::new(),
        })
    }

    /// The outcome of a rule; when it cannot be evaluated, the period and
    /// values found before the problem are kept beside the message.
    pub(super) fn evaluate(&mut self, r: &Rule) -> Outcome {
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

    pub(super) fn resolve(r: &Rule) -> Result<&'static MetricDef> {
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

    /// The period kind a rule looks at and its period (with the one before
    /// for a change rule), both named in `out`.
    fn select(&self, r: &Rule, out: &mut Outcome) -> Result<(PeriodKind, Target)> {
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
        Ok((kind, t))
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

    /// The table of computation `c` for the rule's dimension: over every
    /// period of `kind` when it has a period column, else (misalignment)
    /// over period `p` alone (None: all data).
    fn frame(
        &mut self,
        c: Computation,
        kind: PeriodKind,
        dim: Option<Dimension>,
        p: Option<i64>,
    ) -> Result<&DataFrame> {
        let range = if c.period_column().is_some() { None } else { p };
        let key = (c, kind.name(), dim.map(Dimension::name), range);
        if !self.frames.contains_key(&key) {
            let (from, to) = match range {
                Some(p) => {
                    let start = self.spec(kind)?.start(p);
                    (Some(start), Some(start))
                }
                None => (None, None),
            };
            let a = Analysis {
                period: kind,
                by: dim,
                from,
                to,
                ..self.base.clone()
            };
            let df = analysis::frame(self.ds, &a, c)?;
            self.frames.insert(key, df);
        }
        Ok(&self.frames[&key])
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
        let c = def.computation;
        let df = self.frame(c, kind, dim, p)?;
        let row = Self::pick(df, c.period_column(), name, r)?;
        frame_f64(df, def.id, row)
    }

    fn try_evaluate(&mut self, r: &Rule, out: &mut Outcome) -> Result<()> {
        if r.attribution.is_some() {
            return self.attr_evaluate(r, out);
        }
        let def = Self::resolve(r)?;
        if let Some(m) = self.avail.reason(def.command, def.id) {
            bail!("`{}` cannot be evaluated on these inputs: {m}", def.id);
        }
        if def.computation.has_stages() && r.stage.is_none() {
            bail!(
                "`{}` is a funnel metric: name a stage, by = {{ stage = \"sql\" }}",
                def.id
            );
        }
        if !def.computation.has_stages() && r.stage.is_some() {
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
        let (kind, t) = self.select(r, out)?;
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
        let mut fails = bound_fails(def.id, v, r, |x| human_f64(Some(x), kind_v, cur));
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
            fails.extend(change_fails(ch, pname, r));
        }
        settle(out, fails);
        Ok(())
    }
}

impl Evaluator<'_> {
    /// The value of an attribution rule in period `name` of `kind`.
    fn attr_value(&mut self, r: &Rule, kind: PeriodKind, name: &str) -> Result<Option<f64>> {
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
        let (kind, t) = self.select(r, out)?;
        let v = self.attr_value(r, kind, &t.name)?;
        out.value = v;
        let Some(v) = v else {
            bail!(
                "attribution `{}` has no value for {} (null: no spend, no conversion, or P = 0)",
                r.metric,
                out.period.clone().unwrap_or_default()
            );
        };
        let mut fails = bound_fails(&r.metric, v, r, |x| crate::output::format::grouped(x, 4));
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
            fails.extend(change_fails(ch, pname, r));
        }
        settle(out, fails);
        Ok(())
    }

    /// A `min_vs_target` rule (the selected period of the targets' period
    /// kind) or a `pace_min` rule (the period holding `as_of`).
    fn vs_target(
        &mut self,
        def: &MetricDef,
        r: &Rule,
        t: &PeriodTargets,
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
        out.target = Some(target);
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
            out.vs_target = Some(share);
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
            out.pace = Some(x);
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
        settle(out, fails);
        Ok(())
    }
}

/// The failures of value `v` of `name` against the rule's `min` and `max`,
/// the numbers written by `show`.
fn bound_fails(name: &str, v: f64, r: &Rule, show: impl Fn(f64) -> String) -> Vec<String> {
    let mut fails = Vec::new();
    if let Some(m) = r.min.filter(|m| v < *m) {
        fails.push(format!("{name} = {} is below min {}", show(v), show(m)));
    }
    if let Some(m) = r.max.filter(|m| v > *m) {
        fails.push(format!("{name} = {} is above max {}", show(v), show(m)));
    }
    fails
}

/// The failures of the relative change `ch` against `pname` under the rule's
/// `change_vs_previous` bounds.
fn change_fails(ch: f64, pname: &str, r: &Rule) -> Vec<String> {
    let pct = |x: f64| human_change(Some(x), ChangeKind::Relative);
    let mut fails = Vec::new();
    if let Some(m) = r.change_min.filter(|m| ch < *m) {
        fails.push(format!(
            "change vs {pname} {} is below min {}",
            pct(ch),
            pct(m)
        ));
    }
    if let Some(m) = r.change_max.filter(|m| ch > *m) {
        fails.push(format!(
            "change vs {pname} {} is above max {}",
            pct(ch),
            pct(m)
        ));
    }
    fails
}

/// The outcome's status and message from the failures found.
fn settle(out: &mut Outcome, fails: Vec<String>) {
    out.status = if fails.is_empty() {
        Status::Pass
    } else {
        Status::Fail
    };
    out.message = fails.join("; ");
}

/// A metric value as scripts read it: money rounded to the exact decimal of
/// its nearest millionth (`30332.86`), anything else as computed.
pub(super) fn raw_value(metric: &str, v: Option<f64>) -> Option<f64> {
    let money = registry::find(metric).is_some_and(|d| kind_of(d.id) == ValueKind::Money);
    v.map(|x| if money { round_money(x) } else { x })
}
