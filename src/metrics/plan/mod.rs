//! `revcycle plan` (docs/plan.md): targets turned into what every stage must
//! deliver at the conversion rates the company has shown, each team's
//! targets held against the other's, and the pacing of the period in
//! progress. `targets` parses, `gather` queries the tables, `compute` does
//! the arithmetic, `frame` builds the output frames; [`plan`] ties them.

pub mod compute;
pub mod frame;
pub mod gather;
pub mod targets;

use std::collections::BTreeMap;

use anyhow::{bail, Result};
use chrono::NaiveDate;

use crate::metrics::common::Stage;
use crate::metrics::shared::Shared;
use crate::periods::{micros_of_date, PeriodSpec};
use crate::model::Dataset;
use crate::settings::Dimension;

use compute::{Alignment, Evidence, PairRate, Pace, Volume};
use gather::Source;
use targets::{Target, Unit};

/// What `plan` needs besides the data and the targets.
#[derive(Debug, Clone, Copy)]
pub struct PlanSettings {
    pub spec: PeriodSpec,
    pub by: Option<Dimension>,
    /// `maturity_days` from the configuration (None: measured).
    pub maturity_days: Option<f64>,
    pub history_days: f64,
}

/// One stage of one anchor's waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub stage: Stage,
    /// The rate from this stage to the next (None at the last stage).
    pub rate: Option<PairRate>,
    pub volume: Volume,
    pub needed_by: Option<NaiveDate>,
    /// Events of the stage since `needed_by` − P's length, when `needed_by`
    /// is before `as_of`.
    pub arrived: Option<f64>,
    /// Another team's target landing on this stage, held against `required`.
    pub align: Alignment,
    /// Index in `Plan::targets` of that target.
    pub other: Option<usize>,
}

/// One anchor's waterfall.
#[derive(Debug, Clone, PartialEq)]
pub struct AnchorPlan {
    /// Index in `Plan::targets`.
    pub target: usize,
    /// Index in `Plan::evidence`.
    pub evidence: usize,
    /// The target as a volume at its stage (None when the money to volume
    /// figure is missing).
    pub volume: Option<f64>,
    pub rows: Vec<Row>,
}

/// Pacing of one target of the period in progress.
#[derive(Debug, Clone, PartialEq)]
pub struct PaceRow {
    pub target: usize,
    pub pace: Pace,
}

/// The result of `revcycle plan`.
#[derive(Debug, Clone)]
pub struct Plan {
    pub targets: Vec<Target>,
    /// Per `--by` value (None without `--by`).
    pub evidence: Vec<(Option<String>, Evidence)>,
    pub anchors: Vec<AnchorPlan>,
    pub pacing: Vec<PaceRow>,
    /// Over every row with a coverage.
    pub score: Option<f64>,
    /// Per period.
    pub period_scores: BTreeMap<NaiveDate, f64>,
    pub settings: PlanSettings,
    pub as_of: i64,
    pub notes: Vec<String>,
}

/// The evidence of one scope (the whole data, or one `--by` value).
pub fn evidence(src: &Source, s: &PlanSettings) -> Result<Evidence> {
    let won_days = src.won_days()?;
    let (maturity_days, maturity_source) = compute::maturity(&won_days, s.maturity_days);
    let (ws, we) = compute::window(src.as_of, maturity_days, s.history_days);
    let cohorts = src.cohorts(ws, we, &s.spec)?;
    // Deals closed and spend dated in [as_of − history_days, as_of).
    let (hs, he) = compute::window(src.as_of, 0.0, s.history_days);
    let avg = src.avg_deal_size(hs, he)?;
    let (spend, leads) = src.spend_and_leads(hs, he)?;
    let cpl = match (spend, leads) {
        (Some(s), Some(l)) if l > 0.0 => Some(s / l),
        _ => None,
    };
    Ok(Evidence {
        rates: compute::pair_rates(&src.ladder, &cohorts.reached),
        ladder: src.ladder.clone(),
        maturity_days,
        maturity_source,
        history_days: s.history_days,
        window_start: ws,
        window_end: we,
        reached: cohorts.reached,
        days_to_won: cohorts.days_to_won,
        per_period: cohorts.per_period,
        avg_deal_size: avg,
        cost_per_lead: cpl,
    })
}

/// A target's number as a volume at its stage.
pub fn volume_of(t: &Target, ev: &Evidence) -> Option<f64> {
    let per = match t.metric.unit() {
        Unit::Volume => return Some(t.target),
        Unit::DealMoney => ev.avg_deal_size,
        Unit::SpendMoney => ev.cost_per_lead,
    };
    per.filter(|&p| p > 0.0).map(|p| t.target / p)
}

/// The whole plan for `targets` over `ds`.
pub fn plan(ds: &Dataset, targets: Vec<Target>, s: PlanSettings) -> Result<Plan> {
    plan_with(&Shared::tables(ds), targets, s)
}

/// [`plan`] from frames collected once for a run (`report`).
pub fn plan_with(shared: &Shared, targets: Vec<Target>, s: PlanSettings) -> Result<Plan> {
    let ds = shared.dataset();
    let spec = s.spec;
    let mut notes = Vec::new();
    // Evidence per scope.
    let mut scopes: Vec<Option<String>> = Vec::new();
    for t in &targets {
        if !scopes.contains(&t.dim_value) {
            scopes.push(t.dim_value.clone());
        }
    }
    let mut sources = Vec::new();
    let mut evidence_list = Vec::new();
    for v in &scopes {
        let src = Source::new(shared, s.by, v.as_deref())?;
        let ev = evidence(&src, &s)?;
        evidence_list.push((v.clone(), ev));
        sources.push(src);
    }
    let ladder = crate::metrics::common::ladder(ds);
    for t in &targets {
        if !gather::has_table(ds, t.metric) {
            bail!(
                "{}: a target on {} needs the {} table",
                t.origin,
                t.metric.name(),
                match t.metric {
                    targets::Metric::MarketingSpend => "campaigns",
                    targets::Metric::Leads
                    | targets::Metric::Mqls
                    | targets::Metric::Sals
                    | targets::Metric::Sqls => "leads",
                    _ => "opportunities",
                }
            );
        }
        let st = t.metric.stage();
        if !ladder.contains(&st) {
            bail!(
                "{}: a target on {} anchors at stage `{}`, which these inputs do not use (it needs {})",
                t.origin,
                t.metric.name(),
                st.name(),
                st.source()
            );
        }
    }
    // Order: by period, scope, then as given.
    let mut order: Vec<usize> = (0..targets.len()).collect();
    order.sort_by(|&a, &b| {
        (targets[a].period, &targets[a].dim_value).cmp(&(targets[b].period, &targets[b].dim_value))
    });

    let mut anchors = Vec::new();
    for &ti in &order {
        let t = &targets[ti];
        let ei = scopes.iter().position(|v| *v == t.dim_value).unwrap_or(0);
        let ev = &evidence_list[ei].1;
        let src = &sources[ei];
        let anchor = ev.index(t.metric.stage()).unwrap_or(0);
        let volume = volume_of(t, ev);
        if volume.is_none() {
            notes.push(format!(
                "{} {}: no {} in the last {} days to turn money into volume",
                t.period,
                t.anchor(),
                if t.metric.unit() == Unit::SpendMoney {
                    "cost_per_lead"
                } else {
                    "avg_deal_size"
                },
                s.history_days
            ));
        }
        let vols = compute::waterfall(ev, anchor, volume);
        let pi = spec.index_of(micros_of_date(t.period));
        let (start, end) = (spec.start(pi), spec.end(pi));
        let mut rows = Vec::new();
        for (i, &stage) in ev.ladder.iter().enumerate() {
            let needed_by = compute::needed_by(start, end, ev.days_to_won[i]);
            let arrived = match needed_by {
                Some(d) if micros_of_date(d) < ds.as_of => src.value(
                    gather::stage_metric(stage),
                    micros_of_date(d) - (end - start),
                    ds.as_of + 1,
                )?,
                _ => None,
            };
            rows.push(Row {
                stage,
                rate: ev.rates.get(i).copied(),
                volume: vols[i],
                needed_by,
                arrived,
                align: Alignment::default(),
                other: None,
            });
        }
        // Other teams' targets of the same period and scope.
        for (oi, o) in targets.iter().enumerate() {
            if oi == ti
                || o.period != t.period
                || o.dim_value != t.dim_value
                || !t.owner.pairs_with(o.owner)
            {
                continue;
            }
            let Some(ri) = ev.index(o.metric.stage()) else { continue };
            if let Some(prev) = rows[ri].other {
                bail!(
                    "{}: {} and {} both land on stage `{}` of the {} waterfall ({}); keep one of them",
                    o.origin,
                    targets[prev].anchor(),
                    o.anchor(),
                    o.metric.stage().name(),
                    t.anchor(),
                    t.origin
                );
            }
            let ov = volume_of(o, ev);
            let (coverage, shortfall, money) = compute::coverage(
                ov,
                rows[ri].volume.required,
                ev.rate_to_won(ri),
                ev.avg_deal_size,
            );
            let implied = if ri == anchor {
                None
            } else if ri > anchor {
                ov.zip(volume).and_then(|(u, l)| (l != 0.0).then(|| u / l))
            } else {
                volume.zip(ov).and_then(|(u, l)| (l != 0.0).then(|| u / l))
            };
            let (lo, hi) = (ri.min(anchor), ri.max(anchor));
            let (pct, unrealistic) = if lo == hi {
                (None, None)
            } else {
                compute::percentile(implied, &ev.period_rates(lo, hi))
            };
            rows[ri].other = Some(oi);
            rows[ri].align = Alignment {
                team_target: ov,
                coverage,
                implied_rate: implied,
                implied_rate_percentile: pct,
                unrealistic,
                shortfall,
                shortfall_money: money,
            };
        }
        anchors.push(AnchorPlan {
            target: ti,
            evidence: ei,
            volume,
            rows,
        });
    }

    let mut all = Vec::new();
    let mut per: BTreeMap<NaiveDate, Vec<f64>> = BTreeMap::new();
    for a in &anchors {
        for r in &a.rows {
            if let Some(c) = r.align.coverage {
                all.push(c);
                per.entry(targets[a.target].period).or_default().push(c);
            }
        }
    }
    let score = compute::goal_alignment_score(&all);
    let period_scores = per
        .into_iter()
        .filter_map(|(p, cs)| compute::goal_alignment_score(&cs).map(|v| (p, v)))
        .collect();

    // Pacing of the period holding as_of.
    let current = spec.index_of(ds.as_of);
    let (cs, ce) = (spec.start(current), spec.end(current));
    let mut pacing = Vec::new();
    for &ti in &order {
        let t = &targets[ti];
        if spec.index_of(micros_of_date(t.period)) != current {
            continue;
        }
        let ei = scopes.iter().position(|v| *v == t.dim_value).unwrap_or(0);
        let actual = sources[ei].value(t.metric, cs, ds.as_of + 1)?;
        pacing.push(PaceRow {
            target: ti,
            pace: compute::pace(t.target, actual, cs, ce, ds.as_of),
        });
    }
    if score.is_none() && !targets.is_empty() {
        notes.push(
            "goal_alignment_score is null: no target is held against another team's (set both a marketing and a sales target for one period)"
                .to_string(),
        );
    }
    Ok(Plan {
        targets,
        evidence: evidence_list,
        anchors,
        pacing,
        score,
        period_scores,
        settings: s,
        as_of: ds.as_of,
        notes,
    })
}
