//! Shapley credit: for a conversion whose path meets the distinct units S, a
//! cooperative game on the subsets T of S with v(T) = the conversion rate of
//! the lead paths whose set of distinct units is exactly T. Exact enumeration
//! (2^|S| coalitions) up to `MAX_EXACT` units; above, the `linear` credit.
//!
//! Units are name ids of `Compact::names` (id order = byte order), so a set
//! is a sorted slice of ids and the coalitions are enumerated in the same
//! order as over the texts.

use super::hash::FastMap;
use super::{exact, models};

/// The largest set of distinct units enumerated exactly (2^12 = 4096 coalitions).
pub const MAX_EXACT: usize = 12;

/// Conversions and paths per exact set of distinct units (sorted, deduplicated),
/// added up lead path by lead path.
#[derive(Debug, Default, Clone)]
pub struct Games {
    rates: FastMap<Box<[u32]>, (u64, u64)>,
}

/// The distinct units of `units` into `out` (sorted).
pub fn distinct(units: &[u32], out: &mut Vec<u32>) {
    out.clear();
    out.extend_from_slice(units);
    out.sort_unstable();
    out.dedup();
}

impl Games {
    /// `paths` lead paths with this set of distinct units (sorted,
    /// deduplicated), `conversions` of them converted.
    pub fn add_paths(&mut self, set: &[u32], paths: u64, conversions: u64) {
        let e = match self.rates.get_mut(set) {
            Some(e) => e,
            None => self.rates.entry(set.into()).or_default(),
        };
        e.0 += conversions;
        e.1 += paths;
    }

    /// v(T): conversions / paths with set exactly T; 0 when none, 0 for the empty set.
    pub fn v(&self, set: &[u32]) -> f64 {
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
    pub fn shapley(&self, set: &[u32]) -> Vec<f64> {
        let k = set.len();
        assert!(
            k <= MAX_EXACT,
            "shapley: {k} units is above the exact limit"
        );
        let mut sub: Vec<u32> = Vec::with_capacity(k);
        let v: Vec<f64> = (0..1usize << k)
            .map(|mask| {
                sub.clear();
                sub.extend((0..k).filter(|i| mask & (1 << i) != 0).map(|i| set[i]));
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
                exact::sum(terms)
            })
            .collect()
    }

    /// Credit shares of `set`: Shapley values, negatives set to 0, normalised
    /// (equal when all are 0).
    pub fn shares(&self, set: &[u32]) -> Vec<(u32, f64)> {
        let phi: Vec<f64> = self.shapley(set).into_iter().map(|x| x.max(0.0)).collect();
        let total = exact::sum(phi.iter().copied());
        if total > 0.0 {
            set.iter()
                .copied()
                .zip(phi.into_iter().map(|x| x / total))
                .collect()
        } else {
            let mut out = Vec::new();
            models::equal_shares(set, &mut out);
            out
        }
    }
}

/// Shapley credits of conversions, one game per set computed once.
#[derive(Default)]
pub struct Memo {
    shares: FastMap<Box<[u32]>, Vec<(u32, f64)>>,
}

impl Memo {
    /// The shares of `set` (sorted, distinct, at most `MAX_EXACT`) into `out`.
    pub fn shares(&mut self, games: &Games, set: &[u32], out: &mut Vec<(u32, f64)>) {
        out.clear();
        if let Some(v) = self.shares.get(set) {
            out.extend_from_slice(v);
            return;
        }
        let v = games.shares(set);
        out.extend_from_slice(&v);
        self.shares.insert(set.into(), v);
    }
}
