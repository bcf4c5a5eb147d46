//! The output frames of `revcycle plan`: the waterfall rows (`plan.csv`), the
//! pacing of the period in progress, the evidence and a one-row summary per
//! scope. Column names are the contract's (docs/plan.md "Output").

use anyhow::Result;
use chrono::NaiveDate;
use polars::prelude::*;

use crate::periods::US_PER_DAY;

use super::Plan;

/// Columns of the waterfall frame after `period` (and the dimension).
pub const PLAN_COLUMNS: [&str; 17] = [
    "anchor",
    "stage",
    "rate_to_next",
    "rate_low",
    "rate_high",
    "required",
    "required_low",
    "required_high",
    "needed_by",
    "team_target",
    "coverage",
    "implied_rate",
    "implied_rate_percentile",
    "unrealistic",
    "arrived",
    "shortfall",
    "shortfall_money",
];

fn day(d: NaiveDate) -> i32 {
    (crate::periods::micros_of_date(d) / US_PER_DAY) as i32
}

fn dates(name: &str, v: Vec<Option<i32>>) -> Result<Column> {
    Ok(Column::new(name.into(), v).cast(&DataType::Date)?)
}

fn instants(name: &str, v: Vec<i64>) -> Result<Column> {
    Ok(Column::new(name.into(), v).cast(&DataType::Datetime(TimeUnit::Microseconds, None))?)
}

/// The waterfall: one row per (period, scope, anchor, stage).
pub fn plan_frame(p: &Plan) -> Result<DataFrame> {
    let mut period = Vec::new();
    let mut dim = Vec::new();
    let mut anchor = Vec::new();
    let mut stage = Vec::new();
    let mut f: Vec<Vec<Option<f64>>> = vec![Vec::new(); 13];
    let mut needed = Vec::new();
    let mut unrealistic = Vec::new();
    for a in &p.anchors {
        let t = &p.targets[a.target];
        for r in &a.rows {
            period.push(Some(day(t.period)));
            dim.push(t.dim_value.clone());
            anchor.push(t.anchor());
            stage.push(r.stage.name());
            let vals = [
                r.rate.and_then(|x| x.rate),
                r.rate.and_then(|x| x.low),
                r.rate.and_then(|x| x.high),
                r.volume.required,
                r.volume.low,
                r.volume.high,
                r.align.team_target,
                r.align.coverage,
                r.align.implied_rate,
                r.align.implied_rate_percentile,
                r.arrived,
                r.align.shortfall,
                r.align.shortfall_money,
            ];
            for (c, v) in f.iter_mut().zip(vals) {
                c.push(v);
            }
            needed.push(r.needed_by.map(day));
            unrealistic.push(r.align.unrealistic);
        }
    }
    let n = period.len();
    let mut cols = vec![dates("period", period)?];
    if let Some(by) = p.settings.by {
        cols.push(Column::new(by.name().into(), dim));
    }
    cols.push(Column::new("anchor".into(), anchor));
    cols.push(Column::new("stage".into(), stage));
    let mut f = f.into_iter();
    for name in [
        "rate_to_next",
        "rate_low",
        "rate_high",
        "required",
        "required_low",
        "required_high",
    ] {
        cols.push(Column::new(name.into(), f.next().unwrap_or_default()));
    }
    cols.push(dates("needed_by", needed)?);
    for name in [
        "team_target",
        "coverage",
        "implied_rate",
        "implied_rate_percentile",
    ] {
        cols.push(Column::new(name.into(), f.next().unwrap_or_default()));
    }
    cols.push(Column::new("unrealistic".into(), unrealistic));
    for name in ["arrived", "shortfall", "shortfall_money"] {
        cols.push(Column::new(name.into(), f.next().unwrap_or_default()));
    }
    Ok(DataFrame::new(n, cols)?)
}

/// Pacing of the targets of the period holding `as_of`.
pub fn pacing_frame(p: &Plan) -> Result<DataFrame> {
    let mut period = Vec::new();
    let mut dim = Vec::new();
    let mut anchor = Vec::new();
    let mut cols_f: Vec<Vec<Option<f64>>> = vec![Vec::new(); 7];
    for r in &p.pacing {
        let t = &p.targets[r.target];
        period.push(Some(day(t.period)));
        dim.push(t.dim_value.clone());
        anchor.push(t.anchor());
        let vals = [
            Some(t.target),
            r.pace.actual_to_date,
            Some(r.pace.expected_to_date),
            r.pace.projected,
            r.pace.pace,
            Some(r.pace.elapsed_fraction),
            p.period_scores.get(&t.period).copied(),
        ];
        for (c, v) in cols_f.iter_mut().zip(vals) {
            c.push(v);
        }
    }
    let n = period.len();
    let mut cols = vec![dates("period", period)?];
    if let Some(by) = p.settings.by {
        cols.push(Column::new(by.name().into(), dim));
    }
    cols.push(Column::new("anchor".into(), anchor));
    for (name, v) in [
        "target",
        "actual_to_date",
        "expected_to_date",
        "projected",
        "pace",
        "elapsed_fraction",
        "goal_alignment_score",
    ]
    .into_iter()
    .zip(cols_f)
    {
        cols.push(Column::new(name.into(), v));
    }
    Ok(DataFrame::new(n, cols)?)
}

/// The evidence: per scope and stage, the window's leads that reached it,
/// the rate to the next stage with its Wilson range, and days to won.
pub fn evidence_frame(p: &Plan) -> Result<DataFrame> {
    let mut dim = Vec::new();
    let mut stage = Vec::new();
    let mut reached = Vec::new();
    let mut rate = Vec::new();
    let mut low = Vec::new();
    let mut high = Vec::new();
    let mut dtw = Vec::new();
    for (v, ev) in &p.evidence {
        for (i, s) in ev.ladder.iter().enumerate() {
            dim.push(v.clone());
            stage.push(s.name());
            reached.push(ev.reached[i]);
            let r = ev.rates.get(i);
            rate.push(r.and_then(|x| x.rate));
            low.push(r.and_then(|x| x.low));
            high.push(r.and_then(|x| x.high));
            dtw.push(ev.days_to_won[i]);
        }
    }
    let n = stage.len();
    let mut cols = Vec::new();
    if let Some(by) = p.settings.by {
        cols.push(Column::new(by.name().into(), dim));
    }
    cols.push(Column::new("stage".into(), stage));
    cols.push(Column::new("reached".into(), reached));
    cols.push(Column::new("rate_to_next".into(), rate));
    cols.push(Column::new("rate_low".into(), low));
    cols.push(Column::new("rate_high".into(), high));
    cols.push(Column::new("days_to_won".into(), dtw));
    Ok(DataFrame::new(n, cols)?)
}

/// One row per scope: the evidence's settings and money figures, and the
/// `goal_alignment_score` of the whole targets file.
pub fn summary_frame(p: &Plan) -> Result<DataFrame> {
    let n = p.evidence.len();
    let mut cols = Vec::new();
    if let Some(by) = p.settings.by {
        cols.push(Column::new(
            by.name().into(),
            p.evidence.iter().map(|e| e.0.clone()).collect::<Vec<_>>(),
        ));
    }
    let ev = || p.evidence.iter().map(|e| &e.1);
    cols.push(instants("as_of", vec![p.as_of; n])?);
    cols.push(Column::new(
        "maturity_days".into(),
        ev().map(|e| e.maturity_days).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "history_days".into(),
        ev().map(|e| e.history_days).collect::<Vec<_>>(),
    ));
    cols.push(instants(
        "window_start",
        ev().map(|e| e.window_start).collect(),
    )?);
    cols.push(instants("window_end", ev().map(|e| e.window_end).collect())?);
    cols.push(Column::new(
        "avg_deal_size".into(),
        ev().map(|e| e.avg_deal_size).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "cost_per_lead".into(),
        ev().map(|e| e.cost_per_lead).collect::<Vec<_>>(),
    ));
    cols.push(Column::new(
        "goal_alignment_score".into(),
        vec![p.score; n],
    ));
    Ok(DataFrame::new(n, cols)?)
}
