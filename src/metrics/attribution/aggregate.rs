//! Per-conversion credits to the output rows: one per (period, unit, model)
//! over the whole grid, joined to spend. Every total is an order-free exact
//! sum (`exact::Acc`), added to conversion by conversion, so neither row
//! order nor the chunking of the leads changes a byte.

use std::collections::{BTreeSet, HashMap};

use super::compact::Compact;
use super::hash::FastMap;
use super::{exact::Acc, By, CreditKind, Model, Name, Settings};

/// Spend of one unit in one period (already resolved to the unit: a spend
/// row's channel, else its campaign's, else `(none)`; or its `campaign_id`).
#[derive(Debug, Clone, PartialEq)]
pub struct SpendRow {
    pub period: i64,
    pub unit: Name,
    pub amount: f64,
}

/// The credited totals per (period, unit id, model index): the sums of
/// the conversion credits and of the value credits.
#[derive(Debug, Default)]
pub struct Cells {
    map: FastMap<(i64, u32, usize), (Acc, Acc)>,
}

impl Cells {
    /// One conversion's credit `f` to `unit` under model `model`.
    pub fn add(&mut self, period: i64, unit: u32, model: usize, f: f64, value: f64) {
        let cell = self.map.entry((period, unit, model)).or_default();
        cell.0.add(f);
        cell.1.add(value * f);
    }

    /// Add the cells of `other` (sums of other conversions): exact, so the
    /// result does not depend on how the conversions were split.
    pub fn merge(&mut self, mut other: Cells) {
        use std::collections::hash_map::Entry;
        if other.map.len() > self.map.len() {
            std::mem::swap(self, &mut other);
        }
        for (key, (c, v)) in other.map {
            match self.map.entry(key) {
                Entry::Occupied(mut e) => {
                    let cell = e.get_mut();
                    cell.0.merge(&c);
                    cell.1.merge(&v);
                }
                Entry::Vacant(e) => {
                    e.insert((c, v));
                }
            }
        }
    }
}

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

/// The rows: every period of `c.periods` (in that order) x every unit (of
/// `units`, ids, and of the spend rows, byte order) x every model of
/// `models` (in that order). Conversions of a period not reported are left out.
pub fn aggregate(
    c: &Compact,
    s: &Settings,
    models: &[Model],
    cells: &Cells,
    units: impl IntoIterator<Item = u32>,
) -> Vec<Row> {
    let mut all_units: BTreeSet<u32> = units.into_iter().collect();
    let mut spend: HashMap<(i64, u32), Acc> = HashMap::new();
    let mut spent_units: BTreeSet<u32> = BTreeSet::new();
    if let Some(rows) = &c.spend {
        for r in rows {
            let u = c.id(&r.unit).expect("spend units are interned");
            all_units.insert(u);
            spent_units.insert(u);
            spend.entry((r.period, u)).or_default().add(r.amount);
        }
    }
    let mut per_period: HashMap<i64, u64> = HashMap::new();
    for conv in &c.conversions {
        *per_period.entry(conv.period).or_default() += 1;
    }
    let mut rows = Vec::new();
    for &period in &c.periods {
        let total = per_period.get(&period).copied().unwrap_or(0);
        for &unit in &all_units {
            let spend = c.spend.as_ref().and_then(|_| {
                let no_rows = !spent_units.contains(&unit);
                if s.credit == CreditKind::Mql && s.by == By::Campaign && no_rows {
                    None
                } else {
                    Some(spend.get(&(period, unit)).map_or(0.0, Acc::value))
                }
            });
            let name: &Name = &c.names[unit as usize];
            for (m, model) in models.iter().enumerate() {
                let (conversions, value) = cells
                    .map
                    .get(&(period, unit, m))
                    .map_or((0.0, 0.0), |(c, v)| (c.value(), v.value()));
                rows.push(Row {
                    period,
                    unit: name.clone(),
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
