//! Shapley credit: for a conversion whose path meets the distinct units S, a
//! cooperative game on the subsets T of S with v(T) = the conversion rate of
//! the lead paths whose set of distinct units is exactly T. Exact enumeration
//! (2^|S| coalitions) up to `MAX_EXACT` units; above, the `linear` credit.

use std::collections::HashMap;

use super::{models, By, Credit, LeadPath, Name, Path};

/// The largest set of distinct units enumerated exactly (2^12 = 4096 coalitions).
pub const MAX_EXACT: usize = 12;

/// Conversions and paths per exact set of distinct units (sorted, deduplicated).
pub struct Games {
    rates: HashMap<Vec<Name>, (u64, u64)>,
}

fn distinct(units: &[Name]) -> Vec<Name> {
    let mut v = units.to_vec();
    v.sort();
    v.dedup();
    v
}

impl Games {
    pub fn new(lead_paths: &[LeadPath]) -> Games {
        let mut rates: HashMap<Vec<Name>, (u64, u64)> = HashMap::new();
        for lp in lead_paths {
            let e = rates.entry(distinct(&lp.units)).or_default();
            e.0 += lp.converted as u64;
            e.1 += 1;
        }
        Games { rates }
    }

    /// v(T): conversions / paths with set exactly T; 0 when none, 0 for the empty set.
    pub fn v(&self, set: &[Name]) -> f64 {
        if set.is_empty() {
            return 0.0;
        }
        match self.rates.get(set) {
            Some(&(c, n)) if n > 0 => c as f64 / n as f64,
            _ => 0.0,
        }
    }

    /// The Shapley values of the game on `set` (sorted, distinct, at most
    /// `MAX_EXACT`), in the order of `set`, before clipping.
    pub fn shapley(&self, set: &[Name]) -> Vec<f64> {
        let k = set.len();
        assert!(
            k <= MAX_EXACT,
            "shapley: {k} units is above the exact limit"
        );
        let v: Vec<f64> = (0..1usize << k)
            .map(|mask| {
                let sub: Vec<Name> = (0..k)
                    .filter(|i| mask & (1 << i) != 0)
                    .map(|i| set[i].clone())
                    .collect();
                self.v(&sub)
            })
            .collect();
        let fact = |n: usize| (1..=n as u64).product::<u64>();
        // Weight of a coalition of size s not holding i: s! (k - s - 1)! / k!.
        let weight: Vec<f64> = (0..k)
            .map(|s| (fact(s) * fact(k - s - 1)) as f64 / fact(k) as f64)
            .collect();
        (0..k)
            .map(|i| {
                let terms = (0..1usize << k)
                    .filter(|m| m & (1 << i) == 0)
                    .map(|m| weight[m.count_ones() as usize] * (v[m | (1 << i)] - v[m]));
                super::exact::sum(terms)
            })
            .collect()
    }

    /// Credit shares of `set`: Shapley values, negatives set to 0, normalised
    /// (equal when all are 0).
    pub fn shares(&self, set: &[Name]) -> Vec<(Name, f64)> {
        let phi: Vec<f64> = self.shapley(set).into_iter().map(|x| x.max(0.0)).collect();
        let total = super::exact::sum(phi.iter().copied());
        if total > 0.0 {
            set.iter()
                .cloned()
                .zip(phi.into_iter().map(|x| x / total))
                .collect()
        } else {
            models::equal_shares(set)
        }
    }
}

/// Every conversion's Shapley credit, and how many fell back to `linear`
/// (more than `MAX_EXACT` distinct units).
pub fn credits(lead_paths: &[LeadPath], paths: &[Path], by: By) -> (Vec<Credit>, usize) {
    let games = Games::new(lead_paths);
    let mut memo: HashMap<Vec<Name>, Vec<(Name, f64)>> = HashMap::new();
    let mut fallbacks = 0;
    let credits = paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let set = distinct(&p.units(by));
            let units = if set.len() > MAX_EXACT {
                fallbacks += 1;
                models::linear(p, by)
            } else {
                memo.entry(set)
                    .or_insert_with_key(|s| games.shares(s))
                    .clone()
            };
            Credit {
                conversion: i,
                units,
            }
        })
        .collect();
    (credits, fallbacks)
}
