//! First-order Markov chain over units: `start`, one state per unit,
//! `conversion` and `null`. P (reaching `conversion` from `start`) is solved
//! by linear algebra on the transient states, never by simulation; states are
//! in byte order and every sum runs in a fixed order, so the same data gives
//! the same bytes on every run.

use std::collections::{BTreeMap, BTreeSet};

use super::{models::equal_shares, paths::collapse, By, Credit, LeadPath, Path};

/// The fitted chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Markov {
    /// Units in byte order; state i + 1 is unit i.
    pub units: Vec<String>,
    /// Transition counts: from state (0 = start, 1..=k units) to state
    /// (1..=k units, k + 1 = conversion, k + 2 = null).
    pub counts: Vec<BTreeMap<usize, u64>>,
    /// P: the probability of reaching `conversion` from `start`.
    pub p: f64,
    /// Removal effect per unit of `units`; None for every unit when P = 0.
    pub effects: Vec<Option<f64>>,
}

impl Markov {
    /// Count the transitions of every lead path (repeats collapsed) and solve.
    pub fn fit(lead_paths: &[LeadPath]) -> Markov {
        let set: BTreeSet<&str> = lead_paths
            .iter()
            .flat_map(|p| p.units.iter().map(String::as_str))
            .collect();
        let units: Vec<String> = set.iter().map(|u| u.to_string()).collect();
        let k = units.len();
        let id = |u: &str| units.binary_search_by(|x| x.as_str().cmp(u)).unwrap() + 1;
        let mut counts: Vec<BTreeMap<usize, u64>> = vec![BTreeMap::new(); k + 1];
        for lp in lead_paths {
            let mut from = 0;
            for u in collapse(&lp.units) {
                let to = id(u);
                *counts[from].entry(to).or_default() += 1;
                from = to;
            }
            let end = if lp.converted { k + 1 } else { k + 2 };
            *counts[from].entry(end).or_default() += 1;
        }
        let mut chain = Markov {
            units,
            counts,
            p: 0.0,
            effects: Vec::new(),
        };
        chain.p = chain.solve(None);
        let base = chain.relevant(None);
        chain.effects = (1..=k)
            .map(|u| {
                if chain.p == 0.0 {
                    None
                } else if base.binary_search(&u).is_err() {
                    // Conversion unreachable through u (or u unreachable): exactly 0.
                    Some(0.0)
                } else {
                    Some((1.0 - chain.solve(Some(u)) / chain.p).max(0.0))
                }
            })
            .collect();
        chain
    }

    fn conversion(&self) -> usize {
        self.units.len() + 1
    }

    /// Transient states that matter: reachable from `start` and able to reach
    /// `conversion` (all others reach it with probability exactly 0), with
    /// `removed` taken out (transitions into it go to `null`). Ascending.
    fn relevant(&self, removed: Option<usize>) -> Vec<usize> {
        let k = self.units.len();
        let edge = |from: usize, to: usize| Some(to) != removed && Some(from) != removed;
        let mut fwd = vec![false; k + 1];
        let mut stack = vec![0];
        fwd[0] = removed != Some(0);
        while let Some(s) = stack.pop() {
            for &t in self.counts[s].keys() {
                if t <= k && edge(s, t) && !fwd[t] {
                    fwd[t] = true;
                    stack.push(t);
                }
            }
        }
        // Backward: states with an edge into conversion or into a state that reaches it.
        let mut back = vec![false; k + 1];
        let mut changed = true;
        while changed {
            changed = false;
            for s in 0..=k {
                if back[s] || !fwd[s] {
                    continue;
                }
                let hits = self.counts[s].keys().any(|&t| {
                    t == self.conversion() || (t <= k && edge(s, t) && fwd[t] && back[t])
                });
                if hits {
                    back[s] = true;
                    changed = true;
                }
            }
        }
        (0..=k).filter(|&s| fwd[s] && back[s]).collect()
    }

    /// The probability of reaching `conversion` from `start` with `removed`
    /// taken out: solve x = Q x + b on the relevant transient states.
    fn solve(&self, removed: Option<usize>) -> f64 {
        let states = self.relevant(removed);
        if states.first() != Some(&0) {
            return 0.0;
        }
        let n = states.len();
        let pos = |s: usize| states.binary_search(&s).ok();
        // (I - Q) x = b, row i for state states[i].
        let mut a = vec![vec![0.0; n + 1]; n];
        for (i, &s) in states.iter().enumerate() {
            let out: u64 = self.counts[s].values().sum();
            let out = out as f64;
            a[i][i] = 1.0;
            for (&t, &c) in &self.counts[s] {
                if t == self.conversion() {
                    a[i][n] += c as f64 / out;
                } else if Some(t) != removed {
                    if let Some(j) = pos(t) {
                        a[i][j] -= c as f64 / out;
                    }
                }
            }
        }
        gauss(a)[0]
    }

    /// The removal effect of `unit`: Some(0) for a unit not in the chain, None when P = 0.
    pub fn removal_effect(&self, unit: &str) -> Option<f64> {
        if self.p == 0.0 {
            return None;
        }
        match self.units.binary_search_by(|x| x.as_str().cmp(unit)) {
            Ok(i) => self.effects[i],
            Err(_) => Some(0.0),
        }
    }
}

/// Solve the augmented system `a` (n rows of n + 1) by Gaussian elimination
/// with partial pivoting (the first largest pivot, so the order is fixed).
fn gauss(mut a: Vec<Vec<f64>>) -> Vec<f64> {
    let n = a.len();
    for col in 0..n {
        let mut best = col;
        for r in col + 1..n {
            if a[r][col].abs() > a[best][col].abs() {
                best = r;
            }
        }
        a.swap(col, best);
        let piv = a[col][col];
        if piv == 0.0 {
            continue;
        }
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for row in rest {
            let f = row[col] / piv;
            if f != 0.0 {
                for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let mut v = a[r][n];
        for c in r + 1..n {
            v -= a[r][c] * x[c];
        }
        x[r] = if a[r][r] == 0.0 { 0.0 } else { v / a[r][r] };
    }
    x
}

/// Each conversion's credit: the distinct units of its own path in
/// proportion to their removal effects (equally when all are 0 or P = 0).
pub fn credits(chain: &Markov, paths: &[Path], by: By) -> Vec<Credit> {
    paths
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut units = p.units(by);
            units.sort();
            units.dedup();
            let effects: Vec<f64> = units
                .iter()
                .map(|u| chain.removal_effect(u).unwrap_or(0.0))
                .collect();
            let total = super::exact::sum(effects.iter().copied());
            let shares = if total > 0.0 {
                units
                    .into_iter()
                    .zip(effects)
                    .map(|(u, e)| (u, e / total))
                    .collect()
            } else {
                equal_shares(&units)
            };
            Credit {
                conversion: i,
                units: shares,
            }
        })
        .collect()
}
