//! Per-conversion credits to the output rows: one per (period, unit, model)
//! over the whole grid, joined to spend. Every total is an order-free exact
//! sum (`exact::sum`), so row order never changes a byte.

use std::collections::{BTreeSet, HashMap};

use super::{exact, By, Credit, CreditKind, Input, Model, Name, Settings};

/// Spend of one unit in one period (already resolved to the unit: a spend
/// row's channel, else its campaign's, else `(none)`; or its `campaign_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    pub period: i64,
    pub unit: Name,
    pub amount: f64,
}

/// The terms of one cell's two sums: conversion credits, value credits.
type Terms = (Vec<f64>, Vec<f64>);

/// One output row; the field names are the contract's columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub period: i64,
    pub unit: Name,
    pub model: Model,
    /// Credited conversions (fractional).
    pub conversions: f64,
    /// Credited value.
    pub value: f64,
    /// conversions / the period's conversions; None in a period without conversions.
    pub share: Option<f64>,
    pub spend: Option<f64>,
    pub cost_per_conversion: Option<f64>,
    pub roas: Option<f64>,
}

/// The rows: every period of `input.periods` (in that order) x every unit
/// (of `units` and of the spend rows, byte order) x every model of `credits`
/// (in that order). Conversions of a period not reported are left out.
pub fn aggregate(
    input: &Input,
    s: &Settings,
    credits: &[(Model, Vec<Credit>)],
    units: impl IntoIterator<Item = Name>,
) -> Vec<Row> {
    let mut all_units: BTreeSet<Name> = units.into_iter().collect();
    let mut spend: HashMap<(i64, &str), Vec<f64>> = HashMap::new();
    let mut spent_units: BTreeSet<&str> = BTreeSet::new();
    if let Some(rows) = &input.spend {
        for r in rows {
            all_units.insert(r.unit.clone());
            spent_units.insert(&r.unit);
            spend.entry((r.period, &r.unit)).or_default().push(r.amount);
        }
    }
    let mut per_period: HashMap<i64, u64> = HashMap::new();
    for c in &input.conversions {
        *per_period.entry(c.period).or_default() += 1;
    }
    // (period, unit, model index) -> (conversion credits, value credits).
    let mut cells: HashMap<(i64, &str, usize), Terms> = HashMap::new();
    for (m, (_, cs)) in credits.iter().enumerate() {
        for c in cs {
            let conv = &input.conversions[c.conversion];
            for (u, f) in &c.units {
                let cell = cells.entry((conv.period, &**u, m)).or_default();
                cell.0.push(*f);
                cell.1.push(conv.value * f);
            }
        }
    }
    let mut rows = Vec::new();
    for &period in &input.periods {
        let total = per_period.get(&period).copied().unwrap_or(0);
        for unit in &all_units {
            let spend = input.spend.as_ref().and_then(|_| {
                let no_rows = !spent_units.contains(&**unit);
                if s.credit == CreditKind::Mql && s.by == By::Campaign && no_rows {
                    None
                } else {
                    Some(
                        spend
                            .get(&(period, &**unit))
                            .map_or(0.0, |v| exact::sum(v.iter().copied())),
                    )
                }
            });
            for (m, (model, _)) in credits.iter().enumerate() {
                let (conversions, value) = cells
                    .get(&(period, &**unit, m))
                    .map_or((0.0, 0.0), |(c, v)| {
                        (exact::sum(c.iter().copied()), exact::sum(v.iter().copied()))
                    });
                rows.push(Row {
                    period,
                    unit: unit.clone(),
                    model: *model,
                    conversions,
                    value,
                    share: (total > 0).then(|| conversions / total as f64),
                    spend,
                    cost_per_conversion: spend
                        .filter(|_| conversions != 0.0)
                        .map(|x| x / conversions),
                    roas: spend
                        .filter(|&x| x != 0.0 && s.credit != CreditKind::Mql)
                        .map(|x| value / x),
                });
            }
        }
    }
    rows
}
