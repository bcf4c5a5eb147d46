//! First-order Markov chain over units: `start`, one state per unit,
//! `conversion` and `null`. P (reaching `conversion` from `start`) is solved
//! by linear algebra on the transient states, never by simulation; states are
//! in byte order and every sum runs in a fixed order, so the same data gives
//! the same bytes on every run.

use std::collections::BTreeMap;

use super::hash::FastMap;
use super::{exact, models::equal_shares, Name};

/// The fitted chain.
#[derive(Debug, Clone, PartialEq)]
pub struct Markov {
    /// Units in byte order; state i + 1 is unit i.
    pub units: Vec<Name>,
    /// Transition counts: from state (0 = start, 1..=k units) to state
    /// (1..=k units, k + 1 = conversion, k + 2 = null).
    pub counts: Vec<BTreeMap<usize, u64>>,
    /// P: the probability of reaching `conversion` from `start`.
    pub p: f64,
    /// Removal effect per unit of `units`; None for every unit when P = 0.
    pub effects: Vec<Option<f64>>,
}

/// Transition counts of lead paths, over unit ids of `Compact::names`:
/// added up path by path (chunk by chunk), then turned into the chain.
#[derive(Debug, Default, Clone)]
pub struct Counter {
    /// (from, to) -> count; from: 0 = start, u + 1 = unit u; to: u + 1,
    /// `CONVERSION` or `NULL`.
    counts: FastMap<(u32, u32), u64>,
}

const CONVERSION: u32 = u32::MAX - 1;
const NULL: u32 = u32::MAX;

impl Counter {
    /// One lead path: its units in path order (consecutive repeats collapse).
    pub fn add(&mut self, units: &[u32], converted: bool) {
        self.add_paths(units, 1, converted as u64);
    }

    /// `paths` lead paths alike (units in path order, consecutive repeats
    /// collapse), `conversions` of them converted: the same counts as
    /// adding each of them.
    pub fn add_paths(&mut self, units: &[u32], paths: u64, conversions: u64) {
        let mut from = 0u32;
        for &u in units {
            let to = u + 1;
            if to == from {
                continue;
            }
            *self.counts.entry((from, to)).or_default() += paths;
            from = to;
        }
        // Only transitions taken are counted (a count of 0 is no transition).
        if conversions > 0 {
            *self.counts.entry((from, CONVERSION)).or_default() += conversions;
        }
        if paths > conversions {
            *self.counts.entry((from, NULL)).or_default() += paths - conversions;
        }
    }

    /// The chain over `units` (the units met on lead paths, ids ascending;
    /// `names` gives their text), solved.
    pub fn fit(&self, units: &[u32], names: &[Name]) -> Markov {
        let k = units.len();
        let state = |x: u32| -> usize {
            match x {
                0 => 0,
                CONVERSION => k + 1,
                NULL => k + 2,
                u => units.binary_search(&(u - 1)).expect("a unit of a lead path") + 1,
            }
        };
        let mut counts: Vec<BTreeMap<usize, u64>> = vec![BTreeMap::new(); k + 1];
        for (&(f, t), &n) in &self.counts {
            *counts[state(f)].entry(state(t)).or_default() += n;
        }
        let units: Vec<Name> = units.iter().map(|&u| names[u as usize].clone()).collect();
        Markov::from_counts(units, counts)
    }
}

impl Markov {
    /// Solve the chain of these transition counts (see `Markov::counts`).
    pub fn from_counts(units: Vec<Name>, counts: Vec<BTreeMap<usize, u64>>) -> Markov {
        let k = units.len();
        let (p, effects) = solve(&counts, k);
        Markov {
            units,
            counts,
            p,
            effects,
        }
    }

    /// The removal effect of `unit`: Some(0) for a unit not in the chain, None when P = 0.
    pub fn removal_effect(&self, unit: &str) -> Option<f64> {
        if self.p == 0.0 {
            return None;
        }
        match self.units.binary_search_by(|x| (**x).cmp(unit)) {
            Ok(i) => self.effects[i],
            Err(_) => Some(0.0),
        }
    }
}

/// Transient states that matter: reachable from `start` and able to reach
/// `conversion` (k + 1); every other state reaches it with probability
/// exactly 0 and cannot lead to a state that matters. Ascending.
fn relevant(counts: &[BTreeMap<usize, u64>], k: usize) -> Vec<usize> {
    let mut fwd = vec![false; k + 1];
    fwd[0] = true;
    let mut stack = vec![0];
    while let Some(s) = stack.pop() {
        for &t in counts[s].keys() {
            if t <= k && !fwd[t] {
                fwd[t] = true;
                stack.push(t);
            }
        }
    }
    let mut into: Vec<Vec<usize>> = vec![Vec::new(); k + 2];
    for (s, out) in counts.iter().enumerate() {
        for &t in out.keys() {
            if t <= k + 1 {
                into[t].push(s);
            }
        }
    }
    let mut back = vec![false; k + 2];
    back[k + 1] = true;
    let mut stack = vec![k + 1];
    while let Some(t) = stack.pop() {
        for &s in &into[t] {
            if !back[s] {
                back[s] = true;
                stack.push(s);
            }
        }
    }
    (0..=k).filter(|&s| fwd[s] && back[s]).collect()
}

/// P and the removal effects, from one LU factorisation of I - Q on the
/// relevant transient states (Q: transition probabilities among them).
///
/// With N = (I - Q)^-1 (expected visits) and x = N b (b: one-step
/// probabilities into `conversion`), P = x_start. Removing u sends every
/// transition into u to `null`, which loses exactly the conversions that
/// pass through u: P(u removed) = P - h_u x_u, where h_u = N[start][u] /
/// N[u][u] is the probability of ever visiting u. So the removal effect
/// 1 - P(u removed) / P = N[start][u] x_u / (N[u][u] P), and all of them
/// cost one factorisation and one solve per unit, not one system per unit.
fn solve(counts: &[BTreeMap<usize, u64>], k: usize) -> (f64, Vec<Option<f64>>) {
    let states = relevant(counts, k);
    if states.first() != Some(&0) {
        return (0.0, vec![None; k]);
    }
    let n = states.len();
    let mut a = vec![vec![0.0; n]; n];
    let mut b = vec![0.0; n];
    for (i, &s) in states.iter().enumerate() {
        let out = counts[s].values().sum::<u64>() as f64;
        a[i][i] = 1.0;
        for (&t, &c) in &counts[s] {
            if t == k + 1 {
                b[i] += c as f64 / out;
            } else if let Ok(j) = states.binary_search(&t) {
                a[i][j] -= c as f64 / out;
            }
        }
    }
    let lu = Lu::new(a);
    let x = lu.solve(b);
    let p = x[0];
    if p <= 0.0 {
        return (0.0, vec![None; k]);
    }
    let mut effects = vec![Some(0.0); k];
    for (i, &s) in states.iter().enumerate().skip(1) {
        let mut e = vec![0.0; n];
        e[i] = 1.0;
        let column = lu.solve(e); // column i of N
        let effect = column[0] * x[i] / (column[i] * p);
        effects[s - 1] = Some(effect.clamp(0.0, 1.0));
    }
    (p, effects)
}

/// LU factorisation with partial pivoting (the first largest pivot, so the
/// order of operations, hence every bit of the result, is fixed).
struct Lu {
    a: Vec<Vec<f64>>,
    perm: Vec<usize>,
}

impl Lu {
    fn new(mut a: Vec<Vec<f64>>) -> Lu {
        let n = a.len();
        let mut perm: Vec<usize> = (0..n).collect();
        for col in 0..n {
            let mut best = col;
            for r in col + 1..n {
                if a[r][col].abs() > a[best][col].abs() {
                    best = r;
                }
            }
            a.swap(col, best);
            perm.swap(col, best);
            let piv = a[col][col];
            if piv == 0.0 {
                continue;
            }
            let (top, rest) = a.split_at_mut(col + 1);
            let pivot_row = &top[col];
            for row in rest {
                let f = row[col] / piv;
                row[col] = f;
                if f != 0.0 {
                    for (x, p) in row[col + 1..].iter_mut().zip(&pivot_row[col + 1..]) {
                        *x -= f * p;
                    }
                }
            }
        }
        Lu { a, perm }
    }

    /// x with A x = b.
    fn solve(&self, b: Vec<f64>) -> Vec<f64> {
        let n = self.a.len();
        let mut y: Vec<f64> = self.perm.iter().map(|&i| b[i]).collect();
        for r in 0..n {
            for c in 0..r {
                y[r] -= self.a[r][c] * y[c];
            }
        }
        for r in (0..n).rev() {
            for c in r + 1..n {
                y[r] -= self.a[r][c] * y[c];
            }
            y[r] = if self.a[r][r] == 0.0 {
                0.0
            } else {
                y[r] / self.a[r][r]
            };
        }
        y
    }
}

/// One conversion's credit into `out`: the distinct units of its path
/// (`units`: distinct, id order) in proportion to their removal effects
/// (`effect` of a unit id; equally when all are 0 or P = 0).
pub fn shares(units: &[u32], effect: impl Fn(u32) -> f64, out: &mut Vec<(u32, f64)>) {
    out.clear();
    out.extend(units.iter().map(|&u| (u, effect(u))));
    let total = exact::sum(out.iter().map(|x| x.1));
    if total > 0.0 {
        for x in out.iter_mut() {
            x.1 /= total;
        }
    } else {
        equal_shares(units, out);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny deterministic generator (no dependency).
    struct Lcg(u64);
    impl Lcg {
        fn below(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (self.0 >> 33) % n
        }
    }

    /// The removal effects from one factorisation equal the definition: P
    /// re-solved on the chain whose transitions into u go to `null`, on
    /// random chains with cycles.
    #[test]
    fn markov_removal_effects_match_resolving_the_removed_chain() {
        for seed in 1..30 {
            let mut g = Lcg(seed);
            let names: Vec<Name> = (0..6).map(|i| format!("u{i}").into()).collect();
            let mut counter = Counter::default();
            let mut met = vec![false; 6];
            for _ in 0..40 {
                let units: Vec<u32> = (0..g.below(6)).map(|_| g.below(6) as u32).collect();
                units.iter().for_each(|&u| met[u as usize] = true);
                counter.add(&units, g.below(3) == 0);
            }
            let units: Vec<u32> = (0..6).filter(|&u| met[u as usize]).collect();
            let chain = counter.fit(&units, &names);
            let k = chain.units.len();
            for u in 1..=k {
                let removed: Vec<BTreeMap<usize, u64>> = chain
                    .counts
                    .iter()
                    .map(|out| {
                        let mut m = BTreeMap::new();
                        for (&t, &c) in out {
                            *m.entry(if t == u { k + 2 } else { t }).or_default() += c;
                        }
                        m
                    })
                    .collect();
                let (p_removed, _) = solve(&removed, k);
                let effect = chain.effects[u - 1];
                if chain.p == 0.0 {
                    assert_eq!(effect, None);
                } else {
                    let want = 1.0 - p_removed / chain.p;
                    let got = effect.unwrap();
                    assert!(
                        (got - want).abs() < 1e-9,
                        "seed {seed} unit {u}: {got} vs {want}"
                    );
                }
            }
        }
    }
}
