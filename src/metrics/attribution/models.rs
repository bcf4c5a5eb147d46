//! The rule-based models: first_touch, last_touch, linear, position,
//! w_shaped (exact integer weights over one denominator per conversion, so
//! 0.3 x 3 + 0.1 is exactly 1) and time_decay (real weights, normalised).

use super::{exact, Model, Settings};

/// One touch of a path: its instant and the unit it credits (a name id of
/// `Compact::names`, so ids compare as the units' texts do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub at: i64,
    pub unit: u32,
}

/// A path's weights, one per touch.
#[derive(Debug, Clone, PartialEq)]
pub enum Weights {
    /// Touch i gets `parts[i] / den`; the parts sum to `den` exactly.
    Exact { parts: Vec<u64>, den: u64 },
    /// Touch i gets `w[i] / sum(w)`.
    Real(Vec<f64>),
}

/// The W-shaped key touches of a path: (t1, lead-creation touch,
/// opportunity-creation touch) as indices. A key is the last touch at or
/// before its instant (path order, so the last of a tie), else t1 for the
/// lead and tn for the opportunity (always tn without an opportunity).
pub fn w_keys(steps: &[Step], lead_created_at: i64, opp_created_at: Option<i64>) -> [usize; 3] {
    let n = steps.len();
    let last_at_or_before = |x: i64| steps.iter().rposition(|t| t.at <= x);
    let lead_key = last_at_or_before(lead_created_at).unwrap_or(0);
    let opp_key = opp_created_at.and_then(last_at_or_before).unwrap_or(n - 1);
    [0, lead_key, opp_key]
}

/// The weights of one path (n >= 1 steps) under a rule-based model (not
/// markov/shapley): `lead_created_at` and `opp_created_at` name W-shaped's keys.
pub fn weights(
    model: Model,
    steps: &[Step],
    lead_created_at: i64,
    opp_created_at: Option<i64>,
    s: &Settings,
) -> Weights {
    let n = steps.len();
    let one_at = |i: usize| {
        let mut parts = vec![0; n];
        parts[i] = 1;
        Weights::Exact { parts, den: 1 }
    };
    match model {
        Model::FirstTouch => one_at(0),
        Model::LastTouch => one_at(n - 1),
        Model::Linear => Weights::Exact {
            parts: vec![1; n],
            den: n as u64,
        },
        Model::Position => match n {
            1 => one_at(0),
            2 => Weights::Exact {
                parts: vec![1, 1],
                den: 2,
            },
            _ => {
                // Over 10 (n - 2): ends 0.4 = 4 (n - 2), each middle touch 0.2 / (n - 2) = 2.
                let m = (n - 2) as u64;
                let mut parts = vec![2; n];
                parts[0] = 4 * m;
                parts[n - 1] = 4 * m;
                Weights::Exact { parts, den: 10 * m }
            }
        },
        Model::WShaped => {
            let mut named = vec![0u64; n];
            for k in w_keys(steps, lead_created_at, opp_created_at) {
                named[k] += 1;
            }
            let non_keys = named.iter().filter(|&&k| k == 0).count() as u64;
            if non_keys > 0 {
                // Over 10 m (m non-key touches): a key 0.3 per naming = 3 m, a non-key 0.1 / m = 1.
                let parts = named
                    .iter()
                    .map(|&k| if k == 0 { 1 } else { 3 * non_keys * k })
                    .collect();
                Weights::Exact {
                    parts,
                    den: 10 * non_keys,
                }
            } else {
                // Every touch is a key: over 10 n, 0.3 per naming = 3 n, plus 0.1 / n = 1 each.
                let parts = named.iter().map(|&k| 3 * n as u64 * k + 1).collect();
                Weights::Exact {
                    parts,
                    den: 10 * n as u64,
                }
            }
        }
        Model::TimeDecay => {
            // 2^(-(instant - t_i) / h), scaled by 2^((instant - t_n) / h) so the
            // latest touch weighs 1 (same shares, no underflow of all weights).
            let last = steps[n - 1].at;
            let w = steps
                .iter()
                .map(|t| {
                    if s.half_life > 0 {
                        (-((last - t.at) as f64) / s.half_life as f64).exp2()
                    } else if t.at == last {
                        1.0
                    } else {
                        0.0
                    }
                })
                .collect();
            Weights::Real(w)
        }
        Model::Markov | Model::Shapley => unreachable!("not a rule-based model"),
    }
}

/// Per-unit fractions of one path's weights into `out` (cleared): units in
/// id order (byte order), each once. `pairs` is scratch space.
pub fn unit_shares(w: &Weights, steps: &[Step], pairs: &mut Vec<(u32, f64)>, out: &mut Vec<(u32, f64)>) {
    out.clear();
    match w {
        Weights::Exact { parts, den } => {
            let mut per: Vec<(u32, u64)> = steps.iter().map(|t| t.unit).zip(parts.iter().copied()).collect();
            per.sort_unstable_by_key(|x| x.0);
            let mut i = 0;
            while i < per.len() {
                let u = per[i].0;
                let mut p = 0u64;
                while i < per.len() && per[i].0 == u {
                    p += per[i].1;
                    i += 1;
                }
                out.push((u, p as f64 / *den as f64));
            }
        }
        Weights::Real(ws) => {
            let total = exact::sum(ws.iter().copied());
            pairs.clear();
            pairs.extend(steps.iter().map(|t| t.unit).zip(ws.iter().copied()));
            pairs.sort_by_key(|x| x.0);
            let mut i = 0;
            while i < pairs.len() {
                let u = pairs[i].0;
                let mut acc = exact::Acc::default();
                while i < pairs.len() && pairs[i].0 == u {
                    acc.add(pairs[i].1);
                    i += 1;
                }
                out.push((u, acc.value() / total));
            }
        }
    }
}

/// Per-unit fractions when every unit of `units` (distinct, id order) weighs the same.
pub fn equal_shares(units: &[u32], out: &mut Vec<(u32, f64)>) {
    out.clear();
    let n = units.len() as f64;
    out.extend(units.iter().map(|&u| (u, 1.0 / n)));
}

/// Linear per touch (a unit touched twice gets 2/n): Shapley's fallback.
pub fn linear(steps: &[Step], pairs: &mut Vec<(u32, f64)>, out: &mut Vec<(u32, f64)>) {
    let n = steps.len();
    let w = Weights::Exact {
        parts: vec![1; n],
        den: n as u64,
    };
    unit_shares(&w, steps, pairs, out);
}
