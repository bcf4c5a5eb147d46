//! The rule-based models: first_touch, last_touch, linear, position,
//! w_shaped (exact integer weights over one denominator per conversion, so
//! 0.3 x 3 + 0.1 is exactly 1) and time_decay (real weights, normalised).

use std::collections::BTreeMap;

use super::{By, Conversion, Credit, Lead, Model, Name, Path, Settings};

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
pub fn w_keys(path: &Path, lead_created_at: i64, opp_created_at: Option<i64>) -> [usize; 3] {
    let n = path.steps.len();
    let last_at_or_before = |x: i64| path.steps.iter().rposition(|t| t.at <= x);
    let lead_key = last_at_or_before(lead_created_at).unwrap_or(0);
    let opp_key = opp_created_at.and_then(last_at_or_before).unwrap_or(n - 1);
    [0, lead_key, opp_key]
}

/// The weights of one path under a rule-based model (not markov/shapley).
pub fn weights(model: Model, path: &Path, c: &Conversion, lead: &Lead, s: &Settings) -> Weights {
    let n = path.steps.len();
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
            for k in w_keys(path, lead.created_at, c.opp_created_at) {
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
            let last = path.steps[n - 1].at;
            let w = path
                .steps
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

/// Per-unit fractions of one path's weights, units in byte order.
pub fn unit_shares(w: &Weights, units: &[Name]) -> Vec<(Name, f64)> {
    match w {
        Weights::Exact { parts, den } => {
            let mut per: BTreeMap<&Name, u64> = BTreeMap::new();
            for (u, p) in units.iter().zip(parts) {
                *per.entry(u).or_default() += p;
            }
            per.into_iter()
                .map(|(u, p)| (u.clone(), p as f64 / *den as f64))
                .collect()
        }
        Weights::Real(ws) => {
            let total = super::exact::sum(ws.iter().copied());
            let mut per: BTreeMap<&Name, Vec<f64>> = BTreeMap::new();
            for (u, w) in units.iter().zip(ws) {
                per.entry(u).or_default().push(*w);
            }
            per.into_iter()
                .map(|(u, w)| (u.clone(), super::exact::sum(w) / total))
                .collect()
        }
    }
}

/// Per-unit fractions when every unit of `units` (distinct, byte order) weighs the same.
pub fn equal_shares(units: &[Name]) -> Vec<(Name, f64)> {
    let n = units.len() as f64;
    units.iter().map(|u| (u.clone(), 1.0 / n)).collect()
}

/// Every conversion's credit under a rule-based model.
pub fn credits(
    model: Model,
    conversions: &[Conversion],
    paths: &[Path],
    leads: &[Lead],
    s: &Settings,
) -> Vec<Credit> {
    conversions
        .iter()
        .zip(paths)
        .enumerate()
        .map(|(i, (c, p))| Credit {
            conversion: i,
            units: unit_shares(&weights(model, p, c, &leads[c.lead], s), &p.units(s.by)),
        })
        .collect()
}

/// Linear per touch (a unit touched twice gets 2/n): Shapley's fallback.
pub fn linear(path: &Path, by: By) -> Vec<(Name, f64)> {
    let n = path.steps.len() as u64;
    unit_shares(
        &Weights::Exact {
            parts: vec![1; n as usize],
            den: n,
        },
        &path.units(by),
    )
}
