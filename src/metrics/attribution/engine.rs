//! The engine's two passes over the leads, chunk by chunk.
//!
//! The touches are sorted by lead, so a chunk of leads (a range of lead
//! indices) owns a contiguous range of touches and of conversions (sorted by
//! lead too). Each pass builds the chunk's paths into one flat buffer (unit
//! ids or (instant, unit) steps, with end offsets: no allocation per lead)
//! and folds them into accumulators that add up across chunks exactly:
//!
//! 1. The population (one path per lead): Markov transition counts, Shapley's
//!    conversions and paths per set of distinct units, the path shapes. The
//!    chain is then solved once and the games are ready.
//! 2. The conversions: each one's credit under every model, added to its
//!    (period, unit, model) cell as exact sums (`exact::Acc`), which do not
//!    depend on the order or the batching of their terms.
//!
//! So the bytes of the output do not depend on the chunk size (a test runs
//! the binary with `REVCYCLE_ATTRIB_CHUNK=3`), and what is held besides the
//! compact input is per chunk, per unit, per path shape and per unit set.

use super::aggregate::{aggregate, Cells};
use super::compact::{CTouch, Compact};
use super::models::{self, Step};
use super::paths::{self, Shapes, Units};
use super::shapley::{self, Games, Memo};
use super::{markov, Attribution, By, Credit, Model, Settings, NONE_UNIT};

/// Leads per chunk by default: the chunk's flat path buffers stay a few MB.
pub const DEFAULT_CHUNK: usize = 1 << 16;

/// How the engine runs (not what it computes: the output is the same).
#[derive(Debug, Clone, Copy)]
pub struct EngineOptions {
    /// Leads per chunk (at least 1).
    pub chunk: usize,
    /// Keep every conversion's credit per model in `Attribution::credits`
    /// (tests; memory grows with the conversions).
    pub keep_credits: bool,
}

impl Default for EngineOptions {
    fn default() -> Self {
        EngineOptions {
            chunk: DEFAULT_CHUNK,
            keep_credits: false,
        }
    }
}

/// The end of the run of touches of lead `lead` starting at `from`
/// (touches sorted by lead; `from` at or before the lead's first touch).
fn lead_end(touches: &[CTouch], from: usize, lead: usize) -> usize {
    from + touches[from..].partition_point(|t| (t.lead as usize) <= lead)
}

/// The first touch of lead `lead` or later, from `from`.
fn lead_start(touches: &[CTouch], from: usize, lead: usize) -> usize {
    from + touches[from..].partition_point(|t| (t.lead as usize) < lead)
}

/// Run the engine: paths, every model asked, aggregation.
pub fn attribute_compact(
    c: &Compact,
    s: &Settings,
    models: &[Model],
    o: &EngineOptions,
) -> Attribution {
    let none = c.id(NONE_UNIT).expect("(none) is always interned");
    let empty = c.id("").expect("the empty name is always interned");
    let by_campaign = s.by == By::Campaign;
    let mut u = Units {
        of_kind: Vec::new(),
        leads: &c.leads,
        none,
        empty,
        by_campaign,
    };
    u.of_kind = c
        .kinds
        .iter()
        .map(|k| u.of_name(if by_campaign { k[1] } else { k[0] }))
        .collect();
    let order = paths::conversions_by_lead(&c.conversions);
    let n = c.leads.len();
    let k = c.names.len();
    let chunk = o.chunk.max(1);
    let touches = &c.touches[..];

    // Pass 1: one path per lead into the Markov counts, the games, the shapes.
    let mut in_chain = vec![false; k];
    let mut counter = markov::Counter::default();
    let mut games = Games::default();
    let mut shapes = Shapes::default();
    let mut steps: Vec<Step> = Vec::new();
    let mut units: Vec<u32> = Vec::new();
    let mut ends: Vec<(usize, bool)> = Vec::new();
    let mut set: Vec<u32> = Vec::new();
    let (mut tcur, mut ccur) = (0usize, 0usize);
    for a in (0..n).step_by(chunk) {
        let b = (a + chunk).min(n);
        units.clear();
        ends.clear();
        for l in a..b {
            // Every lead in turn: a linear walk over the sorted touches.
            while tcur < touches.len() && (touches[tcur].lead as usize) < l {
                tcur += 1;
            }
            let t0 = tcur;
            while tcur < touches.len() && touches[tcur].lead as usize == l {
                tcur += 1;
            }
            let ts = &touches[t0..tcur];
            let c0 = ccur;
            while ccur < order.len() && c.conversions[order[ccur] as usize].lead == l {
                ccur += 1;
            }
            if c0 < ccur {
                // A converting lead: its first conversion's path, fallback included.
                steps.clear();
                let conv = &c.conversions[order[c0] as usize];
                paths::conversion_path(ts, &u, conv, s.lookback, &mut steps);
                units.extend(steps.iter().map(|t| t.unit));
                ends.push((units.len(), true));
            } else {
                let w = paths::window(ts, s.as_of, s.lookback);
                units.extend(w.iter().map(|t| u.of_kind[t.kind as usize]));
                ends.push((units.len(), false));
            }
        }
        let mut start = 0;
        for &(end, converted) in &ends {
            let p = &units[start..end];
            counter.add(p, converted);
            shapley::distinct(p, &mut set);
            games.add(&set, converted);
            shapes.add(p, converted);
            for &x in &set {
                in_chain[x as usize] = true;
            }
            start = end;
        }
    }
    let chain_units: Vec<u32> = (0..k as u32).filter(|&x| in_chain[x as usize]).collect();
    let chain = counter.fit(&chain_units, &c.names);
    let effect: Vec<f64> = (0..k)
        .map(|x| {
            if in_chain[x] {
                chain.removal_effect(&c.names[x]).unwrap_or(0.0)
            } else {
                0.0
            }
        })
        .collect();
    drop(counter);

    // Pass 2: every conversion's credit under every model into the cells.
    let mut on_path = vec![false; k];
    let mut cells = Cells::default();
    let mut memo = Memo::default();
    let mut credits: Vec<Vec<Credit>> = vec![Vec::new(); models.len()];
    let mut spans: Vec<(u32, usize, usize)> = Vec::new();
    let (mut pairs, mut out) = (Vec::new(), Vec::new());
    let (mut fallback_paths, mut shapley_fallbacks) = (0usize, 0usize);
    let (mut tcur, mut ccur) = (0usize, 0usize);
    for a in (0..n).step_by(chunk) {
        let b = (a + chunk).min(n);
        steps.clear();
        spans.clear();
        while ccur < order.len() && c.conversions[order[ccur] as usize].lead < b {
            let ci = order[ccur];
            let conv = &c.conversions[ci as usize];
            let t0 = lead_start(touches, tcur, conv.lead);
            let t1 = lead_end(touches, t0, conv.lead);
            tcur = t0;
            let start = steps.len();
            if paths::conversion_path(&touches[t0..t1], &u, conv, s.lookback, &mut steps) {
                fallback_paths += 1;
            }
            spans.push((ci, start, steps.len()));
            ccur += 1;
        }
        for &(ci, start, end) in &spans {
            let conv = &c.conversions[ci as usize];
            let path = &steps[start..end];
            for t in path {
                on_path[t.unit as usize] = true;
            }
            let created = c.leads[conv.lead].created_at;
            for (mi, &m) in models.iter().enumerate() {
                match m {
                    Model::Markov => {
                        set.clear();
                        set.extend(path.iter().map(|t| t.unit));
                        set.sort_unstable();
                        set.dedup();
                        markov::shares(&set, |x| effect[x as usize], &mut out);
                    }
                    Model::Shapley => {
                        set.clear();
                        set.extend(path.iter().map(|t| t.unit));
                        set.sort_unstable();
                        set.dedup();
                        if set.len() > shapley::MAX_EXACT {
                            shapley_fallbacks += 1;
                            models::linear(path, &mut pairs, &mut out);
                        } else {
                            memo.shares(&games, &set, &mut out);
                        }
                    }
                    _ => {
                        let w = models::weights(m, path, created, conv.opp_created_at, s);
                        models::unit_shares(&w, path, &mut pairs, &mut out);
                    }
                }
                for &(unit, f) in &out {
                    cells.add(conv.period, unit, mi, f, conv.value);
                }
                if o.keep_credits {
                    credits[mi].push(Credit {
                        conversion: ci as usize,
                        units: out
                            .iter()
                            .map(|&(unit, f)| (c.names[unit as usize].clone(), f))
                            .collect(),
                    });
                }
            }
        }
    }
    drop(memo);
    drop(games);

    let mut all: Vec<bool> = in_chain.iter().zip(&on_path).map(|(a, b)| *a || *b).collect();
    if let Some(rows) = &c.spend {
        for r in rows {
            if let Some(x) = c.id(&r.unit) {
                all[x as usize] = true;
            }
        }
    }
    let grid: Vec<u32> = (0..k as u32).filter(|&x| all[x as usize]).collect();
    let removal_effects = grid
        .iter()
        .map(|&x| {
            let name = c.names[x as usize].clone();
            let e = chain.removal_effect(&name);
            (name, e)
        })
        .collect();
    let rows = aggregate(c, s, models, &cells, grid.iter().copied());
    let credits = models
        .iter()
        .zip(credits)
        .map(|(&m, mut cs)| {
            cs.sort_by_key(|x| x.conversion);
            (m, cs)
        })
        .collect();
    Attribution {
        rows,
        credits,
        removal_effects,
        markov: chain,
        shapley_fallbacks,
        fallback_paths,
        paths: shapes.finish(&c.names),
    }
}
